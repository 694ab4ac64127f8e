"""Reading a corpus as a stream of rows (JSON Lines or Parquet), and planning it into chunks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nli_check.errors import InputError
from nli_check.pipeline.segment import FORMATS

log = logging.getLogger(__name__)


PARQUET_SUFFIXES = (".parquet", ".pq")


# ---------------------------------------------------------------- reading the corpus

@dataclass(frozen=True)
class Article:
    """A usable input row. ``line`` is its line in a JSON Lines file (its 1-based row
    number in a Parquet file)."""

    line: int
    id: str | int
    text: str
    sources: list[str]
    source_names: list[str]
    article_format: str = "text"
    source_formats: list[str] = field(default_factory=list)
    source_pages: list[tuple[int, ...]] = field(default_factory=list)  # per source: PDF page starts, else ()


@dataclass(frozen=True)
class BadRow:
    """An input row that cannot be checked, and why (one line)."""

    line: int
    id: str | int | None
    reason: str

    def to_dict(self) -> dict:
        return {"line": self.line, "id": self.id, "reason": self.reason}


def is_parquet(path: Path) -> bool:
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def parse_row(row: object, line: int) -> Article | BadRow:
    """Validate one decoded row: ``id``, ``article`` (text) and ``sources`` (texts, or
    objects with ``text`` or ``url`` and optional ``id`` and ``format``); optional
    ``format``. A ``url`` is fetched through the on-disk source cache that ``check``
    uses, so a resumed run reads the very same text."""
    if not isinstance(row, dict):
        return BadRow(line, None, f"expected a JSON object, got {type(row).__name__}")
    ident = row.get("id")
    if ident is None:
        return BadRow(line, None, "missing field 'id'")
    if isinstance(ident, bool) or not isinstance(ident, (str, int)) or (isinstance(ident, str) and not ident.strip()):
        return BadRow(line, None, f"'id' must be a non-empty string or an integer, got {ident!r:.40}")
    if "article" not in row or row["article"] is None:
        return BadRow(line, ident, "missing field 'article'")
    text = row["article"]
    if not isinstance(text, str):
        return BadRow(line, ident, f"'article' must be a string, got {type(text).__name__}")
    if not text.strip():
        return BadRow(line, ident, "empty article")
    article_format = row.get("format") or "text"
    if article_format not in FORMATS:
        return BadRow(line, ident, f"unknown format {article_format!r}; expected one of {', '.join(FORMATS)}")
    if "sources" not in row or row["sources"] is None:
        return BadRow(line, ident, "missing field 'sources'")
    given = row["sources"]
    if isinstance(given, (str, bytes, dict)) or not isinstance(given, Iterable):
        return BadRow(line, ident, f"'sources' must be a list, got {type(given).__name__}")
    given = list(given)
    if not given:
        return BadRow(line, ident, "'sources' is empty: a claim can only be checked against a source")
    texts, names, formats, pages = [], [], [], []
    for number, source in enumerate(given, start=1):
        name, fmt, paged = f"source {number}", "text", ()
        if isinstance(source, dict) and source.get("text") is None and isinstance(source.get("url"), str):
            try:
                fetched = _fetch(source["url"])
            except InputError as error:
                return BadRow(line, ident, f"source {number}: {error}")
            name = str(source["id"]) if source.get("id") is not None else fetched.name
            fmt, paged, source = fetched.format, fetched.pages, fetched.text
        elif isinstance(source, dict):
            name = str(source["id"]) if source.get("id") is not None else name
            fmt = source.get("format") or "text"
            source = source.get("text")
        if not isinstance(source, str):
            return BadRow(line, ident, f"source {number} has no text (expected a string or an object with 'text')")
        if not source.strip():
            return BadRow(line, ident, f"source {number} is empty")
        if fmt not in FORMATS:
            return BadRow(line, ident, f"source {number}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        texts.append(source)
        names.append(name)
        formats.append(fmt)
        pages.append(paged)
    return Article(line, ident, text, texts, names, article_format, formats, pages)


def _fetch(url: str):
    """A row's source named by URL, through the source cache (``$NLI_CHECK_CACHE``)."""
    from nli_check.pipeline.documents import fetch_document
    from nli_check.sources.cache import Fetcher, SourceCache

    return fetch_document(url, fetcher=Fetcher(cache=SourceCache()))


