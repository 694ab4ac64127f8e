"""Model folders exported to OpenVINO IR once, into a cache folder, int8 on request.

The IR is a build product: made on first use (or by ``nli-check export``) from the folder's
PyTorch weights with ``openvino.convert_model`` (no ONNX file in between), kept under
``$NLI_CHECK_MODEL_CACHE`` (default ``~/.cache/nli-check/openvino``) in a folder named by
a key of the source files, the task, the quantization, and the versions that shape the
result, so a changed model or library exports again. int8 is NNCF's static post-training
quantization (the transformer preset, which keeps the sensitive operations in float32),
its activation ranges calibrated on :mod:`.calibration`'s training pairs; the second
linear layer of each feed-forward block stays float32 (its input, after GELU, has the
outliers that int8 rounds worst: quantizing it changed the most verdicts).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path

from nli_check.config import MODEL_CACHE_ENV
from nli_check.errors import InputError
from nli_check.runtime.folders import embedding_layout, torch_module

logger = logging.getLogger(__name__)

# Bump when the export below changes what it writes.
EXPORT_VERSION = 1
# The files of a model folder that shape its IR (the key of an export).
EXPORT_READS = frozenset({"config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json"})
WEIGHTS = frozenset({".safetensors", ".bin"})
# Calibration inputs per int8 export (NNCF's subset_size); batches of this many inputs.
CALIBRATION_BATCH = 8
# The feed-forward output layers of BERT- and MPNet-style encoders, kept float32 in int8 IR
# (not "attention.output.dense": that one quantizes well).
FEED_FORWARD_OUTPUT = r".*layer\.\d+\.output\.dense/.*"


def cache_root() -> Path:
    return Path(os.environ.get(MODEL_CACHE_ENV) or Path.home() / ".cache" / "nli-check" / "openvino")


def _versions(int8: bool) -> str:
    # Read from the installed metadata: importing NNCF would start its usage statistics.
    parts = [f"openvino={version('openvino')}", f"export={EXPORT_VERSION}"]
    if int8:
        from nli_check.runtime.calibration import calibration_digest

        parts += [f"nncf={version('nncf')}", f"calibration={calibration_digest()}"]
    return ";".join(parts)


def export_key(folder: Path, *, task: str, int8: bool) -> str:
    """A key of what the export reads: the model folder's configuration, tokenizer and
    weights (name, size, modification time; thresholds or a verdict head fitted beside
    them do not call for a new export), the task, int8 or not, and the versions that shape
    the IR."""
    root = Path(folder).resolve()
    digest = hashlib.sha256(f"{task};int8={int8};{_versions(int8)}".encode())
    read = sorted(p for p in root.rglob("*") if p.is_file() and (p.name in EXPORT_READS or p.suffix in WEIGHTS))
    for path in read:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)};{stat.st_size};{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def exported_model(folder: str | Path, *, task: str, int8: bool = False, cache: Path | None = None) -> Path:
    """The IR (``model.xml``) of the model in ``folder`` for ``task``, exported now unless
    the cache has it. Written to a temporary folder and renamed into place, so an
    interrupted export leaves nothing that looks finished.

    Args:
        folder: an NLI cross-encoder folder (task "nli") or a sentence-transformers folder
            (task "embedding").
        task: "nli" (the output is logits) or "embedding" (token vectors).
        int8: quantize to int8, calibrated on the training pairs of :mod:`.calibration`.
        cache: where exports live (default :func:`cache_root`).

    Returns:
        The path of ``model.xml``.
    """
    folder = Path(folder)
    root = cache or cache_root()
    kind = "int8" if int8 else "float"
    target = root / f"{folder.resolve().name}-{task}-{kind}-{export_key(folder, task=task, int8=int8)}"
    if (target / "model.xml").is_file():
        return target / "model.xml"
    root.mkdir(parents=True, exist_ok=True)
    logger.info("exporting %s (%s%s) to OpenVINO IR in %s", folder, task, ", int8" if int8 else "", target)
    with telemetry_declined():
        model = convert(folder, task=task)
        if int8:
            model = quantize_int8(model, folder, task=task)
    import openvino as ov

    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    try:
        # Weights stay float32 on disk (compress_to_fp16 would round them once more).
        ov.save_model(model, str(staging / "model.xml"), compress_to_fp16=False)
        try:
            staging.rename(target)
        except OSError:  # another process finished the same export first
            if not (target / "model.xml").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "model.xml"


@contextlib.contextmanager
def telemetry_declined():
    """While it lasts, OpenVINO's converter and NNCF find the usage-statistics consent
    declined. Both send events to Google Analytics through openvino_telemetry unless a
    consent file in the home folder says no; a checker of unpublished articles sends nothing."""
    try:
        from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker
    except ImportError:  # no telemetry package: nothing to decline
        yield
        return
    check = OptInChecker.check
    OptInChecker.check = lambda self, *args, **kwargs: ConsentCheckResult.DECLINED
    try:
        yield
    finally:
        OptInChecker.check = check


def _tokenizer(folder: Path, task: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder if task == "nli" else embedding_layout(folder).transformer))


def convert(folder: Path, *, task: str):
    """The float32 PyTorch model as an OpenVINO model, batch and length left dynamic."""
    import openvino as ov
    import torch

    module = torch_module(folder, task=task, precision="float32")
    tokenizer = _tokenizer(folder, task)
    example = tokenizer(["A short premise for the trace.", "Another one, a little longer than the first."],
                        ["A hypothesis.", "And another."] if task == "nli" else None,
                        padding=True, return_tensors="pt")
    names = [name for name in tokenizer.model_input_names if name in example]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The trace fixes Python-level branches (causal or not, padding needed or not) as
            # this example took them; every call passes an attention mask, as the example did.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            return ov.convert_model(module, example_input={name: example[name] for name in names})
    except Exception as error:  # a model OpenVINO cannot trace: say which, plainly
        raise InputError(f"{folder}: OpenVINO could not convert this model ({type(error).__name__}: {error})") from None


def quantize_int8(model, folder: Path, *, task: str):
    """Static int8: NNCF's transformer preset (matrix multiplications and their inputs in
    int8, normalisations and softmax in float32) but for each feed-forward block's output
    layer, ranges from the calibration pairs."""
    try:
        import nncf
    except ImportError:
        raise InputError("int8 needs the package nncf (pip install nncf)") from None
    from nli_check.runtime.calibration import calibration_batches

    tokenizer = _tokenizer(folder, task)
    batches = calibration_batches(tokenizer, task=task, batch_size=CALIBRATION_BATCH,
                                  names=[port.get_any_name() for port in model.inputs])
    nncf.set_log_level(logging.ERROR)
    # NNCF draws progress bars on stdout, where a report may be going: keep them out of it.
    with contextlib.redirect_stdout(io.StringIO()):
        return nncf.quantize(model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER,
                             preset=nncf.QuantizationPreset.MIXED, subset_size=len(batches),
                             ignored_scope=nncf.IgnoredScope(patterns=[FEED_FORWARD_OUTPUT], validate=False))
