"""Benchmark: what the slot step costs on the editorial check, runs with and without it
interleaved (the same 1,000-word article against 5,000 words of sources as
benchmarks/limits.py, every cache cleared before each check). Reports, asserts nothing.

    python benchmarks/slot_cost.py [--data ../shared/data] [--repeat 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from check_speed import corpus

from nli_check import Checker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    article, sources = corpus(args.data, 1000, 5000)
    checker = Checker(precision="float32")
    checker.check(article, sources)  # warm-up
    times: dict[str, list[float]] = {"slots": [], "no-slots": []}
    for _ in range(args.repeat):
        for name, run in (("slots", checker), ("no-slots", checker.with_settings(conflicts=False))):
            checker.nli._cache.clear()
            checker.embedder.clear_caches()
            checker._segment_cache.clear()
            started = time.perf_counter()
            report = run.check(article, sources)
            times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s, all {[round(v, 2) for v in values]}")
    print("verdicts:", {str(k): v for k, v in report.summary.items()})


if __name__ == "__main__":
    main()
