"""Batch scoring of article corpora (``nli-check batch``): streaming, resumable, fast.

The corpus is read as a stream, one article a row (JSON Lines, or Parquet read one row
group at a time), and checked in *chunks* of ``chunk_size`` input positions. A chunk is
the unit of work of both engines (this module's local one and ``nli_check.batch_ray``):

* its claims are embedded in one call, and each distinct source once per run, on its own
  (a source cited by many articles is embedded once);
* the NLI pairs of all its articles are scored in one length-sorted pass, each distinct
  (evidence, claim) pair once; then the ablations that mark unsupported words, again in
  one pass. The local engine keeps every score in a :class:`ScoreStore` on disk, so a
  pair met again in a later chunk is not scored again either;
* the verdicts come from ``Checker.check_steps``, the very code behind ``Checker.check``.

Chunks start at fixed positions (line ``k * chunk_size + 1``), and what a chunk computes
depends on the chunk and on the scores stored before it, never on what sat in a batch
beside it in another run. That is what makes a resumed run's rows identical to an
uninterrupted run's: ``--resume`` restarts at the start of the chunk that was cut,
recomputes it (finding in the store the scores the interrupted run had stored), and
appends only the rows not yet written.

Every finished row is appended to the output in input order and flushed and fsynced
before the next is written (the errors file likewise, interleaved in input order), so
after a crash the files hold a prefix of the run, plus at most one torn line, which
resume cuts off. The manifest next to the output says ``running`` (with the settings a
resume must repeat) until the run completes, then ``complete`` with the counts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import (BATCH_CHUNK_SIZE, BATCH_SOURCE_CACHE, DEFAULT_NLI_MODEL_NAME, DEFAULT_PRECISION, LABELS,
                              SCHEMA_VERSION, Settings)
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.precision import resolve_precision
from nli_check.segment import FORMATS

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")
MANIFEST_VERSION = "1"


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
    objects with ``text`` and optional ``id`` and ``format``); optional ``format``."""
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
    texts, names, formats = [], [], []
    for number, source in enumerate(given, start=1):
        name, fmt = f"source {number}", "text"
        if isinstance(source, dict):
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
    return Article(line, ident, text, texts, names, article_format, formats)


def _decode_line(raw: bytes, line: int) -> Article | BadRow | None:
    if not raw.strip():
        return None  # a blank line is no row (JSON Lines files often end with one)
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return BadRow(line, None, f"not UTF-8 (invalid byte 0x{raw[error.start]:02x} at column {error.start + 1})")
    except json.JSONDecodeError as error:
        return BadRow(line, None, f"malformed JSON: {error.msg} (column {error.colno})")
    return parse_row(row, line)


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


def _require_pyarrow() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install pyarrow (or nli-check[ray])") from None


def _parquet_file(path: Path):
    _require_pyarrow()
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"{path}: not a readable Parquet file ({error})") from None


def _iter_parquet(path: Path, *, start: int, stop: int | None) -> Iterator[Article | BadRow]:
    parquet = _parquet_file(path)
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
        return _parquet_file(path).metadata.num_rows
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


# ---------------------------------------------------------------- checking a chunk

@dataclass(frozen=True)
class CheckerSpec:
    """What it takes to build a Checker in another process or on another node."""

    model: str | None = None
    embedding_model: str = "minilm"
    device: str | None = None
    precision: str = DEFAULT_PRECISION  # both models; see nli_check.precision
    top_k: int | None = None
    explain: bool = True
    threads: int | None = None  # torch intra-op threads; None: torch's choice (one per core)

    def settings(self) -> Settings:
        return Settings().with_overrides(top_k=self.top_k, explain=self.explain)

    def build(self):
        from nli_check.checker import Checker

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        return Checker(model=self.model, embedding_model=self.embedding_model, device=self.device,
                       precision=self.precision, settings=self.settings())


class _ChunkEncoder:
    """The encoder a chunk's ``check_steps`` pair with: every vector is already in the
    chunk's cache, so this computes nothing."""

    def __init__(self, embedder, cache: LRUCache) -> None:
        self.embedder, self.cache = embedder, cache

    def encode(self, texts: list[str], *, batch_size: int = 64):
        return self.embedder.encode(texts, batch_size=batch_size, cache=self.cache)


