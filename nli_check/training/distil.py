"""Distil a large NLI cross-encoder (the mpnet teacher) into the fast default.

``nli-check distil --teacher PATH --output FOLDER`` does three things, each resumable:

1. **Pairs.** The labelled training mix (as ``nli-check train`` builds it) and, unlabelled,
   the pairs the checker itself forms: each claim of the evidence-marked sets' training
   portions against its whole document, through the checker's first stage and pairing
   (:meth:`~nli_check.pipeline.checker.Checker.candidate_pairs`), so the student learns the
   shapes it will be asked about. Written once to ``checker_pairs.jsonl`` in the work folder.
2. **Teacher targets.** The teacher's probabilities for every pair, appended block by block
   to ``teacher_targets.jsonl`` keyed by content, so an interrupted scoring run goes on where
   it stopped.
3. **Student training.** :func:`~nli_check.training.train.train` with the targets: soft
   cross-entropy against the teacher, mixed with the gold label where a pair has one
   (:class:`~nli_check.training.losses.SoftTargetLoss`), in the same resumable stages.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from nli_check.cache import content_key
from nli_check.datasets.claim_pairs import claim_documents
from nli_check.datasets.nli_pairs import Pair, read_pairs, write_pairs
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.training.train import TrainConfig, train, training_pairs

logger = logging.getLogger(__name__)

CHECKER_PAIRS_FILE = "checker_pairs.jsonl"
TARGETS_FILE = "teacher_targets.jsonl"
TARGET_BLOCK = 512  # pairs scored between two appends to the targets file


def checker_pairs(root: Path, *, checker, claims: int, seed: int,
                  progress: Callable[[int, int], None] | None = None) -> list[Pair]:
    """Unlabelled (evidence, claim) pairs in the checker's own shapes.

    Args:
        root: the labelled-data folder.
        checker: a :class:`~nli_check.pipeline.checker.Checker` (its pairing is used, not its NLI).
        claims: how many (claim, document) rows to draw, at most, over all sets.
        seed: which rows are drawn.
        progress: called with (rows done, rows) after each row.

    Returns:
        Distinct pairs, ``label`` None, ``dataset`` ``checker:<set>``.
    """
    documents = claim_documents(root)
    random.Random(seed).shuffle(documents)
    documents = documents[:claims]
    seen: set[bytes] = set()
    pairs: list[Pair] = []
    for done, document in enumerate(documents, start=1):
        for premise, hypothesis in checker.candidate_pairs(document.claim, [" ".join(document.doc)]):
            key = content_key(premise, hypothesis)
            if key not in seen:
                seen.add(key)
                pairs.append(Pair(premise, hypothesis, None, f"checker:{document.dataset}"))
        if progress is not None:
            progress(done, len(documents))
    return pairs


def _read_targets(path: Path) -> dict[str, list[float]]:
    """The targets scored so far. Only the last line may be cut short (an interrupted append);
    it is dropped and scored again. Any other unreadable line is an error."""
    if not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[str, list[float]] = {}
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
            probabilities = [float(value) for value in row["p"]]
            if len(probabilities) != 3:
                raise ValueError(f"expected 3 probabilities, received {len(probabilities)}")
            found[str(row["key"])] = probabilities
        except (ValueError, KeyError, TypeError) as error:
            if number == len(lines):
                logger.info("%s:%d: cut short by an interruption, scored again", path, number)
                break
            raise InputError(f"{path}:{number}: not a target row ({error})") from None
    return found


def teacher_targets(pairs: Sequence[Pair], *, teacher, path: Path, batch_size: int = 32,
                    progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The teacher's probabilities for every pair, (n, 3) in label order.

    Args:
        pairs: the pairs to score.
        teacher: an :class:`~nli_check.pipeline.infer.NLIModel`.
        path: the targets file; pairs already in it are not scored again (resume), new ones
            are appended a block at a time.
        batch_size: pairs per forward pass.
        progress: called with (pairs with targets, pairs) after each block.

    Returns:
        One probability row per pair, in the order of ``pairs``.
    """
    path = Path(path)
    found = _read_targets(path)
    keys = [content_key(p.premise, p.hypothesis).hex() for p in pairs]
    todo = list({key: pair for key, pair in zip(keys, pairs) if key not in found}.items())
    if found:
        logger.info("teacher targets: %d of %d pairs already scored in %s", len(keys) - len(todo), len(keys), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Rewritten whole first, so that a line cut short by an earlier interruption is gone.
    write_atomically(path, "".join(json.dumps({"key": key, "p": row}) + "\n" for key, row in found.items()))
    with path.open("a", encoding="utf-8") as handle:
        for start in range(0, len(todo), TARGET_BLOCK):
            block = todo[start:start + TARGET_BLOCK]
            rows = teacher.predict([(pair.premise, pair.hypothesis) for _, pair in block], batch_size=batch_size)
            for (key, _), row in zip(block, rows):
                found[key] = [round(float(value), 6) for value in row]
                handle.write(json.dumps({"key": key, "p": found[key]}) + "\n")
            handle.flush()
            if progress is not None:
                progress(len(keys) - len(todo) + start + len(block), len(keys))
    return np.array([found[key] for key in keys], dtype=np.float64).reshape(-1, 3)


def scale_mix(config: TrainConfig, fraction: float) -> TrainConfig:
    """``config`` with every labelled dataset's cap and the embellishment counts scaled by
    ``fraction`` (rounded, at least 1 where the cap was positive): a student that starts from
    a trained model needs less of the labelled mix it already learned.

    Examples:
        >>> scale_mix(TrainConfig(mix="teacher"), 0.5).caps["snli"]
        3000
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return replace(config, caps={name: max(1, round(cap * fraction)) if cap > 0 else 0
                                 for name, cap in config.caps.items()},
                   embellish_neutral=round(config.embellish_neutral * fraction),
                   embellish_contradiction=round(config.embellish_contradiction * fraction))


def distil(*, data_root: Path, teacher: Path, output: Path, workdir: Path, config: TrainConfig,
           checker_claims: int = 3000, max_steps: int = -1, resume: bool = False,
           stage_minutes: float | None = None, precision: str = "auto",
           progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Train a student on a teacher's probabilities (steps 1-3 of this module's docstring).

    Args:
        data_root: the labelled-data folder.
        teacher: the teacher model folder.
        output: the student model folder (written at the end of every stage).
        workdir: pairs, targets, checkpoints and stage log; keep it outside the repository.
        config: the student's hyper-parameters and labelled mix (``config.teacher`` is set here).
        checker_claims: (claim, document) rows whose checker pairs are added; 0: none.
        max_steps, resume, stage_minutes: as :func:`~nli_check.training.train.train`.
        precision: the teacher's (and the pairing model's) precision when scoring.
        progress: called with (what, done, total) while forming pairs and scoring.

    Returns:
        The training log of :func:`~nli_check.training.train.train`.
    """
    from nli_check.config import Settings, default_nli_model_path, model_settings
    from nli_check.pipeline.checker import Checker

    teacher = Path(teacher)
    if not (teacher / "config.json").is_file():
        raise InputError(f"{teacher}: not a model folder (no config.json)")
    config.teacher = str(teacher.resolve())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    labelled, _ = training_pairs(Path(data_root), config)
    # The checker pairs as the shipped one does (its similarity floor, whatever the teacher's
    # calibration stored); its NLI model is the teacher.
    floor = Settings().for_model(model_settings(default_nli_model_path())).similarity_floor
    checker = Checker(model=teacher, precision=precision,
                      settings=Settings(max_length=config.max_length, similarity_floor=floor))
    formed: list[Pair] = []
    if checker_claims:
        stored = workdir / CHECKER_PAIRS_FILE
        if stored.is_file():
            formed = read_pairs(stored)
        else:
            formed = checker_pairs(Path(data_root), checker=checker, claims=checker_claims, seed=config.seed,
                                   progress=None if progress is None else lambda d, t: progress("pairs", d, t))
            write_pairs(formed, stored)
        logger.info("checker pairs: %d from %d claims", len(formed), checker_claims)
    known = {content_key(p.premise, p.hypothesis) for p in labelled}
    pairs = labelled + [p for p in formed if content_key(p.premise, p.hypothesis) not in known]
    targets = teacher_targets(pairs, teacher=checker.nli, path=workdir / TARGETS_FILE,
                              progress=None if progress is None else lambda d, t: progress("targets", d, t))
    del checker
    return train(data_root=Path(data_root), output=output, workdir=workdir, config=config, max_steps=max_steps,
                 resume=resume, stage_minutes=stage_minutes, pairs=pairs, targets=targets)
