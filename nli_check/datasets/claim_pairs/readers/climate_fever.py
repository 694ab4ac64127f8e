"""The CLIMATE-FEVER reader of the claim-pair build (``climate_fever/climate-fever.jsonl``)."""

from __future__ import annotations

from pathlib import Path

from nli_check.datasets.claim_pairs.records import _Record, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED


def _climate_fever(root: Path) -> list[_Record]:
    """CLIMATE-FEVER: each claim with five Wikipedia sentences, each labelled. The five
    sentences are the document (the articles they come from are not in the set). Supporting
    sentences make a supported record whose chunks leave the refuting ones out, and the other
    way round; a claim whose sentences are all NOT_ENOUGH_INFO is unsupported by them."""
    records = []
    for where, row in read_jsonl(root / "climate_fever" / "climate-fever.jsonl"):
        claim = _field(row, "claim", where)
        evidences = row.get("evidences")
        if not isinstance(evidences, list) or not evidences or not all(isinstance(e, dict) for e in evidences):
            raise InputError(f"{where}: 'evidences' is not a non-empty list of objects")
        doc = tuple(_field(e, "evidence", where) for e in evidences)
        labels = [_verdict("climate_fever", e.get("evidence_label"), where) for e in evidences]
        support = frozenset(i for i, label in enumerate(labels) if label == SUPPORTED)
        refute = frozenset(i for i, label in enumerate(labels) if label == CONTRADICTED)
        key = f"climate_fever:{row.get('claim_id', where)}"
        if support:
            records.append(_Record(claim, SUPPORTED, doc, support, key, where, exclude=refute))
        if refute:
            records.append(_Record(claim, CONTRADICTED, doc, refute, key, where, exclude=support))
        if not support and not refute:
            records.append(_Record(claim, UNSUPPORTED, doc, frozenset(), key, where))
    return records
