"""What the claim-pair build holds out: every claim of a dev or test portion under the data
folder, the documents those claims are checked against, and any training document that shares
a sentence with one of them."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nli_check.datasets.claim_pairs.readers.wice import _wice_page
from nli_check.datasets.claim_pairs.records import _SENTENCE_END, _norm, _Record, _sentences
from nli_check.datasets.nli_pairs import _field, attribution_references, read_jsonl, read_tsv


@dataclass(frozen=True)
class _Holdout:
    claims: frozenset[str]  # normalised claims of every dev and test portion here
    docs: frozenset[str]  # record doc keys of the documents those claims are checked against
    sentences: frozenset[str]  # normalised sentences of those documents, boilerplate left out

    def holds(self, record: _Record) -> bool:
        """The record's claim or document is part of a held-out portion; a document counts when
        it shares a sentence with a held-out one (the same paper under another id, say)."""
        return (_norm(record.claim) in self.claims or record.doc_key in self.docs
                or any(key in self.sentences for text in record.doc for key in _sentence_keys(text)))


# (file, claim column): the dev portions eval_sets evaluates on, and the dev and test splits
# of the sets read here.
HELD_OUT_FILES: tuple[tuple[str, str], ...] = (
    ("wice/claim_dev.jsonl", "claim"), ("wice/oracle_chunks_claim_dev.jsonl", "claim"),
    ("wice/non_supported_tokens_dev.jsonl", "claim"), ("check_covid/dev.jsonl", "claim"),
    ("citation_integrity/claims_dev.jsonl", "claim"), ("healthver/dev.csv", "claim"),
    ("attributionbench/dev.jsonl", "claim"), ("xsumfaith/xsumfaith_dev.jsonl", "summary"),
    ("scifact/dev.tsv", "sentence2"), ("covidfact/RTE-covidfact/dev.tsv", "Sentence2"),
    ("covidfact/RTE-covidfact/test.tsv", "sentence2"),
)
# A sentence found in this many held-out documents is boilerplate (a web archive's notice on
# many WiCE pages), not a sign of the same document.
BOILERPLATE_DOCS = 3


def _sentence_keys(text: str) -> set[str]:
    """Normalised sentences long enough to tell one document from another."""
    return {_norm(sentence) for sentence in _SENTENCE_END.split(text) if len(sentence.split()) >= 8}


def _rows(path: Path) -> Iterator[tuple[str, dict]]:
    if path.suffix == ".tsv":
        yield from read_tsv(path)
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield f"{path}:{number}", row
    else:
        yield from read_jsonl(path)


def _corpus(path: Path, key: str) -> dict[str, list[str]]:
    return {str(row.get(key)): _sentences(row, "abstract", where) for where, row in read_jsonl(path)} \
        if path.is_file() else {}


def _held_out_sources(name: str, row: dict, corpora: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
    """The documents a held-out row is checked against: doc key -> their texts."""
    if name.startswith("check_covid/"):
        cord = str(row.get("cord_id"))
        return {f"check_covid:{cord}": list(corpora["check_covid"].get(cord, []))}
    if name.startswith("citation_integrity/"):
        cited = {str(d) for d in row.get("cited_doc_ids") or []} | {str(d) for d in row.get("evidence") or {}}
        return {f"citation_integrity:{d}": list(corpora["citation_integrity"].get(d, [])) for d in cited}
    page = row.get("evidence")
    if name.startswith("wice/") and "oracle" not in name and isinstance(page, list) and page:
        return {_wice_page(page): [str(line) for line in page]}
    if name.startswith("healthver/"):
        return {f"healthver:{row.get('id')}": [str(row.get("evidence") or "")]}
    if name.startswith("attributionbench/"):
        return {f"attributionbench:{row.get('id')}": attribution_references(row)}
    if name.startswith("xsumfaith/"):
        return {f"xsumfaith:{row.get('bbcid')}": [str(row.get("document") or "")]}
    return {}


def _holdout(root: Path) -> _Holdout:
    """The claims and documents of every dev and test file here (absent files hold nothing)."""
    corpora = {"check_covid": _corpus(root / "check_covid" / "corpus.jsonl", "cord_id"),
               "citation_integrity": _corpus(root / "citation_integrity" / "corpus.jsonl", "doc_id")}
    claims: set[str] = set()
    sources: dict[str, list[str]] = {}
    for name, column in HELD_OUT_FILES:
        path = root / name
        if not path.is_file():
            continue
        for where, row in _rows(path):
            claims.add(_norm(_field(row, column, where)))
            sources.update(_held_out_sources(name, row, corpora))
    found_in = Counter(key for texts in sources.values() for key in set().union(*map(_sentence_keys, texts)))
    return _Holdout(frozenset(claims), frozenset(sources),
                    frozenset(key for key, documents in found_in.items() if documents < BOILERPLATE_DOCS))
