"""Stage 4a: what the learned verdict looks at, per claim sentence.

Three kinds of evidence, each cheap once the NLI rows are in:

* **NLI** over the claim's candidates (best, second best, spread; the rows of the most
  similar candidate) and over its *evidence chunk*: the sentences around its retrieval hits
  in one source, in document order, up to :data:`CHUNK_WORDS` words (premises the size of a
  paragraph, as MiniCheck and AlignScore use, next to the sentence-sized ones);
* **words**: the share of the claim's content words, numbers and names found in the best
  candidate, the chunk and the whole source; negation on one side only; claim length;
* **soft alignment** (BERTScore-style recall): each content word of the claim gets the best
  cosine between its contextual token vectors and the chunk's, from the MiniLM the pairing
  already runs, so "approvals" can match "permissions" while "tacitly endorsed" finds no
  match. The per-word scores also drive the unsupported-word marking (:mod:`.verdict`).

:data:`FEATURE_NAMES` is the order of the vector; it is stored with every trained head, and
a head whose list differs is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nli_check.labels import CONTRADICTION_COLUMN, ENTAILMENT_COLUMN
from nli_check.pipeline.explain import STOPWORDS, WORD, lower_words
from nli_check.pipeline.pair import Candidate, TokenVectors
from nli_check.pipeline.segment import Sentence

# The evidence chunk grows around the retrieval hits up to this many words (about 200 of
# the NLI model's tokens, so chunk and claim fit its 256).
CHUNK_WORDS = 150

FEATURE_NAMES = (
    "entail_max", "entail_second", "entail_spread", "entail_most_similar", "contradict_max", "contradict_second",
    "contradict_most_similar", "neutral_min", "logit_entail_max", "logit_contradict_max",
    "chunk_entail", "chunk_contradict", "logit_chunk_entail", "logit_chunk_contradict",
    "similarity_best", "similarity_second", "candidates",
    "words_in_best", "words_in_chunk", "words_in_source", "numbers", "numbers_missing", "names_missing",
    "negation_mismatch", "claim_words",
    "soft_mean", "soft_min", "soft_low_share", "soft_novel_mean",
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = frozenset({"not", "no", "never", "none", "nor", "nothing", "neither", "without", "cannot", "n't"})
# A content word whose best soft match is below this counts as unmatched (soft_low_share).
SOFT_LOW = 0.5


@dataclass(frozen=True)
class ClaimWord:
    """A content word of the claim with what the word-level marking needs to know."""

    start: int
    end: int
    soft: float  # best cosine of its tokens among the chunk's tokens
    in_chunk: bool  # same stem in the evidence chunk
    in_source: bool  # same stem anywhere in the source(s) paired with the claim
    number: bool
    name: bool  # capitalised inside the sentence


@dataclass(frozen=True)
class ClaimFeatures:
    vector: np.ndarray  # in FEATURE_NAMES order
    words: list[ClaimWord]


def evidence_chunk(candidates: Sequence[Candidate], sources: Sequence[Sequence[Sentence]], *,
                   max_words: int = CHUNK_WORDS) -> str:
    """The sentences of the best candidate's source that the candidates hold, in document
    order, then their neighbours (nearest first) while the chunk stays under ``max_words``."""
    best = candidates[0]
    sentences = sources[best.source]
    chosen: set[int] = set()
    for candidate in candidates:
        if candidate.source != best.source:
            continue
        for index in candidate.sentences:
            if _words(sentences, chosen | {index}) <= max_words or not chosen:
                chosen.add(index)
    for distance in range(1, len(sentences)):
        grew = False
        for index in sorted(chosen):
            for neighbour in (index - distance, index + distance):
                if 0 <= neighbour < len(sentences) and neighbour not in chosen \
                        and _words(sentences, chosen | {neighbour}) <= max_words:
                    chosen.add(neighbour)
                    grew = True
        if not grew:
            break
    return " ".join(sentences[i].text for i in sorted(chosen))


def _words(sentences: Sequence[Sentence], indices: set[int]) -> int:
    return sum(len(sentences[i].text.split()) for i in indices)


class FeatureMaker:
    """Computes :class:`ClaimFeatures`. ``stem`` maps a lower-case word to its stem."""

    def __init__(self, stem: Callable[[str], str]) -> None:
        self.stem = stem

    def stems(self, text: str) -> set[str]:
        return {self.stem(w) for w in lower_words(text)}

    def features(self, claim: str, candidates: Sequence[Candidate], rows: np.ndarray, chunk_row: np.ndarray,
                 chunk: str, source_stems: set[str], source_text: str, claim_tokens: TokenVectors,
                 chunk_tokens: TokenVectors) -> ClaimFeatures:
        """The feature vector of one claim sentence with at least one candidate.

        Args:
            claim: the claim sentence.
            candidates, rows: its candidates (best match first) and their NLI rows.
            chunk_row: the NLI row of (chunk, claim).
            chunk: its evidence chunk (:func:`evidence_chunk`).
            source_stems, source_text: the stems and the text of every source it may rest on.
            claim_tokens, chunk_tokens: contextual token vectors of the claim and the chunk.
        """
        entail, contradict = rows[:, ENTAILMENT_COLUMN], rows[:, CONTRADICTION_COLUMN]
        similarity = np.array([c.similarity for c in candidates])
        most_similar = int(np.argmax(similarity))
        best_stems = self.stems(candidates[int(np.argmax(entail))].text)
        chunk_stems = self.stems(chunk)
        words = self.claim_words(claim, chunk_stems, source_stems, claim_tokens, chunk_tokens)
        in_best = [all(self.stem(p) in best_stems for p in _parts(claim[w.start:w.end])) for w in words]
        numbers = _NUMBER.findall(claim)
        names = [w for w in words if w.name]
        soft = np.array([w.soft for w in words]) if words else np.ones(1)
        novel = [w.soft for w in words if not w.in_chunk]
        values = {
            "entail_max": _top(entail, 0), "entail_second": _top(entail, 1),
            "entail_spread": float(entail.max() - entail.min()), "entail_most_similar": float(entail[most_similar]),
            "contradict_max": _top(contradict, 0), "contradict_second": _top(contradict, 1),
            "contradict_most_similar": float(contradict[most_similar]),
            "neutral_min": float(1.0 - (entail + contradict).max()),
            "logit_entail_max": _logit(entail.max()), "logit_contradict_max": _logit(contradict.max()),
            "chunk_entail": float(chunk_row[ENTAILMENT_COLUMN]), "chunk_contradict": float(chunk_row[CONTRADICTION_COLUMN]),
            "logit_chunk_entail": _logit(chunk_row[ENTAILMENT_COLUMN]),
            "logit_chunk_contradict": _logit(chunk_row[CONTRADICTION_COLUMN]),
            "similarity_best": float(similarity.max()), "similarity_second": _top(similarity, 1),
            "candidates": float(np.log1p(len(candidates))),
            "words_in_best": _mean(in_best), "words_in_chunk": _mean([w.in_chunk for w in words]),
            "words_in_source": _mean([w.in_source for w in words]),
            "numbers": float(np.log1p(len(numbers))),
            "numbers_missing": (sum(n not in source_text for n in numbers) / len(numbers)) if numbers else 0.0,
            "names_missing": (sum(not w.in_source for w in names) / len(names)) if names else 0.0,
            "negation_mismatch": float(_negated(claim) != _negated(chunk)),
            "claim_words": float(np.log1p(len(words))),
            "soft_mean": float(soft.mean()), "soft_min": float(soft.min()),
            "soft_low_share": float((soft < SOFT_LOW).mean()),
            "soft_novel_mean": float(np.mean(novel)) if novel else 1.0,
        }
        return ClaimFeatures(np.array([values[name] for name in FEATURE_NAMES], dtype=np.float64), words)

    def claim_words(self, claim: str, chunk_stems: set[str], source_stems: set[str], claim_tokens: TokenVectors,
                    chunk_tokens: TokenVectors) -> list[ClaimWord]:
        """The claim's content words, each with its soft match in the chunk."""
        if len(chunk_tokens.vectors) and len(claim_tokens.vectors):
            best = (claim_tokens.vectors @ chunk_tokens.vectors.T).max(axis=1)
        else:
            best = np.zeros(len(claim_tokens.vectors))
        words = []
        for match in WORD.finditer(claim):
            word = match.group().lower()
            if word in STOPWORDS or len(word) < 2:
                continue
            inside = (claim_tokens.offsets[:, 0] < match.end()) & (claim_tokens.offsets[:, 1] > match.start())
            soft = float(best[inside].max()) if inside.any() else 0.0
            stems = [self.stem(p) for p in _parts(word)]
            words.append(ClaimWord(match.start(), match.end(), soft,
                                   in_chunk=all(s in chunk_stems for s in stems),
                                   in_source=all(s in source_stems for s in stems),
                                   number=bool(_NUMBER.fullmatch(word)),
                                   name=match.start() > 0 and match.group()[0].isupper()))
        return words


def _top(values: np.ndarray, rank: int) -> float:
    ordered = np.sort(values)[::-1]
    return float(ordered[rank]) if rank < len(ordered) else 0.0


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def _mean(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 1.0


def _parts(word: str) -> list[str]:
    word = word.lower()
    return [p for p in word.split("-") if p] or [word]


def _negated(text: str) -> bool:
    lowered = text.lower()
    return any(w in _NEGATION for w in WORD.findall(lowered)) or "n't" in lowered
