"""What the eval harness scores: a labelled example and a named set of them (the adapters
that read each dataset live in :mod:`.eval_sets`, rule-made sets such as :mod:`.slot_swaps`
beside it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nli_check.labels import Verdict


@dataclass(frozen=True)
class Example:
    """One labelled claim with the source text(s) it cites. ``gold_spans`` are character
    ranges of the claim that lack support, for sets annotated at token level."""

    id: str
    claim: str
    sources: tuple[str, ...]
    label: Verdict
    gold_spans: tuple[tuple[int, int], ...] | None = None


@dataclass
class EvalSet:
    name: str
    examples: list[Example]
    labels: tuple[Verdict, ...]  # the gold labels this set distinguishes: 2 -> binary view only
    origin: str  # file(s) it was read from
    split: str = "dev"  # "dev" sets may be used for calibration; "test" sets never
    seen_in_training: bool = False  # the shipped model was trained on (part of) it
    spans: bool = False  # has token-level annotations of unsupported words
    notes: list[str] = field(default_factory=list)

    @property
    def three_way(self) -> bool:
        return len(self.labels) == 3
