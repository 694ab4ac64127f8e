"""Stage 6: render a :class:`~nli_check.pipeline.results.Report` as terminal text, JSON or Markdown."""

from __future__ import annotations

import json

import click

from nli_check.pipeline.results import Claim, Report

OUTPUT_FORMATS = ("text", "json", "markdown")
COLOURS = {"supported": "green", "contradicted": "red", "unsupported": "yellow"}
MARKS = {"supported": "✅", "contradicted": "❌", "unsupported": "⚠️"}


def render(report: Report, fmt: str, *, colour: bool = False) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    return render_text(report, colour=colour)


def claim_pieces(claim: Claim) -> list[tuple[str, bool]]:
    """The claim text cut at its unsupported spans: (text, is_unsupported) runs, in order."""
    text, pieces, cursor = claim.text, [], 0
    for span in sorted(claim.unsupported_spans, key=lambda s: s.start):
        local = span.start - claim.start
        # Claim text has markup removed; fall back to a search when offsets differ.
        if text[local:local + len(span.text)] != span.text:
            local = text.find(span.text, cursor)
        if local < cursor or local == -1:
            continue
        pieces += [(text[cursor:local], False), (text[local:local + len(span.text)], True)]
        cursor = local + len(span.text)
    pieces.append((text[cursor:], False))
    return [(piece, marked) for piece, marked in pieces if piece]


def _mark_spans(claim: Claim, mark) -> str:
    """The claim text with each unsupported span wrapped by ``mark``."""
    return "".join(mark(piece) if marked else piece for piece, marked in claim_pieces(claim))


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
        if claim.unsupported_spans:
            lines.append("     beyond the source: " + "; ".join(f'"{s.text}"' for s in claim.unsupported_spans))
        if claim.evidence:
            best = claim.evidence[0]
            lines.append(style(f"     evidence ({best.source}, similarity {best.similarity:.2f}): ", dim=True)
                         + best.text)
        lines.append("")
    lines.append(f"Summary: {_summary_line(report)} ({len(report.claims)} claims, {report.nli_pairs} NLI pairs)")
    for warning in report.warnings:
        lines.append(style(f"warning: {warning}", fg="yellow"))
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_") \
        .replace("<", "&lt;").replace(">", "&gt;").replace("`", "\\`").replace("[", "\\[").replace("]", "\\]")


def render_markdown(report: Report) -> str:
    lines = ["## nli-check", "", f"**{_summary_line(report)}** - model `{report.model}`", "",
             "| # | verdict | claim | evidence |", "|---|---|---|---|"]
    for claim in report.claims:
        body = _mark_spans(claim, lambda t: f"\x00{t}\x01")
        body = _md_escape(body).replace("\x00", "**").replace("\x01", "**")
        evidence = ""
        if claim.evidence:
            best = claim.evidence[0]
            evidence = f"{_md_escape(best.text)} _({_md_escape(best.source)}, sim {best.similarity:.2f})_"
        lines.append(f"| {claim.index + 1} | {MARKS[claim.label]} {claim.label} | {body} | {evidence} |")
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {_md_escape(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"
