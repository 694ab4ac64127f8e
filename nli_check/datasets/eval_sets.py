"""Labelled examples for the eval harness: named adapters for the sets in ``shared/data``
and a loader for the generic format.

Generic format (JSON Lines, CSV or Parquet), one example per row:
``claim`` (string), ``source`` (a string, or a list of strings when the claim cites several
sources), ``label`` (``supported``, ``contradicted`` or ``unsupported``) and an optional
``id``. ``--label-map`` renames other labels, e.g. ``entailment=supported,not_entailment=unsupported``.

Every problem with a file is an :class:`~nli_check.errors.InputError` naming the file and
line and saying what was expected: an evaluation never runs on a silently shrunken set.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nli_check.datasets import nli_pairs
from nli_check.datasets.examples import EvalSet, Example
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, NLI_TO_VERDICT, SUPPORTED, UNSUPPORTED, VERDICTS, Verdict

GENERIC_SUFFIXES = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


# --- named adapters ---------------------------------------------------------------

def _from_pairs(name: str, pairs: list[nli_pairs.Pair], origin: str, labels: tuple[Verdict, ...], **kw) -> EvalSet:
    examples = [Example(f"{name}-{i}", p.hypothesis, (p.premise,), NLI_TO_VERDICT[p.label])
                for i, p in enumerate(pairs)]
    return EvalSet(name, examples, labels, origin, **kw)


THREE = VERDICTS
SUPPORTED_OR_NOT = (SUPPORTED, UNSUPPORTED)
SUPPORTED_OR_REFUTED = (SUPPORTED, CONTRADICTED)


def _wice(root: Path, file: str, name: str) -> EvalSet:
    """WiCE: a Wikipedia sentence against the whole cited page (the checker pairs it
    itself); supported vs partially/not supported."""
    examples = []
    for where, row in nli_pairs.read_jsonl(root / "wice" / file):
        evidence = _list_field(row, "evidence", where)
        label = nli_pairs.map_label("wice", row.get("label"), where)
        examples.append(Example(str(_meta_id(row) or where), nli_pairs._field(row, "claim", where),
                                ("\n".join(evidence),), NLI_TO_VERDICT[label]))
    return EvalSet(name, examples, SUPPORTED_OR_NOT, f"wice/{file}")


def _wice_tokens(root: Path) -> EvalSet:
    """WiCE partially supported claims with per-token 'not supported' flags, against the
    whole cited page."""
    examples = []
    for where, row in nli_pairs.read_jsonl(root / "wice" / "non_supported_tokens_dev.jsonl"):
        claim = nli_pairs._field(row, "claim", where)
        tokens = _list_field(row, "claim_tokens", where)
        flags = _list_field(row, "non_supported_spans", where)
        spans = nli_pairs.token_spans(claim, tokens, flags, where)
        label = NLI_TO_VERDICT[nli_pairs.map_label("wice", row.get("label"), where)]
        examples.append(Example(str(_meta_id(row) or where), claim,
                                ("\n".join(_list_field(row, "evidence", where)),), label, tuple(spans)))
    return EvalSet("wice-tokens-dev", examples, SUPPORTED_OR_NOT, "wice/non_supported_tokens_dev.jsonl", spans=True)


def _check_covid(root: Path) -> EvalSet:
    """Check-COVID: a news claim against the whole abstract of the paper it cites. A
    NOTENOUGHINFO row is the twin of a SUPPORT or REFUTE row of the same claim and abstract:
    what is not enough is the evidence set it names, so it is scored against those
    sentences only (against the whole abstract its gold label would be wrong)."""
    folder = root / "check_covid"
    abstracts = {row["cord_id"]: row["abstract"] for _, row in nli_pairs.read_jsonl(folder / "corpus.jsonl")}
    examples = []
    for where, row in nli_pairs.read_jsonl(folder / "dev.jsonl"):
        abstract = abstracts.get(row.get("cord_id"))
        if abstract is None:
            raise InputError(f"{where}: cord_id {row.get('cord_id')!r} is not in corpus.jsonl")
        label = NLI_TO_VERDICT[nli_pairs.map_label("check_covid", row.get("label"), where)]
        source = " ".join(abstract)
        if label == UNSUPPORTED:
            indices = [item.get("sent_index") for item in _list_field(row, "evidence_set", where)]
            if not indices or any(not isinstance(i, int) or not 0 <= i < len(abstract) for i in indices):
                raise InputError(f"{where}: evidence_set {indices} does not index the {len(abstract)} sentences "
                                 f"of abstract {row.get('cord_id')!r}")
            source = " ".join(abstract[i] for i in sorted(set(indices)))
        examples.append(Example(str(row.get("id", where)), nli_pairs._field(row, "claim", where), (source,), label))
    return EvalSet("check-covid-dev", examples, THREE, "check_covid/dev.jsonl + corpus.jsonl "
                   "(NOTENOUGHINFO rows against their evidence sentences)")


def _citation_integrity(root: Path) -> EvalSet:
    """Citation-Integrity: a citing sentence against the abstracts of the papers it cites.
    Any SUPPORT annotation: supported; else any REFUTE: contradicted; none: unsupported."""
    folder = root / "citation_integrity"
    abstracts = {str(row["doc_id"]): row["abstract"] for _, row in nli_pairs.read_jsonl(folder / "corpus.jsonl")}
    examples = []
    for where, row in nli_pairs.read_jsonl(folder / "claims_dev.jsonl"):
        cited = [str(d) for d in row.get("cited_doc_ids") or []] or list(row.get("evidence") or {})
        sources = tuple(" ".join(abstracts[d]) for d in cited if abstracts.get(d))
        if not sources:
            raise InputError(f"{where}: none of the cited documents {cited} is in corpus.jsonl")
        raw = {annotation["label"] for labelled in (row.get("evidence") or {}).values() for annotation in labelled}
        label = SUPPORTED if "SUPPORT" in raw else CONTRADICTED if "REFUTE" in raw else UNSUPPORTED
        examples.append(Example(str(row.get("id", where)), nli_pairs._field(row, "claim", where), sources, label))
    return EvalSet("citation-integrity-dev", examples, THREE, "citation_integrity/claims_dev.jsonl + corpus.jsonl")


def _attributionbench(root: Path) -> EvalSet:
    examples = []
    for where, row in nli_pairs.read_jsonl(root / "attributionbench" / "dev.jsonl"):
        sources = tuple(r for r in nli_pairs.attribution_references(row) if r.strip())
        if not sources:
            raise InputError(f"{where}: no reference text")
        raw = row.get("attribution_label")
        if raw not in ("attributable", "not attributable"):
            raise InputError(f"{where}: unknown attribution_label {raw!r}; expected attributable or not attributable")
        examples.append(Example(str(row.get("id", where)), nli_pairs._field(row, "claim", where), sources,
                                SUPPORTED if raw == "attributable" else UNSUPPORTED))
    return EvalSet("attributionbench-dev", examples, SUPPORTED_OR_NOT, "attributionbench/dev.jsonl")


def _xsumfaith(root: Path) -> EvalSet:
    """XSumFaith: a model summary against its BBC article. Faithful: supported; a majority
    saw an intrinsic hallucination (distorts the article): contradicted; only extrinsic
    (adds what the article does not say): unsupported. Gold spans: annotated hallucinations."""
    examples = []
    for where, row in nli_pairs.read_jsonl(root / "xsumfaith" / "xsumfaith_dev.jsonl"):
        summary = re.sub(r"\\'", "'", nli_pairs._field(row, "summary", where))
        label = (CONTRADICTED if row.get("majority_intrinsic") else
                 UNSUPPORTED if row.get("majority_extrinsic") else SUPPORTED)
        spans = []
        for annotated in row.get("hallucinated_spans") or []:
            needle = re.sub(r"\\'", "'", str(annotated.get("span", ""))).strip()
            start = summary.find(needle) if needle else -1
            if start != -1:
                spans.append((start, start + len(needle)))
        examples.append(Example(f"{row.get('bbcid')}-{row.get('system')}", summary,
                                (nli_pairs._field(row, "document", where),), label, tuple(sorted(set(spans)))))
    return EvalSet("xsumfaith-dev", examples, THREE, "xsumfaith/xsumfaith_dev.jsonl", spans=True)


def _summedits(root: Path, domain: str) -> EvalSet:
    path = nli_pairs._require(root / "summedits" / f"summedits_{domain}.json")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    examples = []
    for index, row in enumerate(rows):
        where = f"{path} item {index}"
        if row.get("label") not in (0, 1):
            raise InputError(f"{where}: label {row.get('label')!r}; expected 0 or 1")
        examples.append(Example(str(row.get("id", index)), nli_pairs._field(row, "summary", where),
                                (nli_pairs._field(row, "doc", where),),
                                SUPPORTED if row["label"] == 1 else UNSUPPORTED))
    # The files mix SummEdits' "evaluation" and "test" rows: evaluation only, never fitting.
    return EvalSet(f"summedits-{domain}", examples, SUPPORTED_OR_NOT, f"summedits/summedits_{domain}.json",
                   split="test")


def _taxinli_heldout(root: Path) -> EvalSet:
    from nli_check.datasets.dev_sets import dev_sets

    return _from_pairs("taxinli-heldout", dev_sets(root)["taxinli-heldout"], "mnli_taxinli/taxinli10k.tsv "
                       "(the quarter held out of training)", THREE)


def _slot_swaps(root: Path) -> EvalSet:
    # Imported here: building the set is a second's work that only this set needs.
    from nli_check.datasets import slot_swaps

    return slot_swaps.load({name: NAMED[name](root) for name in slot_swaps.SETS})


# The seed documents of a checkout (seeds/README.md): each line of an article is a claim
# against source.txt. The acceptance example, never fitted on, so a "test" split.
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
# seeds/README.md: contradicted.txt's lines 1 and 2 contradict source.txt, line 3 is supported.
CONTRADICTED_SEED_LABELS = (CONTRADICTED, CONTRADICTED, SUPPORTED)


def _seeds(part: str) -> EvalSet:
    """``article``: article.txt's lines with the verdicts of expected.jsonl;
    ``contradicted``: contradicted.txt's lines."""
    folder = SEEDS
    if not (folder / "source.txt").is_file():
        raise InputError(f"{folder}: no seed documents here; seeds-{part} is read from a checkout of nli-check")
    source = (folder / "source.txt").read_text(encoding="utf-8")
    if part == "article":
        lines = (folder / "article.txt").read_text(encoding="utf-8").splitlines()
        labels = []
        for where, row in nli_pairs.read_jsonl(folder / "expected.jsonl"):
            if row.get("label") not in VERDICTS:
                raise InputError(f"{where}: label {row.get('label')!r}; expected one of {', '.join(VERDICTS)}")
            labels.append(Verdict(row["label"]))
        origin = "seeds/article.txt + expected.jsonl"
    else:
        lines = (folder / "contradicted.txt").read_text(encoding="utf-8").splitlines()
        labels = list(CONTRADICTED_SEED_LABELS)
        origin = "seeds/contradicted.txt"
    lines = [line for line in lines if line.strip()]
    if len(lines) != len(labels):
        raise InputError(f"{origin}: {len(lines)} lines but {len(labels)} expected verdicts")
    examples = [Example(f"seeds-{part}-{number}", line, (source,), label)
                for number, (line, label) in enumerate(zip(lines, labels), start=1)]
    return EvalSet(f"seeds-{part}", examples, THREE, origin, split="test")


