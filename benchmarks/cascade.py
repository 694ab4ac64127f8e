"""Benchmark: the cascade's dev verdicts and work for each margin, to choose the margin on dev.

    python benchmarks/cascade.py --accurate PATH [--student PATH] [--verdicts learned thresholds]
        [--sets wice-dev ...] [--margins 0 0.05 0.1 0.2 0.3 1] [--limit N] [--precision float32]
        [--output FILE]

Runs the checker (no explanations; the student decides by its learned verdict or its
thresholds, the accurate model by its thresholds) with the student as its model and PATH as
the accurate model over each dev set once per margin. Margin 0 is the student alone; margin 1
sends every claim with candidate evidence to the accurate model (the accurate model alone,
but for claims no source sentence matches). Both models keep their caches across margins, so
the seconds are only meaningful for the first margin; compare margins by the pairs each model
was asked for. Reports balanced accuracy (supported vs not), 3-way macro-F1 where the set has
three labels, and NLI pairs per claim sentence asked of each model (cache hits included).
Dev splits only. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MISSION_DEV = ["wice-dev", "xsumfaith-dev", "check-covid-dev", "citation-integrity-dev", "healthver-dev",
               "attributionbench-dev"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accurate", type=Path, required=True, help="The accurate model folder (calibrated).")
    parser.add_argument("--student", type=Path, default=None, help="The fast model (default: the shipped one).")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--verdicts", nargs="+", choices=["learned", "thresholds"], default=["learned"],
                        help="How the student decides (learned: its head, where it has one); several share "
                             "the models' caches.")
    parser.add_argument("--sets", nargs="+", default=MISSION_DEV)
    parser.add_argument("--margins", nargs="+", type=float, default=[0.0, 0.05, 0.1, 0.2, 0.3, 1.0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--output", type=Path, default=None,
                        help="Also write the table here (JSON), after each set.")
    args = parser.parse_args()

    from nli_check import Checker
    from nli_check.config import Settings
    from nli_check.datasets import eval_sets
    from nli_check.evaluation.evaluate import decision_rule, run_checker, score
    from nli_check.training.train import cpu_description

    checker = Checker(model=args.student, accurate_model=args.accurate, precision=args.precision,
                      settings=Settings(explain=False, learned_verdict="learned" in args.verdicts))
    students = {verdict: checker.with_settings(learned_verdict=verdict == "learned") for verdict in args.verdicts}
    result = {"cpu": cpu_description(), "precision": checker.nli.precision, "student": checker.model_name,
              "student_verdicts": {verdict: decision_rule(run) for verdict, run in students.items()},
              "accurate": checker.accurate.model_name,
              "thresholds": {"student": [checker.settings.entailment_threshold,
                                         checker.settings.contradiction_threshold],
                             "accurate": [checker.accurate.settings.entailment_threshold,
                                          checker.accurate.settings.contradiction_threshold]},
              "sets": {}, "mean": {}}
    asked = {"fast": 0, "accurate": 0}
    predict = {"fast": checker.nli.predict, "accurate": checker.accurate.nli.predict}

    def counting(model):
        def predict_counted(pairs, **kwargs):
            asked[model] += len(pairs)
            return predict[model](pairs, **kwargs)
        return predict_counted

    checker.nli.predict, checker.accurate.nli.predict = counting("fast"), counting("accurate")
    runs = [(verdict, margin) for verdict in args.verdicts for margin in sorted(args.margins)]
    for name in args.sets:
        evalset = eval_sets.load(name, data_root=args.data, limit=args.limit)
        result["sets"][name] = {}
        for verdict, margin in runs:
            run = students[verdict].with_settings(cascade_margin=margin)
            before = checker.nli.pairs_scored, checker.accurate.nli.pairs_scored
            asked.update(fast=0, accurate=0)
            started = time.perf_counter()
            predictions = run_checker(run, evalset.examples)
            seconds = time.perf_counter() - started
            sentences = sum(len(p.sentences) for p in predictions) or 1
            metrics = score(evalset, predictions, with_spans=False, resamples=10)
            row = {
                "balanced_accuracy": metrics["binary"]["balanced_accuracy"],
                "macro_f1": (metrics["three_way"] or {}).get("macro_f1"),
                # mixes the two models' scores between 0 and 1: comparable at the ends only
                "roc_auc": metrics["binary"].get("roc_auc"),
                "fast_pairs_per_claim": round(asked["fast"] / sentences, 2),
                "accurate_pairs_per_claim": round(asked["accurate"] / sentences, 2),
                "fresh_pairs": [checker.nli.pairs_scored - before[0], checker.accurate.nli.pairs_scored - before[1]],
                "seconds": round(seconds, 1),
            }
            result["sets"][name][f"{verdict} {margin}"] = row
            print(name, verdict, margin, json.dumps(row), flush=True)
        if args.output is not None:
            args.output.write_text(json.dumps(result, indent=2) + "\n")
    for verdict, margin in runs:
        rows = [result["sets"][name][f"{verdict} {margin}"] for name in args.sets]
        mean = {"balanced_accuracy": round(sum(r["balanced_accuracy"] for r in rows) / len(rows), 4),
                "roc_auc": round(sum(r["roc_auc"] or 0.0 for r in rows) / len(rows), 4),
                "accurate_pairs_per_claim": round(sum(r["accurate_pairs_per_claim"] for r in rows) / len(rows), 2)}
        result["mean"][f"{verdict} {margin}"] = mean
        print("mean", verdict, margin, json.dumps(mean), flush=True)
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
