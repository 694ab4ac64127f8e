"""Benchmark: peak memory and time of the training recipe, with and without activation
checkpointing of long batches, on the same batches.

    python benchmarks/train_memory.py [--data ../shared/data] [--mix full] [--steps 150]
        [--above -1 4096] [--base models/nli-minilm-l6] [--precision bfloat16|float32]

Runs ``nli_check.training.train.train`` for the first ``--steps`` steps of the mix (the same data,
seed and batch order each time), once per ``--above`` value of ``checkpoint_above_tokens``
(-1: never, 0: every batch), each in a fresh process so that its peak resident memory
(``ru_maxrss``) is its own. Reports peak memory, seconds (data preparation included), how
many batches were checkpointed, and the logged training losses (which should agree: the
gradients are the same). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def one_run(data: str, base: str, mix: str, steps: int, above: int, precision: str, queue) -> None:
    import logging

    from nli_check.training.train import TrainConfig, train

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        config = TrainConfig(base_model=base, mix=mix, seed=17, learning_rate=2e-5, precision=precision,
                             checkpoint_above_tokens=None if above < 0 else above)
        with contextlib.redirect_stdout(sys.stderr):  # the trainer prints its logs; stdout is the report
            log = train(data_root=Path(data), output=Path(workdir) / "model", workdir=Path(workdir), config=config,
                        max_steps=steps)
        state = json.loads(next(Path(workdir, "checkpoints").glob("checkpoint-*/trainer_state.json")).read_text())
    queue.put({
        "checkpoint_above_tokens": above,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
        "seconds": log["train_seconds"],
        "checkpointed_batches": log["checkpointed_batches"],
        "loss": {entry["step"]: entry["loss"] for entry in state["log_history"] if "loss" in entry},
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--base", default="models/nli-minilm-l6")
    parser.add_argument("--mix", default="full")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--above", type=int, nargs="+", default=[-1, 4096])
    parser.add_argument("--precision", default="bfloat16", choices=["bfloat16", "float32"],
                        help="float32: as the shipped model was trained")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    results = []
    for above in args.above:
        queue = context.Queue()
        process = context.Process(target=one_run, args=(args.data, args.base, args.mix, args.steps, above,
                                                        args.precision, queue))
        process.start()
        results.append(queue.get())
        process.join()
    print(json.dumps({"mix": args.mix, "steps": args.steps, "base": args.base, "precision": args.precision,
                      "runs": results}, indent=2))


if __name__ == "__main__":
    main()
