"""``slot-swaps-dev``: contradictions made by rule from gold-supported claims.

Why: the mission's dev sets hold few contradicted claims, and the ones they hold mix
every kind of error, so a drop in contradiction recall cannot be traced to a cause. This
set takes claims that annotators judged *supported* by their own source and changes one
slot of each, so that the source now says otherwise:

* ``number``: a number (digits with an optional currency sign, ``%``, ``percent``,
  ``million`` ...) multiplied or divided by 2-5 in its own format (``14%`` -> ``42%``,
  ``2.5 million`` -> ``7.5 million``). Bounds move the way that breaks them (``more than
  10`` -> ``more than 30``, ``less than 10`` -> ``less than 5``); percentages stay <= 100;
  0 and 1 are left alone (``1 dose`` -> ``3 dose`` would be ungrammatical); the new value
  occurs nowhere in the claim or the source. Years are the ``date`` kind.
* ``date``: a year shifted by 1-9 years, or a month name replaced by another, the new
  value occurring nowhere in the claim or the source.
* ``name``: a capitalised entity (not sentence-initial, not a common word, present in the
  source) replaced by another entity of the same source with the same shape (as many
  words; acronym for acronym) and the same neighbouring words (``in Paris,`` for ``in
  London,``), the most frequent first. Entities of other examples' sources are not used:
  the source is silent on them (unsupported, not contradicted) and such swaps read as
  nonsense. The COVID-19 family of names is never swapped: its members are synonyms.
* ``negation``: ``is``/``was``/``can``/``has been``/``does``/``will`` ... gain a ``not``
  (``can`` -> ``cannot``), a lexicon main verb is negated (``increased`` -> ``did not
  increase``, ``causes`` -> ``does not cause``), or an existing negation is removed
  (``is not`` -> ``is``, ``does not cause`` -> ``causes``, ``no`` -> ``some``, ``no
  longer`` -> ``still``). Claims with two negations, questions, verbs in relative
  clauses (``patients who were``) and ``may``/``might``/``could`` (whose negation does not
  contradict) are skipped.
* ``degree``: one word of a lexicon of opposites flipped, case and inflection kept
  (``increased`` -> ``decreased``, ``higher`` -> ``lower``, ``more`` -> ``less``,
  ``effective`` -> ``ineffective``, ``significantly`` -> ``not significantly`` ...), with
  ``a``/``an`` fixed in front of it.

Every original that admits at least one edit is kept, labelled SUPPORTED, followed by its
one edited copy, labelled CONTRADICTED: the set is balanced, and it measures false
contradictions on the very claims whose edits it asks the checker to catch. An original
gets the kind used least so far among the kinds it admits (ties in :data:`KINDS` order),
so rare kinds (numbers, dates) go to every claim that has one. At most
:data:`PER_SET` originals come from each set, the first by SHA-256 of their id among
those that admit an edit. Ids are ``<set>/<id>/original`` and ``<set>/<id>/<kind>``; the
``gold_spans`` of a swapped claim cover the words that replaced the original's (an
original's are empty), so ``--spans`` scores whether the checker points at them.

Everything is a pure function of the data: no randomness, no dict or set order, no
``hash()``; two loads give the same set, byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nli_check.datasets.examples import EvalSet, Example
from nli_check.labels import CONTRADICTED, SUPPORTED, VERDICTS

NAME = "slot-swaps-dev"
KINDS = ("number", "date", "name", "negation", "degree")
# The supported claims of these dev sets, each against the source documents it came with.
SETS = ("check-covid-dev", "healthver-dev", "citation-integrity-dev", "scifact-dev", "wice-dev")
PER_SET = 120


@dataclass(frozen=True)
class Swap:
    """One edit: ``claim`` is the edited claim, ``old`` the words taken out of the original,
    ``new`` the words put in, found at ``span`` of ``claim``."""

    kind: str
    claim: str
    old: str
    new: str
    span: tuple[int, int]


def _edit(kind: str, claim: str, start: int, end: int, new: str) -> Swap:
    """Replace ``claim[start:end]`` by ``new``, fixing a preceding ``a``/``an``."""
    before = claim[:start]
    article = re.search(r"\b([Aa])(n?)(\s+)$", before)
    if article and new:
        wants_n = _vowel_sound(new)
        if wants_n != bool(article.group(2)):
            before = before[:article.start()] + article.group(1) + ("n" if wants_n else "") + article.group(3)
    edited = before + new + claim[end:]
    return Swap(kind, edited, claim[start:end], new, (len(before), len(before) + len(new)))


def _vowel_sound(word: str) -> bool:
    """Whether ``word`` takes "an": by its spelling, and for numbers by how they are read
    ("an 8", "an 11", "a 25")."""
    lower = word.lower()
    if lower[:1].isdigit():
        return bool(re.match(r"8|1[18](?![\d.]?\d)|1[18][,.]", lower))
    if lower.startswith(("uni", "use", "usu", "eu", "one")):
        return False
    return lower[:1] in "aeiou" or lower.startswith(("hour", "honest"))


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _sentence_initial(text: str, start: int) -> bool:
    """Whether ``start`` opens a sentence, the text, a quotation or a parenthesis: capitals
    there are no evidence of a name (and quoted titles, parenthesised acronyms swap badly)."""
    before = text[max(0, start - 12):start]  # a window: sources are long, and this runs per capital
    if not before.strip() and start == len(before):
        return True
    return bool(_OPENS.search(before))


_OPENS = re.compile(r"(?:[.!?:;]\s+|\n\s*|[\"“‘(\[]\s*)$")


def _words(text: str) -> list[re.Match]:
    return list(re.finditer(r"[A-Za-z][A-Za-z'’-]*", text))


# --- numbers ------------------------------------------------------------------------

_DASHES = re.escape("-‐‑‒–—−")  # escaped: it goes inside character classes
_NUMBER = re.compile(
    rf"(?<![\w.,/\[^#{_DASHES}])"
    r"(?P<cur>[$€£]\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>\s?%|\s(?:percent|per cent|million|billion|thousand|trillion)\b)?"
    rf"(?![\w\]{_DASHES}]|[.,/:]\d)")
_ANY_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_LOWER_BOUND = re.compile(r"\b(?:more than|over|above|at least|greater than|exceeding|exceeds|exceeded|nearly|"
                          r"almost|up from)\s+$", re.I)
_UPPER_BOUND = re.compile(r"\b(?:less than|fewer than|under|below|at most|up to|no more than|lower than|"
                          r"down to|within)\s+$", re.I)
# Numbers that label rather than count: "Table 2", "part 2", "COVID 19", "factor 21", "type 1".
_NOT_A_QUANTITY = re.compile(r"\b(?:table|tables|fig|figure|figures|supplementary|section|chapter|ref|refs|"
                             r"reference|page|pages|part|no|number|grade|stage|type|phase|season|episode|"
                             r"volume|vol|issue|article|route|highway|channel|level|class|version|covid|disease|"
                             r"factor|protein|receptor|chromosome|gene|complex|domain|subunit|isoform|"
                             r"interleukin|il|cd|p|n|r|or|hr|rr|ci)\.?\s*[=:]?\s*$", re.I)
# A range ("4% to 38%", "2–5 days", "between 10 and 20") or a compound ("8.6 × 10", "5 0-UTRs"):
# one end moved alone can make an empty range rather than a contradiction.
_RANGE_AFTER = re.compile(rf"\s*%?\s*(?:[{_DASHES}]|to\b|and\b|or\b|×|x\b)\s*[$€£]?\d|\s+\d")
_RANGE_BEFORE = re.compile(rf"\d\s*%?\s*(?:[{_DASHES}]|to|and|or|×|x)?\s*$|[×^]\s*$")
# A four-digit number in this range is a year unless a count noun follows it.
_YEAR_RANGE = (1000, 2030)
_COUNT_AFTER = re.compile(r"\s+(?!was\b|is\b|as\b|has\b|this\b|its\b|his\b|thus\b|plus\b)[a-z]+s\b")


def _value(text: str) -> float:
    return round(float(text.replace(",", "")), 6)


def _numbers_in(text: str) -> set[float]:
    return {_value(m.group()) for m in _ANY_NUMBER.finditer(text) if m.group()[-1:].isdigit()}


def _is_year(claim: str, match: re.Match) -> bool:
    raw = match.group("num")
    if match.group("cur") or match.group("unit") or not re.fullmatch(r"\d{4}", raw):
        return False
    return _YEAR_RANGE[0] <= int(raw) <= _YEAR_RANGE[1] and not _COUNT_AFTER.match(claim, match.end())


def _beside_month(before: str, after: str) -> bool:
    """A day of a date ("May 7, 2018", "18 October"): dates are not this kind's numbers."""
    return bool(re.search(r"\b(?:" + "|".join(MONTHS) + r")\.?\s*$", before)
                or re.match(r"\s*(?:" + "|".join(MONTHS) + r")\b", after))


