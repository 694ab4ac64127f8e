"""Dev-split metrics of an NLI model, the numbers in its model card, and the fitting of
its decision thresholds on dev data.

    python -m nli_check.evaluation.devmetrics --model models/nli-minilm-l6 --data ../shared/data \\
        [--fit-thresholds] [--quick]

Pair-level sets (SNLI test, held-out TaxiNLI, Check-COVID dev, ANLI R3 dev, HealthVer dev)
score the model alone; WiCE, XSumFaith and the seeds run the whole checker, with its own
pairing. Only dev splits (and SNLI test, which this project may use) are read.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score, recall_score

from nli_check.datasets import nli_pairs as data
from nli_check.config import DEV_METRICS_PRECISION, MODEL_SETTINGS_FILE
from nli_check.datasets.nli_pairs import NLI_LABELS
from nli_check.precision import PRECISIONS

logger = logging.getLogger(__name__)


def pair_metrics(nli, pairs: list[data.Pair], *, binary: bool = False) -> dict:
    """Accuracy and macro-F1 of argmax predictions on labelled pairs."""
    probabilities = nli.predict([(p.premise, p.hypothesis) for p in pairs], batch_size=64)
    predicted = [NLI_LABELS[i] for i in probabilities.argmax(axis=1)]
    gold = [p.label for p in pairs]
    result = {"n": len(pairs), "accuracy": round(100 * accuracy_score(gold, predicted), 2),
              "macro_f1": round(100 * f1_score(gold, predicted, labels=list(NLI_LABELS), average="macro"), 2)}
    if binary:
        result["balanced_accuracy_entailment_vs_not"] = round(100 * balanced_accuracy_score(
            [g == "entailment" for g in gold], [p == "entailment" for p in predicted]), 2)
    return result


def _claim_scores(checker, claim: str, sources: list[str]) -> tuple[float, float, list]:
    """Best p(entailment) and p(contradiction) over all claims the text splits into
    (min over sentences for entailment: every part must be supported)."""
    report = checker.check(claim, sources)
    entail = min(max((e.probabilities.entailment for e in c.evidence), default=0.0) for c in report.claims)
    contra = max(max((e.probabilities.contradiction for e in c.evidence), default=0.0) for c in report.claims)
    return entail, contra, report.claims


def wice_claims(checker, root: Path, limit: int | None) -> dict:
    checker = checker.with_settings(explain=False)
    rows = [row for _, row in data.read_jsonl(root / "wice" / "claim_dev.jsonl")][:limit]
    scores = [_claim_scores(checker, row["claim"], ["\n".join(row["evidence"])])[:2] for row in rows]
    return {"gold": [row["label"] == "supported" for row in rows], "entail": [s[0] for s in scores],
            "contra": [s[1] for s in scores]}


def wice_tokens(checker, root: Path, limit: int | None) -> dict:
    """Token-level precision/recall/F1 of unsupported_spans on WiCE non_supported_tokens_dev
    (tokens pooled over all claims)."""
    gold_all, predicted_all = [], []
    rows = [row for _, row in data.read_jsonl(root / "wice" / "non_supported_tokens_dev.jsonl")][:limit]
    for row in rows:
        claim, tokens = row["claim"], row["claim_tokens"]
        report = checker.check(claim, ["\n".join(row["evidence"])])
        spans = [(s.start, s.end) for c in report.claims for s in c.unsupported_spans]
        cursor = 0
        for token, gold in zip(tokens, row["non_supported_spans"]):
            found = claim.find(token, cursor)
            start = found if found != -1 else cursor
            end = start + len(token)
            cursor = end if found != -1 else cursor
            predicted_all.append(any(a < end and start < b for a, b in spans))
            gold_all.append(bool(gold))
    return {"n_claims": len(rows), "n_tokens": len(gold_all),
            "precision": round(100 * precision_score(gold_all, predicted_all, zero_division=0), 2),
            "recall": round(100 * recall_score(gold_all, predicted_all, zero_division=0), 2),
            "f1": round(100 * f1_score(gold_all, predicted_all, zero_division=0), 2)}


def xsumfaith(checker, root: Path, limit: int | None) -> dict:
    checker = checker.with_settings(explain=False)
    rows = [row for _, row in data.read_jsonl(root / "xsumfaith" / "xsumfaith_dev.jsonl")][:limit]
    flagged, gold = [], []
    for row in rows:
        summary = re.sub(r"\\'", "'", row["summary"])
        report = checker.check(summary, [row["document"]])
        flagged.append(any(c.label == "unsupported" for c in report.claims))
        gold.append(bool(row["majority_extrinsic"]))
    return {"n": len(rows), "positives": int(sum(gold)),
            "precision_unsupported": round(float(precision_score(gold, flagged, zero_division=0)), 3),
            "recall_unsupported": round(float(recall_score(gold, flagged, zero_division=0)), 3)}


def seeds(checker, folder: Path) -> dict:
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text().splitlines() if line.strip()]
    report = checker.check((folder / "article.txt").read_text(), [(folder / "source.txt").read_text()])
    got = [c.label for c in report.claims]
    right = sum(g == e["label"] for g, e in zip(got, expected))
    line5 = report.claims[4]
    contradicted = checker.check((folder / "contradicted.txt").read_text(), [(folder / "source.txt").read_text()])
    return {"article_right": right, "article_total": len(expected), "labels": got,
            "line5_spans": [s.text for s in line5.unsupported_spans],
            "contradicted_labels": [c.label for c in contradicted.claims]}


def fit_thresholds(wice: dict, covid_probabilities: np.ndarray, covid_gold: list[str]) -> dict:
    """Entailment threshold: best mean balanced accuracy (supported vs not) over WiCE dev
    (checker pairing) and Check-COVID dev (given evidence). Contradiction threshold:
    best macro-F1 on Check-COVID dev, 3-way, given the entailment threshold."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    wice_gold, wice_entail = np.array(wice["gold"]), np.array(wice["entail"])
    covid_supported = np.array([g == "entailment" for g in covid_gold])

    def entail_score(t):
        return (balanced_accuracy_score(wice_gold, wice_entail >= t)
                + balanced_accuracy_score(covid_supported, covid_probabilities[:, 0] >= t)) / 2

    entailment = float(max(grid, key=entail_score))

    def contra_score(t):
        predicted = np.where(covid_probabilities[:, 0] >= entailment, "entailment",
                             np.where(covid_probabilities[:, 2] >= t, "contradiction", "neutral"))
        return f1_score(covid_gold, predicted, average="macro")

    contradiction = float(max(grid, key=contra_score))
    return {"entailment_threshold": entailment, "contradiction_threshold": contradiction,
            "objective": {"entailment": round(entail_score(entailment), 4),
                          "contradiction": round(contra_score(contradiction), 4)}}


