"""Numeric precision of the models at inference: ``auto``, ``float32``, ``bfloat16`` or ``int8``.

bfloat16 keeps float32's range with fewer mantissa bits. On CPUs with native bfloat16
units (Intel AMX or AVX512-BF16) and on recent GPUs it runs the transformer much faster
than float32 and moves the probabilities only slightly (docs/benchmarks.md has the
measurements). Elsewhere bfloat16 is emulated and slower than float32, so ``auto`` picks
bfloat16 only where the hardware has it.

int8 is static quantization on the OpenVINO backend (:mod:`nli_check.runtime.export`):
scales fixed once from calibration pairs, so a claim's verdict never depends on the other
claims in its batch. torch's dynamic int8 was left out: slower than bfloat16, less
accurate on the dev sets, and its activation scales are computed per batch.

Both models also pad their inputs to a multiple of ``config.PAD_TO_MULTIPLE_OF`` tokens:
CPU kernels are built per input shape, so fewer shapes is faster.
"""

from __future__ import annotations

PRECISIONS = ("auto", "float32", "bfloat16", "int8")
TRAIN_PRECISIONS = ("auto", "float32", "bfloat16")  # training never runs in int8


def resolve_precision(precision: str, device: str | None) -> str:
    """``float32``, ``bfloat16`` or ``int8``: what ``precision`` means on ``device`` (None: torch's
    choice, CUDA when available). Unknown values are refused, naming the accepted ones."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    import torch

    on_cuda = str(device).startswith("cuda") if device is not None else torch.cuda.is_available()
    if on_cuda:
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if native_cpu_bfloat16() else "float32"


def native_cpu_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AMX tiles or AVX512-BF16)."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(check() for check in checks if check is not None)


def torch_dtype(precision: str):
    """The torch dtype of a resolved precision (``float32`` or ``bfloat16``), passed to the
    loaders so that weights are read straight into it."""
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[precision]
