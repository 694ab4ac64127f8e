"""The result dataclasses. ``Report.to_dict()`` is the versioned JSON contract described
in the README and in ``nli_check/schema/report.schema.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nli_check.config import LABELS, SCHEMA_VERSION


@dataclass
class Probabilities:
    entailment: float
    neutral: float
    contradiction: float


@dataclass
class Evidence:
    source: str  # the source's name (file name, or "source 1" ...)
    text: str
    start: int  # character offsets into that source
    end: int
    similarity: float
    probabilities: Probabilities | None = None  # NLI for this evidence vs the claim


@dataclass
class Span:
    text: str
    start: int  # character offsets into the article
    end: int


@dataclass
class Claim:
    index: int
    text: str
    start: int
    end: int
    label: str  # one of LABELS
    probabilities: Probabilities  # of the evidence the decision rests on
    evidence: list[Evidence]  # best first; the first is what the decision rests on
    unsupported_spans: list[Span] = field(default_factory=list)
    reason: str = ""
    decided_by: str | None = None  # the source that supports or contradicts the claim


@dataclass
class Report:
    claims: list[Claim]
    sources: list[str]
    model: str
    warnings: list[str] = field(default_factory=list)
    nli_pairs: int = 0  # NLI pairs scored for this report

    @property
    def summary(self) -> dict[str, int]:
        counts = {label: 0 for label in LABELS}
        for claim in self.claims:
            counts[claim.label] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "sources": self.sources,
            "claims": [asdict(claim) for claim in self.claims],
            "summary": self.summary,
            "warnings": self.warnings,
            "nli_pairs": self.nli_pairs,
        }
