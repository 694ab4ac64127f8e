"""The CPU runtime: token-budget batches, OpenVINO against PyTorch, int8 export, the cache,
and how backend and precision are chosen and recorded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

PAIRS = [("The ministry allowed the use of the weapons in the Kharkiv region.", "The weapons were allowed."),
         ("A dog runs in the park.", "A cat sleeps."),
         ("Prices rose by 4 percent in March, the agency said.", "Prices fell."),
         ("Officials said the border would stay closed for two weeks while talks went on.", "The border is open.")]


@pytest.fixture(scope="module")
def sharp_nli_model(tiny_nli_model, tmp_path_factory) -> Path:
    """The tiny NLI model with its classifier scaled up, so pairs get clearly different
    probabilities (the random one gives every pair about 1/3 each)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path_factory.mktemp("sharp-nli")
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_nli_model))
    with torch.no_grad():
        model.classifier.weight.mul_(300.0)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_nli_model)).save_pretrained(folder)
    return folder


def test_token_budget_batches_hold_every_input_once_shortest_first():
    from nli_check.runtime.batching import token_budget_batches

    lengths = [50, 3, 200, 7, 7, 64, 1000, 12]
    batches = token_budget_batches(lengths, max_tokens=256, max_batch=3, pad_to_multiple_of=16)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    widths = [max(lengths[i] for i in batch) for batch in batches]
    assert widths == sorted(widths)
    for batch in batches:
        width = -(-max(lengths[i] for i in batch) // 16) * 16
        assert len(batch) <= 3 and (len(batch) * width <= 256 or len(batch) == 1), (batch, width)
    assert [6] in batches  # longer than the budget: a batch of its own, never cut
    with pytest.raises(ValueError, match="max_tokens and max_batch must be at least 1, got 0 and 4"):
        token_budget_batches(lengths, max_tokens=0, max_batch=4)


def test_openvino_float32_matches_pytorch(sharp_nli_model, tiny_embedding_model):
    from nli_check.pipeline.infer import NLIModel
    from nli_check.pipeline.pair import Embedder

    torch_nli = NLIModel(sharp_nli_model, precision="float32", backend="torch")
    openvino_nli = NLIModel(sharp_nli_model, precision="float32", backend="openvino")
    assert (torch_nli.backend, openvino_nli.backend) == ("torch", "openvino")
    expected, got = torch_nli.predict(PAIRS), openvino_nli.predict(PAIRS)
    assert np.ptp(expected, axis=0).max() > 1e-4  # the pairs differ (by more than the tolerance below)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)

    texts = [premise for premise, _ in PAIRS]
    torch_embedder = Embedder(str(tiny_embedding_model), precision="float32", backend="torch")
    openvino_embedder = Embedder(str(tiny_embedding_model), precision="float32", backend="openvino")
    np.testing.assert_allclose(openvino_embedder.encode(texts), torch_embedder.encode(texts), rtol=0, atol=1e-5)
    for a, b in zip(openvino_embedder.token_vectors(texts), torch_embedder.token_vectors(texts)):
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_allclose(a.vectors, b.vectors, rtol=0, atol=1e-5)


def test_int8_export_quantizes_all_but_the_feed_forward_outputs(sharp_nli_model, tmp_path):
    import openvino as ov

    from nli_check.pipeline.infer import NLIModel
    from nli_check.runtime.export import exported_model

    path = exported_model(sharp_nli_model, task="nli", int8=True, cache=tmp_path)
    model = ov.Core().read_model(str(path))
    quantized = {op.get_friendly_name() for op in model.get_ops() if op.get_type_name() == "FakeQuantize"}
    assert quantized, "no int8 operation in the exported IR"
    matmul_inputs = {op.get_friendly_name(): [port.get_source_output().get_node().get_type_name()
                                              for port in op.inputs()]
                     for op in model.get_ops() if op.get_type_name() == "MatMul"}
    ffn_out = [name for name in matmul_inputs if ".output.dense" in name and "attention" not in name]
    query = [name for name in matmul_inputs if "attention.self.query" in name]
    assert ffn_out and query
    assert all("FakeQuantize" not in matmul_inputs[name] for name in ffn_out)
    assert all("FakeQuantize" in matmul_inputs[name] for name in query)

    int8 = NLIModel(sharp_nli_model, precision="int8", backend="openvino")
    full = NLIModel(sharp_nli_model, precision="float32", backend="openvino")
    got, expected = int8.predict(PAIRS), full.predict(PAIRS)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
    assert 0 < np.abs(got - expected).max() < 0.1, np.abs(got - expected).max()
    # Static scales: a pair's probabilities do not depend on the other pairs in its batch.
    int8._cache.clear()
    alone = np.vstack([int8.predict([pair], batch_size=1) for pair in PAIRS])
    np.testing.assert_allclose(alone, got, rtol=0, atol=1e-4)


def test_exports_are_cached_and_redone_when_the_model_changes(tiny_nli_model, tmp_path):
    import shutil

    from nli_check.runtime.export import exported_model

    model = tmp_path / "model"
    shutil.copytree(tiny_nli_model, model)
    first = exported_model(model, task="nli", cache=tmp_path / "cache")
    stamp = first.stat().st_mtime_ns
    assert exported_model(model, task="nli", cache=tmp_path / "cache") == first
    assert first.stat().st_mtime_ns == stamp  # read from the cache, not exported again
    config = json.loads((model / "config.json").read_text())
    config["id2label"] = {"0": "entailment", "1": "neutral", "2": "contradiction"}
    (model / "config.json").write_text(json.dumps(config))
    assert exported_model(model, task="nli", cache=tmp_path / "cache") != first
    # Nothing half-written is left beside the exports.
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".export-")]


