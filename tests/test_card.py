"""The model card rendered from hand-made eval records (no model is loaded)."""

import json
import os
import subprocess
import sys

import pytest

from nli_check.errors import InputError
from nli_check.evaluation.card import CARD_METRICS, CARD_SETS, NOTES_FILE, render, write_card

THRESHOLDS = {"entailment": 0.4, "contradiction": 0.7, "similarity_floor": 0.2}
PREVIOUS = {"entailment": 0.34, "contradiction": 0.61, "similarity_floor": 0.25}


def make_model(folder):
    folder.mkdir()
    (folder / "training_log.json").write_text(json.dumps({
        "config": {"base_model": "minilm", "max_length": 256, "batch_size": 32, "learning_rate": 5e-05,
                   "warmup_ratio": 0.06, "epochs": 1.0, "seed": 13, "embellish_neutral": 5,
                   "embellish_contradiction": 3},
        "train_pairs": 10, "train_counts": {"snli/entailment": 6, "wice+embellish/neutral": 4},
        "train_seconds": 600, "torch_threads": 2, "device": "cpu", "max_steps": -1}))
    (folder / "nli_check.json").write_text(json.dumps({
        "settings": {"similarity_floor": 0.2, "entailment_threshold": 0.4, "contradiction_threshold": 0.7},
        "fitted_on": {"command": "nli-check calibrate wice-dev check-covid-dev", "precision": "float32",
                      "rule": "the rule", "previous": {"similarity_floor": 0.25, "entailment_threshold": 0.34,
                                                       "contradiction_threshold": 0.61},
                      "data": [{"name": "wice-dev", "origin": "wice/claim_dev.jsonl", "n": 349, "notes": []}],
                      "objective": {"mean_balanced_accuracy_supported_vs_not": 0.66,
                                    "mean_three_way_macro_f1": 0.5}}}))
    return folder


def write_records(results, value, thresholds, *, skip=(), precision="float32", verdict=None, baselines=None):
    folder = results / "tiny-model"
    folder.mkdir(parents=True)
    for card_set in CARD_SETS:
        if card_set.name in skip:
            continue
        checker = {"n": 14 if card_set.name.startswith("seeds") else 100, "positives": 20}
        for metric in CARD_METRICS:
            if metric.dataset == card_set.name:
                checker[metric.key] = value
        checker.setdefault("binary_balanced_accuracy", value)  # every real record has it
        (folder / f"{card_set.name}.json").write_text(json.dumps({
            "model": "tiny-model", "dataset": card_set.name, "split": "dev", "seen_in_training": False,
            "notes": [], "command": f"nli-check eval {card_set.name} --record {results}", "precision": precision,
            "thresholds": thresholds, "seconds": {"checker": 30.0},
            **({"verdict": verdict} if verdict else {}),
            "systems": {"checker": checker, **({name: {"binary_balanced_accuracy": v} for name, v in baselines.items()}
                                               if baselines else {})}}))


@pytest.fixture
def model(tmp_path):
    return make_model(tmp_path / "tiny-model")


def test_card_shows_every_recorded_number_in_zero_one(tmp_path, model):
    write_records(tmp_path / "results", 0.8571, THRESHOLDS)
    (model / NOTES_FILE).write_text("## History\n\nHand-written.\n")
    card = render(model=model, results=tmp_path / "results")
    for metric in CARD_METRICS:
        assert f"| {metric.title} | `{metric.dataset}` |" in card
    assert "| 0.8571 |" in card and "12 of 14" in card  # seeds: right of n
    assert "Values are in [0, 1]" in card and "≥ 0.88" in card
    assert "| `entailment_threshold` | 0.34 | 0.4 |" in card and "The fit moved" in card
    assert card.rstrip().endswith("Hand-written.")
    assert "80 hallucinated summaries out of 100" in card


def test_card_before_and_after_the_fit(tmp_path, model):
    write_records(tmp_path / "results", 0.9, THRESHOLDS)
    write_records(tmp_path / "before", 0.8, PREVIOUS)
    card = render(model=model, results=tmp_path / "results", before=tmp_path / "before")
    assert "| before | after | change |" in card
    assert "| 0.8000 | 0.9000 | +0.1000 |" in card
    assert f"{len(CARD_METRICS)} rose" in card and "none fell" in card


def test_missing_records_name_the_sets_to_run(tmp_path, model):
    write_records(tmp_path / "results", 0.5, THRESHOLDS, skip={"wice-dev", "snli-test"})
    with pytest.raises(InputError) as error:
        render(model=model, results=tmp_path / "results")
    message = str(error.value)
    assert "\n" not in message
    assert "no record of snli-test, wice-dev" in message
    assert "nli-check eval snli-test --limit 1000" in message and "nli-check eval wice-dev --model" in message


def test_records_with_other_thresholds_or_precision_are_refused(tmp_path, model):
    write_records(tmp_path / "results", 0.5, PREVIOUS)
    with pytest.raises(InputError, match=r"thresholds entailment 0.34, .*expected entailment 0.4"):
        render(model=model, results=tmp_path / "results")
    write_records(tmp_path / "bf16", 0.5, THRESHOLDS, precision="bfloat16")
    with pytest.raises(InputError, match="precision bfloat16, expected float32"):
        render(model=model, results=tmp_path / "bf16")
    write_records(tmp_path / "before", 0.5, THRESHOLDS)  # the current thresholds, not the replaced ones
    write_records(tmp_path / "results2", 0.5, THRESHOLDS)
    with pytest.raises(InputError, match="the --before records were made otherwise"):
        render(model=model, results=tmp_path / "results2", before=tmp_path / "before")


