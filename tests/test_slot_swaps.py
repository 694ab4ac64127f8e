"""The rule-made slot-swap dev set: each kind's edit on hand-written sentences, and (where
the labelled data is present) the whole ``slot-swaps-dev`` set."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from nli_check.datasets import eval_sets, slot_swaps
from nli_check.datasets.slot_swaps import (
    KINDS, date_swap, degree_swap, name_swap, negation_swap, number_swap, swaps)
from nli_check.labels import CONTRADICTED, SUPPORTED

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NLI_CHECK_DATA", REPO.parent / "shared" / "data"))


# --- number -------------------------------------------------------------------------

def test_number_keeps_the_format_and_moves_clearly():
    assert number_swap("About 14% of patients had a fever.", "").claim == "About 42% of patients had a fever."
    assert number_swap("The fund holds $2.5 million.", "").claim == "The fund holds $7.5 million."
    assert number_swap("It enrolled 1,400 adults.", "").claim == "It enrolled 4,200 adults."


def test_number_never_lands_on_a_value_of_the_source():
    source = "Of 20 patients, 60 were followed; 40 and 80 dropped out; 100 days later."
    swap = number_swap("The trial enrolled 20 patients.", source)
    assert swap.claim == "The trial enrolled 10 patients."  # x3, x2, x4, x5 are all in the source
    source_values = {float(v) for v in re.findall(r"\d+", source)}
    assert float(swap.new) not in source_values


def test_number_breaks_bounds_and_percentages_stay_percentages():
    assert number_swap("It killed more than 10 birds.", "").claim == "It killed more than 30 birds."
    assert number_swap("It took less than 10 days.", "").claim == "It took less than 5 days."
    assert number_swap("Around 60% recovered.", "").claim == "Around 30% recovered."


def test_number_skips_labels_years_ranges_and_one():
    for claim in ("COVID-19 spreads in schools.", "It was released in 2017.", "See Table 2 for details.",
                  "Rates ranged from 4% to 38%.", "One patient got 1 dose.", "It happened on May 7."):
        assert number_swap(claim, "") is None, claim


# --- date ---------------------------------------------------------------------------

def test_date_shifts_a_year_absent_from_the_source():
    assert date_swap("She was elected in 2017.", "").claim == "She was elected in 2014."
    assert date_swap("She was elected in 2017.", "Elected 2014, sworn in 2019.").claim == "She was elected in 2012."


def test_date_replaces_a_month_and_leaves_may_the_verb_alone():
    assert date_swap("The couple married in December 2012.", "").claim == "The couple married in June 2012."
    assert date_swap("Masks May help.", "") is None
    assert date_swap("(Kim et al., 2017) found it.", "") is None  # a citation's year


# --- name ---------------------------------------------------------------------------

def test_name_takes_an_entity_of_the_same_type_from_the_source():
    # Chicago shares Denver's neighbours ("in _ on"); Boston and Smith do not
    source = "Coach Smith flew from Boston. The team played in Denver on Monday and in Chicago on Friday."
    assert name_swap("The team played in Denver on Monday.", source).claim == "The team played in Chicago on Monday."


def test_name_needs_the_entity_in_the_source_and_a_fitting_substitute():
    assert name_swap("The team played in Denver.", "Nothing here is named.") is None
    assert name_swap("the team played well.", "They played in Denver.") is None
    # COVID-19 and SARS-CoV-2 are synonyms, never swapped for each other
    assert name_swap("Masks slow SARS-CoV-2 in Italy.", "Masks slow COVID-19 in Italy. In Italy, SARS-CoV-2 ...") \
        is None


# --- negation -----------------------------------------------------------------------

@pytest.mark.parametrize("claim, expected", [
    ("The town was evacuated.", "The town was not evacuated."),
    ("Children can get the virus.", "Children cannot get the virus."),
    ("Smith has been elected.", "Smith has not been elected."),
    ("Vitamin D increased the risk.", "Vitamin D did not increase the risk."),
    ("Exercise causes fatigue.", "Exercise does not cause fatigue."),
    ("The virus is not a lab construct.", "The virus is a lab construct."),
    ("Ibuprofen does not worsen symptoms.", "Ibuprofen worsens symptoms."),
    ("The drug isn't safe.", "The drug is safe."),
    ("There was no effect.", "There was some effect."),
    ("He no longer plays.", "He still plays."),
])
def test_negation(claim, expected):
    assert negation_swap(claim).claim == expected


def test_negation_skips_the_ambiguous():
    for claim in ("Masks may reduce spread.", "Is it safe?", "It is not safe and not cheap.",
                  "Patients who were infected recovered.", "An increased risk of death."):
        assert negation_swap(claim) is None, claim


# --- degree -------------------------------------------------------------------------

@pytest.mark.parametrize("claim, expected", [
    ("Deaths increased sharply.", "Deaths decreased sharply."),
    ("Risk is Higher in men.", "Risk is Lower in men."),
    ("More than half recovered.", "Less than half recovered."),
    ("It is a safe drug.", "It is an unsafe drug."),
    ("The effect was significantly larger.", "The effect was not significantly larger."),
    ("Masks reduce transmission.", "Masks increase transmission."),
])
def test_degree(claim, expected):
    assert degree_swap(claim).claim == expected


def test_degree_skips_idioms_and_compounds():
    for claim in ("It did not help at all.", "She went to high school.", "An all-cause mortality study.",
                  "He was HIV-positive."):
        assert degree_swap(claim) is None, claim


# --- all kinds ----------------------------------------------------------------------

def test_nothing_to_swap_gives_nothing():
    claim = "Bats coexist with viruses."
    assert all(edit(claim, "Bats coexist with viruses.") is None for edit in (number_swap, date_swap, name_swap))
    assert negation_swap("Bats, with viruses.") is None and degree_swap(claim) is None
    assert swaps("Bats, with viruses.", ["Bats coexist with viruses."]) == {}


def test_spans_cover_the_new_words():
    for swap in swaps("In 2017, 14% of people in Paris said the drug was more effective.",
                      ["In 2015 a survey in Paris and in Lyon, ..."]).values():
        start, end = swap.span
        assert swap.claim[start:end] == swap.new


def test_build_pairs_each_original_with_one_swap_and_balances_kinds():
    Example = eval_sets.Example
    originals = [Example(str(i), claim, ("",), SUPPORTED) for i, claim in enumerate(
        ["Deaths increased in 2019.", "The town was evacuated in 2001.", "About 14% was more."])]
    examples, counts, per_source = slot_swaps.build([("toy", originals)])
    # each takes the kind used least so far among those it admits (ties in KINDS order)
    assert [e.id for e in examples] == ["toy/0/original", "toy/0/date", "toy/1/original", "toy/1/negation",
                                        "toy/2/original", "toy/2/number"]
    assert [e.label for e in examples] == [SUPPORTED, CONTRADICTED] * 3
    assert counts["date"] == counts["negation"] == counts["number"] == 1 and per_source == {"toy": 3}


# --- the set itself -----------------------------------------------------------------

@pytest.mark.skipif(not (DATA / "check_covid" / "dev.jsonl").is_file(), reason="no labelled data (NLI_CHECK_DATA)")
def test_the_named_set_is_balanced_complete_and_reproducible():
    first = eval_sets.load("slot-swaps-dev", data_root=DATA)
    second = eval_sets.load("slot-swaps-dev", data_root=DATA)
    assert first.examples == second.examples and first.notes == second.notes
    assert first.split == "dev" and first.labels == eval_sets.THREE
    labels = Counter(e.label for e in first.examples)
    assert labels[SUPPORTED] == labels[CONTRADICTED] == len(first.examples) // 2
    kinds = Counter(e.id.rsplit("/", 1)[1] for e in first.examples[1::2])
    assert set(kinds) == set(KINDS)
    for original, swapped in zip(first.examples[::2], first.examples[1::2]):
        assert original.id.endswith("/original") and original.id.rsplit("/", 1)[0] == swapped.id.rsplit("/", 1)[0]
        assert original.sources == swapped.sources and original.claim != swapped.claim
    assert len({e.id for e in first.examples}) == len(first.examples)
    assert all(e.split("/")[0] in slot_swaps.SETS for e in (x.id for x in first.examples))
