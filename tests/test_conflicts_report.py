"""A contradicted claim shows what it says and what the source says, side by side, in every
report format; the checker turns a decisive slot conflict into "contradicted" and leaves a
claim whose slots agree alone."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from nli_check.labels import CONTRADICTED, UNSUPPORTED
from nli_check.pipeline.results import Claim, Evidence, Probabilities, Report, SlotConflict, Span
from nli_check.render.html import render_html
from nli_check.render.text import render

ARTICLE = "The policy cut deaths by 40 percent."
SOURCE = "Officials said the policy cut deaths by 14 percent <b>."


def report(claim_text: str = ARTICLE, said: str = "14 percent") -> Report:
    start = SOURCE.index("14 percent")
    conflict = SlotConflict("number", Span("40 percent", ARTICLE.index("40"), ARTICLE.index("40") + 10), "source.txt",
                            Span(said, start, start + 10), 0.82, 0.8)
    claim = Claim(index=0, text=claim_text, start=0, end=len(claim_text), label=CONTRADICTED,
                  probabilities=Probabilities(0.1, 0.5, 0.4),
                  evidence=[Evidence("source.txt", SOURCE, 0, len(SOURCE), 0.9, Probabilities(0.1, 0.5, 0.4))],
                  reason="the source says '14 percent' where the claim says '40 percent'", decided_by="source.txt",
                  conflicts=[conflict])
    return Report(claims=[claim], sources=["source.txt"], model="m")


def test_json_carries_both_sides_with_offsets_and_validates():
    data = json.loads(render(report(), "json"))
    schema = json.loads(resources.files("nli_check.schema").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    [conflict] = data["claims"][0]["conflicts"]
    assert conflict["kind"] == "number" and conflict["source"] == "source.txt"
    assert ARTICLE[conflict["claim"]["start"]:conflict["claim"]["end"]] == "40 percent"
    assert SOURCE[conflict["evidence"]["start"]:conflict["evidence"]["end"]] == "14 percent"


def test_text_and_markdown_say_it_side_by_side():
    assert 'number: claim "40 percent"; source.txt: "14 percent"' in render(report(), "text")
    markdown = render(report(said="14 | *percent*"), "markdown")
    assert 'claim "40 percent"; source.txt: "14 \\| \\*percent\\*"' in markdown


def test_html_shows_a_table_and_escapes_the_source():
    html = render_html(report(said="<img src=x onerror=alert(1)>"), article=ARTICLE)
    assert '<table class="conflicts">' in html and "<th scope=\"row\">number</th>" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.integration
def test_the_checker_calls_a_changed_number_contradicted_and_shows_it(shipped_checker):
    source = ("Officials said the policy reduced deaths by 14 percent over the year. "
              "About 1,200,000 people voted in the referendum.")
    result = shipped_checker.check("The policy cut deaths by 40 percent. About 1.2 million people voted in the "
                                   "referendum.", [source])
    changed, same = result.claims
    assert changed.label == CONTRADICTED
    assert [(c.claim.text, c.evidence.text) for c in changed.conflicts][:1] == [("40 percent", "14 percent")]
    assert source[changed.conflicts[0].evidence.start:changed.conflicts[0].evidence.end] == "14 percent"
    assert same.label != CONTRADICTED and same.conflicts == []
    off = shipped_checker.with_settings(conflicts=False).check("The policy cut deaths by 40 percent.", [source])
    assert off.claims[0].conflicts == [] and off.claims[0].label in (UNSUPPORTED, CONTRADICTED)