def test_card_command_writes_the_card(tmp_path, model):
    write_records(tmp_path / "results", 0.5, THRESHOLDS)
    output = tmp_path / "CARD.md"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    result = subprocess.run([sys.executable, "-m", "nli_check", "card", str(model), "--results",
                             str(tmp_path / "results"), "--output", str(output)], capture_output=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert output.read_text() == render(model=model, results=tmp_path / "results")
    missing = subprocess.run([sys.executable, "-m", "nli_check", "card", str(model), "--results",
                              str(tmp_path / "none")], capture_output=True, env=env, timeout=120)
    assert missing.returncode == 2
    assert len(missing.stderr.decode().strip().splitlines()) == 1 and b"no record of" in missing.stderr
    assert write_card(model=model, results=tmp_path / "results") == model / "README.md"


def test_card_of_a_model_with_a_learned_verdict(tmp_path, model):
    import numpy as np

    from nli_check.pipeline.features import FEATURE_NAMES
    from nli_check.pipeline.verdict import WORD_FEATURE_NAMES, LinearModel, VerdictHead

    def linear(width, classes):
        return LinearModel(np.zeros(width), np.ones(width), np.zeros((classes, width)), np.zeros(classes))

    lodo = [{"dataset": "wice-dev", "n": 349, "held_out_training_set": "wice",
             "thresholds": {"balanced_accuracy": 0.6}, "head (all sets)": {"balanced_accuracy": 0.7},
             "head (without this set)": {"balanced_accuracy": 0.65}}]
    VerdictHead(linear(len(FEATURE_NAMES), 3), linear(len(WORD_FEATURE_NAMES), 1), 0.4, 8,
                {"rows": 10, "claim_pairs": {"fever_rte": {"supported": 5, "contradicted": 3, "unsupported": 2}}}
                ).save(model)
    (model / "verdict_transfer.json").write_text(json.dumps({"rows": lodo}))
    digest = VerdictHead.load(model).digest
    write_records(tmp_path / "thresholds", 0.5, THRESHOLDS)
    # The general-NLI sets may be left out of the learned records; the mission sets may not.
    write_records(tmp_path / "learned", 0.7, THRESHOLDS, verdict=f"learned {digest}",
                  baselines={"whole-source": 0.55, "lexical-overlap": 0.66}, skip={"snli-test", "anli-r3-dev"})
    # The --learned records must name the head that decided them, and the card's own the thresholds.
    with pytest.raises(InputError, match=f"verdict thresholds, expected learned {digest}"):
        render(model=model, results=tmp_path / "thresholds", learned=tmp_path / "thresholds")
    write_records(tmp_path / "learned-all", 0.7, THRESHOLDS, verdict=f"learned {digest}")
    with pytest.raises(InputError, match=f"verdict learned {digest}, expected thresholds"):
        render(model=model, results=tmp_path / "learned-all")
    card = render(model=model, results=tmp_path / "thresholds", learned=tmp_path / "learned")
    assert "| thresholds | learned verdict (default) | change |" in card and "| 0.5000 | 0.7000 | +0.2000 |" in card
    assert "## Learned verdict" in card and f"sha256 `{digest}`" in card and "--verdict thresholds" in card
    assert "| `wice-dev` | 0.7000 | 0.5000 | 0.5500 | 0.6600 |" in card
    assert "| **mean** | 0.7000 | 0.5000 | 0.5500 | 0.6600 |" in card
    assert "| `wice-dev` | 349 | wice | 0.6000 | 0.7000 | 0.6500 |" in card
    assert "| fever_rte | 5 | 3 | 2 |" in card
    assert "| SNLI test, 3-way accuracy | `snli-test` | dev | 100 | 0.5000 | – | – |" in card
    write_records(tmp_path / "partial", 0.7, THRESHOLDS, verdict=f"learned {digest}", skip={"wice-dev"})
    with pytest.raises(InputError, match="no record of wice-dev"):
        render(model=model, results=tmp_path / "thresholds", learned=tmp_path / "partial")


def test_card_of_a_distilled_model_names_the_teacher_and_the_checker_pairs(tmp_path, model):
    log = json.loads((model / "training_log.json").read_text())
    log["config"].update(teacher="/somewhere/nli-mpnet-teacher", temperature=2.0, gold_weight=0.5)
    log.update(train_pairs=64, max_steps=1,
               train_counts={"checker:covidfact/None": 60, "claim_pairs:wice/neutral": 3, "wice/entailment": 1})
    (model / "training_log.json").write_text(json.dumps(log))
    write_records(tmp_path / "results", 0.5, THRESHOLDS)
    card = render(model=model, results=tmp_path / "results")
    assert "Distilled from the teacher `nli-mpnet-teacher`" in card and "temperature 2.0" in card
    assert "1 steps (0.50 epoch)" in card
    # teacher-labelled pairs count under the set they came from, with its license
    assert "| covidfact | none stated | checker pairs (teacher-labelled): 60 |" in card
    assert "| wice | ODC-BY annotations, CC BY-SA text | neutral (claim-level): 3, entailment: 1 |" in card
