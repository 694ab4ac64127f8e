"""Benchmark: what hostile sources and heavy inputs cost a check, end to end.

    python benchmarks/hostile.py [--output results.json]

A hostile HTTP server runs on 127.0.0.1 in this process (a gzip body that inflates to
1 GiB, the same gzipped twice, headers dripped a byte every 0.5 s, charset=undefined, a
redirect to a malformed host); ``nli-check check a.txt --source URL`` is run against each
in a child process, which reports its exit code, its one line on stderr, its wall time and
its peak memory (ru_maxrss). Then sentence splitting of one-line texts (150 KB of prose,
100 KB dense with abbreviations) in this process.
A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from local_server import Route, dripping, serving  # noqa: E402

from nli_check.pipeline.segment import Segmenter  # noqa: E402

CHILD = """
import json, resource, sys, time
from nli_check.cli import run
sys.argv = ["nli-check", *json.loads(sys.argv[1])]
started = time.perf_counter()
try:
    run()
    code = 0
except SystemExit as done:
    code = done.code
print(json.dumps({"exit": code, "seconds": round(time.perf_counter() - started, 2),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def gzip_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size // len(block))) + packer.flush()


def regzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def check(article: Path, url: str, *extra: str, cache: Path) -> dict:
    args = ["check", str(article), "--source", url, *extra]
    result = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                            timeout=600, env={"NLI_CHECK_CACHE": str(cache), "PATH": "/usr/bin:/bin",
                                              "HF_HUB_OFFLINE": "1"})
    lines = result.stdout.strip().splitlines()
    row = json.loads(lines[-1]) if lines else {"exit": result.returncode}
    row["stderr"] = result.stderr.strip().splitlines()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    one_gib = gzip_zeros(1 << 30)
    routes = {"/bomb.txt": Route(one_gib, content_type="text/plain", headers={"Content-Encoding": "gzip"}),
              "/stacked.txt": Route(regzip(one_gib), content_type="text/plain",
                                    headers={"Content-Encoding": "gzip, gzip"}),
              "/undefined.txt": Route(b"Plain words.", content_type="text/plain; charset=undefined"),
              "/bad-host": Route(status=302, headers={"Location": "http://xn--a-/"})}
    results: dict = {"bodies": {"gzip": len(one_gib), "gzip, gzip": len(regzip(one_gib))}}
    with tempfile.TemporaryDirectory() as folder, serving(routes) as server, \
            dripping(interval_s=0.5, max_bytes=400) as drip:
        article = Path(folder) / "a.txt"
        article.write_text("The ministry said the plan was approved.\n")
        cache = Path(folder) / "cache"
        cases = {"gzip bomb, 1 GiB": (f"{server.base}/bomb.txt",),
                 "gzip, gzip, 1 GiB": (f"{server.base}/stacked.txt",),
                 "headers dripped, --fetch-timeout 5": (f"{drip}/x", "--fetch-timeout", "5"),
                 "charset=undefined": (f"{server.base}/undefined.txt",),
                 "invalid IDNA host": ("http://xn--localhost-:18080/",),
                 "redirect to an invalid IDNA host": (f"{server.base}/bad-host",)}
        for name, (url, *extra) in cases.items():
            row = check(article, url, *extra, cache=cache)
            results[name] = row
            print(name, json.dumps(row), flush=True)
    segmenter = Segmenter()
    prose = ("The ministry said the plan was approved by the council on Monday, after a long debate. "
             "Officials expect the first funds to arrive next spring. ")
    dense = ("Dr. A. B. Smith of the U.S. Dept. of Energy met Gen. J. R. Doe at 10 a.m. on Jan. 5, "
             "e.g. in St. Louis, Mo., vs. the Corp. of Eng. Inc. at No. 4 Main St. ")
    for name, unit, size in (("one line of prose, 150 KB", prose, 150_000),
                             ("one line dense with abbreviations, 100 KB", dense, 100_000)):
        text = (unit * (size // len(unit) + 1))[:size]
        started = time.perf_counter()
        count = len(segmenter.segment(text).sentences)
        results[name] = {"seconds": round(time.perf_counter() - started, 2), "sentences": count}
        print(name, json.dumps(results[name]), flush=True)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
