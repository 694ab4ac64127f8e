"""A local HTTP server for the source tests: pages, PDFs and the ways a fetch goes wrong,
served from 127.0.0.1 in a thread of the test process (no test reaches the internet)."""

from __future__ import annotations

import html
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    declared_length: int | None = None  # a Content-Length that differs from the body's (None: the body's)
    chunks: int = 1  # body sent this many times, without Content-Length, then the connection closes


def cluttered_page(title: str, paragraphs: list[str]) -> bytes:
    """A web page as sites make them: navigation, cookie banner, related links, footer
    around the article's paragraphs."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>.cookie {{ position: fixed; }}</style><script>window.tracking = true;</script></head><body>
<div class="cookie-banner" id="cookie">We use cookies to improve your experience. Accept all cookies?</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/world">World</a></li>
<li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li></ul></nav></header>
<main><article><h1>{html.escape(title)}</h1>
{body}
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Weather today: sunny spells all week</a></li>
<li><a href="/b">Football results from the weekend</a></li></ul></aside>
<footer><p>Copyright 2024 Example News. All rights reserved.</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body></html>""".encode()


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with fpdf2 (content streams compressed, as real PDFs have), one list of
    paragraphs per page; long paragraphs wrap over several lines."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def make_scanned_pdf() -> bytes:
    """A PDF with no text layer (a drawing stands for the scanned image)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output())


class Server:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: dict[str, int] = {}
        self.hosts: list[str] = []
        self.base = ""


@contextmanager
def serving(routes: dict[str, Route]):
    """Serve ``routes`` on a free port of 127.0.0.1; yields the :class:`Server` (``base`` is its URL)."""
    state = Server(routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            state.hits[path] = state.hits.get(path, 0) + 1
            state.hosts.append(self.headers.get("Host", ""))
            route = state.routes.get(path)
            if route is None:
                route = Route(b"<html><body><p>Not here.</p></body></html>", status=404)
            if route.delay_s:
                time.sleep(route.delay_s)
            try:
                self._respond(route)
            except OSError:  # the client gave up (a time-out, a size cap): what those tests want
                self.close_connection = True

        def _respond(self, route: Route) -> None:
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for key, value in route.headers.items():
                self.send_header(key, value)
            if route.chunks > 1:
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(route.chunks):
                    self.wfile.write(route.body)
                self.close_connection = True
                return
            length = route.declared_length if route.declared_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if route.declared_length is None:
                self.wfile.write(route.body)
            else:
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def dripping(*, interval_s: float = 0.2, max_bytes: int = 200, redirect_to: str | None = None):
    """A hostile server on 127.0.0.1: it answers each request with its status line and
    headers one byte every ``interval_s`` (at most ``max_bytes`` bytes, so every loop
    ends by itself), as a server would that means to hold its client. With
    ``redirect_to``, the headers it drips redirect there. Yields its base URL."""
    import socket

    head = (b"HTTP/1.1 302 Found\r\nLocation: " + redirect_to.encode() + b"\r\n" if redirect_to
            else b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n") + b"X-Padding: " + b"x" * max_bytes + b"\r\n\r\n"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            try:
                connection.settimeout(2)
                connection.recv(65536)  # the request
                for byte in head[:max_bytes]:
                    if stop.wait(interval_s):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:  # the client gave up: what the tests want
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
