"""Modes: which NLI model decides, chosen by what the user is doing.

* ``fast``: the shipped MiniLM (``models/nli-minilm-l6``) with its learned verdict;
  corpora want throughput.
* ``accurate``: the strong mpnet model (``models/nli-mpnet-teacher``) alone, with what is
  stored beside it (thresholds, verdict head, word head); several times slower.
* ``cascade``: MiniLM decides, and the claims it decides close to another verdict are
  decided again by the strong model.

Each command's default mode is in :data:`nli_check.config.DEFAULT_MODES`; ``--mode``
switches it and ``--model`` / ``--accurate-model`` still name any folder.

Examples:
    >>> mode_models("cascade").accurate_model.name
    'nli-mpnet-teacher'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nli_check.config import MODES, default_nli_model_path, default_strong_model_path
from nli_check.errors import InputError


@dataclass(frozen=True)
class ModeModels:
    """The model folders a mode resolves to (a hub id stays a string)."""

    mode: str
    model: Path | str
    accurate_model: Path | str | None = None


def _shipped(path: Path, what: str) -> Path:
    if not (path / "config.json").is_file():
        hint = "; use --mode fast or --model DIR" if what == "strong" else ""
        raise InputError(f"{path}: the {what} NLI model is missing from this install "
                         f"(it lies in the repository's models/ folder){hint}")
    return path


def mode_models(mode: str, *, model: str | Path | None = None,
                accurate_model: str | Path | None = None) -> ModeModels:
    """The NLI model (and, for a cascade, the accurate model) of ``mode``.

    Args:
        mode: one of :data:`~nli_check.config.MODES`.
        model: a model folder or hub id that replaces the mode's deciding model (in a
            cascade, the fast one).
        accurate_model: a cascade's accurate model instead of the strong model; in fast
            mode it makes a cascade of the two (as ``--accurate-model`` always did).

    Returns:
        The folders, each checked to hold a model where it is a shipped one.

    Raises:
        InputError: an unknown mode, or a shipped model missing from this install.
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "accurate":
        if accurate_model is not None:
            raise InputError("--accurate-model makes a cascade: use it with --mode cascade or fast")
        return ModeModels(mode, model if model is not None else _shipped(default_strong_model_path(), "strong"))
    fast = model if model is not None else _shipped(default_nli_model_path(), "shipped")
    if mode == "cascade" and accurate_model is None:
        accurate_model = _shipped(default_strong_model_path(), "strong")
    return ModeModels(mode, fast, accurate_model)
