"""Hostile sources and heavy inputs: what an attacker (or a broken server) sends ends in
one clear line, within its limit, without holding memory or the web app.

Each case is built here: tiny compression bombs, a server on 127.0.0.1 that drips its
headers, odd charsets and hosts, deep JSON, long one-line texts, links that leave the
article's folder. No network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from dataclasses import replace

import httpx
import pytest
from local_server import Route, dripping, serving
from test_web import ARTICLE, SOURCE
from test_web import serving as serving_app

from nli_check.batch.chunks import CheckerSpec
from nli_check.batch.runner import run_batch
from nli_check.config import ServeSettings
from nli_check.errors import InputError
from nli_check.pipeline.documents import Document, cited_sources, fetch_document
from nli_check.pipeline.segment import Segmenter
from nli_check.render.html import render_html
from nli_check.serve.app import create_app
from nli_check.sources.cache import Fetcher
from nli_check.sources.fetch import FetchLimits, allowed_address, fetch

LOCAL = FetchLimits(timeout_s=5, max_bytes=1_000_000, allow_private=True)
PAGE = b"<html><body><article><p>The ministry said the council approved the plan on Monday.</p></article></body></html>"


def gzip_bytes(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def zeros_gzip(size: int) -> bytes:
    """``size`` zero bytes, gzipped a megabyte at a time (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * 1_000_000
    return b"".join(packer.compress(block) for _ in range(size // len(block))) + packer.flush()


@pytest.fixture(scope="module")
def server():
    bomb = zeros_gzip(200_000_000)
    routes = {
        "/gzip.html": Route(gzip_bytes(PAGE), headers={"Content-Encoding": "gzip"}),
        "/deflate.html": Route(zlib.compress(PAGE), headers={"Content-Encoding": "deflate"}),
        "/bomb.txt": Route(bomb, content_type="text/plain", headers={"Content-Encoding": "gzip"}),
        "/stacked.txt": Route(gzip_bytes(gzip_bytes(b"text. " * 1000)), content_type="text/plain",
                              headers={"Content-Encoding": "gzip, gzip"}),
        "/brotli.txt": Route(b"\x1b\x00", content_type="text/plain", headers={"Content-Encoding": "br"}),
        "/undefined.txt": Route(b"Plain words.", content_type="text/plain; charset=undefined"),
        "/punycode.html": Route(PAGE, content_type="text/html; charset=punycode"),
        "/rot13.txt": Route(b"Plain words.", content_type="text/plain; charset=rot13"),
        "/to-bad-host": Route(status=302, headers={"Location": "http://xn--a-/"}),
    }
    for hop in range(6):  # slow redirect hops: 0.8 s each
        routes[f"/hop{hop}"] = Route(status=302, headers={"Location": f"/hop{hop + 1}"}, delay_s=0.8)
    with serving(routes) as running:
        yield running


# ---- fetching: decompression, time, odd headers and hosts

def test_compressed_pages_are_decoded(server):
    for path in ("/gzip.html", "/deflate.html"):
        fetched = fetch(f"{server.base}{path}", limits=LOCAL)
        assert fetched.body == PAGE


def test_a_compression_bomb_is_stopped_at_the_cap_with_bounded_memory(server):
    url = f"{server.base}/bomb.txt"
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"over the 1 MB limit \(decoded\)"):
            fetch(url, limits=LOCAL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB while refusing a 200 MB bomb capped at 1 MB"


@pytest.mark.parametrize("path, needle", [("/stacked.txt", "encoded 2 times over"),
                                          ("/brotli.txt", "content coding 'br' is not supported"),
                                          ("/undefined.txt", "not a character set a page can be written in"),
                                          ("/punycode.html", "not a character set a page can be written in"),
                                          ("/rot13.txt", "not a character set a page can be written in"),
                                          ("/to-bad-host", "(redirected to http://xn--a-/)")])
def test_odd_encodings_charsets_and_redirects_are_one_line(server, path, needle):
    url = f"{server.base}{path}"
    with pytest.raises(InputError) as raised:
        fetch_document(url, fetcher=Fetcher(limits=LOCAL))
    message = str(raised.value)
    assert needle in message and url in message and "\n" not in message


def test_an_invalid_international_host_is_one_line():
    with pytest.raises(InputError, match="not a valid URL"):
        fetch("http://xn--localhost-:18080/", limits=LOCAL)


def test_a_server_that_drips_its_headers_is_cut_off_at_the_deadline():
    with dripping(interval_s=0.1, max_bytes=400) as base:
        started = time.monotonic()
        with pytest.raises(InputError, match="timed out after 1.5 s"):
            fetch(f"{base}/page", limits=replace(LOCAL, timeout_s=1.5))
        assert time.monotonic() - started < 3


def test_the_deadline_holds_across_redirect_hops(server):
    started = time.monotonic()
    with pytest.raises(InputError, match="timed out"):
        fetch(f"{server.base}/hop0", limits=replace(LOCAL, timeout_s=2, max_redirects=10))
    assert time.monotonic() - started < 3.5  # six hops of 0.8 s would take 4.8 s


def test_a_callers_deadline_ends_the_fetch_sooner():
    with dripping(interval_s=0.1, max_bytes=400) as base:
        started = time.monotonic()
        with pytest.raises(InputError, match="timed out"):
            fetch(f"{base}/page", limits=LOCAL, deadline=time.monotonic() + 1)
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("address", ["::127.0.0.1", "::ffff:0:7f00:1", "2002:7f00:1::1", "64:ff9b::7f00:1",
                                     "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "::ffff:127.0.0.1",
                                     "2001:0:4136:e378:8000:63bf:3fff:fdd2"])
def test_ipv6_forms_that_embed_a_private_ipv4_address_are_refused(address):
    assert not allowed_address(address)


def test_ipv6_forms_of_public_addresses_are_allowed():
    assert allowed_address("2606:4700:4700::1111")
    assert allowed_address("2002:808:808::1")  # 6to4 of 8.8.8.8
    assert allowed_address("64:ff9b::808:808")  # NAT64 of 8.8.8.8


# ---- the command line: one line, exit 2

def _check(tmp_path, *args, env=None, timeout=120):
    article = tmp_path / "a.txt"
    if not article.exists():
        article.write_text("The ministry said the plan was approved.\n")
    return subprocess.run([sys.executable, "-m", "nli_check", "check", str(article), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_cli_hostile_sources_end_in_one_line_and_exit_two(server, tmp_path):
    cache = {"NLI_CHECK_CACHE": str(tmp_path / "cache")}
    for url, needle in ((f"{server.base}/undefined.txt", "not a character set"),
                        ("http://xn--localhost-:18080/", "not a valid URL"),
                        (f"{server.base}/bomb.txt", "limit (decoded)")):
        result = _check(tmp_path, "--source", url, "--max-fetch-mb", "1", env=cache)
        assert result.returncode == 2, result.stderr
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    with dripping(interval_s=0.2, max_bytes=400) as base:
        started = time.monotonic()
        result = _check(tmp_path, "--source", f"{base}/x", "--fetch-timeout", "2", env=cache)
        assert result.returncode == 2 and "timed out after 2 s" in result.stderr, result.stderr
        assert time.monotonic() - started < 30  # a start of python and the imports, then 2 s


def test_cli_refuses_a_check_over_its_word_budget(tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("The plan was approved by the council. " * 400)
    result = _check(tmp_path, "--source", source, "--max-words", "1000")
    assert result.returncode == 2
    assert "more than 1,000 words" in result.stderr and "--max-words" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---- linear segmentation and the word budget

def test_long_lines_are_split_a_window_at_a_time_with_the_same_sentences():
    unit = ("Dr. A. B. Smith of the U.S. Dept. of Energy met Gen. J. R. Doe at 10 a.m. on Jan. 5, e.g. in St. Louis. "
            "The ministry said the plan, worth 3.5 bn, was approved. ")
    line = unit * 120  # about 17,000 characters, no line break
    windowed = Segmenter(window=2000)
    lengths = []
    split = windowed._pysbd.segment

    def spy(text):
        lengths.append(len(text))
        return split(text)

    windowed._pysbd.segment = spy
    whole = Segmenter(window=10 ** 9)
    got = [s.text for s in windowed.segment(line).sentences]
    assert got == [s.text for s in whole.segment(line).sentences]
    assert max(lengths) <= 2000 and len(lengths) > 8  # pysbd never saw the whole line


def test_the_checker_refuses_more_words_than_its_budget_before_any_work(tiny_checker):
    checker = tiny_checker.with_settings(max_words=500)
    with pytest.raises(InputError, match="more than 500 words"):
        checker.check("The plan was approved.", ["word " * 600])
    assert checker.check("The plan was approved.", ["The plan was approved by the council."]).claims


# ---- local links stay beside the article

def test_links_outside_the_articles_folder_are_refused_and_named(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "credentials.txt").write_text("The password is hunter2.\n")
    (folder / "beside.txt").write_text("The council approved the plan.\n")
    (folder / "escape.txt").symlink_to(tmp_path / "private" / "credentials.txt")
    text = ("The council approved the plan [1]. The password is known [2]. It is known [3]. Also [4]. "
            "And [5].\n\n[1]: beside.txt\n[2]: ../private/credentials.txt\n[3]: /etc/hostname\n[4]: escape.txt\n"
            "[5]: %2e%2e/private/credentials.txt\n")
    article = Document(text, "article.md", "markdown")
    sources, _, warnings = cited_sources(article, base=folder)
    assert [s.text for s in sources] == ["The council approved the plan.\n"]
    joined = "\n".join(warnings)
    for link in ("../private/credentials.txt", "/etc/hostname", "escape.txt", "%2e%2e/private/credentials.txt"):
        assert f"{link!r}" in joined
    assert "hunter2" not in "".join(s.text for s in sources)
    # A root the user names lets the link through the symbolic link (still no ".." and no absolute path).
    sources, _, warnings = cited_sources(article, base=folder, links_root=tmp_path)
    assert "The password is hunter2.\n" in [s.text for s in sources] and len(sources) == 2


# ---- batch: a hostile row is one line, the run goes on, resume works

CUT = b'{"id": "cut", "article": "The council approved the plan.",'  # a row cut short

def test_batch_writes_every_good_row_around_a_hostile_one_and_resumes(tiny_checker, tmp_path, tiny_nli_model,
                                                                      tiny_embedding_model):
    good = {"article": "The council approved the plan.", "sources": ["The plan was approved by the council."]}
    lines = [json.dumps({"id": "a", **good}).encode(),
             b'{"id": "deep", "article": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
             json.dumps({"id": "b", **good}).encode(),
             CUT,
             json.dumps({"id": "a", **good}).encode(),  # the same id again
             json.dumps({"id": "c", **good}).encode()]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(b"\n".join(lines) + b"\n")
    output = tmp_path / "out.jsonl"
    spec = CheckerSpec(model=str(tiny_nli_model), embedding_model=str(tiny_embedding_model))
    run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False)
    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == ["a", "b", "c"]
    errors = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["id"]) for e in errors] == [(2, None), (4, None), (5, "a")]
    assert "nested too deeply" in errors[0]["reason"]
    assert f"(column {len(CUT) + 1})" in errors[1]["reason"]  # where the row was cut, not "column 1" of a next line
    assert "duplicate id 'a': line 1" in errors[2]["reason"]
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["errors"] == 3
    # Cut the run after its third row and resume: the same files, the duplicate still found.
    complete = output.read_text(), (tmp_path / "out.errors.jsonl").read_text()
    output.write_text("".join(output.read_text().splitlines(keepends=True)[:2]))
    (tmp_path / "out.errors.jsonl").write_text("".join(complete[1].splitlines(keepends=True)[:2]))
    run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False, resume=True)
    assert (output.read_text(), (tmp_path / "out.errors.jsonl").read_text()) == complete


# ---- the HTML report shows what is hidden

def test_bidirectional_overrides_and_nul_are_shown_not_obeyed(tiny_checker):
    article = "The council approved the plan\u202e nalp eht.\nThe vote was\x00 held.\n"
    report = tiny_checker.check(article, ["The council approved the plan."])
    page = render_html(report, article=article, title="t")
    assert "\u202e" not in page and "\x00" not in page
    assert "&lt;U+202E&gt;" in page and "&lt;U+0000&gt;" in page


# ---- the web app keeps answering while hostile fetches and an oversized check are in flight

def test_the_web_app_answers_while_hostile_fetches_run_and_cancels_them(tiny_checker, tmp_path):
    settings = ServeSettings(feedback_db=str(tmp_path / "feedback.sqlite"), allow_private_urls=True,
                             timeout_s=6, fetch_timeout_s=5, max_words=2000)
    with dripping(interval_s=0.2, max_bytes=1000) as hostile, serving_app(create_app(settings=settings,
                                                                                     checker=tiny_checker)) as base:
        results: list[httpx.Response] = []

        def send(body):
            results.append(httpx.post(f"{base}/api/check", json=body, timeout=30))

        senders = [threading.Thread(target=send, args=({"article": ARTICLE, "source_urls": [f"{hostile}/{n}"]},))
                   for n in range(6)]
        senders.append(threading.Thread(target=send, args=({"article": "word " * 3000, "sources": [SOURCE]},)))
        for thread in senders:
            thread.start()
        time.sleep(0.5)  # every hostile fetch has started dripping
        timings = {}
        for name, call in (("health", lambda: httpx.get(f"{base}/healthz", timeout=10)),
                           ("check", lambda: httpx.post(f"{base}/api/check", timeout=10,
                                                        json={"article": ARTICLE, "sources": [SOURCE]}))):
            started = time.monotonic()
            response = call()
            timings[name] = time.monotonic() - started
            assert response.status_code == 200, response.text
        report_id = response.headers["x-report-id"]
        started = time.monotonic()
        feedback = httpx.post(f"{base}/api/feedback", timeout=10,
                              json={"report_id": report_id, "claim_index": 0, "label": "supported"})
        timings["feedback"] = time.monotonic() - started
        assert feedback.status_code == 201
        assert max(timings.values()) < 2, timings
        for thread in senders:
            thread.join(30)
        codes = sorted(r.status_code for r in results)
        assert codes == [400] * 7, [r.text for r in results]  # six "timed out after 5 s", one over the budget
        assert sum("timed out" in r.json()["detail"] for r in results) == 6
        assert sum("more than 2,000 words" in r.json()["detail"] for r in results) == 1
        assert all(r.headers["x-content-type-options"] == "nosniff" for r in results)
        deadline = time.monotonic() + 5  # a place is given back as its thread ends, just after the answer
        while (health := httpx.get(f"{base}/healthz", timeout=10).json())["fetching"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health["in_progress"] == 0 and health["fetching"] == 0


def test_a_web_check_that_times_out_is_cancelled(tiny_checker, tmp_path):
    class SlowChecker:
        """The tiny checker, slowed in its first model step, so the request times out mid-check."""

        def __init__(self, checker):
            self.checker = checker
            self.model_name = checker.model_name
            self.ended = threading.Event()
            self.outcome = None

        def check(self, *args, cancel=None, **kwargs):
            original = self.checker._embed

            def slow(request):
                time.sleep(2.5)
                return original(request)

            slowed = self.checker.with_settings()
            slowed._embed = slow
            try:
                slowed.check(*args, cancel=cancel, **kwargs)
                self.outcome = "finished"
            except Exception as error:  # what the worker saw
                self.outcome = type(error).__name__
            finally:
                self.ended.set()

    slow = SlowChecker(tiny_checker)
    settings = ServeSettings(feedback_db=str(tmp_path / "feedback.sqlite"), timeout_s=1)
    with serving_app(create_app(settings=settings, checker=slow)) as base:
        response = httpx.post(f"{base}/api/check", json={"article": ARTICLE, "sources": [SOURCE]}, timeout=30)
        assert response.status_code == 504
        assert slow.ended.wait(20)
        assert slow.outcome == "Cancelled"


def test_deeply_nested_request_json_is_a_400_with_the_security_headers(tiny_checker, tmp_path):
    settings = ServeSettings(feedback_db=str(tmp_path / "feedback.sqlite"))
    with serving_app(create_app(settings=settings, checker=tiny_checker)) as base:
        body = b'{"article": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        response = httpx.post(f"{base}/api/check", content=body, headers={"Content-Type": "application/json"},
                              timeout=30)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["x-content-type-options"] == "nosniff"