def main(argv: list[str] | None = None) -> None:
    from nli_check.pipeline.checker import Checker

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seeds", type=Path, default=Path("seeds"))
    parser.add_argument("--fit-thresholds", action="store_true", help=f"write {MODEL_SETTINGS_FILE}")
    parser.add_argument("--quick", action="store_true", help="first 300 rows of each set (a smoke run)")
    parser.add_argument("--output", type=Path, help="metrics JSON (default: MODEL/dev_metrics.json)")
    parser.add_argument("--precision", choices=PRECISIONS, default=DEV_METRICS_PRECISION,
                        help="models' precision (default float32 on every machine, so that the "
                             "numbers and fitted thresholds do not depend on the CPU)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    limit = 300 if args.quick else None
    started = time.time()
    checker = Checker(model=args.model, precision=args.precision)
    root = args.data
    metrics: dict = {}
    from nli_check.training.train import dev_sets

    dev = dev_sets(root)  # the same held-out portions the recipe keeps out of training
    for name, pairs in dev.items():
        metrics[name] = pair_metrics(checker.nli, pairs[:limit], binary=name == "check-covid-dev")
        logger.info("%s %s", name, metrics[name])
    wice = wice_claims(checker, root, limit)
    if args.fit_thresholds:
        covid = dev["check-covid-dev"][:limit]
        covid_probabilities = checker.nli.predict([(p.premise, p.hypothesis) for p in covid])
        fitted = fit_thresholds(wice, covid_probabilities, [p.label for p in covid])
        settings_file = args.model / MODEL_SETTINGS_FILE
        stored = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
        stored.setdefault("settings", {}).update({k: fitted[k] for k in ("entailment_threshold",
                                                                          "contradiction_threshold")})
        stored["fitted_on"] = {"data": ["wice/claim_dev.jsonl", "check_covid/dev.jsonl"],
                               "precision": checker.nli.precision,
                               "rule": fit_thresholds.__doc__.strip(), "objective": fitted["objective"]}
        settings_file.write_text(json.dumps(stored, indent=2) + "\n")
        logger.info("fitted %s", fitted)
        checker = Checker(model=args.model, precision=args.precision)  # reload with the new thresholds
    t = checker.settings.entailment_threshold
    metrics["wice-claim-dev"] = {
        "n": len(wice["gold"]),
        "balanced_accuracy_supported_vs_not": round(100 * balanced_accuracy_score(
            wice["gold"], [e >= t for e in wice["entail"]]), 2)}
    metrics["wice-tokens-dev"] = wice_tokens(checker, root, limit)
    metrics["xsumfaith-dev"] = xsumfaith(checker, root, limit)
    metrics["seeds"] = seeds(checker, args.seeds)
    metrics["thresholds"] = {"entailment": t, "contradiction": checker.settings.contradiction_threshold}
    metrics["precision"] = checker.nli.precision
    metrics["seconds"] = round(time.time() - started)
    output = args.output or args.model / "dev_metrics.json"
    output.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
