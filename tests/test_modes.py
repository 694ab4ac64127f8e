"""Modes (nli_check.modes): which model decides, each command's default, and the report naming
the mode. Tiny models of conftest stand in for the shipped ones."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from nli_check import Checker
from nli_check.cli import main
from nli_check.config import DEFAULT_MODES, MODES, Settings, default_nli_model_path, default_strong_model_path
from nli_check.errors import InputError
from nli_check.modes import mode_models


def test_each_mode_names_its_models():
    assert mode_models("fast") == mode_models("fast", model=None)
    assert mode_models("fast").model == default_nli_model_path() and mode_models("fast").accurate_model is None
    accurate = mode_models("accurate")
    assert (accurate.model, accurate.accurate_model) == (default_strong_model_path(), None)
    cascade = mode_models("cascade")
    assert (cascade.model, cascade.accurate_model) == (default_nli_model_path(), default_strong_model_path())


def test_a_named_model_replaces_the_modes_own(tmp_path):
    assert mode_models("accurate", model=tmp_path).model == tmp_path
    assert mode_models("cascade", model=tmp_path).accurate_model == default_strong_model_path()
    assert mode_models("cascade", accurate_model=tmp_path).accurate_model == tmp_path
    # fast with --accurate-model is the cascade it always was
    assert mode_models("fast", accurate_model=tmp_path).accurate_model == tmp_path


def test_bad_modes_are_one_clear_error(monkeypatch, tmp_path):
    with pytest.raises(InputError, match="unknown mode 'slow'; expected one of fast, accurate, cascade"):
        mode_models("slow")
    with pytest.raises(InputError, match="--accurate-model makes a cascade"):
        mode_models("accurate", accurate_model=tmp_path)
    # an install without the strong model (it is not in the wheel) says so and how to go on
    monkeypatch.setattr("nli_check.modes.default_strong_model_path", lambda: tmp_path / "nli-mpnet-teacher")
    with pytest.raises(InputError, match="strong NLI model is missing.*--mode fast"):
        mode_models("accurate")
    with pytest.raises(InputError, match="strong NLI model is missing"):
        mode_models("cascade")
    assert mode_models("fast").model == default_nli_model_path()


def test_each_command_has_its_default_mode():
    from types import SimpleNamespace

    for command in ("check", "eval", "batch", "serve"):
        option = next(p for p in main.commands[command].params if p.name == "mode")
        assert list(option.type.choices) == list(MODES)
        assert option.callback(SimpleNamespace(params={}), option, None) == DEFAULT_MODES[command]
        assert option.callback(SimpleNamespace(params={}), option, "fast") == "fast"
    # --accurate-model alone asks for a cascade, as it always did
    option = next(p for p in main.commands["check"].params if p.name == "mode")
    assert option.callback(SimpleNamespace(params={"accurate_model": "m"}), option, None) == "cascade"
    # an editor's check and the web app: the mode chosen for one article; corpora: throughput
    assert DEFAULT_MODES["batch"] == "fast"


def test_the_report_names_its_mode(tiny_nli_model, tiny_embedding_model):
    checker = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model), mode="accurate",
                      settings=Settings(explain=False))
    assert checker.accurate is None and checker.model_name == str(tiny_nli_model)
    report = checker.check("The council approved the plan.", ["The council approved the plan on Monday."])
    data = report.to_dict()
    assert data["mode"] == "accurate" and data["schema_version"] == "1.7"
    jsonschema.validate(data, json.loads(resources.files("nli_check.schema").joinpath("report.schema.json")
                                         .read_text()))
    from nli_check.render.text import render

    assert "accurate mode" in render(report, "text") and "accurate mode" in render(report, "markdown")


def test_a_cascade_mode_loads_both_models(tiny_nli_model, tiny_embedding_model, tmp_path):
    checker = Checker(model=tiny_nli_model, embedding_model=str(tiny_embedding_model), mode="cascade",
                      accurate_model=tiny_nli_model, settings=Settings(explain=False))
    assert checker.accurate is not None and checker.mode == "cascade"

