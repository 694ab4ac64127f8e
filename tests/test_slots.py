"""Slots (pipeline/slots.py): found, normalised, compared and aligned.

Alignment here uses token vectors built in the test: one unit vector per distinct
lower-cased word stem (the first five letters), so a word aligns with itself and its
inflections and with nothing else; the checker's own MiniLM vectors are exercised on the
seeds-style examples at the end (the shipped embedding model)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nli_check.pipeline.slots import (AlignedText, ConflictThresholds, conflict_verdict, could_conflict,
                                      find_conflicts, find_slots)

_TOKEN = re.compile(r"\w+|[^\w\s]")


class WordVectors:
    """Token vectors from word identity (stem = first five letters, lower case)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> AlignedText:
        tokens = list(_TOKEN.finditer(text))
        rows = [self.index.setdefault(m.group().lower()[:5], len(self.index)) for m in tokens]
        vectors = np.zeros((len(tokens), 512), dtype=np.float32)
        vectors[np.arange(len(tokens)), rows] = 1.0
        offsets = np.array([[m.start(), m.end()] for m in tokens], dtype=np.int64).reshape(-1, 2)
        return AlignedText(text, find_slots(text), vectors, offsets)


def conflicts(claim: str, *evidence: str):
    vectors = WordVectors()
    return find_conflicts(vectors(claim), [vectors(text) for text in evidence])


def kinds(text: str) -> list[tuple[str, str]]:
    return [(slot.kind, slot.text) for slot in find_slots(text)]


def value(text: str, kind: str):
    return next(slot.value for slot in find_slots(text) if slot.kind == kind)


# ---- finding and normalising


def test_numbers_with_scale_units_and_words_are_normalised():
    assert value("About 1.2 million people voted.", "number") [:2] == (1_200_000, 1_200_000)
    assert value("In all 1,200,000 people voted.", "number") [:2] == (1_200_000, 1_200_000)
    assert value("It cost $3.5 billion.", "number") [:2] == (3.5e9, 3.5e9)
    assert value("Forty people died.", "number") [:2] == (40, 40)
    assert value("Some twenty five were hurt.", "number") [:2] == (25, 25)
    units = {slot.text: slot.scale for slot in find_slots("Deaths fell 40 percent, 12% and $5 over two weeks.")
             if slot.kind == "number"}
    assert units == {"40 percent": "%", "12%": "%", "$5": "USD", "two": "week"}


def test_identifiers_are_not_numbers():
    assert not [s for s in find_slots("COVID-19 and IL-6 in the 19th week of 3D imaging.") if s.kind == "number"]


def test_a_date_is_one_slot_in_any_format():
    assert value("It was approved on March 5, 2021.", "date") == (2021, 3, 5, None)
    assert value("It was approved on 5 March 2021.", "date") == (2021, 3, 5, None)
    assert value("It was approved on 2021-03-05.", "date") == (2021, 3, 5, None)
    assert kinds("Cases rose in 2020.") == [("degree", "rose"), ("date", "2020")]
    assert value("They met on Tuesday.", "date") == (None, None, None, 1)


def test_negation_degree_and_names():
    assert kinds("Officials did not issue a warning.") == [("negation", "not")]
    assert kinds("Every member agreed, said Angela Merkel.") == [("degree", "Every"), ("name", "Angela Merkel")]
    assert kinds("The plant closed for two weeks.") == [("degree", "for two weeks")]


# ---- agreeing slots are not conflicts


def test_a_number_in_another_scale_agrees():
    assert conflicts("About 1.2 million people voted in the referendum.",
                     "In all 1,200,000 people voted in the referendum.") == []


def test_a_rounded_number_agrees():
    assert conflicts("The rate was 4 percent in the trial.", "The rate was 3.5 percent in the trial.") == []
    assert conflicts("About 1.2 million people voted.", "Some 1,150,000 people voted.") == []
    assert conflicts("The rate was 4.5 percent in the trial.", "The rate was 3.5 percent in the trial.") != []


def test_a_date_in_another_format_agrees():
    assert conflicts("The budget was announced on March 5, 2021.",
                     "The budget was announced on 5 March 2021.") == []


def test_a_negation_in_other_words_agrees():
    assert conflicts("No warning was issued before the storm.",
                     "The agency did not issue a warning before the storm.") == []


def test_a_name_the_source_has_in_another_form_agrees():
    assert conflicts("The minister said Russia moved troops.", "The minister said Russian troops moved near Ukraine.") == []


