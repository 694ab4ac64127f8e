"""The pipeline end to end with tiny random models: structure, offsets and costs, not
verdict quality (that is tests/test_seeds.py, with the shipped model)."""

import json
from importlib import resources

import jsonschema
import numpy as np
import pytest

from nli_check import InputError
from nli_check.config import Settings

ARTICLE = "The ministry said Russia is deploying new weapons.\nIt also said troops were added.\nBananas are yellow."
SOURCE = "The ministry said that Russia is deploying newly developed weapons. It is increasing troop numbers."


def schema():
    return json.loads(resources.files("nli_check.schema").joinpath("report.schema.json").read_text())


def test_report_follows_the_json_schema_and_offsets(tiny_checker):
    report = tiny_checker.check(ARTICLE, [SOURCE])
    data = report.to_dict()
    jsonschema.validate(data, schema())
    assert [c["index"] for c in data["claims"]] == [0, 1, 2]
    for claim in data["claims"]:
        assert ARTICLE[claim["start"]:claim["end"]] == claim["text"]
        for evidence in claim["evidence"]:
            covered = SOURCE[evidence["start"]:evidence["end"]]
            assert all(part in covered for part in evidence["text"].split(" … "))
            assert covered.startswith(evidence["text"].split(" … ")[0])
        for span in claim["unsupported_spans"]:
            assert ARTICLE[span["start"]:span["end"]] == span["text"]
            assert claim["start"] <= span["start"] < span["end"] <= claim["end"]
    assert sum(data["summary"].values()) == 3


def test_claim_below_the_similarity_floor_costs_no_nli(tiny_checker):
    settings = tiny_checker.settings
    try:
        tiny_checker.settings = settings.with_overrides(similarity_floor=1.01)
        report = tiny_checker.check(ARTICLE, [SOURCE + " Unrelated words."])
    finally:
        tiny_checker.settings = settings
    assert report.nli_pairs == 0
    assert {c.label for c in report.claims} == {"unsupported"}
    assert {c.reason for c in report.claims} == {"no matching source statement"}
    assert all(c.evidence == [] for c in report.claims)


def test_nli_pairs_grow_with_claims_not_with_source_length(tiny_checker):
    settings = tiny_checker.settings
    tiny_checker.settings = settings.with_overrides(similarity_floor=-1.0, explain=False)
    try:
        tiny_checker.nli._cache.clear()
        short = tiny_checker.check(ARTICLE, [SOURCE]).nli_pairs
        long_source = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(400))
        tiny_checker.nli._cache.clear()
        long = tiny_checker.check(ARTICLE, [long_source]).nli_pairs
    finally:
        tiny_checker.settings = settings
    claims, k = 3, settings.top_k
    # each hit alone and with a neighbour, plus the two best hits joined
    assert 0 < short <= claims * (2 * k + 1) and 0 < long <= claims * (2 * k + 1)


def test_several_sources_are_named_in_the_evidence(tiny_checker):
    report = tiny_checker.check(ARTICLE, [SOURCE, "Bananas are yellow fruit."], source_names=["a.txt", "b.txt"])
    assert report.sources == ["a.txt", "b.txt"]
    named = {e.source for c in report.claims for e in c.evidence}
    assert named <= {"a.txt", "b.txt"} and named
    for claim in report.claims:
        assert claim.decided_by in (None, "a.txt", "b.txt")
        assert (claim.decided_by is None) == (claim.label == "unsupported")


def test_identical_pairs_are_scored_once(tiny_checker):
    tiny_checker.nli._cache.clear()
    first = tiny_checker.check(ARTICLE, [SOURCE])
    again = tiny_checker.check(ARTICLE, [SOURCE])
    assert first.nli_pairs > 0
    assert again.nli_pairs == 0
    assert [c.label for c in first.claims] == [c.label for c in again.claims]


class Recording:
    """Wraps a model's encoder: keeps the input widths and batch sizes it was called with."""

    def __init__(self, encoder) -> None:
        self.encoder, self.shapes = encoder, []
        self.input_names = encoder.input_names

    def __call__(self, features):
        self.shapes.append(features["input_ids"].shape)
        return self.encoder(features)


def test_nli_batches_pairs_by_token_length_under_a_token_budget(tiny_nli_model):
    from nli_check.pipeline.infer import NLIModel

    nli = NLIModel(tiny_nli_model, precision="float32", pad_to_multiple_of=1)
    # Character length and token length disagree here: few long words vs many short ones.
    pairs = [(" ".join(["a"] * n), "b c") for n in (40, 3, 25, 8)] + [("x" * 60, "y" * 30), ("z" * 90, "w")]
    lengths = sorted(nli._token_lengths(pairs))
    nli.encoder = recording = Recording(nli.encoder)
    together = nli.predict(pairs, batch_size=2, cache=None)
    assert [rows for rows, _ in recording.shapes] == [2, 2, 2]
    # Shortest first, each batch as wide as its longest pair.
    assert [width for _, width in recording.shapes] == lengths[1::2]
    recording.shapes.clear()
    nli._cache.clear()
    nli.predict(pairs, batch_size=8, max_tokens=2 * lengths[-1], cache=None)
    assert all(rows * width <= 2 * lengths[-1] for rows, width in recording.shapes), recording.shapes
    assert sum(rows for rows, _ in recording.shapes) == len(pairs) and len(recording.shapes) > 1
    nli._cache.clear()
    one_by_one = [nli.predict([pair], cache=None)[0] for pair in pairs]
    # Rows come back in input order (the tiny model's rows differ from pair to pair).
    assert np.ptp(np.asarray(one_by_one), axis=0).max() > 1e-6
    np.testing.assert_allclose(together, one_by_one, rtol=0, atol=1e-6)


