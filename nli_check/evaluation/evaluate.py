"""The eval harness: run the real checker (the same code path as ``nli-check check``) and
two baselines on labelled examples, and write metrics, predictions and plots.

Systems, all scored on the same examples:

* ``checker``: :class:`~nli_check.pipeline.checker.Checker` end to end (segmentation, pairing, NLI,
  decision). A claim the segmenter splits into several sentences is supported only if
  every sentence is, contradicted if any sentence is.
* ``whole-source``: the same NLI model and thresholds on (all sources as one premise,
  truncated to the model's length, claim): what the pairing step is worth.
* ``lexical-overlap``: the share of the claim's content words found in the sources
  (Snowball stems), supported at or above :data:`LEXICAL_SUPPORT_THRESHOLD`; never
  "contradicted". Its unsupported spans are the novel words.

Each example gets a *support score*, read as P(supported): the checker's and the
whole-source baseline's p(entailment) (for the checker, the lowest over the claim's
sentences of the best over its evidence), the lexical share for the baseline.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nli_check.datasets.eval_sets import EvalSet, Example
from nli_check.errors import InputError
from nli_check.evaluation import metrics
from nli_check.labels import (CONTRADICTED, CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, NLI_LABELS, SUPPORTED,
                              UNSUPPORTED, VERDICTS)
from nli_check.pipeline.explain import STOPWORDS, Explainer

logger = logging.getLogger(__name__)

SYSTEMS = ("checker", "whole-source", "lexical-overlap")
BASELINES = SYSTEMS[1:]
# Hand-set before any evaluation (not fitted): "at least three words in four are in the source".
LEXICAL_SUPPORT_THRESHOLD = 0.75
BOOTSTRAP_RESAMPLES = 1000
_TOKEN = re.compile(r"\w+")


@dataclass
class SentenceScore:
    """One sentence of a claim as the checker saw it (kept for calibration)."""

    label: str
    best_similarity: float | None  # None: no source sentence above the floor
    candidates: list[tuple[float, float, float]]  # (similarity, p(entailment), p(contradiction)) per evidence
    features: list[float] | None = None  # the learned verdict's features (nli_check.pipeline.features)
    scores: list[float] | None = None  # the learned verdict's probabilities, VERDICTS order


@dataclass
class Prediction:
    id: str
    gold: str
    predicted: str
    support_score: float  # read as P(supported)
    probabilities: dict | None  # entailment / neutral / contradiction of the evidence the verdict rests on
    evidence: list[dict] = field(default_factory=list)  # the best evidence of each sentence of the claim
    unsupported_spans: list[list] = field(default_factory=list)  # [start, end, text] in the claim
    sentences: list[SentenceScore] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict:
        row = asdict(self)
        row["sentences"] = [{"label": s.label, "best_similarity": s.best_similarity,
                             "candidates": [list(c) for c in s.candidates],
                             "features": None if s.features is None else [round(x, 6) for x in s.features],
                             "scores": s.scores} for s in self.sentences]
        return row


def aggregate(labels: Sequence[str]) -> str:
    """One verdict for a claim from the verdicts of its sentences."""
    if CONTRADICTED in labels:
        return CONTRADICTED
    return SUPPORTED if labels and all(label == SUPPORTED for label in labels) else UNSUPPORTED


# --- systems --------------------------------------------------------------------------

def run_checker(checker, examples: Sequence[Example], *, progress: Callable | None = None) -> list[Prediction]:
    """The checker end to end on each example (explanations follow ``checker.settings``)."""
    predictions = []
    for example in examples:
        try:
            report = checker.check(example.claim, list(example.sources))
        except InputError as error:  # e.g. a source with no sentence: recorded, never dropped
            predictions.append(Prediction(example.id, example.label, UNSUPPORTED, 0.0, None, error=str(error)))
            _tick(progress, 0)
            continue
        sentences, evidence, spans = [], [], []
        for claim in report.claims:
            candidates = [(e.similarity, e.probabilities.entailment, e.probabilities.contradiction)
                          for e in claim.evidence if e.probabilities is not None]
            sentences.append(SentenceScore(
                claim.label, max((c[0] for c in candidates), default=None), candidates,
                None if claim.features is None else claim.features.vector.tolist(),
                None if claim.scores is None else [claim.scores.supported, claim.scores.contradicted,
                                                   claim.scores.unsupported]))
            if claim.evidence:
                best = claim.evidence[0]
                evidence.append({"source": best.source, "text": best.text, "similarity": best.similarity})
            spans += [[s.start, s.end, s.text] for s in claim.unsupported_spans]
        label = aggregate([c.label for c in report.claims])
        # P(supported): the learned verdict's where it decided, else the best p(entailment).
        support = [s.scores[0] if s.scores is not None else max((c[1] for c in s.candidates), default=0.0)
                   for s in sentences]
        weakest = int(np.argmin(support))
        decisive = next((c for c in report.claims if c.label == CONTRADICTED), report.claims[weakest])
        predictions.append(Prediction(example.id, example.label, label, round(float(min(support)), 4),
                                      asdict(decisive.probabilities), evidence, spans, sentences))
        _tick(progress, len(report.claims))
    return predictions


def run_whole_source(checker, examples: Sequence[Example]) -> list[Prediction]:
    """The checker's NLI model on (all sources joined, claim), truncated to its max length."""
    premises = ["\n".join(example.sources) for example in examples]
    probabilities = checker.nli.predict([(p, e.claim) for p, e in zip(premises, examples)],
                                        batch_size=checker.settings.batch_size)
    settings = checker.settings
    predictions = []
    for example, row in zip(examples, probabilities):
        entail, contradict = round(float(row[ENTAILMENT_COLUMN]), 4), round(float(row[CONTRADICTION_COLUMN]), 4)
        label = (SUPPORTED if entail >= settings.entailment_threshold else
                 CONTRADICTED if contradict >= settings.contradiction_threshold else UNSUPPORTED)
        predictions.append(Prediction(example.id, example.label, label, entail,
                                      {str(nli_label): round(float(row[column]), 4)
                                       for column, nli_label in enumerate(NLI_LABELS)}))
    return predictions


