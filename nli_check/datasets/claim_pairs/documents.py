"""The claims of the evidence-marked sets with their whole documents, unpaired: for pairs that
the checker's own pairing forms (distillation), held out as the claim-pair build holds out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nli_check.datasets.claim_pairs.build import _training_records
from nli_check.datasets.claim_pairs.records import _norm


@dataclass(frozen=True)
class ClaimDocument:
    """A claim and the whole document it was checked against (its sentences), unlabelled
    for what the checker will pair it with; for pairs formed by the checker's own pairing."""

    claim: str
    doc: tuple[str, ...]
    dataset: str


def claim_documents(root: Path, *, sets: Sequence[str] | None = None, min_sentences: int = 3) -> list[ClaimDocument]:
    """Each distinct (claim, document) of the evidence-marked sets' training portions, with
    every dev and test claim and document held out as :func:`build_claim_pairs` holds them.

    Args:
        root: the labelled-data folder.
        sets: names from :data:`SETS`; None: every set whose files are here.
        min_sentences: documents shorter than this are left out (nothing to choose among).

    Returns:
        The claims with their documents, in the order of the sets and their rows.
    """
    found: dict[tuple[str, str], ClaimDocument] = {}
    for name, kept in _training_records(Path(root), sets)[1]:
        for record in kept:
            if len(record.doc) < min_sentences:
                continue
            found.setdefault((_norm(record.claim), record.doc_key), ClaimDocument(record.claim, record.doc, name))
    return list(found.values())
