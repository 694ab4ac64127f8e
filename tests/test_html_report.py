"""The HTML report: self-contained, every claim marked by verdict, evidence beside it, and
untrusted article or source text rendered as text, never as markup."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from nli_check.pipeline.explain import Explainer
from nli_check.render.html import matching_pieces, render_html
from nli_check.pipeline.results import Claim, Evidence, Probabilities, Report, Span

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '{{ 7*7 }}']


class Elements(HTMLParser):
    """Every element's tag and attributes, the text inside each id'd element, and the
    raw content of script tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text_by_id: dict[str, str] = {}
        self.scripts: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag not in {"meta", "br", "input", "img", "link"}:
            self._open.append((tag, attributes.get("id")))
            if attributes.get("id"):
                self.text_by_id[attributes["id"]] = ""
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.text_by_id[element_id] += data
        if self._open and self._open[-1][0] == "script":
            self.scripts[-1] += data

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


ARTICLE = ("The ministry said Russia is deploying new weapons.\n"
           "Russia has cut its troops by half. Nations tacitly endorsed the plan.\n")


def _report(article: str = ARTICLE, source_name: str = "ministry.txt") -> Report:
    """A hand-made report over ARTICLE: one claim of each label."""
    first, second, third = (m for m in re.finditer(r"[^.\n]+\.", article))
    p = Probabilities(0.1, 0.8, 0.1)
    evidence = Evidence(source_name, "The ministry said Russia is deploying newly developed weapons.", 0, 62, 0.91,
                        Probabilities(0.9, 0.05, 0.05))
    span_at = third.group().find("tacitly endorsed") + third.start()
    claims = [
        Claim(0, first.group(), first.start(), first.end(), "supported", Probabilities(0.9, 0.05, 0.05), [evidence],
              reason="entailed", decided_by=source_name),
        Claim(1, second.group().strip(), second.start() + 1, second.end(), "contradicted",
              Probabilities(0.05, 0.1, 0.85), [evidence], [Span("cut its troops by half", 0, 0)],
              reason="contradicted", decided_by=source_name),
        Claim(2, third.group().strip(), third.start() + 1, third.end(), "unsupported", p, [],
              [Span("tacitly endorsed", span_at, span_at + 16)], reason="no matching source statement"),
    ]
    return Report(claims=claims, sources=[source_name], model="tiny", warnings=["one long sentence was cut"],
                  nli_pairs=3)


def test_claims_are_coloured_by_verdict_with_spans_and_evidence():
    page = Elements(render_html(_report(), article=ARTICLE))
    claims = page.find("span", role="button")
    assert [c["data-label"] for c in claims] == ["supported", "contradicted", "unsupported"]
    assert all(c["data-label"] in c["class"].split() for c in claims)
    assert "tacitly endorsed" in page.text_by_id["claim-3"]
    # the underlined words are exactly the unsupported span
    assert re.search(r'id="claim-3".*?<u class="beyond">tacitly endorsed</u>', render_html(_report()), re.S)
    # one evidence box per claim, naming the source, similarity and the three probabilities
    box = page.text_by_id["evidence-1"]
    for needle in ("ministry.txt", "similarity 0.91", "entailment", "neutral", "contradiction", "0.90"):
        assert needle in box
    assert "No source sentence" in page.text_by_id["evidence-3"]
    # the article's line break survives as a paragraph break
    article = render_html(_report(), article=ARTICLE).split('<article')[1].split('</article>')[0]
    assert article.count("<p>") == 2


def test_summary_bar_legend_and_warnings():
    html = render_html(_report(), article=ARTICLE)
    page = Elements(html)
    counts = {li["data-label"]: li for li in page.find("li") if "data-label" in li}
    assert set(counts) == {"supported", "contradicted", "unsupported"}
    assert re.search(r'data-label="contradicted"><strong>1</strong>', html)
    assert len(page.find("rect")) == 3  # one bar segment per label present
    assert "no cited source says this" in html and "one long sentence was cut" in html
    assert "@media print" in html


def test_page_is_self_contained_and_only_its_own_script_may_run():
    html = render_html(_report(), article=ARTICLE)
    page = Elements(html)
    assert not re.search(r"https?://", html), "nothing may be fetched: the file must open offline"
    assert not page.find("link") and not [a for _, a in page.elements if "src" in a]
    assert len(page.scripts) == 1
    policy = page.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"]
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


@pytest.mark.parametrize("payload", XSS)
def test_untrusted_article_and_source_text_is_rendered_as_text(payload):
    article = f"The ministry said Russia is deploying new weapons.\nRussia has cut its troops by half. " \
              f"Nations tacitly endorsed {payload} the plan.\n"
    report = _report(article, source_name=f"src{payload}.txt")
    report.claims[0].evidence[0].text = f"The ministry said {payload} weapons."
    html = render_html(report, article=article, title=f"report {payload}")
    page = Elements(html)
    if "<" in payload:  # markup never appears verbatim, anywhere
        assert payload not in html.replace(page.scripts[0], "")
    assert len(page.scripts) == 1 and not page.find("img")
    assert payload in page.text_by_id["claim-3"]  # shown, as text, where it was written
    assert payload in page.text_by_id["evidence-1"]
    assert "49" not in page.text_by_id["claim-3"]  # template syntax is not evaluated


def test_matching_part_of_the_evidence_is_marked():
    text = "The ministry noted that several European countries allowed Ukraine to use weapons."
    claim = "European nations had tacitly endorsed the use of advanced weaponry in Ukraine."
    evidence = Evidence("s", text, 0, len(text), 0.9, matched=tuple(Explainer(None).shared_spans(text, claim)))
    pieces = matching_pieces(evidence)
    marked = [p.text for p in pieces if p.marked]
    assert marked == ["European", "Ukraine to use weapons"]
    assert "".join(p.text for p in pieces).startswith("The ministry noted")


def test_cli_writes_an_html_report_and_nothing_on_bad_input(tmp_path, tiny_nli_model, tiny_embedding_model):
    article, source, out = tmp_path / "a.md", tmp_path / "s.txt", tmp_path / "report.html"
    article.write_text("# Title\n\nThe ministry said Russia deploys weapons. Bananas are yellow.\n\nA third claim.\n")
    source.write_text("The ministry said Russia is deploying newly developed weapons.\n")
    models = ["--model", str(tiny_nli_model), "--embedding-model", str(tiny_embedding_model)]
    command = [sys.executable, "-m", "nli_check", "check", str(article), "--source", str(source),
               "--format", "html", "--output", str(out), *models]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = Elements(out.read_text(encoding="utf-8"))
    assert len(page.find("span", role="button")) == 4
    assert page.text_by_id["claim-1"].endswith("Title")
    bad = tmp_path / "empty.txt"
    bad.write_text(" \n")
    out.unlink()
    command[command.index(str(source))] = str(bad)
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "empty file" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".report.html.*"))
