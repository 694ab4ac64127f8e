import re

import numpy as np

from nli_check.pipeline.explain import Explainer

SOURCE = ("The ministry noted that the United States, the United Kingdom and several European countries "
          "allowed Ukraine to use Western weapons against targets on Russian territory.")
CLAIM = ("The United States, United Kingdom, and several European nations had tacitly endorsed the use "
         "of advanced weaponry in Ukraine's counteroffensive efforts.")


def spans(found):
    return [s.text for s in found]


def test_lexical_spans_name_the_words_the_source_never_said():
    found = Explainer(None).lexical_spans(CLAIM, SOURCE)
    assert any("tacitly endorsed" in text for text in spans(found))
    assert any("counteroffensive" in text for text in spans(found))
    # words the source does say (also as another form: weaponry ~ weapons) are not flagged
    assert not any("United" in text or "weaponry" in text for text in spans(found))
    for span in found:
        assert CLAIM[span.start:span.end] == span.text


def test_fully_restated_claim_has_no_novel_words():
    assert Explainer(None).lexical_spans("Several European countries allowed Ukraine to use weapons.", SOURCE) == []


def test_unsupported_claim_reports_every_novel_span_without_ablation():
    calls = []

    def score(premise, hypotheses):
        calls.append(hypotheses)
        return np.array([[0.1, 0.8, 0.1]] * len(hypotheses))

    found = Explainer(score).explain(CLAIM, SOURCE, label="unsupported")
    assert spans(found) == spans(Explainer(None).lexical_spans(CLAIM, SOURCE))
    assert calls == []  # no NLI spent when the words already tell


def test_unsupported_claim_without_novel_words_ablates_phrases():
    claim = "Several European countries allowed Ukraine to use weapons."

    def score(premise, hypotheses):
        return np.array([[0.9, 0.05, 0.05] if "weapons" not in h else [0.2, 0.7, 0.1] for h in hypotheses])

    found = Explainer(score).explain(claim, SOURCE, label="unsupported")
    assert len(found) == 1 and "weapons" in found[0].text


def test_contradiction_without_novel_words_ablates_phrases():
    claim = "Western countries allowed Ukraine to use long-range missiles."
    source = "Western countries allowed Ukraine to use weapons. The permission did not extend to long-range missiles."

    def score(premise, hypotheses):
        return np.array([[0.1, 0.1, 0.8] if "long-range missiles" in h else [0.6, 0.3, 0.1] for h in hypotheses])

    found = Explainer(score).explain(claim, source, label="contradicted")
    assert len(found) == 1 and "long-range missiles" in found[0].text and "Western" not in found[0].text


def test_marked_function_words_and_discourse_markers_are_never_a_span_alone():
    claim = "Notably, the ministry has now tacitly endorsed the strikes, however limited."
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", claim)
             if m.group() in {"Notably", "the", "now", "tacitly", "endorsed", "however", "limited"}]
    found = Explainer(None).join_words(claim, words)
    assert [s.text for s in found] == ["tacitly endorsed", "limited"]
    assert all(claim[s.start:s.end] == s.text for s in found)
