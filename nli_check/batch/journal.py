"""Durable output: the run's files and manifest, appended in input order, and where a resume starts."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nli_check.batch.chunks import CheckerSpec
from nli_check.batch.corpus import is_parquet, iter_rows, parquet_file
from nli_check.config import SCHEMA_VERSION, int8_holds
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.labels import VERDICTS
from nli_check.modes import mode_models
from nli_check.runtime.encoders import resolve_runtime

log = logging.getLogger(__name__)

MANIFEST_VERSION = "1"


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


def _id_key(ident: str | int) -> str:
    """An id as a key: 1 and "1" stay apart, as they are in the output's JSON."""
    return json.dumps(ident)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# The value a manifest written before the key existed stands for.
_BEFORE_THE_KEY = {"precision": "float32", "verdict": "thresholds", "max_words": None, "backend": "torch",
                   "mode": "fast"}


def _run_settings(spec: CheckerSpec, chunk_size: int, input_path: Path) -> dict:
    """What a resume must repeat for its rows to equal an uninterrupted run's."""
    # resolved ("auto" may mean bfloat16 or int8 here and float32 on another machine)
    deciding = mode_models(spec.mode, model=spec.model).model
    backend, precision = resolve_runtime(spec.backend, spec.precision, device=spec.device,
                                         int8_holds=int8_holds(deciding))
    return {"input": str(Path(input_path).resolve()), "mode": spec.mode,
            "model": str(spec.model) if spec.model else f"{Path(deciding).name} (shipped)",
            "embedding_model": spec.embedding_model, "chunk_size": chunk_size, "top_k": spec.top_k,
            "explain": spec.explain, "threads": spec.threads, "verdict": spec.verdict or "learned",
            "max_words": spec.max_words, "precision": precision, "backend": backend}


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
    # the line each id written to the output came from: a later row with the same id is refused
    ids: dict[str, int] = field(default_factory=dict)

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
            parquet_file(input_path)
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
                # A manifest from before --precision existed ran float32; one from before
                # --verdict, the thresholds.
                used = previous.get(key, _BEFORE_THE_KEY.get(key))
                if used != value:
                    raise InputError(f"cannot resume with a different {key} ({value!r}); the run in "
                                     f"{self.output} used {used!r}")
            if previous.get("errors_file", str(self.errors)) != str(self.errors):
                raise InputError(f"cannot resume with a different --errors ({self.errors}); the run in "
                                 f"{self.output} wrote its bad rows to {previous['errors_file']}")
            self.started_at = previous.get("started_at", self.started_at)
            self.runs = previous.get("runs", 1) + 1
        last = [row for row in (last_complete_row(self.output), last_complete_row(self.errors)) if row]
        if not last:
            return
        with self.output.open("rb") as handle:
            for raw in handle:
                row = json.loads(raw)
                self.ids.setdefault(_id_key(row["id"]), int(row["line"]))
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
        labels = dict.fromkeys(VERDICTS, 0)
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
        if kind == "row":
            first = run.ids.setdefault(_id_key(record["id"]), record["line"])
            if first != record["line"]:
                kind, record = "error", {"line": record["line"], "id": record["id"],
                                         "reason": f"duplicate id {record['id']!r}: line {first} has the same id "
                                                   f"(ids must be unique; this row was not written)"}
        journal.append(kind, record)
        if kind == "row":
            articles += 1
            claims += len(record["claims"])
    progress.advance(to=stop, articles=articles, claims=claims)
