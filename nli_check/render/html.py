"""The editor's view of a report: one self-contained HTML page.

The article is shown with each claim coloured by its verdict and the words that go beyond
the source underlined; clicking (or hovering) a claim shows its evidence: the source
sentence with the part that matches the claim marked, the similarity and the three NLI
probabilities. CSS and script are inlined (no network, opens offline) and a
Content-Security-Policy lets only that one script run, by hash.

Every piece of article and source text is untrusted: it reaches the page only through
Jinja2 variables with autoescaping on, never through ``|safe`` or ``Markup``; where it is
shown, the ``visible`` filter first writes out the characters a reader cannot see but that
change what is shown (NUL and other control characters, bidirectional overrides such as
U+202E, which would reverse the text after them) as ``<U+202E>``.
The web app (``nli_check.serve.app``) renders the same partial, so both views stay alike.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, VERDICTS, Verdict
from nli_check.pipeline.results import Claim, Evidence, Probabilities, Report, SlotConflict
from nli_check.render.text import claim_pieces as text_pieces
from nli_check.render.text import cut, model_line

LEGEND = {
    SUPPORTED: "a cited source says this",
    CONTRADICTED: "a cited source says otherwise",
    UNSUPPORTED: "no cited source says this",
}


@dataclass(frozen=True)
class Piece:
    """A run of text, marked (underlined or highlighted) or not."""

    text: str
    marked: bool = False


@dataclass
class EvidenceView:
    source: str
    pieces: list[Piece]
    similarity: float
    probabilities: Probabilities | None
    page: int | None = None  # of a PDF source


@dataclass
class ClaimView:
    number: int  # 1-based, as editors count lines
    index: int
    label: Verdict
    text: str
    pieces: list[Piece]
    reason: str
    probabilities: Probabilities
    spans: list[tuple[str, float | None]]  # marked phrases and their scores
    evidence: list[EvidenceView]
    decided_by: str | None
    cited_sources: list[str] = field(default_factory=list)
    citation_error: str | None = None
    nli_model: str | None = None  # a cascade's accurate model, when it decided
    conflicts: list[SlotConflict] = field(default_factory=list)  # claim vs source, side by side


@dataclass
class ReportView:
    title: str
    model: str
    sources: list[str]
    claims: list[ClaimView]
    paragraphs: list[list[ClaimView]]
    summary: dict[str, int]
    warnings: list[str]
    legend: dict[str, str] = field(default_factory=lambda: dict(LEGEND))


def claim_pieces(claim: Claim) -> list[Piece]:
    """The claim text cut at its unsupported spans (shared with the text and Markdown reports)."""
    return [Piece(text, marked=marked) for text, marked in text_pieces(claim)]


def matching_pieces(evidence: Evidence) -> list[Piece]:
    """The evidence text with the words it shares with the claim marked (found by the
    pipeline's explain stage)."""
    return [Piece(text, marked=marked) for text, marked in cut(evidence.text, list(evidence.matched))]


def _paragraphs(claims: list[ClaimView], report: Report, article: str | None) -> list[list[ClaimView]]:
    """Claims grouped as the article's paragraphs (a line break between two claims starts
    a new one). Without the article text all claims flow as one paragraph."""
    groups: list[list[ClaimView]] = []
    previous_end = None
    for view, claim in zip(claims, report.claims):
        gap = article[previous_end:claim.start] if article is not None and previous_end is not None else ""
        if not groups or "\n" in gap:
            groups.append([])
        groups[-1].append(view)
        previous_end = claim.end
    return groups


def _evidence_view(evidence: Evidence, claim: Claim) -> EvidenceView:
    return EvidenceView(evidence.source, matching_pieces(evidence), evidence.similarity, evidence.probabilities,
                        evidence.page)


def build_view(report: Report, *, article: str | None = None, title: str = "nli-check report") -> ReportView:
    """Everything the templates show, computed once (templates only lay it out)."""
    claims = [ClaimView(number=claim.index + 1, index=claim.index, label=claim.label, text=claim.text,
                        pieces=claim_pieces(claim), reason=claim.reason, probabilities=claim.probabilities,
                        spans=[(span.text, getattr(span, "score", None)) for span in claim.unsupported_spans],
                        evidence=[_evidence_view(e, claim) for e in claim.evidence], decided_by=claim.decided_by,
                        cited_sources=list(claim.cited_sources), citation_error=claim.citation_error,
                        nli_model=claim.nli_model, conflicts=list(claim.conflicts))
              for claim in report.claims]
    return ReportView(title=title, model=model_line(report), sources=list(report.sources), claims=claims,
                      paragraphs=_paragraphs(claims, report, article), summary=report.summary,
                      warnings=list(report.warnings))


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Autoescape every template whatever its name; StrictUndefined turns a typo into an error.
    env = Environment(loader=PackageLoader("nli_check.render", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["labels"] = VERDICTS
    env.filters["visible"] = visible
    return env


# Control characters (but tab and line breaks) and the bidirectional marks, embeddings,
# overrides and isolates.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text):
    """``text`` with each invisible control character written out as ``<U+XXXX>`` (plain
    text: autoescaping still applies); anything else is returned as it is.

    Examples:
        >>> visible("abc\u202edef")
        'abc<U+202E>def'
    """
    if not isinstance(text, str) or isinstance(text, Markup):
        return text
    return _INVISIBLE.sub(lambda found: f"<U+{ord(found.group()):04X}>", text)


@dataclass(frozen=True)
class Assets:
    css: Markup
    js: Markup
    script_hash: str

    def csp(self, *, served: bool = False) -> str:
        """Only our inline script runs (by hash); nothing is fetched from anywhere.
        A served page may also post feedback to its own origin."""
        policy = ["default-src 'none'", "style-src 'unsafe-inline'", f"script-src '{self.script_hash}'",
                  "img-src data:", "base-uri 'none'"]
        if served:
            policy += ["connect-src 'self'", "form-action 'self'"]
        else:
            policy += ["form-action 'none'"]
        return "; ".join(policy)


@lru_cache(maxsize=1)
def assets() -> Assets:
    """The inline stylesheet and script (our own files, so marking them safe is sound)."""
    loader = environment().loader
    css = loader.get_source(environment(), "report.css")[0]
    js = loader.get_source(environment(), "report.js")[0]
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return Assets(css=Markup(css), js=Markup(js), script_hash=f"sha256-{digest}")


def render_html(report: Report, *, article: str | None = None, title: str = "nli-check report") -> str:
    """One self-contained HTML file: the article marked up by verdict, evidence on click,
    summary bar and legend; prints cleanly. ``article`` (the checked text) restores its
    paragraph breaks."""
    return environment().get_template("report.html").render(
        view=build_view(report, article=article, title=title), assets=assets(), csp=assets().csp(),
        feedback=None)
