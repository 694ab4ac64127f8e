"""Acceptance: the editorial default on the seed article (integration; loads the real models)."""

import json

import pytest

from conftest import SEEDS

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def expected():
    return [json.loads(line) for line in (SEEDS / "expected.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def editorial_checker(shipped_checker):
    """What `nli-check check` and the web app run (config.DEFAULT_MODES)."""
    from nli_check import Checker
    from nli_check.config import DEFAULT_MODES

    return shipped_checker if DEFAULT_MODES["check"] == "fast" else Checker(mode=DEFAULT_MODES["check"])


@pytest.fixture(scope="module")
def seed_report(editorial_checker):
    return editorial_checker.check((SEEDS / "article.txt").read_text(), [(SEEDS / "source.txt").read_text()])


def test_at_least_12_of_14_seed_verdicts(seed_report, expected):
    got = [claim.label for claim in seed_report.claims]
    assert len(got) == len(expected) == 14
    right = sum(g == e["label"] for g, e in zip(got, expected))
    assert right >= 12, list(zip(got, [e["label"] for e in expected]))


def test_line_5_is_unsupported_with_tacitly_endorsed_marked(seed_report):
    line5 = seed_report.claims[4]
    assert line5.label == "unsupported"
    assert any("tacitly endorsed" in span.text for span in line5.unsupported_spans), line5.unsupported_spans
    article = (SEEDS / "article.txt").read_text()
    for span in line5.unsupported_spans:
        assert article[span.start:span.end] == span.text


@pytest.fixture(scope="module")
def contradicted_report(editorial_checker):
    return editorial_checker.check((SEEDS / "contradicted.txt").read_text(), [(SEEDS / "source.txt").read_text()])


@pytest.mark.parametrize(("line", "label"), [
    (1, "contradicted"),
    # The shipped model (MiniLM-L6, trained on CPU) reads "allowed ... long-range missiles"
    # against "did not extend to long-range missiles" as supported. Strict: the day a model
    # gets it right, this fails and the mark must go.
    pytest.param(2, "contradicted", marks=pytest.mark.xfail(
        strict=True, reason="the shipped model misses this contradiction (gives supported)")),
    (3, "supported"),
])
def test_contradicted_seeds(contradicted_report, line, label):
    claim = contradicted_report.claims[line - 1]
    assert len(contradicted_report.claims) == 3
    assert (claim.label, claim.decided_by) == (label, "source 1")



# The strong model (accurate mode) end to end on the seeds: it loads from the checkout, names
# itself and its mode, and finds the plain contradiction. It gets 10 of the 14 article verdicts
# (lines 1 and 7 called supported, 6 and 10 unsupported) and marks only "MoD had consistently
# tracked the" on line 5, so it is not the editorial default (docs/modes.md).
@pytest.fixture(scope="module")
def accurate_reports():
    from nli_check import Checker

    checker = Checker(mode="accurate")
    source = [(SEEDS / "source.txt").read_text()]
    return (checker.check((SEEDS / "article.txt").read_text(), source),
            checker.check((SEEDS / "contradicted.txt").read_text(), source))


def test_accurate_mode_on_the_seeds(accurate_reports, expected):
    article, contradicted = accurate_reports
    assert article.to_dict()["mode"] == "accurate" and article.model == "nli-mpnet-teacher"
    got = [claim.label for claim in article.claims]
    assert len(got) == 14 and sum(g == e["label"] for g, e in zip(got, expected)) >= 10, got
    assert article.claims[4].label == "unsupported" and article.claims[4].unsupported_spans
    assert [c.label for c in contradicted.claims][0::2] == ["contradicted", "supported"]