def _decode_line(raw: bytes, line: int) -> Article | BadRow | None:
    if not raw.strip():
        return None  # a blank line is no row (JSON Lines files often end with one)
    raw = raw.rstrip(b"\r\n")  # else a row cut short is reported at "line 2, column 1"
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return BadRow(line, None, f"not UTF-8 (invalid byte 0x{raw[error.start]:02x} at column {error.start + 1})")
    except json.JSONDecodeError as error:
        return BadRow(line, None, f"malformed JSON: {error.msg} (column {error.pos + 1})")
    except RecursionError:
        return BadRow(line, None, "malformed JSON: nested too deeply to read")
    try:
        return parse_row(row, line)
    except RecursionError:
        return BadRow(line, None, "a field is nested too deeply to read")


def iter_rows(path: Path, *, start: int = 1, stop: int | None = None,
              offset: int = 0) -> Iterator[Article | BadRow]:
    """Stream the rows at positions ``start`` .. ``stop`` (inclusive, 1-based) of a JSON
    Lines or Parquet corpus. ``offset``, for JSON Lines, is the byte offset of line
    ``start`` when the caller knows it (the Ray engine's chunk plan), to skip reading."""
    path = Path(path)
    if is_parquet(path):
        yield from _iter_parquet(path, start=start, stop=stop)
        return
    with path.open("rb") as handle:
        if offset:
            handle.seek(offset)
            first = start
        else:
            first = 1
        for line, raw in enumerate(handle, start=first):
            if line < start:
                continue
            if stop is not None and line > stop:
                return
            row = _decode_line(raw, line)
            if row is not None:
                yield row


def require_pyarrow() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install pyarrow (or nli-check[ray])") from None


def parquet_file(path: Path):
    require_pyarrow()
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"{path}: not a readable Parquet file ({error})") from None


def _iter_parquet(path: Path, *, start: int, stop: int | None) -> Iterator[Article | BadRow]:
    parquet = parquet_file(path)
    position = 1  # row number of the first row of the current row group
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        if position + rows <= start:  # the whole group lies before start: not read at all
            position += rows
            continue
        if stop is not None and position > stop:
            return
        for batch in parquet.iter_batches(row_groups=[group], batch_size=1024):
            for row in batch.to_pylist():
                if position >= start and (stop is None or position <= stop):
                    yield parse_row(row, position)
                position += 1


def count_positions(path: Path) -> int:
    """Input positions (lines, or Parquet rows), for the progress bar's ETA; read in
    blocks, never as a whole."""
    if is_parquet(path):
        return parquet_file(path).metadata.num_rows
    lines, last = 0, b"\n"
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def chunk_plan(path: Path, *, chunk_size: int, first_chunk: int = 0) -> Iterator[dict]:
    """The chunks of a corpus from ``first_chunk`` on: index, first and last position,
    and (JSON Lines) the byte offset of the first line, so a worker reads only its
    chunk. Computed in one streaming pass."""
    total = count_positions(path)
    if is_parquet(path):
        for index in range(first_chunk, -(-total // chunk_size)):
            yield {"index": index, "start": index * chunk_size + 1,
                   "stop": min(total, (index + 1) * chunk_size), "offset": 0}
        return
    offset, line = 0, 0
    with Path(path).open("rb") as handle:
        for raw in handle:
            if line % chunk_size == 0 and line // chunk_size >= first_chunk:
                yield {"index": line // chunk_size, "start": line + 1, "stop": line + chunk_size, "offset": offset}
            line += 1
            offset += len(raw)
