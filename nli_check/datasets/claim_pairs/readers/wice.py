"""The WiCE reader of the claim-pair build (``wice/non_supported_tokens_train.jsonl``), and the
key of a WiCE page, which the holdout also uses to recognise a dev page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nli_check.datasets.claim_pairs.records import _indices, _Record, _sentences, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl, token_spans
from nli_check.errors import InputError


def _wice_page(page: Sequence[object]) -> str:
    """A page's key: its first lines (title, date, site heading), since a title alone can be empty."""
    return "wice:" + "\n".join(str(line).strip() for line in page[:3])


def _wice(root: Path) -> list[_Record]:
    """WiCE non_supported_tokens_train.jsonl: partially supported Wikipedia sentences against
    the sentences of the web page they cite, with the supporting sentence sets and a flag per
    claim token for the words the page does not support (the gold spans). Every row is
    partially supported, so the set gives unsupported pairs only, and no supported claim to
    join or swap. (WiCE's claim file is dev only: held out.)"""
    records = []
    for where, row in read_jsonl(root / "wice" / "non_supported_tokens_train.jsonl"):
        claim = _field(row, "claim", where)
        page = _sentences(row, "evidence", where)
        groups = row.get("supporting_sentences")
        if not isinstance(groups, list) or not all(isinstance(group, list) for group in groups):
            raise InputError(f"{where}: 'supporting_sentences' is not a list of index lists")
        evidence = _indices([i for group in groups for i in group], len(page), where, "supporting_sentences")
        spans = token_spans(claim, row.get("claim_tokens") or [], row.get("non_supported_spans") or [], where)
        records.append(_Record(claim, _verdict("wice", row.get("label"), where), page, evidence,
                               _wice_page(page) if page else f"wice:{where}", where, spans=spans, partial=True))
    return records
