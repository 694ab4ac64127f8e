"""The command line: exit codes, one-line errors, no partial output. Runs the real
console entry point in a subprocess, with tiny models."""

import json
import os
import subprocess
import sys

import pytest

from conftest import SEEDS


def run(*args, stdin=None):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "nli_check", *map(str, args)], input=stdin,
                          capture_output=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def models(tiny_nli_model, tiny_embedding_model):
    return ["--model", tiny_nli_model, "--embedding-model", tiny_embedding_model]


def one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text("The ministry said Russia is deploying new weapons.\nBananas are yellow.\n")
    return path


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source.txt"
    path.write_text("The ministry said Russia is deploying newly developed weapons.\n")
    return path


def test_json_output_file_and_exit_zero(models, article, source, tmp_path):
    out = tmp_path / "report.json"
    result = run("check", article, "--source", source, "--format", "json", "--output", out, *models)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["schema_version"] and len(data["claims"]) == 2


def test_fail_on_exits_one_when_a_label_is_present(models, article, source):
    result = run("check", article, "--source", source, "--format", "json", *models)
    labels = {c["label"] for c in json.loads(result.stdout)["claims"]}
    present, absent = sorted(labels)[0], sorted({"supported", "contradicted", "unsupported"} - labels)
    assert run("check", article, "--source", source, "--fail-on", present, *models).returncode == 1
    if absent:
        assert run("check", article, "--source", source, "--fail-on", ",".join(absent), *models).returncode == 0


def test_standard_input_and_markdown(models, article, source):
    result = run("check", "-", "--source", source, "--format", "markdown", *models, stdin=article.read_bytes())
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("## nli-check")


@pytest.mark.parametrize("case", ["empty", "missing", "directory", "binary", "latin1", "huge"])
def test_bad_source_is_one_line_exit_two_and_no_output(models, article, tmp_path, case):
    bad = tmp_path / f"bad-{case}"
    if case == "empty":
        bad.write_text("  \n")
    elif case == "directory":
        bad.mkdir()
    elif case == "binary":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    elif case == "latin1":
        bad.write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    elif case == "huge":
        bad.write_bytes(b"word " * (2 * 1024 * 1024 + 10))  # 10 MB
    out = tmp_path / "report.json"
    result = run("check", article, "--source", bad, "--format", "json", "--output", out, *models)
    expected = {"empty": "empty file", "missing": "no such file", "directory": "is a directory",
                "binary": "binary", "latin1": "not UTF-8", "huge": "limit"}[case]
    one_line_error(result, str(bad), expected)
    assert not out.exists()
    assert not list(tmp_path.glob(".report.json.*"))


def test_empty_article_is_refused(models, source, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    one_line_error(run("check", empty, "--source", source, *models), "empty.txt", "empty")


@pytest.mark.parametrize("args,needle", [
    (["--format", "pdf"], "pdf"),
    (["--fail-on", "wrong"], "wrong"),
])
def test_unknown_format_or_label_is_a_usage_error(models, article, source, args, needle):
    one_line_error(run("check", article, "--source", source, *args, *models), needle)


def test_a_five_thousand_word_sentence_is_windowed_and_reported(models, source, tmp_path):
    article = tmp_path / "long.txt"
    article.write_text(" ".join(["word"] * 5000) + ".")
    result = run("check", article, "--source", source, "--format", "json", *models)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["claims"]) == 5000 // 120 + 1
    assert any("long.txt" in w and "windows" in w for w in data["warnings"])
    assert "windows" in result.stderr.decode()


def test_seed_files_are_present():
    assert (SEEDS / "article.txt").read_text().count("\n") >= 13


def test_precision_option_runs_and_rejects_unknown_values(models, article, source):
    result = run("check", article, "--source", source, "--format", "json", "--precision", "bfloat16", *models)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["claims"]) == 2
    data = json.loads(run("check", article, "--source", source, "--format", "json", "--precision", "int8",
                          "--backend", "openvino", *models).stdout)
    assert data["runtime"] == {"backend": "openvino", "precision": "int8"} and len(data["claims"]) == 2
    refused = run("check", article, "--source", source, "--precision", "float16", *models)
    assert refused.returncode == 2 and b"'float16' is not one of 'auto', 'float32', 'bfloat16', 'int8'" in refused.stderr
    refused = run("check", article, "--source", source, "--precision", "int8", "--backend", "torch", *models)
    assert refused.returncode == 2 and refused.stderr.decode().strip().endswith(
        "int8 runs on the openvino backend (--backend openvino or auto)")
