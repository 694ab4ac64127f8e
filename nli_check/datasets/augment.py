"""Embellishment-aware training pairs, made from entailed pairs.

The hardest case for the checker is a claim that restates its source and adds a little:
"tacitly endorsed" where the source says "allowed", "along its borders", "many of them
elderly". From an entailed (premise, hypothesis) pair we make

* neutral pairs, by adding to the hypothesis something the premise does not say: a
  modifier, a motive, a hedge, an attribution or a consequence;
* contradiction pairs, by flipping a number, a negation or a direction word.

Every edit is checked against the premise (the added words must be absent from it), so
the new label holds by construction rather than by hope.
"""

from __future__ import annotations

import random
import re

from nli_check.datasets.nli_pairs import Pair
from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL

ADVERBS = ["tacitly", "secretly", "quietly", "reluctantly", "deliberately", "repeatedly", "consistently",
           "openly", "quickly", "eventually", "unexpectedly", "strongly", "narrowly", "largely"]
ADJECTIVES = ["significant", "major", "controversial", "unprecedented", "advanced", "elderly", "local",
              "foreign", "senior", "wealthy", "young", "experienced", "famous", "private", "new"]
TAILS = [
    "along its borders", "for the first time in decades", "despite strong opposition",
    "amid growing concern", "to avoid further escalation", "in an effort to reduce costs",
    "which sparked widespread criticism", "raising fears of a wider conflict", "the strongest in decades",
    "many of them elderly", "after months of secret negotiations", "as part of a broader strategy",
    "under pressure from its allies", "to the surprise of analysts", "in response to public pressure",
    "which experts called a turning point", "at the request of the government", "for political reasons",
]
ATTRIBUTIONS = ["Experts say that", "Analysts believe that", "Critics argue that", "Officials fear that",
                "According to insiders,", "Many observers suspect that", "Some historians claim that"]
HEDGED_VERBS = {"is": "is widely seen as", "was": "was widely seen as", "are": "are widely seen as"}
AUXILIARIES = re.compile(r"\b(is|was|are|were|has|have|had|can|will|could|would|should|does|did)\b")
DIRECTION_SWAPS = {
    "increased": "decreased", "decreased": "increased", "increase": "decrease", "decrease": "increase",
    "rose": "fell", "fell": "rose", "more": "fewer", "fewer": "more", "higher": "lower", "lower": "higher",
    "larger": "smaller", "smaller": "larger", "before": "after", "after": "before", "allowed": "banned",
    "won": "lost", "lost": "won", "all": "none of the", "always": "never", "never": "always",
    "first": "last", "last": "first", "opened": "closed", "closed": "opened", "approved": "rejected",
    "supports": "opposes", "supported": "opposed", "rise": "fall", "high": "low", "low": "high",
}
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
NEGATION = re.compile(r"\b(not|no|never|n't|none|neither|nor|without)\b", re.IGNORECASE)


def _absent(words: str, premise: str) -> bool:
    lowered = premise.lower()
    return all(word.lower() not in lowered for word in re.findall(r"[A-Za-z]{4,}", words))


def _strip_end(text: str) -> tuple[str, str]:
    text = text.rstrip()
    return (text[:-1], text[-1]) if text and text[-1] in ".!?" else (text, ".")


