"""Benchmark: the editorial check and each model's throughput per backend and precision.

    python benchmarks/runtime_speed.py [--data ../shared/data] [--repeat 3]
        [--runtimes torch:float32 openvino:float32 openvino:int8 ...] [--model DIR]

In one run, on this machine: the CPU (model and the flags that matter) and its float32
matmul rate; then for each runtime (backend:precision, both models alike) the editorial
check of benchmarks/check_speed.py (a 1,000-word article of 50 claims against 5,000 words
of sources; then against those plus as many words of unrelated documents), caches cleared
before every check: median seconds, NLI pairs, verdicts equal to the first runtime's; and
the throughput of each model on what that check ran (NLI pairs/s, embedded texts/s, real
tokens/s and the share of the float32 matmul rate they reach). A runtime whose precision
this CPU cannot run natively is still measured (bfloat16 is emulated where there are no
bfloat16 units). With ``PYTHONPATH`` set to a checkout of an older commit, it measures that
code instead (a Checker without backends: its torch runtimes only), for before/after
figures from one session. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

from check_speed import corpus
from limits import TimedEncoder, flops_per_token, matmul_gflops, unrelated_documents

DEFAULT_RUNTIMES = ["torch:float32", "openvino:float32", "openvino:int8", "torch:bfloat16", "openvino:bfloat16"]


def clear(checker) -> None:
    checker.nli._cache.clear()
    checker.embedder.clear_caches()
    checker._segment_cache.clear()


def measure(checker, article: str, sources: list[str], doubled: list[str], repeat: int) -> dict:
    import numpy as np

    checker.check(article, sources)  # warm-up: kernels per shape, the first stage's model
    result = {}
    for label, texts in (("sources", sources), ("doubled", doubled)):
        times = []
        for _ in range(repeat):
            clear(checker)
            started = time.perf_counter()
            report = checker.check(article, texts)
            times.append(time.perf_counter() - started)
        result[label] = {"seconds_median": round(float(np.median(times)), 2), "seconds_all": [round(t, 2) for t in times],
                         "nli_pairs": report.nli_pairs, "labels": [claim.label for claim in report.claims]}
    result["doubling_cost"] = round(result["doubled"]["seconds_median"] / result["sources"]["seconds_median"], 2)
    return result


def throughput(checker, article: str, sources: list[str], limit: float) -> dict:
    """Each model's rate on the texts and pairs one check runs (caches cleared, warm kernels)."""
    from transformers import AutoConfig

    clear(checker)
    nli, embedding = TimedEncoder(checker.nli.encoder), TimedEncoder(checker.embedder.encoder)
    checker.nli.encoder, checker.embedder.encoder = nli, embedding
    try:
        checker.check(article, sources)
    finally:
        checker.nli.encoder, checker.embedder.encoder = nli.inner, embedding.inner
    rates = {}
    for name, timed, folder in (("nli", nli, checker.nli.name), ("embedding", embedding,
                                                                  str(checker.embedder.layout.transformer))):
        mean_tokens = timed.tokens / max(timed.items, 1)
        gflops = timed.tokens * flops_per_token(AutoConfig.from_pretrained(folder), mean_tokens) / 1e9 / max(timed.seconds, 1e-9)
        rates[name] = {"inputs": timed.items, "inputs_per_s": round(timed.items / max(timed.seconds, 1e-9), 1),
                       "mean_tokens": round(mean_tokens, 1), "tokens_per_s": round(timed.tokens / max(timed.seconds, 1e-9)),
                       "gflops": round(gflops, 1), "share_of_float32_matmul": round(gflops / limit, 2)}
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runtimes", nargs="+", default=DEFAULT_RUNTIMES, help="BACKEND:PRECISION ...")
    parser.add_argument("--model", default=None)
    parser.add_argument("--accurate", action="store_true", help="the mpnet teacher as the NLI model")
    args = parser.parse_args()

    import torch

    from nli_check import Checker
    from nli_check.training.train import cpu_description

    model = "models/nli-mpnet-teacher" if args.accurate else args.model
    article, sources = corpus(args.data, 1000, 5000)
    doubled = sources + unrelated_documents(args.data, sum(len(s.split()) for s in sources))
    limit = matmul_gflops()
    has_backend = "backend" in inspect.signature(Checker).parameters
    result = {"cpu": cpu_description(), "torch_threads": torch.get_num_threads(),
              "matmul_gflops_float32": round(limit, 1), "code": "with backends" if has_backend else "before backends",
              "model": model or "shipped", "runtimes": {}}
    reference = None
    for runtime in args.runtimes:
        backend, precision = runtime.split(":")
        if not has_backend and backend != "torch":
            continue
        started = time.perf_counter()
        checker = Checker(model=model, precision=precision, **({"backend": backend} if has_backend else {}))
        load_s = time.perf_counter() - started
        entry = {"load_s": round(load_s, 1), **measure(checker, article, sources, doubled, args.repeat)}
        if has_backend:
            entry["models"] = throughput(checker, article, sources, limit)
        labels = entry["sources"].pop("labels")
        entry["doubled"].pop("labels")
        reference = reference or labels
        entry["verdicts_equal_to_first"] = f"{sum(a == b for a, b in zip(labels, reference))}/{len(reference)}"
        result["runtimes"][runtime] = entry
        print(json.dumps({runtime: entry}), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
