"""Stage 6: render a :class:`~nli_check.pipeline.results.Report` as terminal text, JSON or Markdown."""

from __future__ import annotations

import json

import click

from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED
from nli_check.pipeline.results import Claim, Evidence, Report, SlotConflict

OUTPUT_FORMATS = ("text", "json", "markdown")
COLOURS = {SUPPORTED: "green", CONTRADICTED: "red", UNSUPPORTED: "yellow"}
MARKS = {SUPPORTED: "✅", CONTRADICTED: "❌", UNSUPPORTED: "⚠️"}


def render(report: Report, fmt: str, *, colour: bool = False) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    return render_text(report, colour=colour)


def cut(text: str, marked: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut at the ``marked`` (start, end) offsets: (piece, is_marked) runs, in
    order; overlapping or empty marks are skipped."""
    pieces, cursor = [], 0
    for start, end in sorted(marked):
        start, end = max(start, 0), min(end, len(text))
        if start < cursor or end <= start:
            continue
        pieces += [(text[cursor:start], False), (text[start:end], True)]
        cursor = end
    pieces.append((text[cursor:], False))
    return [(piece, is_marked) for piece, is_marked in pieces if piece]


def claim_pieces(claim: Claim) -> list[tuple[str, bool]]:
    """The claim text cut at its unsupported spans (by their offsets, mapped onto the text)."""
    return cut(claim.text, [claim.text_span(span) for span in claim.unsupported_spans])


def _phrase(span) -> str:
    """A marked phrase in quotes, with the word head's score where it has one (a plain
    :class:`Span` has none)."""
    score = getattr(span, "score", None)
    return f'"{span.text}"' + (f" ({score:.2f})" if score is not None else "")


def _mark_spans(claim: Claim, mark) -> str:
    """The claim text with each unsupported span wrapped by ``mark``."""
    return "".join(mark(piece) if marked else piece for piece, marked in claim_pieces(claim))


def side_by_side(conflict: SlotConflict) -> str:
    """A conflict in words: 'number: claim "40 percent"; source 1: "14 percent"'."""
    return f'{conflict.kind}: claim "{conflict.claim.text}"; {conflict.source}: "{conflict.evidence.text}"'


def _summary_line(report: Report) -> str:
    return ", ".join(f"{count} {label}" for label, count in report.summary.items())


def render_text(report: Report, *, colour: bool = False) -> str:
    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if colour else text

    lines = []
    for claim in report.claims:
        label = style(f"[{claim.label.upper()}]", fg=COLOURS[claim.label], bold=True)
        body = _mark_spans(claim, lambda t: style(t, underline=True, fg=COLOURS[claim.label]) if colour else f"«{t}»")
        lines.append(f"{claim.index + 1:>3}. {label} {body}")
        p = claim.probabilities
        lines.append(f"     entailment {p.entailment:.2f}  neutral {p.neutral:.2f}  contradiction {p.contradiction:.2f}"
                     f"  - {claim.reason}")
        if claim.nli_model:
            lines.append(f"     decided again by the accurate model ({claim.nli_model})")
        for conflict in claim.conflicts:
            lines.append(style("     the source says otherwise: " + side_by_side(conflict), fg="red"))
        if claim.unsupported_spans:
            lines.append("     beyond the source: " + "; ".join(_phrase(s) for s in claim.unsupported_spans))
        if claim.cited_sources:
            lines.append("     cites: " + ", ".join(claim.cited_sources))
        if claim.citation_error:
            lines.append(style(f"     citation error: {claim.citation_error}", fg="magenta", bold=True))
        if claim.evidence:
            best = claim.evidence[0]
            lines.append(style(f"     evidence ({_where(best)}, similarity {best.similarity:.2f}): ", dim=True)
                         + best.text)
        lines.append("")
    lines.append(f"Summary: {_summary_line(report)} ({len(report.claims)} claims, {report.nli_pairs} NLI pairs)")
    lines.append(f"Model: {model_line(report)}")
    for warning in report.warnings:
        lines.append(style(f"warning: {warning}", fg="yellow"))
    return "\n".join(lines) + "\n"


def _where(evidence: Evidence) -> str:
    """The evidence's source, with its page for a PDF."""
    return evidence.source if evidence.page is None else f"{evidence.source}, page {evidence.page}"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_") \
        .replace("<", "&lt;").replace(">", "&gt;").replace("`", "\\`").replace("[", "\\[").replace("]", "\\]")


def model_line(report: Report) -> str:
    """The model and how it ran: "nli-minilm-l6 (openvino, float32, fast mode)"."""
    how = [*(report.runtime or {}).values(), *([f"{report.mode} mode"] if report.mode else [])]
    return f"{report.model} ({', '.join(how)})" if how else report.model


def render_markdown(report: Report) -> str:
    lines = ["## nli-check", "", f"**{_summary_line(report)}** - model `{model_line(report)}`", "",
             "| # | verdict | claim | evidence |", "|---|---|---|---|"]
    for claim in report.claims:
        body = _mark_spans(claim, lambda t: f"\x00{t}\x01")
        body = _md_escape(body).replace("\x00", "**").replace("\x01", "**")
        evidence = ""
        if claim.evidence:
            best = claim.evidence[0]
            evidence = f"{_md_escape(best.text)} _({_md_escape(_where(best))}, sim {best.similarity:.2f})_"
        if claim.citation_error:
            body += f" (citation error: {_md_escape(claim.citation_error)})"
        for conflict in claim.conflicts:
            body += f"<br>❌ {_md_escape(side_by_side(conflict))}"
        lines.append(f"| {claim.index + 1} | {MARKS[claim.label]} {claim.label} | {body} | {evidence} |")
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {_md_escape(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"
