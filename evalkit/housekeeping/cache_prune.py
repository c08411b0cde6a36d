"""Which entries of the cache file `evalkit cache prune` removes, and removing them.

Two rules; neither touches an entry used (found or written) within `keep_recent_s`, so a
run in progress, whose run is not stored yet, keeps everything it works with:

- unused by the stored runs of the given results folders:
  * translations are traced by the columns each row keeps (engine fingerprint hash,
    source and target language): a row is needed while a stored run has a system of that
    fingerprint translating that language pair. Per engine configuration and language
    pair, not per text: runs do not keep their translation units (sentences, or the
    paragraphs an alignment joined), so a text no run has any more stays until LRU.
    Chat replies kept in the same table (`CACHE_LANGS`: the LLM judge's and a chat
    engine's, keyed by a digest of the chat model no run records) cannot be traced, and
    cost a model call each: LRU only.
  * statistics are traced exactly: the key of every (metric signature, hypothesis,
    references, source) of every row, system and metric of every stored run is computed
    again (evalkit/scoring/system.py `statistics_key`), as `compare` looks them up.
  * embeddings cannot be traced: the key hashes an encoder's name with a text runs do not
    keep (alignment sentences), and the table has no encoder column. LRU only.
- least recently used first, until keys and values of all stores fit in `max_size`.

A lookup renews an entry's stamp only once it is an hour old (evalkit/cache_file.py
`TOUCH_EVERY_S`), so a `keep_recent_s` under an hour may remove what a run in progress
found in the last hour; the default (a day) never does.

The plan is made from one read; applying it deletes in short transactions that check
each entry's stamp again (evalkit/cache.py `TranslationCache.delete`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.align.units import references_of
from evalkit.cache import CacheEntry, TranslationCache
from evalkit.cache.file import STORES
from evalkit.engines.chat_completion import CACHE_LANGS
from evalkit.errors import UserInputError
from evalkit.record import RunRecord, read_segments, scan_runs
from evalkit.scoring.system import statistics_key

#: stores whose keys cannot be traced back to runs: pruned by LRU only
UNTRACED = ("embeddings",)
#: what the unused rule spares by default: a day covers any run still in progress
DEFAULT_KEEP_RECENT_S = 86_400.0


@dataclass
class StorePrune:
    """One store: what it holds, and what each rule removes from it."""

    store: str
    entries: int = 0
    size_bytes: int = 0
    unused: int = 0
    unused_bytes: int = 0
    lru: int = 0
    lru_bytes: int = 0
    #: whether entries can be traced back to runs (else LRU only)
    traced: bool = True

    @property
    def removed(self) -> int:
        return self.unused + self.lru

    @property
    def removed_bytes(self) -> int:
        return self.unused_bytes + self.lru_bytes


@dataclass
class CachePrunePlan:
    """What `cache prune` would remove from the cache file, and why."""

    path: Path
    #: the results folders whose runs count as users; empty when the unused rule is off
    results_dirs: list[Path]
    runs: int
    #: entries used at or after this time.time() are spared
    spare_since: float
    max_size: int | None
    stores: list[StorePrune]
    #: store -> keys to delete
    doomed: dict[str, list[str]] = field(default_factory=dict)
    #: why some runs could not be read (their entries may go)
    problems: list[str] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return sum(s.removed for s in self.stores)

    @property
    def removed_bytes(self) -> int:
        return sum(s.removed_bytes for s in self.stores)

    @property
    def size_after(self) -> int:
        return sum(s.size_bytes for s in self.stores) - self.removed_bytes

    @property
    def over_limit(self) -> bool:
        """Still above --max-size: what is left was used too recently to remove."""
        return self.max_size is not None and self.size_after > self.max_size


def plan_cache_prune(
    cache: TranslationCache,
    results_dirs: list[Path] | None,
    keep_recent_s: float = DEFAULT_KEEP_RECENT_S,
    max_size: int | None = None,
    now: float | None = None,
) -> CachePrunePlan:
    """Decide what goes: unused by the runs of `results_dirs` (None: that rule is off),
    then least recently used beyond `max_size`; nothing used within `keep_recent_s`."""
    spare_since = (time.time() if now is None else now) - keep_recent_s
    entries = {name: cache.entries(name) for name in STORES}
    stores = {
        name: StorePrune(name, len(rows), sum(e.size for e in rows), traced=name not in UNTRACED)
        for name, rows in entries.items()
    }
    plan = CachePrunePlan(
        cache.path, list(results_dirs or []), 0, spare_since, max_size, list(stores.values())
    )
    doomed: dict[str, dict[str, CacheEntry]] = {name: {} for name in STORES}
    if results_dirs is not None:
        records, folders = _stored_runs(results_dirs, plan.problems)
        plan.runs = len(records)
        for entry in _unused(entries, records, folders, spare_since, plan.problems):
            doomed[entry.store][entry.key] = entry
            stores[entry.store].unused += 1
            stores[entry.store].unused_bytes += entry.size
    if max_size is not None:
        left = [e for rows in entries.values() for e in rows if e.key not in doomed[e.store]]
        total = sum(e.size for e in left)
        for entry in sorted(left, key=lambda e: e.last_used):
            if total <= max_size or entry.last_used >= spare_since:
                break
            doomed[entry.store][entry.key] = entry
            stores[entry.store].lru += 1
            stores[entry.store].lru_bytes += entry.size
            total -= entry.size
    plan.doomed = {name: list(keys) for name, keys in doomed.items() if keys}
    return plan


def apply_cache_prune(cache: TranslationCache, plan: CachePrunePlan) -> tuple[int, int]:
    """Delete what the plan names, sparing what was used since; (entries, bytes) removed."""
    removed = freed = 0
    for store, keys in plan.doomed.items():
        count, size = cache.delete(store, keys, plan.spare_since)
        removed += count
        freed += size
    return removed, freed


def _stored_runs(
    results_dirs: list[Path], problems: list[str]
) -> tuple[list[RunRecord], list[Path]]:
    """Every readable run of the folders; a folder that does not exist is refused (the
    wrong working folder would make every entry look unused)."""
    records, folders = [], []
    for results_dir in results_dirs:
        if not results_dir.is_dir():
            raise UserInputError(
                "no such results folder: every entry would look unused; pass the folder "
                "runs are stored in (--results-dir, repeatable), or --no-unused for LRU only",
                results_dir,
            )
        found, unreadable = scan_runs(results_dir)
        problems.extend(str(problem) for problem in unreadable)
        records.extend(found)
        folders.extend(results_dir / record.run_id for record in found)
    return records, folders


def _unused(
    entries: dict[str, list[CacheEntry]],
    records: list[RunRecord],
    folders: list[Path],
    spare_since: float,
    problems: list[str],
) -> Iterator[CacheEntry]:
    """The traced entries no stored run needs and nobody used since `spare_since`."""
    origins = {
        (system.fingerprint_hash, doc.src_lang, record.test_set.tgt_lang)
        for record in records
        for system in record.systems
        for doc in record.test_set.documents
    }
    for entry in entries["translations"]:
        if entry.origin is None or tuple(entry.origin[1:]) == CACHE_LANGS:
            continue  # a chat reply: not traceable
        if entry.last_used < spare_since and entry.origin not in origins:
            yield entry
    candidates = {e.key: e for e in entries["statistics"] if e.last_used < spare_since}
    for record, folder in zip(records, folders, strict=True):
        if not candidates:
            break
        try:
            for key in statistics_keys(record, read_segments(folder)):
                candidates.pop(key, None)
        except UserInputError as problem:  # deleted or broken since it was listed
            problems.append(str(problem))
    yield from candidates.values()


def statistics_keys(record: RunRecord, rows: Iterable) -> Iterator[str]:
    """The statistics keys a stored run's rows look up: per row, system and metric, as
    scoring and `compare` compute them (evalkit/scoring/system.py `statistics_key`)."""
    labels = [system.label for system in record.systems]
    for row in rows:
        references = references_of(row.ref, row.more_refs) if row.ref is not None else None
        for metric in record.metrics:
            if metric.needs_reference and references is None:
                continue
            if not metric.needs_reference and not row.src_ids:
                continue
            refs = references if metric.needs_reference else None
            for label in labels:
                hypothesis = row.hyp.get(label)
                if hypothesis is not None:
                    yield statistics_key(metric.signature, hypothesis, refs, row.src)
