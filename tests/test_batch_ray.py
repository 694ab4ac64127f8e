"""``nli-check batch --engine ray`` on a local Ray with 2 CPUs: the same rows as the local
engine. Tiny random models (conftest); one small corpus, Ray shut down afterwards."""

from __future__ import annotations

import json
import sys

import pytest

from nli_check.batch.chunks import CheckerSpec
from nli_check.batch.journal import sidecar_paths
from nli_check.batch.runner import run_batch
from nli_check.errors import InputError
from test_batch import make_rows, read_jsonl, write_corpus


@pytest.fixture(scope="module")
def spec(tiny_nli_model, tiny_embedding_model) -> CheckerSpec:
    return CheckerSpec(model=str(tiny_nli_model), embedding_model=str(tiny_embedding_model))


def test_ray_engine_writes_the_rows_of_the_local_engine(tiny_checker, spec, tmp_path):
    ray = pytest.importorskip("ray")
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, make_rows(10), bad_every=4)
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(corpus, local, spec=spec, chunk_size=3, checker=tiny_checker, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_batch(corpus, distributed, spec=spec, chunk_size=3, engine="ray", progress=False)
    finally:
        ray.shutdown()
    ours, theirs = read_jsonl(distributed), read_jsonl(local)
    assert [row["id"] for row in ours] == [row["id"] for row in theirs] and len(ours) == 10
    for a, b in zip(ours, theirs):
        assert a["summary"] == b["summary"]
        for claim, other in zip(a["claims"], b["claims"], strict=True):
            # Actors run torch on one thread each: a probability may differ in its last bits.
            for key in ("label", "text", "decided_by", "unsupported_spans", "reason"):
                assert claim[key] == other[key], key
            assert [e["text"] for e in claim["evidence"]] == [e["text"] for e in other["evidence"]]
            for name, value in claim["probabilities"].items():
                assert value == pytest.approx(other["probabilities"][name], abs=2e-4)
    assert sidecar_paths(distributed)[0].read_bytes() == sidecar_paths(local)[0].read_bytes()
    manifest = json.loads(sidecar_paths(distributed)[1].read_text())
    assert manifest["status"] == "complete" and manifest["engine"] == "ray"
    assert (summary.articles, summary.errors) == (10, 2)


def test_without_ray_the_engine_fails_with_the_install_line(spec, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra sees
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, make_rows(1))
    with pytest.raises(InputError, match=r"pip install nli-check\[ray\]"):
        run_batch(corpus, tmp_path / "out.jsonl", spec=spec, engine="ray", progress=False)
    assert not (tmp_path / "out.jsonl").exists()
