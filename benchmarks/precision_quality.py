"""What bfloat16 costs in quality: the same dev sets scored at float32 and at bfloat16.

    python benchmarks/precision_quality.py [--sets wice-dev check-covid-dev ...] [--limit N]

For each precision it runs the checker on each set, the same code path as ``nli-check
eval``, and prints one JSON line per (precision, set) with balanced accuracy (supported vs
not), 3-way macro-F1 where the set has three labels, ROC-AUC, the checker's seconds, and
how many verdicts differ from the first precision's. Dev splits only. A benchmark, not a
test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=["wice-dev", "check-covid-dev", "citation-integrity-dev"])
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"], choices=["float32", "bfloat16"])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    from nli_check.datasets import eval_sets
    from nli_check.pipeline.checker import Checker
    from nli_check.evaluation.evaluate import run_checker, score

    evalsets = [eval_sets.load(name, data_root=args.data, limit=args.limit) for name in args.sets]
    first: dict[str, list[str]] = {}
    for precision in args.precisions:
        checker = Checker(precision=precision).with_settings(explain=False)
        for evalset in evalsets:
            started = time.perf_counter()
            predictions = run_checker(checker, evalset.examples)
            seconds = time.perf_counter() - started
            metrics = score(evalset, predictions, with_spans=False)
            labels = [p.predicted for p in predictions]
            reference = first.setdefault(evalset.name, labels)
            row = {"precision": precision, "set": evalset.name, "n": len(predictions), "seconds": round(seconds, 1),
                   "balanced_accuracy": metrics["binary"]["balanced_accuracy"],
                   "roc_auc": metrics["binary"].get("roc_auc"),
                   "verdicts_changed": sum(a != b for a, b in zip(labels, reference))}
            if metrics["three_way"]:
                row["macro_f1_3way"] = metrics["three_way"]["macro_f1"]
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
