"""Claim-level training pairs, made by rule from the sets that mark their evidence.

This is the document-to-claim idea behind MiniCheck's data, done with gold annotations
instead of generation. Each set is read into records (a claim, its gold verdict, the
sentences of the document it was checked against, and which of those hold the evidence);
rules then turn the records into (claim, chunk) pairs:

* ``gold``: the claim against a chunk around its evidence -> its gold verdict;
* ``evidence_removed``: the same chunk without the evidence sentences -> unsupported;
* ``no_evidence_chunk``: a chunk of the same document that holds no evidence -> unsupported;
* ``join_supported``, ``join_unsupported``, ``join_contradicted``: two claims joined
  ("A, and b") against a window of each one's source, side by side: supported only if both
  parts are; an unsupported part makes the whole unsupported, a contradicted one contradicted;
* ``embellish``: the embellishment generator of :mod:`nli_check.training.augment` on the
  supported claims of news-like sets -> unsupported, the inserted words as gold spans;
* ``swap_number``, ``swap_date``, ``swap_entity``, ``swap_negation``, ``swap_quantity``: one
  changed word or phrase in a supported claim -> contradicted, the changed words as spans.

Chunks have the shape the checker infers on: adjacent sentences around the evidence, packed
up to ``chunk_words`` words. Only train splits are read, or sets the project trains on whole;
every claim of a dev or test portion is held out, and so is every document that shares a
sentence with one of their documents. A row that cannot be read stops the build with an
InputError naming the file and row, so no training run goes on with a silently shrunken set.
"""

from __future__ import annotations

import csv
import difflib
import json
import logging
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nli_check.datasets.nli_pairs import (Pair, _field, attribution_references, map_label, read_jsonl, read_tsv,
                                          token_spans)
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.labels import CONTRADICTED, ENTAILMENT, NLI_TO_VERDICT, SUPPORTED, UNSUPPORTED, VERDICTS, Verdict
from nli_check.training import augment

log = logging.getLogger(__name__)

Span = tuple[int, int]

# A share of the supported (and contradicted) claims of a set is joined with a partner, so
# that joined claims stay a minority of each set.
JOIN_SHARE = 0.5
# Longer joined claims are not the sentences the checker sees.
MAX_JOINED_WORDS = 80
# A sentence holding this share of a claim's content words may restate it: such a chunk is
# not used as one that lacks the claim's evidence.
RESTATES = 0.75
# Sets whose text suits the embellishment generator's news-style inserts.
NEWS_LIKE = frozenset({"check_covid", "climate_fever", "covidfact", "factcheck_gpt", "fever_rte", "wice"})


@dataclass(frozen=True)
class ClaimPair:
    """A claim, a source chunk, the claim's verdict against that chunk, the set it came from
    and the rule that made it. ``spans`` are character ranges of the claim that the chunk does
    not back (inserted or changed words, an unsupported joined part), where known."""

    claim: str
    chunk: str
    label: Verdict
    dataset: str
    rule: str
    spans: tuple[Span, ...] = ()


@dataclass
class _Record:
    """A claim with its gold verdict against one document: the document's sentences, the
    indices of those holding the evidence, and the indices that must stay out of every chunk
    of this claim (evidence of the same claim marked on other rows)."""

    claim: str
    label: Verdict
    doc: tuple[str, ...]
    evidence: frozenset[int]
    doc_key: str
    where: str
    spans: tuple[Span, ...] = ()
    exclude: frozenset[int] = frozenset()
    partial: bool = False  # unsupported, but its document backs part of it
    sizes: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sizes = tuple(len(sentence.split()) for sentence in self.doc)

    @property
    def settles(self) -> bool:
        """Its marked sentences back (part of) the claim, so removing them takes that away."""
        return bool(self.evidence) and (self.label != UNSUPPORTED or self.partial)


# --- small helpers -----------------------------------------------------------------

_CITATION_GROUP = re.compile(r"\s*[\[(][^\[\]()]*<\|\w+\|>[^\[\]()]*[\])]")
_CITATION_MARK = re.compile(r"\s*<\|\w+\|>")
_STOPWORDS = frozenset({
    "about", "after", "also", "among", "been", "before", "between", "both", "could", "during", "each", "from",
    "have", "here", "into", "more", "most", "only", "other", "over", "same", "some", "such", "than", "that",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "under", "were", "what", "when",
    "where", "which", "while", "will", "with", "would"})


def _strip_citations(text: str) -> str:
    """Citation-Integrity's markers ("[<|cit|>]", "<|multi_cit|>") are not text a claim has."""
    text = _CITATION_MARK.sub("", _CITATION_GROUP.sub("", text))
    return re.sub(r"\s+([,.;:])", r"\1", text).strip()