def _format(value: float, like: str) -> str:
    decimals = len(like.split(".")[1]) if "." in like else 0
    return f"{value:,.{decimals}f}" if "," in like else f"{value:.{decimals}f}"


def number_swap(claim: str, source: str) -> Swap | None:
    """The first number of ``claim`` that can move to a clearly different value absent from
    ``source``, moved (x3, x2, x4, x5, else /2 .. /5): a new value must contradict, not
    merely differ, so bounds move past themselves and percentages stay under 100."""
    taken = _numbers_in(source) | _numbers_in(claim)
    for match in _NUMBER.finditer(claim):
        before, after = claim[:match.start()], claim[match.end():]
        if (_is_year(claim, match) or _NOT_A_QUANTITY.search(before) or _RANGE_AFTER.match(after)
                or _RANGE_BEFORE.search(before) or (before.endswith("(") and after.startswith(")"))
                or _beside_month(before, after) or re.match(r"\s*%?\s*CI\b", after)):
            continue
        raw = match.group("num")
        value = _value(raw)
        if value in (0.0, 1.0):
            continue
        unit = match.group("unit") or ""
        percent = "%" in unit or "cent" in unit
        up = [value * f for f in (3, 2, 4, 5)]
        down = [value / f for f in (2, 3, 4, 5)]
        if _LOWER_BOUND.search(before):
            order = up
        elif _UPPER_BOUND.search(before):
            order = down
        else:
            order = up + down
        for candidate in order:
            text = _format(candidate, raw)
            new = _value(text)
            if new in taken or new <= 0 or (percent and new > 100) or ("." not in raw and new < 2):
                continue
            if max(new, value) / min(new, value) < 1.5:  # rounding ate the change
                continue
            start = match.start("num")
            return _edit("number", claim, start, match.end("num"), text)
    return None


