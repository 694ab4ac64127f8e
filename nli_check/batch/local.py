"""The local engine: one process, one Checker, chunk after chunk."""

from __future__ import annotations

import logging
import time

from nli_check.batch.chunks import BatchChecker, ScoreStore
from nli_check.batch.corpus import Article, BadRow, count_positions, iter_rows
from nli_check.batch.journal import BatchRun, BatchSummary, Journal, Progress, scores_path, write_chunk

log = logging.getLogger(__name__)


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
