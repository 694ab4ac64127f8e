"""The cascade (Checker(accurate_model=...)): claims decided close to a threshold are decided
again by the accurate model. Tiny models of conftest; the accurate one is a copy of the fast one
whose stored thresholds call everything supported, so which claims it decided is visible."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import jsonschema
import pytest

from nli_check import Checker
from nli_check.config import Settings
from nli_check.errors import InputError

ARTICLE = "The council approved the plan on Monday. Costs rose by ten percent. The mayor resigned."
SOURCE = "The plan was approved by the council on Monday. Costs went up ten percent. Rain fell all week."


@pytest.fixture(scope="module")
def accurate_model(tmp_path_factory, tiny_nli_model):
    folder = tmp_path_factory.mktemp("accurate") / "model"
    shutil.copytree(tiny_nli_model, folder)
    (folder / "nli_check.json").write_text(json.dumps({"settings": {"entailment_threshold": 0.0,
                                                                    "contradiction_threshold": 1.0}}))
    return folder


def _checker(tiny_nli_model, tiny_embedding_model, accurate_model, margin):
    return Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model), accurate_model=accurate_model,
                   settings=Settings(cascade_margin=margin, explain=False, similarity_floor=-1.0))


def test_a_wide_margin_sends_every_claim_to_the_accurate_model(tiny_nli_model, tiny_embedding_model,
                                                                  accurate_model):
    plain = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model),
                    settings=Settings(explain=False, similarity_floor=-1.0)).check(ARTICLE, [SOURCE])
    assert {claim.label for claim in plain.claims} != {"supported"}  # random weights: p(entailment) ~ 1/3
    cascade = _checker(tiny_nli_model, tiny_embedding_model, accurate_model, 1.0).check(ARTICLE, [SOURCE])
    assert [claim.label for claim in cascade.claims] == ["supported"] * 3
    assert {claim.nli_model for claim in cascade.claims} == {str(accurate_model)}
    # the accurate model scored each claim's best match (it entails under its thresholds: early exit)
    assert cascade.nli_pairs == plain.nli_pairs + 3
    data = cascade.to_dict()
    jsonschema.validate(data, json.loads(resources.files("nli_check.schema").joinpath("report.schema.json")
                                         .read_text()))
    assert data["schema_version"] == "1.7" and data["claims"][0]["nli_model"] == str(accurate_model)
    from nli_check.render.html import render_html
    from nli_check.render.text import render

    assert render(cascade, "text").count("decided again by the accurate model") == 3
    assert render(plain, "text").count("decided again by the accurate model") == 0
    assert f"decided again by the accurate model {accurate_model}" in render_html(cascade, article=ARTICLE, title="t")


def test_a_zero_margin_leaves_the_fast_verdicts_alone(tiny_nli_model, tiny_embedding_model, accurate_model):
    plain = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model),
                    settings=Settings(explain=False, similarity_floor=-1.0)).check(ARTICLE, [SOURCE])
    cascade = _checker(tiny_nli_model, tiny_embedding_model, accurate_model, 0.0).check(ARTICLE, [SOURCE])
    assert cascade.to_dict() == plain.to_dict()
    assert all(claim.nli_model is None for claim in cascade.claims)


@pytest.fixture(scope="module")
def fast_model_with_head(tmp_path_factory, tiny_nli_model):
    """The tiny model with a head that is unsure of every claim: p(supported) 0.31 against
    p(unsupported) 0.38 (contradicted 0.31, out of reach below the contradiction floor)."""
    import numpy as np

    from nli_check.pipeline.features import FEATURE_NAMES
    from nli_check.pipeline.verdict import WORD_FEATURE_NAMES, LinearModel, VerdictHead

    folder = tmp_path_factory.mktemp("with-head") / "model"
    shutil.copytree(tiny_nli_model, folder)
    features, words = len(FEATURE_NAMES), len(WORD_FEATURE_NAMES)
    verdict = LinearModel(np.zeros(features), np.ones(features), np.zeros((3, features)), np.array([0.0, 0.0, 0.2]))
    marking = LinearModel(np.zeros(words), np.ones(words), np.zeros((1, words)), np.array([0.0]))
    VerdictHead(verdict, marking, 0.5, 2, {"note": "test"}).save(folder)
    return folder


@pytest.mark.parametrize(("margin", "sent_on"), [(0.05, False), (0.1, True)])
def test_a_learned_cascade_sends_on_the_claims_the_head_is_unsure_of(fast_model_with_head, tiny_embedding_model,
                                                                    accurate_model, margin, sent_on):
    # No slot conflicts: the tiny embedder's token vectors align everything with everything.
    settings = Settings(cascade_margin=margin, explain=False, similarity_floor=-1.0, contradiction_threshold=1.0,
                        conflicts=False)
    checker = Checker(model=fast_model_with_head, embedding_model=str(tiny_embedding_model),
                      accurate_model=accurate_model, settings=settings)
    assert checker.head is not None and checker.accurate.head is None  # the accurate model: its thresholds
    report = checker.check(ARTICLE, [SOURCE])
    if sent_on:  # a gap of 0.07 between p(supported) and p(unsupported)
        assert [claim.label for claim in report.claims] == ["supported"] * 3
        assert all(claim.nli_model == str(accurate_model) and claim.scores is None for claim in report.claims)
    else:
        assert [claim.label for claim in report.claims] == ["unsupported"] * 3
        assert all(claim.nli_model is None and claim.scores is not None for claim in report.claims)


def test_batch_refuses_a_cascade(tiny_nli_model, tiny_embedding_model, accurate_model):
    from nli_check.batch.chunks import BatchChecker

    with pytest.raises(InputError, match="batch scoring runs one NLI model"):
        BatchChecker(_checker(tiny_nli_model, tiny_embedding_model, accurate_model, 0.2))


def test_check_command_runs_a_cascade(tmp_path, tiny_nli_model, tiny_embedding_model, accurate_model):
    from click.testing import CliRunner

    from nli_check.cli import main

    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "s.txt").write_text(SOURCE)
    result = CliRunner().invoke(main, ["check", str(tmp_path / "a.txt"), "--source", str(tmp_path / "s.txt"),
                                       "--model", str(tiny_nli_model), "--embedding-model", str(tiny_embedding_model),
                                       "--accurate-model", str(accurate_model), "--cascade-margin", "1",
                                       "--format", "json", "--no-explain"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    matched = [claim for claim in report["claims"] if claim["evidence"]]
    assert matched and all(claim["nli_model"] == str(accurate_model) for claim in matched)
