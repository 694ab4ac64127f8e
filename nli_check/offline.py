"""Setting up the model libraries once per process: models load from local folders only,
and their logging and progress bars stay out of the output that nli-check writes."""

from __future__ import annotations

import logging
import os


def prepare_model_libraries() -> None:
    """Never wait on a model hub (this machine may not reach one; every model nli-check
    ships is a local folder), keep tokenizers single-threaded inside torch's threads, and
    quiet transformers and sentence-transformers. Call before loading a model; an
    environment variable the user has set is kept."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
