"""A model folder as an :class:`Encoder`: token ids in, the model's first output out
(an NLI model's logits, an embedding model's token vectors), on PyTorch or OpenVINO.

PyTorch runs anywhere (GPUs included) in float32 or bfloat16. OpenVINO runs on the CPU
from IR exported once (:mod:`.export`): float32, bfloat16 where the CPU computes it
natively, and int8 (statically quantized, calibrated on training pairs), the one precision
that makes a CPU without bfloat16 units much faster. ``auto`` picks OpenVINO on a CPU
where it is installed, PyTorch on a GPU.
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from nli_check.errors import InputError
from nli_check.runtime.folders import local_folder, torch_module

BACKENDS = ("auto", "torch", "openvino")


class Encoder(Protocol):
    """One forward pass. ``features`` maps input names (``input_ids``, ``attention_mask``,
    ``token_type_ids``) to int64 arrays of shape (batch, tokens); returns float32."""

    backend: str
    precision: str
    input_names: tuple[str, ...]

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray: ...


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def _on_gpu(device: str | None) -> bool:
    if device is not None:
        return not str(device).startswith("cpu")
    import torch

    return torch.cuda.is_available()


def resolve_backend(backend: str, *, device: str | None, precision: str) -> str:
    """``torch`` or ``openvino``: what ``backend`` means here. ``auto`` is OpenVINO on a
    CPU where it is installed (as fast in float32, faster in bfloat16, and the only int8
    kept), else PyTorch. Unknown values and impossible combinations are refused."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = "openvino" if not _on_gpu(device) and openvino_available() else "torch"
    if backend == "openvino":
        if _on_gpu(device) and device is not None:
            raise InputError(f"the openvino backend runs on the CPU, not on device {device!r}")
        if not openvino_available():
            raise InputError("the openvino backend needs the package openvino (pip install openvino)")
    if backend == "torch" and precision == "int8":
        raise InputError("int8 runs on the openvino backend (--backend openvino or auto)")
    return backend


def resolve_runtime(backend: str, precision: str, *, device: str | None, int8_holds: bool = False) -> tuple[str, str]:
    """(backend, precision) resolved for one model. ``auto`` precision is bfloat16 where
    the hardware computes it natively; else int8 where ``int8_holds`` (the model's verdicts
    were measured to hold in int8, :func:`nli_check.config.int8_holds`) and the backend is
    OpenVINO; else float32."""
    from nli_check.precision import resolve_precision

    resolved = resolve_precision(precision, device)
    chosen = resolve_backend(backend, device=device, precision=resolved)
    if precision == "auto" and resolved == "float32" and int8_holds and chosen == "openvino":
        resolved = "int8"
    return chosen, resolved


class TorchEncoder:
    """A PyTorch model as an :class:`Encoder` (any device; float32 or bfloat16)."""

    backend = "torch"

    def __init__(self, folder: Path, *, task: str, precision: str, device: str | None = None) -> None:
        import torch

        self.module = torch_module(folder, task=task, precision=precision, device=device)
        if device is None and torch.cuda.is_available():
            self.module = self.module.to("cuda")
        self.device = next(self.module.parameters()).device
        self.precision = precision
        names = inspect.signature(self.module.forward).parameters
        self.input_names = tuple(name for name in ("input_ids", "attention_mask", "token_type_ids") if name in names)

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            inputs = {name: torch.from_numpy(features[name]).to(self.device)
                      for name in self.input_names if name in features}
            return self.module(**inputs)[0].float().cpu().numpy()


class OpenVINOEncoder:
    """OpenVINO IR (:func:`~nli_check.runtime.export.exported_model`) as an :class:`Encoder`
    on the CPU. ``precision`` is the IR's (int8 IR runs its other operations in float32)."""

    backend = "openvino"

    def __init__(self, path: Path, *, precision: str, threads: int | None = None) -> None:
        import openvino as ov
        import torch

        core = ov.Core()
        model = core.read_model(str(path))
        # Threads as torch has them, so a batch worker's thread limit holds for both runtimes.
        config = {"INFERENCE_PRECISION_HINT": "bf16" if precision == "bfloat16" else "f32",
                  "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads or torch.get_num_threads()}
        self.compiled = core.compile_model(model, "CPU", config)
        self.precision = precision
        self.input_names = tuple(port.get_any_name() for port in model.inputs)
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request, used by one thread at a time

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        inputs = {name: np.ascontiguousarray(features[name], dtype=np.int64) for name in self.input_names}
        with self._lock:
            output = self._request.infer(inputs)[0]
            return np.array(output, dtype=np.float32)  # a copy: the request reuses its buffers


def load_encoder(model: str | Path, *, task: str, backend: str, precision: str,
                 device: str | None = None) -> Encoder:
    """The model folder ``model`` as an :class:`Encoder` for ``task`` ("nli" or
    "embedding") on a resolved ``backend`` ("torch" or "openvino") and ``precision``
    ("float32", "bfloat16", "int8"); OpenVINO IR is exported on first use and cached."""
    folder = local_folder(model)
    if backend == "openvino":
        from nli_check.runtime.export import exported_model

        return OpenVINOEncoder(exported_model(folder, task=task, int8=precision == "int8"), precision=precision)
    return TorchEncoder(folder, task=task, precision=precision, device=device)