# --- dates --------------------------------------------------------------------------

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\b")
# "(Kim et al., 2017)", "(Daly and Robinson, 2020)": the year of a citation, not of an event.
_CITATION_YEAR = re.compile(r"\bet al\.?,?\s*$|\([^()]*[A-Z][a-z]+,\s*$")
_YEAR_SHIFTS = (-3, 2, -5, 4, -2, 3, -7, 6, -4, 5, -1, 1, -6, 7, -8, 8, -9, 9)
_MONTH_SHIFTS = (6, 4, 8, 3, 9, 5, 7, 2, 10, 1, 11)
# "May" is also a verb: a month only beside a number or after a word that takes dates.
_MAY_CONTEXT = re.compile(r"(?:\b(?:in|of|since|until|by|from|early|late|mid|last|next|between|during|and|or|"
                          r"on|to|through|before|after)\s+|-)$", re.I)


def date_swap(claim: str, source: str) -> Swap | None:
    """The first year (shifted by 1-9 years) or month name (replaced) of ``claim`` whose
    new value occurs nowhere in the claim or the source."""
    slots = []
    for match in _NUMBER.finditer(claim):
        if _is_year(claim, match) and not _CITATION_YEAR.search(claim[:match.start()]):
            slots.append((match.start("num"), match.end("num"), "year"))
    for match in _MONTH.finditer(claim):
        if _sentence_initial(claim, match.start()):
            continue
        if match.group() == "May" and not (_MAY_CONTEXT.search(claim[:match.start()])
                                           or re.match(r"\s+\d", claim[match.end():])):
            continue
        slots.append((match.start(), match.end(), "month"))
    for start, end, slot in sorted(slots):
        old = claim[start:end]
        if slot == "year":
            present = set(re.findall(r"(?<!\d)\d{4}(?!\d)", source + " " + claim))
            for shift in _YEAR_SHIFTS:
                new = str(int(old) + shift)
                if new not in present and int(new) <= 2024:
                    return _edit("date", claim, start, end, new)
        else:
            index = MONTHS.index(old)
            for shift in _MONTH_SHIFTS:
                new = MONTHS[(index + shift) % 12]
                if not re.search(rf"\b{new}\b", source + " " + claim):
                    return _edit("date", claim, start, end, new)
    return None


# --- names --------------------------------------------------------------------------

# Capitalised words that are no evidence of a name: function words and sentence openers.
COMMON = frozenset("""
a an the this that these those there here it its it's he she they we i you his her their our my your
in on at of for to from by with without about into over under after before during since until within
among between through across against per via as and or but nor so yet if when while where whether
although though because however moreover furthermore also thus therefore hence then than both either
neither each every all any some no not most many much more less few several other another such same
yes is are was were be been has have had do does did can could may might must will would should
us who what which how why one two three new first second third last next early late
table tables fig figure figures supplementary appendix section chapter et al vs
study studies patients group groups results result methods method conclusion conclusions background
data analysis objective objectives aim aims purpose introduction discussion findings design setting
overall total mean median covid ci hr rr dr mr mrs ms st
monday tuesday wednesday thursday friday saturday sunday
""".split())
_COVID_FAMILY = re.compile(r"covid|sars|cov\b|cov-|coronavirus|ncov", re.I)
_CAP = r"(?:[A-Z]\.){2,}|[A-Z][A-Za-z0-9&-]*[A-Za-z0-9]"
_RUN = re.compile(rf"(?<![\w&-])(?:{_CAP})(?:(?:\s+(?:of|de|van|von|der|du|la|del|da)\s+|\s+)(?:{_CAP}))*(?![\w&-])")
# Neighbours that say nothing about what a name names.
_BLAND = frozenset({"", "the", "a", "an", "and", "or", "s"})


@dataclass(frozen=True)
class _Entity:
    text: str
    start: int
    context: frozenset[tuple[str, str]]  # ("before"/"after", lowercased neighbouring word)
    in_prose: bool  # a lowercase word comes just before it: running text, not a menu or heading

    @property
    def shape(self) -> tuple[str, ...]:
        return _shape(self.text)