def _norm(text: str) -> str:
    """The claim as compared for dedup and hold-out: case, punctuation and markers ignored."""
    return re.sub(r"\W+", " ", _strip_citations(text).casefold()).strip()


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if (len(w) >= 4 or w.isdigit()) and w not in _STOPWORDS}


def _restates(claim: str, sentences: Sequence[str]) -> bool:
    words = _content_words(claim)
    if len(words) < 3:
        return False
    return any(len(words & _content_words(sentence)) >= RESTATES * len(words) for sentence in sentences)


def _sentences(row: dict, key: str, where: str) -> tuple[str, ...]:
    value = row.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{where}: {key!r} is not a list of sentences")
    return tuple(item.strip() for item in value)


def _indices(values: object, size: int, where: str, what: str) -> frozenset[int]:
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InputError(f"{where}: {what} is not a list of sentence indices")
    if any(not 0 <= v < size for v in values):
        raise InputError(f"{where}: {what} {values} points outside the document's {size} sentences")
    return frozenset(values)


# SciFact's rationales exist only for SUPPORT and CONTRADICT claims, so its not_entailment rows
# are refutations here (the pair-level map keeps them neutral); COVID-Fact's full file has its
# own label names.
_VERDICT_OVERRIDES: dict[str, dict[str, Verdict]] = {
    "scifact": {"entailment": SUPPORTED, "not_entailment": CONTRADICTED},
    "covidfact": {"SUPPORTED": SUPPORTED, "REFUTED": CONTRADICTED},
}


def _verdict(dataset: str, raw: object, where: str) -> Verdict:
    overrides = _VERDICT_OVERRIDES.get(dataset)
    if overrides is None:
        return NLI_TO_VERDICT[map_label(dataset, str(raw), where)]
    if raw not in overrides:
        raise InputError(f"{where}: unknown label {raw!r} for {dataset}; expected one of {sorted(overrides)}")
    return overrides[raw]


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


# --- the sets ----------------------------------------------------------------------

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


def _single_passage(dataset: str, claim: str, passage: str, label: Verdict, where: str, *,
                    partial: bool = False) -> _Record:
    return _Record(claim, label, (passage,), frozenset({0}), f"{dataset}:{passage}", where, partial=partial)


def _fever(root: Path) -> list[_Record]:
    """FEVER (the labelled claims here are its dev claims, which the project trains on; no
    eval set uses them): a claim with its gold evidence sentences joined into one text, without
    the pages they come from. The chunk is the evidence itself, so the evidence-removed and
    no-evidence-chunk rules have nothing to work with."""
    return [_single_passage("fever_rte", _field(row, "claim", where), _detokenise(_field(row, "evidence", where)),
                            _verdict("fever_rte", row.get("label"), where), where)
            for where, row in read_jsonl(root / "fever_rte" / "rte_fever_dev.jsonl")]


def _scifact(root: Path) -> list[_Record]:
    """SciFact train: a claim with its gold rationale sentences, joined, without the rest of
    the abstract: the chunk is the rationale, so the removal rules do not apply."""
    return [_single_passage("scifact", _field(row, "sentence2", where), _field(row, "sentence1", where),
                            _verdict("scifact", row.get("entailment"), where), where)
            for where, row in read_tsv(root / "scifact" / "train.tsv")]


def _factcheck_gpt(root: Path) -> list[_Record]:
    """Factcheck-GPT stance: a claim against one web passage per row. The passage has no
    marked evidence sentences, so it is the chunk whole and the removal rules do not apply.
    completely-support: supported; refute: contradicted; partially-support (the claim says
    more) and irrelevant: unsupported."""
    return [_single_passage("factcheck_gpt", _field(row, "claim", where), _field(row, "evidence", where),
                            _verdict("factcheck_gpt", row.get("stance"), where), where,
                            partial=row.get("stance") == "partially-support")
            for where, row in read_jsonl(root / "factcheck_gpt" / "subtask3_claim_evidence_stance.jsonl")]


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


# --- what is held out ----------------------------------------------------------------

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


# --- chunks --------------------------------------------------------------------------