class ScoreStore:
    """The NLI probabilities of every pair a local run has scored, on disk (SQLite) next
    to the output, each with the chunk that scored it. Later chunks reuse them (an
    (evidence, claim) pair is scored once per run, without holding them all in memory),
    and a resumed run finds exactly the numbers the interrupted one used; so its rows
    equal an uninterrupted run's. Deleted when the run completes."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = Path(path)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS scores (key BLOB PRIMARY KEY, chunk INTEGER, "
                         "entailment REAL, neutral REAL, contradiction REAL)")
        self._db.commit()

    def get(self, keys: list[bytes]) -> dict[bytes, tuple[int, np.ndarray]]:
        found = {}
        for start in range(0, len(keys), 500):  # SQLite caps the parameters of one query
            part = keys[start:start + 500]
            query = f"SELECT key, chunk, entailment, neutral, contradiction FROM scores WHERE key IN " \
                    f"({','.join('?' * len(part))})"
            for key, chunk, *row in self._db.execute(query, part):
                found[bytes(key)] = (chunk, np.asarray(row, dtype=np.float64))
        return found

    def put(self, rows: dict[bytes, np.ndarray], *, chunk: int) -> None:
        """Store a chunk's fresh scores in one transaction, before its rows are written."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)",
                                 [(key, chunk, *map(float, row)) for key, row in rows.items()])

    def close(self) -> None:
        self._db.close()


class BatchChecker:
    """A Checker plus the caches that live for a whole run; checks one chunk at a time.
    With a :class:`ScoreStore`, NLI scores are shared across chunks (local engine); without
    one (Ray actors, which share no disk), across the articles of a chunk only."""

    def __init__(self, checker, *, store: ScoreStore | None = None,
                 source_cache_size: int = BATCH_SOURCE_CACHE) -> None:
        self.checker = checker
        self.store = store
        # Vectors of a source's sentences, keyed by the source's sentences; each source
        # computed on its own (see the module docstring) and reused by every chunk.
        self._source_vectors: LRUCache = LRUCache(source_cache_size)

    def check_chunk(self, rows: list[Article | BadRow], *, chunk: int = 0) -> list[tuple[str, dict]]:
        """Each row's result in input order: ``("row", output row)`` or
        ``("error", error record)``. ``chunk`` is the chunk's index in the corpus."""
        from nli_check.checker import EmbedRequest

        checker = self.checker
        results: dict[int, tuple[str, dict]] = {}
        steps, requests = {}, {}
        for position, row in enumerate(rows):
            if isinstance(row, BadRow):
                results[position] = ("error", row.to_dict())
                continue
            generator = checker.check_steps(row.text, row.sources, article_format=row.article_format,
                                            source_formats=row.source_formats, source_names=row.source_names)
            try:
                requests[position] = next(generator)
            except InputError as error:
                results[position] = ("error", BadRow(row.line, row.id, str(error)).to_dict())
                continue
            steps[position] = generator

        # Never evicts within a chunk: sized far above what one chunk can hold.
        chunk_vectors: LRUCache = LRUCache(10_000_000)
        chunk_scores: LRUCache = LRUCache(10_000_000)
        fresh: dict[bytes, np.ndarray] = {}  # scored by this chunk (now, or before an interruption)
        seen_pairs: set[bytes] = set()
        pairs_run = dict.fromkeys(steps, 0)
        reports = {}
        while requests:  # one round per step of check_steps, all the chunk's articles at once
            embeds = {p: r for p, r in requests.items() if isinstance(r, EmbedRequest)}
            scores = {p: r for p, r in requests.items() if not isinstance(r, EmbedRequest)}
            answers: dict[int, object] = {}
            if embeds:
                self._embed(embeds.values(), chunk_vectors)
                answers.update({position: _ChunkEncoder(checker.embedder, chunk_vectors) for position in embeds})
            if scores:
                answers.update(self._score(scores, chunk_scores, fresh, seen_pairs, pairs_run, chunk=chunk))
            following = {}
            for position, answer in answers.items():
                try:
                    following[position] = steps[position].send(answer)
                except StopIteration as done:
                    reports[position] = done.value
            requests = following
        if self.store is not None and fresh:
            self.store.put(fresh, chunk=chunk)
        for position, report in reports.items():
            report.nli_pairs = pairs_run[position]
            results[position] = ("row", output_row(rows[position], report))
        return [results[position] for position in range(len(rows))]

    def _embed(self, requests, chunk_vectors: LRUCache) -> None:
        embedder = self.checker.embedder
        for request in requests:
            for sentences in request.sources:
                key = content_key(*sentences)
                if key not in self._source_vectors:
                    isolated: LRUCache = LRUCache(len(sentences) + 1)
                    self._source_vectors.put(key, embedder.encode(sentences, cache=isolated))
                for sentence, vector in zip(sentences, self._source_vectors.get(key)):
                    chunk_vectors.put(content_key(sentence), vector)
        claims = list(dict.fromkeys(text for request in requests for text in request.claims))
        embedder.encode(claims, cache=chunk_vectors)  # all the chunk's claims in one call

    def _score(self, requests: dict, chunk_scores: LRUCache, fresh: dict, seen: set[bytes], pairs_run: dict, *,
               chunk: int) -> dict:
        nli = self.checker.nli
        everything = [pair for request in requests.values() for pairs in request.pairs for pair in pairs]
        keys = list(dict.fromkeys(content_key(*pair) for pair in everything))
        if self.store is not None:
            for key, (scored_by, row) in self.store.get([k for k in keys if k not in chunk_scores]).items():
                chunk_scores.put(key, row)
                if scored_by == chunk:
                    fresh[key] = row
        missing = [key for key in keys if key not in chunk_scores]
        # All the chunk's pairs in one length-sorted pass; identical pairs once.
        nli.predict(everything, batch_size=self.checker.settings.batch_size, cache=chunk_scores)
        fresh.update((key, chunk_scores.get(key)) for key in missing)
        answers = {}
        for position, request in requests.items():
            answers[position] = [nli.predict(pairs, cache=chunk_scores) for pairs in request.pairs]
            # A pair is counted for the first article that needed it (cache hits are not).
            needed = {content_key(*pair) for pairs in request.pairs for pair in pairs} & fresh.keys()
            pairs_run[position] += len(needed - seen)
            seen |= needed
        return answers


