"""Benchmark: seconds per training step of the recipe, float32 against bfloat16 autocast.

    python benchmarks/train_speed.py [--data ../shared/data] [--steps 40]

Trains the MiniLM base for ``--steps`` steps of batch 32 with the recipe's own trainer
settings (length-bucketed batches) on the first SNLI and FEVER training pairs, once per
precision, and reports seconds per step and the training loss. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def seconds_per_step(pairs, *, precision: str, steps: int, workdir: Path) -> dict:
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, losses
    from sentence_transformers.cross_encoder.training_args import CrossEncoderTrainingArguments

    from nli_check.labels import LABEL2ID
    from nli_check.training.bases import base_model_folder
    from nli_check.training.train import LengthBucketBatchSampler

    model = CrossEncoder(str(base_model_folder("minilm", workdir)), num_labels=3, max_length=256)
    dataset = Dataset.from_dict({"premise": [p.premise for p in pairs], "hypothesis": [p.hypothesis for p in pairs],
                                 "label": [LABEL2ID[p.label] for p in pairs]})
    args = CrossEncoderTrainingArguments(
        output_dir=str(workdir / "checkpoints"), max_steps=steps, per_device_train_batch_size=32,
        learning_rate=5e-5, save_strategy="no", report_to="none", use_cpu=True, bf16=precision == "bfloat16",
        batch_sampler=LengthBucketBatchSampler, disable_tqdm=True, seed=13)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=losses.CrossEntropyLoss(model))
    started = time.perf_counter()
    result = trainer.train()
    return {"seconds_per_step": round((time.perf_counter() - started) / steps, 3),
            "train_loss": round(result.training_loss, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    import torch

    from nli_check.datasets import nli_pairs

    pairs = nli_pairs.snli(args.data, "train")[:32 * 30] + nli_pairs.fever(args.data)[:32 * 10]
    result = {"steps": args.steps, "batch_size": 32, "torch_threads": torch.get_num_threads()}
    for precision in ("float32", "bfloat16"):
        with tempfile.TemporaryDirectory() as workdir:
            result[precision] = seconds_per_step(pairs, precision=precision, steps=args.steps, workdir=Path(workdir))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