def test_backend_and_precision_are_resolved_and_refused_plainly(tiny_nli_model, tmp_path):
    from nli_check.config import int8_holds
    from nli_check.errors import InputError
    from nli_check.precision import native_cpu_bfloat16
    from nli_check.runtime.encoders import resolve_backend, resolve_runtime

    assert resolve_backend("auto", device="cpu", precision="float32") == "openvino"
    with pytest.raises(ValueError, match="unknown backend 'onnx'; expected one of auto, torch, openvino"):
        resolve_backend("onnx", device="cpu", precision="float32")
    with pytest.raises(InputError, match="int8 runs on the openvino backend"):
        resolve_backend("torch", device="cpu", precision="int8")
    with pytest.raises(InputError, match="the openvino backend runs on the CPU, not on device 'cuda'"):
        resolve_backend("openvino", device="cuda", precision="float32")
    native = native_cpu_bfloat16()
    assert resolve_runtime("auto", "auto", device="cpu") == ("openvino", "bfloat16" if native else "float32")
    # int8 only where the model's verdicts were measured to hold, and never in place of bfloat16.
    assert resolve_runtime("auto", "auto", device="cpu", int8_holds=True) == \
        ("openvino", "bfloat16" if native else "int8")
    assert resolve_runtime("torch", "auto", device="cpu", int8_holds=True)[1] in ("bfloat16", "float32")
    assert resolve_runtime("openvino", "float32", device="cpu", int8_holds=True) == ("openvino", "float32")
    assert not int8_holds(tiny_nli_model) and not int8_holds(tmp_path / "missing")
    (tmp_path / "nli_check.json").write_text(json.dumps({"settings": {}, "int8": {"holds": True}}))
    assert int8_holds(tmp_path)


def test_the_report_says_how_the_models_ran(tiny_nli_model, tiny_embedding_model):
    import jsonschema

    from nli_check import Checker
    from nli_check.config import Settings

    checker = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model), precision="float32",
                      backend="torch", settings=Settings(conflicts=False))
    report = checker.check("The ministry allowed the weapons. Prices fell.", ["The ministry allowed the weapons."])
    data = report.to_dict()
    assert data["runtime"] == {"backend": "torch", "precision": "float32"}
    schema = json.loads((Path(__file__).parents[1] / "nli_check" / "schema" / "report.schema.json").read_text())
    jsonschema.validate(data, schema)
    data["runtime"]["backend"] = "onnx"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


@pytest.mark.integration
def test_the_shipped_models_give_the_seeds_the_same_verdicts_on_both_backends():
    from conftest import SEEDS

    from nli_check import Checker

    article = (SEEDS / "article.txt").read_text(encoding="utf-8")
    source = (SEEDS / "source.txt").read_text(encoding="utf-8")
    reports = {backend: Checker(backend=backend, precision="float32").check(article, [source])
               for backend in ("torch", "openvino")}
    torch_report, openvino_report = reports["torch"], reports["openvino"]
    assert [c.label for c in openvino_report.claims] == [c.label for c in torch_report.claims]
    for ours, theirs in zip(openvino_report.claims, torch_report.claims):
        assert [(e.source, e.text) for e in ours.evidence] == [(e.source, e.text) for e in theirs.evidence]
        assert [s.text for s in ours.unsupported_spans] == [s.text for s in theirs.unsupported_spans]


def test_exporting_sends_no_usage_statistics(tiny_nli_model, tmp_path):
    import subprocess
    import sys

    # OpenVINO's converter and NNCF write a client id and a usage count under ~/intel when
    # they would send events; an export in a fresh home folder must leave none.
    code = ("import sys; from pathlib import Path; from nli_check.runtime.export import exported_model; "
            "exported_model(Path(sys.argv[1]), task='nli', int8=True, cache=Path(sys.argv[2]))")
    result = subprocess.run([sys.executable, "-c", code, str(tiny_nli_model), str(tmp_path / "cache")],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, HOME=str(tmp_path), CI="false"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "cache").glob("*/model.xml"))
    assert not (tmp_path / "intel").exists()
