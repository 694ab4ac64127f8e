"""Dataset readers, label mapping and embellishment generation."""

import random

import pytest

from nli_check.datasets import augment, nli_pairs
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL, NLI_LABELS


def test_missing_data_file_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"snli/train_100k.jsonl: data file not found"):
        nli_pairs.snli(tmp_path, "train")


def test_unreadable_row_names_file_and_line(tmp_path):
    (tmp_path / "snli").mkdir()
    good = '{"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": "entailment"}\n'
    (tmp_path / "snli" / "test.jsonl").write_text(good + "{not json\n")
    with pytest.raises(InputError, match=r"test.jsonl:2: not valid JSON"):
        nli_pairs.snli(tmp_path, "test")


def test_unknown_label_names_the_accepted_ones(tmp_path):
    (tmp_path / "snli").mkdir()
    (tmp_path / "snli" / "test.jsonl").write_text('{"premise": "a b", "hypothesis": "c d", "label": "maybe"}\n')
    with pytest.raises(InputError, match=r"test.jsonl:1: unknown label 'maybe'.*contradiction"):
        nli_pairs.snli(tmp_path, "test")


def test_tsv_row_with_missing_column(tmp_path):
    (tmp_path / "glue_rte").mkdir()
    (tmp_path / "glue_rte" / "train.tsv").write_text("sentence1\tsentence2\tlabel\tidx\nA\tB\t0\t0\nonly one\n")
    with pytest.raises(InputError, match=r"train.tsv:3: row has the wrong number of columns"):
        nli_pairs.glue_rte(tmp_path, "train")


def test_every_label_map_targets_the_three_nli_labels():
    for name, mapping in nli_pairs.LABEL_MAPS.items():
        assert set(mapping.values()) <= set(NLI_LABELS), name


def test_embellishment_adds_words_absent_from_the_premise():
    pair = nli_pairs.Pair("The ministry said Russia is deploying 300 new weapons.",
                     "Russia is deploying 300 new weapons.", ENTAILMENT, "test")
    rng = random.Random(0)
    made = [augment.add_unsupported(pair, rng) for _ in range(40)]
    made = [m for m in made if m]
    assert made and all(m.label == NEUTRAL and m.hypothesis != pair.hypothesis for m in made)
    flipped = [augment.flip(pair, random.Random(i)) for i in range(20)]
    flipped = [f for f in flipped if f]
    assert flipped and all(f.label == CONTRADICTION and f.hypothesis != pair.hypothesis for f in flipped)


def test_training_mixes_name_their_caps_and_refuse_unknown_ones():
    from nli_check.config import TRAIN_MIXES
    from nli_check.training.train import TrainConfig

    assert TrainConfig().caps == TRAIN_MIXES["default"]
    claims, default = TrainConfig(mix="claims").caps, TRAIN_MIXES["default"]
    assert claims.keys() == default.keys()
    assert claims["wice"] == default["wice"] and claims["snli"] < default["snli"]
    full = TrainConfig(mix="full").caps
    assert full.keys() == default.keys() and full["wice"] == default["wice"] and full["snli"] > default["snli"]
    with pytest.raises(ValueError, match="expected one of default, claims, full"):
        TrainConfig(mix="everything")


def test_training_precision_is_checked_and_resolved():
    from nli_check.precision import resolve_precision
    from nli_check.training.train import TrainConfig

    assert TrainConfig().precision == "auto"
    assert resolve_precision(TrainConfig(precision="float32").precision, "cpu") == "float32"
    with pytest.raises(ValueError, match="expected one of auto, float32, bfloat16"):
        TrainConfig(precision="int8")
