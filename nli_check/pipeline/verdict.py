"""Stage 4b: the learned verdict and the unsupported words it marks.

A :class:`VerdictHead` is a 3-way multinomial logistic regression over the
:data:`~nli_check.pipeline.features.FEATURE_NAMES` of a claim sentence, and a second, word-level
one that scores each content word of a claim that is not supported as "the source does not
say this". Both are fitted by ``nli-check fit-verdict`` (``nli_check/training/verdict.py``) on
claim-level training pairs, never on dev sets, and stored beside the NLI model as plain JSON
(``verdict_head.json``: weights, feature names, version; no pickle). A model folder without
one is decided by the two thresholds of :mod:`.decide`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, VERDICTS, Verdict
from nli_check.pipeline.features import FEATURE_NAMES, ClaimWord

HEAD_FILE = "verdict_head.json"
HEAD_VERSION = 1
WORD_FEATURE_NAMES = ("soft", "not_in_chunk", "not_in_source", "number", "name", "length", "claim_soft_mean")


@dataclass(frozen=True)
class LinearModel:
    """Standardise, then a linear map to one logit per class (softmax over them)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features); one row for a binary model (its positive class)
    intercept: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef.T + self.intercept

    def to_json(self) -> dict:
        return {name: getattr(self, name).tolist() for name in ("mean", "scale", "coef", "intercept")}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(*(np.asarray(data[name], dtype=np.float64) for name in ("mean", "scale", "coef", "intercept")))


@dataclass(frozen=True)
class MarkedWord:
    start: int
    end: int
    score: float  # P(the source does not say this word)


@dataclass(frozen=True)
class VerdictHead:
    """The claim-level verdict and the word-level marking, as stored in ``verdict_head.json``.

    Examples:
        >>> head = VerdictHead.load(Path("models/nli-minilm-l6"))
        >>> head.probabilities(features)  # one row per claim sentence, in VERDICTS order
    """

    verdict: LinearModel
    words: LinearModel
    word_threshold: float  # a word is marked at P >= this
    max_marked_words: int  # at most this many words are marked per claim (highest P first)
    trained_on: dict
    digest: str = ""  # of the stored file (sha256, 12 hex digits): eval records name the head by it

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of supported, contradicted, unsupported (VERDICTS order)."""
        logits = self.verdict.logits(np.atleast_2d(features))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def decide(self, features: np.ndarray, *, contradiction_floor: float | None = None) -> tuple[Verdict, np.ndarray]:
        """The verdict with the highest probability, and the probabilities.

        Args:
            features: one claim sentence's vector, in FEATURE_NAMES order.
            contradiction_floor: the head may say "contradicted" only where the NLI model's own
                best p(contradiction) (over the candidates or the chunk) reaches this (the
                model's calibrated contradiction threshold); elsewhere the likelier of
                supported and unsupported. None: no such condition.

        Returns:
            The verdict and the head's probabilities (VERDICTS order, unchanged by the floor).
        """
        row = self.probabilities(features)[0]
        return contradiction_gated(row, features, contradiction_floor), row

    def mark(self, words: list[ClaimWord]) -> list[MarkedWord]:
        """The words to mark in a claim that is not supported, in claim order."""
        if not words:
            return []
        scores = _sigmoid(self.words.logits(word_features(words))[:, 0])
        ranked = sorted(range(len(words)), key=lambda i: -scores[i])
        kept = sorted(i for i in ranked[:self.max_marked_words] if scores[i] >= self.word_threshold)
        return [MarkedWord(words[i].start, words[i].end, float(scores[i])) for i in kept]

    def to_json(self) -> dict:
        return {"version": HEAD_VERSION, "features": list(FEATURE_NAMES), "classes": [str(v) for v in VERDICTS],
                "verdict": self.verdict.to_json(), "word_features": list(WORD_FEATURE_NAMES),
                "words": self.words.to_json(), "word_threshold": self.word_threshold,
                "max_marked_words": self.max_marked_words, "trained_on": self.trained_on}

    def save(self, folder: Path) -> Path:
        from nli_check.inputs import write_atomically

        path = Path(folder) / HEAD_FILE
        write_atomically(path, json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path | str) -> VerdictHead | None:
        """The head stored in a model folder; None when it has none."""
        path = Path(folder) / HEAD_FILE
        if not path.is_file():
            return None
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
        expected = {"version": HEAD_VERSION, "features": list(FEATURE_NAMES),
                    "classes": [str(v) for v in VERDICTS], "word_features": list(WORD_FEATURE_NAMES)}
        for key, value in expected.items():
            if data.get(key) != value:
                raise InputError(f"{path}: {key} is {data.get(key)!r}, this version of nli-check expects {value!r}; "
                                 f"refit it with nli-check fit-verdict")
        return cls(LinearModel.from_json(data["verdict"]), LinearModel.from_json(data["words"]),
                   float(data["word_threshold"]), int(data["max_marked_words"]), data.get("trained_on", {}),
                   hashlib.sha256(raw).hexdigest()[:12])


def contradiction_gated(probabilities: np.ndarray, features: np.ndarray, floor: float | None) -> Verdict:
    """The argmax verdict, where "contradicted" needs the NLI model to see a contradiction:
    the head learns "close wording, not entailed" as a sign of it from the swapped-word
    training pairs, which on real claims mostly means a paraphrase the model misses."""
    ranked = [VERDICTS[int(i)] for i in np.argsort(-probabilities, kind="stable")]
    if not _contradiction_allowed(features, floor):
        ranked.remove(CONTRADICTED)
    return ranked[0]


def supported_margin(probabilities: np.ndarray, features: np.ndarray, floor: float | None) -> float:
    """How far the head is from changing its answer to "is the claim supported": the gap
    between p(supported) and the likeliest other verdict the contradiction floor allows
    (see :func:`contradiction_gated`). A cascade sends claims with a small gap on."""
    others = [i for i, verdict in enumerate(VERDICTS) if verdict != SUPPORTED
              and (verdict != CONTRADICTED or _contradiction_allowed(features, floor))]
    return abs(float(probabilities[VERDICTS.index(SUPPORTED)]) - float(max(probabilities[i] for i in others)))


def _contradiction_allowed(features: np.ndarray, floor: float | None) -> bool:
    """Whether the NLI model's best p(contradiction), over the candidates or the chunk,
    reaches the floor (None: no floor)."""
    if floor is None:
        return True
    features = np.asarray(features).reshape(-1)
    seen = max(features[FEATURE_NAMES.index("contradict_max")], features[FEATURE_NAMES.index("chunk_contradict")])
    return seen >= floor


def word_features(words: list[ClaimWord]) -> np.ndarray:
    """One row per claim word, in WORD_FEATURE_NAMES order."""
    soft_mean = float(np.mean([w.soft for w in words])) if words else 1.0
    return np.array([[w.soft, not w.in_chunk, not w.in_source, w.number, w.name, np.log1p(w.end - w.start),
                      soft_mean] for w in words], dtype=np.float64).reshape(len(words), len(WORD_FEATURE_NAMES))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
