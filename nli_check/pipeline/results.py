"""The result dataclasses. ``Report.to_dict()`` is the versioned JSON contract described
in the README and in ``nli_check/schema/report.schema.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass

from nli_check.config import SCHEMA_VERSION
from nli_check.labels import VERDICTS, Verdict
from nli_check.pipeline.features import ClaimFeatures
from nli_check.pipeline.mark import MarkRows
from nli_check.pipeline.segment import Sentence


@dataclass
class Probabilities:
    entailment: float
    neutral: float
    contradiction: float


@dataclass
class VerdictScores:
    """The learned verdict's probability of each verdict for a claim."""

    supported: float
    contradicted: float
    unsupported: float


@dataclass
class Evidence:
    source: str  # the source's name (file name, or "source 1" ...)
    text: str
    start: int  # character offsets into that source
    end: int
    similarity: float
    probabilities: Probabilities | None = None  # NLI for this evidence vs the claim
    page: int | None = None  # 1-based page of a PDF source where the evidence starts
    # Not in the JSON: (start, end) offsets into ``text`` of the words it shares with the
    # claim, found once by the explain stage for the renderers to mark.
    matched: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)


@dataclass
class Span:
    text: str
    start: int  # character offsets into the article
    end: int


@dataclass
class MarkedSpan(Span):
    """Words of a claim beyond (or against) the source, as a phrase of the article."""

    # the word head's P(the source does not say this) for the phrase's best word; None
    # where the words were found without a word head (by the words alone or by ablation)
    score: float | None = None


@dataclass
class SlotConflict:
    """What the claim says against what the source says, side by side: a number, date,
    name, negation or degree word of the claim and its counterpart in the evidence."""

    kind: str  # number, date, name, negation or degree
    claim: Span  # offsets into the article
    source: str  # the source's name
    evidence: Span  # offsets into that source
    context: float  # how well the words around the two align (0-1)
    alignment: float  # how well that source sentence aligns with the rest of the claim (0-1)


@dataclass
class Claim:
    index: int
    text: str
    start: int
    end: int
    label: Verdict
    probabilities: Probabilities  # of the evidence the decision rests on
    evidence: list[Evidence]  # best first; the first is what the decision rests on
    unsupported_spans: list[MarkedSpan] = field(default_factory=list)
    reason: str = ""
    decided_by: str | None = None  # the source that supports or contradicts the claim
    # Sources the claim's own sentence or paragraph cites (article links; empty: it cites
    # none, and was checked against every source).
    cited_sources: list[str] = field(default_factory=list)
    # A source the claim does not cite that supports it, when its cited sources do not:
    # a citation error.
    supported_by_uncited: str | None = None
    # The learned verdict's probabilities (None: decided by thresholds, or no source
    # statement matched).
    scores: VerdictScores | None = None
    # The NLI model whose probabilities this verdict rests on when it is not the report's
    # model (a cascade's accurate model scored it again); None: the report's model.
    nli_model: str | None = None
    # Where the claim and its evidence disagree on a number, date, name, negation or degree
    # word, strongest first (those that decided a contradiction, or stand beside the NLI
    # model's); empty for claims not contradicted.
    conflicts: list[SlotConflict] = field(default_factory=list)
    # Not in the JSON: the article offset of each character of ``text`` (from segmentation;
    # empty when ``text`` is the article's own slice), so spans map onto the text exactly.
    text_offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)
    # Not in the JSON: the learned verdict's features (evaluation records them, fit-verdict learns from them).
    features: ClaimFeatures | None = field(default=None, repr=False, compare=False)
    # Not in the JSON: the marking candidates' features (fit-marking learns from them).
    mark_rows: MarkRows | None = field(default=None, repr=False, compare=False)

    @property
    def citation_error(self) -> str | None:
        """The citation error in words, for the renderers; None when there is none."""
        if self.supported_by_uncited is None:
            return None
        return f"supported by {self.supported_by_uncited}, not by the cited source"

    def text_span(self, span: Span) -> tuple[int, int]:
        """Where ``span`` (offsets into the article) lies in ``text``, as (start, end)."""
        return Sentence(self.text, self.start, self.end, self.text_offsets).text_span(span.start, span.end)

    def to_dict(self) -> dict:
        internal = ("text_offsets", "features", "mark_rows")
        data = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name not in internal}
        for evidence in data["evidence"]:
            del evidence["matched"]
        return data


@dataclass
class Report:
    claims: list[Claim]
    sources: list[str]
    model: str
    warnings: list[str] = field(default_factory=list)
    nli_pairs: int = 0  # NLI pairs scored for this report
    runtime: dict[str, str] | None = None  # {"backend": "openvino", "precision": "int8"}: how the models ran
    mode: str | None = None  # "fast", "accurate" or "cascade" (nli_check.modes)

    @property
    def summary(self) -> dict[str, int]:
        counts = {label: 0 for label in VERDICTS}
        for claim in self.claims:
            counts[claim.label] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            **({"mode": self.mode} if self.mode else {}),
            **({"runtime": dict(self.runtime)} if self.runtime else {}),
            "sources": self.sources,
            "claims": [claim.to_dict() for claim in self.claims],
            "summary": self.summary,
            "warnings": self.warnings,
            "nli_pairs": self.nli_pairs,
        }


def _plain(value):
    """A field's value as JSON-ready data (dataclasses as dicts, lists item by item)."""
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
