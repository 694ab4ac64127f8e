"""Reading article and source files: every way a file can be unusable becomes one
:class:`InputError` line that names the file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from nli_check.errors import InputError

STDIN = "-"


def decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError(f"{name}: binary file (contains NUL bytes), expected UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not UTF-8 text (invalid byte 0x{raw[error.start]:02x} at offset {error.start})") \
            from None
    if not text.strip():
        raise InputError(f"{name}: empty file")
    return text


def read_bytes(path: str, *, max_bytes: int, limit_option: str = "--max-input-mb") -> bytes:
    """The bytes of a file (or standard input for ``-``), refusing a missing file, a
    directory, or one over ``max_bytes`` (``limit_option`` is the flag that raises it)."""
    if path == STDIN:
        raw = sys.stdin.buffer.read(max_bytes + 1)
        name = "<stdin>"
    else:
        file = Path(path)
        if not file.exists():
            raise InputError(f"{path}: no such file")
        if file.is_dir():
            raise InputError(f"{path}: is a directory, expected a file")
        try:
            size = file.stat().st_size
            if size > max_bytes:
                raise InputError(f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit "
                                 f"(raise it with {limit_option})")
            raw = file.read_bytes()
        except PermissionError:
            raise InputError(f"{path}: permission denied") from None
        name = path
    if len(raw) > max_bytes:
        raise InputError(f"{name}: over the {max_bytes / 1e6:g} MB limit (raise it with {limit_option})")
    return raw


def read_text(path: str, *, max_bytes: int) -> str:
    """Read a UTF-8 text file (or standard input for ``-``), refusing what cannot be a
    document: missing, a directory, binary, not UTF-8, empty, or over ``max_bytes``."""
    return decode(read_bytes(path, max_bytes=max_bytes), "<stdin>" if path == STDIN else path)


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write all of ``text`` (or bytes) or nothing: a temporary file in the same folder, renamed."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