SUMMEDITS_DOMAINS = ("ectsum", "podcast", "qmsumm", "sales_call", "sales_email", "samsum", "scitldr")

# name -> loader(root). Sets the shipped model saw in training say so (seen_in_training).
NAMED: dict[str, Callable[[Path], EvalSet]] = {
    "wice-dev": lambda root: _wice(root, "claim_dev.jsonl", "wice-dev"),
    "wice-oracle-dev": lambda root: _wice(root, "oracle_chunks_claim_dev.jsonl", "wice-oracle-dev"),
    "wice-tokens-dev": _wice_tokens,
    "check-covid-dev": _check_covid,
    "citation-integrity-dev": _citation_integrity,
    "attributionbench-dev": _attributionbench,
    "healthver-dev": lambda root: _from_pairs("healthver-dev", nli_pairs.healthver(root), "healthver/dev.csv", THREE),
    "xsumfaith-dev": _xsumfaith,
    **{f"summedits-{d}": (lambda root, d=d: _summedits(root, d)) for d in SUMMEDITS_DOMAINS},
    "snli-test": lambda root: _from_pairs("snli-test", nli_pairs.snli(root, "test"), "snli/test.jsonl", THREE,
                                          split="test"),
    "snli-dev": lambda root: _from_pairs("snli-dev", nli_pairs.snli(root, "dev"), "snli/dev.jsonl", THREE),
    "taxinli-heldout": _taxinli_heldout,
    "slot-swaps-dev": _slot_swaps,
    "seeds-article": lambda root: _seeds("article"),
    "seeds-contradicted": lambda root: _seeds("contradicted"),
    "anli-r1-dev": lambda root: _from_pairs("anli-r1-dev", nli_pairs.anli(root, "R1"), "anli/R1/dev.jsonl", THREE,
                                            seen_in_training=True),
    "anli-r2-dev": lambda root: _from_pairs("anli-r2-dev", nli_pairs.anli(root, "R2"), "anli/R2/dev.jsonl", THREE,
                                            seen_in_training=True),
    "anli-r3-dev": lambda root: _from_pairs("anli-r3-dev", nli_pairs.anli(root, "R3"), "anli/R3/dev.jsonl", THREE),
    "cad-snli-dev": lambda root: _from_pairs("cad-snli-dev", nli_pairs.cad_snli(root, "dev"),
                                             "cad_snli/all_combined/dev.tsv", THREE),
    "cad-snli-test": lambda root: _from_pairs("cad-snli-test", nli_pairs.cad_snli(root, "test"),
                                              "cad_snli/all_combined/test.tsv", THREE, split="test"),
    "conjnli-dev": lambda root: _from_pairs("conjnli-dev", nli_pairs.conjnli(root, "dev"), "conjnli/conj_dev.tsv",
                                            THREE),
    "sick-test": lambda root: _from_pairs("sick-test", nli_pairs.sick(root, "test"), "sick/SICK.txt (TEST)", THREE,
                                          split="test"),
    "sick-trial": lambda root: _from_pairs("sick-trial", nli_pairs.sick(root, "trial"), "sick/SICK.txt (TRIAL)", THREE),
    "glue-rte-dev": lambda root: _from_pairs("glue-rte-dev", nli_pairs.glue_rte(root, "dev"), "glue_rte/dev.tsv",
                                             SUPPORTED_OR_NOT),
    "scifact-dev": lambda root: _from_pairs("scifact-dev", nli_pairs.scifact(root, "dev"), "scifact/dev.tsv",
                                            SUPPORTED_OR_NOT),
    "covidfact-dev": lambda root: _from_pairs("covidfact-dev", nli_pairs.covidfact(root, "dev"),
                                              "covidfact/RTE-covidfact/dev.tsv", SUPPORTED_OR_REFUTED),
    "fever-dev": lambda root: _from_pairs("fever-dev", nli_pairs.fever(root), "fever_rte/rte_fever_dev.jsonl",
                                          SUPPORTED_OR_REFUTED, seen_in_training=True),
    "climate-fever": lambda root: _from_pairs("climate-fever", nli_pairs.climate_fever(root),
                                              "climate_fever/climate-fever.jsonl", THREE, seen_in_training=True),
    "factcheck-gpt": lambda root: _from_pairs("factcheck-gpt", nli_pairs.factcheck_gpt(root),
                                              "factcheck_gpt/subtask3_claim_evidence_stance.jsonl", THREE,
                                              seen_in_training=True),
}


