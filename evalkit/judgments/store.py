"""Judgments on disk: one SQLite file under the results folder, `judgments.sqlite`.

SQLite because the judging page saves every action as it happens (several writes a
second, a server that may be stopped at any moment) and must resume where it stopped;
each save is one transaction, so a crash loses at most the action in flight.

Tables:
  judgments  one row per (run, segment, system, annotator, protocol, attention check)
  queues     the items an annotator was given for a run, in the order shown, so a
             restarted server shows the same items in the same order
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evalkit.judgments.model import Judgment, Span
from evalkit.record import utc_now

JUDGMENTS_FILE = "judgments.sqlite"
STORE_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS judgments (
    run_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    system TEXT NOT NULL,
    annotator TEXT NOT NULL,
    protocol TEXT NOT NULL,
    attention_check INTEGER NOT NULL,
    score REAL,
    spans TEXT NOT NULL,
    target TEXT NOT NULL,
    complete INTEGER NOT NULL,
    origin TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (run_id, segment_id, system, annotator, protocol, attention_check)
);
CREATE TABLE IF NOT EXISTS queues (
    run_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    protocol TEXT NOT NULL,
    position INTEGER NOT NULL,
    segment_id TEXT NOT NULL,
    system TEXT NOT NULL,
    attention_check INTEGER NOT NULL,
    PRIMARY KEY (run_id, annotator, protocol, position)
);
"""


@dataclass(frozen=True)
class QueueItem:
    """One item of an annotator's queue: a system's translation of a segment, or an
    attention check standing in for it."""

    segment_id: str
    system: str
    attention_check: bool = False


class JudgmentStore:
    """The judgments of every run in one results folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('version', ?)",
                (str(STORE_VERSION),),
            )

    @classmethod
    def in_results(cls, results_dir: Path) -> JudgmentStore:
        return cls(results_dir / JUDGMENTS_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def save(self, judgment: Judgment) -> Judgment:
        """Insert or replace a judgment (same run, segment, system, annotator, protocol
        and attention flag); stamps `updated`."""
        return self.save_many([judgment])[0]

    def save_many(self, judgments: Sequence[Judgment]) -> list[Judgment]:
        """`save` for many judgments in one transaction: an import stores all or none."""
        stamped = [j.model_copy(update={"updated": j.updated or utc_now()}) for j in judgments]
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO judgments VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [_values(judgment) for judgment in stamped],
            )
        return stamped

    def judgments(
        self,
        run_id: str | None = None,
        annotator: str | None = None,
        protocol: str | None = None,
    ) -> list[Judgment]:
        """Stored judgments, optionally of one run, annotator or protocol, in a stable order."""
        where, args = [], []
        for column, value in (("run_id", run_id), ("annotator", annotator), ("protocol", protocol)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM judgments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY run_id, annotator, protocol, segment_id, system, attention_check"
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(sql, args).fetchall()
        return [_judgment(row) for row in rows]

    def counts_by_run(self) -> dict[str, int]:
        """How many judgments reference each run (runs without any are left out): what
        `evalkit runs` shows and what keeps `runs rm` from deleting a judged run."""
        with self._connect() as db:
            rows = db.execute("SELECT run_id, COUNT(*) FROM judgments GROUP BY run_id")
            return {run_id: count for run_id, count in rows}

    def forget_run(self, run_id: str) -> list[Judgment]:
        """Delete a run's judgments and queues in one transaction; returns the judgments
        deleted (read in the same transaction, so none is deleted unseen)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the read belongs to the deleting transaction
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT * FROM judgments WHERE run_id = ? "
                "ORDER BY annotator, protocol, segment_id, system, attention_check",
                (run_id,),
            ).fetchall()
            db.execute("DELETE FROM judgments WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM queues WHERE run_id = ?", (run_id,))
        return [_judgment(row) for row in rows]

    def queue(self, run_id: str, annotator: str, protocol: str) -> list[QueueItem]:
        """The items given to an annotator for a run, in order; empty if none yet."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT segment_id, system, attention_check FROM queues "
                "WHERE run_id = ? AND annotator = ? AND protocol = ? ORDER BY position",
                (run_id, annotator, protocol),
            ).fetchall()
        return [QueueItem(s, system, bool(a)) for s, system, a in rows]

    def set_queue(
        self, run_id: str, annotator: str, protocol: str, items: Sequence[QueueItem]
    ) -> None:
        """Store an annotator's items (replacing any earlier queue for the same run)."""
        with self._connect() as db:
            db.execute(
                "DELETE FROM queues WHERE run_id = ? AND annotator = ? AND protocol = ?",
                (run_id, annotator, protocol),
            )
            db.executemany(
                "INSERT INTO queues VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        annotator,
                        protocol,
                        i,
                        it.segment_id,
                        it.system,
                        int(it.attention_check),
                    )
                    for i, it in enumerate(items)
                ],
            )


def _values(judgment: Judgment) -> tuple:
    return (
        judgment.run_id,
        judgment.segment_id,
        judgment.system,
        judgment.annotator,
        judgment.protocol,
        int(judgment.attention_check),
        judgment.score,
        json.dumps([s.model_dump() for s in judgment.spans]),
        judgment.target,
        int(judgment.complete),
        judgment.origin,
        judgment.updated,
    )


def _judgment(row: sqlite3.Row) -> Judgment:
    return Judgment(
        run_id=row["run_id"],
        segment_id=row["segment_id"],
        system=row["system"],
        annotator=row["annotator"],
        protocol=row["protocol"],
        score=row["score"],
        spans=[Span.model_validate(s) for s in json.loads(row["spans"])],
        target=row["target"],
        attention_check=bool(row["attention_check"]),
        complete=bool(row["complete"]),
        origin=row["origin"],
        updated=row["updated"],
    )
