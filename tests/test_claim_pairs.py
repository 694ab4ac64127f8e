"""Claim-level training pairs made by rule (nli_check.datasets.claim_pairs), on tiny files
shaped like the real sets in shared/data. No model is loaded."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from nli_check.datasets import claim_pairs as cp
from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED

ABSTRACT = [
    "Abstract Rapid COVID-19 testing is necessary to re-open economies.",
    "We recruited 120 volunteers in Boston during March 2020.",
    "The assay detects viral proteins in saliva within 30 minutes.",
    "Sensitivity was high across all age groups.",
    "Funding came from a public grant.",
    "Further trials are planned in other cities.",
]
OTHER_ABSTRACT = [
    "Masks reduce droplet spread in enclosed rooms.",
    "Cloth masks blocked 50 percent of droplets in the chamber study.",
    "Surgical masks performed better than cloth masks.",
    "The study did not measure airborne particles.",
]
DEV_CLAIM = "Vitamin D cures COVID-19 within a week."


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join("\t".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")


def _check_covid(root: Path) -> None:
    folder = root / "check_covid"
    _jsonl(folder / "corpus.jsonl", [
        {"cord_id": "8vp57c1o", "title": "Saliva testing", "abstract": ABSTRACT},
        {"cord_id": "m4sk0001", "title": "Masks", "abstract": OTHER_ABSTRACT},
        {"cord_id": "dev00001", "title": "Vitamin D", "abstract": ["Vitamin D levels were measured in 300 patients."]},
        # the dev paper again under another id
        {"cord_id": "dup00001", "title": "Vitamin D (preprint)",
         "abstract": ["Vitamin D levels were measured in 300 patients.", "Most patients were older adults."]},
    ])
    _jsonl(folder / "train.jsonl", [
        {"id": "a_0", "claim": "One type of COVID-19 test identifies coronavirus proteins in a few seconds.",
         "cord_id": "8vp57c1o", "label": "REFUTE", "evidence_set": [{"sent_index": 2, "type": "PRIMARY"}],
         "is_auth": False},
        {"id": "a_1", "claim": "One type of COVID-19 test identifies coronavirus proteins in thirty minutes. ",
         "cord_id": "8vp57c1o", "label": "SUPPORT", "evidence_set": [{"sent_index": 2, "type": "PRIMARY"}],
         "is_auth": False},
        {"id": "a_2", "claim": "One type of COVID-19 test identifies coronavirus proteins in thirty minutes. ",
         "cord_id": "8vp57c1o", "label": "NOTENOUGHINFO", "evidence_set": [{"sent_index": 0, "type": "PRIMARY"}],
         "is_auth": False},
        {"id": "b_0", "claim": "Cloth masks blocked half of the droplets in a chamber study.",
         "cord_id": "m4sk0001", "label": "SUPPORT", "evidence_set": [{"sent_index": 1, "type": "PRIMARY"}],
         "is_auth": True},
        # the dev claim again, on a train row: it must still be held out
        {"id": "b_1", "claim": DEV_CLAIM, "cord_id": "m4sk0001", "label": "REFUTE",
         "evidence_set": [{"sent_index": 0, "type": "PRIMARY"}], "is_auth": False},
        # a train row on the dev claim's document
        {"id": "c_0", "claim": "Vitamin D levels were measured in hundreds of patients.", "cord_id": "dev00001",
         "label": "SUPPORT", "evidence_set": [{"sent_index": 0, "type": "PRIMARY"}], "is_auth": False},
        {"id": "c_1", "claim": "Most of the patients were older adults.", "cord_id": "dup00001",
         "label": "SUPPORT", "evidence_set": [{"sent_index": 1, "type": "PRIMARY"}], "is_auth": False},
    ])
    _jsonl(folder / "dev.jsonl", [
        {"id": "d_0", "claim": DEV_CLAIM, "cord_id": "dev00001", "label": "REFUTE",
         "evidence_set": [{"sent_index": 0, "type": "PRIMARY"}], "is_auth": False},
    ])


def _citation_integrity(root: Path) -> None:
    folder = root / "citation_integrity"
    _jsonl(folder / "corpus.jsonl", [
        {"doc_id": 66000, "title": "", "abstract": [
            "Accumulating evidence indicates that lncRNAs regulate cell growth and apoptosis.",
            "In colon cancer, miR-211 promotes cell proliferation.",
            "Increasing evidence suggests lncRNAs regulate stem cell pluripotency (6-13).",
            "For example, miR-211 enhances migration of oral carcinoma cells (35).",
            "Alterations of lncRNAs are often associated with human diseases (36)."]},
        {"doc_id": 66001, "title": "", "abstract": [
            "Loss of p53 did not change lncRNA expression in these cells.",
            "Cells were cultured in standard medium.",
            "Western blots used standard antibodies.",
            "RNA was extracted with a commercial kit.",
            "Statistics used two-sided tests."]},
        {"doc_id": 52028, "title": "", "abstract": [
            "AMPK is activated by energy stress.",
            "Mice were fed a high-fat diet.",
            "Glucose uptake was measured in muscle.",
            "Insulin was given by injection.",
            "Tissues were collected after ten weeks."]},
    ])
    _jsonl(folder / "claims_train.jsonl", [
        {"id": 0, "claim": "Several studies have shown that non-coding RNAs regulate apoptosis [<|multi_cit|>].",
         "evidence": {"66000": [{"sentences": [0], "label": "SUPPORT"}]}, "cited_doc_ids": [66000]},
        {"id": 1, "claim": "Recent studies show p53 controls lncRNA expression [<|multi_cit|>,7].",
         "evidence": {"66001": [{"sentences": [0], "label": "REFUTE"}]}, "cited_doc_ids": [66001]},
        {"id": 21, "claim": "This high AMP/ATP ratio inhibits mTOR signaling (<|multi_cit|>).",
         "evidence": {}, "cited_doc_ids": [52028]},
    ])
    _jsonl(folder / "claims_dev.jsonl", [
        {"id": 5, "claim": "Dev citing sentence [<|cit|>].", "evidence": {}, "cited_doc_ids": [70000]},
    ])


def _climate_fever(root: Path) -> None:
    def evidence(text: str, label: str, at: str) -> dict:
        return {"evidence_id": at, "evidence_label": label, "article": at.split(":")[0], "evidence": text,
                "entropy": 0.0, "votes": [label, label, None, None, None]}

    _jsonl(root / "climate_fever" / "climate-fever.jsonl", [
        {"claim_id": "0", "claim": "Global warming is driving polar bears toward extinction", "claim_label": "SUPPORTS",
         "evidences": [
             evidence("Rising temperatures push bees to their limits.", "NOT_ENOUGH_INFO", "Global warming:178"),
             evidence("Rising global temperatures endanger species such as the polar bear.", "SUPPORTS",
                      "Habitat destruction:61"),
             evidence("Bear hunting is caught in the global warming debate.", "NOT_ENOUGH_INFO", "Polar bear:1328"),
             evidence("Sea ice loss reduces the hunting grounds of polar bears.", "SUPPORTS", "Polar bear:12"),
             evidence("The Arctic has warmed faster than the rest of the planet.", "NOT_ENOUGH_INFO", "Arctic:3")]},
        {"claim_id": "1", "claim": "The sun has gone into lockdown", "claim_label": "NOT_ENOUGH_INFO",
         "evidences": [evidence(f"Solar sentence number {i} says little.", "NOT_ENOUGH_INFO", f"Sun:{i}")
                       for i in range(5)]},
    ])


def _fever(root: Path) -> None:
    _jsonl(root / "fever_rte" / "rte_fever_dev.jsonl", [
        {"evidence": "Soul Food is a 1997 American comedy-drama film produced by Kenneth `` Babyface '' Edmonds , "
                     "Tracey Edmonds and Robert Teitel and released by Fox 2000 Pictures .",
         "claim": "Fox 2000 Pictures released the film Soul Food.", "label": "entailment"},
        {"evidence": "His debut solo studio album Everyday Robots -- co-produced by Richard Russell -- was "
                     "released on 28 April 2014 .",
         "claim": "Damon Albarn's debut album was released in 2011.", "label": "not_entailment"},
        {"evidence": "Telemundo is an American Spanish-language terrestrial television network owned by Comcast .",
         "claim": "Telemundo is owned by Comcast.", "label": "entailment"},
    ])


def _scifact(root: Path) -> None:
    header = ["index", "sentence1", "sentence2", "entailment"]
    _tsv(root / "scifact" / "train.tsv", header, [
        ["0", "RESULTS Of the 32,441 appendix samples 16 were positive, a prevalence of 493 per million.",
         "1 in 5 million in UK have abnormal PrP positivity.", "not_entailment"],
        ["1", "Policies requiring discontinuation of methadone in 32% of all programs contradict the evidence.",
         "32% of liver transplantation programs required patients to discontinue methadone treatment in 2001.",
         "entailment"],
    ])
    _tsv(root / "scifact" / "dev.tsv", header, [["0", "Some rationale.", "A SciFact dev claim.", "entailment"]])


def _factcheck_gpt(root: Path) -> None:
    _jsonl(root / "factcheck_gpt" / "subtask3_claim_evidence_stance.jsonl", [
        {"claim": "Lawson is a chain of convenience stores in Japan.",
         "evidence": "Lawson is a convenience store franchise chain in Japan. It began in Ohio.",
         "stance": "completely-support"},
        {"claim": "Lawson is a chain of convenience stores in Japan.",
         "evidence": "Ruth Bader Ginsburg served on the Supreme Court until her death.", "stance": "irrelevant"},
        {"claim": "Argentina won the FIFA World Cup in 1986 under Diego Maradona.",
         "evidence": "Argentina won the 1986 FIFA World Cup, led by captain Diego Maradona.",
         "stance": "completely-support"},
        {"claim": "Argentina won the FIFA World Cup in 1990.",
         "evidence": "West Germany won the 1990 FIFA World Cup final against Argentina.", "stance": "refute"},
    ])


def _covidfact(root: Path) -> None:
    folder = root / "covidfact"
    evidence = ["Neutralizing activity was measured using an authentic SARS-CoV-2 neutralization assay.",
                "We describe approaches based on spike-pseudotyped viruses."]
    _jsonl(folder / "COVIDFACT_dataset.jsonl", [
        {"claim": "Measuring sars-cov-2 neutralizing antibody activity using pseudotyped viruses",
         "label": "SUPPORTED", "evidence": evidence, "gold_source": "https://example.org/a", "flair": "Academic"},
        {"claim": "Measuring chs-cov-2 neutralizing antibody activity using pseudotyped viruses",
         "label": "REFUTED", "evidence": evidence, "gold_source": "https://example.org/a", "flair": "Academic"},
        {"claim": "A test-split claim about remdesivir", "label": "SUPPORTED",
         "evidence": ["Remdesivir shortened recovery."], "gold_source": "https://example.org/b", "flair": "News"},
    ])
    rte = folder / "RTE-covidfact"
    _tsv(rte / "train.tsv", ["index", "sentence1", "Sentence2", "label"], [
        ["0", " ".join(evidence), "Measuring sars-cov-2 neutralizing antibody activity using pseudotyped viruses",
         "entailment"],
        ["1", " ".join(evidence), "Measuring chs-cov-2 neutralizing antibody activity using pseudotyped viruses",
         "not_entailment"],
    ])
    _tsv(rte / "dev.tsv", ["index", "sentence1", "Sentence2", "entailment"], [])
    _tsv(rte / "test.tsv", ["index", "sentence1", "sentence2"],
         [["0", "Remdesivir shortened recovery.", "A test-split claim about remdesivir"]])


def _wice(root: Path) -> None:
    page = ["(meta data) TITLE: Balancing act for Axle Whitehead – TV Tonight",
            "(meta data) PUBLISHED DATETIME: 2017-10-31T04:57:12+10:00",
            "Whitehead hosts The Wall for Seven.",
            "The studio audience was made up of locals who speak English.",
            "Filming took place in Poland."]
    tokens = ["The", "audience", "consists", "of", "Australian", "ex", "-", "pats", "."]
    _jsonl(root / "wice" / "non_supported_tokens_train.jsonl", [
        {"non_supported_spans": [False, False, False, False, True, False, False, False, False],
         "claim_tokens": tokens, "label": "partially_supported", "supporting_sentences": [[3]],
         "claim": "The audience consists of Australian ex-pats.", "evidence": page,
         "meta": {"id": "train31212-2", "claim_title": "The Wall (Australian game show)"}},
    ])


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    for make in (_check_covid, _citation_integrity, _climate_fever, _fever, _scifact, _factcheck_gpt, _covidfact,
                 _wice):
        make(tmp_path)
    return tmp_path


def _by(pairs: list[cp.ClaimPair], dataset: str, rule: str) -> list[cp.ClaimPair]:
    return [p for p in pairs if p.dataset == dataset and p.rule == rule]


def test_gold_rule_gives_each_set_its_gold_label(data):
    pairs = cp.build_claim_pairs(data)
    gold = {(p.dataset, p.claim): p for p in pairs if p.rule == "gold"}
    refuted = gold[("check_covid", "One type of COVID-19 test identifies coronavirus proteins in a few seconds.")]
    assert refuted.label == CONTRADICTED and ABSTRACT[2] in refuted.chunk
    assert gold[("citation_integrity", "Several studies have shown that non-coding RNAs regulate apoptosis.")].label \
        == SUPPORTED
    assert gold[("citation_integrity", "Recent studies show p53 controls lncRNA expression.")].label == CONTRADICTED
    assert gold[("citation_integrity", "This high AMP/ATP ratio inhibits mTOR signaling.")].label == UNSUPPORTED
    polar = gold[("climate_fever", "Global warming is driving polar bears toward extinction")]
    assert polar.label == SUPPORTED and "polar bear." in polar.chunk
    assert gold[("climate_fever", "The sun has gone into lockdown")].label == UNSUPPORTED
    soul = gold[("fever_rte", "Fox 2000 Pictures released the film Soul Food.")]
    assert soul.label == SUPPORTED and '"Babyface" Edmonds, Tracey' in soul.chunk  # PTB tokens undone
    assert gold[("fever_rte", "Damon Albarn's debut album was released in 2011.")].label == CONTRADICTED
    assert gold[("scifact", "1 in 5 million in UK have abnormal PrP positivity.")].label == CONTRADICTED
    assert gold[("factcheck_gpt", "Argentina won the FIFA World Cup in 1990.")].label == CONTRADICTED
    assert gold[("covidfact", "Measuring chs-cov-2 neutralizing antibody activity using pseudotyped viruses")].label \
        == CONTRADICTED
    wice = gold[("wice", "The audience consists of Australian ex-pats.")]
    assert wice.label == UNSUPPORTED and [wice.claim[s:e] for s, e in wice.spans] == ["Australian"]


def test_check_covid_not_enough_info_never_sees_the_claims_evidence(data):
    pairs = cp.build_claim_pairs(data, sets=["check_covid"])
    thirty = "One type of COVID-19 test identifies coronavirus proteins in thirty minutes."
    mine = [p for p in pairs if p.claim.strip() == thirty]
    assert {p.label for p in mine if ABSTRACT[2] in p.chunk} == {SUPPORTED}
    assert any(p.label == UNSUPPORTED for p in mine)


def test_removing_the_evidence_gives_unsupported(data):
    pairs = cp.build_claim_pairs(data)
    removed = [p for p in pairs if p.rule in ("evidence_removed", "no_evidence_chunk")]
    assert {p.dataset for p in removed} >= {"check_covid", "citation_integrity", "climate_fever", "wice"}
    assert all(p.label == UNSUPPORTED and p.chunk for p in removed)
    masks = [p for p in removed if p.claim.startswith("Cloth masks blocked half")]
    assert masks and all(OTHER_ABSTRACT[1] not in p.chunk for p in masks)
    polar = [p for p in removed if p.dataset == "climate_fever"]
    assert polar and all("polar bear." not in p.chunk and "hunting grounds" not in p.chunk for p in polar)
    # sets with no document beyond the evidence have nothing to remove
    assert not [p for p in removed if p.dataset in ("fever_rte", "scifact", "factcheck_gpt", "covidfact")]


def _record(claim: str, label, sentences: list[str], evidence: set[int], key: str) -> cp._Record:
    return cp._Record(claim, label, tuple(sentences), frozenset(evidence), key, key)


def test_joined_claims_are_supported_only_if_both_parts_are(monkeypatch):
    monkeypatch.setattr(cp.rules.join, "JOIN_SHARE", 1.0)
    records = [
        _record("The assay detects proteins in 30 minutes.", SUPPORTED, [ABSTRACT[2]], {0}, "doc:a"),
        _record("Cloth masks blocked half of the droplets.", SUPPORTED, [OTHER_ABSTRACT[1]], {0}, "doc:b"),
        _record("Surgical masks were worse than cloth masks.", CONTRADICTED, [OTHER_ABSTRACT[2]], {0}, "doc:c"),
        _record("The volunteers were recruited in Chicago.", UNSUPPORTED, ABSTRACT[3:], set(), "doc:d"),
    ]
    pairs = cp._join_rule("toy", records, budget=300, rng=random.Random(0))
    assert {p.rule for p in pairs} == {"join_supported", "join_unsupported", "join_contradicted"}
    for pair in pairs:
        assert ", and " in pair.claim
        if pair.rule == "join_supported":
            assert pair.label == SUPPORTED and ABSTRACT[2] in pair.chunk and OTHER_ABSTRACT[1] in pair.chunk
        elif pair.rule == "join_unsupported":
            assert pair.label == UNSUPPORTED and ABSTRACT[3] in pair.chunk
            assert [pair.claim[s:e].lower() for s, e in pair.spans] == ["the volunteers were recruited in chicago"]
        else:
            assert pair.label == CONTRADICTED and OTHER_ABSTRACT[2] in pair.chunk


def test_join_without_document_context_uses_an_unrelated_claim(monkeypatch):
    monkeypatch.setattr(cp.rules.join, "JOIN_SHARE", 1.0)
    sources = {"f:1": "Telemundo is a network owned by Comcast.", "f:2": "Soul Food is a 1997 film."}
    records = [_record("Telemundo is owned by Comcast.", SUPPORTED, [sources["f:1"]], {0}, "f:1"),
               _record("Soul Food was released in 1997.", SUPPORTED, [sources["f:2"]], {0}, "f:2")]
    pairs = cp._join_rule("fever_rte", records, budget=300, rng=random.Random(1))
    gaps = [p for p in pairs if p.rule == "join_unsupported"]
    assert gaps and all(p.label == UNSUPPORTED and p.chunk in sources.values() and p.spans for p in gaps)


def test_conjoin_lower_cases_a_plain_opener_only():
    assert cp._conjoin("Masks work.", "The sun is hot.") == ("Masks work, and the sun is hot.", len("Masks work, and "))
    assert cp._conjoin("Masks work", "Paris is big!")[0] == "Masks work, and Paris is big!"


def test_embellishment_marks_the_inserted_words():
    gold = cp.ClaimPair("Russia is deploying 300 new weapons near the capital.",
                        "The ministry said Russia is deploying 300 new weapons near the capital.",
                        SUPPORTED, "fever_rte", "gold")
    rng = random.Random(0)
    made = [m for m in (cp._embellish_rule(gold, rng) for _ in range(30)) if m]
    assert made and all(m.label == UNSUPPORTED and m.rule == "embellish" and m.spans for m in made)
    for pair in made:
        rest, cursor = "", 0
        for start, end in pair.spans:
            rest, cursor = rest + pair.claim[cursor:start], end
        assert cp._norm(rest + pair.claim[cursor:]) == cp._norm(gold.claim)  # the spans are all that was added


@pytest.mark.parametrize(("kind", "claim", "chunk", "old"), [
    ("number", "The trial enrolled 120 volunteers.", "We recruited 120 volunteers in Boston.", "120"),
    ("date", "Volunteers were recruited in March 2020.", "We recruited volunteers in March 2020.", None),
    ("entity", "The volunteers were recruited in Boston.",
     "We recruited volunteers in Boston. A second site opened in Chicago later.", "Boston"),
    ("negation", "The assay is accurate in children.", "The assay is accurate in children and adults.", None),
    ("quantity", "Masks reduced the spread of droplets.", "Masks cut how far droplets spread.", "reduced"),
])
def test_each_swap_gives_a_contradicted_claim(kind, claim, chunk, old):
    made = cp.SWAPS[kind](claim, chunk, cp._tokens(chunk), random.Random(3))
    assert made is not None
    new, (start, end) = made
    assert new != claim and new[start:end]
    if old:
        assert old not in new[start:end]
    if kind == "negation":
        assert new[start:end] == "not"


def test_swaps_leave_names_with_numbers_and_listed_names_alone():
    rng = random.Random(0)
    assert cp._swap_number("COVID-19 spreads fast.", "COVID-19 spreads fast.", cp._tokens("COVID-19 spreads"),
                           rng) is None
    chunk = "The film stars Hugh Jackman and Nicole Kidman."
    assert cp._swap_entity("The film stars Nicole Kidman.", chunk, cp._tokens(chunk), rng) is None


def test_swap_rule_labels_contradicted_with_the_changed_words():
    gold = cp.ClaimPair("The trial enrolled 120 volunteers in Boston.",
                        "We recruited 120 volunteers in Boston. Later a site opened in Chicago.",
                        SUPPORTED, "scifact", "gold")
    made = cp._swap_rule(gold, random.Random(0))
    assert made.label == CONTRADICTED and made.rule.startswith("swap_") and len(made.spans) == 1
    start, end = made.spans[0]
    assert made.claim[start:end] not in gold.claim


def test_deduplication_across_sets_and_conflicts(data):
    # the same claim and evidence in two sets: one pair
    rows = (data / "fever_rte" / "rte_fever_dev.jsonl").read_text()
    (data / "fever_rte" / "rte_fever_dev.jsonl").write_text(rows + rows.splitlines(keepends=True)[2])
    pairs = cp.build_claim_pairs(data)
    keys = [(cp._norm(p.claim), " ".join(p.chunk.split())) for p in pairs]
    assert len(keys) == len(set(keys))
    telemundo = [p for p in pairs if p.claim == "Telemundo is owned by Comcast." and p.rule == "gold"]
    assert len(telemundo) == 1
    one = cp.ClaimPair("A claim.", "A chunk.", SUPPORTED, "x", "gold")
    other = cp.ClaimPair("a  CLAIM", "A   chunk.", UNSUPPORTED, "y", "gold")
    kept = cp.ClaimPair("Another claim.", "A chunk.", SUPPORTED, "x", "gold")
    assert cp._deduplicate([one, other, kept, kept]) == [kept]


def test_dev_and_test_rows_never_appear(data):
    pairs = cp.build_claim_pairs(data)
    claims = " || ".join(p.claim.lower() for p in pairs)
    assert DEV_CLAIM.lower().rstrip(".") not in claims
    assert "vitamin d levels" not in claims  # a train row on a dev document
    assert "older adults" not in claims  # a train row on the dev document under another id
    assert "remdesivir" not in claims  # COVID-Fact's test split
    assert "dev citing sentence" not in claims and "scifact dev claim" not in claims


def test_a_malformed_row_names_file_and_row(data):
    path = data / "check_covid" / "train.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    bad = json.loads(lines[1])
    bad["evidence_set"] = [{"sent_index": 40}]
    path.write_text(lines[0] + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"check_covid/train.jsonl:2: evidence_set .* outside"):
        cp.build_claim_pairs(data)
    path.write_text(lines[0] + '{"cord_id": "8vp57c1o", "label": "SUPPORT", "evidence_set": []}\n')
    with pytest.raises(InputError, match=r"check_covid/train.jsonl:2: missing or empty field 'claim'"):
        cp.build_claim_pairs(data)


@pytest.mark.parametrize(("relative", "edit", "message"), [
    ("citation_integrity/claims_train.jsonl", {"evidence": {"66000": [{"sentences": [9], "label": "SUPPORT"}]}},
     r"claims_train.jsonl:1: evidence sentences"),
    ("wice/non_supported_tokens_train.jsonl", {"non_supported_spans": [True]},
     r"non_supported_tokens_train.jsonl:1: claim_tokens and non_supported_spans differ"),
    ("climate_fever/climate-fever.jsonl", {"evidences": []}, r"climate-fever.jsonl:1: 'evidences'"),
    ("factcheck_gpt/subtask3_claim_evidence_stance.jsonl", {"stance": "maybe"},
     r"subtask3_claim_evidence_stance.jsonl:1: unknown label 'maybe'"),
])
def test_malformed_rows_of_other_sets(data, relative, edit, message):
    path = data / relative
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(json.dumps({**json.loads(lines[0]), **edit}) + "\n" + "".join(lines[1:]))
    with pytest.raises(InputError, match=message):
        cp.build_claim_pairs(data)


def test_missing_sets_are_skipped_unless_named(tmp_path):
    _fever(tmp_path)
    pairs = cp.build_claim_pairs(tmp_path)
    assert {p.dataset for p in pairs} == {"fever_rte"}
    with pytest.raises(InputError, match=r"check_covid/train.jsonl: data file not found"):
        cp.build_claim_pairs(tmp_path, sets=["check_covid"])
    with pytest.raises(ValueError, match="unknown set"):
        cp.build_claim_pairs(tmp_path, sets=["snli"])


def test_chunks_are_adjacent_windows_within_the_budget_and_reproducible(data):
    long_page = [f"Sentence {i} of a long page says something ordinary." for i in range(60)]
    record = _record("A claim about sentence 30.", SUPPORTED, long_page, {30}, "page")
    window = cp._pack(record, record.evidence, budget=40, rng=random.Random(0))
    assert 30 in window and window == list(range(window[0], window[-1] + 1))
    assert cp._words(record, window) <= 40
    assert cp._gold_rule("toy", record, list(range(60)), budget=40) is None  # evidence longer than a chunk
    assert cp.build_claim_pairs(data, seed=5) == cp.build_claim_pairs(data, seed=5)


def test_counts_and_jsonl(data, tmp_path):
    pairs = cp.build_claim_pairs(data)
    table = cp.counts(pairs)
    assert set(table) == set(cp.SETS)
    assert all(list(row) == ["supported", "contradicted", "unsupported"] for row in table.values())
    assert sum(sum(row.values()) for row in table.values()) == len(pairs)
    assert "gold" in cp.counts(pairs, by="rule")["wice"]
    out = tmp_path / "claims.jsonl"
    cp.write_jsonl(pairs, out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(pairs) and set(rows[0]) == {"claim", "chunk", "label", "dataset", "rule", "spans"}
    assert all(re.fullmatch(r"supported|contradicted|unsupported", row["label"]) for row in rows)


def test_claim_documents_keep_training_claims_with_whole_documents_and_hold_out_dev(data):
    documents = cp.claim_documents(data)
    assert documents and all(len(d.doc) >= 3 for d in documents)
    assert len({(d.claim, d.doc) for d in documents}) == len(documents)
    text = " || ".join(d.claim.lower() + " " + " ".join(d.doc).lower() for d in documents)
    assert "vitamin d" not in text and "remdesivir" not in text
    saliva = [d for d in documents if d.dataset == "check_covid" and "thirty minutes" in d.claim]
    assert saliva and saliva[0].doc == tuple(ABSTRACT)
    with pytest.raises(ValueError, match="unknown set"):
        cp.claim_documents(data, sets=["nope"])


def test_document_pairs_put_claims_against_whole_documents_theirs_and_others(data):
    from nli_check.datasets.claim_pairs.documents import DOCUMENT_RULES, document_pairs

    pairs = document_pairs(data)
    assert pairs and {p.rule for p in pairs} <= set(DOCUMENT_RULES)
    assert all(p.dataset.endswith(":document") for p in pairs)
    documents = {(d.claim, " ".join(d.doc)) for d in cp.claim_documents(data)}
    own = [p for p in pairs if p.rule == "whole_document"]
    # each claim against its own whole document, with its gold verdict
    assert own and all((p.claim, p.chunk) in documents for p in own)
    saliva = [p for p in own if "thirty minutes" in p.claim]
    assert saliva and saliva[0].chunk == " ".join(ABSTRACT)
    # against another claim's document: unsupported, and never its own
    for pair in (p for p in pairs if p.rule == "other_document"):
        assert pair.label == "unsupported" and (pair.claim, pair.chunk) not in documents
    text = " || ".join(p.claim.lower() + " " + p.chunk.lower() for p in pairs)
    assert "vitamin d" not in text and "remdesivir" not in text  # dev claims and documents stay out
    assert document_pairs(data) == pairs  # seeded
