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


def write_records(results, value, thresholds, *, skip=(), precision="float32"):
    folder = results / "tiny-model"
    folder.mkdir(parents=True)
    for card_set in CARD_SETS:
        if card_set.name in skip:
            continue
        checker = {"n": 14 if card_set.name.startswith("seeds") else 100, "positives": 20}
        for metric in CARD_METRICS:
            if metric.dataset == card_set.name:
                checker[metric.key] = value
        (folder / f"{card_set.name}.json").write_text(json.dumps({
            "model": "tiny-model", "dataset": card_set.name, "split": "dev", "seen_in_training": False,
            "notes": [], "command": f"nli-check eval {card_set.name} --record {results}", "precision": precision,
            "thresholds": thresholds, "seconds": {"checker": 30.0}, "systems": {"checker": checker}}))


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
