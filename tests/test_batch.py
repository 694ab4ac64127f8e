"""``nli-check batch``: same verdicts as ``Checker.check``, bad rows recorded, exact
resume after SIGKILL, Parquet in and out. Tiny random models (conftest)."""

from __future__ import annotations

import json
from dataclasses import replace
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import SEEDS
from nli_check.batch.chunks import BatchChecker, CheckerSpec, ScoreStore
from nli_check.batch.corpus import is_parquet, iter_rows
from nli_check.batch.journal import BatchRun, last_complete_row, scores_path, sidecar_paths
from nli_check.batch.runner import run_batch
from nli_check.errors import InputError

ARTICLE_LINES = (SEEDS / "article.txt").read_text(encoding="utf-8").splitlines()
CONTRADICTED = (SEEDS / "contradicted.txt").read_text(encoding="utf-8").splitlines()
SOURCE = (SEEDS / "source.txt").read_text(encoding="utf-8")
OTHER_SOURCE = ("Bananas are yellow fruit grown in the tropics. Apples grow in cooler climates.\n"
                "The harvest of 2024 was larger than the one before.")

# (raw line, reason expected in the errors file); the ids say which line is which.
BAD_LINES = [
    (b'{"id": "broken", "article": "x",', "malformed JSON"),
    (b'{"article": "No id here.", "sources": ["A source."]}', "missing field 'id'"),
    (b'{"id": "no-article", "sources": ["A source."]}', "missing field 'article'"),
    (b'{"id": "empty", "article": "   ", "sources": ["A source."]}', "empty article"),
    (b'{"id": "no-sources", "article": "A claim."}', "missing field 'sources'"),
    (b'{"id": "sources-string", "article": "A claim.", "sources": "A source."}', "'sources' must be a list"),
    (b'{"id": "sources-empty", "article": "A claim.", "sources": []}', "'sources' is empty"),
    (b'{"id": "source-no-text", "article": "A claim.", "sources": [{"id": "s"}]}', "source 1 has no text"),
    (b'{"id": "latin1", "article": "Caf\xe9.", "sources": ["A source."]}', "not UTF-8"),
    (b'{"id": "markup-only", "article": "<p></p><div> </div>", "format": "html", "sources": ["A source."]}',
     "no sentence found"),
    (b'["a", "list"]', "expected a JSON object"),
]


def make_rows(count: int) -> list[dict]:
    """Articles built from the seed lines; half cite the seed source alone, half also a
    second source given as an object with an id (sources shared by many articles)."""
    rows = []
    for number in range(count):
        start = (number * 5) % len(ARTICLE_LINES)
        lines = ARTICLE_LINES[start:start + 2] + [CONTRADICTED[number % len(CONTRADICTED)]]
        sources = [SOURCE] if number % 2 else [SOURCE, {"id": "fruit.txt", "text": OTHER_SOURCE}]
        rows.append({"id": f"a{number:03d}", "article": "\n".join(lines), "sources": sources})
    return rows


def write_corpus(path: Path, rows: list[dict], *, bad_every: int = 0) -> dict[int, str]:
    """JSON Lines with a bad line after every ``bad_every`` good ones, and blank lines.
    Returns {line number: expected reason} of the bad lines."""
    expected, lines = {}, []
    bad = iter(BAD_LINES * 100)
    for number, row in enumerate(rows):
        lines.append(json.dumps(row).encode())
        if bad_every and number % bad_every == bad_every - 1:
            raw, reason = next(bad)
            lines.append(raw)
            expected[len(lines)] = reason
        if number == 2:
            lines.append(b"   ")  # a blank line is no row, and no error
    path.write_bytes(b"\n".join(lines) + b"\n")
    return expected


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def spec(tiny_nli_model, tiny_embedding_model) -> CheckerSpec:
    return CheckerSpec(model=str(tiny_nli_model), embedding_model=str(tiny_embedding_model))


def test_rows_are_the_reports_of_checker_check(tiny_checker, spec, tmp_path):
    import jsonschema

    rows = make_rows(9)
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, rows)
    output = tmp_path / "out.jsonl"
    summary = run_batch(corpus, output, spec=spec, chunk_size=4, checker=tiny_checker, progress=False)
    schema = json.loads((Path(__file__).parents[1] / "nli_check" / "schema" / "report.schema.json").read_text())
    written = read_jsonl(output)
    assert [row["id"] for row in written] == [row["id"] for row in rows]
    for given, row in zip(rows, written):
        jsonschema.validate(row, schema)
        sources = [s if isinstance(s, str) else s["text"] for s in given["sources"]]
        names = [f"source {i + 1}" if isinstance(s, str) else s["id"] for i, s in enumerate(given["sources"])]
        expected = tiny_checker.check(given["article"], sources, source_names=names).to_dict()
        assert row["sources"] == names and row["summary"] == expected["summary"]
        for ours, theirs in zip(row["claims"], expected["claims"], strict=True):
            # Batches of other sizes may move a probability in its last bits, not a verdict.
            for key in ("label", "text", "start", "end", "decided_by", "unsupported_spans"):
                assert ours[key] == theirs[key], key
            assert [e["text"] for e in ours["evidence"]] == [e["text"] for e in theirs["evidence"]]
            for name, value in ours["probabilities"].items():
                assert value == pytest.approx(theirs["probabilities"][name], abs=2e-4)
        counts = row["summary"]
        assert row["article_summary"]["claims"] == len(row["claims"]) == sum(counts.values())
        assert row["article_summary"]["supported_share"] == round(counts["supported"] / len(row["claims"]), 4)
    assert summary.articles == len(rows) and summary.errors == 0
    assert summary.claims == sum(len(row["claims"]) for row in written)


