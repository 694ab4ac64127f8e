"""The Citation-Integrity reader of the claim-pair build (``citation_integrity/claims_train.jsonl``
against ``corpus.jsonl``)."""

from __future__ import annotations

import random
from pathlib import Path

from nli_check.datasets.claim_pairs.records import _indices, _Record, _sentences, _strip_citations, _verdict
from nli_check.datasets.nli_pairs import _field, read_jsonl
from nli_check.errors import InputError
from nli_check.labels import UNSUPPORTED


def _shuffled_corpus(path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, list[int]]]:
    """Each paper's sentences in a fixed shuffled order, and where each original sentence went."""
    corpus: dict[str, tuple[str, ...]] = {}
    places: dict[str, list[int]] = {}
    for where, row in read_jsonl(path):
        doc_id, sentences = str(row.get("doc_id")), _sentences(row, "abstract", where)
        order = random.Random(f"citation_integrity:{doc_id}").sample(range(len(sentences)), len(sentences))
        corpus[doc_id] = tuple(sentences[i] for i in order)
        places[doc_id] = [order.index(i) for i in range(len(sentences))]
    return corpus, places


def _citation_integrity(root: Path) -> list[_Record]:
    """Citation-Integrity train: citing sentences against the sentences of the cited paper
    in corpus.jsonl (five per paper); ``evidence`` gives the supporting or refuting sentence
    ids. A claim with no evidence is unsupported by the papers it cites. Citation markers are
    removed from the claims. The five sentences are not adjacent text and the evidence always
    comes first, so each paper's sentences are put in a fixed shuffled order: the position of a
    sentence must not give the evidence away."""
    folder = root / "citation_integrity"
    corpus, places = _shuffled_corpus(folder / "corpus.jsonl")
    records = []
    for where, row in read_jsonl(folder / "claims_train.jsonl"):
        claim = _strip_citations(_field(row, "claim", where))
        evidence = row.get("evidence") or {}
        if not isinstance(evidence, dict):
            raise InputError(f"{where}: 'evidence' is not an object of doc id -> annotations")
        cited = [str(d) for d in row.get("cited_doc_ids") or []] if not evidence else list(evidence)
        if not cited:
            raise InputError(f"{where}: no evidence and no 'cited_doc_ids'")
        for doc_id in cited:
            doc = corpus.get(doc_id)
            if not doc:
                raise InputError(f"{where}: cited document {doc_id} is not in corpus.jsonl or has no sentences")
            annotations = evidence.get(doc_id, [])
            if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
                raise InputError(f"{where}: evidence for document {doc_id} is not a list of annotations")
            marked = [(_verdict("citation_integrity", a.get("label"), where),
                       frozenset(places[doc_id][i] for i in _indices(a.get("sentences"), len(doc), where,
                                                                      "evidence sentences")))
                      for a in annotations]
            if evidence and not marked:
                raise InputError(f"{where}: document {doc_id} has no evidence annotation")
            for label, sentences in marked:
                others = frozenset().union(*(s for _, s in marked)) - sentences
                records.append(_Record(claim, label, doc, sentences, f"citation_integrity:{doc_id}", where,
                                       exclude=others))
            if not marked:
                records.append(_Record(claim, UNSUPPORTED, doc, frozenset(), f"citation_integrity:{doc_id}", where))
    return records
