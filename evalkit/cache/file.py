"""The SQLite plumbing of the cache file, shared by its three stores.

Kept apart from the stores (translations in `cache.py`, statistics and embeddings in
`cache_stores.py`) because every store needs the same things from the file, and none of
them is about what a store holds: opening it (a file that is busy or not SQLite is a user
error), its tables and the columns a file from an older evalkit lacks, write transactions
that wait for the lock, and the last-use stamps that LRU pruning goes by.

Several runs may share one cache file at once. Every write is its own `BEGIN IMMEDIATE`
transaction, which waits (up to `BUSY_TIMEOUT_S`) for the write lock instead of failing;
switching a new file to WAL, which SQLite does not wait for, is retried for as long.

A lookup renews the stamps it finds older than `TOUCH_EVERY_S`, in one small transaction
of its own, so rerunning the same work writes nothing; a stamp that cannot be written (the
file busy past the timeout) is skipped, never an error of the run.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from evalkit.errors import UserInputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    src_lang TEXT NOT NULL,
    tgt_lang TEXT NOT NULL,
    source TEXT NOT NULL,
    translation TEXT NOT NULL,
    created REAL NOT NULL,
    truncated INTEGER NOT NULL DEFAULT 0
)
"""

_STATISTICS_SCHEMA = """
CREATE TABLE IF NOT EXISTS statistics (
    key TEXT PRIMARY KEY,
    stats TEXT NOT NULL,
    created REAL NOT NULL
)
"""

_EMBEDDINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    vector BLOB NOT NULL,
    created REAL NOT NULL
)
"""

#: lookups per store: all time, and of the last run that looked anything up
_USAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    store TEXT PRIMARY KEY,
    hits INTEGER NOT NULL,
    misses INTEGER NOT NULL,
    last_hits INTEGER NOT NULL,
    last_misses INTEGER NOT NULL
)
"""

#: the stores of one cache file: table, the column holding values, what an entry is
STORES = {
    "translations": ("translations", "translation", "translations"),
    "statistics": ("statistics", "stats", "segment statistics"),
    "embeddings": ("embeddings", "vector", "sentence embeddings"),
}

#: how long an open or a write waits for another process that holds the cache's lock
BUSY_TIMEOUT_S = 30.0
#: a lookup renews an entry's last-use stamp only when it is older than this: LRU needs
#: the day an entry was last used, not the second, and a warm rerun then writes nothing
TOUCH_EVERY_S = 3600.0
#: the column added to each store for LRU: when a lookup last found the entry
USED_COLUMN = "used"
#: an entry's last use: the last lookup that found it, else when it was written
LAST_USED = "COALESCE(used, created)"
#: SQLite's default limit on the parameters of one statement is 32,766; stay well below
LOOKUP_CHUNK = 900


class CacheFile:
    """One open cache file: the connection, its write transactions and last-use stamps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a cache busy with another run is not an error: this one waits for the lock.
        # isolation_level=None: no implicit transactions; writes begin their own (_write)
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as error:
            self._db.close()
            if _is_busy(error):
                raise UserInputError(
                    f"the translation cache stayed locked by another process for "
                    f"{BUSY_TIMEOUT_S:.0f} s; run again, or pass --cache FILE or --no-cache",
                    self.path,
                ) from None
            raise UserInputError(
                f"the translation cache is not a readable SQLite file ({error}); move it "
                f"aside (mv {self.path} {self.path}.broken) and run again, or pass "
                "--cache FILE or --no-cache",
                self.path,
            ) from None

    def _open(self) -> None:
        """WAL mode, the table, and the column a file from an older evalkit lacks."""
        self._set_wal()
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._write():
            self._db.execute(_SCHEMA)
            self._db.execute(_STATISTICS_SCHEMA)
            self._db.execute(_EMBEDDINGS_SCHEMA)
            self._db.execute(_USAGE_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(translations)")}
            if "truncated" not in columns:  # a cache file written before the column existed
                self._db.execute(
                    "ALTER TABLE translations ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0"
                )
            for table, _, _ in STORES.values():
                # the last-use stamp, nullable: an older evalkit, which names its columns
                # when it writes, keeps reading and writing the file (its rows get NULL)
                columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if USED_COLUMN not in columns:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {USED_COLUMN} REAL")

    def _set_wal(self) -> None:
        """Switch the file to WAL (a no-op once it is). Switching needs the file to itself,
        and SQLite answers "database is locked" at once instead of waiting when another
        process has it open: two runs starting together on a new cache file. So retry."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL").fetchall()
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.01, 0.05))

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction. BEGIN IMMEDIATE takes the write lock first, waiting for
        it through the busy timeout; a deferred transaction that read before writing could
        instead fail at once with "database is locked" when another process wrote since."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    def _touch(self, table: str, keys: Sequence[str]) -> None:
        """Stamp entries a lookup found as used now: one transaction; skipped when it
        fails (a stamp is what LRU pruning goes by, never worth failing a run over)."""
        if not keys:
            return
        now = time.time()
        with suppress(sqlite3.Error), self._write():
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                self._db.execute(
                    f"UPDATE {table} SET {USED_COLUMN} = ? WHERE key IN ({marks})", [now, *chunk]
                )


def _is_busy(error: sqlite3.Error) -> bool:
    return "locked" in str(error) or "busy" in str(error)
