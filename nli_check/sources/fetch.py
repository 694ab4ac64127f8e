"""One bounded, guarded HTTP GET for a source named by URL.

Every limit is explicit: a time-out for connecting and for each read, and the same time
again for the whole fetch; a cap on the body (a declared Content-Length over it is refused
before the body is read, a streamed one as soon as the count passes it); redirects followed
by hand, a bounded number, each hop checked again; and only the content types nli-check
can read (HTML, plain text, Markdown, PDF).

Server-side request guard: the host name is resolved here, every address it resolves to is
checked (unless ``allow_private``), and the connection goes to that checked address, with
the name carried in the Host header and in TLS (SNI and certificate check), so a DNS answer
that changes between the check and the connection cannot reach an internal address.
Proxies from the environment are not used for the same reason.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from nli_check import __version__
from nli_check.config import FETCH_MAX_BYTES, FETCH_MAX_REDIRECTS, FETCH_TIMEOUT_S
from nli_check.errors import InputError

SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
# Media types read as each kind; anything else is refused.
KINDS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text", "text/markdown": "markdown",
         "text/x-markdown": "markdown", "application/pdf": "pdf", "application/x-pdf": "pdf"}
# Servers that do not know a PDF's type say this; the file's first bytes tell.
UNTYPED = ("", "application/octet-stream", "binary/octet-stream", "application/download")
HEADERS = {"User-Agent": f"nli-check/{__version__} (source check)",
           "Accept": "text/html, application/xhtml+xml, application/pdf, text/plain, text/markdown;q=0.9, */*;q=0.1"}

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may cost, and whether it may reach private addresses (the command
    line fetches for its own user and allows them; the web app does not, by default)."""

    timeout_s: float = FETCH_TIMEOUT_S
    max_bytes: int = FETCH_MAX_BYTES
    max_redirects: int = FETCH_MAX_REDIRECTS
    allow_private: bool = True


@dataclass(frozen=True)
class Fetched:
    """A fetched body and what the server said it is."""

    url: str  # as asked for
    final_url: str  # after redirects
    content_type: str  # media type, lower case, without parameters
    charset: str | None
    body: bytes

    @property
    def kind(self) -> str:
        """``html``, ``text``, ``markdown`` or ``pdf``."""
        return content_kind(self.content_type, self.body) or "text"


def content_kind(content_type: str, body: bytes = b"") -> str | None:
    """The kind of source a media type (and the first bytes) say, None if unreadable."""
    if content_type in UNTYPED:
        return "pdf" if body.startswith(b"%PDF-") else None
    return KINDS.get(content_type)


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def allowed_address(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local (which holds
    the cloud metadata address 169.254.169.254), shared, reserved or multicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def fetch(url: str, *, limits: FetchLimits | None = None, resolve: Resolver = system_resolver) -> Fetched:
    """GET ``url`` within ``limits``; every way it can fail is one :class:`InputError`
    that names the URL (DNS, refused address, time-out, HTTP status, size, content type).

    Args:
        url: an http or https URL.
        limits: time, size and redirect limits, and whether private addresses are allowed
            (default: :class:`FetchLimits`).
        resolve: host name to addresses (tests give their own).

    Returns:
        The body and its media type.
    """
    limits = limits or FetchLimits()
    deadline = time.monotonic() + limits.timeout_s
    current = _parse(url, url)
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=httpx.Timeout(limits.timeout_s),
                      headers=HEADERS) as client:
        for _hop in range(limits.max_redirects + 1):
            host = current.raw_host.decode("ascii")  # IDNA-encoded
            address = _checked_address(url, current, host, limits, resolve)
            target = current.copy_with(host=address, fragment=None)
            named = f"[{host}]" if ":" in host else host
            host_header = named if current.port is None else f"{named}:{current.port}"
            extensions = {"sni_hostname": host} if current.scheme == "https" else {}
            try:
                with client.stream("GET", target, headers={"Host": host_header}, extensions=extensions) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        current = _parse(url, str(current.join(response.headers["location"])))
                        continue
                    if response.status_code != 200:
                        reason = response.reason_phrase or ""
                        raise InputError(f"{url}: HTTP {response.status_code} {reason}".rstrip())
                    return _read(url, current, response, limits, deadline)
            except httpx.TimeoutException:
                raise InputError(f"{url}: timed out after {limits.timeout_s:g} s") from None
            except httpx.HTTPError as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise InputError(f"{url}: cannot fetch from {current.host} ({reason})") from None
    raise InputError(f"{url}: more than {limits.max_redirects} redirects")


def _parse(url: str, location: str) -> httpx.URL:
    try:
        parsed = httpx.URL(location)
    except (httpx.InvalidURL, ValueError) as error:
        raise InputError(f"{url}: not a valid URL ({error})") from None
    if parsed.scheme not in SCHEMES or not parsed.host:
        where = "" if location == url else f" (redirected to {location})"
        raise InputError(f"{url}: only http and https URLs can be fetched{where}")
    return parsed


def _checked_address(url: str, current: httpx.URL, host: str, limits: FetchLimits, resolve: Resolver) -> str:
    """The address to connect to for ``current``, after checking every address ``host`` has."""
    port = current.port or (443 if current.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise InputError(f"{url}: cannot resolve host {host}") from None
    if not addresses:
        raise InputError(f"{url}: cannot resolve host {host}")
    if not limits.allow_private:
        for address in addresses:
            if not allowed_address(address):
                raise InputError(f"{url}: refused: {host} is at {address}, a loopback, private, "
                                 f"link-local or reserved address (the server does not fetch those unless "
                                 f"started with --allow-private-urls)")
    return addresses[0]


def _read(url: str, current: httpx.URL, response: httpx.Response, limits: FetchLimits, deadline: float) -> Fetched:
    content_type, _, parameters = response.headers.get("content-type", "").partition(";")
    content_type = content_type.strip().lower()
    charset = next((value.strip().strip('"') for key, _, value in
                    (part.strip().partition("=") for part in parameters.split(";")) if key.lower() == "charset"),
                   None)
    if content_type not in KINDS and content_type not in UNTYPED:
        raise InputError(f"{url}: the content type {content_type} is not text, HTML or PDF")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise InputError(f"{url}: {int(declared) / 1e6:.1f} MB is over the {limits.max_bytes / 1e6:g} MB limit")
    body = bytearray()
    for chunk in response.iter_bytes():  # decoded: the cap holds for compressed bodies too
        body += chunk
        if len(body) > limits.max_bytes:
            raise InputError(f"{url}: over the {limits.max_bytes / 1e6:g} MB limit")
        if time.monotonic() > deadline:
            raise InputError(f"{url}: timed out after {limits.timeout_s:g} s")
    if content_kind(content_type, bytes(body[:8])) is None:
        raise InputError(f"{url}: the content type {content_type or '(none)'} is not text, HTML or PDF")
    if not body.strip():
        raise InputError(f"{url}: empty response")
    return Fetched(url, str(current), content_type, charset, bytes(body))
