"""Benchmark: the editorial check against what the machine allows, before and after.

    python benchmarks/limits.py [--data ../shared/data] [--repeat 3] [--precision float32] [--backend torch]

Reports in one run:
  * the machine: CPU model, the flags that matter, torch threads, and the float32 matmul
    rate (GFLOP/s) of torch on it;
  * per model (MiniLM embedding, NLI cross-encoder): FLOPs of a forward pass per token,
    measured tokens/s on real inputs, and the share of the matmul rate reached;
  * the editorial check (benchmarks/check_speed.py's 1,000-word article against 5,000 words
    of sources, and against those plus as many words of unrelated documents), caches
    cleared before every check, for the
    settings of today (every sentence embedded, every candidate scored) and the new defaults
    (first stage and early exit): median seconds, NLI pairs per claim, sentences embedded,
    the share of time per stage, and the cost of doubling the sources.
A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

from check_speed import corpus

CONFIGS = {"today": {"first_stage_cut": 0, "early_exit": False}, "defaults": {},
           "first-stage-4": {"first_stage_cut": 4}, "no-slots": {"conflicts": False}}


def unrelated_documents(data: Path, words: int) -> list[str]:
    """About ``words`` words of XSumFaith documents from the end of the file, far from those
    the article and its sources are drawn from: more to read, nothing more to find."""
    documents, seen = [], set()
    for line in (data / "xsumfaith" / "xsumfaith_dev.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["bbcid"] not in seen:
            seen.add(row["bbcid"])
            documents.append(row["document"])
    taken, total = [], 0
    for document in reversed(documents):
        if total >= words:
            break
        taken.append(document)
        total += len(document.split())
    return taken


class TimedEncoder:
    """A model's encoder that adds up its seconds, inputs and tokens (real and padded);
    other attributes (input_names) read through."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reset()

    def reset(self) -> None:
        self.seconds, self.items, self.tokens, self.padded = 0.0, 0, 0, 0

    def __call__(self, features):
        started = time.perf_counter()
        try:
            return self.inner(features)
        finally:
            self.seconds += time.perf_counter() - started
            self.items += len(features["input_ids"])
            self.tokens += int(features["attention_mask"].sum())
            self.padded += int(features["attention_mask"].size)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def matmul_gflops(size: int = 1024, seconds: float = 2.0) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        runs += 1
    return 2 * size ** 3 * runs / (time.perf_counter() - started) / 1e9


def flops_per_token(config, tokens: float) -> float:
    """Multiply-adds x 2 of one token's forward pass through a BERT-style encoder of
    ``tokens`` tokens: the four attention projections, the feed-forward, the attention itself."""
    h, layers, ffn = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    return 2 * layers * (4 * h * h + 2 * h * ffn + 2 * tokens * h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--precision", default="float32", choices=["auto", "float32", "bfloat16", "int8"])
    parser.add_argument("--backend", default="torch", choices=["auto", "torch", "openvino"])
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import AutoConfig

    from nli_check import Checker
    from nli_check.training.train import cpu_description

    article, sources = corpus(args.data, 1000, 5000)
    doubled = sources + unrelated_documents(args.data, sum(len(s.split()) for s in sources))
    checker = Checker(precision=args.precision, backend=args.backend)
    nli_config = AutoConfig.from_pretrained(checker.nli.name)
    embed_config = AutoConfig.from_pretrained(str(checker.embedder.layout.transformer))
    limit = matmul_gflops()
    result = {"cpu": cpu_description(), "torch_threads": torch.get_num_threads(), "matmul_gflops_float32": round(limit, 1),
              "backend": checker.nli.backend, "precision": checker.nli.precision}

    embedding = checker.embedder.encoder = TimedEncoder(checker.embedder.encoder)
    nli = checker.nli.encoder = TimedEncoder(checker.nli.encoder)
    checker.check(article, sources)  # warm-up: kernels, the first stage's model

    runs = {}
    for name, settings in CONFIGS.items():
        run = checker.with_settings(**settings)
        for label, texts in (("sources", sources), ("doubled", doubled)):
            times, stage_times = [], []
            for _ in range(args.repeat):
                checker.nli._cache.clear()
                checker.embedder.clear_caches()
                checker._segment_cache.clear()
                embedding.reset()
                nli.reset()
                started = time.perf_counter()
                report = run.check(article, texts)
                total = time.perf_counter() - started
                times.append(total)
                stage_times.append((embedding.seconds, nli.seconds, total))
            embed_s, nli_s, total = stage_times[int(np.argsort(times)[len(times) // 2])]
            runs.setdefault(name, {})[label] = {
                "claims": len(report.claims), "source_words": sum(len(t.split()) for t in texts),
                "seconds_median": round(float(np.median(times)), 2), "seconds_all": [round(t, 2) for t in times],
                "nli_pairs_per_claim": round(report.nli_pairs / len(report.claims), 2),
                "texts_embedded": embedding.items,
                "padding_share": {"embedding": round(1 - embedding.tokens / max(embedding.padded, 1), 3),
                                  "nli": round(1 - nli.tokens / max(nli.padded, 1), 3)},
                "share": {"embedding": round(embed_s / total, 2), "nli": round(nli_s / total, 2),
                          "rest": round(1 - (embed_s + nli_s) / total, 2)},
                "summary": {str(k): v for k, v in report.summary.items()},
                "embedding": {"tokens_per_s": round(embedding.tokens / max(embed_s, 1e-9))},
                "nli": {"tokens_per_s": round(nli.tokens / max(nli_s, 1e-9)),
                        "mean_tokens": round(nli.tokens / max(nli.items, 1), 1)},
            }
        runs[name]["doubling_cost"] = round(runs[name]["doubled"]["seconds_median"]
                                            / runs[name]["sources"]["seconds_median"], 2)
    for name in CONFIGS:
        for label in ("sources", "doubled"):
            entry = runs[name][label]
            for model_name, config, tokens in (("embedding", embed_config, 32),
                                               ("nli", nli_config, entry["nli"]["mean_tokens"])):
                per_token = flops_per_token(config, tokens)
                rate = entry[model_name]["tokens_per_s"] * per_token / 1e9
                entry[model_name].update(gflop_per_token=round(per_token / 1e9, 4), gflops=round(rate, 1),
                                         share_of_matmul=round(rate / limit, 2))
    result["editorial"] = runs
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
