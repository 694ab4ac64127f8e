"""Rule and set weights for the verdict head, chosen by leave-one-dataset-out: on stored
features only (synthetic here), no model runs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, VERDICTS
from nli_check.pipeline.features import FEATURE_NAMES
from nli_check.pipeline.verdict import WORD_FEATURE_NAMES, LinearModel
from nli_check.training import verdict as fitting
from nli_check.training import verdict_weights as weighting

ENTAIL, CONTRADICT = FEATURE_NAMES.index("entail_max"), FEATURE_NAMES.index("contradict_max")


def _features(labels: list[str], rng) -> np.ndarray:
    """What an NLI model would show for each verdict: high entailment, high contradiction, neither."""
    x = rng.normal(scale=0.05, size=(len(labels), len(FEATURE_NAMES)))
    for row, label in enumerate(labels):
        x[row, ENTAIL] += 0.9 if label == SUPPORTED else 0.1
        x[row, CONTRADICT] += 0.9 if label == CONTRADICTED else 0.1
    return x


def _table(rng) -> fitting.FeatureTable:
    """Clean pairs from two sets by rule "gold", and as many from rule "noisy" whose labels
    say the opposite of its features (supported <-> unsupported)."""
    clean = [str(v) for v in VERDICTS] * 40
    flipped = {str(SUPPORTED): str(UNSUPPORTED), str(UNSUPPORTED): str(SUPPORTED), str(CONTRADICTED): str(CONTRADICTED)}
    features = np.vstack([_features(clean, rng), _features(clean, rng)])
    labels = clean + [flipped[label] for label in clean]
    n = len(clean)
    return fitting.FeatureTable(features, np.array([VERDICTS.index(label) for label in labels]),
                                np.array((["wice"] * (n // 2) + ["check_covid"] * (n - n // 2)) * 2),
                                np.zeros((0, len(WORD_FEATURE_NAMES))), np.zeros(0, dtype=np.int64),
                                np.zeros(0, dtype=np.int64), rules=np.array(["gold"] * n + ["noisy"] * n))


def _write_dev(folder, name: str, gold: list[str], rng) -> None:
    path = folder / name / "checker"
    path.mkdir(parents=True)
    rows = [{"gold": label, "sentences": [{"features": x.tolist()}]} for label, x in zip(gold, _features(gold, rng))]
    (path / "predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture
def dev_records(tmp_path):
    rng = np.random.default_rng(1)
    _write_dev(tmp_path, "wice-dev", [str(SUPPORTED), str(UNSUPPORTED)] * 20, rng)
    _write_dev(tmp_path, "healthver-dev", [str(v) for v in VERDICTS] * 20, rng)
    return tmp_path


def test_a_rule_that_teaches_the_wrong_verdicts_is_weighted_down(dev_records):
    table = _table(np.random.default_rng(0))
    dev_sets = weighting.read_dev_sets(dev_records)
    assert [(d.name, d.origin) for d in dev_sets] == [("wice-dev", "wice"), ("healthver-dev", None)]
    chosen, equal, best = weighting.choose_weights(table, dev_sets, contradiction_floor=None)
    assert chosen.rules.get("noisy", 1.0) < 1.0
    assert best.objective > equal.objective + weighting.MIN_GAIN
    assert best.balanced_accuracy > 0.9 and best.macro_f1 > 0.9


def test_sentence_verdicts_match_the_head_label_row_by_row():
    rng = np.random.default_rng(2)
    model = LinearModel(np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)),
                        rng.normal(size=(len(VERDICTS), len(FEATURE_NAMES))), rng.normal(size=len(VERDICTS)))
    x = rng.uniform(size=(200, len(FEATURE_NAMES)))
    for floor in (None, 0.5):
        expected = [fitting.head_label(model, row, contradiction_floor=floor) for row in x]
        assert weighting.sentence_verdicts(model, x, contradiction_floor=floor) == expected
    assert str(CONTRADICTED) in expected and len(set(expected)) == 3


def test_choose_on_the_first_examples_and_confirm_on_the_rest(dev_records):
    table = _table(np.random.default_rng(0))
    found = weighting.choose_and_confirm(table, dev_records, contradiction_floor=None, choose_on=30)
    confirmed = found["confirmed_on"]
    # wice-dev has 40 examples and healthver-dev 60: both have some left to confirm on
    assert set(confirmed["chosen"].per_set) == {"wice-dev", "healthver-dev"}
    assert confirmed["chosen"].objective > confirmed["equal"].objective
    as_json = weighting.choice_json(found)
    assert as_json["chosen_on_first_examples"] == 30 and as_json["weights"] == found["weights"].to_json()
    json.dumps(as_json)


def test_the_head_and_its_transfer_table_use_the_weights(dev_records):
    table = _table(np.random.default_rng(0))
    weights = weighting.GroupWeights(rules={"noisy": 0.0})
    head = fitting.fit_head(_with_words(table), trained_on={}, sample_weight=weights.of(table))
    x = _features([str(SUPPORTED), str(UNSUPPORTED)], np.random.default_rng(3))
    assert [str(VERDICTS[int(i)]) for i in np.argmax(head.verdict.logits(x), axis=1)] == [str(SUPPORTED),
                                                                                         str(UNSUPPORTED)]
    rows = fitting.leave_one_out(table, dev_records, thresholds=(0.5, 0.5), weights=weights)
    assert all(row["head (all sets)"]["balanced_accuracy"] > 0.9 for row in rows)


def _with_words(table: fitting.FeatureTable) -> fitting.FeatureTable:
    """The table with a few word rows, which fit_head needs for the word marking."""
    rng = np.random.default_rng(4)
    return fitting.FeatureTable(table.features, table.labels, table.datasets,
                                rng.normal(size=(20, len(WORD_FEATURE_NAMES))), np.arange(20) % 2,
                                np.zeros(20, dtype=np.int64), table.rules)


def test_weights_need_the_rule_of_each_row():
    table = _table(np.random.default_rng(0))
    without_rules = fitting.FeatureTable(table.features, table.labels, table.datasets, table.words,
                                         table.word_labels, table.word_rows)
    with pytest.raises(InputError, match="no rule per row"):
        weighting.GroupWeights(rules={"noisy": 0.5}).of(without_rules)


def test_no_dev_records_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no mission dev set recorded"):
        weighting.read_dev_sets(tmp_path)
    result = subprocess.run([sys.executable, "-m", "nli_check", "fit-verdict", "--choose-weights",
                             "--workdir", str(tmp_path / "work")], capture_output=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines()[-1] == (
        "nli-check: error: --choose-weights needs --lodo: the dev records the weights are chosen on")


def test_a_sentence_the_slot_step_made_contradicted_stays_so_when_left_unsupported(tmp_path):
    rng = np.random.default_rng(5)
    x = _features([str(UNSUPPORTED)], rng)[0]
    # recorded: the head said unsupported (its scores), the slot step made it contradicted
    sentence = {"label": str(CONTRADICTED), "features": x.tolist(), "scores": [0.1, 0.1, 0.8]}
    path = tmp_path / "healthver-dev" / "checker"
    path.mkdir(parents=True)
    (path / "predictions.jsonl").write_text(json.dumps({"gold": str(CONTRADICTED), "sentences": [sentence]}) + "\n")
    (dev,) = weighting.read_dev_sets(tmp_path)
    assert dev.conflicts == [[True]]
    unsupported = LinearModel(np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)),
                              np.zeros((len(VERDICTS), len(FEATURE_NAMES))),
                              np.array([1.0 if v == UNSUPPORTED else 0.0 for v in VERDICTS]))
    assert weighting.replay_set(unsupported, dev, contradiction_floor=None) == [str(CONTRADICTED)]
    supported = LinearModel(unsupported.mean, unsupported.scale, unsupported.coef,
                            np.array([1.0 if v == SUPPORTED else 0.0 for v in VERDICTS]))
    assert weighting.replay_set(supported, dev, contradiction_floor=None) == [str(SUPPORTED)]
