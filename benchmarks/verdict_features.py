"""Report: which features carry the verdict on the dev sets, and what heads fitted on feature
subsets would score there.

    python benchmarks/verdict_features.py --predictions eval/runs-learned --workdir runs/verdict

Reads the predictions ``nli-check eval --verdict learned`` wrote (each claim sentence's
features) and the feature pieces ``nli-check fit-verdict`` saved for its training pairs. Prints
three Markdown tables: the ROC-AUC (supported vs not) of the head's P(supported) and of single
features, each taken as the claim-level minimum over its sentences; the balanced accuracy
(3-way macro-F1 in brackets) of the thresholds and of heads refitted on the training pairs
with feature subsets, replayed on the dev features; and the same for variants of the decision
rule (the contradiction floor, regularisation, the swapped-word pairs' weight). Nothing is
fitted on a dev set; a report, not a test.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from nli_check.pipeline.features import FEATURE_NAMES
from nli_check.training import verdict as fitting

MISSION = ("wice-dev", "xsumfaith-dev", "check-covid-dev", "citation-integrity-dev", "healthver-dev",
           "attributionbench-dev")
SINGLE = ("entail_max", "chunk_entail", "similarity_best", "words_in_chunk", "words_in_source", "soft_mean", "soft_min")
NLI = [n for n in FEATURE_NAMES if "entail" in n or "contradict" in n or "neutral" in n]
WORDS = ["words_in_best", "words_in_chunk", "words_in_source", "numbers", "numbers_missing", "names_missing",
         "negation_mismatch", "claim_words"]
SOFT = ["soft_mean", "soft_min", "soft_low_share", "soft_novel_mean"]
RETRIEVAL = ["similarity_best", "similarity_second", "candidates"]
SUBSETS = {"all features": list(FEATURE_NAMES), "NLI only": NLI, "NLI + words": NLI + WORDS,
           "NLI + soft": NLI + SOFT, "all but soft": NLI + RETRIEVAL + WORDS}


def auc_table(root: Path, sets: list[str]) -> list[str]:
    lines = ["| ROC-AUC, supported vs not | " + " | ".join(sets) + " |", "|---|" + "---:|" * len(sets)]
    columns = {}
    for name in sets:
        rows = [json.loads(line) for line in (root / name / "checker" / "predictions.jsonl").open(encoding="utf-8")]
        gold = np.array([row["gold"] == "supported" for row in rows])

        def claim_level(value, rows=rows):
            found = np.array([min([value(s) for s in row["sentences"]] or [np.nan]) for row in rows], dtype=float)
            return np.where(np.isnan(found), np.nanmin(found) - 1, found)  # no sentence scored: lowest

        column = {"head P(supported)": roc_auc_score(gold, claim_level(
            lambda s: s["scores"][0] if s.get("scores") else -1.0))}
        for feature in SINGLE:
            index = FEATURE_NAMES.index(feature)
            column[feature] = roc_auc_score(gold, claim_level(
                lambda s, index=index: s["features"][index] if s.get("features") else -1.0))
        columns[name] = column
    for key in columns[sets[0]]:
        lines.append(f"| {key} | " + " | ".join(f"{columns[name][key]:.3f}" for name in sets) + " |")
    return lines


def subset_table(dev: dict, table: fitting.FeatureTable, thresholds: tuple[float, float]) -> list[str]:
    systems = {"thresholds": partial(fitting.threshold_label, thresholds=thresholds)}
    for title, names in SUBSETS.items():
        columns = [FEATURE_NAMES.index(n) for n in names]
        model = fitting.fit_linear(table.features[:, columns], table.labels, classes=3)
        systems[title] = lambda x, model=model, columns=columns: fitting.head_label(model, x[columns])
    return replay_table(dev, systems, "balanced accuracy (macro-F1)")


def variant_table(dev: dict, table: fitting.FeatureTable, thresholds: tuple[float, float]) -> list[str]:
    """Balanced accuracy of the decision rule's variants: the head as fitted, with the contradiction
    floor (the default), with stronger regularisation, and with the swapped-word pairs down-weighted."""
    floor = thresholds[1]
    swaps = np.char.startswith(table.rules.astype(str), "swap_") if table.rules is not None else None
    fitted = {"head": fitting.fit_linear(table.features, table.labels, classes=3),
              "C=0.1": fitting.fit_linear(table.features, table.labels, classes=3, regularisation=0.1)}
    if swaps is not None and swaps.any():
        fitted["swap pairs x0.3"] = fitting.fit_linear(table.features, table.labels, classes=3,
                                                        sample_weight=np.where(swaps, 0.3, 1.0))
    systems = {"thresholds": partial(fitting.threshold_label, thresholds=thresholds)}
    for name, model in fitted.items():
        systems[name] = partial(fitting.head_label, model)
        systems[f"{name} + floor"] = partial(fitting.head_label, model, contradiction_floor=floor)
    return replay_table(dev, systems, f"balanced accuracy (macro-F1); floor: contradicted needs p(contradiction) >= {floor}")


def replay_table(dev: dict, systems: dict, heading: str) -> list[str]:
    """One row per dev set, one column per system: its verdicts replayed on the set's features."""
    lines = [f"| {heading} | " + " | ".join(systems) + " |", "|---|" + "---:|" * len(systems)]
    means = {title: [] for title in systems}
    for name, (examples, gold) in dev.items():
        cells = []
        for title, label in systems.items():
            scores = fitting.replay_scores(gold, fitting.replay(examples, label))
            means[title].append(scores["balanced_accuracy"])
            cells.append(f"{scores['balanced_accuracy']:.3f}" + (f" ({scores['macro_f1']:.3f})" if "macro_f1" in scores
                                                                 else ""))
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines.append("| mean | " + " | ".join(f"{np.mean(v):.3f}" for v in means.values()) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predictions", type=Path, default=Path("eval/runs-learned"))
    parser.add_argument("--workdir", type=Path, default=Path("runs/verdict"), help="fit-verdict's feature pieces")
    parser.add_argument("--entailment-threshold", type=float, default=0.34)
    parser.add_argument("--contradiction-threshold", type=float, default=0.61)
    args = parser.parse_args()
    sets = [name for name in MISSION if (args.predictions / name / "checker" / "predictions.jsonl").is_file()]
    pieces = sorted(args.workdir.glob("piece-*.npz"))
    table = fitting.FeatureTable.concat([fitting.FeatureTable.load(path) for path in pieces])
    print("\n".join(auc_table(args.predictions, sets)))
    print()
    thresholds = (args.entailment_threshold, args.contradiction_threshold)
    # Each dev set's features, read once for both replay tables.
    dev = {name: fitting.read_eval_features(args.predictions / name / "checker" / "predictions.jsonl") for name in sets}
    print("\n".join(subset_table(dev, table, thresholds)))
    print()
    print("\n".join(variant_table(dev, table, thresholds)))


if __name__ == "__main__":
    main()