def assert_padded_alike(runs: dict) -> None:
    """``runs[multiple]`` = (input widths the model saw, outputs): padded to 16, each width
    is the next multiple of 16, and the outputs match the unpadded ones (padding is masked)."""
    (unpadded, plain_outputs), (padded, padded_outputs) = runs[1], runs[16]
    assert any(width % 16 for width in unpadded), unpadded  # the test would not see the padding otherwise
    assert all(width % 16 == 0 and width - 16 < plain for width, plain in zip(padded, unpadded)), (padded, unpadded)
    np.testing.assert_allclose(padded_outputs, plain_outputs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_nli_pads_batches_to_a_multiple_of_16_tokens(tiny_nli_model, backend):
    from nli_check.pipeline.infer import NLIModel

    pairs = [(" ".join(["a"] * n), "b c") for n in (3, 20, 40)]
    widths = {}
    for multiple in (1, 16):
        nli = NLIModel(tiny_nli_model, precision="float32", backend=backend, pad_to_multiple_of=multiple)
        nli.encoder = recording = Recording(nli.encoder)
        probabilities = nli.predict(pairs, batch_size=1, cache=None)
        widths[multiple] = ([width for _, width in recording.shapes], probabilities)
    assert_padded_alike(widths)
    with pytest.raises(ValueError, match="pad_to_multiple_of must be at least 1, got 0"):
        NLIModel(tiny_nli_model, pad_to_multiple_of=0)


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_embedder_pads_inputs_to_a_multiple_of_16_tokens(tiny_embedding_model, backend):
    from nli_check.pipeline.pair import Embedder

    texts = [" ".join(["word"] * n) for n in (3, 20, 40)]
    runs = {}
    for multiple in (1, 16):
        embedder = Embedder(tiny_embedding_model, precision="float32", backend=backend, pad_to_multiple_of=multiple)
        embedder.encoder = recording = Recording(embedder.encoder)
        vectors = np.stack([embedder.encode([text])[0] for text in texts])
        runs[multiple] = ([width for _, width in recording.shapes], vectors)
    assert_padded_alike(runs)  # mean pooling skips the padding
    with pytest.raises(ValueError, match="pad_to_multiple_of must be at least 1, got 0"):
        Embedder(tiny_embedding_model, pad_to_multiple_of=0)


def test_one_pass_gives_a_text_its_sentence_and_token_vectors(tiny_embedding_model):
    from nli_check.pipeline.pair import Embedder

    embedder = Embedder(tiny_embedding_model, precision="float32")
    embedder.encoder = recording = Recording(embedder.encoder)
    texts = ["The ministry allowed the use of the weapons.", "Prices rose by four percent."]
    vectors = embedder.encode(texts)
    calls = len(recording.shapes)
    tokens = embedder.token_vectors(texts)
    assert len(recording.shapes) == calls  # the token vectors came from the same pass
    # The sentence vector is the mean of the (unnormalised) token vectors: its direction
    # agrees with the mean of the unit token vectors closely on a tiny random model.
    for vector, token in zip(vectors, tokens):
        assert token.vectors.shape[0] == len(token.offsets) > 3
        assert float(vector @ token.vectors.mean(axis=0)) > 0
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("article,sources,message", [
    ("", [SOURCE], "article: no sentence"),
    ("   \n  ", [SOURCE], "article: no sentence"),
    (ARTICLE, [], "no source given"),
    (ARTICLE, ["<p></p>"], "source 1: no sentence"),
])
def test_unusable_input_raises_input_error(tiny_checker, article, sources, message):
    formats = ["html"] * len(sources)
    with pytest.raises(InputError, match=message):
        tiny_checker.check(article, sources, source_formats=formats)


def test_settings_reject_unknown_names():
    with pytest.raises(ValueError, match="unknown setting"):
        Settings().with_overrides(top_kk=3)


def test_explicit_settings_win_over_the_models_stored_ones(tiny_nli_model, tiny_embedding_model, tmp_path):
    import shutil

    from nli_check import Checker

    model = tmp_path / "model"
    shutil.copytree(tiny_nli_model, model)
    (model / "nli_check.json").write_text(json.dumps(
        {"settings": {"entailment_threshold": 0.34, "contradiction_threshold": 0.61, "similarity_floor": 0.3}}))
    # 0.5 is also the fallback: an explicit value equal to it must still win over the stored 0.34
    given = Checker(model=model, embedding_model=str(tiny_embedding_model),
                    settings=Settings(entailment_threshold=0.5, similarity_floor=0.25))
    assert (given.settings.entailment_threshold, given.settings.similarity_floor) == (0.5, 0.25)
    assert given.settings.contradiction_threshold == 0.61  # not given: the model's
    stored = Checker(model=model, embedding_model=str(tiny_embedding_model))
    assert (stored.settings.entailment_threshold, stored.settings.contradiction_threshold) == (0.34, 0.61)
    assert Settings().for_model({}).entailment_threshold == 0.5  # a model that stores none: the fallback
