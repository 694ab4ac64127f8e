"""Acceptance (integration; the shipped model): the seed article whose lines link to a
locally served HTML copy of its source, and the source as a PDF, give the verdicts of the
text source."""

from __future__ import annotations

import pytest
from conftest import SEEDS
from local_server import Route, cluttered_page, make_pdf, serving

from nli_check.pipeline.documents import check_files
from nli_check.sources.cache import Fetcher
from nli_check.sources.fetch import FetchLimits

pytestmark = pytest.mark.integration

LINES = (SEEDS / "source.txt").read_text().splitlines()


@pytest.fixture(scope="module")
def text_labels(shipped_checker):
    report = check_files(shipped_checker, article=str(SEEDS / "article.txt"), sources=[str(SEEDS / "source.txt")]).report
    return [claim.label for claim in report.claims]


def test_seed_article_with_links_to_a_served_page(shipped_checker, text_labels, tmp_path):
    with serving({"/statement.html": Route(cluttered_page("Statement of the Ministry", LINES))}) as server:
        url = f"{server.base}/statement.html"
        article = tmp_path / "article.md"
        # Each line links a few of its words to the source, as an editor's Markdown does.
        article.write_text("".join(f"{' '.join(line.split()[:3])} [{' '.join(line.split()[3:6])}]({url}) "
                                   f"{' '.join(line.split()[6:])}\n"
                                   for line in (SEEDS / "article.txt").read_text().splitlines()))
        report = check_files(shipped_checker, article=str(article), sources=[], sources_from_links=True,
                             fetcher=Fetcher(limits=FetchLimits(allow_private=True))).report
    assert report.sources == [url] and all(claim.cited_sources == [url] for claim in report.claims)
    assert [claim.label for claim in report.claims] == text_labels


def test_seed_source_as_a_pdf(shipped_checker, text_labels, tmp_path):
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(make_pdf([LINES[:3], LINES[3:]]))
    report = check_files(shipped_checker, article=str(SEEDS / "article.txt"), sources=[str(pdf)]).report
    assert [claim.label for claim in report.claims] == text_labels
    assert {evidence.page for claim in report.claims for evidence in claim.evidence} <= {1, 2}
