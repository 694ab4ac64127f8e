"""Benchmark: how much of the gold evidence a cheap first stage keeps, at each cut.

    python benchmarks/first_stage_recall.py [--data ../shared/data] [--cuts 3 5 8 12 16 24 32]

For every dev claim of WiCE (``supporting_sentences``) and Check-COVID (``evidence_set``)
whose evidence is marked, the sentences of its source are ranked by each first stage:
static vectors distilled from MiniLM (``models/minilm-static``), BM25 (bm25s), the two
fused by reciprocal rank, and MiniLM itself (the pairing model, for reference). Reports,
per set and cut N, the share of claims whose top N holds any gold sentence (hit) and the
share of gold sentences in the top N (recall), plus each stage's time. Dev splits only.
A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def wice(data: Path) -> list[tuple[str, list[str], set[int]]]:
    rows = []
    for line in (data / "wice" / "claim_dev.jsonl").read_text().splitlines():
        row = json.loads(line)
        gold = {i for group in row["supporting_sentences"] for i in group}
        if gold:
            rows.append((row["claim"], row["evidence"], gold))
    return rows


def check_covid(data: Path) -> list[tuple[str, list[str], set[int]]]:
    corpus = {}
    for line in (data / "check_covid" / "corpus.jsonl").read_text().splitlines():
        row = json.loads(line)
        corpus[row["cord_id"]] = row["abstract"]
    rows = []
    for line in (data / "check_covid" / "dev.jsonl").read_text().splitlines():
        row = json.loads(line)
        gold = {e["sent_index"] for e in row.get("evidence_set") or []}
        if gold and row["cord_id"] in corpus:
            rows.append((row["claim"], corpus[row["cord_id"]], gold))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cuts", type=int, nargs="+", default=[3, 5, 8, 12, 16, 24, 32])
    args = parser.parse_args()

    from nli_check.pipeline.first_stage import FirstStage
    from nli_check.pipeline.pair import Embedder

    first = FirstStage()
    embedder = Embedder("minilm", precision="float32")
    result = {}
    for name, rows in {"wice-dev": wice(args.data), "check-covid-dev": check_covid(args.data)}.items():
        rankings: dict[str, list[np.ndarray]] = {"static": [], "bm25": [], "fused": [], "minilm": []}
        seconds = dict.fromkeys(rankings, 0.0)
        for claim, sentences, _ in rows:
            for stage in ("static", "bm25", "fused"):
                started = time.perf_counter()
                rankings[stage].append(first.rank(claim, sentences, method=stage))
                seconds[stage] += time.perf_counter() - started
            started = time.perf_counter()
            vectors = embedder.encode([claim] + list(sentences))
            rankings["minilm"].append(np.argsort(-(vectors[1:] @ vectors[0]), kind="stable"))
            seconds["minilm"] += time.perf_counter() - started
            embedder.clear_caches()
        table = {}
        for stage, ranked in rankings.items():
            table[stage] = {"seconds": round(seconds[stage], 2)}
            for cut in args.cuts:
                hits = [bool(set(order[:cut].tolist()) & gold) for order, (_, _, gold) in zip(ranked, rows)]
                kept = [len(set(order[:cut].tolist()) & gold) / len(gold) for order, (_, _, gold) in zip(ranked, rows)]
                table[stage][f"@{cut}"] = {"hit": round(float(np.mean(hits)), 3), "recall": round(float(np.mean(kept)), 3)}
        result[name] = {"claims": len(rows), "sentences_mean": round(float(np.mean([len(r[1]) for r in rows])), 1),
                        **table}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
