"""The readers of the evidence-marked sets, one module per set, each turning its files into
:class:`~nli_check.datasets.claim_pairs.records._Record` s; :data:`SETS` names them in the order
the build reads them (that order is part of what makes a build reproducible)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nli_check.datasets.claim_pairs.readers.check_covid import _check_covid
from nli_check.datasets.claim_pairs.readers.citation_integrity import _citation_integrity
from nli_check.datasets.claim_pairs.readers.climate_fever import _climate_fever
from nli_check.datasets.claim_pairs.readers.covidfact import _covidfact
from nli_check.datasets.claim_pairs.readers.factcheck_gpt import _factcheck_gpt
from nli_check.datasets.claim_pairs.readers.fever import _fever
from nli_check.datasets.claim_pairs.readers.scifact import _scifact
from nli_check.datasets.claim_pairs.readers.wice import _wice
from nli_check.datasets.claim_pairs.records import _Record

# name -> (the file whose presence means the set is here, its reader)
SETS: dict[str, tuple[str, Callable[[Path], list[_Record]]]] = {
    "check_covid": ("check_covid/train.jsonl", _check_covid),
    "citation_integrity": ("citation_integrity/claims_train.jsonl", _citation_integrity),
    "climate_fever": ("climate_fever/climate-fever.jsonl", _climate_fever),
    "fever_rte": ("fever_rte/rte_fever_dev.jsonl", _fever),
    "scifact": ("scifact/train.tsv", _scifact),
    "factcheck_gpt": ("factcheck_gpt/subtask3_claim_evidence_stance.jsonl", _factcheck_gpt),
    "covidfact": ("covidfact/COVIDFACT_dataset.jsonl", _covidfact),
    "wice": ("wice/non_supported_tokens_train.jsonl", _wice),
}
