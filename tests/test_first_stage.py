"""Less work before the models: the first stage of pairing (static vectors, BM25) and the
early exit of the thresholds' verdict."""

import json
from pathlib import Path

import numpy as np
import pytest

from nli_check.config import Settings
from nli_check.pipeline.checker import EmbedRequest
from nli_check.pipeline.first_stage import FirstStage

SOURCE = ("The city council met on Monday. It approved a new budget for schools. The budget adds forty teachers. "
          "Weather was cold all week. A bakery opened downtown. The mayor thanked the volunteers. "
          "Rain is expected on Friday. The library extended its hours. Bus fares stay the same. "
          "The park will be renovated next year.")


@pytest.fixture(scope="module")
def first_stage():
    return FirstStage()  # the shipped static vectors


def test_static_vectors_rank_a_paraphrase_first(first_stage):
    sentences = ["Weather was cold all week.", "The council approved more money for schools.", "A bakery opened."]
    for method in ("static", "fused"):
        assert first_stage.rank("Schools get a bigger budget from the council.", sentences, method=method)[0] == 1
    assert first_stage.rank("bakery opened", sentences, method="bm25")[0] == 2
    with pytest.raises(ValueError, match="expected one of static, bm25, fused"):
        first_stage.scores(["a"], ["b"], method="dense")


def test_kept_sentences_are_the_best_with_their_neighbours_inside_their_source(first_stage):
    sentences = ["Schools get money.", "Teachers were hired.", "Unrelated one.", "Unrelated two.",
                 "A bakery opened.", "Schools get money again."]
    kept = first_stage.keep(["Schools get money.", "A bakery opened."], sentences, cut=1, neighbours=1,
                            boundaries=[0, 3, 6], method="bm25")
    assert kept[0].tolist() == [0, 1]  # sentence 0's neighbour 1; nothing before the start of source 0
    assert kept[1].tolist() == [3, 4, 5]
    only_second = first_stage.keep(["Schools get money."], sentences, cut=1, neighbours=0, boundaries=[0, 3, 6],
                                   allowed=[{1}], method="bm25")
    assert only_second[0].tolist() == [5]


def test_the_checker_embeds_only_what_the_first_stage_keeps(tiny_checker):
    narrowed = tiny_checker.with_settings(first_stage_cut=1, first_stage="bm25", window=2)
    steps = narrowed.check_steps("The budget adds forty teachers.", [SOURCE])
    request = next(steps)
    assert isinstance(request, EmbedRequest)
    assert request.sources == [["It approved a new budget for schools.", "The budget adds forty teachers.",
                                "Weather was cold all week."]]
    report = narrowed.check("The budget adds forty teachers.", [SOURCE])
    offered = {e.text for claim in report.claims for e in claim.evidence}
    assert offered and all("budget" in text or "Weather" in text for text in offered)
    everything = next(tiny_checker.with_settings(first_stage_cut=0).check_steps("The budget adds forty teachers.",
                                                                                 [SOURCE]))
    assert len(everything.sources[0]) == 10


def test_early_exit_that_settles_nothing_changes_nothing(tiny_checker):
    article = "The council approved a budget. The budget adds teachers. Rain is expected."
    full = tiny_checker.with_settings(early_exit=False).check(article, [SOURCE]).to_dict()
    unsettled = tiny_checker.with_settings(early_exit=True, entailment_threshold=1.01, exit_contradiction=1.01,
                                           exit_entailment_below=0.0).check(article, [SOURCE]).to_dict()
    assert [c["label"] for c in unsettled["claims"]] == [c["label"] for c in full["claims"]]
    assert [c["evidence"] for c in unsettled["claims"]] == [c["evidence"] for c in full["claims"]]


def test_early_exit_stops_at_the_best_match_when_it_settles(tiny_checker):
    article = "The council approved a budget. The budget adds teachers. Rain is expected."
    settled = tiny_checker.with_settings(early_exit=True, entailment_threshold=0.0)
    settled.nli._cache.clear()
    report = settled.check(article, [SOURCE])
    assert all(c.label == "supported" and len(c.evidence) == 1 for c in report.claims)
    assert report.nli_pairs == len(report.claims)  # one pair per claim, nothing more


def test_batch_and_check_agree_with_the_first_stage_and_early_exit(tiny_nli_model, tiny_embedding_model):
    from nli_check import Checker
    from nli_check.batch.chunks import BatchChecker
    from nli_check.batch.corpus import Article

    checker = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model),
                      settings=Settings(first_stage_cut=1, early_exit=True, exit_contradiction=0.4))
    rows = [Article(line=i + 1, id=str(i), text=text, sources=[SOURCE], source_names=["s"], article_format="text",
                    source_formats=["text"])
            for i, text in enumerate(["The budget adds forty teachers.", "The park opens next year. Fares rise."])]
    for row, (kind, output) in zip(rows, BatchChecker(checker).check_chunk(rows)):
        expected = checker.check(row.text, row.sources, source_names=["s"]).to_dict()
        assert kind == "row"
        assert [c["label"] for c in output["claims"]] == [c["label"] for c in expected["claims"]]
        assert [[e["text"] for e in c["evidence"]] for c in output["claims"]] == \
            [[e["text"] for e in c["evidence"]] for c in expected["claims"]]
        assert np.allclose([c["probabilities"]["entailment"] for c in output["claims"]],
                           [c["probabilities"]["entailment"] for c in expected["claims"]], atol=1e-3)


def test_static_vectors_distil_from_a_sentence_model_and_load(tmp_path, tiny_embedding_model):
    import shutil

    from nli_check.pipeline.pair import resolve_embedding_model
    from nli_check.training.static import distil_static

    # the tiny model with MiniLM's real vocabulary, so that there are words to distil
    model = shutil.copytree(tiny_embedding_model, tmp_path / "model")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(Path(resolve_embedding_model("minilm")) / name, model / name)
    made = distil_static(embedding_model=str(model), output=tmp_path / "static", dimensions=8)
    assert made["dimensions"] == 8 and "Apache-2.0" in (tmp_path / "static" / "README.md").read_text()
    # the command, as a user runs it
    from click.testing import CliRunner

    from nli_check.cli import main

    result = CliRunner().invoke(main, ["distil-static", "--embedding-model", str(model), "--output",
                                       str(tmp_path / "by-cli"), "--dimensions", "8"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["vocabulary"] == made["vocabulary"]
    missing = CliRunner().invoke(main, ["distil-static", "--embedding-model", str(tmp_path / "nowhere"),
                                        "--output", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "no tokenizer.json" in missing.output
    distilled = FirstStage(tmp_path / "static")
    vectors = distilled.vectors(["alpha beta", "gamma"])
    assert vectors.shape == (2, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # the same words give the same vector: a static model has no context
    assert np.allclose(distilled.vectors(["alpha beta"]), distilled.vectors(["alpha beta"]))


def test_a_missing_static_model_is_one_clear_error(tmp_path):
    from nli_check.errors import InputError

    with pytest.raises(InputError, match="no static model here"):
        FirstStage(tmp_path)