def run_lexical_overlap(examples: Sequence[Example], *, threshold: float = LEXICAL_SUPPORT_THRESHOLD) -> list[Prediction]:
    explainer = Explainer(None)
    predictions = []
    for example in examples:
        source = "\n".join(example.sources)
        words = explainer.novel_words(example.claim, source)
        content = [(match, novel) for match, novel in words if _is_content(match.group())]
        share = 1.0 if not content else round(1 - sum(novel for _, novel in content) / len(content), 4)
        spans = [[s.start, s.end, s.text] for s in explainer.lexical_spans(example.claim, source, words=words)]
        label = SUPPORTED if share >= threshold else UNSUPPORTED
        predictions.append(Prediction(example.id, example.label, label, share, None,
                                      unsupported_spans=spans if label != SUPPORTED else []))
    return predictions


def _is_content(word: str) -> bool:
    return word.lower() not in STOPWORDS and len(word) >= 2


def _tick(progress: Callable | None, claims: int) -> None:
    if progress is not None:
        progress(claims)


# --- metrics ----------------------------------------------------------------------------

def score(evalset: EvalSet, predictions: Sequence[Prediction], *, with_spans: bool,
          resamples: int = BOOTSTRAP_RESAMPLES) -> dict:
    """Every metric of one system on one dataset (deterministic: fixed bootstrap seed)."""
    gold = [p.gold for p in predictions]
    predicted = [p.predicted for p in predictions]
    gold_supported = [g == SUPPORTED for g in gold]
    predicted_supported = [p == SUPPORTED for p in predicted]
    support = [p.support_score for p in predictions]
    result = {
        "n": len(predictions),
        "gold_counts": {str(label): gold.count(label) for label in VERDICTS},
        "predicted_counts": {str(label): predicted.count(label) for label in VERDICTS},
        "errors": sum(p.error is not None for p in predictions),
        "binary": metrics.binary(gold_supported, predicted_supported, support),
        "three_way": metrics.classification(gold, predicted, list(VERDICTS)) if evalset.three_way else None,
        # sets whose gold has contradictions: how well "contradicted" is said
        "contradiction": metrics.contradiction(gold, predicted) if CONTRADICTED in evalset.labels else None,
    }
    intervals = {
        "binary.balanced_accuracy": metrics.bootstrap_interval(
            metrics.balanced_accuracy_of, np.array(gold_supported), np.array(predicted_supported),
            resamples=resamples),
        "binary.roc_auc": metrics.bootstrap_interval(
            metrics.roc_auc_of, np.array(gold_supported), np.array(support, dtype=float), resamples=resamples),
    }
    if evalset.three_way:
        intervals["three_way.macro_f1"] = metrics.bootstrap_interval(
            metrics.macro_f1_of(VERDICTS), np.array(gold), np.array(predicted), resamples=resamples)
    result["intervals_95"] = intervals
    if with_spans:
        result["spans"] = span_metrics(evalset, predictions)
    return result


