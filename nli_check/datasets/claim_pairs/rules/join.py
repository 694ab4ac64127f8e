"""The join rules: two claims joined ("A, and b") against a window of each one's source side
by side -> ``join_supported``, ``join_unsupported`` or ``join_contradicted``."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from nli_check.datasets import augment
from nli_check.datasets.claim_pairs.chunks import _gold_window, _text, _without_evidence, _words
from nli_check.datasets.claim_pairs.records import _OPENERS, ClaimPair, Span, _content_words, _norm, _Record, _restates
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, Verdict

# A share of the supported (and contradicted) claims of a set is joined with a partner, so
# that joined claims stay a minority of each set.
JOIN_SHARE = 0.5
# Longer joined claims are not the sentences the checker sees.
MAX_JOINED_WORDS = 80


# A claim that opens with a connective ("But in pandemic times ...") does not join.
_DISCOURSE = re.compile(r"(?:And|But|However|Yet|So|Also|Meanwhile|Moreover|Still|Thus|Therefore)\b")


def _conjoin(first: str, second: str) -> tuple[str, int]:
    """"A, and b": the first claim without its full stop, the second with a plain sentence
    opener lower-cased. Returns the text and where the second part starts in it."""
    body, end = augment._strip_end(first)
    word, _, rest = second.partition(" ")
    second = (word.lower() if word in _OPENERS else word) + (" " + rest if rest else "")
    second, second_end = augment._strip_end(second)
    joined = f"{body}, and "
    return f"{joined}{second}{second_end if second_end else end}", len(joined)


def _partner(record: _Record, pool: Sequence[_Record], rng: random.Random) -> _Record | None:
    """A random record of ``pool`` about another document and another claim."""
    for _ in range(5):
        other = rng.choice(pool)
        if other.doc_key != record.doc_key and _norm(other.claim) != _norm(record.claim):
            return other
    return None


def _gap_part(record: _Record, *, budget: int,
              rng: random.Random) -> tuple[str, tuple[Span, ...] | None] | None:
    """A window of ``record``'s document that does not back its claim, and the spans of the
    claim unsupported there: () for the whole claim, None when unknown (a partly backed claim)."""
    if record.label == UNSUPPORTED:
        window = _gold_window(record, budget=budget, rng=rng)
        spans = record.spans if record.spans or not record.partial else None
    else:
        window = _without_evidence(record, _gold_window(record, budget=budget, rng=rng))
        spans = ()
    if not window or _words(record, window) > budget or _restates(record.claim, [record.doc[i] for i in window]):
        return None
    return _text(record, window), spans


def _evidence_part(record: _Record, *, budget: int, rng: random.Random) -> str | None:
    window = _gold_window(record, budget=budget, rng=rng)
    return _text(record, window) if window and _words(record, window) <= budget else None


def _joined(name: str, a: _Record, a_chunk: str, b: _Record, b_chunk: str | None, label: Verdict, rule: str,
            b_spans: tuple[Span, ...] | None, rng: random.Random) -> ClaimPair | None:
    """"A, and b" (in either order) against the two chunks side by side (or A's alone when
    ``b_chunk`` is None). ``b_spans``: None for no spans, () for b's whole part, else b's own."""
    if len(a.claim.split()) + len(b.claim.split()) > MAX_JOINED_WORDS or \
            _DISCOURSE.match(a.claim) or _DISCOURSE.match(b.claim):
        return None
    b_first = rng.random() < 0.5
    claim, offset = _conjoin(b.claim, a.claim) if b_first else _conjoin(a.claim, b.claim)
    start = 0 if b_first else offset
    b_length = len(augment._strip_end(b.claim)[0])
    spans: tuple[Span, ...] = ()
    if b_spans == ():
        spans = ((start, start + b_length),)
    elif b_spans:
        spans = tuple((start + s, start + e) for s, e in b_spans if e <= b_length)
    # The chunks' order is drawn apart from the claims' order.
    chunks = [a_chunk] if b_chunk is None else ([b_chunk, a_chunk] if rng.random() < 0.5 else [a_chunk, b_chunk])
    return ClaimPair(claim, " ".join(chunks), label, name, rule, spans)


def _join_rule(name: str, records: Sequence[_Record], *, budget: int, rng: random.Random) -> list[ClaimPair]:
    """Joined claims: supported + supported -> supported; supported + a part its chunk does not
    back -> unsupported; supported + contradicted -> contradicted. Each part gets half the
    chunk budget. Where a set has no document context (FEVER, SciFact, COVID-Fact) the
    unsupported part is another claim whose words the first part's chunk mostly lacks."""
    supported = [r for r in records if r.label == SUPPORTED and r.evidence]
    contradicted = [r for r in records if r.label == CONTRADICTED and r.evidence]
    gaps = [r for r in records if r.label == UNSUPPORTED or
            (r.settles and len(r.doc) > len(r.evidence | r.exclude))]
    if not supported:
        return []
    half = budget // 2
    made: list[ClaimPair | None] = []
    for a in supported:
        if rng.random() >= JOIN_SHARE:
            continue
        a_chunk = _evidence_part(a, budget=half, rng=rng)
        b = _partner(a, supported, rng)
        b_chunk = b and _evidence_part(b, budget=half, rng=rng)
        if a_chunk and b and b_chunk:
            made.append(_joined(name, a, a_chunk, b, b_chunk, SUPPORTED, "join_supported", None, rng))
        made.append(_unsupported_join(name, a, a_chunk, gaps or supported + contradicted, budget=budget, rng=rng,
                                      own_chunk=not gaps))
    for b in contradicted:
        if rng.random() >= JOIN_SHARE:
            continue
        a = _partner(b, supported, rng)
        a_chunk = a and _evidence_part(a, budget=half, rng=rng)
        b_chunk = _evidence_part(b, budget=half, rng=rng)
        if a and a_chunk and b_chunk:
            made.append(_joined(name, a, a_chunk, b, b_chunk, CONTRADICTED, "join_contradicted", None, rng))
    return [pair for pair in made if pair]


def _unsupported_join(name: str, a: _Record, a_chunk: str | None, pool: Sequence[_Record], *, budget: int,
                      rng: random.Random, own_chunk: bool) -> ClaimPair | None:
    """A supported claim joined with one its chunk does not back. ``own_chunk``: the set has
    no chunk known not to back a claim, so the joined claim gets A's chunk alone and the partner
    must share few words with it."""
    b = _partner(a, pool, rng)
    if b is None:
        return None
    if own_chunk:
        chunk = _evidence_part(a, budget=budget, rng=rng)
        words = _content_words(b.claim)
        if not chunk or not words or len(words & _content_words(chunk)) >= 0.5 * len(words):
            return None
        return _joined(name, a, chunk, b, None, UNSUPPORTED, "join_unsupported", (), rng)
    gap = _gap_part(b, budget=budget // 2, rng=rng)
    if a_chunk is None or gap is None or _restates(b.claim, [a_chunk]):
        return None
    return _joined(name, a, a_chunk, b, gap[0], UNSUPPORTED, "join_unsupported", gap[1], rng)
