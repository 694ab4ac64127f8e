"""Activation checkpointing for long training batches only (train.LongBatchCheckpointing),
on a tiny BERT built here."""

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from nli_check.training.train import LongBatchCheckpointing, TrainConfig


def tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, num_labels=3, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return BertForSequenceClassification(config)


def grads_after_step(model, input_ids):
    model.zero_grad()
    labels = torch.zeros(input_ids.shape[0], dtype=torch.long)
    model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), labels=labels).loss.backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_only_batches_over_the_budget_are_checkpointed_and_gradients_do_not_change():
    model = tiny_bert().train()
    plain = {shape: grads_after_step(model, torch.randint(5, 100, shape, generator=torch.Generator().manual_seed(1)))
             for shape in [(4, 8), (4, 16)]}

    checkpointing = LongBatchCheckpointing(model, above_tokens=40)
    attention_calls = []
    model.bert.encoder.layer[0].attention.register_forward_pre_hook(lambda module, args: attention_calls.append(1))
    calls_per_batch = []
    for shape in [(4, 8), (4, 16), (4, 8)]:  # 32 tokens, 64 tokens (over 40), 32 again
        attention_calls.clear()
        grads = grads_after_step(model, torch.randint(5, 100, shape, generator=torch.Generator().manual_seed(1)))
        calls_per_batch.append(len(attention_calls))
        for name, grad in plain[shape].items():
            torch.testing.assert_close(grads[name], grad)
    # A checkpointed layer runs its forward again in the backward pass.
    assert calls_per_batch == [1, 2, 1]
    assert (checkpointing.checkpointed, checkpointing.batches) == (1, 3)

    with torch.no_grad():  # evaluation: not counted, nothing switched on
        model(input_ids=torch.randint(5, 100, (4, 16)))
    assert (checkpointing.checkpointed, checkpointing.batches) == (1, 3)
    checkpointing.remove()
    grads_after_step(model, torch.randint(5, 100, (4, 8)))
    assert checkpointing.batches == 3


def test_checkpoint_budget_is_checked():
    assert TrainConfig().checkpoint_above_tokens > 0
    assert TrainConfig(checkpoint_above_tokens=None).checkpoint_above_tokens is None
    with pytest.raises(ValueError, match="checkpoint_above_tokens must be None or at least 0, got -5"):
        TrainConfig(checkpoint_above_tokens=-5)
