"""The claims of the evidence-marked sets with their whole documents, unpaired: for pairs that
the checker's own pairing forms (distillation), held out as the claim-pair build holds out."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nli_check.datasets.claim_pairs.build import _training_records
from nli_check.datasets.claim_pairs.records import ClaimPair, _norm
from nli_check.labels import UNSUPPORTED

# The rules of document_pairs (their pairs' dataset reads "<set>:document").
DOCUMENT_RULES = ("whole_document", "other_document")


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


def document_pairs(root: Path, *, seed: int = 13, sets: Sequence[str] | None = None,
                   min_sentences: int = 3) -> list[ClaimPair]:
    """Claims against whole documents, as a check sees them (the dev sets' shape), from the
    training portions of the evidence-marked sets (held out as :func:`claim_documents` holds out):

    * ``whole_document``: the claim against the whole document it was labelled against ->
      its gold verdict (the evidence is somewhere in there);
    * ``other_document``: the claim against the document of another claim of the same set (same
      field, other subject) -> unsupported.

    ``dataset`` reads ``<set>:document``, so a sample per set and verdict draws them apart from
    the chunk pairs. Returns the pairs, in the order of the sets and their rows.
    """
    rng = random.Random(seed)
    pairs = []
    for name, kept in _training_records(Path(root), sets)[1]:
        records = [r for r in kept if len(r.doc) >= min_sentences]
        seen: set[tuple[str, str]] = set()
        for record in records:
            key = (_norm(record.claim), record.doc_key)
            if key in seen:
                continue
            seen.add(key)
            dataset = f"{name}:document"
            pairs.append(ClaimPair(record.claim, " ".join(record.doc), record.label, dataset, "whole_document"))
            other = records[rng.randrange(len(records))]
            if other.doc_key != record.doc_key and _norm(other.claim) != key[0]:
                pairs.append(ClaimPair(record.claim, " ".join(other.doc), UNSUPPORTED, dataset, "other_document"))
    return pairs
