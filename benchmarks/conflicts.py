"""Slot conflicts on the dev sets with refutations: record, then choose the thresholds.

``record`` runs the checker (its own verdict, cascade included when given) on each example
of the named dev sets with the conflict rule switched off, and writes per claim sentence its
verdict and every slot conflict with its two scores (``pipeline/slots.py``), one JSON line
per example. ``choose`` replays the rule over a grid of thresholds on those records and
reports, per set, "contradicted" precision, recall and F1, the false-contradiction rate on
gold-supported claims and BAcc (supported vs not), and picks per kind of slot the least
context and alignment (kind by kind, twice round) with the best mean F1 that add at most 2
points of false contradictions (gold-supported claims called contradicted) on any set.

    python benchmarks/conflicts.py record --sets check-covid-dev citation-integrity-dev \\
        healthver-dev slot-swaps-dev --out /tmp/conflicts-fast.jsonl
    python benchmarks/conflicts.py choose /tmp/conflicts-fast.jsonl

Dev sets only: the thresholds are fitted here, so never a test split.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from nli_check.datasets import eval_sets
from nli_check.errors import InputError
from nli_check.evaluation.evaluate import aggregate
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Gold-supported claims the rule may newly call contradicted, as a share of them, per set.
MAX_ADDED_FALSE = 0.02


def record(args) -> None:
    from nli_check.pipeline.checker import Checker, _evidence_sentences, run_steps

    checker = Checker(model=args.model, accurate_model=args.accurate_model, precision="float32")
    checker = checker.with_settings(explain=False, conflict_thresholds=())
    if args.verdict == "thresholds":
        checker = checker.with_settings(learned_verdict=False)

    def steps(document):
        _, _, candidates = yield from checker.pairing_steps(document)
        decided = yield from checker.decide_steps(document, document.claims, candidates)
        decided = yield from checker.cascade_steps(document, document.claims, candidates, decided)
        return (yield from checker.conflict_steps(document, document.claims, decided))

    with open(args.out, "w", encoding="utf-8") as out:
        for name in args.sets:
            evalset = eval_sets.load(name, data_root=args.data, limit=args.limit)
            started = time.perf_counter()
            for example in evalset.examples:
                row = {"set": name, "id": example.id, "gold": str(example.label), "sentences": []}
                try:
                    document = checker.segment(example.claim, list(example.sources), article_format="text",
                                               source_formats=None, source_names=None, article_name="claim")
                    decided = run_steps(steps(document), embed=checker._embed, score=checker._score,
                                        tokens=checker._tokens)
                except InputError as error:
                    row["error"] = str(error)
                    decided = []
                for claim, claim_decided in zip(document.claims if decided else [], decided):
                    row["sentences"].append({
                        "label": str(claim_decided.decision.label), "claim": claim.text,
                        "evidence": [document.sources[s][j].text
                                     for s, j in _evidence_sentences(claim_decided.candidates)],
                        "conflicts": [[c.kind, c.precise, round(c.context, 4), round(c.alignment, 4),
                                       c.claim.text, c.evidence.text] for c, _ in claim_decided.conflicts]})
                out.write(json.dumps(row) + "\n")
            print(f"{name}: {len(evalset.examples)} examples in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)


def replay(rows: list[dict], thresholds: dict[str, tuple[float, float]], over_support: bool) -> list[str]:
    """Each example's verdict under the conflict rule with these per-kind thresholds."""
    predicted = []
    for row in rows:
        labels = []
        for sentence in row["sentences"]:
            label = sentence["label"]
            decisive = any(kind in thresholds and context >= thresholds[kind][0] and alignment >= thresholds[kind][1]
                           for kind, _, context, alignment, *_ in sentence["conflicts"])
            if decisive and (label == UNSUPPORTED or label == SUPPORTED and over_support):
                label = CONTRADICTED
            labels.append(label)
        predicted.append(aggregate(labels) if labels else UNSUPPORTED)
    return predicted


def scores(gold: list[str], predicted: list[str]) -> dict:
    gold, predicted = np.array(gold), np.array(predicted)
    said, true = predicted == CONTRADICTED, gold == CONTRADICTED
    precision = float((said & true).sum() / said.sum()) if said.any() else 0.0
    recall = float((said & true).sum() / true.sum()) if true.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    supported = gold == SUPPORTED
    false = float((said & supported).sum() / supported.sum()) if supported.any() else 0.0
    hit = lambda mask: float(((predicted == SUPPORTED) == (gold == SUPPORTED))[mask].mean()) if mask.any() else 0.0
    bacc = (hit(supported) + hit(~supported)) / 2
    return {"n": len(gold), "contradicted": int(true.sum()), "said": int(said.sum()), "precision": precision,
            "recall": recall, "f1": f1, "false_contradiction": false, "bacc": bacc}


def table(by_set: dict[str, list[dict]], thresholds: dict[str, tuple[float, float]],
          over_support: bool) -> dict[str, dict]:
    return {name: scores([r["gold"] for r in rows], replay(rows, thresholds, over_support))
            for name, rows in by_set.items()}


