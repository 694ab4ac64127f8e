"""The vocabulary, defined once: the three verdicts a claim gets, the three NLI labels a
model predicts, and the columns of every probability array.

Both label types are ``StrEnum``: a member *is* its string (``Verdict.SUPPORTED ==
"supported"``), so JSON, CSV and the schema see plain strings.

Examples:
    >>> Verdict.SUPPORTED == "supported"
    True
    >>> probabilities[:, ENTAILMENT_COLUMN]  # p(entailment) of every pair
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What nli-check says of a claim."""

    SUPPORTED = "supported"  # a cited source says this
    CONTRADICTED = "contradicted"  # a cited source says otherwise
    UNSUPPORTED = "unsupported"  # no cited source says this


class NLILabel(StrEnum):
    """What an NLI model says of an (evidence, claim) pair."""

    ENTAILMENT = "entailment"
    NEUTRAL = "neutral"
    CONTRADICTION = "contradiction"


SUPPORTED, CONTRADICTED, UNSUPPORTED = Verdict
ENTAILMENT, NEUTRAL, CONTRADICTION = NLILabel

# Verdicts in the order reports count them.
VERDICTS: tuple[Verdict, ...] = tuple(Verdict)
# NLI labels in the order of the columns of every probability array nli-check passes around.
NLI_LABELS: tuple[NLILabel, ...] = tuple(NLILabel)
ENTAILMENT_COLUMN, NEUTRAL_COLUMN, CONTRADICTION_COLUMN = range(len(NLI_LABELS))

# The label ids of the models nli-check trains.
ID2LABEL: dict[int, str] = {column: str(label) for column, label in enumerate(NLI_LABELS)}
LABEL2ID: dict[str, int] = {label: column for column, label in ID2LABEL.items()}

# A pair-level NLI label read as a claim's verdict (labelled pair sets in evaluation).
NLI_TO_VERDICT: dict[NLILabel, Verdict] = {ENTAILMENT: SUPPORTED, NEUTRAL: UNSUPPORTED, CONTRADICTION: CONTRADICTED}
# A claim's verdict against a chunk read as the NLI label the model learns for that pair.
VERDICT_TO_NLI: dict[Verdict, NLILabel] = {verdict: label for label, verdict in NLI_TO_VERDICT.items()}
