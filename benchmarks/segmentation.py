"""Benchmark: sentence splitting, window by window (nli_check.pipeline.segment) against
pysbd on whole lines.

    python benchmarks/segmentation.py [--data ../shared/data] [--limit 300]

Reports in one run:
  * agreement: on the seeds and on the source documents of every mission dev set (the first
    ``--limit`` examples of each), how many documents split into exactly the same sentences
    both ways, and the sentences that differ;
  * time: a one-line text (no line breaks) of growing size, plain prose and text dense with
    abbreviations, split both ways (pysbd on whole lines is skipped past 130 KB).
A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pysbd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nli_check.datasets.eval_sets import load  # noqa: E402
from nli_check.pipeline.segment import Segmenter  # noqa: E402

MISSION_DEV = ("wice-dev", "xsumfaith-dev", "check-covid-dev", "citation-integrity-dev", "healthver-dev",
               "attributionbench-dev")
ABBREVIATIONS = ("Dr. A. B. Smith of the U.S. Dept. of Energy met Gen. J. R. Doe at 10 a.m. on Jan. 5, "
                 "e.g. in St. Louis, Mo., vs. the Corp. of Eng. Inc. at No. 4 Main St. ")
PROSE = ("The ministry said the plan was approved by the council on Monday, after a long debate. "
         "Officials expect the first funds to arrive next spring. ")


class WholeLines(Segmenter):
    """The segmenter as it was: pysbd on each whole line."""

    def _split(self, line: str):
        return self._pysbd.segment(line)


def sentences(segmenter: Segmenter, text: str) -> list[str]:
    return [s.text for s in segmenter.segment(text).sentences]


def agreement(documents: dict[str, list[str]]) -> dict:
    windowed, whole = Segmenter(), WholeLines()
    rows = {}
    for name, texts in documents.items():
        same = differing = 0
        examples = []
        for text in dict.fromkeys(texts):
            a, b = sentences(windowed, text), sentences(whole, text)
            if a == b:
                same += 1
            else:
                differing += 1
                if len(examples) < 2:
                    examples.append({"windowed": [s for s in a if s not in b][:2],
                                     "whole": [s for s in b if s not in a][:2]})
        longest = max((max((len(line) for line in t.splitlines()), default=0) for t in texts), default=0)
        rows[name] = {"documents": same + differing, "same": same, "differing": differing,
                      "longest_line_chars": longest, "examples": examples}
        print(f"{name}: {same} of {same + differing} documents split the same (longest line {longest} chars)",
              flush=True)
    return rows


def timing() -> list[dict]:
    windowed, whole = Segmenter(), WholeLines()
    rows = []
    for kind, unit in (("prose", PROSE), ("abbreviations", ABBREVIATIONS)):
        for size in (31_000, 62_000, 125_000, 250_000, 1_000_000):
            text = (unit * (size // len(unit) + 1))[:size]
            row = {"text": kind, "chars": size}
            for name, segmenter in (("windowed", windowed), ("whole_line", whole)):
                if name == "whole_line" and size > 130_000:
                    continue
                started = time.perf_counter()
                count = len(segmenter.segment(text).sentences)
                row[f"{name}_s"] = round(time.perf_counter() - started, 2)
                row[f"{name}_sentences"] = count
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--output", type=Path, default=None, help="Also write the results here (JSON).")
    args = parser.parse_args()
    documents = {"seeds": [(REPO / "seeds" / name).read_text() for name in ("article.txt", "source.txt")]}
    for name in MISSION_DEV:
        evalset = load(name, data_root=args.data, limit=args.limit)
        documents[name] = [source for example in evalset.examples for source in example.sources]
    results = {"pysbd": pysbd.__version__ if hasattr(pysbd, "__version__") else "?",
               "agreement": agreement(documents), "timing": timing()}
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
