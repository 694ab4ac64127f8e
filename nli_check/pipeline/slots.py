"""Stage 4c: the checkable slots of a claim, aligned with the evidence's, and the mismatches.

A *slot* is a piece of a sentence an editor checks first: a number (with its scale and
unit: "1.2 million" is 1,200,000, "40 percent" is a percentage), a date (its year, month,
day or weekday, as far as the text gives them), a name, a negation, or a degree word
(all/most/some, always/never, permanent/temporary, increase/decrease, effective/ineffective).

A claim's slot *conflicts* with a slot of an evidence sentence when both are of one kind
(and scale), their values differ, and they sit in the same place of what the two
sentences say: the words around them align (soft alignment, the cosine of the MiniLM token
vectors the pairing model already gives; :func:`find_conflicts`). A conflict is only worth
something where the evidence sentence also aligns well with the rest of the claim; the
rule that turns conflicts into a verdict is :func:`conflict_verdict`.

Parsing uses well-kept libraries where they fit: ``python-dateutil`` normalises date
expressions (which parts a text gives is read by parsing it against two default dates);
``text2num`` turns number words ("forty", "two hundred") into values. Finding the
expressions in running text is the regular expressions below: the libraries that find them
themselves (quantulum3, dateparser's search) either do not report offsets or mis-read
"7-2" and "March 5, 2021", and quantulum3 unpickles a scikit-learn model at import.

Examples:
    >>> [(s.kind, s.text) for s in find_slots("Deaths fell by 40 percent in March 2021.")]
    [('degree', 'fell'), ('number', '40 percent'), ('date', 'March 2021')]
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from dateutil import parser as date_parser
from text_to_num import text2num

from nli_check.pipeline.explain import STOPWORDS, WORD

SLOT_KINDS = ("number", "date", "name", "negation", "degree")
# A number or a date differs or it does not: a mismatch of these is precise. Names, negation
# and degree words depend on reading the sentence right, so their conflicts need more alignment.
PRECISE_KINDS = frozenset({"number", "date"})

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?|{_MONTH},?\s+(?:of\s+)?{_YEAR}"
    rf"|{_YEAR}-[01]\d-[0-3]\d|[01]?\d/[0-3]?\d/{_YEAR}"
    rf"|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|(?:in|since|by|until|from|of|during|before|after)\s+{_YEAR})\b(?!-\w)"
    rf"|(?<![\w.,$€£-]){_YEAR}(?![\w%-]|[.,]\d)")

_NUMBER_WORDS = ("two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
                 "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
                 "million billion").split()
_WORD_NUMBER = rf"(?:{'|'.join(_NUMBER_WORDS)}|one)(?:[\s-]+(?:and\s+)?(?:{'|'.join(_NUMBER_WORDS)}|one))*"
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
           "trillion": 1e12, "tn": 1e12}
_CURRENCIES = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "dollars": "USD", "dollar": "USD",
               "euros": "EUR", "euro": "EUR", "pounds": "GBP", "yen": "JPY"}
_NUMBER = re.compile(
    r"(?<![\w.-])(?P<currency>US\$|\$|€|£|¥)?\s?"
    rf"(?P<digits>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:[-–](?P<to>\d+(?:\.\d+)?))?"
    rf"|(?<![\w-])(?P<words>{_WORD_NUMBER})(?![\w-])", re.IGNORECASE)
_AFTER_NUMBER = re.compile(
    r"\s?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|[kmb])?\b\s?"
    r"(?P<unit>%|percent\b|per\s?cent\b|percentage\s+points?\b|dollars?\b|euros?\b|pounds\b|yen\b)?", re.IGNORECASE)
_TIME_UNITS = re.compile(r"\s*(?P<unit>seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
                         re.IGNORECASE)

_NEGATIONS = frozenset({"not", "no", "never", "cannot", "none", "neither", "nobody", "nothing"})
# Degree words: scale -> pole -> words. Two words of one scale and different poles say
# different things of the same thing ("every member" / "most members").
_DEGREE = {
    "quantity": {"all": "all every each entire whole everyone everybody", "most": "most majority",
                 "some": "some several few minority partly partially"},
    "frequency": {"always": "always", "often": "often usually frequently commonly",
                  "sometimes": "sometimes occasionally", "rarely": "rarely seldom", "never": "never"},
    "duration": {"permanent": "permanent permanently forever indefinitely indefinite",
                 "temporary": "temporary temporarily briefly"},
    "direction": {"up": "increase increased increases increasing rise rises rose risen rising grow grew grown grows "
                        "higher more gain gained raise raised surge surged jump jumped climb climbed doubled tripled",
                  "down": "decrease decreased decreases decreasing decline declined declines declining fall falls "
                          "fell fallen falling drop dropped drops lower less fewer cut cuts reduce reduced reduces "
                          "reducing reduction shrink shrank plunge plunged halved"},
    "effect": {"effective": "effective efficacious", "ineffective": "ineffective inefficacious"},
    "safety": {"safe": "safe", "unsafe": "unsafe dangerous harmful"},
    "significance": {"significant": "significant significantly",
                     "insignificant": "insignificant nonsignificant non-significant"},
    "likelihood": {"likely": "likely", "unlikely": "unlikely"},
    "possibility": {"possible": "possible", "impossible": "impossible"},
    "ability": {"able": "able", "unable": "unable"},
}
_DEGREE_WORDS = {word: (scale, pole) for scale, poles in _DEGREE.items() for pole, words in poles.items()
                 for word in words.split()}
# "for two weeks", "for a month": a time-limited span, the temporary pole of duration.
_FOR_A_TIME = re.compile(r"\bfor\s+(?:a|an|one|two|three|four|five|six|several|a\s+few|\d+)\s+"
                         r"(?:days?|weeks?|months?|years?|hours?)\b", re.IGNORECASE)
_NAME_RUN = re.compile(r"\b(?:[A-Z][\w'’.&-]*[\w.]|[A-Z])(?:\s+(?:of\s+|de\s+|van\s+|the\s+)?[A-Z][\w'’.&-]*[\w.]?)*")

# What a reference in brackets holds: "[18]", "(3, 4)", "[5-7]".
_REFERENCE = re.compile(r"[\[(]\s*\d+(?:\s*[-–,]\s*\d+)*\s*[\])]")
REFERENCE_CHARS = 40
# How close two numbers may be and still say the same ("about 40" against "39.6"): relative.
NUMBER_TOLERANCE = 0.02
# Context: the content words this far (in words) either side of a slot are what aligns it.
CLAIM_CONTEXT_WORDS = 4
EVIDENCE_CONTEXT_WORDS = 6


@dataclass(frozen=True)
class Slot:
    """A checkable piece of a sentence: its kind, where it is (offsets into that sentence),
    and a value two slots of one kind compare by."""

    kind: str
    start: int
    end: int
    text: str
    value: tuple  # number: (low, high, rounding step); date: (year, month, day, weekday); name: words; degree: (pole,)
    scale: str = ""  # number: unit; degree: scale; others empty

    def agrees(self, other: Slot) -> bool:
        """Whether two slots of one kind and scale say the same (a date: on every part both give)."""
        if self.kind == "number":
            return _numbers_agree(self.value, other.value)
        if self.kind == "date":
            return all(a is None or b is None or a == b for a, b in zip(self.value, other.value))
        if self.kind == "name":
            mine, theirs = set(self.value), set(other.value)
            return bool(mine & theirs)
        return self.value == other.value

    @property
    def precise(self) -> bool:
        return self.kind in PRECISE_KINDS

    def comparable(self, other: Slot) -> bool:
        """Same kind and scale (a date: giving at least one part in common, so "Tuesday" and
        "March 2021" are not compared)."""
        if self.kind == "date":
            return self.kind == other.kind and any(a is not None and b is not None
                                                   for a, b in zip(self.value, other.value))
        return self.kind == other.kind and self.scale == other.scale


@dataclass(frozen=True)
class Conflict:
    """A slot of the claim that aligns with a slot of an evidence sentence saying otherwise.

    ``context`` is how well the words around the two slots align (0-1), ``alignment`` how well
    that evidence sentence aligns with the rest of the claim (0-1)."""

    claim: Slot  # offsets into the claim
    evidence: Slot  # offsets into the evidence sentence
    sentence: int  # which of the evidence sentences given
    context: float
    alignment: float

    @property
    def kind(self) -> str:
        return self.claim.kind

    @property
    def precise(self) -> bool:
        return self.claim.precise


def find_slots(text: str, *, kinds: Collection[str] = SLOT_KINDS) -> list[Slot]:
    """The slots of one sentence, in text order (a span is one slot: a date's numbers are
    not numbers too); ``kinds`` limits them (a whole source is read for numbers and dates)."""
    slots: list[Slot] = []
    taken = np.zeros(len(text) + 1, dtype=bool)

    def add(slot: Slot) -> None:
        if not taken[slot.start:slot.end].any():
            slots.append(slot)
            taken[slot.start:slot.end] = True

    for match in _DATE.finditer(text):
        value = _date_value(match.group())
        if value is not None:
            # "in 2020": the preposition tells a year from a count, the slot is the year
            start = match.start() + (len(match.group()) - 4 if value[1:] == (None, None, None)
                                     and match.group()[-4:].isdigit() else 0)
            add(Slot("date", start, match.end(), text[start:match.end()], value))
    if "degree" in kinds:
        for match in _FOR_A_TIME.finditer(text):
            add(Slot("degree", match.start(), match.end(), match.group(), ("temporary",), "duration"))
    for slot in _numbers(text):
        add(slot)
    if "negation" in kinds or "degree" in kinds:
        for match in WORD.finditer(text):
            word = match.group().lower()
            if word in _NEGATIONS or word.endswith("n't"):
                add(Slot("negation", match.start(), match.end(), match.group(), (True,)))
            elif word in _DEGREE_WORDS:
                scale, pole = _DEGREE_WORDS[word]
                add(Slot("degree", match.start(), match.end(), match.group(), (pole,), scale))
    if "name" in kinds:
        for slot in _names(text):
            add(slot)
    return sorted((s for s in slots if s.kind in kinds), key=lambda s: s.start)


def _numbers(text: str) -> list[Slot]:
    """Every quantity of ``text`` with its value (scaled), rounding step and unit."""
    found = []
    for match in _NUMBER.finditer(text):
        if _REFERENCE.fullmatch(_bracketed(text, match.start())):
            continue  # "[18]", "(3, 4)": a reference, not a quantity
        if match.group("words"):
            words = match.group("words")
            if words.lower() == "one":  # "one of the", "no one": rarely a count
                continue
            try:
                low = high = float(text2num(re.sub(r"[\s-]+(?:and\s+)?", " ", words.lower()), "en"))
            except ValueError:
                continue
        else:
            low = float(match.group("digits").replace(",", ""))
            high = float(match.group("to")) if match.group("to") else low  # "7-2" stays (7, 2): a vote
        end = match.end()
        after = _AFTER_NUMBER.match(text, end)
        scale_word = (after.group("scale") or "").lower() if after else ""
        unit_word = (after.group("unit") or "").lower() if after else ""
        if scale_word in ("k", "m", "b") and not (match.group("currency") or unit_word):
            scale_word = ""  # "5 m" is a length, "5 k" a run: a bare letter scales money only
        if not (scale_word or unit_word) and (text[end:end + 1].isalpha() or text[end:end + 2][:1] == "-"
                                              and text[end + 1:end + 2].isalpha()):
            continue  # "19th", "3D", "2019-nCoV": part of a name, not a quantity
        if scale_word or unit_word:
            end = after.end()
        factor = _SCALES.get(scale_word, 1.0)
        currency = _CURRENCIES.get((match.group("currency") or "").lower()) or _CURRENCIES.get(unit_word)
        if unit_word == "%" or unit_word.startswith("per"):
            unit = "percentage points" if "point" in unit_word else "%"
        elif unit_word.startswith("percentage"):
            unit = "percentage points"
        elif currency:
            unit = currency
        else:
            time = _TIME_UNITS.match(text, end)
            unit = time.group("unit").lower().rstrip("s") if time else ""
        digits = match.group("digits") or ""
        step = 10.0 ** -len(digits.split(".")[1]) if "." in digits else 1.0  # the last digit written
        value = (low * factor, high * factor, step * factor)
        found.append(Slot("number", match.start(), end, text[match.start():end].strip(), value, unit))
    return found


def _bracketed(text: str, start: int) -> str:
    """The brackets around ``start`` with what they hold ("[18]"), or "" when not in brackets."""
    # a reference is short: look back a few characters only (a whole source has many numbers)
    window = max(0, start - REFERENCE_CHARS)
    opening = max(text.rfind("[", window, start + 1), text.rfind("(", window, start + 1))
    if opening == -1 or any(c in text[opening + 1:start] for c in ")]"):
        return ""
    closing = text.find("]" if text[opening] == "[" else ")", start, start + REFERENCE_CHARS)
    return text[opening:closing + 1] if closing != -1 else ""


def _date_value(text: str) -> tuple | None:
    """(year, month, day, weekday) as far as ``text`` gives them (None for the rest)."""
    words = text.split()
    if len(words) == 2 and words[0].lower() in ("in", "since", "by", "until", "from", "of", "during", "before",
                                                "after"):
        text = words[1]
    try:
        first = date_parser.parse(text, default=datetime(1, 1, 1))
        second = date_parser.parse(text, default=datetime(2, 2, 2))
    except (ValueError, OverflowError):
        return None
    weekday = next((i for i, day in enumerate(_WEEKDAYS) if day in text.lower()), None)
    if weekday is not None and first.year == 1:
        return (None, None, None, weekday)
    return (first.year if first.year == second.year else None, first.month if first.month == second.month else None,
            first.day if first.day == second.day else None, weekday)


def _names(text: str) -> list[Slot]:
    """Runs of capitalised words, not at the start of the sentence (where every word is
    capitalised) unless the run is longer than a word."""
    found = []
    for match in _NAME_RUN.finditer(text):
        words = [w for w in re.split(r"\s+", match.group()) if w]
        at_start = not text[:match.start()].strip() or text[:match.start()].rstrip()[-1:] in ".!?\"“:"
        if at_start and len(words) == 1:
            continue
        if at_start:
            words = words[1:] if words[0].lower() in STOPWORDS else words
        content = [w.lower().strip(".") for w in words if w.lower() not in STOPWORDS and w.lower() != "of"]
        if not content or all(w in _MONTHS or w in _WEEKDAYS for w in content):
            continue
        if len(content) == 1 and (content[0] in _DEGREE_WORDS or content[0] in _NEGATIONS):
            continue
        end = match.end()
        if text[end - 1] == "." and len(words[-1].replace(".", "")) > 2:
            end -= 1  # the sentence's full stop, not an abbreviation ("U.S.")
        found.append(Slot("name", match.start(), end, text[match.start():end], tuple(content)))
    return found


def _numbers_agree(a: tuple, b: tuple) -> bool:
    """Ranges overlap within the tolerance, or within the rounding of the less precise of
    the two ("4" is 3.5 rounded, "1.2 million" is 1,150,000 rounded)."""
    (a_low, a_high, a_step), (b_low, b_high, b_step) = a, b
    slack = max(NUMBER_TOLERANCE * max(abs(a_low), abs(a_high), abs(b_low), abs(b_high)),
                0.5 * max(a_step, b_step)) + 1e-9
    return a_low <= b_high + slack and b_low <= a_high + slack


# ---- alignment


@dataclass(frozen=True)
class AlignedText:
    """A sentence with its slots and its MiniLM token vectors (unit length) and offsets."""

    text: str
    slots: list[Slot]
    vectors: np.ndarray  # (tokens, dim)
    offsets: np.ndarray  # (tokens, 2)


def find_conflicts(claim: AlignedText, sentences: Sequence[AlignedText], *, elsewhere: Sequence[Slot] = (),
                   elsewhere_text: str = "") -> list[Conflict]:
    """Every slot of the claim that an evidence sentence contradicts, strongest first.

    A claim slot has no conflict where any evidence sentence holds a slot that agrees with
    it (a degree word: where its best-aligned counterpart agrees, as "more" and "less" are
    everywhere), nor a number or date that the rest of the source (``elsewhere``: its slots) gives too,
    nor a name the source mentions (``elsewhere_text``): the source says the same somewhere,
    and the evidence may be the wrong sentence. Otherwise its
    counterpart in each sentence is the comparable slot whose surrounding words align best
    with the claim slot's; the conflict's ``context`` is that alignment, and ``alignment``
    is the soft recall of the claim's other content words in that sentence.
    """
    conflicts = []
    content = _content_words(claim.text)
    mentioned = [sentence.text.lower() for sentence in sentences] + [elsewhere_text.lower()]
    for slot in claim.slots:
        if slot.kind == "negation":
            continue  # negation is a sentence's polarity, compared below
        counterparts = [(n, other) for n, sentence in enumerate(sentences) for other in sentence.slots
                        if slot.comparable(other)]
        if not counterparts:
            continue
        if slot.kind != "degree" and any(slot.agrees(other) for _, other in counterparts) \
                or slot.precise and any(slot.comparable(other) and slot.agrees(other) for other in elsewhere):
            continue
        if slot.kind == "name" and any(_mentions(text, slot) for text in mentioned if text):
            continue
        best = None
        for n, other in counterparts:
            context = _context_alignment(claim, slot, sentences[n], other)
            if best is None or context > best[0]:
                best = (context, n, other)
        context, n, other = best
        if slot.agrees(other):
            continue  # a degree word: its own counterpart agrees (others in the source say nothing of it)
        conflicts.append(Conflict(slot, other, n, context, _sentence_alignment(claim, content, slot, sentences[n])))
    conflicts += _negation_conflicts(claim, content, sentences)
    return sorted(conflicts, key=lambda c: -(c.context * c.alignment))


def _negation_conflicts(claim: AlignedText, content: list[tuple[int, int]],
                        sentences: Sequence[AlignedText]) -> list[Conflict]:
    """A negated claim against an affirmative sentence, or the other way round, where the
    negated words (the content words after the negation, in its clause) align with the other
    side. The slots shown are the negation with that word on one side and the word it aligns with on
    the other ("no evacuation" against "evacuated")."""
    claim_negations = [s for s in claim.slots if s.kind == "negation"]
    conflicts = []
    for n, sentence in enumerate(sentences):
        negations = [s for s in sentence.slots if s.kind == "negation"]
        if bool(claim_negations) == bool(negations) or len(claim_negations) > 1 or len(negations) > 1:
            continue  # same polarity, or several negations (too easy to misread)
        negated_side, other_side = (claim, sentence) if claim_negations else (sentence, claim)
        negation = (claim_negations or negations)[0]
        scope = _scope(negated_side.text, negation.end)
        if not scope:
            continue
        matches = [_best_word(negated_side, span, other_side) for span in scope]
        if matches[0][1] is None:
            continue
        context, word = float(np.mean([m[0] for m in matches])), matches[0][1]
        end = scope[0][1]
        negated = Slot("negation", negation.start, end, negated_side.text[negation.start:end], (True,))
        plain = Slot("negation", word[0], word[1], other_side.text[word[0]:word[1]], (False,))
        slot, other = (negated, plain) if claim_negations else (plain, negated)
        conflicts.append(Conflict(slot, other, n, context, _sentence_alignment(claim, content, slot, sentence)))
    return conflicts


def _best_word(side: AlignedText, span: tuple[int, int], other: AlignedText) -> tuple[float, tuple[int, int] | None]:
    """The word of ``other`` whose tokens best match those of ``span`` in ``side``, and the cosine."""
    inside = _tokens_in(side, *span)
    if not inside.any() or not len(other.vectors):
        return 0.0, None
    similarity = (side.vectors[inside] @ other.vectors.T).max(axis=0)
    token = int(np.argmax(similarity))
    start, end = other.offsets[token]
    for match in WORD.finditer(other.text):
        if match.start() <= start < match.end() or start <= match.start() < end:
            return float(similarity[token]), (match.start(), match.end())
    return float(similarity[token]), None


def _mentions(lowered: str, name: Slot) -> bool:
    """Whether the lower-cased ``lowered`` names any word of the name, in any form
    ("Russia", "Russian"): a word starting with the name word less its last two letters."""
    return any(re.search(r"\b" + re.escape(word[:max(4, len(word) - 2)]), lowered)
               for word in name.value if len(word) > 2)


def _content_words(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in WORD.finditer(text) if m.group().lower() not in STOPWORDS
            and len(m.group()) > 1]


def _scope(text: str, start: int, words: int = 3) -> list[tuple[int, int]]:
    """The negated words: up to ``words`` content words after a negation, within its clause."""
    clause = re.split(r"[,;:.!?]", text[start:], maxsplit=1)[0]
    return [(start + m.start(), start + m.end()) for m in WORD.finditer(clause)
            if m.group().lower() not in STOPWORDS and m.group().lower() not in _NEGATIONS][:words]


def _tokens_in(side: AlignedText, start: int, end: int) -> np.ndarray:
    return (side.offsets[:, 0] < end) & (side.offsets[:, 1] > start)


def _word_alignment(side: AlignedText, span: tuple[int, int], other: np.ndarray) -> float:
    """The best cosine between the tokens of ``span`` in ``side`` and any of ``other``."""
    inside = _tokens_in(side, *span)
    if not inside.any() or not len(other):
        return 0.0
    return float((side.vectors[inside] @ other.T).max())


def _window(side: AlignedText, slot: Slot, words: int) -> tuple[int, int]:
    """Character range of ``words`` words either side of a slot."""
    before = [m.start() for m in WORD.finditer(side.text[:slot.start])]
    after = [m.end() for m in WORD.finditer(side.text, slot.end)]
    start = before[-words] if len(before) >= words else 0
    end = after[words - 1] if len(after) >= words else len(side.text)
    return start, end


def _context_alignment(claim: AlignedText, slot: Slot, sentence: AlignedText, other: Slot) -> float:
    """How well the content words around the claim slot align with the words around the
    evidence slot: the mean, over the claim's neighbours, of their best cosine there."""
    start, end = _window(claim, slot, CLAIM_CONTEXT_WORDS)
    neighbours = [(a, b) for a, b in _content_words(claim.text[:end])
                  if a >= start and (b <= slot.start or a >= slot.end)]
    if not neighbours:
        return 0.0
    window = _window(sentence, other, EVIDENCE_CONTEXT_WORDS)
    around = _tokens_in(sentence, *window) & ~_tokens_in(sentence, other.start, other.end)
    if not around.any():
        return 0.0
    return float(np.mean([_word_alignment(claim, span, sentence.vectors[around]) for span in neighbours]))


