"""The pairs int8 quantization is calibrated on: training pairs, never dev or test.

``calibration.jsonl`` (beside this module) holds 256 (premise, hypothesis) pairs drawn
with a fixed seed from training splits whose licenses allow redistribution: Check-COVID
train and Citation-Integrity train (MIT; claims against their evidence, the shapes the
checker scores) and SNLI train (CC BY-SA 4.0). It is rebuilt, byte for byte, by

    python -m nli_check.runtime.calibration --data ../shared/data

An embedding model is calibrated on the same texts, each on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from importlib import resources
from pathlib import Path

import numpy as np

CALIBRATION_FILE = "calibration.jsonl"
# Pairs taken from each training set.
TAKEN = {"check_covid": 96, "citation_integrity": 96, "snli": 64}


def calibration_text() -> str:
    return resources.files("nli_check.runtime").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")


def calibration_digest() -> str:
    return hashlib.sha256(calibration_text().encode("utf-8")).hexdigest()[:12]


def calibration_pairs() -> list[tuple[str, str]]:
    return [(row["premise"], row["hypothesis"]) for row in map(json.loads, calibration_text().splitlines())]


def calibration_batches(tokenizer, *, task: str, batch_size: int, names: list[str],
                        max_length: int = 256) -> list[dict[str, np.ndarray]]:
    """Tokenized calibration inputs in batches: pairs for "nli", single texts (premises
    and hypotheses) for "embedding"; int64 arrays keyed by the model's input ``names``."""
    pairs = calibration_pairs()
    items: list = pairs if task == "nli" else [p for p, _ in pairs] + [h for _, h in pairs]
    batches = []
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        if task == "nli":
            encoded = tokenizer([p for p, _ in chunk], [h for _, h in chunk], truncation=True,
                                max_length=max_length, padding=True, return_tensors="np")
        else:
            encoded = tokenizer(chunk, truncation=True, max_length=max_length, padding=True, return_tensors="np")
        batches.append({name: encoded[name].astype(np.int64) for name in names})
    return batches


def build(root: Path, *, seed: int = 0) -> list[dict]:
    """Draw the calibration pairs from the training splits under ``root``."""
    from nli_check.datasets import nli_pairs

    rng = random.Random(seed)
    sources = {"check_covid": nli_pairs.check_covid(root, "train", random.Random(seed)),
               "citation_integrity": nli_pairs.citation_integrity(root, "train", random.Random(seed)),
               "snli": nli_pairs.snli(root, "train")}
    rows = []
    for name, pairs in sources.items():
        for pair in rng.sample(pairs, TAKEN[name]):
            rows.append({"premise": pair.premise, "hypothesis": pair.hypothesis, "dataset": name})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Rebuild the int8 calibration pairs from training splits.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    rows = build(args.data)
    path = Path(__file__).with_name(CALIBRATION_FILE)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
