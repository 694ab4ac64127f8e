"""Fetched sources on disk, keyed by URL, so that checking an article again (or a batch
that cites the same pages) does not fetch them again. ``refresh`` fetches anew.

Each entry is two files named by the URL's SHA-256: the body, then a small JSON record
that is written last (both atomically), so a half-written entry is never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from nli_check.config import SOURCE_CACHE_ENV
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.sources.fetch import Fetched, FetchLimits, Resolver, fetch, system_resolver

log = logging.getLogger(__name__)


def default_cache_folder() -> Path:
    """``$NLI_CHECK_CACHE``, else ``$XDG_CACHE_HOME/nli-check/sources`` (``~/.cache`` by default)."""
    if os.environ.get(SOURCE_CACHE_ENV):
        return Path(os.environ[SOURCE_CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nli-check" / "sources"


class SourceCache:
    """Fetched bodies in ``folder`` (created on first write)."""

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_folder()

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.folder / f"{key}.json", self.folder / f"{key}.body"

    def get(self, url: str) -> Fetched | None:
        """The stored fetch of ``url``, or None (absent, or unreadable: then it is fetched again)."""
        record_path, body_path = self._paths(url)
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if record.get("url") != url or record.get("size") != len(body):
            return None
        return Fetched(url, record["final_url"], record["content_type"], record.get("charset"), body)

    def put(self, fetched: Fetched) -> None:
        """Store a fetch; a cache that cannot be written is logged and skipped, never fatal."""
        record_path, body_path = self._paths(fetched.url)
        record = {"url": fetched.url, "final_url": fetched.final_url, "content_type": fetched.content_type,
                  "charset": fetched.charset, "size": len(fetched.body), "fetched_at": int(time.time())}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(body_path, fetched.body)
            write_atomically(record_path, json.dumps(record))
        except (OSError, InputError) as error:
            log.warning("nli-check: cannot write the source cache in %s (%s)", self.folder, error)


class Fetcher:
    """Fetches URLs within ``limits``, through ``cache`` when given (``refresh``: fetch
    anew and store the new copy). A fetcher that refuses private addresses uses no cache:
    an entry fetched by a local user may hold a page the guard exists to keep out."""

    def __init__(self, *, limits: FetchLimits | None = None, cache: SourceCache | None = None,
                 refresh: bool = False, resolve: Resolver = system_resolver) -> None:
        self.limits = limits = limits or FetchLimits()
        self.cache = cache if limits.allow_private else None
        self.refresh = refresh
        self.resolve = resolve

    def get(self, url: str, *, deadline: float | None = None) -> Fetched:
        """``url``'s body, from the cache or fetched (by ``deadline``, a ``time.monotonic()``
        instant, when that comes before the limits' own time-out)."""
        if self.cache is not None and not self.refresh:
            cached = self.cache.get(url)
            if cached is not None:
                return cached
        fetched = fetch(url, limits=self.limits, resolve=self.resolve, deadline=deadline)
        if self.cache is not None:
            self.cache.put(fetched)
        return fetched