def _pack(record: _Record, core: frozenset[int] | set[int], *, budget: int, rng: random.Random,
          skip: frozenset[int] = frozenset(), stop: frozenset[int] = frozenset()) -> list[int]:
    """Indices of a window of adjacent sentences around ``core``.

    Args:
        record: the record whose document is windowed.
        core: sentences always kept (the evidence), whatever their length.
        budget: the most words the window grows to.
        rng: picks how far the window leans left or right, so the evidence is not always central.
        skip: sentences stepped over (left out, the window goes on past them).
        stop: sentences the window does not cross.

    Returns:
        Sorted sentence indices; the core alone when its sentences are too far apart to fill
        between within the budget.
    """
    kept = sorted(set(core) - skip)
    if not kept:
        return []
    sizes = record.sizes
    used = sum(sizes[i] for i in kept)
    between = [i for i in range(kept[0], kept[-1] + 1) if i not in core and i not in skip]
    if any(i in stop for i in between) or used + sum(sizes[i] for i in between) > budget:
        return kept
    chosen = set(kept) | set(between)
    used += sum(sizes[i] for i in between)
    lean = rng.random()
    left, right = kept[0] - 1, kept[-1] + 1
    open_left, open_right = True, True
    while open_left or open_right:
        go_left = open_left and (not open_right or rng.random() < lean)
        index = left if go_left else right
        if not 0 <= index < len(sizes) or index in stop or (index not in skip and used + sizes[index] > budget):
            if go_left:
                open_left = False
            else:
                open_right = False
            continue
        if index not in skip:
            chosen.add(index)
            used += sizes[index]
        if go_left:
            left -= 1
        else:
            right += 1
    return sorted(chosen)


def _text(record: _Record, indices: Sequence[int]) -> str:
    return " ".join(record.doc[i] for i in indices if record.doc[i])


def _words(record: _Record, indices: Sequence[int]) -> int:
    return sum(record.sizes[i] for i in indices)


def _gold_window(record: _Record, *, budget: int, rng: random.Random) -> list[int]:
    """The chunk around the evidence; a record without marked evidence gets a window around a
    random sentence (none of its sentences settles the claim)."""
    core = record.evidence
    if not core:
        allowed = [i for i, size in enumerate(record.sizes) if size and i not in record.exclude]
        if not allowed:
            return []
        core = frozenset({rng.choice(allowed)})
    return _pack(record, core, budget=budget, rng=rng, skip=record.exclude)


def _without_evidence(record: _Record, window: Sequence[int]) -> list[int]:
    return [i for i in window if i not in record.evidence and i not in record.exclude and record.sizes[i]]


def _elsewhere_window(record: _Record, *, budget: int, rng: random.Random) -> list[int]:
    barred = record.evidence | record.exclude
    allowed = [i for i, size in enumerate(record.sizes) if size and i not in barred]
    if not allowed:
        return []
    return _pack(record, {rng.choice(allowed)}, budget=budget, rng=rng, stop=barred)


# --- the rules -----------------------------------------------------------------------

def _gold_rule(name: str, record: _Record, window: Sequence[int], *, budget: int) -> ClaimPair | None:
    """(claim, chunk around its gold evidence) -> the gold verdict. None when the evidence alone
    is longer than a chunk: the model would see it cut."""
    if not window or _words(record, window) > budget:
        return None
    return ClaimPair(record.claim, _text(record, window), record.label, name, "gold", record.spans)


def _removed_rule(name: str, record: _Record, window: Sequence[int]) -> ClaimPair | None:
    """The gold chunk without its evidence sentences -> unsupported."""
    if not record.settles:
        return None
    rest = _without_evidence(record, window)
    if not rest or _restates(record.claim, [record.doc[i] for i in rest]):
        return None
    return ClaimPair(record.claim, _text(record, rest), UNSUPPORTED, name, "evidence_removed")


def _no_evidence_rule(name: str, record: _Record, *, budget: int, rng: random.Random) -> ClaimPair | None:
    """A window of the same document that holds none of the evidence -> unsupported."""
    if not record.settles:
        return None
    window = _elsewhere_window(record, budget=budget, rng=rng)
    if not window or _restates(record.claim, [record.doc[i] for i in window]):
        return None
    return ClaimPair(record.claim, _text(record, window), UNSUPPORTED, name, "no_evidence_chunk")


_OPENERS = frozenset({"A", "An", "The", "It", "He", "She", "They", "This", "These", "Those", "There", "We", "In",
                      "Some", "Many", "Most", "One", "Several", "Recent", "Other", "Such", "Its", "Their", "Our"})


# A claim that opens with a connective ("But in pandemic times ...") does not join.
_DISCOURSE = re.compile(r"(?:And|But|However|Yet|So|Also|Meanwhile|Moreover|Still|Thus|Therefore)\b")


