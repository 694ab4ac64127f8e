"""Load test: a burst of concurrent ``POST /api/check`` requests against ``nli-check serve``.

    python benchmarks/web_load.py [--requests 50] [--queue 8] [--timeout 60] [--data ../shared/data]

Starts ``nli-check serve`` (shipped model unless --model) on a free localhost port, sends
--requests requests at once, and reports: the status of every request (none may be lost:
each is answered 200, or refused 503 with Retry-After, or 504), whether each 200 is
correct (valid schema 1.0, one claim per article line, and the same verdicts as the same
request sent again alone afterwards, so no answer was mixed up with another's), latency
percentiles, and the server's resident memory (idle after start-up, and its peak, VmHWM).

Each request is a different article and source, so caches do not hide the work: five
system summaries of one XSumFaith dev document (one per line) checked against the
document's first --source-words words. Without ../shared/data the seed article and source
are sent every time (then the checker's caches answer repeats). A benchmark, not a test:
it reports and asserts nothing about time; it exits 1 only if a request was lost or wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import jsonschema

REPO = Path(__file__).resolve().parents[1]


def payloads(data: Path, count: int, source_words: int) -> tuple[list[dict], str]:
    path = data / "xsumfaith" / "xsumfaith_dev.jsonl"
    if not path.is_file():
        article = (REPO / "seeds" / "article.txt").read_text(encoding="utf-8")
        source = (REPO / "seeds" / "source.txt").read_text(encoding="utf-8")
        return [{"article": article, "sources": [source]}] * count, "seeds/article.txt vs seeds/source.txt (repeated)"
    documents: dict[str, dict] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            entry = documents.setdefault(row["bbcid"], {"document": row["document"], "summaries": []})
            entry["summaries"].append(" ".join(row["summary"].split()))
    chosen = [d for d in documents.values() if len(d["summaries"]) >= 5][:count]
    if len(chosen) < count:
        raise SystemExit(f"{path}: only {len(chosen)} documents with five summaries, asked for {count}")
    built = [{"article": "\n".join(d["summaries"][:5]) + "\n",
              "sources": [" ".join(d["document"].split()[:source_words])]} for d in chosen]
    return built, f"XSumFaith dev: {count} documents, 5 summaries each vs the first {source_words} words"


def rss_kb(pid: int) -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def burst(url: str, bodies: list[dict], timeout: float) -> list[dict]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        gate = asyncio.Event()

        async def one(index: int, body: dict) -> dict:
            await gate.wait()  # all start together
            started = time.perf_counter()
            try:
                response = await client.post(f"{url}/api/check", json=body)
            except httpx.HTTPError as error:
                return {"index": index, "status": None, "error": repr(error),
                        "seconds": time.perf_counter() - started}
            return {"index": index, "status": response.status_code, "seconds": time.perf_counter() - started,
                    "json": response.json(), "retry_after": response.headers.get("retry-after")}

        tasks = [asyncio.create_task(one(i, body)) for i, body in enumerate(bodies)]
        await asyncio.sleep(0.1)
        gate.set()
        return await asyncio.gather(*tasks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--queue", type=int, default=None, help="serve --queue (default: serve's default)")
    parser.add_argument("--timeout", type=float, default=None, help="serve --timeout (default: serve's default)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--source-words", type=int, default=300)
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    bodies, described = payloads(args.data, args.requests, args.source_words)
    schema = json.loads((REPO / "nli_check" / "schema" / "report.schema.json").read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="nli-check-load-"))
    command = [sys.executable, "-m", "nli_check", "serve", "--port", str(port),
               "--feedback-db", str(folder / "feedback.sqlite")]
    command += ["--queue", str(args.queue)] if args.queue is not None else []
    command += ["--timeout", str(args.timeout)] if args.timeout is not None else []
    command += ["--model", args.model] if args.model else []
    log = (folder / "serve.log").open("w")
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"nli-check serve exited: {(folder / 'serve.log').read_text()[-2000:]}")
            try:
                health = httpx.get(f"{url}/healthz", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.25)
        start_up = time.perf_counter() - started
        idle = rss_kb(server.pid)

        peak = {"VmRSS": idle["VmRSS"]}
        done = threading.Event()

        def sample() -> None:  # VmHWM already keeps the peak; sampling shows when it happened
            while not done.is_set():
                try:
                    peak["VmRSS"] = max(peak["VmRSS"], rss_kb(server.pid)["VmRSS"])
                except FileNotFoundError:
                    return
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        wall = time.perf_counter()
        results = asyncio.run(burst(url, bodies, timeout=(args.timeout or 60) + 60))
        wall = time.perf_counter() - wall
        done.set()
        sampler.join()
        after = rss_kb(server.pid)

        # Correctness: every 200 is valid, complete and the same as the request sent alone.
        wrong, answered = [], [r for r in results if r["status"] == 200]
        for result in answered:
            body, report = bodies[result["index"]], result["json"]
            try:
                jsonschema.validate(report, schema)
            except jsonschema.ValidationError as error:
                wrong.append((result["index"], f"schema: {error.message}"))
                continue
            lines = [line for line in body["article"].splitlines() if line.strip()]
            if len(report["claims"]) < len(lines):
                wrong.append((result["index"], f"{len(report['claims'])} claims for {len(lines)} lines"))
                continue
            alone = httpx.post(f"{url}/api/check", json=body, timeout=300).json()
            verdicts = [(c["text"], c["label"]) for c in report["claims"]]
            if [(c["text"], c["label"]) for c in alone["claims"]] != verdicts:
                wrong.append((result["index"], "differs from the same request sent alone"))
        statuses: dict[str, int] = {}
        for result in results:
            statuses[str(result["status"])] = statuses.get(str(result["status"]), 0) + 1
        lost = [r for r in results if r["status"] is None]
        unclear = [r for r in results if r["status"] not in (None, 200)
                   and not (r["status"] in (503, 504) and r["json"].get("detail")
                            and (r["status"] != 503 or r["retry_after"]))]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    latency = [r["seconds"] for r in answered]
    refused = [r["seconds"] for r in results if r["status"] in (503, 504)]
    summary = {
        "requests": len(bodies), "payload": described, "server": " ".join(command[2:]),
        "model": health["model"], "capacity": health["capacity"], "start_up_s": round(start_up, 1),
        "statuses": statuses, "lost": len(lost), "wrong": wrong, "unclear_refusals": len(unclear),
        "wall_s": round(wall, 2),
        "latency_200_s": {f"p{q}": round(percentile(latency, q), 2) for q in (50, 90, 95, 99)} | {
            "max": round(max(latency), 2)} if latency else {},
        "latency_refused_s": {"p50": round(percentile(refused, 50), 3),
                              "max": round(max(refused), 3)} if refused else {},
        "rss_mb": {"idle_after_start": round(idle["VmRSS"] / 1024), "peak_during_burst": round(peak["VmRSS"] / 1024),
                   "peak_hwm": round(after["VmHWM"] / 1024), "after_burst": round(after["VmRSS"] / 1024)},
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if lost or wrong or unclear else 0


if __name__ == "__main__":
    sys.exit(main())
