"""Benchmark: one 1,000-word article against 5,000 words of sources.

    python benchmarks/check_speed.py [--data ../shared/data] [--mode fast|accurate] [--model PATH] [--repeat 3]
        [--no-explain] [--precision auto|float32|bfloat16] [--verdict thresholds|learned|both]
        [--accurate-model DIR [--cascade-margin M]] [--marking word-head|without|both]

Text comes from XSumFaith dev (BBC articles): the "article" is made of sentences from a
few documents, the sources are 5,000 words of documents including those. Reports the
cold time (model load + first check), warm times (models loaded, caches cleared, so
nothing is reused), and the number of NLI pairs. ``--verdict both`` times the two decision
rules in one run, their warm checks interleaved; ``--accurate-model`` adds a cascade for
each rule ("cascade-learned", "cascade-thresholds": the claims close to another verdict
decided again by the accurate model) and counts the claims it sent on; ``--marking both``
times each rule with the word head's marking and without it (as a model with no
``word_head.json`` marks), interleaved. A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def corpus(data: Path, article_words: int, source_words: int) -> tuple[str, list[str]]:
    documents, seen = [], set()
    with (data / "xsumfaith" / "xsumfaith_dev.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            if row["bbcid"] not in seen:
                seen.add(row["bbcid"])
                documents.append(row["document"])
    sources, words = [], 0
    for document in documents:
        if words >= source_words:
            break
        take = document.split()[: source_words - words]
        sources.append(" ".join(take))
        words += len(take)
    # Alternate sentences drawn from the sources with sentences from unrelated documents.
    cited = [s for document in sources for s in document.split(". ")]
    other = [s for document in documents[len(sources):] for s in document.split(". ")]
    article_lines, words = [], 0
    for pair in zip(cited, other):
        for sentence in pair:
            if words + len(sentence.split()) <= article_words:
                article_lines.append(sentence.strip().rstrip(".") + ".")
                words += len(sentence.split())
    return "\n".join(article_lines), sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--mode", default="fast", choices=["fast", "accurate"],
                        help="accurate: the strong model decides (nli_check.modes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"], help="both models")
    parser.add_argument("--verdict", default="thresholds", choices=["thresholds", "learned", "both"])
    parser.add_argument("--accurate-model", default=None, help="also time the cascade with this accurate model")
    parser.add_argument("--cascade-margin", type=float, default=None, help="default: Settings.cascade_margin")
    parser.add_argument("--marking", default="word-head", choices=["word-head", "without", "both"],
                        help="mark words by the model's word head, without it (the explainer), or time both")
    args = parser.parse_args()
    article, sources = corpus(args.data, 1000, 5000)

    started = time.perf_counter()
    from nli_check import Checker
    from nli_check.config import Settings

    rules = ["thresholds", "learned"] if args.verdict == "both" else [args.verdict]
    checker = Checker(model=args.model, precision=args.precision, mode=args.mode,
                      settings=Settings(explain=not args.no_explain, learned_verdict="learned" in rules))
    checkers = {rule: checker.with_settings(learned_verdict=rule == "learned") for rule in rules}
    if args.accurate_model:
        margin = {} if args.cascade_margin is None else {"cascade_margin": args.cascade_margin}
        cascade = Checker(model=args.model, precision=args.precision, accurate_model=args.accurate_model,
                          settings=Settings(explain=not args.no_explain, learned_verdict="learned" in rules, **margin))
        for rule in list(rules):
            checkers[f"cascade-{rule}"] = cascade.with_settings(learned_verdict=rule == "learned")
            rules.append(f"cascade-{rule}")
    markings = ["word-head", "without"] if args.marking == "both" else [args.marking]
    checkers = {(rule if len(markings) == 1 else f"{rule}+{marking}"):
                found.with_settings(word_marking=marking == "word-head")
                for rule, found in checkers.items() for marking in markings}
    rules = list(checkers)
    loaded = time.perf_counter()
    report = checkers[rules[0]].check(article, sources)
    cold = time.perf_counter() - started
    warm: dict[str, list[float]] = {rule: [] for rule in rules}
    reports = {}
    for _ in range(args.repeat):
        for rule in rules:
            for used in (checkers[rule], checkers[rule].accurate):
                if used is not None:
                    used.nli._cache.clear()
                    used.embedder.clear_caches()
            t = time.perf_counter()
            reports[rule] = checkers[rule].check(article, sources)
            warm[rule].append(time.perf_counter() - t)
    result = {
        "article_words": len(article.split()), "source_words": sum(len(s.split()) for s in sources),
        "claims": len(report.claims), "source_documents": len(sources),
        "model_load_s": round(loaded - started, 2), "cold_s": round(cold, 2), "cold_verdict": rules[0],
        "explain": not args.no_explain, "precision": checker.nli.precision, "mode": args.mode,
        "model": checker.model_name,
        **{rule: {"warm_s_median": round(sorted(times)[len(times) // 2], 2), "warm_s_all": [round(w, 2) for w in times],
                  "nli_pairs": reports[rule].nli_pairs, "summary": reports[rule].summary,
                  **({"claims_decided_again": sum(claim.nli_model is not None for claim in reports[rule].claims),
                      "cascade_margin": checkers[rule].settings.cascade_margin} if rule.startswith("cascade") else {})}
           for rule, times in warm.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
