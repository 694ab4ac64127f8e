"""The models committed under models/ keep the size limits they are allowed: the fast default
at most 100 MB; the accurate model (the mpnet teacher) in weight files of at most 95 MB each,
at most 250 MB in all, every shard its index names present."""

import json

from conftest import REPO

MB = 1_000_000


def _size(folder):
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def test_the_fast_default_is_at_most_100_mb():
    assert _size(REPO / "models" / "nli-minilm-l6") <= 100 * MB


def test_the_accurate_model_is_sharded_within_its_limits():
    folder = REPO / "models" / "nli-mpnet-teacher"
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    shards = set(index["weight_map"].values())
    assert shards == {path.name for path in folder.glob("*.safetensors")}
    assert all((folder / shard).stat().st_size <= 95 * MB for shard in shards)
    assert _size(folder) <= 250 * MB
    settings = json.loads((folder / "nli_check.json").read_text())["settings"]
    assert {"similarity_floor", "entailment_threshold", "contradiction_threshold"} <= set(settings)
