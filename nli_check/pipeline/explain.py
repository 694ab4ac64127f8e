"""Stage 5: the words of a claim that go beyond (or against) its evidence.

Two signals, cheap first:

1. *Lexical novelty*: content words of the claim whose stem (Snowball) or long common
   prefix ("weaponry"/"weapons") appears nowhere in the evidence. Adjacent novel words,
   with at most ``gap`` function words between them, form a candidate span.
2. *Ablation*, where the words alone cannot tell: for a contradicted claim, and for a
   claim with no novel word (a claim built from the source's own words), candidate spans
   (or the claim's phrases) are removed one at a time and the rest re-scored with NLI
   against the evidence; a span whose removal raises p(entailment) (or lowers
   p(contradiction)) by at least ``min_gain`` carries the problem.

Spans are returned with character offsets into the claim. The same lexical signal, turned
around, gives the words of the evidence that the claim shares (:meth:`Explainer.shared_spans`),
which the reports mark.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import snowballstemmer

from nli_check.labels import CONTRADICTED, CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, UNSUPPORTED, Verdict

STOPWORDS = frozenset("""
a an the and or but if then than that this these those there here of in on at to for from by with
without about as into onto over under after before during while since until up down out off again
is are was were be been being am do does did done has have had having will would shall should can could
may might must it its it's he she they them their his her him we us our you your i me my mine
who whom whose which what when where why how not no nor so too very just also only even such
both each either neither all any some more most other another same own per via
said says say according
""".split())

# Sentence adverbs and connectives: they frame a claim, they are not what it adds, so they
# are never marked alone (a phrase of content words may still hold one).
DISCOURSE_MARKERS = frozenset("""
notably however moreover furthermore additionally meanwhile indeed thus therefore hence still yet now
currently recently reportedly apparently overall instead already nevertheless nonetheless accordingly
""".split())
NEVER_ALONE = STOPWORDS | DISCOURSE_MARKERS

WORD = re.compile(r"[\w][\w'’\-]*")
PUNCTUATION = re.compile(r"[,;:.!?()\"“”]")  # ends a span
STEM_CACHE_SIZE = 200_000  # distinct words whose stems are kept (~100 bytes each)


@dataclass(frozen=True)
class WordSpan:
    text: str
    start: int  # offsets into the claim text
    end: int
    score: float | None = None  # the word head's P(the source does not say this), where it marked


class Explainer:
    """Finds unsupported spans. ``score`` maps (premise, hypotheses) to an (n, 3) array of
    NLI probabilities; pass None for the lexical signal alone."""

    def __init__(self, score: Callable[[str, list[str]], np.ndarray] | None, *, gap: int = 2,
                 min_gain: float = 0.05) -> None:
        self.score = score
        self.gap = gap
        self.min_gain = min_gain
        self._stemmer = snowballstemmer.stemmer("english")
        # Stemming is pure Python and the same source words come back for every claim paired with them.
        self._stems: dict[str, str] = {}

    def stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            if len(self._stems) >= STEM_CACHE_SIZE:
                self._stems.clear()
            stem = self._stems[word] = self._stemmer.stemWord(word.lower().replace("’", "'").split("'")[0])
        return stem

    def novel_words(self, claim: str, evidence: str) -> list[tuple[re.Match, bool]]:
        """Each word of the claim, with whether it is a novel content word."""
        evidence_words = lower_words(evidence)
        stems = {self.stem(w) for w in evidence_words}
        result = []
        for match in WORD.finditer(claim):
            word = match.group().lower()
            if word in STOPWORDS or len(word) < 2:
                result.append((match, False))
                continue
            parts = [p for p in re.split(r"[-]", word) if p]
            novel = any(not self._supported(part, stems, evidence_words) for part in parts)
            result.append((match, novel))
        return result

    def _supported(self, word: str, stems: set[str], evidence_words: list[str]) -> bool:
        if word in STOPWORDS or self.stem(word) in stems:
            return True
        if len(word) >= 6:  # derivations the stemmer keeps apart: weaponry/weapons
            prefix = word[: max(5, int(len(word) * 0.75))]
            return any(other.startswith(prefix) for other in evidence_words)
        return False

    def lexical_spans(self, claim: str, evidence: str, *, words: list[tuple[re.Match, bool]] | None = None
                      ) -> list[WordSpan]:
        """Runs of novel words; ``words`` is :meth:`novel_words` when the caller has it already."""
        words = self.novel_words(claim, evidence) if words is None else words
        spans: list[tuple[int, int]] = []  # word index ranges, inclusive
        for index, (_, novel) in enumerate(words):
            if not novel:
                continue
            if spans and self._joinable(claim, words, spans[-1][1], index):
                spans[-1] = (spans[-1][0], index)
            else:
                spans.append((index, index))
        return [self._span(claim, words, a, b) for a, b in spans]

    def _joinable(self, claim: str, words, left: int, right: int) -> bool:
        """Two novel words join into one span across at most ``gap`` function words."""
        between = words[left + 1:right]
        return (len(between) <= self.gap and all(m.group().lower() in STOPWORDS for m, _ in between)
                and not self._breaks(claim, words, left, right))

    @staticmethod
    def _breaks(claim: str, words, left: int, right: int) -> bool:
        """Punctuation between two words ends a span."""
        between = claim[words[left][0].end():words[right][0].start()]
        return bool(PUNCTUATION.search(between))

    @staticmethod
    def _span(claim: str, words, a: int, b: int) -> WordSpan:
        start, end = words[a][0].start(), words[b][0].end()
        return WordSpan(claim[start:end], start, end)

    def join_words(self, claim: str, words: list[tuple[int, int]]) -> list[WordSpan]:
        """Spans from marked words ((start, end) offsets, in order): function words and
        discourse markers are dropped (never marked alone), then neighbours join across at
        most ``gap`` function words, never across punctuation."""
        words = [(start, end) for start, end in words
                 if claim[start:end].lower() not in NEVER_ALONE]
        spans: list[list[int]] = []
        for start, end in words:
            if spans:
                between = claim[spans[-1][1]:start]
                filler = WORD.findall(between)
                if len(filler) <= self.gap and all(w.lower() in STOPWORDS for w in filler) \
                        and not PUNCTUATION.search(between):
                    spans[-1][1] = end
                    continue
            spans.append([start, end])
        return [WordSpan(claim[a:b], a, b) for a, b in spans]

    def phrase_spans(self, claim: str) -> list[WordSpan]:
        """Content phrases of the claim (runs of non-stopwords), for ablation when no
        word is novel."""
        words = [(m, m.group().lower() not in STOPWORDS) for m in WORD.finditer(claim)]
        spans, current = [], None
        for index, (_, content) in enumerate(words):
            if content and current is not None and not self._breaks(claim, words, current[1], index) \
                    and index == current[1] + 1:
                current = (current[0], index)
            elif content:
                if current:
                    spans.append(current)
                current = (index, index)
        if current:
            spans.append(current)
        return [self._span(claim, words, a, b) for a, b in spans]

    def explain(self, claim: str, evidence: str, *, label: Verdict, context: str | None = None) -> list[WordSpan]:
        """The spans of ``claim`` that carry the problem, given the verdict ``label``
        ("unsupported" or "contradicted") and the evidence it rests on. ``context`` (all
        the source text paired with the claim; default: the evidence) decides which words
        are novel; ablation re-scores against ``evidence`` alone."""
        candidates, hypotheses = self.ablation_plan(claim, evidence, label=label, context=context)
        if hypotheses is None:
            return candidates
        return self.choose(candidates, self.score(evidence, hypotheses), label=label)

    def ablation_plan(self, claim: str, evidence: str, *, label: Verdict,
                      context: str | None = None) -> tuple[list[WordSpan], list[str] | None]:
        """The first half of :meth:`explain`: the candidate spans, and the hypotheses to
        score against ``evidence`` to choose among them (None: the candidates are the
        answer). Split out so that batch scoring can score many claims' ablations at once."""
        context = evidence if context is None else context
        candidates = self.lexical_spans(claim, context)
        # For an unsupported claim every novel span is reported: several embellishments in
        # one claim hide each other's effect, so filtering them by ablation gain lost more
        # right spans than wrong ones (docs/evaluation.md).
        if self.score is None or (candidates and label == UNSUPPORTED):
            return candidates, None
        if not candidates:
            candidates = self.phrase_spans(claim)
            if not candidates:
                return [], None
        return candidates, [claim] + [_remove(claim, span) for span in candidates]

    def choose(self, candidates: list[WordSpan], probabilities: np.ndarray, *, label: Verdict) -> list[WordSpan]:
        """The second half of :meth:`explain`: ``probabilities`` are the NLI rows of the
        hypotheses from :meth:`ablation_plan` (the whole claim first)."""
        base, rest = probabilities[0], probabilities[1:]
        if label == CONTRADICTED:
            gains = base[CONTRADICTION_COLUMN] - rest[:, CONTRADICTION_COLUMN]
        else:
            gains = rest[:, ENTAILMENT_COLUMN] - base[ENTAILMENT_COLUMN]
        kept = [span for span, gain in zip(candidates, gains) if gain >= self.min_gain]
        if not kept and label == CONTRADICTED:
            kept = [candidates[int(np.argmax(gains))]]
        return kept

    def shared_spans(self, evidence: str, claim: str) -> list[tuple[int, int]]:
        """(start, end) offsets into ``evidence`` of the runs of words it shares with the
        claim (same stem as a content word of the claim), joined across function words
        but not across punctuation."""
        runs: list[list[int]] = []
        open_run = False
        for match, novel in self.novel_words(evidence, claim):
            word = match.group().lower()
            if word in STOPWORDS or len(word) < 2:
                continue  # a function word neither starts nor breaks a run
            if novel:
                open_run = False
            elif open_run and not PUNCTUATION.search(evidence[runs[-1][1]:match.start()]):
                runs[-1][1] = match.end()
            else:
                runs.append([match.start(), match.end()])
                open_run = True
        return [(start, end) for start, end in runs]


def lower_words(text: str) -> list[str]:
    """The words of ``text`` in lower case, and the parts of its hyphenated words."""
    words = [w.lower() for w in WORD.findall(text)]
    return words + [part for w in words if "-" in w for part in w.split("-") if part]


def _remove(text: str, span: WordSpan) -> str:
    return re.sub(r"\s{2,}", " ", (text[:span.start] + text[span.end:])).strip()