def span_metrics(evalset: EvalSet, predictions: Sequence[Prediction]) -> dict:
    """:func:`marked_tokens` over the examples that carry annotations, with their number."""
    by_id = {p.id: p for p in predictions}
    found = [(example.claim, example.gold_spans, [(s[0], s[1]) for s in by_id[example.id].unsupported_spans],
              by_id[example.id].predicted == UNSUPPORTED)
             for example in evalset.examples if example.gold_spans is not None and example.id in by_id]
    return {"examples": len(found), **marked_tokens(found)}


def marked_tokens(claims: Iterable[tuple[str, Sequence[tuple[int, int]], Sequence[tuple[int, int]], bool]]) -> dict:
    """Token-level (``\\w+`` words) precision/recall/F1 of the predicted unsupported spans
    against the annotated ones, pooled over ``claims`` (each: its text, its gold spans, its
    predicted spans, whether the checker called it unsupported); and ``marked_share``, the
    share of words marked in the claims called unsupported (what an editor sees underlined)."""
    gold_flags, predicted_flags = [], []
    words_called_unsupported = marked_called_unsupported = called_unsupported = 0
    for claim, gold_spans, predicted_spans, unsupported in claims:
        tokens = [token.span() for token in _TOKEN.finditer(claim)]
        marked = [_overlaps(token, predicted_spans) for token in tokens]
        gold_flags += [_overlaps(token, gold_spans) for token in tokens]
        predicted_flags += marked
        if unsupported:
            called_unsupported += 1
            words_called_unsupported += len(marked)
            marked_called_unsupported += sum(marked)
    share = marked_called_unsupported / words_called_unsupported if words_called_unsupported else None
    return {**metrics.token_prf(gold_flags, predicted_flags), "called_unsupported": called_unsupported,
            "marked_share": None if share is None else round(share, 4)}


def _overlaps(token: tuple[int, int], spans) -> bool:
    return any(start < token[1] and token[0] < end for start, end in spans)


# --- one run ------------------------------------------------------------------------------

@dataclass
class SystemResult:
    system: str
    metrics: dict
    predictions: list[Prediction]
    seconds: float


def evaluate(evalset: EvalSet, checker, *, baselines: bool = True, spans: bool | None = None,
             progress_factory: Callable | None = None) -> list[SystemResult]:
    """Run the checker (and the baselines) on ``evalset``; ``spans`` defaults to whether the
    set has span annotations (explanations cost time, so they are off otherwise)."""
    import time

    with_spans = evalset.spans if spans is None else spans
    run = checker.with_settings(explain=with_spans)
    results = []
    started = time.perf_counter()
    bar = progress_factory(evalset) if progress_factory else None
    try:
        predictions = run_checker(run, evalset.examples, progress=bar.advance if bar else None)
    finally:
        if bar:
            bar.close()
    results.append(SystemResult("checker", score(evalset, predictions, with_spans=with_spans), predictions,
                                time.perf_counter() - started))
    if baselines:
        started = time.perf_counter()
        predictions = run_whole_source(checker, evalset.examples)
        results.append(SystemResult("whole-source", score(evalset, predictions, with_spans=False), predictions,
                                    time.perf_counter() - started))
        started = time.perf_counter()
        predictions = run_lexical_overlap(evalset.examples)
        results.append(SystemResult("lexical-overlap", score(evalset, predictions, with_spans=with_spans),
                                    predictions, time.perf_counter() - started))
    return results


