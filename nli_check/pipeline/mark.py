"""Stage 5b: the words an editor would mark, as a few scored phrases.

For a claim that is not supported, precision first:

1. **Candidates** (cheap, no model): a content word is a candidate only when its evidence
   chunk gives it no support: no word of the same stem and no close soft alignment
   (MiniLM token vectors, :data:`CLOSE_SOFT`). Function words and discourse markers are
   never candidates (:data:`~nli_check.pipeline.explain.NEVER_ALONE`).
2. **Ablation** (batched, on the NLI model that decided the claim): the claim without each
   candidate is scored against the chunk; a word whose removal raises p(entailment) (for a
   contradicted claim: lowers p(contradiction)) carries the problem.
3. **The word head** (:class:`WordHead`, ``word_head.json`` beside the NLI model): a
   logistic regression over :data:`MARK_FEATURE_NAMES` scores each candidate.
4. **Phrases**: adjacent candidates form a unit ("tacitly endorsed"), scored by its best
   word; the best few units (the head's ``max_phrases``) at or above its threshold are
   marked, joined across at most two function words, never across punctuation, each
   taking one adjacent function word on either side ("a significant shift", "along its
   borders").

The head is fitted by ``nli-check fit-marking`` (:mod:`nli_check.training.marking`); its
threshold is chosen for precision at a floor of recall on WiCE's token annotations (dev).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, Verdict
from nli_check.pipeline.explain import PUNCTUATION, NEVER_ALONE, STOPWORDS, WORD
from nli_check.pipeline.features import ClaimWord
from nli_check.pipeline.verdict import LinearModel

WORD_HEAD_FILE = "word_head.json"
WORD_HEAD_VERSION = 1
MARK_FEATURE_NAMES = ("soft", "not_in_source", "number", "name", "length", "claim_soft_mean",
                      "neighbour_soft_min", "neighbour_soft_mean", "ablation_gain", "position", "run")
# A claim word whose tokens align with the chunk's at least this closely (cosine of MiniLM
# token vectors) is taken as said in other words, and never marked.
CLOSE_SOFT = 0.8


@dataclass(frozen=True)
class Phrase:
    """A marked phrase: offsets into the claim text, and the best score of its words."""

    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class MarkPlan:
    """One claim's candidate words and the hypotheses whose NLI rows score them: the claim
    first, then the claim without each candidate, all against ``premise``."""

    claim: str
    words: list[ClaimWord]  # every content word of the claim
    candidates: list[int]  # indices into ``words``
    premise: str
    hypotheses: list[str]
    label: Verdict


@dataclass(frozen=True)
class MarkRows:
    """A planned claim's candidate features, kept on the claim for ``fit-marking``."""

    plan: MarkPlan
    features: np.ndarray  # (candidates, MARK_FEATURE_NAMES)


def candidate_words(claim: str, words: list[ClaimWord]) -> list[int]:
    """The words the evidence gives no support: no stem match, no close soft alignment,
    and not a function word or discourse marker."""
    return [i for i, w in enumerate(words)
            if not w.in_chunk and w.soft < CLOSE_SOFT and claim[w.start:w.end].lower() not in NEVER_ALONE]


def plan_marks(claim: str, words: list[ClaimWord], premise: str, label: Verdict) -> MarkPlan:
    """The candidates of ``claim`` and their ablations against ``premise``."""
    candidates = candidate_words(claim, words)
    hypotheses = [claim] + [_without(claim, words[i]) for i in candidates] if candidates else []
    return MarkPlan(claim, words, candidates, premise, hypotheses, label)


