"""The Factcheck-GPT reader of the claim-pair build
(``factcheck_gpt/subtask3_claim_evidence_stance.jsonl``)."""

from __future__ import annotations

from pathlib import Path

from nli_check.datasets.claim_pairs.records import _Record, _single_passage, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl


def _factcheck_gpt(root: Path) -> list[_Record]:
    """Factcheck-GPT stance: a claim against one web passage per row. The passage has no
    marked evidence sentences, so it is the chunk whole and the removal rules do not apply.
    completely-support: supported; refute: contradicted; partially-support (the claim says
    more) and irrelevant: unsupported."""
    return [_single_passage("factcheck_gpt", _field(row, "claim", where), _field(row, "evidence", where),
                            _verdict("factcheck_gpt", row.get("stance"), where), where,
                            partial=row.get("stance") == "partially-support")
            for where, row in read_jsonl(root / "factcheck_gpt" / "subtask3_claim_evidence_stance.jsonl")]