def output_row(article: Article, report) -> dict:
    """One output row: the article's id and position, the ``check`` JSON report, and a
    per-article summary."""
    data = report.to_dict()
    counts = data["summary"]
    claims = len(report.claims)
    worst = next((label for label in ("contradicted", "unsupported") if counts[label]), "supported")
    return {"id": article.id, "line": article.line, **data,
            "article_summary": {"claims": claims, "worst_label": worst,
                                "supported_share": round(counts["supported"] / claims, 4)}}


# ---------------------------------------------------------------- durable output and resume

def scores_path(output: Path) -> Path:
    """The local engine's :class:`ScoreStore`, there while a run is unfinished."""
    return Path(output).with_name(f".{Path(output).name}.scores.sqlite")


def sidecar_paths(output: Path) -> tuple[Path, Path]:
    """The default errors file and the manifest: ``out.jsonl`` -> ``out.errors.jsonl``,
    ``out.manifest.json``."""
    output = Path(output)
    stem = output.name[:-len(output.suffix)] if output.suffix else output.name
    return output.with_name(f"{stem}.errors.jsonl"), output.with_name(f"{stem}.manifest.json")


def last_complete_row(path: Path) -> dict | None:
    """The last complete row of a JSON Lines file we wrote, after cutting off a torn last
    line (a write cut short by a kill). Reads the file's tail only."""
    path = Path(path)
    if not path.exists():
        return None
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        block, tail = 1 << 16, b""
        position = size
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
            if tail.count(b"\n") >= 2 or (position == 0 and b"\n" in tail):
                break
        if not tail.endswith(b"\n") and size:
            cut = tail.rfind(b"\n")
            keep = position + cut + 1 if cut >= 0 else 0
            log.warning("%s: cut a torn last line (%d bytes) left by an interrupted run", path, size - keep)
            handle.truncate(keep)
            tail = tail[:cut + 1] if cut >= 0 else b""
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    if not lines[-1]:
        return None
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        raise InputError(f"{path}: cannot resume, its last line is not a JSON row written by nli-check") from None


