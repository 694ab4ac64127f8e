"""Readers for the labelled sets in ``shared/data``, and the one place that maps
each dataset's raw labels onto the three NLI labels.

Every reader yields :class:`Pair` objects. A missing file or an unreadable row raises
:class:`~nli_check.errors.InputError` naming the file and line: a training or eval run
must never go on with a silently shrunken set.
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL, NLILabel

# Raw label -> NLI label, per dataset. Binary "not entailed" labels map to neutral
# unless the dataset says the negatives are refutations (FEVER, COVID-Fact).
LABEL_MAPS: dict[str, dict[str, NLILabel]] = {
    "snli": {"entailment": ENTAILMENT, "neutral": NEUTRAL, "contradiction": CONTRADICTION},
    "mnli_taxinli": {"entailment": ENTAILMENT, "neutral": NEUTRAL, "contradiction": CONTRADICTION},
    "cad_snli": {"entailment": ENTAILMENT, "neutral": NEUTRAL, "contradiction": CONTRADICTION},
    "conjnli": {"entailment": ENTAILMENT, "neutral": NEUTRAL, "contradiction": CONTRADICTION},
    "sick": {"ENTAILMENT": ENTAILMENT, "NEUTRAL": NEUTRAL, "CONTRADICTION": CONTRADICTION},
    "anli": {"e": ENTAILMENT, "n": NEUTRAL, "c": CONTRADICTION},
    "glue_rte": {"0": ENTAILMENT, "1": NEUTRAL},
    "scifact": {"entailment": ENTAILMENT, "not_entailment": NEUTRAL},
    "fever_rte": {"entailment": ENTAILMENT, "not_entailment": CONTRADICTION},
    "covidfact_rte": {"entailment": ENTAILMENT, "not_entailment": CONTRADICTION, "not_entail": CONTRADICTION},
    "check_covid": {"SUPPORT": ENTAILMENT, "NOTENOUGHINFO": NEUTRAL, "REFUTE": CONTRADICTION},
    "citation_integrity": {"SUPPORT": ENTAILMENT, "REFUTE": CONTRADICTION},
    "climate_fever": {"SUPPORTS": ENTAILMENT, "NOT_ENOUGH_INFO": NEUTRAL, "REFUTES": CONTRADICTION},
    "healthver": {"Supports": ENTAILMENT, "Neutral": NEUTRAL, "Refutes": CONTRADICTION},
    # "partially-support" is the embellishment case: the claim says more than the evidence.
    "factcheck_gpt": {
        "completely-support": ENTAILMENT,
        "partially-support": NEUTRAL,
        "irrelevant": NEUTRAL,
        "refute": CONTRADICTION,
    },
    "wice": {"supported": ENTAILMENT, "partially_supported": NEUTRAL, "not_supported": NEUTRAL},
}


@dataclass(frozen=True)
class Pair:
    """One (premise, hypothesis) pair; ``label`` is one of :data:`nli_check.labels.NLI_LABELS`,
    or None for a pair no set labels (a teacher labels it in distillation)."""

    premise: str
    hypothesis: str
    label: NLILabel | None
    dataset: str


def write_pairs(pairs: Sequence[Pair], path: Path) -> None:
    """Write pairs as JSON Lines (gzip when the name ends in .gz), all or nothing: a training
    mix built here and trained on another machine (``nli-check train --pairs``), or the
    unlabelled pairs distillation keeps in its work folder."""
    from nli_check.inputs import write_atomically

    text = "".join(json.dumps({"premise": p.premise, "hypothesis": p.hypothesis, "label": p.label,
                               "dataset": p.dataset}, ensure_ascii=False) + "\n" for p in pairs).encode("utf-8")
    write_atomically(path, gzip.compress(text, mtime=0) if str(path).endswith(".gz") else text)


def read_pairs(path: Path) -> list[Pair]:
    """The pairs of :func:`write_pairs` (a row without ``label`` is unlabelled); a row that is
    not a pair is an error naming its line."""
    raw = _require(Path(path)).read_bytes()
    try:
        text = (gzip.decompress(raw) if str(path).endswith(".gz") else raw).decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputError(f"{path}: not a pairs file ({error})") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            row = json.loads(line)
            label = None if row.get("label") is None else NLILabel(row["label"])
            pairs.append(Pair(str(row["premise"]), str(row["hypothesis"]), label, str(row["dataset"])))
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(f"{path}:{number}: not a pair row ({error})") from None
    return pairs


def map_label(dataset: str, raw: str, where: str) -> NLILabel:
    mapping = LABEL_MAPS[dataset]
    if raw not in mapping:
        raise InputError(f"{where}: unknown label {raw!r} for {dataset}; expected one of {sorted(mapping)}")
    return mapping[raw]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    return path


def read_jsonl(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (``file:line``, row) for each non-blank line."""
    with _require(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InputError(f"{where}: not UTF-8 text") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{where}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield where, row


def read_tsv(path: Path) -> Iterator[tuple[str, dict]]:
    csv.field_size_limit(1 << 30)
    with _require(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for number, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                raise InputError(f"{path}:{number}: row has the wrong number of columns")
            yield f"{path}:{number}", row


def _field(row: dict, key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: missing or empty field {key!r}")
    return value.strip()


def token_spans(claim: str, tokens: list, flags: list, where: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets in ``claim`` of the tokens WiCE flags (its ``claim_tokens`` and
    ``non_supported_spans`` lists), found left to right."""
    if len(tokens) != len(flags) or not all(isinstance(token, str) for token in tokens):
        raise InputError(f"{where}: claim_tokens and non_supported_spans differ in length or type")
    spans, cursor = [], 0
    for token, flag in zip(tokens, flags):
        found = claim.find(token, cursor)
        if found == -1:
            continue
        cursor = found + len(token)
        if flag:
            spans.append((found, cursor))
    return tuple(spans)


def attribution_references(row: dict) -> list[str]:
    """The reference texts of an AttributionBench row (stored as the text of a Python list)."""
    references = row.get("references")
    if isinstance(references, str):
        try:
            references = ast.literal_eval(references)
        except (ValueError, SyntaxError):
            references = [references]
    return [text for text in references if isinstance(text, str)] if isinstance(references, list) else []


def _simple(dataset: str, rows: Iterator[tuple[str, dict]], premise: str, hypothesis: str, label: str,
            keep: Callable[[dict], bool] = lambda row: True) -> list[Pair]:
    pairs = []
    for where, row in rows:
        if not keep(row):
            continue
        pairs.append(Pair(_field(row, premise, where), _field(row, hypothesis, where),
                          map_label(dataset, str(row.get(label)), where), dataset))
    return pairs


# --- general NLI ------------------------------------------------------------------

def snli(root: Path, split: str) -> list[Pair]:
    name = {"train": "train_100k.jsonl", "test": "test.jsonl", "dev": "dev.jsonl"}[split]
    return _simple("snli", read_jsonl(root / "snli" / name), "premise", "hypothesis", "label")


def taxinli(root: Path) -> list[Pair]:
    return _simple("mnli_taxinli", read_tsv(root / "mnli_taxinli" / "taxinli10k.tsv"), "prem", "hyp", "label")


def cad_snli(root: Path, split: str) -> list[Pair]:
    return _simple("cad_snli", read_tsv(root / "cad_snli" / "all_combined" / f"{split}.tsv"),
                   "sentence1", "sentence2", "gold_label")


def conjnli(root: Path, split: str) -> list[Pair]:
    name = {"train": "adversarial_train_15k.tsv", "dev": "conj_dev.tsv"}[split]
    rows = read_tsv(root / "conjnli" / name)
    return _simple("conjnli", rows, "Premise", "Hypothesis", "Label")


def sick(root: Path, split: str) -> list[Pair]:
    wanted = {"train": "TRAIN", "trial": "TRIAL", "test": "TEST"}[split]
    return _simple("sick", read_tsv(root / "sick" / "SICK.txt"), "sentence_A", "sentence_B",
                   "entailment_label", keep=lambda row: row["SemEval_set"] == wanted)


def anli(root: Path, round_name: str) -> list[Pair]:
    return _simple("anli", read_jsonl(root / "anli" / round_name / "dev.jsonl"), "context", "hypothesis", "label")


def glue_rte(root: Path, split: str) -> list[Pair]:
    return _simple("glue_rte", read_tsv(root / "glue_rte" / f"{split}.tsv"), "sentence1", "sentence2", "label")


def scifact(root: Path, split: str) -> list[Pair]:
    return _simple("scifact", read_tsv(root / "scifact" / f"{split}.tsv"), "sentence1", "sentence2", "entailment")


def fever(root: Path) -> list[Pair]:
    return _simple("fever_rte", read_jsonl(root / "fever_rte" / "rte_fever_dev.jsonl"), "evidence", "claim", "label")


def covidfact(root: Path, split: str) -> list[Pair]:
    # dev.tsv names its label column "entailment", train.tsv "label".
    return _simple("covidfact_rte", read_tsv(root / "covidfact" / "RTE-covidfact" / f"{split}.tsv"),
                   "sentence1", "Sentence2", "label" if split == "train" else "entailment")


# --- claims against cited sources --------------------------------------------------

def _join(sentences: list[str]) -> str:
    return " ".join(sentence.strip() for sentence in sentences if sentence.strip())


def _with_distractors(evidence: list[str], pool: list[str], rng: random.Random) -> str:
    """Evidence plus up to two neighbouring sentences from the same document, because the
    checker feeds multi-sentence source windows, not clean single rationales."""
    others = [sentence for sentence in pool if sentence not in evidence]
    extra = rng.sample(others, k=min(len(others), rng.choice((0, 1, 2))))
    return _join(sorted(evidence + extra, key=lambda s: pool.index(s) if s in pool else -1))


def check_covid(root: Path, split: str, rng: random.Random | None = None) -> list[Pair]:
    folder = root / "check_covid"
    abstracts = {row["cord_id"]: row["abstract"] for _, row in read_jsonl(folder / "corpus.jsonl")}
    pairs = []
    for where, row in read_jsonl(folder / f"{split}.jsonl"):
        abstract = abstracts.get(row.get("cord_id"))
        if abstract is None:
            raise InputError(f"{where}: cord_id {row.get('cord_id')!r} is not in corpus.jsonl")
        try:
            evidence = [abstract[item["sent_index"]] for item in row["evidence_set"]]
        except (KeyError, IndexError, TypeError):
            raise InputError(f"{where}: evidence_set does not index the abstract") from None
        premise = _with_distractors(evidence, abstract, rng) if rng else _join(evidence)
        pairs.append(Pair(premise, _field(row, "claim", where), map_label("check_covid", row.get("label"), where),
                          "check_covid"))
    return pairs


def citation_integrity(root: Path, split: str, rng: random.Random) -> list[Pair]:
    folder = root / "citation_integrity"
    abstracts = {str(row["doc_id"]): row["abstract"] for _, row in read_jsonl(folder / "corpus.jsonl")}
    pairs = []
    for where, row in read_jsonl(folder / f"claims_{split}.jsonl"):
        claim = _field(row, "claim", where)
        if not row.get("evidence"):
            # No evidence annotated in the cited paper: not enough info.
            for doc_id in row.get("cited_doc_ids", [])[:1]:
                abstract = abstracts.get(str(doc_id), [])
                if abstract:
                    start = rng.randrange(len(abstract))
                    pairs.append(Pair(_join(abstract[start:start + 2]), claim, NEUTRAL, "citation_integrity"))
            continue
        for doc_id, labelled in row["evidence"].items():
            abstract = abstracts.get(str(doc_id))
            if abstract is None:
                raise InputError(f"{where}: doc_id {doc_id} is not in corpus.jsonl")
            for annotation in labelled:
                evidence = [abstract[i] for i in annotation["sentences"] if i < len(abstract)]
                if evidence:
                    pairs.append(Pair(_with_distractors(evidence, abstract, rng), claim,
                                      map_label("citation_integrity", annotation["label"], where),
                                      "citation_integrity"))
    return pairs


def climate_fever(root: Path) -> list[Pair]:
    pairs = []
    for where, row in read_jsonl(root / "climate_fever" / "climate-fever.jsonl"):
        claim = _field(row, "claim", where)
        for evidence in row.get("evidences", []):
            pairs.append(Pair(_field(evidence, "evidence", where), claim,
                              map_label("climate_fever", evidence.get("evidence_label"), where), "climate_fever"))
    return pairs


def factcheck_gpt(root: Path) -> list[Pair]:
    return _simple("factcheck_gpt", read_jsonl(root / "factcheck_gpt" / "subtask3_claim_evidence_stance.jsonl"),
                   "evidence", "claim", "stance")


def healthver(root: Path) -> list[Pair]:
    path = _require(root / "healthver" / "dev.csv")
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path}:{number}"
            pairs.append(Pair(_field(row, "evidence", where), _field(row, "claim", where),
                              map_label("healthver", row.get("label", ""), where), "healthver"))
    return pairs


def wice_partial(root: Path, split: str) -> list[Pair]:
    """WiCE partially supported claims against their supporting sentences: embellishments."""
    pairs = []
    for where, row in read_jsonl(root / "wice" / f"non_supported_tokens_{split}.jsonl"):
        evidence = row.get("evidence", [])
        indices = sorted({i for group in row.get("supporting_sentences", []) for i in group if i < len(evidence)})
        if indices:
            pairs.append(Pair(_join([evidence[i] for i in indices]), _field(row, "claim", where),
                              map_label("wice", row.get("label"), where), "wice"))
    return pairs
