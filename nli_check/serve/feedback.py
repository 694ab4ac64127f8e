"""Editor feedback: the right label for a verdict, kept in SQLite and exported as labelled
pairs in the eval harness's generic JSON Lines format (``claim``, ``source``, ``label``,
``id``), so a newsroom can measure the checker on its own articles.

The web app holds the texts of recent checks in memory (:class:`RecentReports`, bounded
by bytes) so that a feedback request only names a report id and a claim index: the
browser never has to send the sources back, and the server never stores a text that no
editor gave feedback on.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nli_check.errors import InputError
from nli_check.labels import VERDICTS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    report_id TEXT NOT NULL,
    claim_index INTEGER NOT NULL,
    claim TEXT NOT NULL,
    sources TEXT NOT NULL,       -- JSON list of the source texts
    source_names TEXT NOT NULL,  -- JSON list of their names
    article TEXT NOT NULL,       -- the article's name
    predicted TEXT NOT NULL,
    label TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL,
    UNIQUE (report_id, claim_index)
)
"""


@dataclass(frozen=True)
class CheckedReport:
    """What feedback on one check needs: its claims, verdicts and source texts."""

    article_name: str
    claims: list[str]
    labels: list[str]
    sources: list[str]
    source_names: list[str]
    model: str

    @property
    def size(self) -> int:
        return sum(len(text) for text in [*self.claims, *self.sources])


class RecentReports:
    """The last checks, oldest evicted first once their texts pass ``max_bytes``
    (characters, a close enough measure). Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, CheckedReport] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def put(self, report_id: str, report: CheckedReport) -> None:
        with self._lock:
            self._items[report_id] = report
            self._size += report.size
            while self._size > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._size -= old.size

    def get(self, report_id: str) -> CheckedReport | None:
        with self._lock:
            return self._items.get(report_id)

    def __len__(self) -> int:
        return len(self._items)


class FeedbackStore:
    """One SQLite file; a connection per call, so any thread may use it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory, expected a feedback database file")
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path}: folder {self.path.parent} does not exist")
        try:
            with self._connect() as connection:
                connection.execute(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path}: not a usable feedback database ({error})") from None

    def _connect(self) -> sqlite3.Connection:
        # timeout: a second writer waits for the first instead of failing
        return sqlite3.connect(self.path, timeout=10)

    def record(self, *, report_id: str, claim_index: int, report: CheckedReport, label: str,
               comment: str = "") -> int:
        """Store (or replace: an editor may change their mind) the right label of one claim."""
        if label not in VERDICTS:
            raise ValueError(f"unknown label {label!r}; expected one of {', '.join(VERDICTS)}")
        if not 0 <= claim_index < len(report.claims):
            raise ValueError(f"claim index {claim_index} is out of range (the report has {len(report.claims)})")
        row = (datetime.now(timezone.utc).isoformat(timespec="seconds"), report_id, claim_index,
               report.claims[claim_index], json.dumps(report.sources, ensure_ascii=False),
               json.dumps(report.source_names, ensure_ascii=False), report.article_name,
               report.labels[claim_index], label, comment, report.model)
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, report_id, claim_index, claim, sources, source_names, article,"
                " predicted, label, comment, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (report_id, claim_index) DO UPDATE SET created_at = excluded.created_at,"
                " label = excluded.label, comment = excluded.comment RETURNING id", row)
            return cursor.fetchone()[0]

    def rows(self) -> list[dict]:
        with closing(self._connect()) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute("SELECT * FROM feedback ORDER BY id")]


def labelled_pairs(rows: list[dict]) -> list[dict]:
    """Rows as the eval harness's generic records: ``source`` is a string for one source
    and a list when the claim was checked against several."""
    pairs = []
    for row in rows:
        sources = json.loads(row["sources"])
        pair = {"id": f"feedback-{row['id']}", "claim": row["claim"],
                "source": sources[0] if len(sources) == 1 else sources, "label": row["label"],
                "predicted": row["predicted"], "article": row["article"],
                "source_names": json.loads(row["source_names"]), "model": row["model"],
                "created_at": row["created_at"]}
        if row["comment"]:
            pair["comment"] = row["comment"]
        pairs.append(pair)
    return pairs


def export_jsonl(db: str | Path) -> str:
    """Every feedback row of ``db`` as JSON Lines, oldest first."""
    db = Path(db)
    if not db.is_file():
        raise InputError(f"{db}: no such feedback database (nli-check serve --feedback-db writes one)")
    return "".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in labelled_pairs(FeedbackStore(db).rows()))