def _conjoin(first: str, second: str) -> tuple[str, int]:
    """"A, and b": the first claim without its full stop, the second with a plain sentence
    opener lower-cased. Returns the text and where the second part starts in it."""
    body, end = augment._strip_end(first)
    word, _, rest = second.partition(" ")
    second = (word.lower() if word in _OPENERS else word) + (" " + rest if rest else "")
    second, second_end = augment._strip_end(second)
    joined = f"{body}, and "
    return f"{joined}{second}{second_end if second_end else end}", len(joined)


def _partner(record: _Record, pool: Sequence[_Record], rng: random.Random) -> _Record | None:
    """A random record of ``pool`` about another document and another claim."""
    for _ in range(5):
        other = rng.choice(pool)
        if other.doc_key != record.doc_key and _norm(other.claim) != _norm(record.claim):
            return other
    return None


def _gap_part(record: _Record, *, budget: int,
              rng: random.Random) -> tuple[str, tuple[Span, ...] | None] | None:
    """A window of ``record``'s document that does not back its claim, and the spans of the
    claim unsupported there: () for the whole claim, None when unknown (a partly backed claim)."""
    if record.label == UNSUPPORTED:
        window = _gold_window(record, budget=budget, rng=rng)
        spans = record.spans if record.spans or not record.partial else None
    else:
        window = _without_evidence(record, _gold_window(record, budget=budget, rng=rng))
        spans = ()
    if not window or _words(record, window) > budget or _restates(record.claim, [record.doc[i] for i in window]):
        return None
    return _text(record, window), spans


def _evidence_part(record: _Record, *, budget: int, rng: random.Random) -> str | None:
    window = _gold_window(record, budget=budget, rng=rng)
    return _text(record, window) if window and _words(record, window) <= budget else None


def _joined(name: str, a: _Record, a_chunk: str, b: _Record, b_chunk: str | None, label: Verdict, rule: str,
            b_spans: tuple[Span, ...] | None, rng: random.Random) -> ClaimPair | None:
    """"A, and b" (in either order) against the two chunks side by side (or A's alone when
    ``b_chunk`` is None). ``b_spans``: None for no spans, () for b's whole part, else b's own."""
    if len(a.claim.split()) + len(b.claim.split()) > MAX_JOINED_WORDS or \
            _DISCOURSE.match(a.claim) or _DISCOURSE.match(b.claim):
        return None
    b_first = rng.random() < 0.5
    claim, offset = _conjoin(b.claim, a.claim) if b_first else _conjoin(a.claim, b.claim)
    start = 0 if b_first else offset
    b_length = len(augment._strip_end(b.claim)[0])
    spans: tuple[Span, ...] = ()
    if b_spans == ():
        spans = ((start, start + b_length),)
    elif b_spans:
        spans = tuple((start + s, start + e) for s, e in b_spans if e <= b_length)
    # The chunks' order is drawn apart from the claims' order.
    chunks = [a_chunk] if b_chunk is None else ([b_chunk, a_chunk] if rng.random() < 0.5 else [a_chunk, b_chunk])
    return ClaimPair(claim, " ".join(chunks), label, name, rule, spans)


def _join_rule(name: str, records: Sequence[_Record], *, budget: int, rng: random.Random) -> list[ClaimPair]:
    """Joined claims: supported + supported -> supported; supported + a part its chunk does not
    back -> unsupported; supported + contradicted -> contradicted. Each part gets half the
    chunk budget. Where a set has no document context (FEVER, SciFact, COVID-Fact) the
    unsupported part is another claim whose words the first part's chunk mostly lacks."""
    supported = [r for r in records if r.label == SUPPORTED and r.evidence]
    contradicted = [r for r in records if r.label == CONTRADICTED and r.evidence]
    gaps = [r for r in records if r.label == UNSUPPORTED or
            (r.settles and len(r.doc) > len(r.evidence | r.exclude))]
    if not supported:
        return []
    half = budget // 2
    made: list[ClaimPair | None] = []
    for a in supported:
        if rng.random() >= JOIN_SHARE:
            continue
        a_chunk = _evidence_part(a, budget=half, rng=rng)
        b = _partner(a, supported, rng)
        b_chunk = b and _evidence_part(b, budget=half, rng=rng)
        if a_chunk and b and b_chunk:
            made.append(_joined(name, a, a_chunk, b, b_chunk, SUPPORTED, "join_supported", None, rng))
        made.append(_unsupported_join(name, a, a_chunk, gaps or supported + contradicted, budget=budget, rng=rng,
                                      own_chunk=not gaps))
    for b in contradicted:
        if rng.random() >= JOIN_SHARE:
            continue
        a = _partner(b, supported, rng)
        a_chunk = a and _evidence_part(a, budget=half, rng=rng)
        b_chunk = _evidence_part(b, budget=half, rng=rng)
        if a and a_chunk and b_chunk:
            made.append(_joined(name, a, a_chunk, b, b_chunk, CONTRADICTED, "join_contradicted", None, rng))
    return [pair for pair in made if pair]