def test_a_number_the_rest_of_the_source_gives_agrees():
    vectors = WordVectors()
    claim, evidence = vectors("The policy cut deaths by 40 percent."), vectors("The policy cut deaths by 14 percent.")
    assert find_conflicts(claim, [evidence]) != []
    elsewhere = find_slots("Later reviews put the cut at 40 percent.", kinds=("number", "date"))
    assert [s.kind for s in elsewhere] == ["number"]
    assert find_conflicts(claim, [evidence], elsewhere=elsewhere) == []


def test_the_claims_value_anywhere_in_the_evidence_agrees():
    assert conflicts("The policy cut deaths by 40 percent.",
                     "The policy cut deaths by 14 percent.", "Admissions fell 40 percent.") == []


# ---- conflicts


def test_a_changed_number_conflicts_with_its_aligned_counterpart():
    [conflict] = conflicts("The policy cut deaths by 40 percent.",
                           "Officials said the policy cut deaths by 14 percent, and 3 percent of beds closed.")
    assert (conflict.kind, conflict.claim.text, conflict.evidence.text) == ("number", "40 percent", "14 percent")
    assert conflict.context > 0.5 and conflict.alignment > 0.5 and conflict.precise


def test_a_vote_date_degree_name_and_negation_conflict():
    [vote] = conflicts("The board approved the measure 7-2.", "The board approved the measure 5-4.")
    assert (vote.claim.text, vote.evidence.text) == ("7-2", "5-4")
    [date] = conflicts("The budget was announced on March 7, 2021.", "The budget was announced on March 5, 2021.")
    assert (date.kind, date.evidence.text) == ("date", "March 5, 2021")
    [degree] = conflicts("Every member agreed to the plan.", "Most members agreed to the plan.")
    assert (degree.kind, degree.claim.text, degree.evidence.text) == ("degree", "Every", "Most")
    [duration] = conflicts("The company closed the plant permanently.",
                           "The company closed the plant for two weeks.")
    assert (duration.claim.text, duration.evidence.text) == ("permanently", "for two weeks")
    [name] = conflicts("The minister, John Brown, announced the budget.",
                       "The minister, Jane Smith, announced the budget.")
    assert (name.kind, name.claim.text, name.evidence.text) == ("name", "John Brown", "Jane Smith")
    [negation] = conflicts("The airport was evacuated.", "No evacuation of the airport was needed.")
    assert negation.kind == "negation" and negation.evidence.text == "No evacuation"


def test_a_number_in_an_unrelated_sentence_is_a_weak_conflict():
    [conflict] = conflicts("The policy cut deaths by 40 percent.", "Turnout reached 61 percent in the region.")
    thresholds = ConflictThresholds((("number", 0.6, 0.6),))
    assert conflict.context < 0.6 and conflict_verdict([conflict], thresholds) is None


def test_cheap_filter_agrees_with_the_conflicts():
    claim = find_slots("The policy cut deaths by 40 percent.")
    assert could_conflict(claim, [find_slots("The policy cut deaths by 14 percent.")])
    assert not could_conflict(claim, [find_slots("The policy cut deaths by 40 percent.")])
    assert not could_conflict(find_slots("The plan was approved."), [find_slots("The board approved the plan.")])


@pytest.mark.integration
def test_minilm_token_vectors_align_the_editors_examples():
    """The shipped embedding model's token vectors, as the checker uses them."""
    from nli_check.pipeline.pair import Embedder

    embedder = Embedder("minilm", precision="float32")

    def aligned(text):
        [tokens] = embedder.token_vectors([text])
        return AlignedText(text, find_slots(text), tokens.vectors, tokens.offsets)

    thresholds = ConflictThresholds((("number", 0.6, 0.6), ("degree", 0.6, 0.6), ("negation", 0.6, 0.6)))
    cases = [("The policy cut deaths by 40 percent.",
              "Officials said the policy reduced deaths by 14 percent over the year.", "14 percent"),
             ("Every member agreed to the plan.", "Most members agreed to the plan, but two objected.", "Most"),
             ("The airport was evacuated.", "Officials said no evacuation of the airport was needed.",
              "no evacuation")]
    for claim, evidence, said in cases:
        decisive = conflict_verdict(find_conflicts(aligned(claim), [aligned(evidence)]), thresholds)
        assert decisive is not None and decisive.evidence.text == said, claim
    assert find_conflicts(aligned("About 1.2 million people voted."),
                          [aligned("Some 1,200,000 people voted in the referendum.")]) == []