def _sentence_alignment(claim: AlignedText, content: list[tuple[int, int]], slot: Slot,
                        sentence: AlignedText) -> float:
    """Soft recall of the claim's content words (the slot's own left out) in the sentence."""
    rest = [(a, b) for a, b in content if b <= slot.start or a >= slot.end]
    if not rest or not len(sentence.vectors):
        return 0.0
    return float(np.mean([_word_alignment(claim, span, sentence.vectors) for span in rest]))


# ---- the rule


@dataclass(frozen=True)
class ConflictThresholds:
    """Where a conflict is strong enough to call a claim contradicted: per kind, the least
    ``context`` and ``alignment`` (``Settings.conflict_thresholds``; a kind not named never
    decides)."""

    by_kind: tuple[tuple[str, float, float], ...]

    def decisive(self, conflict: Conflict) -> bool:
        for kind, context, alignment in self.by_kind:
            if kind == conflict.kind:
                return conflict.context >= context and conflict.alignment >= alignment
        return False


def conflict_verdict(conflicts: Sequence[Conflict], thresholds: ConflictThresholds) -> Conflict | None:
    """The conflict that makes a claim contradicted, if any (the strongest decisive one)."""
    return next((c for c in conflicts if thresholds.decisive(c)), None)


def could_conflict(claim: Sequence[Slot], sentences: Sequence[Sequence[Slot]]) -> bool:
    """Whether any conflict is possible, from the slots alone (before any token vector):
    a claim slot with a comparable slot in the evidence and none that agrees (a degree
    word: one that differs), or a negation on one side only."""
    others = [slot for found in sentences for slot in found]
    negated = any(s.kind == "negation" for s in claim)
    if any(negated != any(s.kind == "negation" for s in found) for found in sentences):
        return True
    for slot in claim:
        comparable = [other for other in others if slot.kind != "negation" and slot.comparable(other)]
        if comparable and (slot.kind == "degree" and not all(slot.agrees(other) for other in comparable)
                           or not any(slot.agrees(other) for other in comparable)):
            return True
    return False
