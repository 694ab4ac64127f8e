"""Sources taken from an article's links, and each claim checked against the source it
cites: link finding (Markdown, HTML), the claim-to-citation scope, and a Markdown article
citing two locally served sources, one claim citing the wrong one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
from conftest import REPO
from local_server import Route, cluttered_page, make_pdf, serving

from nli_check.errors import InputError
from nli_check.labels import SUPPORTED, UNSUPPORTED
from nli_check.pipeline.cite import Citation, Citations
from nli_check.pipeline.documents import check_files
from nli_check.pipeline.segment import Segmenter
from nli_check.render.html import render_html
from nli_check.render.text import render
from nli_check.sources.cache import Fetcher
from nli_check.sources.fetch import FetchLimits
from nli_check.sources.links import find_links

SCHEMA = json.loads((REPO / "nli_check" / "schema" / "report.schema.json").read_text())
LOCAL = FetchLimits(timeout_s=5, allow_private=True)

MINISTRY = ["The Japanese Ministry of Defense said that Russia is deploying newly developed weapons.",
            "The ministry also noted an increase in the number of Russian troops."]
AGENCY = [["The agency reported heavy rain in Tokyo on Monday."], ["Troops moved near Kharkiv, the agency said."]]


def test_markdown_links_footnotes_references_and_numbered_lists():
    text = ("# Notes\n\nRussia deploys [new weapons](https://a.test/one). Troops grew.[^1]\n\n"
            "Rain fell [here][ref] and [2], see https://e.test/x.\n\nNo link here.\n\n"
            "[ref]: https://b.test/two \"Two\"\n[^1]: Agency, <https://c.test/three>\n\n## References\n\n"
            "2. Ministry statement, https://d.test/four\n")
    found = find_links(text, "markdown")
    cited = [(link.target, text[link.start:link.end]) for link in found.links]
    assert cited == [("https://a.test/one", "[new weapons](https://a.test/one)"), ("https://c.test/three", "[^1]"),
                     ("https://b.test/two", "[here][ref]"), ("https://d.test/four", "[2]"),
                     ("https://e.test/x", "https://e.test/x")]
    assert [text[a:b].strip() for a, b in found.references] == [
        '[ref]: https://b.test/two "Two"', "[^1]: Agency, <https://c.test/three>", "## References",
        "2. Ministry statement, https://d.test/four"]
    paragraph = found.links[0].paragraph
    assert text[paragraph[0]:paragraph[1]].startswith("Russia deploys") and found.links[1].paragraph == paragraph


def test_a_numbered_list_of_links_is_prose_when_nothing_cites_it():
    text = "Reading list:\n\n1. The ministry [said so](https://a.test/one).\n2. Other things.\n"
    found = find_links(text, "markdown")
    assert [link.target for link in found.links] == ["https://a.test/one"] and not found.references


def test_html_anchors_and_footnotes_but_not_navigation():
    text = ('<html><body><nav><a href="https://site.test/">Home</a></nav><article>\n'
            '<p>Russia deploys <a href="https://a.test/one">weapons</a>.<sup><a href="#fn1">1</a></sup></p>\n'
            '<p>Write to <a href="mailto:x@y.test">us</a>; see <a href="#top">top</a>.</p>\n'
            '<ol><li id="fn1">Agency, <a href="https://c.test/three">report</a></li></ol></article></body></html>')
    found = find_links(text, "html")
    assert [(link.target, text[link.start:link.end]) for link in found.links] == [
        ("https://a.test/one", '<a href="https://a.test/one">weapons</a>'),
        ("https://c.test/three", '<a href="#fn1">1</a>')]
    assert [text[a:b] for a, b in found.references] == ['<li id="fn1">Agency, <a href="https://c.test/three">report</a></li>']
    start, end = found.links[0].paragraph
    assert text[start:end].startswith("<p>Russia") and text[start:end].endswith("</p>")


def test_a_claim_cites_what_its_sentence_cites_else_its_paragraph_else_nothing():
    text = "First claim [a](https://a.test). Second claim.\nThird claim.[1]\n\nFourth claim.\n"
    claims = Segmenter().segment(text, fmt="markdown").sentences
    first_paragraph = (0, text.index("\n\n") + 1)
    citations = Citations((Citation(0, text.index("[a]"), text.index(". Second"), *first_paragraph),
                           Citation(1, text.index("[1]"), text.index("[1]") + 3, *first_paragraph)))
    assert [c.text for c in claims] == ["First claim a.", "Second claim.", "Third claim.", "Fourth claim."]
    assert citations.per_claim(claims) == [(0,), (0, 1), (1,), ()]


class WordNLI:
    """A stand-in NLI model that reads: entailment when the premise holds the claim's words."""

    pairs_scored = 0
    backend, precision = "torch", "float32"

    def predict(self, pairs, batch_size=32, cache=None):
        rows = []
        for premise, hypothesis in pairs:
            words = {w for w in hypothesis.lower().replace(".", " ").replace(",", " ").split() if len(w) > 3}
            held = {w for w in premise.lower().replace(".", " ").replace(",", " ").split()}
            rows.append([0.9, 0.05, 0.05] if words and len(words & held) >= 0.8 * len(words) else [0.05, 0.9, 0.05])
        self.pairs_scored += len(pairs)
        return np.array(rows, dtype=np.float64)


@pytest.fixture(scope="module")
def reading_checker(tiny_checker):
    # No slot conflicts: the tiny embedder's token vectors align everything with everything.
    checker = tiny_checker.with_settings(similarity_floor=-1.0, explain=False, top_k=10, evidence_shown=50,
                                         conflicts=False)
    checker.nli = WordNLI()
    return checker


