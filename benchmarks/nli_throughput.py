"""Benchmark: NLI pairs per second of a cross-encoder at batch 64 on 60-token pairs.

    python benchmarks/nli_throughput.py [--model PATH] [--pairs 1024] [--batch-size 64]
        [--precision auto|float32|bfloat16|int8] [--backend auto|torch|openvino]

Pairs are made of distinct words so that no cache applies; the tokenizer confirms their
length. Reports pairs/s over the whole run (after one warm-up batch). int8 is static int8
on OpenVINO (nli_check.runtime); torch's dynamic int8 was dropped (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = ("ministry report troops weapons border country statement officials said increase decrease "
         "government plan support military army deploy new old region city year month week people "
         "economy policy market growth rate price minister defense agency news source").split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--pairs", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=60)
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16", "int8"])
    parser.add_argument("--backend", default="auto", choices=["auto", "torch", "openvino"])
    args = parser.parse_args()
    from nli_check.config import default_nli_model_path
    from nli_check.pipeline.infer import NLIModel

    model = NLIModel(args.model or default_nli_model_path(), precision=args.precision, backend=args.backend)
    tokenizer = model.tokenizer
    rng = random.Random(0)

    def pair() -> tuple[str, str]:
        premise = " ".join(rng.choice(WORDS) for _ in range(args.tokens * 2 // 3 - 2))
        hypothesis = " ".join(rng.choice(WORDS) for _ in range(args.tokens // 3 - 1))
        return premise, hypothesis

    pairs = [pair() for _ in range(args.pairs + args.batch_size)]
    lengths = [len(tokenizer(p, h)["input_ids"]) for p, h in pairs[:200]]
    model.predict(pairs[: args.batch_size], batch_size=args.batch_size)  # warm-up
    start = time.perf_counter()
    model.predict(pairs[args.batch_size:], batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    import torch

    print(json.dumps({"pairs": args.pairs, "batch_size": args.batch_size,
                      "mean_tokens_per_pair": round(sum(lengths) / len(lengths), 1),
                      "seconds": round(seconds, 2), "pairs_per_second": round(args.pairs / seconds, 1),
                      "backend": model.backend, "precision": model.precision, "torch_threads": torch.get_num_threads()}, indent=2))


if __name__ == "__main__":
    main()
