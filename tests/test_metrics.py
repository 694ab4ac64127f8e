"""The eval metrics against examples worked out by hand, including degenerate inputs."""

import numpy as np
import pytest

from nli_check.evaluation import metrics

LABELS = ["supported", "contradicted", "unsupported"]


def test_classification_by_hand():
    gold = ["supported", "supported", "contradicted", "unsupported"]
    predicted = ["supported", "unsupported", "contradicted", "supported"]
    result = metrics.classification(gold, predicted, LABELS)
    assert result["n"] == 4
    assert result["accuracy"] == 0.5
    # recalls: supported 1/2, contradicted 1/1, unsupported 0/1 -> mean 0.5
    assert result["balanced_accuracy"] == 0.5
    # F1: supported P 1/2 R 1/2 -> 0.5; contradicted 1; unsupported 0 -> macro 0.5
    assert result["per_class"]["supported"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert result["macro_f1"] == 0.5
    assert result["confusion_matrix"]["matrix"] == [[1, 0, 1], [0, 1, 0], [1, 0, 0]]


def test_one_class_only():
    result = metrics.classification(["supported"] * 3, ["supported", "supported", "unsupported"], LABELS)
    assert result["accuracy"] == pytest.approx(0.6667)
    assert result["balanced_accuracy"] == pytest.approx(0.6667)  # recall of the only gold class
    assert metrics.roc_auc([True, True, True], [0.1, 0.5, 0.9]) is None


def test_empty_prediction_set():
    result = metrics.classification([], [], LABELS)
    assert result["n"] == 0 and result["accuracy"] is None and result["macro_f1"] is None
    assert metrics.expected_calibration_error([], []) is None
    assert metrics.bootstrap_interval(metrics.balanced_accuracy_of, [], []) is None
    binary = metrics.binary([], [], [])
    assert binary["n"] == 0 and binary["roc_auc"] is None and binary["balanced_accuracy"] is None


def test_binary_and_auc_by_hand():
    gold = [True, True, False, False]
    score = [0.9, 0.4, 0.6, 0.1]
    # pairs (pos, neg): (0.9,0.6) yes, (0.9,0.1) yes, (0.4,0.6) no, (0.4,0.1) yes -> 3/4
    assert metrics.roc_auc(gold, score) == 0.75
    result = metrics.binary(gold, [s >= 0.5 for s in score], score)
    assert result["accuracy"] == 0.5 and result["positives"] == 2
    assert result["precision_supported"] == 0.5 and result["recall_supported"] == 0.5
    # flagged (not supported): predicted for 0.4 and 0.1; only 0.1 is a gold negative
    assert result["precision_not_supported"] == 0.5 and result["recall_not_supported"] == 0.5
    flag_all = metrics.binary(gold, [False] * 4, score)
    assert flag_all["precision_not_supported"] == 0.5 and flag_all["recall_not_supported"] == 1.0


def test_expected_calibration_error_by_hand():
    # bin [0.2, 0.3): mean 0.25, 0 of 2 positive -> |0 - 0.25| * 2/4
    # bin [0.8, 0.9): mean 0.85, 2 of 2 positive -> |1 - 0.85| * 2/4
    ece = metrics.expected_calibration_error([False, False, True, True], [0.2, 0.3 - 1e-9, 0.8, 0.9 - 1e-9])
    assert ece == pytest.approx(0.5 * 0.25 + 0.5 * 0.15, abs=1e-4)
    assert metrics.expected_calibration_error([True], [1.0]) == 0.0  # 1.0 falls in the last bin
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([True], [1.5])


def test_token_prf_by_hand():
    result = metrics.token_prf([True, True, False, False], [True, False, True, False])
    assert (result["precision"], result["recall"], result["f1"]) == (0.5, 0.5, 0.5)
    nothing = metrics.token_prf([True, False], [False, False])
    assert nothing["precision"] is None and nothing["recall"] == 0.0


def test_bootstrap_is_deterministic_and_brackets_the_value():
    rng = np.random.default_rng(1)
    gold = rng.random(200) < 0.5
    predicted = np.where(rng.random(200) < 0.8, gold, ~gold)
    first = metrics.bootstrap_interval(metrics.balanced_accuracy_of, gold, predicted, resamples=200)
    again = metrics.bootstrap_interval(metrics.balanced_accuracy_of, gold, predicted, resamples=200)
    assert first == again
    value = metrics.balanced_accuracy_of(gold, predicted)
    assert first[0] <= value <= first[1]


def test_inputs_are_checked_with_expected_and_received():
    with pytest.raises(ValueError, match=r"equal lengths.*'gold': 2.*'predicted': 1"):
        metrics.classification(["supported", "supported"], ["supported"], LABELS)
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['maybe'\]; expected only"):
        metrics.classification(["maybe"], ["supported"], LABELS)


def test_contradiction_counts_what_is_called_contradicted():
    from nli_check.evaluation.metrics import contradiction

    result = contradiction(gold=["contradicted", "contradicted", "supported", "supported", "unsupported"],
                           predicted=["contradicted", "unsupported", "contradicted", "supported", "contradicted"])
    assert (result["precision"], result["recall"], result["false_contradiction_rate"]) == (0.3333, 0.5, 0.5)
    assert result["f1"] == 0.4 and result["predicted_contradicted"] == 3
    none_said = contradiction(gold=["contradicted", "supported"], predicted=["unsupported", "supported"])
    assert none_said["precision"] is None and none_said["recall"] == 0.0 and none_said["false_contradiction_rate"] == 0.0