def ablation_gains(rows: np.ndarray, label: Verdict) -> np.ndarray:
    """How much removing each candidate helps the claim: the rise of p(entailment), or for a
    contradicted claim the fall of p(contradiction). ``rows``: the plan's hypotheses' rows."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    if len(rows) < 2:
        return np.zeros(0)
    base, rest = rows[0], rows[1:]
    if label == CONTRADICTED:
        return base[CONTRADICTION_COLUMN] - rest[:, CONTRADICTION_COLUMN]
    return rest[:, ENTAILMENT_COLUMN] - base[ENTAILMENT_COLUMN]


def mark_features(plan: MarkPlan, gains: np.ndarray) -> np.ndarray:
    """One row per candidate, in MARK_FEATURE_NAMES order (``run``: how many candidates its
    unit holds, see :func:`units`)."""
    soft = np.array([w.soft for w in plan.words]) if plan.words else np.ones(1)
    run = {}
    for unit in units(plan):
        run.update(dict.fromkeys(unit, len(unit)))
    rows = []
    for gain, i in zip(gains, plan.candidates):
        word = plan.words[i]
        neighbours = [soft[j] for j in (i - 1, i + 1) if 0 <= j < len(plan.words)] or [1.0]
        rows.append([word.soft, not word.in_source, word.number, word.name, np.log1p(word.end - word.start),
                     soft.mean(), min(neighbours), float(np.mean(neighbours)), gain,
                     i / max(len(plan.words) - 1, 1), np.log1p(run[i])])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(MARK_FEATURE_NAMES))


def units(plan: MarkPlan) -> list[list[int]]:
    """The candidates in runs of adjacent words with no punctuation between them ("tacitly
    endorsed", "delicate balancing act"): what an editor marks as one phrase. Indices into
    ``plan.words``, in claim order."""
    candidates = set(plan.candidates)
    tokens = {m.start(): k for k, m in enumerate(WORD.finditer(plan.claim))}
    runs: list[list[int]] = []
    for i in plan.candidates:
        word = plan.words[i]
        if runs:
            last = plan.words[runs[-1][-1]]
            if runs[-1][-1] == i - 1 and i - 1 in candidates and tokens[word.start] == tokens[last.start] + 1 \
                    and not PUNCTUATION.search(plan.claim[last.end:word.start]):
                runs[-1].append(i)
                continue
        runs.append([i])
    return runs


@dataclass(frozen=True)
class WordHead:
    """The word marking's logistic regression and its operating point, as stored in
    ``word_head.json``.

    Examples:
        >>> head = WordHead.load(Path("models/nli-minilm-l6"))
        >>> head.phrases(plan, head.scores(mark_features(plan, gains)))
    """

    model: LinearModel
    threshold: float  # a unit is marked when its best word has P >= this
    max_phrases: int  # at most this many units marked per claim (highest P first)
    trained_on: dict
    chosen_on: dict  # where and how the threshold was chosen
    digest: str = ""

    def scores(self, features: np.ndarray) -> np.ndarray:
        """P(the source does not say this word) per candidate row."""
        if not len(features):
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.model.logits(features)[:, 0]))

    def phrases(self, plan: MarkPlan, scores: np.ndarray, *, threshold: float | None = None) -> list[Phrase]:
        """The marked phrases of the planned claim (``threshold``: instead of the head's)."""
        return join_phrases(plan, scores, threshold=self.threshold if threshold is None else threshold,
                            max_phrases=self.max_phrases)

    def save(self, folder: Path) -> Path:
        from nli_check.inputs import write_atomically

        path = Path(folder) / WORD_HEAD_FILE
        data = {"version": WORD_HEAD_VERSION, "features": list(MARK_FEATURE_NAMES), "close_soft": CLOSE_SOFT,
                "model": self.model.to_json(), "threshold": self.threshold, "max_phrases": self.max_phrases,
                "trained_on": self.trained_on, "chosen_on": self.chosen_on}
        write_atomically(path, json.dumps(data, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> WordHead | None:
        """The head in ``folder``; None when there is none (the explainer's ablation marks)."""
        path = Path(folder) / WORD_HEAD_FILE
        if not path.is_file():
            return None
        raw = path.read_bytes()
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise InputError(f"{path}: not valid JSON ({error})") from error
        expected = {"version": WORD_HEAD_VERSION, "features": list(MARK_FEATURE_NAMES), "close_soft": CLOSE_SOFT}
        for key, value in expected.items():
            if data.get(key) != value:
                raise InputError(f"{path}: {key} is {data.get(key)!r}, this version of nli-check expects {value!r}; "
                                 f"refit it with nli-check fit-marking")
        try:
            model = LinearModel.from_json(data["model"])
            if model.coef.shape != (1, len(MARK_FEATURE_NAMES)):
                raise ValueError(f"coef shape {model.coef.shape}, expected (1, {len(MARK_FEATURE_NAMES)})")
            return cls(model, float(data["threshold"]), int(data["max_phrases"]), data.get("trained_on", {}),
                       data.get("chosen_on", {}), hashlib.sha256(raw).hexdigest()[:12])
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{path}: not a word head ({error}); refit it with nli-check fit-marking") from error


def join_phrases(plan: MarkPlan, scores: np.ndarray, *, threshold: float, max_phrases: int) -> list[Phrase]:
    """The best ``max_phrases`` units (:func:`units`; a unit scores its best word) scoring at
    least ``threshold``, joined across at most two function words, each taking one adjacent
    function word on either side; in claim order."""
    claim = plan.claim
    score_of = dict(zip(plan.candidates, (float(x) for x in scores)))
    scored = sorted(((max(score_of[i] for i in unit), unit) for unit in units(plan)), key=lambda su: -su[0])
    chosen = sorted((su for su in scored[:max_phrases] if su[0] >= threshold), key=lambda su: su[1][0])
    if not chosen:
        return []
    tokens = list(WORD.finditer(claim))
    at = {token.start(): k for k, token in enumerate(tokens)}
    runs: list[list] = []  # [first token, last token, score]
    for score, unit in chosen:
        first, last = at[plan.words[unit[0]].start], at[plan.words[unit[-1]].start]
        if runs and _fills(claim, tokens, runs[-1][1], first):
            runs[-1][1], runs[-1][2] = last, max(runs[-1][2], score)
        else:
            runs.append([first, last, score])
    phrases = []
    for first, last, score in runs:
        if first > 0 and _function_word(tokens[first - 1]) and not _breaks(claim, tokens, first - 1, first):
            first -= 1
        if last + 1 < len(tokens) and _function_word(tokens[last + 1]) and not _breaks(claim, tokens, last, last + 1):
            last += 1
        start, end = tokens[first].start(), tokens[last].end()
        phrases.append(Phrase(claim[start:end], start, end, round(score, 4)))
    return phrases


def _fills(claim: str, tokens: list[re.Match], left: int, right: int) -> bool:
    """Whether at most two function words, and no punctuation, part two chosen units."""
    between = tokens[left + 1:right]
    return (len(between) <= 2 and all(_function_word(t) for t in between)
            and not any(_breaks(claim, tokens, k, k + 1) for k in range(left, right)))


def _function_word(token: re.Match) -> bool:
    return token.group().lower() in STOPWORDS


def _breaks(claim: str, tokens: list[re.Match], left: int, right: int) -> bool:
    return bool(PUNCTUATION.search(claim[tokens[left].end():tokens[right].start()]))


def _without(claim: str, word: ClaimWord) -> str:
    return re.sub(r"\s{2,}", " ", claim[:word.start] + claim[word.end:]).strip()
