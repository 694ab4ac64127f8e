"""Losses for training NLI cross-encoders beyond sentence-transformers' own."""

from __future__ import annotations

import torch
from sentence_transformers.util import batch_to_device
from torch import Tensor, nn
from torch.nn import functional

NO_GOLD = -1  # the gold column of a pair no labelled set labels (a teacher's only)


class SoftTargetLoss(nn.Module):
    """Distillation: cross-entropy of the student's 3-way distribution against a teacher's
    probabilities, mixed with the gold label's cross-entropy where the pair has one.

    Each label row is ``[p_entailment, p_neutral, p_contradiction, gold]`` in the student's
    label order, ``gold`` a label id or :data:`NO_GOLD`. A pair's loss is
    ``(1 - gold_weight) * soft + gold_weight * hard`` when it has a gold label, ``soft`` when not.

    Args:
        model: the student (a sentence-transformers ``CrossEncoder`` with 3 labels).
        gold_weight: the gold label's share of the loss, in [0, 1].

    Examples:
        >>> loss = SoftTargetLoss(student, gold_weight=0.5)
        >>> trainer = CrossEncoderTrainer(model=student, train_dataset=dataset, loss=loss)
    """

    def __init__(self, model, *, gold_weight: float) -> None:
        super().__init__()
        if not 0.0 <= gold_weight <= 1.0:
            raise ValueError(f"gold_weight must be in [0, 1], got {gold_weight}")
        if model.num_labels != 3:
            raise ValueError(f"SoftTargetLoss expects a model with 3 labels, got {model.num_labels}")
        self.model = model
        self.gold_weight = gold_weight

    def forward(self, inputs: list[list[str]], labels: Tensor | list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        targets = torch.stack(list(labels)) if isinstance(labels, list | tuple) else labels
        if targets.ndim != 2 or targets.shape[1] != 4:
            raise ValueError(f"SoftTargetLoss expects label rows of 4 values (3 probabilities and a gold id), "
                             f"received shape {tuple(targets.shape)}")
        tokens = batch_to_device(self.model.preprocess(list(zip(inputs[0], inputs[1])), prompt=prompt, task=task),
                                 self.model.device)
        logits = self.model(tokens)["scores"].float()
        return soft_target_loss(logits, targets.to(logits.device).float(), gold_weight=self.gold_weight)

    def get_config_dict(self) -> dict:
        return {"gold_weight": self.gold_weight}


def soft_target_loss(logits: Tensor, targets: Tensor, *, gold_weight: float) -> Tensor:
    """The mean loss of :class:`SoftTargetLoss` over a batch of ``logits`` (n, 3) and label
    rows ``targets`` (n, 4)."""
    log_probabilities = functional.log_softmax(logits, dim=-1)
    soft = -(targets[:, :3] * log_probabilities).sum(dim=-1)
    gold = targets[:, 3].long()
    has_gold = gold != NO_GOLD
    hard = -log_probabilities.gather(1, gold.clamp(min=0).unsqueeze(1)).squeeze(1)
    weight = torch.where(has_gold, torch.full_like(soft, gold_weight), torch.zeros_like(soft))
    return ((1 - weight) * soft + weight * hard).mean()
