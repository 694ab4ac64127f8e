"""Benchmark: do the verdicts hold on another backend or precision? (the int8 rule)

    python benchmarks/runtime_agreement.py [--sets wice-dev ...] [--limit 250]
        [--model DIR] [--reference torch:float32] [--candidate openvino:int8 ...] [--out FILE]

Runs the checker (verdicts only, no word marking) on each dev set once per runtime and
reports, per set: the share of claims (sentences) whose verdict equals the reference's, the
share of examples whose label does, and the BAcc (supported vs not) and 3-way macro-F1 of
each runtime, with the seconds each took. The rule this project keeps int8 by: on every
mission dev set, >= 99% of claims agree and BAcc moves by <= 0.5 points. Each set's row is
appended to ``--out`` as it finishes. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from nli_check.evaluation.card import MISSION_SETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(MISSION_SETS))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=None, help="the first N examples of each set")
    parser.add_argument("--model", default=None)
    parser.add_argument("--reference", default="torch:float32", help="BACKEND:PRECISION")
    parser.add_argument("--candidate", nargs="+", default=["openvino:int8"], help="BACKEND:PRECISION ...")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from nli_check import Checker
    from nli_check.datasets.eval_sets import load
    from nli_check.evaluation.evaluate import run_checker, score
    from nli_check.training.train import cpu_description

    runtimes = [args.reference, *args.candidate]
    checkers = {}
    for runtime in runtimes:
        backend, precision = runtime.split(":")
        checkers[runtime] = Checker(model=args.model, backend=backend, precision=precision).with_settings(explain=False)
    cpu = cpu_description()
    for name in args.sets:
        evalset = load(name, data_root=args.data, limit=args.limit)
        row = {"set": name, "n": len(evalset.examples), "cpu": cpu, "model": args.model or "shipped"}
        predictions = {}
        for runtime, checker in checkers.items():
            started = time.perf_counter()
            predictions[runtime] = run_checker(checker, evalset.examples)
            metrics = score(evalset, predictions[runtime], with_spans=False, resamples=10)
            row[runtime] = {"seconds": round(time.perf_counter() - started, 1),
                            "bacc": metrics["binary"]["balanced_accuracy"],
                            "macro_f1": (metrics["three_way"] or {}).get("macro_f1")}
        reference = predictions[args.reference]
        for runtime in args.candidate:
            claims = [(a.label, b.label) for x, y in zip(reference, predictions[runtime])
                      for a, b in zip(x.sentences, y.sentences)]
            row[runtime]["claims"] = len(claims)
            row[runtime]["claim_agreement"] = round(sum(a == b for a, b in claims) / max(len(claims), 1), 4)
            row[runtime]["example_agreement"] = round(
                sum(x.predicted == y.predicted for x, y in zip(reference, predictions[runtime])) / max(len(reference), 1), 4)
            row[runtime]["bacc_change_points"] = round(100 * (row[runtime]["bacc"] - row[args.reference]["bacc"]), 2)
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
