"""What the readers make and the rules consume: a :class:`ClaimPair` (the output) and a
:class:`_Record` (a claim with its gold verdict against one document), with the text helpers
that every stage of the claim-pair build shares (normalising a claim for dedup and hold-out,
content words, sentence splitting, label mapping).

Kept apart from the readers and the rules so that they share this one base: no reader imports
another reader, and no rule family another family.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nli_check.datasets.nli_pairs import map_label
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, NLI_TO_VERDICT, SUPPORTED, UNSUPPORTED, Verdict

Span = tuple[int, int]


# A sentence holding this share of a claim's content words may restate it: such a chunk is
# not used as one that lacks the claim's evidence.
RESTATES = 0.75


@dataclass(frozen=True)
class ClaimPair:
    """A claim, a source chunk, the claim's verdict against that chunk, the set it came from
    and the rule that made it. ``spans`` are character ranges of the claim that the chunk does
    not back (inserted or changed words, an unsupported joined part), where known."""

    claim: str
    chunk: str
    label: Verdict
    dataset: str
    rule: str
    spans: tuple[Span, ...] = ()


@dataclass
class _Record:
    """A claim with its gold verdict against one document: the document's sentences, the
    indices of those holding the evidence, and the indices that must stay out of every chunk
    of this claim (evidence of the same claim marked on other rows)."""

    claim: str
    label: Verdict
    doc: tuple[str, ...]
    evidence: frozenset[int]
    doc_key: str
    where: str
    spans: tuple[Span, ...] = ()
    exclude: frozenset[int] = frozenset()
    partial: bool = False  # unsupported, but its document backs part of it
    sizes: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sizes = tuple(len(sentence.split()) for sentence in self.doc)

    @property
    def settles(self) -> bool:
        """Its marked sentences back (part of) the claim, so removing them takes that away."""
        return bool(self.evidence) and (self.label != UNSUPPORTED or self.partial)


# --- small helpers -----------------------------------------------------------------

_CITATION_GROUP = re.compile(r"\s*[\[(][^\[\]()]*<\|\w+\|>[^\[\]()]*[\])]")
_CITATION_MARK = re.compile(r"\s*<\|\w+\|>")
_STOPWORDS = frozenset({
    "about", "after", "also", "among", "been", "before", "between", "both", "could", "during", "each", "from",
    "have", "here", "into", "more", "most", "only", "other", "over", "same", "some", "such", "than", "that",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "under", "were", "what", "when",
    "where", "which", "while", "will", "with", "would"})


def _strip_citations(text: str) -> str:
    """Citation-Integrity's markers ("[<|cit|>]", "<|multi_cit|>") are not text a claim has."""
    text = _CITATION_MARK.sub("", _CITATION_GROUP.sub("", text))
    return re.sub(r"\s+([,.;:])", r"\1", text).strip()


def _norm(text: str) -> str:
    """The claim as compared for dedup and hold-out: case, punctuation and markers ignored."""
    return re.sub(r"\W+", " ", _strip_citations(text).casefold()).strip()


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if (len(w) >= 4 or w.isdigit()) and w not in _STOPWORDS}


def _restates(claim: str, sentences: Sequence[str]) -> bool:
    words = _content_words(claim)
    if len(words) < 3:
        return False
    return any(len(words & _content_words(sentence)) >= RESTATES * len(words) for sentence in sentences)


def _sentences(row: dict, key: str, where: str) -> tuple[str, ...]:
    value = row.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{where}: {key!r} is not a list of sentences")
    return tuple(item.strip() for item in value)


def _indices(values: object, size: int, where: str, what: str) -> frozenset[int]:
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InputError(f"{where}: {what} is not a list of sentence indices")
    if any(not 0 <= v < size for v in values):
        raise InputError(f"{where}: {what} {values} points outside the document's {size} sentences")
    return frozenset(values)


# SciFact's rationales exist only for SUPPORT and CONTRADICT claims, so its not_entailment rows
# are refutations here (the pair-level map keeps them neutral); COVID-Fact's full file has its
# own label names.
_VERDICT_OVERRIDES: dict[str, dict[str, Verdict]] = {
    "scifact": {"entailment": SUPPORTED, "not_entailment": CONTRADICTED},
    "covidfact": {"SUPPORTED": SUPPORTED, "REFUTED": CONTRADICTED},
}


def _verdict(dataset: str, raw: object, where: str) -> Verdict:
    overrides = _VERDICT_OVERRIDES.get(dataset)
    if overrides is None:
        return NLI_TO_VERDICT[map_label(dataset, str(raw), where)]
    if raw not in overrides:
        raise InputError(f"{where}: unknown label {raw!r} for {dataset}; expected one of {sorted(overrides)}")
    return overrides[raw]


def _single_passage(dataset: str, claim: str, passage: str, label: Verdict, where: str, *,
                    partial: bool = False) -> _Record:
    return _Record(claim, label, (passage,), frozenset({0}), f"{dataset}:{passage}", where, partial=partial)


# Sentence ends inside a chunk or a document text (the holdout's sentence keys, the entity
# swap's other sentences).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# Plain sentence openers: lower-cased when a claim becomes the second part of a joined one,
# and never taken for a name by the entity swap.
_OPENERS = frozenset({"A", "An", "The", "It", "He", "She", "They", "This", "These", "Those", "There", "We", "In",
                      "Some", "Many", "Most", "One", "Several", "Recent", "Other", "Such", "Its", "Their", "Our"})