def describe(evalset: EvalSet, checker, system: str) -> dict:
    """What produced a set of metrics (written into metrics.json; no times, so reruns match)."""
    return {
        "dataset": evalset.name, "origin": evalset.origin, "split": evalset.split,
        "seen_in_training": evalset.seen_in_training, "notes": evalset.notes,
        "labels": list(evalset.labels), "views": ["binary", "three_way"] if evalset.three_way else ["binary"],
        "system": system, "model": checker.model_name,
        "precision": checker.nli.precision,  # both models share it
        "backend": checker.nli.backend,
        "thresholds": {**decision_thresholds(checker),
                       **({"lexical_support": LEXICAL_SUPPORT_THRESHOLD} if system == "lexical-overlap" else {})},
        "verdict": decision_rule(checker) if system == "checker" else "thresholds",
        # the work skipped before and during NLI (a checker record without it had neither)
        "work": {"first_stage_cut": checker.settings.first_stage_cut, "first_stage": checker.settings.first_stage,
                 "early_exit": checker.settings.early_exit,
                 "cascade": None if checker.accurate is None else {
                     "accurate_model": checker.accurate.model_name, "margin": checker.settings.cascade_margin,
                     "accurate_thresholds": [checker.accurate.settings.entailment_threshold,
                                             checker.accurate.settings.contradiction_threshold]}},
    }


def decision_rule(checker) -> str:
    """``thresholds``, or ``learned <digest>`` naming the learned head that decided."""
    return "thresholds" if checker.head is None else f"learned {checker.head.digest}"


def decision_thresholds(checker) -> dict:
    """The fitted settings a checker decides with (what ``nli-check calibrate`` writes)."""
    settings = checker.settings
    return {"entailment": settings.entailment_threshold, "contradiction": settings.contradiction_threshold,
            "similarity_floor": settings.similarity_floor}


def write_results(output: Path, evalset: EvalSet, checker, results: Sequence[SystemResult], *,
                  plots: bool = True) -> Path:
    """``output/<dataset>/<system>/{metrics.json, predictions.jsonl, confusion.png, reliability.png}``,
    written to a temporary folder and moved into place only when complete."""
    output.mkdir(parents=True, exist_ok=True)
    final = output / safe_name(evalset.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=output))
    try:
        for result in results:
            folder = staging / result.system
            folder.mkdir()
            body = {**describe(evalset, checker, result.system), "metrics": result.metrics}
            (folder / "metrics.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            with (folder / "predictions.jsonl").open("w", encoding="utf-8") as handle:
                for prediction in result.predictions:
                    handle.write(json.dumps(prediction.to_json(), ensure_ascii=False) + "\n")
            if plots:
                from nli_check.evaluation.plots import confusion_plot, reliability_plot

                view = result.metrics["three_way"] or result.metrics["binary"]
                confusion_plot(view["confusion_matrix"], folder / "confusion.png",
                               title=f"{evalset.name} · {result.system}")
                reliability_plot([p.gold == SUPPORTED for p in result.predictions],
                                 [p.support_score for p in result.predictions], folder / "reliability.png",
                                 title=f"{evalset.name} · {result.system} (support score)")
        backup = None
        if final.exists():
            backup = final.with_name(f".{final.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            final.rename(backup)
        staging.rename(final)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def headline(result: SystemResult) -> dict:
    """The numbers a leaderboard row shows."""
    m = result.metrics
    row = {"n": m["n"], "positives": m["binary"]["positives"],
           "binary_balanced_accuracy": m["binary"]["balanced_accuracy"],
           "binary_balanced_accuracy_95": m["intervals_95"]["binary.balanced_accuracy"],
           "roc_auc": m["binary"]["roc_auc"], "roc_auc_95": m["intervals_95"]["binary.roc_auc"],
           "ece": m["binary"]["ece"], "f1_supported": m["binary"]["f1_supported"],
           "precision_not_supported": m["binary"]["precision_not_supported"],
           "recall_not_supported": m["binary"]["recall_not_supported"]}
    if m["three_way"]:
        row |= {"three_way_accuracy": m["three_way"]["accuracy"], "three_way_macro_f1": m["three_way"]["macro_f1"],
                "three_way_macro_f1_95": m["intervals_95"]["three_way.macro_f1"]}
    if m.get("contradiction"):
        row |= {"contradicted_precision": m["contradiction"]["precision"],
                "contradicted_recall": m["contradiction"]["recall"], "contradicted_f1": m["contradiction"]["f1"],
                "false_contradiction_rate": m["contradiction"]["false_contradiction_rate"]}
    if m.get("spans"):
        row["span_f1"] = m["spans"]["f1"]
        row["span_precision"] = m["spans"]["precision"]
        row["span_recall"] = m["spans"]["recall"]
        row["span_marked_share"] = m["spans"].get("marked_share")
    return row


def safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name)
