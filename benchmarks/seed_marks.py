"""Benchmark: the words the report marks on the seed article, against the editor's phrases.

    python benchmarks/seed_marks.py [--precision float32] [--model DIR] [--no-word-head]

Checks seeds/article.txt against seeds/source.txt with the shipped model (or ``--model``)
and reports: the share of the article's words marked (all lines, and the lines called
unsupported), how many of the editor's phrases (``unsupported_words`` in
seeds/expected.jsonl) are covered (every word of the phrase inside a marked span), and
line 5's marks with the number of marked words besides "tacitly endorsed". The seeds are
an acceptance example, not a set to choose by. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
WORD = re.compile(r"\w+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-word-head", action="store_true",
                        help="mark as a model without word_head.json does (the marking before it)")
    args = parser.parse_args()

    from nli_check import Checker
    from nli_check.config import Settings

    article = (SEEDS / "article.txt").read_text(encoding="utf-8")
    settings = Settings(word_marking=not args.no_word_head)
    report = Checker(model=args.model, precision=args.precision, settings=settings).check(
        article, [(SEEDS / "source.txt").read_text(encoding="utf-8")])
    expected = {row["line"]: row for row in map(json.loads, (SEEDS / "expected.jsonl").read_text().splitlines())}
    lines = article.splitlines()
    totals = {"words": 0, "marked": 0, "unsupported_words": 0, "unsupported_marked": 0}
    covered, phrases, per_line, scores = 0, 0, {}, {}
    for claim in report.claims:
        line = article.count("\n", 0, claim.start) + 1
        spans = [(span.start, span.end) for span in claim.unsupported_spans]
        words = [(claim.start + m.start(), claim.start + m.end()) for m in WORD.finditer(claim.text)]
        marked = [w for w in words if any(a < w[1] and w[0] < b for a, b in spans)]
        totals["words"] += len(words)
        totals["marked"] += len(marked)
        if claim.label == "unsupported":
            totals["unsupported_words"] += len(words)
            totals["unsupported_marked"] += len(marked)
        per_line.setdefault(line, []).extend(span.text for span in claim.unsupported_spans)
        scores.setdefault(line, []).extend(span.score for span in claim.unsupported_spans)
        for phrase in expected.get(line, {}).get("unsupported_words", []):
            at = lines[line - 1].find(phrase)
            if at < 0:
                continue
            offset = sum(len(text) + 1 for text in lines[:line - 1]) + at
            if claim.start <= offset < claim.end:
                phrases += 1
                inside = [(offset + m.start(), offset + m.end()) for m in WORD.finditer(phrase)]
                covered += all(any(a <= s and e <= b for a, b in spans) for s, e in inside)
    line5 = per_line.get(5, [])
    # every marked word of line 5 but "tacitly" and "endorsed" (a phrase holding them counts its other words)
    tacitly = any("tacitly endorsed" in text for text in line5)
    others = sum(len(WORD.findall(text)) for text in line5) - (2 if tacitly else 0)
    print(json.dumps({
        "marked_share": round(totals["marked"] / max(totals["words"], 1), 4),
        "marked_share_in_unsupported_lines": round(totals["unsupported_marked"] / max(totals["unsupported_words"], 1), 4),
        "marked_words": totals["marked"], "words": totals["words"],
        "editor_phrases_covered": f"{covered}/{phrases}",
        "line_5": {"marks": line5, "tacitly_endorsed": tacitly,
                   "other_words_marked": others},
        "marks_per_line": {line: [text if score is None else f"{text} ({score:.2f})"
                                  for text, score in zip(found, scores[line])] for line, found in per_line.items()}},
        indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
