"""Benchmark: issue 31's two dev criteria, read from `nli-check eval` outputs, for systems
compared on the same examples.

    python benchmarks/dev_criteria.py EVAL_DIR [EVAL_DIR ...] [--start N] [--stop M] [--json FILE]
        [--head MODEL_FOLDER ...]

Each EVAL_DIR is an `nli-check eval ... --output EVAL_DIR` run over the mission dev sets
(`<set>/checker/predictions.jsonl`). For examples N to M of each set (all by default; a set
with none there is left out) it reports the mean balanced accuracy supported vs not over the
sets, the mean 3-way macro-F1 over the sets with refutations (Check-COVID,
Citation-Integrity, HealthVer), and per set both, with "contradicted" precision and recall.
A slice lets one choose on the first examples and confirm on the rest. With --head, each
head stored in a model folder (verdict_head.json, its contradiction threshold as the floor)
is replayed on the claim features of each EVAL_DIR instead of reading its verdicts: a new
head compared with the one that ran (same NLI model), with no model work (as the slot step left them; see
nli_check/training/verdict_weights.py). Reads predictions only: no model runs. A benchmark:
it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nli_check.evaluation.metrics import classification, contradiction
from nli_check.labels import SUPPORTED, VERDICTS
from nli_check.training.verdict import MISSION_DEV_SETS
from nli_check.training.verdict import REFUTATION_DEV_SETS as THREE_WAY


def replayed(folder: Path, head_folder: Path) -> dict[str, list[str]]:
    """Each dev set's verdicts by the head stored in ``head_folder``, replayed on the features
    recorded under ``folder``."""
    from nli_check.config import Settings
    from nli_check.pipeline.verdict import VerdictHead
    from nli_check.training.verdict_weights import read_dev_sets, replay_set

    head = VerdictHead.load(head_folder)
    if head is None:
        raise SystemExit(f"{head_folder}: no verdict_head.json")
    settings_file = head_folder / "nli_check.json"
    stored = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.is_file() else {}
    floor = Settings().for_model(stored.get("settings", {})).contradiction_threshold
    # The slot step's contradictions are read with the same floor: heads of one NLI model compared.
    return {dev.name: replay_set(head.verdict, dev, contradiction_floor=floor)
            for dev in read_dev_sets(folder, contradiction_floor=floor)}


def criteria(folder: Path, *, start: int, stop: int | None, predictions: dict[str, list[str]] | None = None) -> dict:
    per_set = {}
    for name in MISSION_DEV_SETS:
        path = folder / name / "checker" / "predictions.jsonl"
        if not path.is_file():
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        said = predictions[name] if predictions is not None else [r["predicted"] for r in rows]
        rows, said = rows[start:stop], said[start:stop]
        if not rows:
            continue
        gold = [r["gold"] for r in rows]
        binary = classification([str(g == SUPPORTED) for g in gold], [str(p == SUPPORTED) for p in said],
                                ["True", "False"])
        found = {"n": len(rows), "balanced_accuracy": binary["balanced_accuracy"]}
        if name in THREE_WAY:
            # over all three verdicts even where a slice holds fewer
            contradicted = contradiction(gold, said)
            found.update(macro_f1=classification(gold, said, [str(v) for v in VERDICTS])["macro_f1"],
                         contradicted_precision=contradicted["precision"], contradicted_recall=contradicted["recall"])
        per_set[name] = found
    three_way = [s["macro_f1"] for s in per_set.values() if "macro_f1" in s]
    return {"mean_balanced_accuracy": round(sum(s["balanced_accuracy"] for s in per_set.values()) / len(per_set), 4)
            if per_set else None,
            "mean_three_way_macro_f1": round(sum(three_way) / len(three_way), 4) if three_way else None,
            "sets": len(per_set), "per_set": per_set}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--stop", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--head", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    found = {str(folder): criteria(folder, start=args.start, stop=args.stop) for folder in args.folders}
    for folder in args.folders:
        for head in args.head:
            found[f"{head} replayed on {folder}"] = criteria(folder, start=args.start, stop=args.stop,
                                                             predictions=replayed(folder, head))
    for folder, result in found.items():
        print(f"{folder}: examples {args.start}:{args.stop or ''} of {result['sets']} sets: "
              f"mean BAcc {result['mean_balanced_accuracy']}, mean 3-way F1 {result['mean_three_way_macro_f1']}")
        for name, row in result["per_set"].items():
            extra = (f", 3-way F1 {row['macro_f1']}, contradicted P/R {row['contradicted_precision']}"
                     f"/{row['contradicted_recall']}") if "macro_f1" in row else ""
            print(f"  {name:24} n={row['n']:4} BAcc {row['balanced_accuracy']}{extra}")
    if args.json:
        args.json.write_text(json.dumps({"start": args.start, "stop": args.stop, "systems": found}, indent=1) + "\n")


if __name__ == "__main__":
    main()