def _unsupported_join(name: str, a: _Record, a_chunk: str | None, pool: Sequence[_Record], *, budget: int,
                      rng: random.Random, own_chunk: bool) -> ClaimPair | None:
    """A supported claim joined with one its chunk does not back. ``own_chunk``: the set has
    no chunk known not to back a claim, so the joined claim gets A's chunk alone and the partner
    must share few words with it."""
    b = _partner(a, pool, rng)
    if b is None:
        return None
    if own_chunk:
        chunk = _evidence_part(a, budget=budget, rng=rng)
        words = _content_words(b.claim)
        if not chunk or not words or len(words & _content_words(chunk)) >= 0.5 * len(words):
            return None
        return _joined(name, a, chunk, b, None, UNSUPPORTED, "join_unsupported", (), rng)
    gap = _gap_part(b, budget=budget // 2, rng=rng)
    if a_chunk is None or gap is None or _restates(b.claim, [a_chunk]):
        return None
    return _joined(name, a, a_chunk, b, gap[0], UNSUPPORTED, "join_unsupported", gap[1], rng)


def _changed_spans(old: str, new: str) -> tuple[Span, ...]:
    """Character ranges of the words of ``new`` that ``old`` does not have (case ignored; an
    article changed to fit an inserted word is not counted)."""
    old_words = [m.group().lower() for m in re.finditer(r"\w+", old)]
    new_matches = list(re.finditer(r"\w+", new))
    matcher = difflib.SequenceMatcher(a=old_words, b=[m.group().lower() for m in new_matches], autojunk=False)
    marked = [k for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace")
              for k in range(j1, j2) if tag == "insert" or new_matches[k].group().lower() not in {"a", "an"}]
    spans: list[list[int]] = []
    for k in marked:
        if spans and spans[-1][2] == k - 1:
            spans[-1][1], spans[-1][2] = new_matches[k].end(), k
        else:
            spans.append([new_matches[k].start(), new_matches[k].end(), k])
    return tuple((start, end) for start, end, _ in spans)


def _embellish_rule(gold: ClaimPair, rng: random.Random) -> ClaimPair | None:
    """augment.py's embellishment of a supported claim -> unsupported, the inserted words as spans."""
    if len(gold.claim.split()) < 4:
        return None
    for _ in range(3):
        made = augment.add_unsupported(Pair(gold.chunk, gold.claim, ENTAILMENT, gold.dataset), rng)
        spans = made and _changed_spans(gold.claim, made.hypothesis)
        if made and spans:
            return ClaimPair(made.hypothesis, gold.chunk, UNSUPPORTED, gold.dataset, "embellish", spans)
    return None


# --- swaps: one change that makes a supported claim contradicted ---------------------

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_MONTH = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b")
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_NUMBER_WORDS = {"two": "three", "three": "five", "four": "six", "five": "three", "six": "four", "seven": "nine",
                 "eight": "five", "nine": "six", "ten": "twelve", "twelve": "ten", "twenty": "forty",
                 "hundred": "thousand", "hundreds": "thousands", "thousand": "million", "thousands": "hundreds",
                 "million": "billion", "millions": "thousands", "billion": "million", "dozens": "hundreds"}
# Quantity and direction words; "all" is left out ("all of" -> "none of the of").
_QUANTITY_SWAPS = {**{k: v for k, v in augment.DIRECTION_SWAPS.items() if k != "all"},
                   "most": "few", "many": "few", "majority": "minority", "minority": "majority",
                   "doubled": "halved", "halved": "doubled", "double": "half", "reduced": "increased",
                   "reduces": "increases", "increases": "reduces", "reduce": "increase", "improved": "worsened",
                   "improves": "worsens", "worsened": "improved", "less": "more", "least": "most",
                   "above": "below", "below": "above", "highest": "lowest", "lowest": "highest",
                   "largest": "smallest", "smallest": "largest", "positive": "negative", "negative": "positive"}
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}{_LOWER}]+)*"
# A run of capitalised words (initials allowed inside), not part of a longer token ("SARS-CoV-2").
_ENTITY = re.compile(rf"(?<![\w-]){_NAME_WORD}(?:\s+(?:{_NAME_WORD}|[{_UPPER}]\.))*(?![\w-])")
_NOT_ENTITIES = _OPENERS | set(MONTHS) | {"However", "But", "And", "After", "Before", "During", "According",
                                          "When", "While", "Although", "For", "On", "At", "As", "By", "From",
                                          "With", "If", "His", "Her", "Both", "Each", "All", "No", "Not",
                                          "Figure", "Fig", "Table", "Supplementary", "Section", "Chapter",
                                          "To", "Of", "Is", "Was", "Are", "What", "Who", "How", "Why"} \
    | {word.capitalize() for word in _NUMBER_WORDS}
