"""One bounded, guarded HTTP GET for a source named by URL.

Every limit is explicit, and one deadline holds for the whole fetch: resolving, connecting,
every redirect hop, the headers (a server that drips them a byte at a time is cut off at
the deadline, since every socket read waits at most the time left), and the body. The body
is capped as it is decoded: a declared Content-Length over the cap is refused before the
body is read, and a compressed body is inflated through a decompressor that never returns
more than the room left, so a small "zip bomb" costs no more memory than the cap; stacked
or unknown content codings are refused. Redirects are followed by hand, a bounded number,
each hop checked again; only the content types nli-check can read (HTML, plain text,
Markdown, PDF) are accepted.

Server-side request guard: the host name is resolved here, every address it resolves to is
checked (unless ``allow_private``), including the IPv4 address that an IPv6 form embeds
(IPv4-mapped and -compatible, 6to4, Teredo, NAT64), and the connection goes to that checked
address, with the name carried in the Host header and in TLS (SNI and certificate check),
so a DNS answer that changes between the check and the connection cannot reach an internal
address. Proxies from the environment are not used for the same reason.

httpcore (the transport under httpx) does the HTTP; its network backend is wrapped so that
no socket operation may outlast the deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpcore
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
           "Accept": "text/html, application/xhtml+xml, application/pdf, text/plain, text/markdown;q=0.9, */*;q=0.1",
           "Accept-Encoding": "gzip, deflate"}  # the codings _Inflater reads, and no others
# zlib's window bits for each content coding (deflate: the zlib format; raw deflate is tried next).
CODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
# IPv6 prefixes whose last 32 bits are an IPv4 address: IPv4-compatible (::a.b.c.d),
# IPv4-translated (::ffff:0:a.b.c.d, RFC 2765) and the NAT64 well-known prefix (64:ff9b::a.b.c.d).
EMBEDDING_PREFIXES = tuple(ipaddress.ip_network(net) for net in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
# The NAT64 local-use prefix (64:ff9b:1::/48) embeds an address at a length the network chose.
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")

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
    the cloud metadata address 169.254.169.254), shared, reserved or multicast; for an IPv6
    address that embeds an IPv4 one, both must be."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return False
    if ip.version == 6 and ip in NAT64_LOCAL:
        return False
    return all(_global_v4(embedded) for embedded in _embedded_v4(ip))


def _embedded_v4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    if ip.version == 4:
        return []
    found = [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)] if any(ip in net for net in EMBEDDING_PREFIXES) else []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _global_v4(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not ip.is_multicast


def fetch(url: str, *, limits: FetchLimits | None = None, resolve: Resolver = system_resolver,
          deadline: float | None = None) -> Fetched:
    """GET ``url`` within ``limits``; every way it can fail is one :class:`InputError`
    that names the URL (DNS, refused address, time-out, HTTP status, size, encoding, content type).

    Args:
        url: an http or https URL.
        limits: time, size and redirect limits, and whether private addresses are allowed
            (default: :class:`FetchLimits`).
        resolve: host name to addresses (tests give their own).
        deadline: a ``time.monotonic()`` instant the fetch must end by, when the caller's
            own budget ends before ``limits.timeout_s`` does.

    Returns:
        The body (decoded from its content coding) and its media type.
    """
    limits = limits or FetchLimits()
    clock = Clock(time.monotonic() + limits.timeout_s if deadline is None
                  else min(deadline, time.monotonic() + limits.timeout_s))
    timed_out = InputError(f"{url}: timed out after {clock.allowed_s():g} s")
    current = _parse(url, url)
    with httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=1,
                                 network_backend=_DeadlineBackend(clock)) as pool:
        for _hop in range(limits.max_redirects + 1):
            host = current.raw_host.decode("ascii")  # IDNA-encoded
            address = _checked_address(url, current, host, limits, resolve)
            if clock.left() <= 0:
                raise timed_out
            port = current.port or (443 if current.scheme == "https" else 80)
            named = f"[{host}]" if ":" in host else host
            headers = [("Host", named if current.port is None else f"{named}:{current.port}"), *HEADERS.items()]
            extensions = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), limits.timeout_s)}
            if current.scheme == "https":
                extensions["sni_hostname"] = host
            target = httpcore.URL(scheme=current.raw_scheme, host=address.encode("ascii"), port=port,
                                  target=current.raw_path)
            try:
                with pool.stream("GET", target, headers=headers, extensions=extensions) as response:
                    location = _header(response, "location")
                    if response.status in REDIRECTS and location is not None:
                        current = _parse(url, _join(url, current, location))
                        continue
                    if response.status != 200:
                        reason = response.extensions.get("reason_phrase", b"").decode("latin-1")
                        raise InputError(f"{url}: HTTP {response.status} {reason}".rstrip())
                    return _read(url, current, response, limits, clock, timed_out)
            except httpcore.TimeoutException:
                raise timed_out from None
            except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
                    httpcore.ProxyError, OSError) as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise InputError(f"{url}: cannot fetch from {current.host} ({reason})") from None
    raise InputError(f"{url}: more than {limits.max_redirects} redirects")


class Clock:
    """The one deadline of a fetch (a ``time.monotonic()`` instant)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.started = time.monotonic()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def allowed_s(self) -> float:
        return round(max(0.0, self.deadline - self.started), 1)

    def timeout(self, timeout: float | None) -> float:
        """``timeout`` cut to the time left; past the deadline, a time-out now."""
        left = self.left()
        if left <= 0:
            raise httpcore.ReadTimeout("the fetch's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, clock: Clock) -> None:
        self._stream = stream
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._clock.timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._clock.timeout(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, self._clock.timeout(timeout)),
                               self._clock)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, each stream under the fetch's deadline."""

    def __init__(self, clock: Clock) -> None:
        self._backend = httpcore.SyncBackend()
        self._clock = clock

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, self._clock.timeout(timeout), local_address, socket_options)
        return _DeadlineStream(stream, self._clock)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.UnsupportedProtocol("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(0.0, self._clock.left())))


def _header(response: httpcore.Response, name: str) -> str | None:
    """The first value of a response header, as text (None when absent)."""
    wanted = name.encode("ascii").lower()
    return next((value.decode("latin-1") for key, value in response.headers if key.lower() == wanted), None)


def _join(url: str, current: httpx.URL, location: str) -> str:
    try:
        return str(current.join(location))
    except (httpx.InvalidURL, ValueError) as error:  # IDNA errors are ValueErrors too
        raise InputError(f"{url}: redirected to an invalid URL {location[:200]!r} ({error})") from None


def _parse(url: str, location: str) -> httpx.URL:
    try:
        parsed = httpx.URL(location)
        host = parsed.host  # decoded from IDNA here: a malformed name fails now, not later
    except (httpx.InvalidURL, ValueError) as error:  # idna's errors are ValueErrors too
        where = "" if location == url else f" (redirected to {location[:200]})"
        raise InputError(f"{url}: not a valid URL ({error}){where}") from None
    if parsed.scheme not in SCHEMES or not host:
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


class _Inflater:
    """The body decoded from its content coding as it streams in, never past ``max_bytes``:
    each decompress call may return at most the room left (plus one byte, to tell "over")."""

    def __init__(self, url: str, coding: str, max_bytes: int) -> None:
        self.url, self.max_bytes = url, max_bytes
        self.size = 0
        self._wbits = CODINGS.get(coding)
        self._decompressor = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._decompressor is None:
            yield self._count(data)
            return
        try:
            if not self._started and self._wbits == zlib.MAX_WBITS:
                self._started = True
                try:  # "deflate" sent as raw deflate, as some servers do
                    zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:2])
                except zlib.error:
                    self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            pending = data
            while pending:
                out = self._decompressor.decompress(pending, self.max_bytes - self.size + 1)
                yield self._count(out)
                pending = self._decompressor.unconsumed_tail
        except zlib.error as error:
            raise InputError(f"{self.url}: the body is not valid compressed data ({error})") from None

    def _count(self, out: bytes) -> bytes:
        self.size += len(out)
        if self.size > self.max_bytes:
            raise InputError(f"{self.url}: over the {self.max_bytes / 1e6:g} MB limit (decoded)")
        return out


