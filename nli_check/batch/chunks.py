"""Checking one chunk of a corpus: shared embeddings and one NLI pass for all its articles."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from nli_check.batch.corpus import Article, BadRow
from nli_check.cache import LRUCache, content_key
from nli_check.config import (BATCH_SOURCE_CACHE, DEFAULT_BACKEND, DEFAULT_PRECISION, MAX_CHECK_WORDS, Settings,
                              learned_verdict_setting)
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckerSpec:
    """What it takes to build a Checker in another process or on another node."""

    model: str | None = None
    embedding_model: str = "minilm"
    device: str | None = None
    precision: str = DEFAULT_PRECISION  # both models; see nli_check.precision
    backend: str = DEFAULT_BACKEND  # both models; see nli_check.runtime
    top_k: int | None = None
    explain: bool = True
    threads: int | None = None  # torch intra-op threads; None: torch's choice (one per core)
    verdict: str | None = None  # "learned" or "thresholds"; None: the default (learned where the model has a head)
    max_words: int = MAX_CHECK_WORDS  # a row whose article and sources come to more is a bad row
    mode: str = "fast"  # which model decides (nli_check.modes); a cascade is for check and eval

    def settings(self) -> Settings:
        return Settings().with_overrides(top_k=self.top_k, explain=self.explain, max_words=self.max_words,
                                         learned_verdict=learned_verdict_setting(self.verdict))

    def build(self):
        from nli_check.pipeline.checker import Checker

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        return Checker(model=self.model, embedding_model=self.embedding_model, device=self.device,
                       precision=self.precision, backend=self.backend, settings=self.settings(), mode=self.mode)


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
        if getattr(checker, "accurate", None) is not None:
            # Scores are stored and shared per (evidence, claim), for one model.
            raise InputError("batch scoring runs one NLI model: a checker with an accurate model (cascade) "
                             "is for check and eval")
        self.checker = checker
        self.store = store
        # Vectors of a source's sentences, keyed by the source's sentences; each source
        # computed on its own (see the ``nli_check.batch`` docstring) and reused by every chunk.
        self._source_vectors: LRUCache = LRUCache(source_cache_size)

    def check_chunk(self, rows: list[Article | BadRow], *, chunk: int = 0) -> list[tuple[str, dict]]:
        """Each row's result in input order: ``("row", output row)`` or
        ``("error", error record)``. ``chunk`` is the chunk's index in the corpus."""
        return [("error", found.to_dict()) if isinstance(found, BadRow) else ("row", output_row(row, found))
                for row, found in zip(rows, self.reports(rows, chunk=chunk))]

    def reports(self, rows: list[Article | BadRow], *, chunk: int = 0) -> list:
        """Each row's :class:`~nli_check.pipeline.results.Report` in input order (its
        ``nli_pairs`` set), or a :class:`BadRow` for a row that is one or that the checker
        refuses; the model work of all the rows is done together, step by step."""
        from nli_check.pipeline.checker import Embeddings, EmbedRequest, TokenRequest

        checker = self.checker
        results: dict[int, object] = {}
        steps, requests = {}, {}
        for position, row in enumerate(rows):
            if isinstance(row, BadRow):
                results[position] = row
                continue
            generator = checker.check_steps(row.text, row.sources, article_format=row.article_format,
                                            source_formats=row.source_formats, source_names=row.source_names,
                                            source_pages=row.source_pages or None)
            try:
                requests[position] = next(generator)
            except (InputError, ValueError, RecursionError) as error:  # this row's own text: one line, not the run
                reason = str(error) if isinstance(error, InputError) else f"cannot be checked ({type(error).__name__}: " \
                                                                         f"{str(error)[:200]})"
                results[position] = BadRow(row.line, row.id, reason)
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
            tokens = {p: r for p, r in requests.items() if isinstance(r, TokenRequest)}
            scores = {p: r for p, r in requests.items() if p not in embeds and p not in tokens}
            answers: dict[int, object] = {}
            if embeds:
                self._embed(embeds.values(), chunk_vectors)
                # Every vector is in the chunk's cache by now: these calls compute nothing.
                encode = partial(checker.embedder.encode, cache=chunk_vectors)
                answers.update({position: Embeddings(encode(request.claims),
                                                     encode([s for found in request.sources for s in found]))
                                for position, request in embeds.items()})
            if tokens:  # every article's texts in one call
                texts = [text for request in tokens.values() for text in request.texts]
                vectors = dict(zip(texts, checker.embedder.token_vectors(texts)))
                answers.update({position: [vectors[text] for text in request.texts]
                                for position, request in tokens.items()})
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
            results[position] = report
        return [results[position] for position in range(len(rows))]

    def _embed(self, requests, chunk_vectors: LRUCache) -> None:
        embedder = self.checker.embedder
        # A source that several of the chunk's articles cite is embedded whole (once per run);
        # another, only in the part its article's first stage kept. Either way on its own, and
        # decided by the chunk alone, so a resumed chunk computes the same vectors.
        requests = list(requests)
        cited = Counter(content_key(*whole) for request in requests for whole in request.whole_sources)
        for request in requests:
            for kept, whole in zip(request.sources, request.whole_sources or request.sources):
                sentences = whole if cited[content_key(*whole)] > 1 else kept
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
    worst = next((label for label in (CONTRADICTED, UNSUPPORTED) if counts[label]), SUPPORTED)
    return {"id": article.id, "line": article.line, **data,
            "article_summary": {"claims": claims, "worst_label": worst,
                                "supported_share": round(counts[SUPPORTED] / claims, 4)}}
