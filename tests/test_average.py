"""``nli-check average``: the weight average of fine-tuned runs (a model soup) loads as a
model and holds the mean of its parts' weights; mismatched parts are refused."""

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import _tiny_bert


@pytest.fixture
def two_runs(tmp_path):
    first = _tiny_bert(tmp_path / "first", num_labels=3)
    second = _tiny_bert(tmp_path / "second", num_labels=3)
    weights = load_file(str(second / "model.safetensors"))
    save_file({name: tensor + 1.0 if tensor.is_floating_point() else tensor for name, tensor in weights.items()},
              str(second / "model.safetensors"))
    return first, second


def test_average_holds_the_mean_and_loads_as_an_nli_model(tmp_path, two_runs):
    from nli_check.pipeline.infer import NLIModel

    first, second = two_runs
    output = tmp_path / "soup"
    result = subprocess.run([sys.executable, "-m", "nli_check", "average", first, second, "--output", output],
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    a, b = load_file(str(first / "model.safetensors")), load_file(str(second / "model.safetensors"))
    soup = load_file(str(output / "model.safetensors"))
    name = "classifier.weight"
    assert soup[name].dtype == torch.float16
    assert torch.allclose(soup[name].float(), (a[name] + b[name]) / 2, atol=2e-3)
    log = json.loads((output / "training_log.json").read_text())
    assert [part["model"] for part in log["averaged"]] == [str(first), str(second)]
    probabilities = NLIModel(output, precision="float32").predict([("A man sleeps.", "A man is awake.")])
    assert probabilities.shape == (1, 3) and abs(probabilities.sum() - 1) < 1e-4


def test_average_refuses_models_of_different_shapes(tmp_path, two_runs):
    from transformers import BertConfig, BertForSequenceClassification

    from nli_check.errors import InputError
    from nli_check.training.train import average_models

    first, _ = two_runs
    other = tmp_path / "wider"
    BertForSequenceClassification(BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                             num_attention_heads=2, intermediate_size=32,
                                             num_labels=3)).save_pretrained(other)
    with pytest.raises(InputError, match="do not match"):
        average_models([first, other], tmp_path / "out")
    with pytest.raises(InputError, match="at least two models"):
        average_models([first], tmp_path / "out")
    assert not (tmp_path / "out").exists()