class Journal:
    """The output and errors files, appended in input order; every row is flushed and
    fsynced before the next, so what is on disk is always a prefix of the run."""

    def __init__(self, output: Path, errors: Path) -> None:
        self._files = {"row": Path(output).open("ab"), "error": Path(errors).open("ab")}

    def append(self, kind: str, record: dict) -> None:
        handle = self._files[kind]
        handle.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


@dataclass
class BatchSummary:
    articles: int  # rows in the output (this run and earlier ones)
    errors: int  # records in the errors file
    claims: int
    labels: dict[str, int]
    output: str
    errors_file: str
    manifest: str
    resumed_from: int  # last input position already done when this run started (0: fresh)
    elapsed_s: float


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _run_settings(spec: CheckerSpec, chunk_size: int, input_path: Path) -> dict:
    """What a resume must repeat for its rows to equal an uninterrupted run's."""
    return {"input": str(Path(input_path).resolve()),
            "model": str(spec.model) if spec.model else f"{DEFAULT_NLI_MODEL_NAME} (shipped)",
            "embedding_model": spec.embedding_model, "chunk_size": chunk_size, "top_k": spec.top_k,
            "explain": spec.explain, "threads": spec.threads,
            # resolved ("auto" may mean bfloat16 here and float32 on another machine)
            "precision": resolve_precision(spec.precision, spec.device)}


