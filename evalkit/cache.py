"""A content-addressed translation cache in SQLite.

Key: sha256 of (engine fingerprint, source language, target language, source text). A
translation is stored as soon as the engine hands it over (a batch engine at the end of
its batch, a served model request by request), each in its own commit, in WAL mode, so an
interrupted run (Ctrl-C, kill -9, a lost connection) loses only what was in flight and a
rerun translates only what is missing. Identical inputs to an identical engine are never
translated twice. Whether the generation cap cut a translation off is kept with it, so a
rerun from the cache flags the same segments.

Several runs may share one cache file at once. Every write is its own `BEGIN IMMEDIATE`
transaction, which waits (up to `BUSY_TIMEOUT_S`) for the write lock instead of failing;
switching a new file to WAL, which SQLite does not wait for, is retried for as long.

Every entry carries when a lookup last found it (`used`, NULL until one does: `created`
stands in), for `evalkit cache prune --max-size` to drop the least recently used first. A
lookup renews the stamps it finds older than `TOUCH_EVERY_S`, in one small transaction of
its own, so rerunning the same work writes nothing; a stamp that cannot be written (the
file busy past the timeout) is skipped, never an error of the run. `prune` deletes in
short transactions of its own, each re-checking that the entry is still unused, so a run
writing meanwhile waits milliseconds and keeps what it writes.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from evalkit.errors import UserInputError
from evalkit.unit_translation import Translation

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


def default_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir("evalkit")) / "translations.sqlite"


def cache_key(engine: str, src_lang: str, tgt_lang: str, source: str) -> str:
    blob = json.dumps([engine, src_lang, tgt_lang, source], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class StoreInfo:
    """One store of the cache file: what it holds and how often lookups found it."""

    name: str
    entries: int
    #: bytes of keys and values (the file also holds indexes and free pages)
    size_bytes: int
    hits: int
    misses: int
    #: the lookups of the last run that used this store
    last_hits: int
    last_misses: int

    @staticmethod
    def rate(hits: int, misses: int) -> float | None:
        return hits / (hits + misses) if hits + misses else None


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One entry as pruning sees it: where it is, its bytes, when it was last used and,
    for a translation, the engine configuration and languages it belongs to."""

    store: str
    key: str
    #: bytes of key and value, as `StoreInfo.size_bytes` counts them
    size: int
    last_used: float
    #: (engine fingerprint hash, source language, target language); None outside translations
    origin: tuple[str, str, str] | None = None


@dataclass
class CacheInfo:
    path: Path
    entries: int
    engines: int
    size_bytes: int