# A list around a name: a comma or "and"/"or" right before or after it.
_LISTED = re.compile(r",\s*\||\|\s*,|\b(?:and|or)\s*\||\|\s*(?:and|or)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A number that is part of a name ("COVID-19", "IL-6", "H1N1") is not a quantity.
_IN_NAME = re.compile(r"[A-Za-z][-‐]?$")
_NOT_AFTER_AUXILIARY = re.compile(r"\b(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|"
                                  r"might|must)\s+not\b", re.IGNORECASE)
_CONTRACTED = re.compile(r"\b(is|are|was|were|does|do|did|has|have|had|could|would|should|ca|wo)n't\b",
                         re.IGNORECASE)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*|\w+", text.lower()))


def _replace(text: str, start: int, end: int, new: str) -> tuple[str, Span]:
    return text[:start] + new + text[end:], (start, start + len(new))


def _cased(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _other_number(text: str, rng: random.Random) -> str | None:
    value = text.replace(",", "")
    try:
        number = float(value)
    except ValueError:
        return None
    changed = number * rng.choice([2, 3, 0.5]) + rng.choice([1, 7, 13])
    if "." in value:
        return f"{changed:.{len(value.split('.')[1])}f}"
    return f"{int(changed):,}" if "," in text else str(int(changed))


def _swap_number(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in augment.NUMBER.finditer(claim) if not _YEAR.fullmatch(m.group()) and m.group() in words
               and not _IN_NAME.search(claim[:m.start()])]
    options += [m for m in re.finditer(r"\b\w+\b", claim) if m.group().lower() in _NUMBER_WORDS
                and m.group().lower() in words]
    if not options:
        return None
    match = rng.choice(options)
    new = (_cased(_NUMBER_WORDS[match.group().lower()], match.group()) if match.group().lower() in _NUMBER_WORDS
           else _other_number(match.group(), rng))
    if not new or new.lower() in words or new == match.group():
        return None
    return _replace(claim, match.start(), match.end(), new)


def _swap_date(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in [*_MONTH.finditer(claim), *_YEAR.finditer(claim)] if m.group().lower() in words]
    if not options:
        return None
    match = rng.choice(options)
    if match.group().isdigit():
        new = str(int(match.group()) + rng.choice([-3, -2, -1, 1, 2, 5]))
    else:
        months = [month for month in MONTHS if month.lower() not in words]
        new = rng.choice(months) if months else match.group()
    if new.lower() in words:
        return None
    return _replace(claim, match.start(), match.end(), new)


def _entities(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of the runs of capitalised words, a leading "The" or "In" cut off;
    a single word that opens a sentence is a capitalised common word as often as a name, so it
    is left out."""
    found = []
    for match in _ENTITY.finditer(text):
        start, name = match.start(), match.group()
        while name.split()[0] in _NOT_ENTITIES and " " in name:
            cut = len(name.split()[0]) + 1
            start, name = start + cut, name[cut:].lstrip()
        if name.split()[0] in _NOT_ENTITIES:
            continue
        if " " in name or not re.search(r"(?:^|[.!?])\W*$", text[:start]):
            found.append((start, start + len(name), name))
    return found


def _swap_entity(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    """A name of the claim that the chunk also has, changed to a name from another sentence of
    the chunk: the chunk says who or where, and it is someone or somewhere else. Names listed
    in the claim, or next to the original in the same chunk sentence ("starring A and B"),
    are left alone: swapping them can keep the claim true."""
    options = [(start, end, name) for start, end, name in _entities(claim) if name in chunk
               and not _LISTED.search(claim[max(0, start - 5):start] + "|" + claim[end:end + 5])
               and not re.match(r"\s+\d", claim[end:])]  # "Fox 2000 Pictures": the name goes on
    if not options:
        return None
    start, end, name = rng.choice(options)
    own = set(name.lower().split())
    # A name of as many words is more often a name of the same kind (a place for a place).
    others = sorted({other for sentence in _SENTENCE_END.split(chunk) if name not in sentence
                     for _, _, other in _entities(sentence)
                     if len(other.split()) == len(own) and not own & set(other.lower().split())
                     and other not in claim})
    if not others:
        return None
    return _replace(claim, start, end, rng.choice(others))


def _swap_negation(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    """Adds "not" after the first auxiliary, or removes the claim's own "not"."""
    negated = _NOT_AFTER_AUXILIARY.search(claim)
    if negated:
        return _replace(claim, negated.start(), negated.end(), negated.group(1))
    contracted = _CONTRACTED.search(claim)
    if contracted:
        base = {"ca": "can", "wo": "will"}.get(contracted.group(1).lower(), contracted.group(1))
        return _replace(claim, contracted.start(), contracted.end(), _cased(base, contracted.group(1)))
    if augment.NEGATION.search(claim):
        return None
    auxiliary = augment.AUXILIARIES.search(claim)
    if not auxiliary:
        return None
    new, _ = _replace(claim, auxiliary.end(), auxiliary.end(), " not")
    return new, (auxiliary.end() + 1, auxiliary.end() + 4)


def _swap_quantity(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in re.finditer(r"\b\w+\b", claim) if m.group().lower() in _QUANTITY_SWAPS
               and _QUANTITY_SWAPS[m.group().lower()].split()[-1] not in words]
    if not options:
        return None
    match = rng.choice(options)
    return _replace(claim, match.start(), match.end(), _cased(_QUANTITY_SWAPS[match.group().lower()], match.group()))


SWAPS: dict[str, Callable[[str, str, set[str], random.Random], tuple[str, Span] | None]] = {
    "number": _swap_number, "date": _swap_date, "entity": _swap_entity, "negation": _swap_negation,
    "quantity": _swap_quantity,
}


def _swap_rule(gold: ClaimPair, rng: random.Random) -> ClaimPair | None:
    """One swap, of a kind drawn among those the claim allows -> contradicted. Negation fits
    almost every claim, so it is tried last and only half the time: "not" alone must not
    become the sign of a contradiction."""
    words = _tokens(gold.chunk)
    kinds = [kind for kind in SWAPS if kind != "negation"]
    rng.shuffle(kinds)
    if rng.random() < 0.5:
        kinds.append("negation")
    for kind in kinds:
        made = SWAPS[kind](gold.claim, gold.chunk, words, rng)
        if made and made[0] != gold.claim:
            return ClaimPair(made[0], gold.chunk, CONTRADICTED, gold.dataset, f"swap_{kind}", (made[1],))
    return None


# --- building ------------------------------------------------------------------------

def _set_pairs(name: str, records: Sequence[_Record], *, budget: int, rng: random.Random) -> list[ClaimPair]:
    made: list[ClaimPair | None] = []
    unshown = 0
    for record in records:
        window = _gold_window(record, budget=budget, rng=rng)
        gold = _gold_rule(name, record, window, budget=budget)
        unshown += gold is None
        made += [gold, _removed_rule(name, record, window), _no_evidence_rule(name, record, budget=budget, rng=rng)]
        if gold and gold.label == SUPPORTED:
            if name in NEWS_LIKE:
                made.append(_embellish_rule(gold, rng))
            made.append(_swap_rule(gold, rng))
    made += _join_rule(name, records, budget=budget, rng=rng)
    if unshown:
        log.info("%s: %d claims have evidence longer than %d words: no gold pair", name, unshown, budget)
    return [pair for pair in made if pair]


def _deduplicate(pairs: Sequence[ClaimPair]) -> list[ClaimPair]:
    """The first pair of each (normalised claim, chunk); a key that two rules label
    differently is dropped whole, since neither label can be trusted."""
    def key(pair: ClaimPair) -> tuple[str, str]:
        return _norm(pair.claim), " ".join(pair.chunk.split())

    labels: dict[tuple[str, str], set[Verdict]] = defaultdict(set)
    for pair in pairs:
        labels[key(pair)].add(pair.label)
    seen: set[tuple[str, str]] = set()
    kept = []
    for pair in pairs:
        k = key(pair)
        if k in seen or len(labels[k]) > 1:
            continue
        seen.add(k)
        kept.append(pair)
    conflicts = sum(1 for found in labels.values() if len(found) > 1)
    log.info("dedup: %d pairs -> %d (%d claim-chunk keys dropped for conflicting labels)",
             len(pairs), len(kept), conflicts)
    return kept


def _training_records(root: Path, sets: Sequence[str] | None) -> tuple[_Holdout, list[tuple[str, list[_Record]]]]:
    """The held-out claims and documents, and each set's records without them (sets whose
    files are absent are skipped unless named)."""
    names = list(SETS) if sets is None else list(sets)
    unknown = [name for name in names if name not in SETS]
    if unknown:
        raise ValueError(f"unknown set(s) {', '.join(unknown)}; expected some of {', '.join(SETS)}")
    holdout = _holdout(root)
    per_set = []
    for name in names:
        marker, reader = SETS[name]
        if not (root / marker).is_file():
            if sets is not None:
                raise InputError(f"{root / marker}: data file not found")
            log.info("%s: %s not found, set skipped", name, marker)
            continue
        records = reader(root)
        kept = [record for record in records if not holdout.holds(record)]
        log.info("%s: %d records, %d held out as dev or test", name, len(records), len(records) - len(kept))
        per_set.append((name, kept))
    return holdout, per_set


def build_claim_pairs(root: Path, *, seed: int = 13, chunk_words: int = 300,
                      sets: Sequence[str] | None = None) -> list[ClaimPair]:
    """Claim-level training pairs from the evidence-marked sets under ``root``.

    Args:
        root: the labelled-data folder (``shared/data``).
        seed: makes the chunks, partners and edits reproducible.
        chunk_words: the most words a chunk grows to around its evidence (evidence longer
            than that is kept whole).
        sets: names from :data:`SETS`; None: every set whose files are here.

    Returns:
        The pairs, deduplicated across sets on (normalised claim, chunk), with no claim or
        document of a dev or test portion.

    Raises:
        InputError: a named set's files are missing, or a row cannot be read (naming the file
            and row).
        ValueError: an unknown set name, or a chunk budget too small to hold a sentence.
    """
    if chunk_words < 20:
        raise ValueError(f"chunk_words must be at least 20, got {chunk_words}")
    holdout, per_set = _training_records(Path(root), sets)
    pairs: list[ClaimPair] = []
    for name, kept in per_set:
        pairs += _set_pairs(name, kept, budget=chunk_words, rng=random.Random(f"{seed}:{name}"))
    # A made claim (a swap, a join) could equal a held-out one by chance.
    pairs = [pair for pair in pairs if _norm(pair.claim) not in holdout.claims]
    return _deduplicate(pairs)


def counts(pairs: Sequence[ClaimPair], *, by: str = "label") -> dict[str, dict[str, int]]:
    """Pairs per dataset and label (``by="rule"``: per dataset and rule), datasets in the
    order they first appear; labels in :data:`~nli_check.labels.VERDICTS` order, zeros kept."""
    if by not in ("label", "rule"):
        raise ValueError(f"by must be 'label' or 'rule', got {by!r}")
    table: dict[str, Counter] = {}
    for pair in pairs:
        table.setdefault(pair.dataset, Counter())[pair.label if by == "label" else pair.rule] += 1
    if by == "rule":
        return {name: dict(sorted(found.items())) for name, found in table.items()}
    return {name: {str(label): found[label] for label in VERDICTS} for name, found in table.items()}


def write_jsonl(pairs: Sequence[ClaimPair], path: Path) -> None:
    """Write the pairs as JSON Lines (claim, chunk, label, dataset, rule, spans), all or nothing."""
    lines = [json.dumps({"claim": p.claim, "chunk": p.chunk, "label": str(p.label), "dataset": p.dataset,
                         "rule": p.rule, "spans": [list(span) for span in p.spans]}, ensure_ascii=False)
             for p in pairs]
    write_atomically(Path(path), "".join(line + "\n" for line in lines))


@dataclass(frozen=True)
class ClaimDocument:
    """A claim and the whole document it was checked against (its sentences), unlabelled
    for what the checker will pair it with; for pairs formed by the checker's own pairing."""

    claim: str
    doc: tuple[str, ...]
    dataset: str


def claim_documents(root: Path, *, sets: Sequence[str] | None = None, min_sentences: int = 3) -> list[ClaimDocument]:
    """Each distinct (claim, document) of the evidence-marked sets' training portions, with
    every dev and test claim and document held out as :func:`build_claim_pairs` holds them.

    Args:
        root: the labelled-data folder.
        sets: names from :data:`SETS`; None: every set whose files are here.
        min_sentences: documents shorter than this are left out (nothing to choose among).

    Returns:
        The claims with their documents, in the order of the sets and their rows.
    """
    found: dict[tuple[str, str], ClaimDocument] = {}
    for name, kept in _training_records(Path(root), sets)[1]:
        for record in kept:
            if len(record.doc) < min_sentences:
                continue
            found.setdefault((_norm(record.claim), record.doc_key), ClaimDocument(record.claim, record.doc, name))
    return list(found.values())
