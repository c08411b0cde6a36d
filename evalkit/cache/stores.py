"""The statistics and embeddings stores of the cache file: key → value tables.

Kept apart from the translations store (`cache.py`), which has its own columns (engine,
languages, whether the cap cut the text off) and the cache's administration, because
these two are alike and plain: a key made by their user (a metric's signature and a
segment's texts, an encoder's name and a text) and one value each, which a rerun reads
back instead of computing it again. They live in the same file (`cache_file.py`), reached
through the `statistics` and `embeddings` attributes of `TranslationCache`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import numpy as np

from evalkit.cache.file import LAST_USED, LOOKUP_CHUNK, TOUCH_EVERY_S, CacheFile


class _KeyedTable:
    """A key → value table in the cache file: looked up in chunks, written in one
    transaction per call (so a killed run keeps every finished call), hits counted."""

    table = ""

    def __init__(self, cache: CacheFile) -> None:
        self._cache = cache
        self.hits = 0
        self.misses = 0

    def _get(self, keys: Sequence[str], column: str) -> dict[str, object]:
        found: dict[str, object] = {}
        stale: list[str] = []
        renew_before = time.time() - TOUCH_EVERY_S
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
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
    texts (see evalkit/scoring/system.py `statistics_key`)."""

    table = "statistics"

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        return {k: json.loads(v) for k, v in self._get(keys, "stats").items()}  # type: ignore[arg-type]

    def put_many(self, stats: dict[str, list[float]]) -> None:
        self._put([(k, json.dumps(v)) for k, v in stats.items()], "stats")


class EmbeddingsTable(_KeyedTable):
    """Sentence embeddings (float32), keyed by encoder name and text (see
    evalkit/embeddings/__init__.py `embedding_key`)."""

    table = "embeddings"

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {
            k: np.frombuffer(v, dtype=np.float32)  # type: ignore[arg-type]
            for k, v in self._get(keys, "vector").items()
        }

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        self._put(rows, "vector")
