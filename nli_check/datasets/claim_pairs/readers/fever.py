"""The FEVER reader of the claim-pair build (``fever_rte/rte_fever_dev.jsonl``), with the
undoing of FEVER's PTB tokenisation that only this set needs."""

from __future__ import annotations

import re
from pathlib import Path

from nli_check.datasets.claim_pairs.records import _Record, _single_passage, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl

_PTB = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", " -- ": " – "}


def _detokenise(text: str) -> str:
    """FEVER's evidence is PTB-tokenised ("Kenneth `` Babyface '' Edmonds , ..."); the checker
    reads ordinary text."""
    for token, plain in _PTB.items():
        text = text.replace(token, plain)
    text = re.sub(r"``\s*(.*?)\s*''", r'"\1"', text)
    text = re.sub(r"\s+([,.;:!?%)\]}]|'s\b|n't\b)", r"\1", text)
    text = re.sub(r"([(\[{])\s+", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _fever(root: Path) -> list[_Record]:
    """FEVER (the labelled claims here are its dev claims, which the project trains on; no
    eval set uses them): a claim with its gold evidence sentences joined into one text, without
    the pages they come from. The chunk is the evidence itself, so the evidence-removed and
    no-evidence-chunk rules have nothing to work with."""
    return [_single_passage("fever_rte", _field(row, "claim", where), _detokenise(_field(row, "evidence", where)),
                            _verdict("fever_rte", row.get("label"), where), where)
            for where, row in read_jsonl(root / "fever_rte" / "rte_fever_dev.jsonl")]
