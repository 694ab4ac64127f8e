"""The COVID-Fact reader of the claim-pair build (``covidfact/COVIDFACT_dataset.jsonl``, kept to
the claims of ``RTE-covidfact/train.tsv``)."""

from __future__ import annotations

from pathlib import Path

from nli_check.datasets.claim_pairs.records import _norm, _Record, _sentences, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl, read_tsv
from nli_check.errors import InputError


def _tsv_claims(path: Path, column: str) -> set[str]:
    return {_norm(_field(row, column, where)) for where, row in read_tsv(path)}


def _covidfact(root: Path) -> list[_Record]:
    """COVID-Fact: claims (the refuted ones mostly automatic counter-claims) with the evidence
    sentences of their source article; the article itself is not here, so the chunk is the
    evidence and the removal rules do not apply. COVIDFACT_dataset.jsonl holds every split:
    only claims of RTE-covidfact/train.tsv are kept, none of dev.tsv or test.tsv, and none
    whose source article also feeds a dev or test claim."""
    folder = root / "covidfact"
    train = _tsv_claims(folder / "RTE-covidfact" / "train.tsv", "Sentence2")
    held = _tsv_claims(folder / "RTE-covidfact" / "dev.tsv", "Sentence2")
    held |= _tsv_claims(folder / "RTE-covidfact" / "test.tsv", "sentence2")
    rows = []
    for where, row in read_jsonl(folder / "COVIDFACT_dataset.jsonl"):
        claim, source = _field(row, "claim", where), _field(row, "gold_source", where)
        evidence = tuple(s for s in _sentences(row, "evidence", where) if s)
        if not evidence:
            raise InputError(f"{where}: 'evidence' has no sentence")
        rows.append((where, claim, source, evidence, _verdict("covidfact", row.get("label"), where)))
    held_sources = {source for _, claim, source, _, _ in rows if _norm(claim) in held}
    return [_Record(claim, label, evidence, frozenset(range(len(evidence))), f"covidfact:{source}", where)
            for where, claim, source, evidence, label in rows
            if _norm(claim) in train and _norm(claim) not in held and source not in held_sources]
