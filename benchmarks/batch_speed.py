"""Benchmark: ``nli-check batch`` against a naive loop over ``Checker.check``, in one run.

    python benchmarks/batch_speed.py [--data ../shared/data] [--articles 200] [--device cpu|cuda]
        [--model PATH] [--precision auto|float32|bfloat16|int8] [--backend auto|torch|openvino] [--chunk-size 64] [--threads N] [--no-fresh]
        [--no-warm-up] [--keep DIR]

The corpus (built here, never stored in the repository) has ``--articles`` articles that
cite a shared pool of BBC documents from XSumFaith dev (CC BY 4.0): each article cites
two documents of the pool, popular ones more often, and its claims are system summaries
of those documents, sentences copied from them, and a sentence from an uncited document.

All sides get the same loaded models, with every cache cleared before they start, and
the same settings. The naive loop keeps one Checker (so its own caches help it, as they
would a careful user); the fresh naive loop clears the Checker's caches before each
article (what checking each article on its own costs, model loading aside: what the
caches save); ``batch`` writes JSON Lines as the command does, fsync included.
Before any side is timed, the naive loop and ``batch`` each run once untimed (caches
cleared after): the first call at each new input shape is slow (oneDNN builds its
kernels per shape, most visibly in bfloat16), and without the warm-up that one-off cost
fell on whichever side ran first. Their first-pass seconds are reported too.
Reports articles/s and claims/s of each, the speed-ups, whether the verdicts agree, and
where each side's time went (seconds inside the NLI model, the embedding model and the
sentence splitter, and the rest). A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _sentences(document: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", document)
    return [part.strip() for part in parts if 6 <= len(part.split()) <= 40]


def build_corpus(data: Path, *, articles: int, pool: int = 25, seed: int = 0) -> list[dict]:
    """Rows of the input corpus: ``id``, ``article``, ``sources`` (objects with id and text)."""
    documents: dict[str, dict] = {}
    with (data / "xsumfaith" / "xsumfaith_dev.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            entry = documents.setdefault(row["bbcid"], {"text": row["document"], "summaries": []})
            # XSumFaith keeps the summaries lower-cased with escaped quotes.
            entry["summaries"].append(row["summary"].replace("\\'", "'").replace("``", '"').replace("''", '"'))
    ids = list(documents)
    rng = random.Random(seed)
    cited_pool, others = ids[:pool], ids[pool:]
    weights = [1 / (rank + 1) for rank in range(pool)]  # a few sources are cited by many articles
    rows = []
    for number in range(articles):
        cited = []
        while len(cited) < 2:
            pick = rng.choices(cited_pool, weights=weights)[0]
            if pick not in cited:
                cited.append(pick)
        claims = []
        for bbcid in cited:
            document = documents[bbcid]
            claims.append(rng.choice(document["summaries"]).capitalize())
            claims += rng.sample(_sentences(document["text"]), 2)
        claims.append(rng.choice(_sentences(documents[rng.choice(others)]["text"])))
        rng.shuffle(claims)
        rows.append({"id": f"article-{number:04d}", "article": "\n".join(claims),
                     "sources": [{"id": f"bbc-{bbcid}", "text": documents[bbcid]["text"]} for bbcid in cited]})
    return rows


def clear_caches(checker) -> None:
    checker.nli._cache.clear()
    checker.embedder.clear_caches()
    checker._segment_cache.clear()


def naive_loop(checker, rows: list[dict], *, fresh: bool = False) -> list[dict]:
    """``Checker.check`` per article; ``fresh``: with the caches cleared before each one."""
    reports = []
    for row in rows:
        if fresh:
            clear_caches(checker)
        report = checker.check(row["article"], [s["text"] for s in row["sources"]],
                               source_names=[s["id"] for s in row["sources"]])
        reports.append(report.to_dict())
    return reports


def time_model_calls(checker) -> Counter:
    """Wrap the calls into the two models and the splitter (on this instance only) so that
    the seconds spent in each add up in the returned counter."""
    seconds: Counter = Counter()

    class Timed:
        """A callable (a model's encoder, the splitter's method) that adds up its seconds;
        other attributes read through (the encoder's input_names)."""

        def __init__(self, inner, tag: str) -> None:
            self.inner, self.tag = inner, tag

        def __call__(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return self.inner(*args, **kwargs)
            finally:
                seconds[self.tag] += time.perf_counter() - started

        def __getattr__(self, name):
            return getattr(self.inner, name)

    def timed(owner, name: str, tag: str) -> None:
        setattr(owner, name, Timed(getattr(owner, name), tag))

    timed(checker.nli, "encoder", "nli_model_s")
    timed(checker.embedder, "encoder", "embedding_model_s")
    timed(checker.segmenter, "segment", "segmentation_s")
    return seconds


def breakdown(seconds: Counter, total: float) -> dict:
    parts = {tag: round(seconds[tag], 2) for tag in ("nli_model_s", "embedding_model_s", "segmentation_s")}
    return {**parts, "rest_s": round(total - sum(seconds.values()), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: torch's choice)")
    parser.add_argument("--backend", default="auto", choices=["auto", "torch", "openvino"])
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16", "int8"],
                        help="both models, both sides")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both sides (default: torch's)")
    parser.add_argument("--no-fresh", action="store_true", help="Skip the fresh naive loop (the slowest side).")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="Time each side's first pass (one-off per-shape kernel set-up included).")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the corpus and the batch output here.")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from nli_check.batch.chunks import CheckerSpec
    from nli_check.batch.runner import run_batch
    from nli_check.config import BATCH_CHUNK_SIZE

    chunk_size = args.chunk_size or BATCH_CHUNK_SIZE
    rows = build_corpus(args.data, articles=args.articles)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nli-check-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    output = folder / "batch.jsonl"
    for stale in folder.glob("batch.*"):
        stale.unlink()

    started = time.perf_counter()
    spec = CheckerSpec(model=args.model, device=args.device, precision=args.precision, backend=args.backend)
    checker = spec.build()
    load_s = time.perf_counter() - started

    warm_up = None
    if not args.no_warm_up:
        warm_up = {}
        started = time.perf_counter()
        naive_loop(checker, rows)
        warm_up["naive_s"] = round(time.perf_counter() - started, 2)
        clear_caches(checker)
        started = time.perf_counter()
        run_batch(corpus, folder / "batch.warm-up.jsonl", spec=spec, chunk_size=chunk_size, checker=checker,
                  progress=False)
        warm_up["batch_s"] = round(time.perf_counter() - started, 2)

    seconds = time_model_calls(checker)
    clear_caches(checker)
    started = time.perf_counter()
    naive = naive_loop(checker, rows)
    naive_s = time.perf_counter() - started
    naive_parts = breakdown(seconds, naive_s)

    fresh = None
    if not args.no_fresh:
        seconds.clear()
        started = time.perf_counter()
        fresh_reports = naive_loop(checker, rows, fresh=True)
        fresh_s = time.perf_counter() - started
        fresh_claims = sum(len(report["claims"]) for report in fresh_reports)
        fresh = {"seconds": round(fresh_s, 2), "articles_per_s": round(len(rows) / fresh_s, 2),
                 "claims_per_s": round(fresh_claims / fresh_s, 1),
                 "nli_pairs": sum(r["nli_pairs"] for r in fresh_reports), **breakdown(seconds, fresh_s),
                 "same_label_as_naive": f"{sum(a['label'] == b['label'] for n, r in zip(naive, fresh_reports) for a, b in zip(n['claims'], r['claims']))}/{fresh_claims}"}

    seconds.clear()
    clear_caches(checker)
    started = time.perf_counter()
    summary = run_batch(corpus, output, spec=spec, chunk_size=chunk_size, checker=checker, progress=False)
    batch_s = time.perf_counter() - started
    batch_parts = breakdown(seconds, batch_s)

    batch_rows = [json.loads(line) for line in output.open(encoding="utf-8")]
    claims = sum(len(report["claims"]) for report in naive)
    same_labels = sum(a["label"] == b["label"] for n, r in zip(naive, batch_rows)
                      for a, b in zip(n["claims"], r["claims"]))
    same_claims = sum(a == b for n, r in zip(naive, batch_rows) for a, b in zip(n["claims"], r["claims"]))
    result = {
        "articles": len(rows), "claims": claims, "distinct_sources": len({s["id"] for r in rows for s in r["sources"]}),
        "device": str(getattr(checker.nli.encoder, "device", "cpu")), "torch_threads": torch.get_num_threads(),
        "backend": checker.nli.backend, "precision": checker.nli.precision, "chunk_size": chunk_size, "model_load_s": round(load_s, 2),
        "untimed_first_pass": warm_up,
        "naive": {"seconds": round(naive_s, 2), "articles_per_s": round(len(rows) / naive_s, 2),
                  "claims_per_s": round(claims / naive_s, 1), "nli_pairs": sum(r["nli_pairs"] for r in naive),
                  **naive_parts},
        "naive_fresh": fresh,
        "batch": {"seconds": round(batch_s, 2), "articles_per_s": round(summary.articles / batch_s, 2),
                  "claims_per_s": round(summary.claims / batch_s, 1),
                  "nli_pairs": sum(r["nli_pairs"] for r in batch_rows), **batch_parts},
        "speedup": round(naive_s / batch_s, 2),
        "speedup_over_fresh": round(fresh["seconds"] / batch_s, 2) if fresh else None,
        "same_label": f"{same_labels}/{claims}", "identical_claim_json": f"{same_claims}/{claims}",
        "summary": summary.labels,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