@dataclass
class BatchRun:
    """One ``batch`` invocation: its paths and settings, and where a resume starts."""

    input: Path
    output: Path
    errors: Path
    manifest: Path
    spec: CheckerSpec
    chunk_size: int
    engine: str
    done: int = 0  # last input position already in the output or errors file
    started_at: str = ""
    runs: int = 1

    @classmethod
    def open(cls, input_path: Path, output: Path, *, errors: Path | None, resume: bool, spec: CheckerSpec,
             chunk_size: int, engine: str) -> BatchRun:
        """Check the paths and, when resuming, find where the last run stopped. Raises
        :class:`InputError` (one line) for anything that should stop the run before it starts."""
        input_path, output = Path(input_path), Path(output)
        default_errors, manifest = sidecar_paths(output)
        errors = Path(errors) if errors is not None else default_errors
        if chunk_size < 1:
            raise InputError(f"--chunk-size must be at least 1, got {chunk_size}")
        if not input_path.is_file():
            raise InputError(f"{input_path}: no such file" if not input_path.exists() else f"{input_path}: not a file")
        if is_parquet(input_path):
            _parquet_file(input_path)
        for path in (output, errors):
            if not path.parent.is_dir():
                raise InputError(f"{path}: folder {path.parent} does not exist")
            if path.resolve() == input_path.resolve():
                raise InputError(f"{path}: is the input file; choose another output")
        run = cls(input_path, output, errors, manifest, spec, chunk_size, engine, started_at=_now())
        existing = [p for p in (output, errors, manifest, scores_path(output)) if p.exists()]
        if existing and not resume:
            raise InputError(f"{existing[0]} already exists: pass --resume to continue that run, "
                             f"or choose another --output")
        if resume and existing:
            run._load_previous()
        return run

    def _load_previous(self) -> None:
        wanted = _run_settings(self.spec, self.chunk_size, self.input)
        if self.manifest.exists():
            previous = json.loads(self.manifest.read_text(encoding="utf-8"))
            for key, value in wanted.items():
                # A manifest from before --precision existed ran float32.
                if previous.get(key, "float32" if key == "precision" else None) != value:
                    raise InputError(f"cannot resume with a different {key} ({value!r}); the run in "
                                     f"{self.output} used {previous.get(key)!r}")
            if previous.get("errors_file", str(self.errors)) != str(self.errors):
                raise InputError(f"cannot resume with a different --errors ({self.errors}); the run in "
                                 f"{self.output} wrote its bad rows to {previous['errors_file']}")
            self.started_at = previous.get("started_at", self.started_at)
            self.runs = previous.get("runs", 1) + 1
        last = [row for row in (last_complete_row(self.output), last_complete_row(self.errors)) if row]
        if not last:
            return
        latest = max(last, key=lambda row: row["line"])
        self.done = int(latest["line"])
        # The row at that position must be the one we wrote: else OUTPUT is another corpus's.
        here = next(iter_rows(self.input, start=self.done, stop=self.done), None)
        if here is None or here.id != latest.get("id"):
            raise InputError(f"{self.output} does not continue {self.input}: its last row (line {self.done}, "
                             f"id {latest.get('id')!r}) is not that input's row at line {self.done}")

    def write_manifest(self, status: str, **extra) -> None:
        from nli_check import __version__

        data = {"manifest_version": MANIFEST_VERSION, "status": status, "schema_version": SCHEMA_VERSION,
                "nli_check_version": __version__, **_run_settings(self.spec, self.chunk_size, self.input),
                "output": str(self.output), "errors_file": str(self.errors), "engine": self.engine,
                "device": self.spec.device, "started_at": self.started_at, "runs": self.runs, **extra}
        write_atomically(self.manifest, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def first_chunk(self) -> int:
        return self.done // self.chunk_size

    def finish(self, *, elapsed_s: float) -> BatchSummary:
        """Count what the files hold (streamed), and write the ``complete`` manifest."""
        articles = claims = 0
        labels = dict.fromkeys(LABELS, 0)
        with self.output.open("rb") as handle:
            for raw in handle:
                row = json.loads(raw)
                articles += 1
                claims += len(row["claims"])
                for label, count in row["summary"].items():
                    labels[label] += count
        with self.errors.open("rb") as handle:
            errors = sum(1 for raw in handle if raw.strip())
        self.write_manifest("complete", articles=articles, errors=errors, claims=claims, labels=labels,
                            finished_at=_now(), elapsed_s_last_run=round(elapsed_s, 2),
                            resumed_from_line=self.done)
        return BatchSummary(articles, errors, claims, labels, str(self.output), str(self.errors),
                            str(self.manifest), self.done, elapsed_s)


class Progress:
    """A tqdm bar over input positions with articles/s and claims/s (this run's)."""

    def __init__(self, *, total: int, done: int, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, initial=done, unit="row", desc="nli-check batch", disable=not enabled,
                        dynamic_ncols=True, mininterval=0.5)
        self.started = time.perf_counter()
        self.articles = self.claims = 0

    def advance(self, *, to: int, articles: int, claims: int) -> None:
        """Move the bar to input position ``to``, counting this many new articles and claims."""
        self.articles += articles
        self.claims += claims
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix_str(f"{self.articles / elapsed:.2f} articles/s, {self.claims / elapsed:.1f} claims/s",
                                 refresh=False)
        self.bar.update(max(0, min(to, self.bar.total) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


def write_chunk(run: BatchRun, journal: Journal, results: list[tuple[str, dict]], progress: Progress,
                *, stop: int) -> None:
    """Append a chunk's results past the resume point, in order, and move the bar to the
    chunk's last position ``stop``."""
    articles = claims = 0
    for kind, record in results:
        if record["line"] <= run.done:
            continue  # written by the interrupted run
        journal.append(kind, record)
        if kind == "row":
            articles += 1
            claims += len(record["claims"])
    progress.advance(to=stop, articles=articles, claims=claims)


def run_local(run: BatchRun, *, progress_enabled: bool, checker=None) -> BatchSummary:
    """The local engine: one process, one Checker (models loaded once), chunk after chunk."""
    started = time.perf_counter()
    store = ScoreStore(scores_path(run.output))
    batch = BatchChecker(checker if checker is not None else run.spec.build(), store=store)
    total = count_positions(run.input)
    journal = Journal(run.output, run.errors)
    progress = Progress(total=total, done=run.done, enabled=progress_enabled)
    try:
        first = run.first_chunk() * run.chunk_size + 1
        chunk: list[Article | BadRow] = []
        boundary = first + run.chunk_size - 1  # last position of the current chunk
        for row in iter_rows(run.input, start=first):
            while row.line > boundary:  # chunks are fixed position ranges, blank lines or not
                if chunk:
                    results = batch.check_chunk(chunk, chunk=(boundary - 1) // run.chunk_size)
                    write_chunk(run, journal, results, progress, stop=boundary)
                    chunk = []
                boundary += run.chunk_size
            chunk.append(row)
        if chunk:
            results = batch.check_chunk(chunk, chunk=(boundary - 1) // run.chunk_size)
            write_chunk(run, journal, results, progress, stop=total)
        progress.advance(to=total, articles=0, claims=0)
    finally:
        progress.close()
        journal.close()
        store.close()
    summary = run.finish(elapsed_s=time.perf_counter() - started)
    store.path.unlink(missing_ok=True)  # only an unfinished run needs it
    return summary


def run_batch(input_path: Path, output: Path, *, errors: Path | None = None, resume: bool = False,
              spec: CheckerSpec | None = None, chunk_size: int = BATCH_CHUNK_SIZE, engine: str = "local",
              progress: bool = True, claims_parquet: Path | None = None, checker=None,
              ray_address: str | None = None, ray_actors: int | None = None) -> BatchSummary:
    """Score a corpus into ``output`` (JSON Lines), see the module docstring. ``checker``
    reuses an already loaded Checker in the local engine (its settings must match ``spec``)."""
    spec = spec or CheckerSpec()
    if engine not in ("local", "ray"):
        raise InputError(f"unknown engine {engine!r}; expected local or ray")
    if claims_parquet is not None:
        _require_pyarrow()
        if not Path(claims_parquet).parent.is_dir():
            raise InputError(f"{claims_parquet}: folder {Path(claims_parquet).parent} does not exist")
    if engine == "ray":
        from nli_check.batch_ray import require_ray

        require_ray()  # before anything is written: one line saying how to install it
    elif spec.device == "cuda" and checker is None:
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: torch sees no CUDA device on this machine")
    run = BatchRun.open(input_path, output, errors=errors, resume=resume, spec=spec, chunk_size=chunk_size,
                        engine=engine)
    run.write_manifest("running")
    if engine == "ray":
        from nli_check.batch_ray import run_ray

        summary = run_ray(run, progress_enabled=progress, address=ray_address, actors=ray_actors)
    else:
        summary = run_local(run, progress_enabled=progress, checker=checker)
    if claims_parquet is not None:
        write_claims_parquet(run.output, Path(claims_parquet))
    return summary


# ---------------------------------------------------------------- the flat per-claim table

CLAIM_COLUMNS = ("id", "line", "claim_index", "text", "start", "end", "label", "entailment", "neutral",
                 "contradiction", "decided_by", "reason", "evidence_source", "evidence_text", "similarity",
                 "unsupported_spans")


def _claim_records(row: dict) -> Iterator[dict]:
    for claim in row["claims"]:
        best = claim["evidence"][0] if claim["evidence"] else None
        yield {"id": str(row["id"]), "line": row["line"], "claim_index": claim["index"], "text": claim["text"],
               "start": claim["start"], "end": claim["end"], "label": claim["label"],
               **claim["probabilities"], "decided_by": claim["decided_by"], "reason": claim["reason"],
               "evidence_source": best["source"] if best else None, "evidence_text": best["text"] if best else None,
               "similarity": best["similarity"] if best else None,
               "unsupported_spans": [span["text"] for span in claim["unsupported_spans"]]}


def write_claims_parquet(output: Path, path: Path, *, rows_per_group: int = 50_000) -> int:
    """One row per claim, for analysts: streamed from the JSON Lines output into a
    temporary Parquet file, renamed into place when whole. Returns the claim count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("line", pa.int64()), ("claim_index", pa.int32()),
                        ("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()),
                        ("entailment", pa.float64()), ("neutral", pa.float64()), ("contradiction", pa.float64()),
                        ("decided_by", pa.string()), ("reason", pa.string()), ("evidence_source", pa.string()),
                        ("evidence_text", pa.string()), ("similarity", pa.float64()),
                        ("unsupported_spans", pa.list_(pa.string()))])
    temporary = path.with_name(f".{path.name}.tmp")
    count, pending = 0, []
    try:
        with pq.ParquetWriter(temporary, schema) as writer, Path(output).open("rb") as handle:
            for raw in handle:
                pending.extend(_claim_records(json.loads(raw)))
                if len(pending) >= rows_per_group:
                    writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                    count += len(pending)
                    pending = []
            if pending or count == 0:
                writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                count += len(pending)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count
