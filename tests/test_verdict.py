"""The learned verdict: features, the stored head, fitting it, and the checker deciding with it.
Unit tests: tiny random models, a head fitted on a few pairs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from nli_check.datasets.claim_pairs import ClaimPair
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, VERDICTS
from nli_check.pipeline.features import FEATURE_NAMES, ClaimWord, FeatureMaker, evidence_chunk
from nli_check.pipeline.pair import Candidate, TokenVectors
from nli_check.pipeline.segment import Sentence
from nli_check.pipeline.verdict import HEAD_FILE, WORD_FEATURE_NAMES, LinearModel, VerdictHead, supported_margin
from nli_check.training import verdict as fitting


def _sentences(texts: list[str]) -> list[Sentence]:
    found, start = [], 0
    for text in texts:
        found.append(Sentence(text, start, start + len(text)))
        start += len(text) + 1
    return found


def _candidate(sentences, first, last, similarity=0.8, source=0) -> Candidate:
    return Candidate(source, first, last, " ".join(s.text for s in sentences[first:last + 1]),
                     sentences[first].start, sentences[last].end, similarity)


def test_evidence_chunk_keeps_document_order_and_the_word_budget():
    sentences = _sentences([f"Sentence {i} has five words." for i in range(10)])
    candidates = [_candidate(sentences, 6, 6), _candidate(sentences, 2, 2)]
    chunk = evidence_chunk(candidates, [sentences], max_words=15)
    # Both hits, in document order, and one neighbour: a fourth sentence would pass 15 words.
    assert chunk.index("Sentence 2") < chunk.index("Sentence 6")
    assert len(chunk.split()) == 15


def test_evidence_chunk_keeps_one_long_hit_whole():
    sentences = _sentences(["word " * 40 + "end.", "Short one."])
    assert evidence_chunk([_candidate(sentences, 0, 0)], [sentences], max_words=10).startswith("word word")


def _tokens(text: str, vectors: dict[str, np.ndarray], default: tuple[float, ...]) -> TokenVectors:
    """One token per word, with the vector given for it (else ``default``)."""
    import re

    spans = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    rows = [vectors.get(text[a:b].lower(), np.array(default)) for a, b in spans]
    return TokenVectors(np.array(rows, dtype=np.float32), np.array(spans))


def test_features_count_words_numbers_and_soft_matches():
    maker = FeatureMaker(lambda word: word.lower())
    claim = "Officials approved 12 permits and tacitly endorsed it"
    sentences = _sentences(["Officials gave permission for 10 permits."])
    candidates = [_candidate(sentences, 0, 0, similarity=0.7)]
    rows = np.array([[0.2, 0.5, 0.3]])
    same = {"officials": np.array([1.0, 0.0, 0.0]), "permits": np.array([0.0, 1.0, 0.0])}
    near = np.array([0.0, 0.96, 0.28])  # "approved" near "permission" in the toy space
    claim_tokens = _tokens(claim, {**same, "approved": near}, (0.0, 0.0, 1.0))
    chunk_tokens = _tokens(sentences[0].text, {**same, "permission": np.array([0.0, 1.0, 0.0])}, (0.0, -1.0, 0.0))
    found = maker.features(claim, candidates, rows, np.array([0.1, 0.6, 0.3]), sentences[0].text,
                           maker.stems(sentences[0].text), sentences[0].text, claim_tokens, chunk_tokens)
    values = dict(zip(FEATURE_NAMES, found.vector))
    assert len(found.vector) == len(FEATURE_NAMES)
    assert values["entail_max"] == pytest.approx(0.2) and values["contradict_max"] == pytest.approx(0.3)
    assert values["numbers_missing"] == 1.0  # "12" is nowhere in the source
    words = {claim[w.start:w.end]: w for w in found.words}
    assert set(words) == {"Officials", "approved", "12", "permits", "tacitly", "endorsed"}
    assert words["permits"].in_chunk and not words["tacitly"].in_chunk
    assert words["permits"].soft == pytest.approx(1.0)
    assert words["approved"].soft > 0.9 > words["tacitly"].soft
    assert values["words_in_chunk"] == pytest.approx(2 / 6)


def _head(threshold=0.5, max_words=2) -> VerdictHead:
    verdict = LinearModel(np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)),
                          np.zeros((3, len(FEATURE_NAMES))), np.array([0.0, 0.0, 1.0]))
    # Word score rises as the soft match falls.
    coef = np.zeros((1, len(WORD_FEATURE_NAMES)))
    coef[0, 0] = -10.0
    words = LinearModel(np.zeros(len(WORD_FEATURE_NAMES)), np.ones(len(WORD_FEATURE_NAMES)), coef, np.array([5.0]))
    return VerdictHead(verdict, words, threshold, max_words, {"note": "test"})


def test_head_round_trips_through_json_and_refuses_another_feature_list(tmp_path):
    head = _head()
    head.save(tmp_path)
    loaded = VerdictHead.load(tmp_path)
    x = np.random.default_rng(0).normal(size=(4, len(FEATURE_NAMES)))
    assert np.allclose(loaded.probabilities(x), head.probabilities(x))
    assert np.allclose(loaded.probabilities(x).sum(axis=1), 1.0)
    assert loaded.decide(x[0])[0] == UNSUPPORTED and len(loaded.digest) == 12
    data = json.loads((tmp_path / HEAD_FILE).read_text())
    data["features"] = data["features"][:-1]
    (tmp_path / HEAD_FILE).write_text(json.dumps(data))
    with pytest.raises(InputError, match="features"):
        VerdictHead.load(tmp_path)
    assert VerdictHead.load(tmp_path / "elsewhere") is None


def test_contradicted_needs_the_nli_model_to_see_a_contradiction():
    # A head that prefers contradicted, then supported: its first choice stands only where
    # the NLI model's best p(contradiction), over the candidates or the chunk, reaches the floor.
    verdict = LinearModel(np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)),
                          np.zeros((3, len(FEATURE_NAMES))), np.array([1.0, 2.0, 0.0]))
    head = _head()
    head = VerdictHead(verdict, head.words, head.word_threshold, head.max_marked_words, head.trained_on)
    x = np.zeros(len(FEATURE_NAMES))
    x[FEATURE_NAMES.index("contradict_max")] = 0.3
    assert head.decide(x)[0] == CONTRADICTED
    assert head.decide(x, contradiction_floor=0.6)[0] == SUPPORTED
    label, shares = head.decide(x, contradiction_floor=0.6)
    assert np.argmax(shares) == VERDICTS.index(CONTRADICTED)  # the probabilities stay the head's
    x[FEATURE_NAMES.index("chunk_contradict")] = 0.7
    assert head.decide(x, contradiction_floor=0.6)[0] == CONTRADICTED
    assert fitting.head_label(verdict, x, contradiction_floor=0.8) == SUPPORTED


def test_supported_margin_is_the_gap_to_the_likeliest_verdict_the_floor_allows():
    shares = np.array([0.4, 0.45, 0.15])  # supported, contradicted, unsupported
    x = np.zeros(len(FEATURE_NAMES))
    x[FEATURE_NAMES.index("contradict_max")] = 0.3
    assert supported_margin(shares, x, None) == pytest.approx(0.05)
    assert supported_margin(shares, x, 0.2) == pytest.approx(0.05)
    assert supported_margin(shares, x, 0.6) == pytest.approx(0.25)  # contradicted out of reach


def test_marking_keeps_the_lowest_matches_above_the_threshold_and_bounds_them():
    words = [ClaimWord(10 * i, 10 * i + 3, soft, False, False, False, False) for i, soft in enumerate((0.9, 0.1, 0.2, 0.3))]
    marked = _head(threshold=0.5, max_words=2).mark(words)
    assert [m.start for m in marked] == [10, 20]  # the two worst matches, in claim order
    assert all(m.score >= 0.5 for m in marked)
    assert [m.start for m in _head(threshold=0.5, max_words=5).mark(words)] == [10, 20, 30]
    assert _head(threshold=0.999).mark(words) == []


def test_sample_pairs_caps_each_set_and_verdict():
    pairs = [ClaimPair(f"claim {i}", "chunk", label, dataset, "gold")
             for dataset in ("a", "b") for label in (SUPPORTED, UNSUPPORTED) for i in range(10)]
    sample = fitting.sample_pairs(pairs, per_label=3)
    counts = {(d, str(lab)): sum(p.dataset == d and p.label == lab for p in sample)
              for d in ("a", "b") for lab in (SUPPORTED, UNSUPPORTED)}
    assert set(counts.values()) == {3}
    assert fitting.sample_pairs(pairs, per_label=3) == sample  # reproducible


def _pairs() -> list[ClaimPair]:
    chunk = ("The ministry approved the new school in March. The building opens next year. "
             "Teachers were hired from the region.")
    return [
        ClaimPair("The ministry approved the new school in March.", chunk, SUPPORTED, "a", "gold"),
        ClaimPair("The ministry approved the new school in May.", chunk, CONTRADICTED, "a", "swap_date", ((40, 43),)),
        ClaimPair("The ministry secretly approved the school.", chunk, UNSUPPORTED, "b", "embellish", ((13, 21),)),
        ClaimPair("Teachers were hired from the region.", chunk, SUPPORTED, "b", "gold"),
        ClaimPair("Teachers were not hired from the region.", chunk, CONTRADICTED, "b", "swap_negation", ((14, 17),)),
        ClaimPair("Parents protested loudly against the plan.", chunk, UNSUPPORTED, "a", "no_evidence_chunk"),
    ]


def test_features_are_computed_in_pieces_that_a_rerun_reads_back(tiny_checker, tmp_path, monkeypatch):
    monkeypatch.setattr(fitting, "PIECE", 4)
    table = fitting.compute_features(tiny_checker, _pairs(), workdir=tmp_path)
    assert table.features.shape[1] == len(FEATURE_NAMES) and len(table.labels) == len(table.datasets)
    assert 0 < len(table.labels) <= 6
    assert len(list(tmp_path.glob("piece-*.npz"))) == 2
    assert set(table.word_labels.tolist()) <= {0, 1} and table.word_labels.sum() >= 1
    assert set(table.rules.tolist()) <= {p.rule for p in _pairs()} and len(table.rules) == len(table.labels)

    def refuse(*args, **kwargs):
        raise AssertionError("a saved piece was computed again")

    monkeypatch.setattr(fitting, "_features_of", refuse)
    again = fitting.compute_features(tiny_checker, _pairs(), workdir=tmp_path)
    assert np.array_equal(again.features, table.features)


@pytest.fixture(scope="module")
def head_model(tiny_checker, tiny_nli_model, tmp_path_factory):
    """A copy of the tiny NLI model with a head fitted on the toy pairs."""
    table = fitting.compute_features(tiny_checker, _pairs() * 2, workdir=tmp_path_factory.mktemp("pieces"))
    folder = tmp_path_factory.mktemp("with-head") / "model"
    shutil.copytree(tiny_nli_model, folder)
    fitting.fit_head(table, trained_on={"test": True}).save(folder)
    return folder


def test_checker_decides_with_the_stored_head(head_model, tiny_embedding_model):
    from nli_check import Checker
    from nli_check.config import Settings

    assert Checker(model=head_model, embedding_model=str(tiny_embedding_model)).head is not None  # the default
    checker = Checker(model=head_model, embedding_model=str(tiny_embedding_model), settings=Settings(learned_verdict=True))
    assert checker.head is not None
    thresholds = Checker(model=head_model, embedding_model=str(tiny_embedding_model),
                         settings=Settings(learned_verdict=False))
    assert thresholds.head is None
    report = checker.check("The ministry approved the new school. Teachers came from far away.",
                           ["The ministry approved the new school in March. Teachers were hired from the region."])
    data = report.to_dict()
    assert data["schema_version"] == "1.7" and "features" not in data["claims"][0]
    for claim in report.claims:
        if claim.scores is not None:
            shares = [claim.scores.supported, claim.scores.contradicted, claim.scores.unsupported]
            assert sum(shares) == pytest.approx(1.0, abs=1e-3)
            first = VERDICTS[int(np.argmax(shares))]
            # The head's first choice, unless it is contradicted and the NLI model sees none.
            assert claim.label == first or (first == CONTRADICTED and "not contradicted" in claim.reason)
            assert claim.reason.startswith("learned verdict")
    without = checker.with_settings(learned_verdict=False)
    assert without.head is None
    assert all(c.scores is None for c in without.check("The ministry approved it.", ["The ministry approved it."]).claims)


def test_batch_and_check_agree_with_a_head(head_model, tiny_embedding_model):
    from nli_check import Checker
    from nli_check.config import Settings
    from nli_check.batch.chunks import BatchChecker
    from nli_check.batch.corpus import Article

    checker = Checker(model=head_model, embedding_model=str(tiny_embedding_model), settings=Settings(learned_verdict=True))
    rows = [Article(line=i + 1, id=str(i), text=text, sources=[source], source_names=["s"], article_format="text",
                    source_formats=["text"])
            for i, (text, source) in enumerate([("The school opened in March.", "The school opened in March."),
                                                ("Teachers were hired.", "Teachers came from the region.")])]
    results = BatchChecker(checker).check_chunk(rows)
    for row, (kind, output) in zip(rows, results):
        assert kind == "row"
        expected = checker.check(row.text, row.sources, source_names=["s"]).to_dict()
        assert [c["label"] for c in output["claims"]] == [c["label"] for c in expected["claims"]]
        assert [c["scores"] for c in output["claims"]] == [c["scores"] for c in expected["claims"]]


def test_fit_needs_gold_spans_for_the_word_marking():
    table = fitting.FeatureTable(np.random.default_rng(0).normal(size=(6, len(FEATURE_NAMES))),
                                 np.array([0, 1, 2, 0, 1, 2]), np.array(["a"] * 6), np.zeros((0, 7)),
                                 np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    with pytest.raises(InputError, match="gold spans"):
        fitting.fit_head(table, trained_on={})


def test_fit_verdict_without_data_says_so_in_one_line(tmp_path, tiny_nli_model):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "nli_check", "fit-verdict", "--data", str(tmp_path / "none"),
                             "--model", str(tiny_nli_model), "--workdir", str(tmp_path / "work")],
                            capture_output=True, timeout=300)
    assert result.returncode == 2
    errors = [line for line in result.stderr.decode().splitlines() if line.startswith("nli-check: error")]
    assert errors == [f"nli-check: error: {tmp_path / 'none'}: no claim-level pairs (none of the evidence-marked "
                      "sets is there)"]
    assert not (tiny_nli_model / HEAD_FILE).exists()


def test_leave_one_out_drops_a_sets_whole_document_pairs_too(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    datasets = np.array(["check_covid"] * 30 + ["check_covid:document"] * 30 + ["wice"] * 30)
    table = fitting.FeatureTable(rng.normal(size=(90, len(FEATURE_NAMES))), np.arange(90) % 3, datasets,
                                 np.zeros((0, len(WORD_FEATURE_NAMES))), np.zeros(0, dtype=np.int64),
                                 np.zeros(0, dtype=np.int64))
    folder = tmp_path / "check-covid-dev" / "checker"
    folder.mkdir(parents=True)
    rows = [{"gold": str(VERDICTS[i % 3]), "sentences": [{"features": rng.normal(size=len(FEATURE_NAMES)).tolist()}]}
            for i in range(6)]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    fitted_on = []
    fit = fitting.fit_linear
    monkeypatch.setattr(fitting, "fit_linear", lambda x, y, **kw: fitted_on.append(len(y)) or fit(x, y, **kw))
    found = fitting.leave_one_out(table, tmp_path, thresholds=(0.5, 0.5))
    assert [row["dataset"] for row in found] == ["check-covid-dev"]
    assert fitted_on == [90, 30]  # all sets, then without check_covid's chunk and document pairs
