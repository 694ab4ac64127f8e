"""Plain NLI accuracy: the model's most probable label against the gold label, pair by pair.

    python benchmarks/pair_accuracy.py --models models/nli-minilm-l6 models/nli-mpnet-teacher [--limit 1000]

No pairing, no thresholds: the 3-way argmax on the sentence-pair sets that the training
holds out (``datasets.dev_sets``: SNLI test, TaxiNLI held-out, ANLI R3 dev). This is the
accuracy NLI papers report, beside the checker-path numbers of ``nli-check eval``. Prints one
JSON line per (model, set). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SETS = ("snli-test", "taxinli-heldout", "anli-r3-dev")


def main() -> None:
    from nli_check.datasets.dev_sets import dev_sets
    from nli_check.labels import ID2LABEL
    from nli_check.pipeline.infer import NLIModel
    from nli_check.training.train import cpu_description

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N pairs of each set.")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()

    held_out = dev_sets(args.data)
    cpu = cpu_description()["model"]
    for folder in args.models:
        model = NLIModel(folder, precision=args.precision)
        for name in args.sets:
            pairs = held_out[name][:args.limit]
            started = time.time()
            probabilities = model.predict([(p.premise, p.hypothesis) for p in pairs])
            seconds = time.time() - started
            right = sum(ID2LABEL[int(row.argmax())] == pair.label for row, pair in zip(probabilities, pairs))
            print(json.dumps({"model": str(folder), "set": name, "n": len(pairs), "accuracy": round(right / len(pairs), 4),
                              "seconds": round(seconds, 1), "precision": args.precision,
                              "cpu": cpu}), flush=True)


if __name__ == "__main__":
    main()