def _shape(text: str) -> tuple[str, ...]:
    """Per word: ``A`` for an acronym-like word (two capitals or a digit), ``D`` for a
    nationality-like word, ``T`` for another capitalised word, ``c`` for a lowercase connector."""
    return tuple("c" if word.islower() else "A" if sum(ch.isupper() for ch in word) > 1 or
                 any(ch.isdigit() for ch in word) else "D" if word.endswith(_DEMONYM) else "T"
                 for word in text.split())


# Endings of nationality words ("Romanian", "Chinese", "British", "Mexican"): not names of a place.
_DEMONYM = ("ian", "ese", "ish", "ean", "can", "ians", "eans", "cans")


def _context(text: str, start: int, end: int) -> frozenset[tuple[str, str]]:
    before = re.search(r"([A-Za-z]+)[^\w.;:!?\n]*$", text[max(0, start - 40):start])
    after = re.match(r"[^\w.;:!?\n]*([A-Za-z]+)", text[end:end + 40])
    pairs = {("before", before.group(1).lower()) if before else ("before", ""),
             ("after", after.group(1).lower()) if after else ("after", "")}
    return frozenset(pair for pair in pairs if pair[1] not in _BLAND)


def _lowercase_words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"(?<![\w-])[a-z]+(?![\w-])", text))


def entities(text: str) -> list[_Entity]:
    """Capitalised runs of ``text`` that are likely names, in order: not sentence-initial,
    common leading words stripped, no months, no COVID-19 synonyms, no capitalised common
    words (a word the text also writes in lower case: "Screening", "Number")."""
    found = []
    lowercase = _lowercase_words(text)
    for match in _RUN.finditer(text):
        words = [(w.start(), w.group()) for w in re.finditer(r"\S+", match.group())]
        while words and (words[0][1].lower().strip(".") in COMMON or words[0][1] in MONTHS):
            words.pop(0)
        while words and (words[-1][1].lower().strip(".") in COMMON or words[-1][1] in MONTHS):
            words.pop()
        if not words or words[0][1].islower() or words[-1][1].islower():
            continue
        start = match.start() + words[0][0]
        end = match.start() + words[-1][0] + len(words[-1][1])
        name = text[start:end]
        capitalised = [w for _, w in words if not w.islower()]
        if (_sentence_initial(text, start) or len(name) < 2 or any(w in MONTHS for _, w in words)
                or _COVID_FAMILY.search(name) or not re.search(r"[a-z]{2}|[A-Z]{2}", name)
                or any(len(w) > 20 or (w.isalpha() and w.isupper() and len(w) > 4) for w in capitalised)
                or 2 * sum(w.lower() in lowercase or w.lower() in COMMON for w in capitalised) >= len(capitalised)):
            continue
        in_prose = bool(re.search(r"\b[a-z]+,?[ \t]+$", text[max(0, start - 40):start]))
        found.append(_Entity(name, start, _context(text, start, end), in_prose))
    return found


def _initials(text: str) -> str:
    return "".join(word[0] for word in re.findall(r"[A-Za-z][\w-]*", text) if word[0].isupper())