class TranslationCache:
    """get_many / put_many over one SQLite file; counts hits and misses of this session."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
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
        #: the metric statistics and sentence embeddings kept in the same file
        self.statistics = StatisticsTable(self)
        self.embeddings = EmbeddingsTable(self)
        self.hits = 0
        self.misses = 0

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

    def get_many(self, keys: list[str]) -> dict[str, Translation]:
        found: dict[str, Translation] = {}
        stale: list[str] = []
        renew_before = time.time() - TOUCH_EVERY_S
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, translation, truncated, {LAST_USED} FROM translations "
                f"WHERE key IN ({marks})",
                chunk,
            )
            for key, text, cut, used in rows:
                found[key] = Translation(text, bool(cut))
                if used < renew_before:
                    stale.append(key)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        self._touch("translations", stale)
        return found

    def _touch(self, table: str, keys: Sequence[str]) -> None:
        """Stamp entries a lookup found as used now: one transaction; skipped when it
        fails (a stamp is what LRU pruning goes by, never worth failing a run over)."""
        if not keys:
            return
        now = time.time()
        with suppress(sqlite3.Error), self._write():
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                self._db.execute(
                    f"UPDATE {table} SET {USED_COLUMN} = ? WHERE key IN ({marks})", [now, *chunk]
                )

    def put_many(
        self,
        engine: str,
        src_lang: str,
        tgt_lang: str,
        pairs: Iterable[tuple[str, Translation]],
    ) -> None:
        """Store (source, translation) pairs and commit at once: one call, one transaction."""
        now = time.time()
        rows = [
            (
                cache_key(engine, src_lang, tgt_lang, src),
                engine,
                src_lang,
                tgt_lang,
                src,
                hyp.text,
                now,
                int(hyp.truncated),
            )
            for src, hyp in pairs
        ]
        with self._write():
            self._db.executemany(
                "INSERT OR REPLACE INTO translations "
                "(key, engine, src_lang, tgt_lang, source, translation, created, truncated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def info(self) -> CacheInfo:
        entries, engines = self._db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT engine) FROM translations"
        ).fetchone()
        size = sum(
            p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()
        )
        return CacheInfo(self.path, entries, engines, size)

    def stores(self) -> list[StoreInfo]:
        """Entries, bytes held and hit rates of each store in this file."""
        usage = {
            row[0]: row[1:]
            for row in self._db.execute(
                "SELECT store, hits, misses, last_hits, last_misses FROM usage"
            )
        }
        found = []
        for name, (table, column, _) in STORES.items():
            entries, size = self._db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH({column})), 0) FROM {table}"
            ).fetchone()
            hits, misses, last_hits, last_misses = usage.get(name, (0, 0, 0, 0))
            found.append(StoreInfo(name, entries, size, hits, misses, last_hits, last_misses))
        return found

    def clear(self, engine: str | None = None, stores: Iterable[str] = ("translations",)) -> int:
        """Delete the entries of `stores` (translations: only `engine`'s when given)."""
        removed = 0
        with self._write():
            for name in stores:
                table = STORES[name][0]
                if name == "translations" and engine is not None:
                    query, args = "DELETE FROM translations WHERE engine = ?", (engine,)
                else:
                    query, args = f"DELETE FROM {table}", ()
                removed += self._db.execute(query, args).rowcount
                self._db.execute("DELETE FROM usage WHERE store = ?", (name,))
        self._db.execute("VACUUM")
        return removed

    def entries(self, store: str) -> list[CacheEntry]:
        """Every entry of `store` with its size and last use (one read)."""
        table, column, _ = STORES[store]
        size = f"LENGTH(key) + LENGTH({column})"
        if store == "translations":
            rows = self._db.execute(
                f"SELECT key, {size}, {LAST_USED}, engine, src_lang, tgt_lang FROM translations"
            )
            return [CacheEntry(store, k, n, used, (e, s, t)) for k, n, used, e, s, t in rows]
        rows = self._db.execute(f"SELECT key, {size}, {LAST_USED} FROM {table}")
        return [CacheEntry(store, k, n, used) for k, n, used in rows]

    def delete(self, store: str, keys: Sequence[str], unused_since: float) -> tuple[int, int]:
        """Delete the entries of `keys` still unused since `unused_since` (a time.time()):
        one short transaction per chunk, each checking the stamp again, so an entry that a
        run wrote or found after the plan was made stays. Returns (entries, bytes) removed."""
        table, column, _ = STORES[store]
        removed = freed = 0
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = list(keys[start : start + _LOOKUP_CHUNK])
            where = f"key IN ({','.join('?' * len(chunk))}) AND {LAST_USED} < ?"
            with self._write():
                count, size = self._db.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH({column})), 0) "
                    f"FROM {table} WHERE {where}",
                    [*chunk, unused_since],
                ).fetchone()
                self._db.execute(f"DELETE FROM {table} WHERE {where}", [*chunk, unused_since])
            removed += count
            freed += size
        return removed, freed

    def vacuum(self) -> None:
        """Give the free pages back to the file system (rewrites the file: it holds the
        write lock throughout, and runs writing meanwhile wait for it)."""
        self._db.execute("VACUUM")

    def _record_usage(self) -> None:
        """Add this process's lookups to each store's counts (for `evalkit cache info`)."""
        counts = {
            "translations": (self.hits, self.misses),
            "statistics": (self.statistics.hits, self.statistics.misses),
            "embeddings": (self.embeddings.hits, self.embeddings.misses),
        }
        rows = [(name, h, m) for name, (h, m) in counts.items() if h or m]
        if not rows:
            return
        with self._write():
            self._db.executemany(
                "INSERT INTO usage VALUES (?1, ?2, ?3, ?2, ?3) ON CONFLICT(store) DO UPDATE "
                "SET hits = hits + ?2, misses = misses + ?3, last_hits = ?2, last_misses = ?3",
                rows,
            )

    def close(self) -> None:
        with suppress(sqlite3.Error):  # counts are a convenience: never fail a run on them
            self._record_usage()
        self._db.close()

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_busy(error: sqlite3.Error) -> bool:
    return "locked" in str(error) or "busy" in str(error)


#: SQLite's default limit on the parameters of one statement is 32,766; stay well below
_LOOKUP_CHUNK = 900


class _KeyedTable:
    """A key → value table in the cache file: looked up in chunks, written in one
    transaction per call (so a killed run keeps every finished call), hits counted."""

    table = ""

    def __init__(self, cache: TranslationCache) -> None:
        self._cache = cache
        self.hits = 0
        self.misses = 0

    def _get(self, keys: Sequence[str], column: str) -> dict[str, object]:
        found: dict[str, object] = {}
        stale: list[str] = []
        renew_before = time.time() - TOUCH_EVERY_S
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, {column}, {LAST_USED} FROM {self.table} WHERE key IN ({marks})"
            for key, value, used in self._cache._db.execute(query, chunk):
                found[key] = value
                if used < renew_before:
                    stale.append(key)
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        self._cache._touch(self.table, stale)
        return found

    def _put(self, rows: list[tuple[str, object]], column: str) -> None:
        if not rows:
            return
        now = time.time()
        with self._cache._write():
            self._cache._db.executemany(
                f"INSERT OR REPLACE INTO {self.table} (key, {column}, created) VALUES (?, ?, ?)",
                [(key, value, now) for key, value in rows],
            )

    def count(self) -> int:
        return int(self._cache._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def clear(self) -> int:
        with self._cache._write():
            return int(self._cache._db.execute(f"DELETE FROM {self.table}").rowcount)


class StatisticsTable(_KeyedTable):
    """Metric statistics per segment, keyed by the metric's signature and the segment's
    texts (see evalkit/scoring.py `statistics_key`)."""

    table = "statistics"

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        return {k: json.loads(v) for k, v in self._get(keys, "stats").items()}  # type: ignore[arg-type]

    def put_many(self, stats: dict[str, list[float]]) -> None:
        self._put([(k, json.dumps(v)) for k, v in stats.items()], "stats")


class EmbeddingsTable(_KeyedTable):
    """Sentence embeddings (float32), keyed by encoder name and text (see
    evalkit/embeddings.py `embedding_key`)."""

    table = "embeddings"

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {
            k: np.frombuffer(v, dtype=np.float32)  # type: ignore[arg-type]
            for k, v in self._get(keys, "vector").items()
        }

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        self._put(rows, "vector")
