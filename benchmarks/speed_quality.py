"""Benchmark: what the first stage and the early exit cost in dev verdicts, and save in work.

    python benchmarks/speed_quality.py [--sets wice-dev check-covid-dev citation-integrity-dev]
        [--data ../shared/data] [--limit N] [--configs NAME ...]

Runs the checker (thresholds, no explanations) over each dev set once per configuration,
with one loaded model and its caches shared, so later configurations mostly reuse scored
pairs: the time it reports is only meaningful for the first configuration. For each it
reports balanced accuracy (supported vs not), 3-way macro-F1 where the set has three labels,
NLI pairs asked per claim sentence and sentences MiniLM was asked to embed per claim sentence
(cache hits included, so configurations compare by the work they need, not by what the cache
saved). Dev splits only. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIGS = {
    "today": {"first_stage_cut": 0, "early_exit": False},
    "defaults": {},
    "first-stage-4": {"first_stage_cut": 4, "early_exit": False},
    "first-stage-8": {"first_stage_cut": 8, "early_exit": False},
    "first-stage-16": {"first_stage_cut": 16, "early_exit": False},
    "exit-support": {"first_stage_cut": 0, "early_exit": True},
    "exit-c90": {"first_stage_cut": 0, "early_exit": True, "exit_contradiction": 0.9},
    "exit-c90-e02": {"first_stage_cut": 0, "early_exit": True, "exit_contradiction": 0.9,
                     "exit_entailment_below": 0.02},
    "exit-c90-e05": {"first_stage_cut": 0, "early_exit": True, "exit_contradiction": 0.9,
                     "exit_entailment_below": 0.05},
    "exit-c90-e10": {"first_stage_cut": 0, "early_exit": True, "exit_contradiction": 0.9,
                     "exit_entailment_below": 0.10},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=["wice-dev", "check-covid-dev", "citation-integrity-dev"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    from nli_check import Checker
    from nli_check.config import Settings
    from nli_check.datasets import eval_sets
    from nli_check.evaluation.evaluate import run_checker, score

    checker = Checker(precision="float32", settings=Settings(explain=False))
    asked = {"pairs": 0, "sentences": 0}
    predict, encode = checker.nli.predict, checker.embedder.encode

    def counting_predict(pairs, **kwargs):
        asked["pairs"] += len(pairs)
        return predict(pairs, **kwargs)

    def counting_encode(texts, **kwargs):
        asked["sentences"] += len(texts)
        return encode(texts, **kwargs)

    checker.nli.predict, checker.embedder.encode = counting_predict, counting_encode
    result = {}
    for name in args.sets:
        evalset = eval_sets.load(name, data_root=args.data, limit=args.limit)
        result[name] = {}
        for config in args.configs:
            run = checker.with_settings(**CONFIGS[config])
            asked.update(pairs=0, sentences=0)
            started = time.perf_counter()
            predictions = run_checker(run, evalset.examples)
            seconds = time.perf_counter() - started
            sentences = sum(len(p.sentences) for p in predictions) or 1
            metrics = score(evalset, predictions, with_spans=False, resamples=10)
            result[name][config] = {
                "balanced_accuracy": metrics["binary"]["balanced_accuracy"],
                "macro_f1": (metrics["three_way"] or {}).get("macro_f1"),
                "nli_pairs_per_claim": round(asked["pairs"] / sentences, 2),
                "embedded_per_claim": round(asked["sentences"] / sentences, 1),
                "seconds": round(seconds, 1),
            }
            print(name, config, json.dumps(result[name][config]), flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