def test_bad_rows_are_recorded_with_line_id_and_reason(tiny_checker, spec, tmp_path):
    rows = make_rows(2 * len(BAD_LINES))
    corpus = tmp_path / "corpus.jsonl"
    expected = write_corpus(corpus, rows, bad_every=2)
    output, errors = tmp_path / "out.jsonl", tmp_path / "bad.jsonl"
    summary = run_batch(corpus, output, errors=errors, spec=spec, chunk_size=5, checker=tiny_checker,
                        progress=False)
    records = read_jsonl(errors)
    assert [r["line"] for r in records] == sorted(expected)
    for record in records:
        assert expected[record["line"]] in record["reason"], record
    by_reason = {expected[r["line"]]: r["id"] for r in records}
    assert by_reason["empty article"] == "empty"
    assert by_reason["no sentence found"] == "markup-only"
    assert by_reason["malformed JSON"] is None
    assert [row["id"] for row in read_jsonl(output)] == [row["id"] for row in rows]
    assert (summary.articles, summary.errors) == (len(rows), len(BAD_LINES))
    manifest = json.loads(sidecar_paths(output)[1].read_text())
    assert manifest["status"] == "complete"
    assert (manifest["articles"], manifest["errors"]) == (len(rows), len(BAD_LINES))
    assert manifest["claims"] == summary.claims and sum(manifest["labels"].values()) == summary.claims


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "nli_check", "batch", *map(str, args)]


def test_sigkill_then_resume_equals_an_uninterrupted_run(tiny_checker, spec, tmp_path):
    rows = make_rows(60)
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, rows, bad_every=13)
    models = ["--model", spec.model, "--embedding-model", spec.embedding_model, "--chunk-size", 3, "--no-progress"]
    # One torch thread everywhere: the same arithmetic in each run (and fast on a busy machine).
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="1")

    whole = tmp_path / "whole.jsonl"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_batch(corpus, whole, spec=spec, chunk_size=3, checker=tiny_checker, progress=False)
    finally:
        torch.set_num_threads(threads)

    cut = tmp_path / "cut.jsonl"
    process = subprocess.Popen(_cli(corpus, "--output", cut, *models), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if cut.exists() and cut.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    manifest = sidecar_paths(cut)[1]
    assert json.loads(manifest.read_text())["status"] == "running", "the run ended before it could be killed"
    assert scores_path(cut).exists() and not scores_path(whole).exists()
    written = cut.read_bytes().count(b"\n")
    assert 12 <= written < len(rows)
    with cut.open("ab") as handle:  # what a kill in the middle of a write leaves
        handle.write(b'{"id": "a1", "line": 4, "schema_ver')

    resumed = subprocess.run(_cli(corpus, "--output", cut, "--resume", *models), capture_output=True, env=env,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert cut.read_bytes() == whole.read_bytes()
    assert sidecar_paths(cut)[0].read_bytes() == sidecar_paths(whole)[0].read_bytes()
    first, second = (json.loads(sidecar_paths(p)[1].read_text()) for p in (whole, cut))
    for key in ("articles", "errors", "claims", "labels"):
        assert first[key] == second[key]
    assert second["runs"] == 2 and second["resumed_from_line"] > 0


def test_existing_output_is_not_clobbered_and_resume_must_repeat_the_settings(tiny_checker, spec, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, make_rows(3))
    output = tmp_path / "out.jsonl"
    run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False)
    before = output.read_bytes()
    with pytest.raises(InputError, match="already exists: pass --resume"):
        run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False)
    with pytest.raises(InputError, match="different chunk_size"):
        run_batch(corpus, output, spec=spec, chunk_size=3, checker=tiny_checker, progress=False, resume=True)
    other = tmp_path / "other.jsonl"
    write_corpus(other, make_rows(5)[2:])
    with pytest.raises(InputError, match="different input"):
        run_batch(other, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False, resume=True)
    with pytest.raises(InputError, match="different verdict"):
        run_batch(corpus, output, spec=replace(spec, verdict="thresholds"), chunk_size=2, checker=tiny_checker,
                  progress=False, resume=True)
    with pytest.raises(InputError, match="different mode \\('accurate'\\).*used 'fast'"):
        run_batch(corpus, output, spec=replace(spec, mode="accurate"), chunk_size=2, checker=tiny_checker,
                  progress=False, resume=True)
    # A manifest from before --verdict existed was decided by the thresholds.
    manifest = sidecar_paths(output)[1]
    old = {k: v for k, v in json.loads(manifest.read_text()).items() if k != "verdict"}
    manifest.write_text(json.dumps(old))
    with pytest.raises(InputError, match="different verdict \\('learned'\\).*used 'thresholds'"):
        run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False, resume=True)
    spec = replace(spec, verdict="thresholds")
    # Resuming a finished run adds nothing.
    summary = run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False, resume=True)
    assert output.read_bytes() == before and summary.articles == 3


