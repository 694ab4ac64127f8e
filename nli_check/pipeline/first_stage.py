"""Stage 2a: narrow each claim's source sentences cheaply before the transformer sees them.

Long sources make pairing expensive: every source sentence is embedded by MiniLM. The first
stage ranks a claim's source sentences in microseconds per sentence, with static vectors
distilled from that MiniLM (``models/minilm-static``, model2vec format, made by
``nli-check distil-static``), BM25 over words (bm25s), or the two fused by reciprocal rank,
and keeps the best few, with their neighbours (pairing joins a hit with its neighbour).
Only the claims and the kept sentences are then embedded by MiniLM.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from nli_check.config import default_static_model_path
from nli_check.errors import InputError

METHODS = ("static", "bm25", "fused")
# Reciprocal rank fusion's constant (Cormack et al., 2009): ranks past the first few count little.
RRF_K = 60


class FirstStage:
    """Ranks source sentences for a claim without a transformer.

    Args:
        static_model: a model2vec folder; defaults to the shipped ``models/minilm-static``.

    Examples:
        >>> FirstStage().rank("Troops were cut.", ["It rained.", "Russia cut its troops."]).tolist()
        [1, 0]
    """

    def __init__(self, static_model: str | Path | None = None) -> None:
        from model2vec import StaticModel

        folder = Path(static_model) if static_model is not None else default_static_model_path()
        if not (folder / "config.json").is_file():
            raise InputError(f"{folder}: no static model here (nli-check distil-static makes one)")
        self.model = StaticModel.from_pretrained(str(folder))

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one per text (the static model normalises)."""
        if not texts:
            return np.zeros((0, self.model.dim), dtype=np.float32)
        return np.asarray(self.model.encode(list(texts), use_multiprocessing=False), dtype=np.float32)

    def scores(self, claims: Sequence[str], sentences: Sequence[str], *, method: str = "fused",
               sentence_vectors: np.ndarray | None = None) -> np.ndarray:
        """A (claims x sentences) matrix, higher is better: cosine of static vectors, BM25,
        or the reciprocal-rank fusion of the two."""
        if method not in METHODS:
            raise ValueError(f"unknown first-stage method {method!r}; expected one of {', '.join(METHODS)}")
        if not claims or not sentences:
            return np.zeros((len(claims), len(sentences)), dtype=np.float32)
        if method in ("static", "fused"):
            if sentence_vectors is None:
                sentence_vectors = self.vectors(sentences)
            static = self.vectors(claims) @ sentence_vectors.T
            if method == "static":
                return static
        bm25 = _bm25(claims, sentences)
        if method == "bm25":
            return bm25
        return _reciprocal_rank(static) + _reciprocal_rank(bm25)

    def rank(self, claim: str, sentences: Sequence[str], *, method: str = "fused") -> np.ndarray:
        """Sentence indices, best first."""
        return np.argsort(-self.scores([claim], sentences, method=method)[0], kind="stable")

    def keep(self, claims: Sequence[str], sentences: Sequence[str], *, cut: int, neighbours: int,
             boundaries: Sequence[int], allowed: Sequence[Collection[int] | None] | None = None,
             method: str = "fused") -> list[np.ndarray]:
        """Per claim, the indices of the sentences it keeps: its ``cut`` best among those of
        the sources it may be paired with, each with up to ``neighbours`` sentences either side
        in the same source.

        Args:
            claims: the claims' texts.
            sentences: every source's sentences, one source after another.
            boundaries: where each source starts in ``sentences``, then its total length.
            allowed: per claim, the source indices it may be paired with (None: all).
        """
        scores = self.scores(claims, sentences, method=method)
        source_of = np.repeat(np.arange(len(boundaries) - 1), np.diff(boundaries))
        kept = []
        for c in range(len(claims)):
            row = scores[c].astype(np.float64)
            if allowed is not None and allowed[c] is not None:
                row = np.where(np.isin(source_of, list(allowed[c])), row, -np.inf)
            best = [i for i in np.argsort(-row, kind="stable")[:cut] if np.isfinite(row[i])]
            chosen = set()
            for i in best:
                s = source_of[i]
                chosen.update(range(max(boundaries[s], i - neighbours), min(boundaries[s + 1], i + neighbours + 1)))
            kept.append(np.array(sorted(chosen), dtype=np.int64))
        return kept


def _bm25(claims: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
    """BM25 of each claim against each sentence, the sentences as the corpus."""
    import bm25s

    retriever = bm25s.BM25()
    corpus = bm25s.tokenize(list(sentences), stopwords="en", show_progress=False)
    retriever.index(corpus, show_progress=False)
    # bm25s scores a query given as a list of words; its tokenizer's lower-casing and stopwords.
    queries = bm25s.tokenize(list(claims), stopwords="en", show_progress=False, return_ids=False)
    return np.stack([retriever.get_scores(words) if words else np.zeros(len(sentences)) for words in queries]
                    ).astype(np.float32)


def _reciprocal_rank(scores: np.ndarray) -> np.ndarray:
    """Each entry's 1 / (RRF_K + its rank in its row), rank 1 the best."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, scores.shape[1] + 1)
    return 1.0 / (RRF_K + ranks)
