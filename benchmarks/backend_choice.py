"""Benchmark: which CPU runtime for the NLI model (the choice behind nli_check/runtime).

    pip install onnxruntime onnx   # not project dependencies: only this comparison uses them
    python benchmarks/backend_choice.py [--data ../shared/data] [--model DIR] [--repeat 3]

Collects the NLI pairs one editorial check scores (benchmarks/check_speed.py's article and
sources), then runs the model on exactly those pairs (sorted by length, batches of 32,
padded to 16) with: PyTorch float32 and bfloat16; ONNX Runtime (``torch.onnx.export``,
opset 17) float32 and dynamic int8 (per-tensor and per-channel weights); OpenVINO float32,
bfloat16 and the project's static int8 (nli_check.runtime.export). Reports the best of
``--repeat`` timings, the speed-up over PyTorch float32, how many pairs keep their argmax
and the largest change of a probability. A benchmark: it reports, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

from check_speed import corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    import torch

    from nli_check import Checker
    from nli_check.pipeline.infer import NLIModel, _softmax
    from nli_check.runtime.batching import token_budget_batches
    from nli_check.training.train import cpu_description

    article, sources = corpus(args.data, 1000, 5000)
    checker = Checker(model=args.model, backend="torch", precision="float32")
    pairs: list[tuple[str, str]] = []
    predict = checker.nli.predict
    checker.nli.predict = lambda batch, **kwargs: (pairs.extend(batch), predict(batch, **kwargs))[1]
    checker.check(article, sources)
    reference_model = checker.nli
    encoded = reference_model._tokenize(pairs)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    batches = [(batch, reference_model._pad({name: [encoded[name][i] for i in batch] for name in encoded}))
               for batch in token_budget_batches(lengths, max_tokens=10 ** 9, max_batch=32, pad_to_multiple_of=16)]

    def run(call) -> tuple[float, np.ndarray]:
        out = np.zeros((len(pairs), 3))
        call(batches[0][1])  # warm-up
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            for batch, features in batches:
                out[batch] = _softmax(np.asarray(call(features), dtype=np.float64))
            best = min(best, time.perf_counter() - started)
        return best, out

    results = {}
    base_s, base = run(reference_model.encoder)
    results["torch float32"] = (base_s, base)
    results["torch bfloat16"] = run(NLIModel(checker.nli.name, backend="torch", precision="bfloat16").encoder)
    for precision in ("float32", "bfloat16", "int8"):
        results[f"openvino {precision}"] = run(NLIModel(checker.nli.name, backend="openvino", precision=precision).encoder)
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        ort = None
    if ort is not None:
        names = list(reference_model.encoder.input_names)
        module = reference_model.encoder.module
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.onnx"
            dummy = {name: torch.ones((2, 16), dtype=torch.long) for name in names}
            torch.onnx.export(module, (dummy,), str(path), input_names=names, output_names=["logits"],
                              dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names} | {"logits": {0: "batch"}},
                              opset_version=17, dynamo=False)
            options = ort.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()

            def session(file: Path):
                runner = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
                return lambda features: runner.run(None, {name: features[name] for name in names})[0]

            results["onnxruntime float32"] = run(session(path))
            for per_channel in (False, True):
                quantized = Path(folder) / f"int8-{per_channel}.onnx"
                quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8, per_channel=per_channel)
                label = "per-channel" if per_channel else "per-tensor"
                results[f"onnxruntime int8 dynamic {label}"] = run(session(quantized))
    table = {name: {"seconds": round(seconds, 3), "speedup": round(base_s / seconds, 2),
                    "argmax_agreement": round(float((out.argmax(1) == base.argmax(1)).mean()), 4),
                    "max_probability_change": round(float(np.abs(out - base).max()), 4)}
             for name, (seconds, out) in results.items()}
    print(json.dumps({"cpu": cpu_description(), "torch_threads": torch.get_num_threads(),
                      "model": checker.nli.name, "pairs": len(pairs), "mean_tokens": round(float(np.mean(lengths)), 1),
                      "onnxruntime": None if ort is None else ort.__version__, "results": table}, indent=2))


if __name__ == "__main__":
    main()
