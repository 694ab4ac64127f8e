"""``nli-check batch``: check the run's paths, then hand it to the local or the Ray engine."""

from __future__ import annotations

import logging
from pathlib import Path

from nli_check.batch.chunks import CheckerSpec
from nli_check.batch.claims_table import write_claims_parquet
from nli_check.batch.corpus import require_pyarrow
from nli_check.batch.journal import BatchRun, BatchSummary
from nli_check.batch.local import run_local
from nli_check.config import BATCH_CHUNK_SIZE
from nli_check.errors import InputError

log = logging.getLogger(__name__)


def run_batch(input_path: Path, output: Path, *, errors: Path | None = None, resume: bool = False,
              spec: CheckerSpec | None = None, chunk_size: int = BATCH_CHUNK_SIZE, engine: str = "local",
              progress: bool = True, claims_parquet: Path | None = None, checker=None,
              ray_address: str | None = None, ray_actors: int | None = None) -> BatchSummary:
    """Score a corpus into ``output`` (JSON Lines), see the ``nli_check.batch`` docstring. ``checker``
    reuses an already loaded Checker in the local engine (its settings must match ``spec``)."""
    spec = spec or CheckerSpec()
    if engine not in ("local", "ray"):
        raise InputError(f"unknown engine {engine!r}; expected local or ray")
    if claims_parquet is not None:
        require_pyarrow()
        if not Path(claims_parquet).parent.is_dir():
            raise InputError(f"{claims_parquet}: folder {Path(claims_parquet).parent} does not exist")
    if engine == "ray":
        from nli_check.batch.ray_engine import require_ray

        require_ray()  # before anything is written: one line saying how to install it
    elif spec.device == "cuda" and checker is None:
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: torch sees no CUDA device on this machine")
    run = BatchRun.open(input_path, output, errors=errors, resume=resume, spec=spec, chunk_size=chunk_size,
                        engine=engine)
    run.write_manifest("running")
    try:
        if engine == "ray":
            from nli_check.batch.ray_engine import run_ray

            summary = run_ray(run, progress_enabled=progress, address=ray_address, actors=ray_actors)
        else:
            summary = run_local(run, progress_enabled=progress, checker=checker)
    except BaseException as error:
        # What is on disk is a prefix of the run; the manifest says it stopped, and why.
        reason = "interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}"
        run.write_manifest("stopped", stopped_by=reason.splitlines()[0][:500] if reason else "")
        raise
    if claims_parquet is not None:
        write_claims_parquet(run.output, Path(claims_parquet))
    return summary
