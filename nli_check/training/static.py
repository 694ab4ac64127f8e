"""Static word vectors distilled from the pairing model: the cheap first stage of pairing.

model2vec's recipe (Tulkens and van Dongen, 2024), done here in a few lines because its
``distill`` extra would pin an older transformers: every token of the embedding model's vocabulary
goes through the model on its own, the outputs are reduced by PCA and weighted by an
estimate of the token's frequency (SIF), and the result is saved as a model2vec
``StaticModel`` folder. A sentence is then the mean of its tokens' vectors: microseconds,
no transformer. ``nli-check distil-static`` writes the shipped ``models/minilm-static``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from nli_check.errors import InputError
from nli_check.pipeline.pair import resolve_embedding_model

logger = logging.getLogger(__name__)


def distil_static(*, embedding_model: str = "minilm", output: Path, dimensions: int = 256,
                  sif_coefficient: float = 1e-4) -> dict:
    """Distil ``embedding_model`` into static token vectors saved at ``output``.

    Args:
        embedding_model: ``minilm`` (the shipped pairing model) or a local
            sentence-transformers folder.
        output: the folder to write (model2vec format: vectors, tokenizer, config).
        dimensions: vector size after PCA.
        sif_coefficient: weight a / (a + p(token)), with p from the token's rank (Zipf).

    Returns:
        What was made (vocabulary size, dimensions, source model), also in ``output/distilled.json``.

    Examples:
        >>> distil_static(output=Path("models/minilm-static"))["dimensions"]
        256
    """
    import torch
    from model2vec import StaticModel
    from tokenizers import Tokenizer
    from transformers import AutoModel, AutoTokenizer

    folder = Path(resolve_embedding_model(embedding_model))
    if not (folder / "tokenizer.json").is_file():
        raise InputError(f"{folder}: no tokenizer.json (a local sentence-transformers folder is expected)")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder), dtype=torch.float32).eval()
    special = sorted(set(tokenizer.all_special_ids))
    ordinary = np.setdiff1d(np.arange(len(tokenizer)), special)
    table = np.zeros((len(tokenizer), model.config.hidden_size), dtype=np.float32)
    # Every ordinary token framed by [CLS] ... [SEP], as the model saw text in training; the
    # mean over the three positions, as the sentence model pools.
    with torch.inference_mode():
        for start in range(0, len(ordinary), 1024):
            ids = torch.as_tensor(ordinary[start:start + 1024])
            batch = torch.stack([torch.full_like(ids, tokenizer.cls_token_id), ids,
                                 torch.full_like(ids, tokenizer.sep_token_id)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            table[ordinary[start:start + 1024]] = hidden.mean(dim=1).numpy()
    # PCA over the ordinary tokens (special ones stay zero: they carry no meaning of a sentence).
    centred = table[ordinary] - table[ordinary].mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = np.zeros((len(tokenizer), dimensions), dtype=np.float32)
    reduced[ordinary] = centred @ components[:dimensions].T
    # SIF: frequent tokens weigh less; frequency from the rank in the vocabulary (Zipf).
    rank_probability = 1 / np.arange(2, len(tokenizer) + 2)
    rank_probability /= rank_probability.sum()
    reduced *= (sif_coefficient / (sif_coefficient + rank_probability))[:, None]
    table = reduced.astype(np.float16)
    source_name = "all-MiniLM-L6-v2" if embedding_model == "minilm" else folder.name
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": source_name,
              "apply_pca": dimensions, "sif_coefficient": sif_coefficient, "hidden_dim": int(table.shape[1]),
              "seq_length": 1000000, "normalize": True, "pooling": "mean"}
    static = StaticModel(vectors=table, tokenizer=Tokenizer.from_file(str(folder / "tokenizer.json")),
                         config=config, normalize=True, base_model_name=source_name)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    static.save_pretrained(output)
    made = {"source_model": embedding_model, "vocabulary": int(table.shape[0]), "dimensions": int(table.shape[1]),
            "sif_coefficient": sif_coefficient, "command": f"nli-check distil-static --output {output}"}
    (output / "distilled.json").write_text(json.dumps(made, indent=2) + "\n")
    # model2vec writes a generic card; this one says what the folder is and where it came from.
    (output / "README.md").write_text(_CARD.format(source=source_name, **made))
    return made


_CARD = """# Static vectors for nli-check's first stage

One {dimensions}-dimensional vector per token of {source}'s vocabulary ({vocabulary} tokens),
distilled from {source} by `{command}` (model2vec's recipe: each token through the model on
its own, PCA, SIF weighting with coefficient {sif_coefficient}; `nli_check/training/static.py`).
Loaded with model2vec's `StaticModel`; a sentence is the mean of its tokens' vectors.
nli-check ranks source sentences with it (fused with BM25) before MiniLM embeds the best
of them (`nli_check/pipeline/first_stage.py`; measurements in docs/speed.md).

License: Apache-2.0, as all-MiniLM-L6-v2 it derives from.
"""
