"""The eval harness: generic-format loading and its errors, the eval / calibrate /
leaderboard commands end to end with tiny models, determinism, no partial output."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from nli_check.datasets.eval_sets import EvalSet, Example, load, load_generic, parse_label_map
from nli_check.errors import InputError
from nli_check.evaluation.calibrate import Thresholds, fit
from nli_check.evaluation.evaluate import Prediction, SentenceScore, aggregate, span_metrics
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, VERDICTS

ROWS = [
    {"id": "a", "claim": "The ministry said Russia is deploying new weapons.",
     "source": "The ministry said Russia is deploying weapons near the border.", "label": "supported"},
    {"id": "b", "claim": "Bananas are blue.", "source": ["Bananas are yellow.", "Apples are red."],
     "label": "contradicted"},
    {"id": "c", "claim": "The mayor resigned in anger.", "source": "The mayor resigned on Monday.",
     "label": "unsupported"},
    {"id": "d", "claim": "Prices rose by 5 percent.", "source": "Prices rose by 5 percent last year.",
     "label": "supported"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run(*args):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "nli_check", *map(str, args)], capture_output=True, env=env,
                          timeout=300)


@pytest.fixture(scope="module")
def models(tiny_nli_model, tiny_embedding_model):
    return ["--model", tiny_nli_model, "--embedding-model", tiny_embedding_model]


# --- loading --------------------------------------------------------------------------

def test_generic_jsonl_csv_and_parquet_agree(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from_jsonl = load_generic(write_jsonl(tmp_path / "pairs.jsonl", ROWS))
    assert [e.sources for e in from_jsonl.examples][1] == ("Bananas are yellow.", "Apples are red.")
    assert from_jsonl.three_way
    csv_path = tmp_path / "pairs.csv"
    import csv

    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "claim", "source", "label"])
        writer.writeheader()
        for row in ROWS:
            source = row["source"] if isinstance(row["source"], str) else json.dumps(row["source"])
            writer.writerow({**row, "source": source})
    parquet_path = tmp_path / "pairs.parquet"
    pq.write_table(pa.Table.from_pylist([{**r, "source": [r["source"]] if isinstance(r["source"], str)
                                          else r["source"]} for r in ROWS]), parquet_path)
    for other in (load_generic(csv_path), load_generic(parquet_path)):
        assert [(e.id, e.claim, e.sources, e.label) for e in other.examples] == \
               [(e.id, e.claim, e.sources, e.label) for e in from_jsonl.examples]


def test_label_map_and_binary_sets(tmp_path):
    rows = [{"claim": "A.", "source": "A.", "label": "entailment"},
            {"claim": "B.", "source": "A.", "label": "not_entailment"}]
    evalset = load_generic(write_jsonl(tmp_path / "rte.jsonl", rows),
                           label_map=parse_label_map("entailment=supported,not_entailment=unsupported"))
    assert [e.label for e in evalset.examples] == ["supported", "unsupported"]
    assert not evalset.three_way and [e.id for e in evalset.examples] == ["0", "1"]
    with pytest.raises(InputError, match="RAW=LABEL"):
        parse_label_map("entailment=yes")


@pytest.mark.parametrize("content, needle", [
    ('{"claim": "A.", "source": "B.", "label": "supported"}\n{"claim": "A.", "source"\n',
     "bad.jsonl:2: not valid JSON"),
    ('{"claim": "A.", "label": "supported"}\n', "bad.jsonl:1: missing column(s) source"),
    ('{"claim": "A.", "source": "B.", "label": "true"}\n', "bad.jsonl:1: unknown label 'true'; expected one of"),
    ('{"claim": "", "source": "B.", "label": "supported"}\n', "bad.jsonl:1: 'claim' must be a non-empty string"),
    ('{"claim": "A.", "source": [], "label": "supported"}\n', "bad.jsonl:1: 'source' must be"),
    ("", "bad.jsonl: empty file; expected rows with 'claim'"),
    ("\n\n", "bad.jsonl: no rows"),
])
def test_bad_files_name_file_line_and_expected_form(tmp_path, content, needle):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_generic(path)
    assert needle in str(error.value)


def test_csv_missing_column_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("claim,label\nA.,supported\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv:2: missing column\(s\) source"):
        load_generic(path)


# --- pure functions -------------------------------------------------------------------

def test_aggregate_sentences():
    assert aggregate(["supported", "supported"]) == "supported"
    assert aggregate(["supported", "unsupported"]) == "unsupported"
    assert aggregate(["unsupported", "contradicted"]) == "contradicted"
    assert aggregate([]) == "unsupported"


def test_span_metrics_by_hand():
    # words: The(0-3) mayor(4-9) resigned(10-18) in(19-21) anger(22-27)
    example = Example("x", "The mayor resigned in anger.", ("The mayor resigned.",), "unsupported",
                      gold_spans=((19, 27),))
    evalset = EvalSet("s", [example], ("supported", "unsupported"), "memory", spans=True)
    predicted = Prediction("x", "unsupported", "unsupported", 0.1, None, unsupported_spans=[[10, 27, "resigned in anger"]])
    result = span_metrics(evalset, [predicted])
    assert (result["precision"], result["recall"], result["gold_tokens"], result["predicted_tokens"]) == \
        (pytest.approx(0.6667), 1.0, 2, 3)
    assert (result["called_unsupported"], result["marked_share"]) == (1, 0.6)  # 3 of its 5 words marked
    # A claim called supported counts for precision and recall, not for the marked share.
    other = Example("y", "The mayor stayed on.", ("The mayor stayed on.",), "supported", gold_spans=())
    evalset.examples.append(other)
    called_supported = Prediction("y", "supported", "supported", 0.9, None, unsupported_spans=[[4, 9, "mayor"]])
    result = span_metrics(evalset, [predicted, called_supported])
    assert (result["called_unsupported"], result["marked_share"], result["predicted_tokens"]) == (1, 0.6, 4)


def test_calibration_fit_finds_the_separating_thresholds():
    # One sentence per claim, one candidate (similarity 0.6): supported claims have
    # p(entailment) 0.8, the others 0.3; contradicted ones p(contradiction) 0.7, the rest 0.1.
    def prediction(gold, entail, contradict):
        return Prediction("x", gold, gold, entail, None,
                          sentences=[SentenceScore(gold, 0.6, [(0.6, entail, contradict)])])

    collected = {"dev": [prediction(SUPPORTED, 0.8, 0.1)] * 3 + [prediction(UNSUPPORTED, 0.3, 0.1)] * 3
                 + [prediction(CONTRADICTED, 0.3, 0.7)] * 3}
    fitted, objective = fit(collected, {"dev"}, Thresholds(0.25, 0.34, 0.61))
    assert 0.3 < fitted.entailment_threshold <= 0.8 and 0.1 < fitted.contradiction_threshold <= 0.7
    assert fitted.similarity_floor <= 0.6
    assert objective == {"mean_balanced_accuracy_supported_vs_not": 1.0, "mean_three_way_macro_f1": 1.0}


def test_seed_sets_are_the_acceptance_example_and_never_fitted():
    article, contradicted = (load(name, data_root=None) for name in ("seeds-article", "seeds-contradicted"))
    assert len(article.examples) == 14 and article.examples[4].label == UNSUPPORTED
    assert [e.label for e in contradicted.examples] == [CONTRADICTED, CONTRADICTED, SUPPORTED]
    assert article.split == contradicted.split == "test" and article.labels == VERDICTS


# --- the commands -----------------------------------------------------------------------

def test_eval_writes_everything_and_is_deterministic(tmp_path, models):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    first = run("eval", data, *models, "--baselines", "--output", tmp_path / "one", "--record", tmp_path / "results")
    assert first.returncode == 0, first.stderr.decode()
    for system in ("checker", "whole-source", "lexical-overlap"):
        folder = tmp_path / "one" / "pairs" / system
        assert {p.name for p in folder.iterdir()} == {"metrics.json", "predictions.jsonl", "confusion.png",
                                                     "reliability.png"}
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["metrics"]["n"] == 4 and metrics["views"] == ["binary", "three_way"]
        predictions = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
        assert [p["id"] for p in predictions] == ["a", "b", "c", "d"]
        assert [p["gold"] for p in predictions] == [r["label"] for r in ROWS]
    second = run("eval", data, *models, "--baselines", "--output", tmp_path / "two", "--no-plots")
    assert second.returncode == 0, second.stderr.decode()
    for system in ("checker", "whole-source", "lexical-overlap"):
        assert (tmp_path / "one" / "pairs" / system / "metrics.json").read_bytes() == \
               (tmp_path / "two" / "pairs" / system / "metrics.json").read_bytes()
    [record_file] = (tmp_path / "results").glob("*/pairs.json")
    record = json.loads(record_file.read_text())
    assert set(record["thresholds"]) == {"entailment", "contradiction", "similarity_floor"}
    assert record["precision"] in ("float32", "bfloat16")
    board = run("leaderboard", "--results", tmp_path / "results", "--output", tmp_path / "RESULTS.md")
    assert board.returncode == 0, board.stderr.decode()
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| pairs |" in table and "## Three-way" in table


def test_eval_error_is_one_line_and_writes_nothing(tmp_path, models):
    good = write_jsonl(tmp_path / "good.jsonl", ROWS)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim": "A.", "source": "B.", "label": "maybe"}\n', encoding="utf-8")
    result = run("eval", good, bad, *models, "--output", tmp_path / "out")
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "bad.jsonl:1: unknown label 'maybe'" in lines[0]
    assert not (tmp_path / "out").exists()  # the good set was not scored either
    unknown = run("eval", "no-such-set", *models, "--output", tmp_path / "out")
    assert unknown.returncode == 2 and b"neither a named dataset nor a file" in unknown.stderr


def test_calibrate_writes_fitted_settings_and_refuses_test_splits(tmp_path, tiny_nli_model, tiny_embedding_model):
    model = tmp_path / "model"
    shutil.copytree(tiny_nli_model, model)
    data = write_jsonl(tmp_path / "dev_pairs.jsonl", ROWS)
    result = run("calibrate", data, "--model", model, "--embedding-model", tiny_embedding_model)
    assert result.returncode == 0, result.stderr.decode()
    assert b"before:" in result.stdout and b"after:" in result.stdout
    stored = json.loads((model / "nli_check.json").read_text())
    assert set(stored["settings"]) == {"similarity_floor", "entailment_threshold", "contradiction_threshold"}
    assert stored["fitted_on"]["data"][0]["origin"] == str(data)
    assert stored["fitted_on"]["precision"] == "float32"  # not the CPU's "auto" choice
    assert set(stored["fitted_on"]["previous"]) == {"similarity_floor", "entailment_threshold",
                                                    "contradiction_threshold"}
    assert "floor and entailment threshold" in stored["fitted_on"]["rule"]  # the whole rule, not its first line
    test_split = write_jsonl(tmp_path / "test_pairs.jsonl", ROWS)
    refused = run("calibrate", test_split, "--model", model, "--embedding-model", tiny_embedding_model)
    assert refused.returncode == 2 and b"calibration fits on dev data only" in refused.stderr


def test_editor_feedback_export_is_read_by_the_harness(tmp_path):
    """`nli-check feedback export` writes the generic format: the harness reads it as is."""
    from nli_check.serve.feedback import labelled_pairs

    rows = [{"id": 1, "claim": "The mayor resigned in anger.", "sources": json.dumps(["The mayor resigned."]),
             "label": "unsupported", "predicted": "supported", "article": "The mayor resigned in anger.",
             "source_names": json.dumps(["city.txt"]), "model": "m", "created_at": "2026-11-25", "comment": ""},
            {"id": 2, "claim": "Prices fell.", "sources": json.dumps(["Prices rose.", "Sales rose."]),
             "label": "contradicted", "predicted": "unsupported", "article": "Prices fell.",
             "source_names": json.dumps(["a.txt", "b.txt"]), "model": "m", "created_at": "2026-11-25",
             "comment": "see a.txt"}]
    evalset = load_generic(write_jsonl(tmp_path / "feedback.jsonl", labelled_pairs(rows)))
    assert [(e.id, e.label, e.sources) for e in evalset.examples] == [
        ("feedback-1", "unsupported", ("The mayor resigned.",)),
        ("feedback-2", "contradicted", ("Prices rose.", "Sales rose."))]