def test_cli_errors_are_one_line_exit_two(spec, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, make_rows(1))
    output = tmp_path / "out.jsonl"
    output.write_text("someone else's file\n")
    models = ["--model", spec.model, "--embedding-model", spec.embedding_model]
    for args, needle in [((corpus, "--output", output), "already exists"),
                         ((tmp_path / "missing.jsonl", "--output", tmp_path / "o.jsonl"), "no such file"),
                         ((corpus, "--output", tmp_path / "no" / "o.jsonl"), "does not exist")]:
        result = subprocess.run(_cli(*args, *models), capture_output=True, timeout=120,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and needle in lines[0], result.stderr
    assert output.read_text() == "someone else's file\n"


def test_torn_last_line_is_cut(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"line": 1, "id": "a"}\n{"line": 2, "id": "b"}\n{"line": 3, "i')
    assert last_complete_row(path) == {"line": 2, "id": "b"}
    assert path.read_bytes().endswith(b'"b"}\n')
    path.write_bytes(b'{"line": 1, "i')
    assert last_complete_row(path) is None and path.read_bytes() == b""


def test_parquet_in_and_flat_claims_table_out(tiny_checker, spec, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = make_rows(7)
    # Parquet wants one type per column: every source as an object here.
    table = pa.Table.from_pylist([{**row, "sources": [s if isinstance(s, dict) else {"id": "seed", "text": s}
                                                      for s in row["sources"]]} for row in rows])
    corpus = tmp_path / "corpus.parquet"
    pq.write_table(table, corpus, row_group_size=3)
    assert is_parquet(corpus) and [r.line for r in iter_rows(corpus, start=3, stop=5)] == [3, 4, 5]
    output, claims = tmp_path / "out.jsonl", tmp_path / "claims.parquet"
    summary = run_batch(corpus, output, spec=spec, chunk_size=2, checker=tiny_checker, progress=False,
                        claims_parquet=claims)
    written = read_jsonl(output)
    assert [row["id"] for row in written] == [row["id"] for row in rows]
    assert [row["line"] for row in written] == list(range(1, 8))
    flat = pq.read_table(claims).to_pylist()
    assert len(flat) == summary.claims == sum(len(row["claims"]) for row in written)
    first = written[0]["claims"][0]
    assert flat[0]["id"] == rows[0]["id"] and flat[0]["label"] == first["label"]
    assert flat[0]["entailment"] == first["probabilities"]["entailment"]


def test_a_resume_checks_that_the_output_continues_the_input(tmp_path, spec):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, make_rows(4))
    output = tmp_path / "out.jsonl"
    output.write_text(json.dumps({"id": "not-a001", "line": 2}) + "\n")
    with pytest.raises(InputError, match="does not continue"):
        BatchRun.open(corpus, output, errors=None, resume=True, spec=spec, chunk_size=2, engine="local")


def test_a_chunk_checked_again_after_an_interruption_gives_the_same_rows(tiny_checker, tmp_path):
    """A kill between storing a chunk's scores and writing its rows: the resumed run finds
    the chunk's own scores in the store, and must count and use them as the first did."""
    rows = list(iter_rows(_corpus(tmp_path, 6)))
    store = ScoreStore(tmp_path / "scores.sqlite")
    first = BatchChecker(tiny_checker, store=store)
    earlier = first.check_chunk(rows[:3], chunk=0)
    once = first.check_chunk(rows[3:], chunk=1)
    again = BatchChecker(tiny_checker, store=store).check_chunk(rows[3:], chunk=1)  # a fresh process
    assert again == once and sum(r["nli_pairs"] for _, r in once) > 0
    later = BatchChecker(tiny_checker, store=store).check_chunk(rows[3:], chunk=2)
    assert [r["claims"] for _, r in later] == [r["claims"] for _, r in once]
    assert sum(r["nli_pairs"] for _, r in later) == 0  # scored by an earlier chunk: cache hits
    assert [kind for kind, _ in earlier] == ["row"] * 3
    store.close()


def _corpus(folder: Path, count: int) -> Path:
    path = folder / "corpus.jsonl"
    write_corpus(path, make_rows(count))
    return path