def _coding(url: str, response: httpcore.Response) -> str:
    """The one content coding of the body ("" for none); stacked or unknown ones are refused."""
    codings = [part.strip().lower() for value in (v for k, v in response.headers if k.lower() == b"content-encoding")
               for part in value.decode("latin-1").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise InputError(f"{url}: refused: the body is encoded {len(codings)} times over "
                         f"({', '.join(codings[:5])}); one content coding at most")
    if codings and codings[0] not in CODINGS:
        raise InputError(f"{url}: the content coding {codings[0][:40]!r} is not supported "
                         f"(gzip and deflate are)")
    return codings[0] if codings else ""


def _read(url: str, current: httpx.URL, response: httpcore.Response, limits: FetchLimits, clock: Clock,
          timed_out: InputError) -> Fetched:
    content_type, _, parameters = (_header(response, "content-type") or "").partition(";")
    content_type = content_type.strip().lower()
    charset = next((value.strip().strip('"') for key, _, value in
                    (part.strip().partition("=") for part in parameters.split(";")) if key.lower() == "charset"),
                   None)
    if content_type not in KINDS and content_type not in UNTYPED:
        raise InputError(f"{url}: the content type {content_type[:80]} is not text, HTML or PDF")
    inflater = _Inflater(url, _coding(url, response), limits.max_bytes)
    declared = (_header(response, "content-length") or "").strip()
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise InputError(f"{url}: {int(declared) / 1e6:.1f} MB is over the {limits.max_bytes / 1e6:g} MB limit")
    body = bytearray()
    for chunk in response.iter_stream():
        for out in inflater.feed(chunk):
            body += out
        if clock.left() <= 0:
            raise timed_out
    if content_kind(content_type, bytes(body[:8])) is None:
        raise InputError(f"{url}: the content type {content_type or '(none)'} is not text, HTML or PDF")
    if not body.strip():
        raise InputError(f"{url}: empty response")
    return Fetched(url, str(current), content_type, charset, bytes(body))