def add_unsupported(pair: Pair, rng: random.Random) -> Pair | None:
    """Return a neutral pair whose hypothesis says more than the premise, or None."""
    hypothesis = pair.hypothesis.strip()
    words = hypothesis.split()
    kind = rng.choice(["adverb", "adjective", "tail", "attribution", "hedge"])
    new = None
    if kind == "adverb":
        match = AUXILIARIES.search(hypothesis)
        adverb = rng.choice(ADVERBS)
        if match and _absent(adverb, pair.premise):
            new = f"{hypothesis[:match.end()]} {adverb}{hypothesis[match.end():]}"
    elif kind == "adjective":
        articles = [i for i, word in enumerate(words[:-1]) if word.lower() in {"a", "the", "an"}]
        adjective = rng.choice(ADJECTIVES)
        if articles and _absent(adjective, pair.premise + " " + hypothesis):
            i = rng.choice(articles)
            article = "an" if words[i].lower() in {"a", "an"} and adjective[0] in "aeiou" else (
                "a" if words[i].lower() == "an" else words[i])
            new = " ".join(words[:i] + [article, adjective] + words[i + 1:])
    elif kind == "tail":
        tail = rng.choice(TAILS)
        if _absent(tail, pair.premise):
            body, end = _strip_end(hypothesis)
            new = f"{body}, {tail}{end}"
    elif kind == "attribution":
        lead = rng.choice(ATTRIBUTIONS)
        if _absent(lead, pair.premise) and len(hypothesis) > 1:
            first, rest = hypothesis.split(" ", 1) if " " in hypothesis else (hypothesis, "")
            # Lower-case only a plain sentence opener, never a name.
            first = first.lower() if first in {"A", "An", "The", "It", "He", "She", "They", "This", "There"} else first
            new = f"{lead} {first} {rest}".rstrip()
    else:
        for verb, hedged in HEDGED_VERBS.items():
            pattern = re.compile(rf"\b{verb}\b")
            if pattern.search(hypothesis) and _absent("widely seen", pair.premise):
                new = pattern.sub(hedged, hypothesis, count=1)
                break
    if new is None or new == hypothesis:
        return None
    return Pair(pair.premise, new, NEUTRAL, f"{pair.dataset}+embellish")


def flip(pair: Pair, rng: random.Random) -> Pair | None:
    """Return a contradiction pair (changed number, negation or direction), or None."""
    hypothesis = pair.hypothesis.strip()
    numbers = [m for m in NUMBER.finditer(hypothesis) if m.group() in pair.premise]
    if numbers and rng.random() < 0.6:
        match = rng.choice(numbers)
        value = match.group().replace(",", "")
        try:
            number = float(value)
        except ValueError:
            return None
        changed = number * rng.choice([2, 3, 0.5]) + rng.choice([1, 7, 13]) if number < 1900 or number > 2100 \
            else number + rng.choice([-3, -2, 2, 5])
        text = str(int(changed)) if float(changed).is_integer() or "." not in value else f"{changed:.1f}"
        if text == match.group() or text in pair.premise:
            return None
        new = hypothesis[:match.start()] + text + hypothesis[match.end():]
        return Pair(pair.premise, new, CONTRADICTION, f"{pair.dataset}+flip")
    swaps = [m for m in re.finditer(r"\b\w+\b", hypothesis) if m.group().lower() in DIRECTION_SWAPS]
    if swaps and rng.random() < 0.5:
        match = rng.choice(swaps)
        replacement = DIRECTION_SWAPS[match.group().lower()]
        if replacement in pair.premise.lower().split():
            return None
        new = hypothesis[:match.start()] + replacement + hypothesis[match.end():]
        return Pair(pair.premise, new, CONTRADICTION, f"{pair.dataset}+flip")
    match = AUXILIARIES.search(hypothesis)
    if match and not NEGATION.search(hypothesis) and not NEGATION.search(pair.premise):
        new = f"{hypothesis[:match.end()]} not{hypothesis[match.end():]}"
        return Pair(pair.premise, new, CONTRADICTION, f"{pair.dataset}+flip")
    return None


def augment(pairs: list[Pair], *, n_neutral: int, n_contradiction: int, seed: int) -> list[Pair]:
    """Make up to ``n_neutral`` embellished and ``n_contradiction`` flipped pairs from the
    entailed pairs in ``pairs``."""
    rng = random.Random(seed)
    entailed = [pair for pair in pairs if pair.label == ENTAILMENT and len(pair.hypothesis.split()) >= 4]
    rng.shuffle(entailed)
    made: list[Pair] = []
    neutral = contradiction = 0
    for pair in entailed:
        if neutral < n_neutral:
            new = add_unsupported(pair, rng)
            if new:
                made.append(new)
                neutral += 1
        if contradiction < n_contradiction:
            new = flip(pair, rng)
            if new:
                made.append(new)
                contradiction += 1
        if neutral >= n_neutral and contradiction >= n_contradiction:
            break
    return made
