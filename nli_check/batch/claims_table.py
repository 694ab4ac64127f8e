"""The flat per-claim table (Parquet) written from a run's JSON Lines output."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from nli_check.labels import NLI_LABELS

log = logging.getLogger(__name__)

CLAIM_COLUMNS = ("id", "line", "claim_index", "text", "start", "end", "label", *NLI_LABELS, "decided_by", "reason",
                 "evidence_source", "evidence_text", "similarity", "unsupported_spans")


def _claim_records(row: dict) -> Iterator[dict]:
    for claim in row["claims"]:
        best = claim["evidence"][0] if claim["evidence"] else None
        yield {"id": str(row["id"]), "line": row["line"], "claim_index": claim["index"], "text": claim["text"],
               "start": claim["start"], "end": claim["end"], "label": claim["label"],
               **claim["probabilities"], "decided_by": claim["decided_by"], "reason": claim["reason"],
               "evidence_source": best["source"] if best else None, "evidence_text": best["text"] if best else None,
               "similarity": best["similarity"] if best else None,
               "unsupported_spans": [span["text"] for span in claim["unsupported_spans"]]}


def write_claims_parquet(output: Path, path: Path, *, rows_per_group: int = 50_000) -> int:
    """One row per claim, for analysts: streamed from the JSON Lines output into a
    temporary Parquet file, renamed into place when whole. Returns the claim count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("line", pa.int64()), ("claim_index", pa.int32()),
                        ("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()),
                        *((str(label), pa.float64()) for label in NLI_LABELS),
                        ("decided_by", pa.string()), ("reason", pa.string()), ("evidence_source", pa.string()),
                        ("evidence_text", pa.string()), ("similarity", pa.float64()),
                        ("unsupported_spans", pa.list_(pa.string()))])
    temporary = path.with_name(f".{path.name}.tmp")
    count, pending = 0, []
    try:
        with pq.ParquetWriter(temporary, schema) as writer, Path(output).open("rb") as handle:
            for raw in handle:
                pending.extend(_claim_records(json.loads(raw)))
                if len(pending) >= rows_per_group:
                    writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                    count += len(pending)
                    pending = []
            if pending or count == 0:
                writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                count += len(pending)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count
