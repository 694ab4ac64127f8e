"""The word marking (nli_check/pipeline/mark.py): candidates, ablation gains, phrases, the
word head's file, and the checker marking by it without changing any verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, UNSUPPORTED
from nli_check.pipeline.explain import WORD
from nli_check.pipeline.features import ClaimWord
from nli_check.pipeline.mark import (CLOSE_SOFT, MARK_FEATURE_NAMES, WORD_HEAD_FILE, WordHead, ablation_gains,
                                     candidate_words, mark_features, plan_marks, units)
from nli_check.pipeline.verdict import LinearModel

CLAIM = "Notably, the ministry had consistently tracked the flow and tacitly endorsed its use."


def _words(claim: str, supported: dict[str, float]) -> list[ClaimWord]:
    """Every content word of ``claim``: a word in ``supported`` has a stem match (in the chunk)
    with that soft score; any other word none, with soft 0.2."""
    from nli_check.pipeline.explain import STOPWORDS

    words = []
    for match in WORD.finditer(claim):
        word = match.group()
        if word.lower() in STOPWORDS:
            continue
        soft = supported.get(word, 0.2)
        words.append(ClaimWord(match.start(), match.end(), soft, in_chunk=word in supported and soft >= 0.99,
                               in_source=word in supported, number=False, name=False))
    return words


def _head(threshold: float = 0.5, max_phrases: int = 6) -> WordHead:
    """Scores rise with the ablation gain alone: P = sigmoid(10 * gain)."""
    width = len(MARK_FEATURE_NAMES)
    coef = np.zeros((1, width))
    coef[0, MARK_FEATURE_NAMES.index("ablation_gain")] = 10.0
    return WordHead(LinearModel(np.zeros(width), np.ones(width), coef, np.zeros(1)), threshold, max_phrases,
                    {"note": "test"}, {"note": "test"})


def test_candidates_are_words_the_evidence_gives_no_support():
    words = _words(CLAIM, {"ministry": 1.0, "flow": 1.0, "use": 1.0, "tracked": 0.9})
    found = [CLAIM[words[i].start:words[i].end] for i in candidate_words(CLAIM, words)]
    # a stem match, a close soft match ("tracked" at 0.9 >= CLOSE_SOFT) and a discourse marker are never candidates
    assert found == ["consistently", "tacitly", "endorsed"]
    assert 0.9 >= CLOSE_SOFT


def test_ablation_gain_is_what_removing_the_word_gives_the_verdict():
    rows = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.4, 0.5]])  # claim, then without each word
    assert ablation_gains(rows, UNSUPPORTED) == pytest.approx([0.4, -0.1])
    assert ablation_gains(rows, CONTRADICTED) == pytest.approx([0.2, -0.2])
    assert len(ablation_gains(rows[:1], UNSUPPORTED)) == 0


def test_adjacent_candidates_are_one_phrase_scored_by_its_best_word():
    words = _words(CLAIM, {"ministry": 1.0, "flow": 1.0, "use": 1.0, "tracked": 1.0})
    plan = plan_marks(CLAIM, words, "The ministry tracked the flow and allowed its use.", UNSUPPORTED)
    texts = [CLAIM[words[i].start:words[i].end] for i in plan.candidates]
    assert texts == ["consistently", "tacitly", "endorsed"]
    assert plan.hypotheses[0] == CLAIM and "tacitly" not in plan.hypotheses[2]
    assert [[CLAIM[words[i].start:words[i].end] for i in unit] for unit in units(plan)] == \
        [["consistently"], ["tacitly", "endorsed"]]
    # the ablation lifts p(entailment) for "endorsed" only
    rows = np.array([[0.1, 0.8, 0.1], [0.05, 0.85, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    features = mark_features(plan, ablation_gains(rows, UNSUPPORTED))
    assert features.shape == (3, len(MARK_FEATURE_NAMES))
    run = MARK_FEATURE_NAMES.index("run")
    assert features[:, run] == pytest.approx(np.log1p([1, 2, 2]))
    phrases = _head().phrases(plan, _head().scores(features))
    # "tacitly endorsed" is one unit, at "endorsed"'s score; "and" before it and "its" after it
    # taken along; "consistently" (P = sigmoid(-0.5)) below 0.5
    assert [p.text for p in phrases] == ["and tacitly endorsed its"]
    assert phrases[0].score == pytest.approx(1 / (1 + np.exp(-5.0)), abs=1e-4)
    assert CLAIM[phrases[0].start:phrases[0].end] == phrases[0].text
    assert _head(threshold=0.999).phrases(plan, _head().scores(features)) == []


def test_the_best_units_are_kept_and_punctuation_or_a_supported_word_parts_them():
    claim = "They quietly approved new missiles, reportedly secret ones."
    words = _words(claim, {"approved": 1.0, "missiles": 1.0})
    plan = plan_marks(claim, words, "They approved missiles.", UNSUPPORTED)
    # every candidate marked; "reportedly" is never a candidate
    gains = np.array([0.3, 0.5, 0.1, 0.2])  # quietly, new, secret, ones
    phrases = _head().phrases(plan, _head().scores(mark_features(plan, gains)))
    assert [p.text for p in phrases] == ["They quietly", "new", "secret ones"]
    # at most two phrases: the two best units ("new" 0.5, "quietly" 0.3, "secret ones" at 0.2)
    best_two = _head(max_phrases=2).phrases(plan, _head().scores(mark_features(plan, gains)))
    assert [p.text for p in best_two] == ["They quietly", "new"]


def test_word_head_round_trips_and_refuses_another_feature_list(tmp_path):
    head = _head(threshold=0.42)
    head.save(tmp_path)
    loaded = WordHead.load(tmp_path)
    x = np.random.default_rng(0).normal(size=(5, len(MARK_FEATURE_NAMES)))
    assert np.allclose(loaded.scores(x), head.scores(x)) and loaded.threshold == 0.42 and len(loaded.digest) == 12
    data = json.loads((tmp_path / WORD_HEAD_FILE).read_text())
    data["features"] = data["features"][:-1]
    (tmp_path / WORD_HEAD_FILE).write_text(json.dumps(data))
    with pytest.raises(InputError, match="features"):
        WordHead.load(tmp_path)
    data["features"] = list(MARK_FEATURE_NAMES)
    del data["threshold"]
    (tmp_path / WORD_HEAD_FILE).write_text(json.dumps(data))
    with pytest.raises(InputError, match="not a word head"):
        WordHead.load(tmp_path)
    (tmp_path / WORD_HEAD_FILE).write_bytes(b"\xff\x00")
    with pytest.raises(InputError, match="not valid JSON"):
        WordHead.load(tmp_path)
    assert WordHead.load(tmp_path / "elsewhere") is None


def test_the_checker_marks_by_the_word_head_without_changing_a_verdict(tiny_nli_model, tiny_embedding_model, tmp_path,
                                                                      monkeypatch):
    import shutil

    from nli_check.pipeline import mark

    # a random embedder aligns every token closely with every other: no word would be a candidate
    monkeypatch.setattr(mark, "CLOSE_SOFT", 1.01)
    from nli_check import Checker

    folder = tmp_path / "model"
    shutil.copytree(tiny_nli_model, folder)
    article = "The council quietly approved the new park. It rained in March."
    sources = ["The council approved the park after a vote."]
    from nli_check.config import Settings

    # thresholds no random model reaches: every claim with a match is unsupported
    settings = dict(embedding_model=str(tiny_embedding_model),
                    settings=Settings(entailment_threshold=0.999, contradiction_threshold=0.999))
    before = Checker(model=folder, **settings).check(article, sources)
    # a head that marks every candidate: P = sigmoid(50) for any features
    width = len(MARK_FEATURE_NAMES)
    WordHead(LinearModel(np.zeros(width), np.ones(width), np.zeros((1, width)), np.array([50.0])), 0.5, 6,
             {}, {}).save(folder)
    checker = Checker(model=folder, **settings)
    after = checker.check(article, sources)
    assert [c.label for c in after.claims] == [c.label for c in before.claims]
    marked = [c for c in after.claims if c.unsupported_spans]
    assert marked and all(c.label == UNSUPPORTED for c in after.claims)
    for claim in marked:
        for span in claim.unsupported_spans:
            assert span.score == pytest.approx(1.0)  # scored by the head
            assert article[span.start:span.end] == span.text
    # the rows fit-marking learns from, only on request, and never in the JSON
    rows = checker.with_settings(mark_features=True).check(article, sources)
    assert any(c.mark_rows is not None for c in rows.claims)
    assert all(c.mark_rows is None for c in after.claims)
    assert "mark_rows" not in json.dumps(rows.to_dict())
    assert all("score" in span for c in after.to_dict()["claims"] for span in c["unsupported_spans"])


def test_fit_marking_labels_candidates_by_gold_spans_and_chooses_precision_at_the_recall_floor():
    from nli_check.pipeline.mark import MarkRows
    from nli_check.training.marking import Checked, Item, choose_operating_point, token_scores, word_table

    claim = "The ministry tacitly endorsed Western advanced weaponry."
    words = _words(claim, {"ministry": 1.0, "Western": 1.0})
    plan = plan_marks(claim, words, "The ministry allowed weapons.", UNSUPPORTED)
    assert [claim[words[i].start:words[i].end] for i in plan.candidates] == ["tacitly", "endorsed", "advanced",
                                                                             "weaponry"]
    gold = ((13, 29),)  # "tacitly endorsed"
    # the gold words gain most, "advanced" a little, "weaponry" loses
    features = mark_features(plan, np.array([0.3, 0.3, 0.05, -0.2]))
    checked = [Checked(Item(claim, ("source",), gold, "test"), [(0, UNSUPPORTED, [], MarkRows(plan, features))])]
    x, y = word_table(checked)
    assert x.shape == (4, len(MARK_FEATURE_NAMES)) and y.tolist() == [1, 1, 0, 0]
    head = _head()
    # at 0.9 only the gold words (P = sigmoid(3) = 0.95) are marked; the words beside them are no function
    # words, so the phrase takes none along
    at_high = token_scores(head, checked, threshold=0.9)
    assert (at_high["precision"], at_high["recall"]) == (1.0, 1.0)
    assert at_high["marked_share"] == pytest.approx(2 / 7, abs=1e-4)
    at_low = token_scores(head, checked, threshold=0.5)  # "advanced weaponry" too (at sigmoid(0.5) = 0.62)
    assert at_low["precision"] == pytest.approx(2 / 4, abs=1e-4)
    max_phrases, threshold, scores = choose_operating_point(head, checked, recall_floor=0.9)
    # one phrase per claim, or a threshold above "advanced weaponry" and below the gold words
    assert (scores["precision"], scores["recall"]) == (1.0, 1.0)
    assert max_phrases == 1 or 0.62 < threshold <= 0.95