def load(spec: str, *, data_root: Path, label_map: dict[str, str] | None = None, limit: int | None = None) -> EvalSet:
    """A named dataset (see :data:`NAMED`) or a file in the generic format."""
    if spec in NAMED:
        evalset = NAMED[spec](data_root)
    elif Path(spec).suffix.lower() in GENERIC_SUFFIXES or Path(spec).exists():
        evalset = load_generic(Path(spec), label_map=label_map)
    else:
        raise InputError(f"{spec}: neither a named dataset nor a file; named datasets: {', '.join(NAMED)}; "
                         f"files: {', '.join(GENERIC_SUFFIXES)}")
    if limit is not None and limit < len(evalset.examples):
        evalset.notes.append(f"first {limit} of {len(evalset.examples)} examples")
        evalset.examples = evalset.examples[:limit]
    if not evalset.examples:
        raise InputError(f"{evalset.origin}: no examples")
    return evalset


def parse_label_map(text: str | None) -> dict[str, str]:
    """``"entailment=supported,not_entailment=unsupported"`` -> dict, targets checked."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        raw, sep, target = part.partition("=")
        if not sep or not raw.strip() or target.strip() not in VERDICTS:
            raise InputError(f"--label-map: {part.strip()!r} is not RAW=LABEL with LABEL one of {', '.join(VERDICTS)}")
        mapping[raw.strip()] = Verdict(target.strip())
    return mapping


def load_generic(path: Path, *, label_map: dict[str, str] | None = None) -> EvalSet:
    """Read a generic-format file with Hugging Face ``datasets`` and check every row."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    kind = GENERIC_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: unknown file type; expected one of {', '.join(GENERIC_SUFFIXES)}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file; expected {_FORM}")
    rows = _read_rows(path, kind)
    if not rows:
        raise InputError(f"{path}: no rows; expected {_FORM}")
    mapping = {str(label): label for label in VERDICTS} | (label_map or {})
    examples, seen_ids = [], set()
    for index, row in enumerate(rows):
        where = f"{path}:{row.pop('__line__', None) or _line_of(kind, index)}"
        missing = [key for key in ("claim", "source", "label") if key not in row]
        if missing:
            raise InputError(f"{where}: missing column(s) {', '.join(missing)}; expected {_FORM}")
        claim = row["claim"]
        if not isinstance(claim, str) or not claim.strip():
            raise InputError(f"{where}: 'claim' must be a non-empty string, got {claim!r:.60}")
        sources = _sources(row["source"], where)
        raw = str(row["label"]).strip() if row["label"] is not None else ""
        if raw not in mapping:
            raise InputError(f"{where}: unknown label {raw!r}; expected one of {', '.join(sorted(mapping))} "
                             "(use --label-map RAW=LABEL for other names)")
        example_id = str(row["id"]) if row.get("id") not in (None, "") else str(index)
        if example_id in seen_ids:
            raise InputError(f"{where}: duplicate id {example_id!r}")
        seen_ids.add(example_id)
        examples.append(Example(example_id, claim, sources, mapping[raw]))
    present = tuple(label for label in VERDICTS if any(e.label == label for e in examples))
    labels = THREE if len(present) == 3 else (SUPPORTED, UNSUPPORTED) if SUPPORTED in present else present
    return EvalSet(path.stem, examples, labels, str(path), split="test" if "test" in path.stem.lower() else "dev")


