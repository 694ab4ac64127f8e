"""The SciFact reader of the claim-pair build (``scifact/train.tsv``)."""

from __future__ import annotations

from pathlib import Path

from nli_check.datasets.claim_pairs.records import _Record, _single_passage, _verdict
from nli_check.datasets.nli_pairs import _field, read_tsv


def _scifact(root: Path) -> list[_Record]:
    """SciFact train: a claim with its gold rationale sentences, joined, without the rest of
    the abstract: the chunk is the rationale, so the removal rules do not apply."""
    return [_single_passage("scifact", _field(row, "sentence2", where), _field(row, "sentence1", where),
                            _verdict("scifact", row.get("entailment"), where), where)
            for where, row in read_tsv(root / "scifact" / "train.tsv")]
