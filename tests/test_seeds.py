"""Acceptance: the shipped model on the seed article (integration; loads the real model)."""

import json

import pytest

from conftest import SEEDS

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def expected():
    return [json.loads(line) for line in (SEEDS / "expected.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seed_report(shipped_checker):
    return shipped_checker.check((SEEDS / "article.txt").read_text(), [(SEEDS / "source.txt").read_text()])


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
def contradicted_report(shipped_checker):
    return shipped_checker.check((SEEDS / "contradicted.txt").read_text(), [(SEEDS / "source.txt").read_text()])


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
