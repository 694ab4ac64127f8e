"""Model folders: what a folder holds, and its PyTorch model.

A model is a local folder (or a hub id, downloaded where a hub is reachable): an NLI
cross-encoder (``config.json`` with three labels) or a sentence-transformers folder
(``modules.json``: a transformer, then pooling). Both backends read them through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nli_check.errors import InputError

TASKS = ("nli", "embedding")


@dataclass(frozen=True)
class EmbeddingLayout:
    """What a sentence-transformers folder says beyond its transformer: where the
    transformer is, how long an input may be, how token vectors become a sentence vector."""

    transformer: Path
    max_seq_length: int
    pooling: str  # "mean" or "cls"


def local_folder(model: str | Path) -> Path:
    """A model folder on disk: ``model`` itself, or a hub id downloaded by huggingface_hub
    (which needs a hub; this project's models are local folders)."""
    path = Path(model)
    if path.exists():
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise InputError(f"{path}: not a model folder (no config.json)")
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(model)))
    except Exception as error:  # no hub, unknown id: one readable line
        raise InputError(f"{model}: no such model folder, and the hub gave none ({type(error).__name__})") from None


def embedding_layout(folder: Path) -> EmbeddingLayout:
    """Read a sentence-transformers folder: transformer (module 0), pooling (mean or CLS);
    a plain transformer folder is taken as mean pooling over at most 256 tokens."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return EmbeddingLayout(folder, 256, "mean")
    modules = json.loads(modules_file.read_text())
    transformer = folder / modules[0].get("path", "")
    names = ("sentence_bert_config.json", "sentence_transformers_config.json")
    config_file = next((place / name for place in (transformer, folder) for name in names
                        if (place / name).is_file()), None)
    config = json.loads(config_file.read_text()) if config_file is not None else {}
    max_seq_length = int(config.get("max_seq_length") or 256)
    pooling = "mean"
    for module in modules[1:]:
        if module["type"].endswith("Pooling"):
            config = json.loads((folder / module["path"] / "config.json").read_text())
            modes = [key for key, on in config.items() if key.startswith("pooling_mode") and on]
            mode = config.get("pooling_mode") or (modes[0] if len(modes) == 1 else None)
            if mode in ("pooling_mode_mean_tokens", "mean"):
                pooling = "mean"
            elif mode in ("pooling_mode_cls_token", "cls"):
                pooling = "cls"
            else:
                raise InputError(f"{folder}: pooling {modes or mode} is not supported (mean or CLS)")
    return EmbeddingLayout(transformer, max_seq_length, pooling)


def torch_module(folder: Path, *, task: str, precision: str = "float32", device: str | None = None):
    """The PyTorch model of ``task`` in ``folder`` (an NLI classifier, or the embedding
    model's transformer), in eval mode, weights read straight into ``precision``."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    from nli_check.precision import torch_dtype

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    loader = AutoModelForSequenceClassification if task == "nli" else AutoModel
    path = folder if task == "nli" else embedding_layout(folder).transformer
    # An explicit dtype: fp16 weights on disk are read as float32 or bfloat16, never run in
    # float16 (slow on CPUs).
    module = loader.from_pretrained(str(path), dtype=torch_dtype(precision)).eval()
    return module.to(device) if device is not None else module


