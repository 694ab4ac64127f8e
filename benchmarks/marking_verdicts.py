"""Benchmark: does the word marking leave every verdict as it was? And what does it mark?

    python benchmarks/marking_verdicts.py [--sets wice-dev ...] [--limit 100] [--model DIR]
        [--precision float32] [--out FILE]

Runs the checker with words marked on each dev set twice: by the word head beside the model
(``word_head.json``, the marking of nli_check/pipeline/mark.py) and as a model without one
marks them (``Settings(word_marking=False)``: the explainer's novel words and ablations, the
marking before the word head). Reports per set: the claims (sentences) and examples whose
verdict is the same both ways (the marking runs after the verdict, so every one should be),
the share of words marked in the claims called unsupported each way, and the seconds each
took (the second way reuses the first's NLI and embedding caches: a speed comparison is
``check_speed.py --marking both``). Each set's row is appended to ``--out`` as it finishes. A benchmark: it reports,
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORD = re.compile(r"\w+")


def main() -> None:
    from nli_check.evaluation.card import MISSION_SETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(MISSION_SETS))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=None, help="the first N examples of each set")
    parser.add_argument("--model", default=None)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from nli_check import Checker
    from nli_check.datasets.eval_sets import load
    from nli_check.evaluation.evaluate import run_checker
    from nli_check.training.train import cpu_description

    checker = Checker(model=args.model, precision=args.precision)
    if checker.word_head is None:
        parser.error(f"{checker.model_name}: no word_head.json (nli-check fit-marking writes one)")
    ways = {"word head": checker, "without": checker.with_settings(word_marking=False)}
    cpu = cpu_description()
    for name in args.sets:
        evalset = load(name, data_root=args.data, limit=args.limit)
        claims = {example.id: example.claim for example in evalset.examples}
        row = {"set": name, "n": len(evalset.examples), "cpu": cpu, "model": args.model or "shipped",
               "precision": args.precision}
        predictions = {}
        for way, run in ways.items():
            started = time.perf_counter()
            predictions[way] = run_checker(run, evalset.examples)
            words = marked = 0
            for prediction in predictions[way]:
                if prediction.predicted == "unsupported":
                    tokens = [m.span() for m in WORD.finditer(claims[prediction.id])]
                    words += len(tokens)
                    marked += sum(any(s[0] < t[1] and t[0] < s[1] for s in prediction.unsupported_spans)
                                  for t in tokens)
            row[way] = {"seconds": round(time.perf_counter() - started, 1),
                        "marked_share": round(marked / words, 4) if words else None}
        head, without = predictions["word head"], predictions["without"]
        sentences = [(a.label, b.label) for p, q in zip(head, without) for a, b in zip(p.sentences, q.sentences)]
        row["claims"] = len(sentences)
        row["claims_same_verdict"] = sum(a == b for a, b in sentences)
        row["examples_same_verdict"] = sum(p.predicted == q.predicted for p, q in zip(head, without))
        print(json.dumps(row), flush=True)
        if args.out is not None:
            with args.out.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
