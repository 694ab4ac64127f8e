"""Sources by URL and PDF (nli_check/sources): a real local HTTP server serves a cluttered
page, a PDF, a redirect, a 404, a slow and an oversized response; the fetch limits, the
private-address guard, the on-disk cache and the command line are tested against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import SEEDS
from local_server import Route, cluttered_page, make_pdf, make_scanned_pdf, serving

from nli_check.errors import InputError
from nli_check.pipeline.documents import load_source, read_document
from nli_check.sources import fetch as fetch_module
from nli_check.sources.cache import Fetcher, SourceCache
from nli_check.sources.extract import extract_pdf
from nli_check.sources.fetch import FetchLimits, allowed_address, fetch

SOURCE_LINES = (SEEDS / "source.txt").read_text().splitlines()
LOCAL = FetchLimits(timeout_s=5, max_bytes=200_000, allow_private=True)  # the server is on 127.0.0.1


@pytest.fixture(scope="module")
def pdf_bytes():
    return make_pdf([SOURCE_LINES[:4], SOURCE_LINES[4:]])


@pytest.fixture(scope="module")
def server(pdf_bytes):
    routes = {
        "/statement.html": Route(cluttered_page("Statement on Russian forces", SOURCE_LINES)),
        "/statement.pdf": Route(pdf_bytes, content_type="application/pdf"),
        "/untyped.pdf": Route(pdf_bytes, content_type="application/octet-stream"),
        "/scanned.pdf": Route(make_scanned_pdf(), content_type="application/pdf"),
        "/legacy.html": Route('<html><head><meta charset="windows-1252"></head><body><article><p>The café said '
                              '“yes” to the ministry.</p></article></body></html>'.encode("cp1252"),
                              content_type="text/html"),
        "/notes.txt": Route("Plain notes. Café au lait.\n".encode("latin-1"), content_type="text/plain; charset=latin-1"),
        "/redirect": Route(status=302, headers={"Location": "/statement.html"}),
        "/loop": Route(status=302, headers={"Location": "/loop"}),
        "/to-ftp": Route(status=301, headers={"Location": "ftp://127.0.0.1/file"}),
        "/slow": Route(b"<p>late</p>", delay_s=3),
        "/huge-declared": Route(b"x", declared_length=50_000_000),
        "/huge-streamed": Route(b"<p>" + b"word " * 20_000 + b"</p>", chunks=50),
        "/image.png": Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png"),
        "/empty.html": Route(b"<html><head><title>T</title><script>var x;</script></head><body><div></div></body></html>"),
    }
    with serving(routes) as running:
        yield running


def test_a_cluttered_page_gives_its_main_text_only(server):
    document = load_source(f"{server.base}/statement.html", fetcher=Fetcher(limits=LOCAL))
    assert document.name == f"{server.base}/statement.html" and document.format == "text"
    assert document.text.splitlines() == ["Statement on Russian forces", *SOURCE_LINES]
    for clutter in ("cookies", "Home", "About us", "Football", "Copyright", "tracking"):
        assert clutter not in document.text


def test_a_redirect_is_followed_and_the_source_keeps_the_given_url(server):
    document = load_source(f"{server.base}/redirect", fetcher=Fetcher(limits=LOCAL))
    assert document.name == f"{server.base}/redirect"
    assert SOURCE_LINES[0] in document.text
    fetched = fetch(f"{server.base}/redirect", limits=LOCAL)
    assert fetched.final_url.endswith("/statement.html")


def test_a_pdf_by_url_and_by_file_gives_its_text_with_pages(server, pdf_bytes, tmp_path):
    by_url = load_source(f"{server.base}/statement.pdf", fetcher=Fetcher(limits=LOCAL))
    assert by_url.text.splitlines() == SOURCE_LINES  # wrapped lines joined, paragraphs kept
    assert len(by_url.pages) == 2 and by_url.text[by_url.pages[1]:].startswith(SOURCE_LINES[4])
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf_bytes)
    by_file = read_document(str(path))
    assert (by_file.text, by_file.pages, by_file.name) == (by_url.text, by_url.pages, "statement.pdf")
    # A PDF served as application/octet-stream is known by its first bytes.
    assert load_source(f"{server.base}/untyped.pdf", fetcher=Fetcher(limits=LOCAL)).text == by_url.text


def test_a_pdf_content_stream_is_compressed(pdf_bytes):
    assert b"/FlateDecode" in pdf_bytes  # as real PDFs are: the text is not in the file as plain bytes
    assert SOURCE_LINES[0].encode() not in pdf_bytes


def test_pages_are_decoded_with_their_charset(server):
    assert load_source(f"{server.base}/notes.txt", fetcher=Fetcher(limits=LOCAL)).text.startswith(
        "Plain notes. Café au lait.")
    # No charset in the header: the page's own <meta charset> tells.
    assert load_source(f"{server.base}/legacy.html", fetcher=Fetcher(limits=LOCAL)).text == \
        "The café said “yes” to the ministry."


@pytest.mark.parametrize(("path", "limits", "needle"), [
    ("/missing", LOCAL, "HTTP 404 Not Found"),
    ("/slow", FetchLimits(timeout_s=0.5, allow_private=True), "timed out after 0.5 s"),
    ("/huge-declared", LOCAL, "50.0 MB is over the 0.2 MB limit"),
    ("/huge-streamed", LOCAL, "over the 0.2 MB limit"),
    ("/image.png", LOCAL, "content type image/png is not text, HTML or PDF"),
    ("/loop", LOCAL, "more than 5 redirects"),
    ("/to-ftp", LOCAL, "only http and https URLs can be fetched (redirected to ftp://"),
    ("/scanned.pdf", LOCAL, "no text layer"),
    ("/empty.html", LOCAL, "no main text found"),
])
def test_every_failure_is_one_line_naming_the_url(server, path, limits, needle):
    url = f"{server.base}{path}"
    with pytest.raises(InputError) as error:
        load_source(url, fetcher=Fetcher(limits=limits))
    message = str(error.value)
    assert message.startswith(url) and needle in message and "\n" not in message


def test_dns_failure_and_refused_connection_are_one_line():
    with pytest.raises(InputError, match=r"cannot resolve host no-such-host\.invalid"):
        fetch("http://no-such-host.invalid/page", limits=LOCAL)
    with pytest.raises(InputError, match=r"cannot fetch from 127\.0\.0\.1"):
        fetch("http://127.0.0.1:9/page", limits=LOCAL)  # the discard port: nothing listens


def test_private_addresses_are_refused_unless_allowed(server):
    guarded = FetchLimits(timeout_s=5, allow_private=False)
    with pytest.raises(InputError, match="refused: 127.0.0.1 is at 127.0.0.1, a loopback"):
        fetch(f"{server.base}/statement.html", limits=guarded)
    with pytest.raises(InputError, match="refused: localhost is at"):
        fetch(f"http://localhost:{server.base.rsplit(':', 1)[1]}/statement.html", limits=guarded)
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "100.64.0.1",
                    "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"):
        assert not allowed_address(address), address
    assert allowed_address("93.184.216.34") and allowed_address("2606:4700::1111")


def test_the_guard_checks_every_redirect_hop(server, monkeypatch):
    # 127.0.0.1 stands for a public address here; the redirect leads to 127.0.0.2, a "private" one.
    monkeypatch.setattr(fetch_module, "allowed_address", lambda address: address == "127.0.0.1")
    port = server.base.rsplit(":", 1)[1]
    server.routes["/to-private"] = Route(status=302, headers={"Location": f"http://127.0.0.2:{port}/statement.html"})
    guarded = FetchLimits(timeout_s=5, allow_private=False)
    assert fetch(f"{server.base}/statement.html", limits=guarded).body
    with pytest.raises(InputError, match="refused: 127.0.0.2"):
        fetch(f"{server.base}/to-private", limits=guarded)


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(server):
    port = server.base.rsplit(":", 1)[1]
    asked = []

    def resolve(host, port_number):
        asked.append((host, port_number))
        return ["127.0.0.1"]

    fetched = fetch(f"http://news.example:{port}/statement.html", limits=LOCAL, resolve=resolve)
    assert asked == [("news.example", int(port))] and fetched.body
    assert server.hosts[-1] == f"news.example:{port}"


def test_the_cache_serves_a_second_fetch_and_refresh_fetches_again(server, tmp_path):
    url = f"{server.base}/statement.pdf"
    cache = SourceCache(tmp_path / "cache")
    before = server.hits.get("/statement.pdf", 0)
    first = Fetcher(limits=LOCAL, cache=cache).get(url)
    again = Fetcher(limits=LOCAL, cache=cache).get(url)
    assert again == first and server.hits["/statement.pdf"] == before + 1
    Fetcher(limits=LOCAL, cache=cache, refresh=True).get(url)
    assert server.hits["/statement.pdf"] == before + 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1 and not list((tmp_path / "cache").glob("*.tmp"))
    # A guarded fetcher (the web app's) never reads the cache: it could hold a private page.
    assert Fetcher(limits=FetchLimits(allow_private=False), cache=cache).cache is None


def test_a_scanned_pdf_file_is_a_clear_error(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_scanned_pdf())
    with pytest.raises(InputError, match=r"scan\.pdf: the PDF has no text layer .*run OCR"):
        read_document(str(path))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    with pytest.raises(InputError, match=r"broken\.pdf: not a readable PDF"):
        read_document(str(broken))


def test_pdf_lines_join_into_sentences_but_short_lines_and_page_ends_stay():
    text = extract_pdf(make_pdf([["Statement", "A long sentence that wraps " * 6 + "ends here."],
                                 ["Second page, first paragraph."]]), name="x.pdf")
    lines = text.text.splitlines()
    assert lines[0] == "Statement" and lines[1].endswith("ends here.") and lines[1].count("wraps") == 6
    assert lines[2] == "Second page, first paragraph." and text.pages == (0, text.text.index("Second"))


# ---- the command line, with the tiny models

def run_cli(*args, cache):
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NLI_CHECK_CACHE=str(cache))
    return subprocess.run([sys.executable, "-m", "nli_check", *map(str, args)], capture_output=True, env=env,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def models(tiny_nli_model, tiny_embedding_model):
    return ["--model", tiny_nli_model, "--embedding-model", tiny_embedding_model]


def test_cli_checks_against_a_url_and_a_pdf_naming_them(server, models, tmp_path, pdf_bytes):
    article = tmp_path / "article.txt"
    article.write_text("The ministry said Russia is deploying new weapons.\nThe permission did not extend to "
                       "long-range missiles.\n")
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(pdf_bytes)
    url = f"{server.base}/statement.html"
    result = run_cli("check", article, "--source", url, "--source", pdf, "--format", "json", *models,
                     cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sources"] == [url, "statement.pdf"] and report["schema_version"] == "1.7"
    pages = {e["page"] for claim in report["claims"] for e in claim["evidence"] if e["source"] == "statement.pdf"}
    urls = {e["page"] for claim in report["claims"] for e in claim["evidence"] if e["source"] == url}
    assert pages and pages <= {1, 2} and urls <= {None}
    hits = server.hits["/statement.html"]
    assert run_cli("check", article, "--source", url, *models, cache=tmp_path / "cache").returncode == 0
    assert server.hits["/statement.html"] == hits  # from the cache (--refresh: see the cache test above)


def test_cli_fetch_failure_is_one_line_and_exit_two(server, models, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text("The ministry said Russia is deploying new weapons.\n")
    out = tmp_path / "report.json"
    result = run_cli("check", article, "--source", f"{server.base}/missing", "--output", out, *models,
                     cache=tmp_path / "cache")
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and f"{server.base}/missing: HTTP 404" in lines[0], lines
    assert not out.exists()
    slow = run_cli("check", article, "--source", f"{server.base}/slow", "--fetch-timeout", "0.5", *models,
                   cache=tmp_path / "cache")
    assert slow.returncode == 2 and b"timed out after 0.5 s" in slow.stderr
    # --refresh fetches again: a page cached while it was there is now gone.
    server.routes["/withdrawn.html"] = Route(cluttered_page("Statement", SOURCE_LINES))
    Fetcher(limits=LOCAL, cache=SourceCache(tmp_path / "cache")).get(f"{server.base}/withdrawn.html")
    server.routes["/withdrawn.html"] = Route(b"gone", status=404)
    refreshed = run_cli("check", article, "--source", f"{server.base}/withdrawn.html", "--refresh", *models,
                        cache=tmp_path / "cache")
    assert refreshed.returncode == 2 and b"withdrawn.html: HTTP 404" in refreshed.stderr
    neither = run_cli("check", article, *models, cache=tmp_path / "cache")
    assert neither.returncode == 2 and b"--sources-from-links" in neither.stderr


# ---- batch rows that name their sources by URL

def test_batch_rows_fetch_url_sources_through_the_cache(server, tiny_checker, tmp_path, monkeypatch):
    from nli_check.batch.chunks import BatchChecker
    from nli_check.batch.corpus import BadRow, parse_row

    monkeypatch.setenv("NLI_CHECK_CACHE", str(tmp_path / "cache"))
    url = f"{server.base}/statement.pdf"
    row = {"id": 1, "article": "The permission did not extend to long-range missiles.",
           "sources": [{"url": url}, {"url": f"{server.base}/statement.html", "id": "ministry page"}]}
    article = parse_row(row, 1)
    assert article.source_names == [url, "ministry page"] and len(article.source_pages[0]) == 2
    assert article.sources[0].splitlines() == SOURCE_LINES and article.source_pages[1] == ()
    hits = server.hits["/statement.pdf"]
    assert parse_row(row, 1) == article and server.hits["/statement.pdf"] == hits  # the cache: same text
    [(kind, output)] = BatchChecker(tiny_checker.with_settings(similarity_floor=-1.0)).check_chunk([article])
    assert kind == "row" and {e["page"] for c in output["claims"] for e in c["evidence"] if e["source"] == url} <= {1, 2}
    bad = parse_row({"id": 2, "article": "A claim.", "sources": [{"url": f"{server.base}/missing"}]}, 2)
    assert isinstance(bad, BadRow) and bad.reason == f"source 1: {server.base}/missing: HTTP 404 Not Found"