_FORM = ("rows with 'claim' (string), 'source' (string or list of strings), 'label' "
         f"({', '.join(VERDICTS[:-1])} or {VERDICTS[-1]}) and optional 'id'")


def _read_rows(path: Path, kind: str) -> list[dict]:
    if kind == "json":
        # Parsed line by line so an error can name its line (datasets' reader cannot), and so
        # that 'source' may be a string on one line and a list on the next.
        return _json_lines(path)
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    try:
        loaded = datasets.load_dataset(kind, data_files=str(path), split="train", keep_in_memory=True)
    except Exception as error:  # datasets wraps parser errors in several types
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot read as {kind}: {message}") from None
    return list(loaded)


def _json_lines(path: Path) -> list[dict]:
    rows = []
    try:
        for where, row in nli_pairs.read_jsonl(path):
            row["__line__"] = where.rsplit(":", 1)[1]
            rows.append(row)
    except InputError as error:
        raise InputError(f"{error}; expected JSON Lines, one object per line: {_FORM}") from None
    return rows


def _line_of(kind: str, index: int) -> str:
    # CSV has a header line; Parquet has rows, not lines.
    return f"{index + 2}" if kind == "csv" else f"row {index}"


def _sources(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:  # a CSV cell holding a JSON list of sources
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: 'source' must be a non-empty string or a list of non-empty strings")
    return tuple(value)


def _list_field(row: dict, key: str, where: str) -> list:
    value = row.get(key)
    if isinstance(value, str):  # some WiCE fields are stored as the text of a Python list
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise InputError(f"{where}: field {key!r} is not a list") from None
    if not isinstance(value, list):
        raise InputError(f"{where}: field {key!r} is not a list")
    return value


def _meta_id(row: dict) -> str | None:
    meta = row.get("meta")
    if isinstance(meta, str):
        try:
            meta = ast.literal_eval(meta)
        except (ValueError, SyntaxError):
            return None
    return meta.get("id") if isinstance(meta, dict) else None
