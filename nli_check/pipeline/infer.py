"""Stage 3: NLI probabilities for (evidence, claim) pairs.

:class:`NLIModel` wraps a sentence-transformers ``CrossEncoder``. It reads the label
order from the model's ``id2label`` (so any 3-way NLI cross-encoder works, whatever its
order), sorts pairs by their length in tokens before batching (less padding), pads each
batch to a multiple of 16 tokens (fewer distinct shapes to build kernels for), and caches
results, so an identical (evidence, claim) pair is scored once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import DEFAULT_PRECISION, PAD_TO_MULTIPLE_OF
from nli_check.errors import InputError
from nli_check.labels import NLI_LABELS
from nli_check.precision import padding_kwargs, resolve_precision, torch_dtype


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


class NLIModel:
    """A 3-way NLI cross-encoder. ``predict`` returns an (n, 3) array of probabilities in
    the order entailment, neutral, contradiction."""

    def __init__(self, model: str | Path, *, device: str | None = None, max_length: int = 256,
                 precision: str = DEFAULT_PRECISION, cache_size: int = 200_000,
                 pad_to_multiple_of: int = PAD_TO_MULTIPLE_OF) -> None:
        from sentence_transformers import CrossEncoder

        self._processing = padding_kwargs(pad_to_multiple_of)
        path = Path(model)
        if path.exists() and not (path / "config.json").is_file():
            raise InputError(f"{path}: not a model folder (no config.json)")
        self.precision = resolve_precision(precision, device)  # float32 or bfloat16
        # An explicit dtype: the fp16 weights on disk are read as float32 or bfloat16,
        # never run in float16 (slow on CPUs).
        self.model = CrossEncoder(str(model), device=device, max_length=max_length,
                                  model_kwargs={"dtype": torch_dtype(self.precision)})
        if self.model.num_labels != 3:
            raise InputError(f"{model}: an NLI model needs 3 labels, this one has {self.model.num_labels}")
        self.order = _label_order(self.model.config.id2label)
        self.name = str(model)
        self._cache: LRUCache[np.ndarray] = LRUCache(cache_size)
        self.pairs_scored = 0  # pairs actually run through the model (cache misses)

    def predict(self, pairs: list[tuple[str, str]], *, batch_size: int = 32,
                cache: LRUCache[np.ndarray] | None = None) -> np.ndarray:
        """Probabilities for each (premise, hypothesis) pair. ``cache`` replaces the model's
        own cache for this call (batch scoring keeps one per chunk of articles, so a chunk's
        numbers depend on that chunk alone)."""
        cache = self._cache if cache is None else cache
        keys = [content_key(premise, hypothesis) for premise, hypothesis in pairs]
        todo = {key: pair for key, pair in zip(keys, pairs) if key not in cache}
        fresh: dict[bytes, np.ndarray] = {}
        if todo:
            items = list(todo.items())
            order = np.argsort(self._token_lengths([pair for _, pair in items]), kind="stable")
            items = [items[i] for i in order]
            # One call per batch: CrossEncoder.predict would re-sort the whole list by
            # characters, which pads more than sorting by tokens.
            batches = [items[start:start + batch_size] for start in range(0, len(items), batch_size)]
            logits = np.concatenate([
                self.model.predict([pair for _, pair in batch], batch_size=len(batch), apply_softmax=True,
                                   convert_to_numpy=True, show_progress_bar=False,
                                   processing_kwargs=self._processing).reshape(len(batch), -1)
                for batch in batches])
            probabilities = np.asarray(logits, dtype=np.float64)[:, self.order]
            fresh = {key: row for (key, _), row in zip(items, probabilities)}
            self.pairs_scored += len(items)
        # Read cached rows before storing fresh ones: a batch larger than the cache must not evict itself.
        found = {key: fresh[key] if key in fresh else cache.get(key) for key in dict.fromkeys(keys)}
        for key, row in fresh.items():
            cache.put(key, row)
        return np.stack([found[key] for key in keys]) if keys else np.zeros((0, 3))

    def _token_lengths(self, pairs: list[tuple[str, str]]) -> list[int]:
        """Each pair's length in tokens, as the model will see it (truncated alike)."""
        encoded = self.model.tokenizer([premise for premise, _ in pairs], [hypothesis for _, hypothesis in pairs],
                                       truncation=True, max_length=self.model.max_seq_length,
                                       return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]
