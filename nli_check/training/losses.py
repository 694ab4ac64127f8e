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
    With a ``temperature`` T above 1 the soft part compares both distributions softened by T
    (the teacher's ``p ** (1/T)`` renormalised, the student's ``softmax(logits / T)``), scaled
    by T squared so its gradients keep their size (Hinton et al., 2015): the student also
    learns the teacher's second choice on pairs the teacher is sure of.

    Args:
        model: the student (a sentence-transformers ``CrossEncoder`` with 3 labels).
        gold_weight: the gold label's share of the loss, in [0, 1].
        temperature: the softening of the soft part, at least 1 (1: none).

    Examples:
        >>> loss = SoftTargetLoss(student, gold_weight=0.5)
        >>> trainer = CrossEncoderTrainer(model=student, train_dataset=dataset, loss=loss)
    """

    def __init__(self, model, *, gold_weight: float, temperature: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= gold_weight <= 1.0:
            raise ValueError(f"gold_weight must be in [0, 1], got {gold_weight}")
        if not temperature >= 1.0:
            raise ValueError(f"temperature must be at least 1, got {temperature}")
        if model.num_labels != 3:
            raise ValueError(f"SoftTargetLoss expects a model with 3 labels, got {model.num_labels}")
        self.model = model
        self.gold_weight = gold_weight
        self.temperature = temperature

    def forward(self, inputs: list[list[str]], labels: Tensor | list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        targets = torch.stack(list(labels)) if isinstance(labels, list | tuple) else labels
        if targets.ndim != 2 or targets.shape[1] != 4:
            raise ValueError(f"SoftTargetLoss expects label rows of 4 values (3 probabilities and a gold id), "
                             f"received shape {tuple(targets.shape)}")
        tokens = batch_to_device(self.model.preprocess(list(zip(inputs[0], inputs[1])), prompt=prompt, task=task),
                                 self.model.device)
        logits = self.model(tokens)["scores"].float()
        return soft_target_loss(logits, targets.to(logits.device).float(), gold_weight=self.gold_weight,
                                 temperature=self.temperature)

    def get_config_dict(self) -> dict:
        return {"gold_weight": self.gold_weight, "temperature": self.temperature}


def soft_target_loss(logits: Tensor, targets: Tensor, *, gold_weight: float, temperature: float = 1.0) -> Tensor:
    """The mean loss of :class:`SoftTargetLoss` over a batch of ``logits`` (n, 3) and label
    rows ``targets`` (n, 4)."""
    log_probabilities = functional.log_softmax(logits, dim=-1)
    teacher = targets[:, :3]
    if temperature == 1.0:
        soft = -(teacher * log_probabilities).sum(dim=-1)
    else:
        # log p / T renormalised is the teacher's logits / T; tiny probabilities stay finite.
        softened = functional.softmax(torch.log(teacher.clamp(min=1e-12)) / temperature, dim=-1)
        soft = -(softened * functional.log_softmax(logits / temperature, dim=-1)).sum(dim=-1) * temperature ** 2
    gold = targets[:, 3].long()
    has_gold = gold != NO_GOLD
    hard = -log_probabilities.gather(1, gold.clamp(min=0).unsqueeze(1)).squeeze(1)
    weight = torch.where(has_gold, torch.full_like(soft, gold_weight), torch.zeros_like(soft))
    return ((1 - weight) * soft + weight * hard).mean()
