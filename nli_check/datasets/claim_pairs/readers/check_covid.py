"""The Check-COVID reader of the claim-pair build (``check_covid/train.jsonl``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from nli_check.datasets.claim_pairs.records import _indices, _norm, _Record, _sentences, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl
from nli_check.errors import InputError
from nli_check.labels import UNSUPPORTED


def _check_covid(root: Path) -> list[_Record]:
    """Check-COVID train: news claims against the sentences of the cited paper's abstract,
    ``evidence_set`` marking the evidence. Its NOTENOUGHINFO rows repeat a SUPPORT or REFUTE
    claim of the same abstract with a sentence that does not settle it: they are unsupported
    only against chunks without that claim's evidence, so those sentences are excluded."""
    folder = root / "check_covid"
    abstracts = {_field(row, "cord_id", where): _sentences(row, "abstract", where)
                 for where, row in read_jsonl(folder / "corpus.jsonl")}
    rows = []
    for where, row in read_jsonl(folder / "train.jsonl"):
        claim, cord = _field(row, "claim", where), _field(row, "cord_id", where)
        if cord not in abstracts:
            raise InputError(f"{where}: cord_id {cord!r} is not in corpus.jsonl")
        items = row.get("evidence_set")
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            raise InputError(f"{where}: 'evidence_set' is not a non-empty list of sentence references")
        evidence = _indices([item.get("sent_index") for item in items], len(abstracts[cord]), where, "evidence_set")
        rows.append((where, claim, cord, evidence, _verdict("check_covid", row.get("label"), where)))
    settled: dict[tuple[str, str], set[int]] = defaultdict(set)
    for _, claim, cord, evidence, label in rows:
        if label != UNSUPPORTED:
            settled[(cord, _norm(claim))] |= evidence
    return [_Record(claim, label, abstracts[cord], evidence, f"check_covid:{cord}", where,
                    exclude=frozenset(settled.get((cord, _norm(claim)), set()) - evidence))
            for where, claim, cord, evidence, label in rows]