def _related(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` may name the same thing: a shared word, or one the other's
    acronym (``US`` / ``United States``)."""
    words_a = {w.lower() for w in re.findall(r"\w+", a)} - COMMON
    words_b = {w.lower() for w in re.findall(r"\w+", b)} - COMMON
    if words_a & words_b or a.lower() in b.lower() or b.lower() in a.lower():
        return True
    letters_a, letters_b = a.replace(".", ""), b.replace(".", "")
    return letters_a == _initials(b) or letters_b == _initials(a)


@dataclass(frozen=True)
class NameCandidate:
    """A distinct entity of a source: how often and where first it occurs, and every
    neighbouring word it has there."""

    text: str
    count: int
    first: int
    context: frozenset[tuple[str, str]]
    in_prose: bool


def name_candidates(source: str) -> list[NameCandidate]:
    """The source's distinct entities, by first position."""
    table: dict[str, list] = {}
    for entity in entities(source):
        row = table.setdefault(entity.text, [0, entity.start, set(), False])
        row[0] += 1
        row[2].update(entity.context)
        row[3] = row[3] or entity.in_prose
    return [NameCandidate(text, count, first, frozenset(context), prose)
            for text, (count, first, context, prose) in table.items()]


def _kinship(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> int:
    """How much two entities' neighbours say they are of one type: 2 per shared content
    word ("protein SAMHD1", "Duke of"), 1 per shared function word ("in", "was")."""
    return sum(1 if word in COMMON else 2 for _, word in a & b)


def name_swap(claim: str, source: str) -> Swap | None:
    """The first entity of ``claim`` that ``source`` mentions, replaced by another entity of
    the same shape whose neighbouring words (in the claim or the source) match its own, a
    cheap stand-in for its type (one shared content word, "protein SAMHD1" / "protein A3A",
    or two function words, "in London," / "in Paris,"), the most frequent first.

    Only the source's own entities: one from another example's document leaves a claim the
    source is silent on (unsupported, not contradicted), and of the first such swaps looked
    at, none read as sense ("On 12 July, Beaufort announced", "88% of Jackson")."""
    candidates = name_candidates(source)
    by_text = {candidate.text: candidate for candidate in candidates}
    claim_entities = entities(claim)
    lowered_claim = claim.lower()
    for entity in claim_entities:
        if entity.text not in by_text:
            continue
        context = entity.context | by_text[entity.text].context

        def fits(candidate: NameCandidate) -> bool:
            return (candidate.in_prose and _shape(candidate.text) == entity.shape
                    and _kinship(candidate.context, context) >= 2
                    and candidate.text.lower() not in lowered_claim
                    and not any(_related(candidate.text, e.text) for e in claim_entities))

        ranked = sorted((c for c in candidates if fits(c)), key=lambda c: (-c.count, c.first))
        if ranked:
            return _edit("name", claim, entity.start, entity.start + len(entity.text), ranked[0].text)
    return None


# --- negation -----------------------------------------------------------------------

_AUX_INSERT = ("is", "are", "was", "were", "will", "would", "should", "can", "has", "have", "had", "does", "do",
               "did")
_AUX_REMOVE = ("is", "are", "was", "were", "will", "would", "should", "could", "can", "has", "have", "had")
_CONTRACTED = {"isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "hasn't": "has",
               "haven't": "have", "hadn't": "had", "can't": "can", "won't": "will", "wouldn't": "would",
               "shouldn't": "should", "couldn't": "could", "doesn't": "does", "don't": "do", "didn't": "did"}
_PARTICIPLES = frozenset("""been found made led had done got become come gone seen shown taken given left won lost
met set put held kept brought thought spread known grown drawn begun run written chosen""".split())
# Main verbs negated without an auxiliary: base -> (third person singular, past).
_VERBS = {
    "cause": ("causes", "caused"), "reduce": ("reduces", "reduced"), "increase": ("increases", "increased"),
    "decrease": ("decreases", "decreased"), "improve": ("improves", "improved"), "prevent": ("prevents", "prevented"),
    "protect": ("protects", "protected"), "help": ("helps", "helped"), "lead": ("leads", "led"),
    "show": ("shows", "showed"), "find": ("finds", "found"), "kill": ("kills", "killed"),
    "affect": ("affects", "affected"), "work": ("works", "worked"), "lower": ("lowers", "lowered"),
    "raise": ("raises", "raised"), "boost": ("boosts", "boosted"), "contain": ("contains", "contained"),
    "require": ("requires", "required"), "need": ("needs", "needed"), "produce": ("produces", "produced"),
    "induce": ("induces", "induced"), "inhibit": ("inhibits", "inhibited"), "block": ("blocks", "blocked"),
    "bind": ("binds", "bound"), "promote": ("promotes", "promoted"), "trigger": ("triggers", "triggered"),
    "suppress": ("suppresses", "suppressed"), "enhance": ("enhances", "enhanced"),
    "regulate": ("regulates", "regulated"), "mediate": ("mediates", "mediated"),
    "activate": ("activates", "activated"), "limit": ("limits", "limited"), "slow": ("slows", "slowed"),
    "stop": ("stops", "stopped"), "make": ("makes", "made"), "die": ("dies", "died"), "win": ("wins", "won"),
    "release": ("releases", "released"), "join": ("joins", "joined"), "marry": ("marries", "married"),
    "become": ("becomes", "became"), "play": ("plays", "played"), "live": ("lives", "lived"),
    "receive": ("receives", "received"), "return": ("returns", "returned"), "appear": ("appears", "appeared"),
    "serve": ("serves", "served"), "remain": ("remains", "remained"), "begin": ("begins", "began"),
    "start": ("starts", "started"), "leave": ("leaves", "left"), "spread": ("spreads", "spread"),
    "survive": ("survives", "survived"), "transmit": ("transmits", "transmitted"), "infect": ("infects", "infected"),
    "carry": ("carries", "carried"), "depend": ("depends", "depended"), "exist": ("exists", "existed"),
    "occur": ("occurs", "occurred"), "develop": ("develops", "developed"), "attend": ("attends", "attended"),
    "graduate": ("graduates", "graduated"), "found": ("founds", "founded"), "sign": ("signs", "signed"),
    "record": ("records", "recorded"), "publish": ("publishes", "published"), "create": ("creates", "created"),
    "support": ("supports", "supported"), "report": ("reports", "reported"), "demonstrate": ("demonstrates",
                                                                                             "demonstrated"),
    "predict": ("predicts", "predicted"), "correlate": ("correlates", "correlated"),
    "associate": ("associates", "associated"), "result": ("results", "resulted"), "confer": ("confers", "conferred"),
}
_FORMS = {form: (base, "does" if form == third else "did")
          for base, (third, past) in sorted(_VERBS.items()) for form in (third, past)}
# Words before which a verb form is a noun or adjective ("an increased risk", "with reduced").
_NOT_BEFORE_VERB = frozenset("""a an the this that these those its their his her our my your with of in on at for
to from by and or as than more less most least no any some such both be been being is are was were has have had
who which not also newly""".split())
_PARTICIPLE_FOLLOWERS = frozenset("by in of to from with for at on as".split())
_ADJECTIVE_ENDINGS = ("ing", "ive", "ous", "ful", "al", "ic", "ary", "ed", "ent", "ant", "ble")
_CLAUSE_OPENERS = frozenset("who which that where when whether if because while although whose".split())
_NEGATIONS = re.compile(r"\b(?:not|no|never|cannot|none|nothing|neither|nor|\w+n[’']t)\b", re.I)


def _third_person(verb: str) -> str:
    if verb in _VERBS:
        return _VERBS[verb][0]
    if verb in ("have", "do", "go", "be"):
        return {"have": "has", "do": "does", "go": "goes", "be": "is"}[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def negation_swap(claim: str) -> Swap | None:
    """Remove the claim's one negation, or negate its first finite verb outside a relative
    clause; None where that is ambiguous."""
    if "?" in claim or re.search(r"\bmay\b|\bmight\b", claim, re.I):
        return None
    negations = _NEGATIONS.findall(claim)
    if len(negations) > 1:
        return None
    if negations:
        return _remove_negation(claim)
    words = _words(claim)
    for index, word in enumerate(words):
        lower = word.group().lower()
        previous = words[index - 1].group().lower() if index else ""
        following = words[index + 1].group() if index + 1 < len(words) else ""
        gap = claim[word.end():words[index + 1].start()] if following else ""
        if previous in _CLAUSE_OPENERS or not following or gap.strip():
            continue  # a relative clause, the claim's end, or punctuation after the verb
        if lower in _AUX_INSERT and word.group().islower():
            if lower in ("has", "have", "had") and not (following in _PARTICIPLES or following.endswith(("ed", "en"))):
                continue
            if lower in ("does", "do", "did") and (not following.islower() or following.endswith(("ly", "ing"))):
                continue
            if lower == "can":
                return _edit("negation", claim, word.start(), word.end(), "cannot")
            return _edit("negation", claim, word.start(), word.end(), word.group() + " not")
        if lower in _FORMS and word.group().islower() and previous not in _NOT_BEFORE_VERB and index > 0:
            past = _FORMS[lower][1] == "did"
            if past and following.lower() in _PARTICIPLE_FOLLOWERS or not past and following[:1].isupper():
                continue  # "caused by", "made in" (participles), "increases Vitamin" (a noun)
            if lower.endswith("s") and (not _plausible_singular_subject(claim, word.start())
                                        or previous.endswith(_ADJECTIVE_ENDINGS)):
                continue  # "promising results": a noun after an adjective
            base, aux = _FORMS[lower]
            return _edit("negation", claim, word.start(), word.end(), f"{aux} not {base}")
    return None


def _plausible_singular_subject(claim: str, start: int) -> bool:
    """A third-person ``-s`` verb form after a plural noun is a noun itself ("the virus
    infections")."""
    previous = re.search(r"(\w+)\W*$", claim[:start])
    return bool(previous) and not (previous.group(1).endswith("s") and not previous.group(1).endswith(("ss", "us",
                                                                                                          "is")))


def _remove_negation(claim: str) -> Swap | None:
    match = re.search(r"\b(" + "|".join(_AUX_REMOVE) + r"|does|do|did)\s+not\s+(\w+)", claim, re.I)
    if match:
        aux, verb = match.group(1), match.group(2)
        if aux.lower() in _AUX_REMOVE:
            return _drop_not(claim, match)
        return _positive_verb(claim, match.start(), match.end(), aux, verb)
    match = re.search(r"\bcannot\b", claim, re.I)
    if match:
        return _edit("negation", claim, match.start(), match.end(), _match_case(match.group(), "can"))
    match = re.search(r"\b(\w+n)[’']t\b(?:\s+(\w+))?", claim, re.I)
    if match:
        word = match.group().split()[0].lower().replace("’", "'")
        aux = _CONTRACTED.get(word)
        if aux is None:
            return None
        if aux in ("does", "do", "did"):
            if not match.group(2):
                return None
            return _positive_verb(claim, match.start(), match.end(), _match_case(match.group(1), aux), match.group(2))
        end = match.start() + len(match.group().split()[0])
        return _edit("negation", claim, match.start(), end, _match_case(match.group(1), aux))
    match = re.search(r"\bno\s+longer\b", claim, re.I)
    if match:
        return _edit("negation", claim, match.start(), match.end(), _match_case(match.group(), "still"))
    match = re.search(r"\bno\s+one\b", claim, re.I)
    if match:
        return _edit("negation", claim, match.start(), match.end(), _match_case(match.group(), "someone"))
    match = re.search(r"\bno\b(?=\s+[a-z])", claim, re.I)
    if match and not re.match(r"\s*,", claim[match.end():]):
        if re.search(r"\b(?:than|or|and)\s+$", claim[:match.start()], re.I):
            return None  # "no more than", "with or without" constructions are not negations of a verb
        return _edit("negation", claim, match.start(), match.end(), _match_case(match.group(), "some"))
    return None


def _positive_verb(claim: str, start: int, end: int, aux: str, verb: str) -> Swap | None:
    """``does not cause`` -> ``causes``, ``do not cause`` -> ``cause``, ``did not cause`` ->
    ``caused`` (lexicon verbs only: irregular pasts are not guessed)."""
    if not verb.islower() or verb.endswith(("ly", "ing", "ed")) or (verb.endswith("s") and not verb.endswith("ss")):
        return None  # not a bare verb: "do not symptoms", "does not necessarily"
    kind = aux.lower()
    if kind == "does":
        new = _third_person(verb)
    elif kind == "do":
        new = verb
    elif verb in _VERBS:
        new = _VERBS[verb][1]
    else:
        return None
    return _edit("negation", claim, start, end, _match_case(aux, new))


def _drop_not(claim: str, match: re.Match) -> Swap:
    """``is not`` -> ``is``: the auxiliary stays (it is the span), ``not`` and its space go."""
    start, aux = match.start(1), match.group(1)
    edited = claim[:start] + aux + " " + claim[match.start(2):]
    return Swap("negation", edited, claim[start:match.start(2)].rstrip(), aux, (start, start + len(aux)))


# --- degree -------------------------------------------------------------------------

# word -> its opposite, every inflection spelled out (whole words, lowercase).
_OPPOSITES_BOTH_WAYS = (
    ("increase", "decrease"), ("increases", "decreases"), ("increased", "decreased"), ("increasing", "decreasing"),
    ("higher", "lower"), ("highest", "lowest"), ("more", "less"), ("rise", "fall"), ("rises", "falls"),
    ("rose", "fell"), ("risen", "fallen"), ("rising", "falling"), ("permanent", "temporary"),
    ("permanently", "temporarily"), ("effective", "ineffective"), ("safe", "unsafe"), ("likely", "unlikely"),
    ("positive", "negative"), ("positively", "negatively"), ("always", "rarely"), ("never", "often"),
    ("better", "worse"), ("improve", "worsen"), ("improves", "worsens"), ("improved", "worsened"),
    ("improving", "worsening"), ("larger", "smaller"), ("largest", "smallest"), ("greater", "smaller"),
    ("stronger", "weaker"), ("strongly", "weakly"), ("strong", "weak"), ("longer", "shorter"),
    ("older", "younger"), ("earlier", "later"), ("maximum", "minimum"), ("common", "rare"),
    ("commonly", "rarely"), ("frequently", "rarely"), ("able", "unable"), ("possible", "impossible"),
    ("sufficient", "insufficient"), ("adequate", "inadequate"), ("beneficial", "harmful"), ("mild", "severe"),
    ("accurate", "inaccurate"), ("high", "low"), ("large", "small"), ("early", "late"),
)
_OPPOSITES_ONE_WAY = (
    ("reduce", "increase"), ("reduces", "increases"), ("reduced", "increased"), ("reducing", "increasing"),
    ("reduction", "increase"), ("reductions", "increases"), ("fewer", "more"), ("all", "few"), ("every", "no"),
    ("significantly", "not significantly"), ("significant", "insignificant"), ("insignificant", "significant"),
    ("nonsignificant", "significant"), ("lowered", "raised"), ("lowers", "raises"), ("raised", "lowered"),
    ("usually", "rarely"), ("seldom", "often"),
)
OPPOSITES = {**{a: b for a, b in _OPPOSITES_BOTH_WAYS}, **{b: a for a, b in _OPPOSITES_BOTH_WAYS},
             **dict(_OPPOSITES_ONE_WAY)}
_DEGREE = re.compile(r"(?<![\w-])(?:not\s+significant(?:ly)?|non-significant(?:ly)?|"
                     + "|".join(sorted(map(re.escape, OPPOSITES), key=lambda w: (-len(w), w))) + r")(?![\w-])",
                     re.I)
# Words whose match is an idiom or another part of speech after these ("at all", "no more",
# "to lower", "a few", "more or less").
_SKIP_AFTER = {
    "all": ("at", "above", "after", "of", "nearly", "almost", "not", "virtually", "in", "for", "once", "and", "by"),
    "more": ("no", "any", "once", "even", "much", "or", "the", "all"),
    "less": ("no", "any", "or", "much", "the", "more"),
    "lower": ("to", "can", "could", "may", "might", "will", "would", "does", "did", "not", "help"),
    "every": ("of", "at", "in", "for", "once", "nearly", "almost"),
    "longer": ("no", "any"), "likely": ("more", "less", "most", "least"), "early": ("as",),
    "late": ("as",), "able": ("be",), "high": ("as",), "low": ("as",), "better": ("the", "had"),
    "fewer": ("no",), "never": ("almost", "nearly"), "always": ("not", "almost", "nearly"),
}
_SKIP_BEFORE = {
    "all": ("of", "the", "these", "those", "its", "their", "his", "her", "our", "but", "over", "three", "four",
            "five", "other", "around"),
    "every": ("other", "one", "time", "day", "year", "week"),
    "more": ("or", "and"), "less": ("or", "and"), "high": ("school", "court"),
    "early": ("on", "in", "life", "years", "days", "career"), "late": ("in",), "common": ("cold", "sense"),
    "higher": ("education",),
}


def degree_swap(claim: str) -> Swap | None:
    """The first word of ``claim`` from the lexicon of opposites, flipped in the same case
    and inflection; idioms ("at all", "no more", "to lower", "high school") are skipped."""
    for match in _DEGREE.finditer(claim):
        word = match.group()
        lower = re.sub(r"\s+", " ", word.lower())
        previous = re.search(r"(\w+)\W*$", claim[:match.start()])
        previous = previous.group(1).lower() if previous else ""
        following = re.match(r"\W*(\w+)", claim[match.end():])
        following = following.group(1).lower() if following else ""
        if previous in _SKIP_AFTER.get(lower, ()) or following in _SKIP_BEFORE.get(lower, ()):
            continue
        if lower in ("all", "every", "more", "less", "few") and previous == "a":
            continue
        if lower.startswith("not significant"):
            new = lower[4:]
        elif lower.startswith("non-significant"):
            new = "significant" + lower[len("non-significant"):]
        else:
            new = OPPOSITES[lower]
        return _edit("degree", claim, match.start(), match.end(), _match_case(word, new))
    return None


# --- the set ------------------------------------------------------------------------

def swaps(claim: str, sources: Sequence[str]) -> dict[str, Swap]:
    """Every kind's edit of ``claim`` that the rules allow, by kind (in :data:`KINDS` order)."""
    source = "\n".join(sources)
    made = {"number": number_swap(claim, source), "date": date_swap(claim, source),
            "name": name_swap(claim, source), "negation": negation_swap(claim),
            "degree": degree_swap(claim)}
    return {kind: made[kind] for kind in KINDS if made[kind] is not None}


def _originals(evalset: EvalSet) -> list[Example]:
    """The set's supported examples, one per distinct claim (the first in file order:
    HealthVer repeats a claim against several evidence passages)."""
    seen, kept = set(), []
    for example in evalset.examples:
        if example.label == SUPPORTED and example.claim not in seen:
            seen.add(example.claim)
            kept.append(example)
    return kept


def _short_id(name: str, example_id: str) -> str:
    return example_id[len(name) + 1:] if example_id.startswith(name + "-") else example_id


def _rank(name: str, example_id: str) -> str:
    return hashlib.sha256(f"{name}/{example_id}".encode()).hexdigest()


def build(groups: Sequence[tuple[str, Sequence[Example]]], per_set: int = PER_SET) \
        -> tuple[list[Example], dict[str, int], dict[str, int]]:
    """Examples (each original then its swap), per-kind counts and per-set originals, from
    (set name, supported examples) groups in order."""
    chosen: list[tuple[str, Example, dict[str, Swap]]] = []
    per_source: dict[str, int] = {}
    for name, originals in groups:
        editable = []
        for index, example in enumerate(originals):
            made = swaps(example.claim, example.sources)
            if made:
                editable.append((index, example, made))
        picked = sorted(sorted(editable, key=lambda item: _rank(name, item[1].id))[:per_set], key=lambda i: i[0])
        chosen.extend((name, example, made) for _, example, made in picked)
        per_source[name] = len(picked)
    counts = {kind: 0 for kind in KINDS}
    examples = []
    for name, example, made in chosen:
        kind = min(made, key=lambda k: (counts[k], KINDS.index(k)))
        counts[kind] += 1
        swap = made[kind]
        stem = f"{name}/{_short_id(name, example.id)}"
        examples.append(Example(f"{stem}/original", example.claim, example.sources, SUPPORTED, ()))
        examples.append(Example(f"{stem}/{kind}", swap.claim, example.sources, CONTRADICTED,
                                          (swap.span,)))
    return examples, counts, per_source


def load(sets: Mapping[str, EvalSet]) -> EvalSet:
    """The ``slot-swaps-dev`` set from the dev sets of :data:`SETS` (name -> loaded set, as
    ``eval_sets.NAMED`` reads them; test splits are never read)."""
    examples, counts, per_source = build([(name, _originals(sets[name])) for name in SETS])
    notes = [
        "rule-made: each gold-supported claim (SUPPORTED) followed by one edit of one slot (CONTRADICTED); "
        "ids <set>/<id>/original and <set>/<id>/<kind>; gold_spans of an edit cover the new words",
        "edits by kind: " + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS),
        "originals by set: " + ", ".join(f"{name} {per_source[name]}" for name in SETS),
    ]
    return EvalSet(NAME, examples, VERDICTS,
                             "slot swaps of the supported claims of " + ", ".join(SETS), split="dev", notes=notes)
