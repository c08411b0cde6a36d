"""A content-addressed translation cache in SQLite.

Key: sha256 of (engine fingerprint, source language, target language, source text). A
translation is stored as soon as the engine hands it over (a batch engine at the end of
its batch, a served model request by request), each in its own commit, in WAL mode, so an
interrupted run (Ctrl-C, kill -9, a lost connection) loses only what was in flight and a
rerun translates only what is missing. Identical inputs to an identical engine are never
translated twice. Whether the generation cap cut a translation off is kept with it, so a
rerun from the cache flags the same segments.

Several runs may share one cache file at once: each write is its own transaction, which
waits for the write lock instead of failing (the file's plumbing: `cache_file.py`).

Every entry carries when a lookup last found it (`used`, NULL until one does: `created`
stands in), for `evalkit cache prune --max-size` to drop the least recently used first; a
lookup renews only stamps older than an hour (`cache_file.TOUCH_EVERY_S`), so rerunning the
same work writes nothing. `prune` deletes in short transactions of its own, each
re-checking that the entry is still unused, so a run writing meanwhile waits milliseconds
and keeps what it writes.

The metric statistics and sentence embeddings kept in the same file: `cache_stores.py`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from evalkit.cache.file import LAST_USED, LOOKUP_CHUNK, STORES, TOUCH_EVERY_S, CacheFile
from evalkit.cache.stores import EmbeddingsTable, StatisticsTable
from evalkit.cache.translation import Translation


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


class TranslationCache(CacheFile):
    """get_many / put_many over one SQLite file; counts hits and misses of this session."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or default_cache_path())
        #: the metric statistics and sentence embeddings kept in the same file
        self.statistics = StatisticsTable(self)
        self.embeddings = EmbeddingsTable(self)
        self.hits = 0
        self.misses = 0

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
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = list(keys[start : start + LOOKUP_CHUNK])
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
