"""bfloat16 inference: the weights really change, the outputs stay close, unknown values are refused."""

from __future__ import annotations

import numpy as np
import pytest

PAIRS = [("The ministry allowed the use of the weapons.", "The weapons were allowed."),
         ("A dog runs in the park.", "A cat sleeps."),
         ("Prices rose by 4 percent in March, the agency said.", "Prices fell.")]


def test_bfloat16_casts_the_models_and_stays_close_to_float32(tiny_nli_model, tiny_embedding_model):
    import torch

    from nli_check.pipeline.infer import NLIModel
    from nli_check.pipeline.pair import Embedder

    full = NLIModel(tiny_nli_model, precision="float32", backend="torch")
    half = NLIModel(tiny_nli_model, precision="bfloat16", backend="torch")
    assert half.precision == "bfloat16" and full.precision == "float32"
    assert {p.dtype for p in half.encoder.module.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in full.encoder.module.parameters()} == {torch.float32}
    expected, got = full.predict(PAIRS), half.predict(PAIRS)
    assert got.dtype == np.float64 and np.allclose(got.sum(axis=1), 1.0)
    assert np.abs(got - expected).max() < 0.02

    texts = [premise for premise, _ in PAIRS]
    vectors = Embedder(str(tiny_embedding_model), precision="bfloat16").encode(texts)
    reference = Embedder(str(tiny_embedding_model), precision="float32").encode(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert (vectors * reference).sum(axis=1).min() > 0.99  # cosine to the float32 vectors


def test_bfloat16_scores_do_not_depend_on_the_other_pairs_in_a_batch(tiny_nli_model):
    from nli_check.pipeline.infer import NLIModel

    model = NLIModel(tiny_nli_model, precision="bfloat16")
    together = model.predict(PAIRS, batch_size=32)
    model._cache.clear()
    alone = np.vstack([model.predict([pair], batch_size=1) for pair in PAIRS])
    assert np.abs(together - alone).max() < 0.01


def test_auto_resolves_to_what_the_hardware_computes_natively():
    from nli_check.precision import native_cpu_bfloat16, resolve_precision

    assert resolve_precision("auto", "cpu") == ("bfloat16" if native_cpu_bfloat16() else "float32")
    assert resolve_precision("float32", "cpu") == "float32"
    assert resolve_precision("int8", "cpu") == "int8"
    with pytest.raises(ValueError, match="expected one of auto, float32, bfloat16, int8"):
        resolve_precision("float16", "cpu")