@pytest.fixture(scope="module")
def server():
    routes = {"/ministry.html": Route(cluttered_page("Ministry statement", MINISTRY)),
              "/agency.pdf": Route(make_pdf(AGENCY), content_type="application/pdf")}
    with serving(routes) as running:
        yield running


@pytest.fixture
def article(server, tmp_path):
    ministry, agency = f"{server.base}/ministry.html", f"{server.base}/agency.pdf"
    path = tmp_path / "article.md"
    path.write_text(
        "# Defence notes\n\n"
        f"The Japanese Ministry of Defense said Russia is deploying newly developed weapons ([ministry]({ministry})).\n\n"
        f"The agency reported heavy rain in Tokyo on Monday, [the ministry said]({ministry}).\n\n"
        "Officials expect more rain next week.\n\n"
        "Troops moved near Kharkiv.[^1]\n\n"
        f"[^1]: Agency report, <{agency}>\n")
    return path, ministry, agency


def test_each_claim_is_checked_against_the_source_it_cites(reading_checker, article):
    path, ministry, agency = article
    checked = check_files(reading_checker, article=str(path), sources=[], sources_from_links=True,
                          fetcher=Fetcher(limits=LOCAL))
    report = checked.report
    assert report.sources == [ministry, agency]
    claims = {claim.text: claim for claim in report.claims}
    assert list(claims) == ["Defence notes",
                            "The Japanese Ministry of Defense said Russia is deploying newly developed weapons (ministry).",
                            "The agency reported heavy rain in Tokyo on Monday, the ministry said.",
                            "Officials expect more rain next week.", "Troops moved near Kharkiv."]  # no footnote text
    weapons, rain, uncited, troops = list(claims.values())[1:]
    assert (weapons.label, weapons.decided_by, weapons.cited_sources) == (SUPPORTED, ministry, [ministry])
    assert all(e.source == ministry for e in weapons.evidence)
    # The wrong citation: the cited ministry does not say it, the agency does.
    assert (rain.label, rain.cited_sources, rain.supported_by_uncited) == (UNSUPPORTED, [ministry], agency)
    assert rain.citation_error == f"supported by {agency}, not by the cited source"
    assert (uncited.label, uncited.cited_sources, uncited.supported_by_uncited) == (UNSUPPORTED, [], None)
    assert {e.source for e in uncited.evidence} == {ministry, agency}  # no citation: every source
    assert (troops.label, troops.decided_by, troops.cited_sources) == (SUPPORTED, agency, [agency])
    assert troops.evidence[0].page == 2 and weapons.evidence[0].page is None

    data = report.to_dict()
    jsonschema.validate(data, SCHEMA)
    assert data["claims"][2]["supported_by_uncited"] == agency and data["claims"][4]["evidence"][0]["page"] == 2
    text = render(report, "text")
    assert f"citation error: supported by {agency}, not by the cited source" in text
    assert f"evidence ({agency}, page 2," in text
    assert "citation error" in render(report, "markdown")
    page = render_html(report, article=checked.article.text)
    assert "Citation error: supported by" in page and ", page 2, similarity" in page
    assert 'class="claim unsupported citation-error"' in page


def test_extra_sources_count_for_claims_that_cite_nothing(reading_checker, article, tmp_path):
    path, ministry, agency = article
    extra = tmp_path / "forecast.txt"
    extra.write_text("Officials expect more rain next week.\n")
    report = check_files(reading_checker, article=str(path), sources=[str(extra)], sources_from_links=True,
                         fetcher=Fetcher(limits=LOCAL)).report
    assert report.sources == [ministry, agency, "forecast.txt"]
    uncited = next(c for c in report.claims if c.text.startswith("Officials"))
    assert (uncited.label, uncited.decided_by) == (SUPPORTED, "forecast.txt")


def test_an_article_without_links_or_with_a_broken_one(reading_checker, server, tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("Nothing is cited here.\n")
    with pytest.raises(InputError, match=r"plain\.md: no link to a source found, and no other source given"):
        check_files(reading_checker, article=str(plain), sources=[], sources_from_links=True,
                    fetcher=Fetcher(limits=LOCAL))
    broken = tmp_path / "broken.md"
    broken.write_text(f"A claim [cites]({server.base}/gone.html).\n")
    with pytest.raises(InputError, match=rf"broken\.md: cited source {server.base}/gone\.html: HTTP 404"):
        check_files(reading_checker, article=str(broken), sources=[], sources_from_links=True,
                    fetcher=Fetcher(limits=LOCAL))


def test_a_relative_link_to_a_file_beside_the_article_is_a_source(reading_checker, tmp_path):
    (tmp_path / "statement.txt").write_text(MINISTRY[0] + "\n")
    article = tmp_path / "article.md"
    article.write_text(f"{MINISTRY[0]} [statement](statement.txt) [elsewhere](missing.txt)\n")
    report = check_files(reading_checker, article=str(article), sources=[], sources_from_links=True).report
    assert report.sources == ["statement.txt"] and report.claims[0].label == SUPPORTED
    assert any("'missing.txt' is neither an http(s) URL nor a file beside the article" in w for w in report.warnings)


def test_cli_sources_from_links(article, tiny_nli_model, tiny_embedding_model, tmp_path):
    path, ministry, agency = article
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NLI_CHECK_CACHE=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-m", "nli_check", "check", str(path), "--sources-from-links",
                             "--format", "json", "--model", str(tiny_nli_model), "--embedding-model",
                             str(tiny_embedding_model)], capture_output=True, env=env, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["sources"] == [ministry, agency]
    assert [c["cited_sources"] for c in report["claims"]] == [[], [ministry], [ministry], [], [agency]]
