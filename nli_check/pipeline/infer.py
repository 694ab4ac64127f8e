"""Stage 3: NLI probabilities for (evidence, claim) pairs.

:class:`NLIModel` runs a 3-way NLI cross-encoder on the backend and precision it was given
(:mod:`nli_check.runtime`). It reads the label order from the model's ``id2label`` (so any
3-way NLI cross-encoder works, whatever its order), sorts pairs by their length in tokens
and groups them under a token budget (little padding; short pairs many at a time), pads
each batch to a multiple of 16 tokens (fewer distinct shapes to build kernels for), and
caches results, so an identical (evidence, claim) pair is scored once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import DEFAULT_BACKEND, DEFAULT_PRECISION, NLI_BATCH_TOKENS, PAD_TO_MULTIPLE_OF
from nli_check.errors import InputError
from nli_check.labels import NLI_LABELS
from nli_check.precision import resolve_precision
from nli_check.runtime.batching import token_budget_batches
from nli_check.runtime.encoders import load_encoder, resolve_backend
from nli_check.runtime.folders import local_folder


def _label_order(id2label: dict) -> list[int]:
    """Model output column for each canonical label, from the model's id2label."""
    names = {int(index): str(label).lower() for index, label in id2label.items()}
    order = []
    for wanted in NLI_LABELS:
        matches = [index for index, name in names.items() if name.startswith(wanted[:6])]
        if len(matches) != 1:
            raise InputError(f"NLI model labels {sorted(names.values())} do not name "
                             f"entailment, neutral and contradiction once each")
        order.append(matches[0])
    return order


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class NLIModel:
    """A 3-way NLI cross-encoder. ``predict`` returns an (n, 3) array of probabilities in
    the order entailment, neutral, contradiction.

    Args:
        model: a model folder (or a hub id, where a hub is reachable).
        device: torch's device ("cpu", "cuda"); None: a GPU when there is one.
        max_length: longer pairs are truncated to this many tokens (the premise first).
        precision: "auto", "float32", "bfloat16" or "int8" (:mod:`nli_check.precision`).
        backend: "auto", "torch" or "openvino" (:mod:`nli_check.runtime.encoders`).

    Examples:
        >>> model = NLIModel("models/nli-minilm-l6", precision="float32")  # doctest: +SKIP
        >>> model.predict([("The ministry allowed it.", "It was allowed.")]).round(2)  # doctest: +SKIP
        array([[0.97, 0.02, 0.01]])
    """

    def __init__(self, model: str | Path, *, device: str | None = None, max_length: int = 256,
                 precision: str = DEFAULT_PRECISION, backend: str = DEFAULT_BACKEND, cache_size: int = 200_000,
                 pad_to_multiple_of: int = PAD_TO_MULTIPLE_OF) -> None:
        from transformers import AutoConfig, AutoTokenizer

        if pad_to_multiple_of < 1:
            raise ValueError(f"pad_to_multiple_of must be at least 1, got {pad_to_multiple_of}")
        self.pad_to_multiple_of = pad_to_multiple_of
        folder = local_folder(model)
        config = AutoConfig.from_pretrained(str(folder))
        if config.num_labels != 3:
            raise InputError(f"{model}: an NLI model needs 3 labels, this one has {config.num_labels}")
        self.order = _label_order(config.id2label)
        self.precision = resolve_precision(precision, device)  # float32, bfloat16 or int8
        self.backend = resolve_backend(backend, device=device, precision=self.precision)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.max_length = max_length
        self.encoder = load_encoder(folder, task="nli", backend=self.backend, precision=self.precision, device=device)
        self.name = str(model)
        self._cache: LRUCache[np.ndarray] = LRUCache(cache_size)
        self.pairs_scored = 0  # pairs actually run through the model (cache misses)

    def predict(self, pairs: list[tuple[str, str]], *, batch_size: int = 32, max_tokens: int = NLI_BATCH_TOKENS,
                cache: LRUCache[np.ndarray] | None = None) -> np.ndarray:
        """Probabilities for each (premise, hypothesis) pair.

        Args:
            pairs: (premise, hypothesis) pairs.
            batch_size: the most pairs in one forward pass.
            max_tokens: the most padded tokens in one forward pass.
            cache: replaces the model's own cache for this call (batch scoring keeps one per
                chunk of articles, so a chunk's numbers depend on that chunk alone).

        Returns:
            An (n, 3) float64 array, rows in the order of ``pairs``.
        """
        cache = self._cache if cache is None else cache
        keys = [content_key(premise, hypothesis) for premise, hypothesis in pairs]
        todo = {key: pair for key, pair in zip(keys, pairs) if key not in cache}
        fresh: dict[bytes, np.ndarray] = {}
        if todo:
            items = list(todo.items())
            encoded = self._tokenize([pair for _, pair in items])
            lengths = [len(ids) for ids in encoded["input_ids"]]
            for batch in token_budget_batches(lengths, max_tokens=max_tokens, max_batch=batch_size,
                                              pad_to_multiple_of=self.pad_to_multiple_of):
                features = self._pad({name: [encoded[name][i] for i in batch] for name in encoded})
                probabilities = _softmax(self.encoder(features).astype(np.float64))[:, self.order]
                fresh.update((items[i][0], row) for i, row in zip(batch, probabilities))
            self.pairs_scored += len(items)
        # Read cached rows before storing fresh ones: a batch larger than the cache must not evict itself.
        found = {key: fresh[key] if key in fresh else cache.get(key) for key in dict.fromkeys(keys)}
        for key, row in fresh.items():
            cache.put(key, row)
        return np.stack([found[key] for key in keys]) if keys else np.zeros((0, 3))

    def _tokenize(self, pairs: list[tuple[str, str]]) -> dict[str, list[list[int]]]:
        encoded = self.tokenizer([premise for premise, _ in pairs], [hypothesis for _, hypothesis in pairs],
                                 truncation=True, max_length=self.max_length)
        return {name: encoded[name] for name in self.encoder.input_names if name in encoded}

    def _pad(self, features: dict[str, list[list[int]]]) -> dict[str, np.ndarray]:
        padded = self.tokenizer.pad(features, padding=True, pad_to_multiple_of=self.pad_to_multiple_of,
                                    return_tensors="np")
        return {name: np.asarray(padded[name], dtype=np.int64) for name in features}

    def _token_lengths(self, pairs: list[tuple[str, str]]) -> list[int]:
        """Each pair's length in tokens, as the model will see it (truncated alike)."""
        return [len(ids) for ids in self._tokenize(pairs)["input_ids"]]
