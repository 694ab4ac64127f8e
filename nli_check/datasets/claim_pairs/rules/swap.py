"""The swap rules: one changed number, date, name, negation or quantity word in a supported
claim -> contradicted (``swap_<kind>``), the changed words as gold spans."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from nli_check.datasets import augment
from nli_check.datasets.claim_pairs.records import _OPENERS, _SENTENCE_END, ClaimPair, Span
from nli_check.labels import CONTRADICTED

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_MONTH = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b")
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_NUMBER_WORDS = {"two": "three", "three": "five", "four": "six", "five": "three", "six": "four", "seven": "nine",
                 "eight": "five", "nine": "six", "ten": "twelve", "twelve": "ten", "twenty": "forty",
                 "hundred": "thousand", "hundreds": "thousands", "thousand": "million", "thousands": "hundreds",
                 "million": "billion", "millions": "thousands", "billion": "million", "dozens": "hundreds"}
# Quantity and direction words; "all" is left out ("all of" -> "none of the of").
_QUANTITY_SWAPS = {**{k: v for k, v in augment.DIRECTION_SWAPS.items() if k != "all"},
                   "most": "few", "many": "few", "majority": "minority", "minority": "majority",
                   "doubled": "halved", "halved": "doubled", "double": "half", "reduced": "increased",
                   "reduces": "increases", "increases": "reduces", "reduce": "increase", "improved": "worsened",
                   "improves": "worsens", "worsened": "improved", "less": "more", "least": "most",
                   "above": "below", "below": "above", "highest": "lowest", "lowest": "highest",
                   "largest": "smallest", "smallest": "largest", "positive": "negative", "negative": "positive"}
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}{_LOWER}]+)*"
# A run of capitalised words (initials allowed inside), not part of a longer token ("SARS-CoV-2").
_ENTITY = re.compile(rf"(?<![\w-]){_NAME_WORD}(?:\s+(?:{_NAME_WORD}|[{_UPPER}]\.))*(?![\w-])")
_NOT_ENTITIES = _OPENERS | set(MONTHS) | {"However", "But", "And", "After", "Before", "During", "According",
                                          "When", "While", "Although", "For", "On", "At", "As", "By", "From",
                                          "With", "If", "His", "Her", "Both", "Each", "All", "No", "Not",
                                          "Figure", "Fig", "Table", "Supplementary", "Section", "Chapter",
                                          "To", "Of", "Is", "Was", "Are", "What", "Who", "How", "Why"} \
    | {word.capitalize() for word in _NUMBER_WORDS}
# A list around a name: a comma or "and"/"or" right before or after it.
_LISTED = re.compile(r",\s*\||\|\s*,|\b(?:and|or)\s*\||\|\s*(?:and|or)\b")
# A number that is part of a name ("COVID-19", "IL-6", "H1N1") is not a quantity.
_IN_NAME = re.compile(r"[A-Za-z][-‐]?$")
_NOT_AFTER_AUXILIARY = re.compile(r"\b(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|"
                                  r"might|must)\s+not\b", re.IGNORECASE)
_CONTRACTED = re.compile(r"\b(is|are|was|were|does|do|did|has|have|had|could|would|should|ca|wo)n't\b",
                         re.IGNORECASE)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*|\w+", text.lower()))


def _replace(text: str, start: int, end: int, new: str) -> tuple[str, Span]:
    return text[:start] + new + text[end:], (start, start + len(new))


def _cased(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _other_number(text: str, rng: random.Random) -> str | None:
    value = text.replace(",", "")
    try:
        number = float(value)
    except ValueError:
        return None
    changed = number * rng.choice([2, 3, 0.5]) + rng.choice([1, 7, 13])
    if "." in value:
        return f"{changed:.{len(value.split('.')[1])}f}"
    return f"{int(changed):,}" if "," in text else str(int(changed))


def _swap_number(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in augment.NUMBER.finditer(claim) if not _YEAR.fullmatch(m.group()) and m.group() in words
               and not _IN_NAME.search(claim[:m.start()])]
    options += [m for m in re.finditer(r"\b\w+\b", claim) if m.group().lower() in _NUMBER_WORDS
                and m.group().lower() in words]
    if not options:
        return None
    match = rng.choice(options)
    new = (_cased(_NUMBER_WORDS[match.group().lower()], match.group()) if match.group().lower() in _NUMBER_WORDS
           else _other_number(match.group(), rng))
    if not new or new.lower() in words or new == match.group():
        return None
    return _replace(claim, match.start(), match.end(), new)


def _swap_date(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in [*_MONTH.finditer(claim), *_YEAR.finditer(claim)] if m.group().lower() in words]
    if not options:
        return None
    match = rng.choice(options)
    if match.group().isdigit():
        new = str(int(match.group()) + rng.choice([-3, -2, -1, 1, 2, 5]))
    else:
        months = [month for month in MONTHS if month.lower() not in words]
        new = rng.choice(months) if months else match.group()
    if new.lower() in words:
        return None
    return _replace(claim, match.start(), match.end(), new)


def _entities(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of the runs of capitalised words, a leading "The" or "In" cut off;
    a single word that opens a sentence is a capitalised common word as often as a name, so it
    is left out."""
    found = []
    for match in _ENTITY.finditer(text):
        start, name = match.start(), match.group()
        while name.split()[0] in _NOT_ENTITIES and " " in name:
            cut = len(name.split()[0]) + 1
            start, name = start + cut, name[cut:].lstrip()
        if name.split()[0] in _NOT_ENTITIES:
            continue
        if " " in name or not re.search(r"(?:^|[.!?])\W*$", text[:start]):
            found.append((start, start + len(name), name))
    return found