def show(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print("| set | n | gold contradicted | said | P | R | F1 | false contradictions | BAcc |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['n']} | {r['contradicted']} | {r['said']} | {r['precision']:.3f} | {r['recall']:.3f} "
              f"| {r['f1']:.3f} | {r['false_contradiction']:.3f} | {r['bacc']:.3f} |")


def recompute(by_set: dict[str, list[dict]]) -> None:
    """Find every sentence's conflicts again with the slots code as it is now (the NLI
    verdicts recorded stay): changing how slots are found or compared costs MiniLM token
    vectors, not a new NLI run."""
    from nli_check.pipeline.pair import Embedder
    from nli_check.pipeline.slots import PRECISE_KINDS, AlignedText, find_conflicts, find_slots

    embedder = Embedder("minilm", precision="float32")
    sources = {(name, example.id): " ".join(example.sources)
               for name in by_set for example in eval_sets.load(name, data_root=DATA).examples}

    def aligned(texts: list[str]) -> list[AlignedText]:
        return [AlignedText(text, find_slots(text), tokens.vectors, tokens.offsets)
                for text, tokens in zip(texts, embedder.token_vectors(texts))]

    for rows in by_set.values():
        for row in rows:
            text = " ".join(sources[(row["set"], row["id"])].split())
            slots = find_slots(text, kinds=PRECISE_KINDS) if row["sentences"] else []
            for sentence in row["sentences"]:
                if not sentence["evidence"]:
                    sentence["conflicts"] = []
                    continue
                claim, *evidence = aligned([sentence["claim"], *sentence["evidence"]])
                found = find_conflicts(claim, evidence, elsewhere=slots, elsewhere_text=text)
                sentence["conflicts"] = [[c.kind, c.precise, c.context, c.alignment, c.claim.text, c.evidence.text]
                                         for c in found]


KINDS = ("number", "date", "name", "negation", "degree")
GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def choose(args) -> None:
    by_set: dict[str, list[dict]] = defaultdict(list)
    for path in args.records:
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            by_set[row["set"]].append(row)
    if args.recompute:
        recompute(by_set)
        if args.write:
            with open(args.write, "w", encoding="utf-8") as out:
                for rows in by_set.values():
                    out.writelines(json.dumps(row) + "\n" for row in rows)
    base = table(by_set, {}, False)
    show("without the conflict rule (the NLI verdict alone)", base)
    kinds = defaultdict(int)
    for rows in by_set.values():
        for row in rows:
            for sentence in row["sentences"]:
                for conflict in sentence["conflicts"]:
                    kinds[conflict[0]] += 1
    print("\nconflicts recorded by kind:", dict(sorted(kinds.items())))

    if args.shipped:
        from nli_check.config import CONFLICT_THRESHOLDS

        shipped = {kind: (context, alignment) for kind, context, alignment in CONFLICT_THRESHOLDS}
        show(f"with the shipped thresholds {CONFLICT_THRESHOLDS}", table(by_set, shipped, False))
        return

    def allowed(results: dict[str, dict]) -> bool:
        # the rule's own false contradictions: at most this many more per set than without it
        return all(results[name]["false_contradiction"] <= base[name]["false_contradiction"] + MAX_ADDED_FALSE
                   for name in results)

    def mean_f1(results: dict[str, dict]) -> float:
        return float(np.mean([r["f1"] for r in results.values()]))

    best = None
    for over_support in (False, True):
        # kind by kind (twice round): each kind's least context and alignment, the others held
        chosen: dict[str, tuple[float, float]] = {}
        for _ in range(2):
            for kind in KINDS:
                options = [None, *itertools.product(GRID, GRID)]
                scored = []
                for option in options:
                    trial = {k: v for k, v in chosen.items() if k != kind}
                    if option is not None:
                        trial[kind] = option
                    results = table(by_set, trial, over_support)
                    if allowed(results):
                        # ties: the stricter rule (fewer contradictions said)
                        strict = sum(option) if option is not None else 99.0
                        scored.append((round(mean_f1(results), 4), strict, option))
                _, _, option = max(scored)
                chosen = {k: v for k, v in chosen.items() if k != kind}
                if option is not None:
                    chosen[kind] = option
        results = table(by_set, chosen, over_support)
        key = (round(mean_f1(results), 4), not over_support)
        if best is None or key > best[0]:
            best = (key, dict(chosen), over_support, results)
    key, chosen, over_support, results = best
    rule = "; ".join(f"{kind}: context >= {chosen[kind][0]}, alignment >= {chosen[kind][1]}" for kind in KINDS
                     if kind in chosen) or "no kind decides"
    show(f"chosen: {rule}; over support: {over_support}; mean F1 {key[0]:.3f}", results)
    print("\nas Settings.conflict_thresholds:", tuple((kind, *chosen[kind]) for kind in KINDS if kind in chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("--sets", nargs="+", required=True)
    rec.add_argument("--model", default=None)
    rec.add_argument("--accurate-model", default=None)
    rec.add_argument("--verdict", choices=("learned", "thresholds"), default="learned")
    rec.add_argument("--limit", type=int, default=None)
    rec.add_argument("--data", type=Path, default=DATA)
    rec.add_argument("--out", required=True)
    pick = commands.add_parser("choose")
    pick.add_argument("records", nargs="+")
    pick.add_argument("--recompute", action="store_true", help="find the conflicts again with the slots code as "
                      "it is now (records made with --out keep the claim and evidence sentences)")
    pick.add_argument("--shipped", action="store_true", help="report the rule with the thresholds config.py ships "
                      "(no search): for another model's records")
    pick.add_argument("--write", help="with --recompute: write the records with the conflicts found again here")
    args = parser.parse_args()
    record(args) if args.command == "record" else choose(args)


if __name__ == "__main__":
    main()
