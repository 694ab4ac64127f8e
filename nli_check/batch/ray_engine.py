"""The Ray Data engine of ``nli-check batch`` (``--engine ray``; ``pip install nli-check[ray]``).

The same pipeline as the local engine, scaled out: the driver plans the corpus into
chunks (position ranges plus, for JSON Lines, the byte offset where each starts: one
streaming pass, a few numbers per chunk), Ray Data maps those chunk descriptions over a
fixed pool of actors, each of which loads the models once, reads its chunk straight
from the input file and checks it with ``BatchChecker.check_chunk`` (the local engine's
code). The driver takes the results back in input order and writes them with the same
durable journal, so the output, the errors file, resume and the manifest are exactly
those of ``--engine local``.

On a cluster the input file must be readable at the same path on every node (a shared
file system), and nli-check (with its models) installed on every node.
"""

from __future__ import annotations

import json
import logging
import os
import time

from nli_check.batch.chunks import BatchChecker, CheckerSpec
from nli_check.batch.corpus import chunk_plan, count_positions, iter_rows
from nli_check.batch.journal import BatchRun, BatchSummary, Journal, Progress, write_chunk
from nli_check.errors import InputError
from nli_check.offline import prepare_model_libraries

INSTALL_HINT = "the ray engine needs Ray: pip install nli-check[ray]"


def require_ray() -> None:
    """Fail with one line, before anything is written, when Ray Data is not installed."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise InputError(INSTALL_HINT) from None


class ChunkWorker:
    """One actor of the pool: models loaded once in ``__init__``, then one chunk a call."""

    def __init__(self, spec: CheckerSpec, path: str) -> None:
        # Actors do not run the CLI's start-up.
        prepare_model_libraries()
        self.path = path
        self.batch = BatchChecker(spec.build())

    def __call__(self, descriptions: dict) -> dict:
        import numpy as np

        results = []
        for index, start, stop, offset in zip(descriptions["index"], descriptions["start"], descriptions["stop"],
                                              descriptions["offset"]):
            rows = list(iter_rows(self.path, start=int(start), stop=int(stop), offset=int(offset)))
            results.append(json.dumps(self.batch.check_chunk(rows, chunk=int(index)), ensure_ascii=False))
        return {"index": np.asarray(descriptions["index"]), "stop": np.asarray(descriptions["stop"]),
                "results": np.asarray(results, dtype=object)}


def run_ray(run: BatchRun, *, progress_enabled: bool, address: str | None = None,
            actors: int | None = None) -> BatchSummary:
    """Check ``run``'s corpus on Ray: an existing cluster (``address``, or the
    ``RAY_ADDRESS`` variable), a Ray already initialised in this process, or else a
    local Ray started here and shut down at the end."""
    import ray

    started = time.perf_counter()
    own = not ray.is_initialized()
    if own:
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 ignore_reinit_error=True, logging_level=logging.WARNING, log_to_driver=False)
    try:
        return _run(run, progress_enabled=progress_enabled, actors=actors, started=started)
    finally:
        if own:
            ray.shutdown()


def _run(run: BatchRun, *, progress_enabled: bool, actors: int | None, started: float) -> BatchSummary:
    import ray
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # results come back in input order
    context.enable_progress_bars = False  # ours counts articles and claims
    gpu = bool(run.spec.device and run.spec.device.startswith("cuda"))
    cpus = 0 if gpu else (run.spec.threads or 1)  # an actor's torch threads, as Ray counts them
    if actors is None:
        offered = ray.cluster_resources().get("GPU", 1) if gpu else ray.cluster_resources().get("CPU", 1) / cpus
        actors = max(1, int(offered))
    plan = list(chunk_plan(run.input, chunk_size=run.chunk_size, first_chunk=run.first_chunk()))
    total = count_positions(run.input)
    journal = Journal(run.output, run.errors)
    progress = Progress(total=total, done=run.done, enabled=progress_enabled)
    try:
        if plan:
            # One block per chunk, one chunk per call: a chunk is checked whole, as locally.
            dataset = ray.data.from_items(plan, override_num_blocks=len(plan)).map_batches(
                ChunkWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors),
                fn_constructor_kwargs={"spec": run.spec, "path": str(run.input.resolve())},
                num_cpus=cpus, num_gpus=1 if gpu else 0)
            for item in dataset.iter_rows():
                write_chunk(run, journal, json.loads(item["results"]), progress, stop=int(item["stop"]))
        progress.advance(to=total, articles=0, claims=0)
    finally:
        progress.close()
        journal.close()
    return run.finish(elapsed_s=time.perf_counter() - started)