def _swap_entity(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    """A name of the claim that the chunk also has, changed to a name from another sentence of
    the chunk: the chunk says who or where, and it is someone or somewhere else. Names listed
    in the claim, or next to the original in the same chunk sentence ("starring A and B"),
    are left alone: swapping them can keep the claim true."""
    options = [(start, end, name) for start, end, name in _entities(claim) if name in chunk
               and not _LISTED.search(claim[max(0, start - 5):start] + "|" + claim[end:end + 5])
               and not re.match(r"\s+\d", claim[end:])]  # "Fox 2000 Pictures": the name goes on
    if not options:
        return None
    start, end, name = rng.choice(options)
    own = set(name.lower().split())
    # A name of as many words is more often a name of the same kind (a place for a place).
    others = sorted({other for sentence in _SENTENCE_END.split(chunk) if name not in sentence
                     for _, _, other in _entities(sentence)
                     if len(other.split()) == len(own) and not own & set(other.lower().split())
                     and other not in claim})
    if not others:
        return None
    return _replace(claim, start, end, rng.choice(others))


def _swap_negation(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    """Adds "not" after the first auxiliary, or removes the claim's own "not"."""
    negated = _NOT_AFTER_AUXILIARY.search(claim)
    if negated:
        return _replace(claim, negated.start(), negated.end(), negated.group(1))
    contracted = _CONTRACTED.search(claim)
    if contracted:
        base = {"ca": "can", "wo": "will"}.get(contracted.group(1).lower(), contracted.group(1))
        return _replace(claim, contracted.start(), contracted.end(), _cased(base, contracted.group(1)))
    if augment.NEGATION.search(claim):
        return None
    auxiliary = augment.AUXILIARIES.search(claim)
    if not auxiliary:
        return None
    new, _ = _replace(claim, auxiliary.end(), auxiliary.end(), " not")
    return new, (auxiliary.end() + 1, auxiliary.end() + 4)


def _swap_quantity(claim: str, chunk: str, words: set[str], rng: random.Random) -> tuple[str, Span] | None:
    options = [m for m in re.finditer(r"\b\w+\b", claim) if m.group().lower() in _QUANTITY_SWAPS
               and _QUANTITY_SWAPS[m.group().lower()].split()[-1] not in words]
    if not options:
        return None
    match = rng.choice(options)
    return _replace(claim, match.start(), match.end(), _cased(_QUANTITY_SWAPS[match.group().lower()], match.group()))


SWAPS: dict[str, Callable[[str, str, set[str], random.Random], tuple[str, Span] | None]] = {
    "number": _swap_number, "date": _swap_date, "entity": _swap_entity, "negation": _swap_negation,
    "quantity": _swap_quantity,
}


def _swap_rule(gold: ClaimPair, rng: random.Random) -> ClaimPair | None:
    """One swap, of a kind drawn among those the claim allows -> contradicted. Negation fits
    almost every claim, so it is tried last and only half the time: "not" alone must not
    become the sign of a contradiction."""
    words = _tokens(gold.chunk)
    kinds = [kind for kind in SWAPS if kind != "negation"]
    rng.shuffle(kinds)
    if rng.random() < 0.5:
        kinds.append("negation")
    for kind in kinds:
        made = SWAPS[kind](gold.claim, gold.chunk, words, rng)
        if made and made[0] != gold.claim:
            return ClaimPair(made[0], gold.chunk, CONTRADICTED, gold.dataset, f"swap_{kind}", (made[1],))
    return None
