"""Which items an annotator judges, in which order, and what an attention check shows.

An annotator's queue is N source segments of the run, each shown once for every system
(so systems are compared on the same segments), in a shuffled order, plus K attention
checks: one system's item again, showing that system's translation of a *different*
segment, a translation known to be wrong for this source. Everything follows from the
seed and the run, and the queue is stored (JudgmentStore.set_queue), so a reload or a
restarted server shows the same items in the same order.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from evalkit.judgments.store import JudgmentStore, QueueItem
from evalkit.record import SegmentRow

DEFAULT_ITEMS = 20
DEFAULT_SEED = 1
#: attention checks per real item when --attention-checks is not given
ATTENTION_SHARE = 0.1
#: below this many segments no attention check is added unless asked for
ATTENTION_MIN_SEGMENTS = 5


def judgeable(rows: Sequence[SegmentRow], systems: Sequence[str]) -> list[SegmentRow]:
    """Rows with a source and a hypothesis of every system, in run order: only these can
    compare all systems on the same segment."""
    return [row for row in rows if row.src.strip() and all(s in row.hyp for s in systems)]


def default_attention_checks(segments: int, systems: int) -> int:
    """10% of the real items, rounded, and at least one once there are 5 segments."""
    checks = round(ATTENTION_SHARE * segments * systems)
    return max(checks, 1) if segments >= ATTENTION_MIN_SEGMENTS else checks


def decoy(rows: Sequence[SegmentRow], segment_id: str, system: str) -> str | None:
    """The bad translation an attention check shows: the same system's translation of
    another segment, not empty and not equal to the real one; None when there is none, or
    when the real translation is the source itself (a copy).

    Chosen by a hash of the item rather than the seed, so the check shows the same text
    however the queue was made (the run's rows never change)."""
    row = next((row for row in rows if row.id == segment_id), None)
    real = row.hyp.get(system, "") if row else ""
    if row is None or real.strip() == row.src.strip():
        # a copy of the source is already as bad as a translation gets: a check standing in
        # for it could only tie, and says nothing about the annotator
        return None
    candidates = [
        row.hyp[system]
        for row in rows
        if row.id != segment_id and row.hyp.get(system, "").strip() and row.hyp[system] != real
    ]
    if not candidates:
        return None
    digest = hashlib.sha256(f"{segment_id}\x1f{system}".encode()).digest()
    return candidates[int.from_bytes(digest[:8], "big") % len(candidates)]


def build_queue(
    rows: Sequence[SegmentRow],
    systems: Sequence[str],
    segments: int = DEFAULT_ITEMS,
    seed: int = DEFAULT_SEED,
    attention_checks: int | None = None,
    documents: Sequence[str] = (),
) -> list[QueueItem]:
    """A new queue: `segments` judgeable rows chosen with the seed (from `documents` only,
    when given), every system once per row, shuffled, with attention checks placed at
    random, never right beside the real item they stand in for. `attention_checks` None:
    the default share."""
    rng = random.Random(seed)
    pool = judgeable(rows, systems)
    if documents:
        pool = [row for row in pool if row.doc_id in documents]
    chosen = sorted(rng.sample(range(len(pool)), min(segments, len(pool))))
    real = [QueueItem(pool[i].id, system) for i in chosen for system in systems]
    rng.shuffle(real)
    if attention_checks is None:
        attention_checks = default_attention_checks(len(chosen), len(systems))
    possible = [it for it in real if decoy(rows, it.segment_id, it.system) is not None]
    checked = rng.sample(possible, min(attention_checks, len(possible)))
    queue = list(real)
    for item in checked:
        check = QueueItem(item.segment_id, item.system, attention_check=True)
        queue.insert(_position(queue, item, rng), check)
    return queue


def _position(queue: list[QueueItem], real: QueueItem, rng: random.Random) -> int:
    """A random insertion point not next to `real` (where the queue allows one)."""
    at = queue.index(real)
    allowed = [p for p in range(len(queue) + 1) if p not in (at, at + 1)]
    return rng.choice(allowed) if allowed else len(queue)


def annotator_queue(
    store: JudgmentStore,
    run_id: str,
    rows: Sequence[SegmentRow],
    systems: Sequence[str],
    annotator: str,
    protocol: str,
    segments: int = DEFAULT_ITEMS,
    seed: int = DEFAULT_SEED,
    attention_checks: int | None = None,
    documents: Sequence[str] = (),
) -> tuple[list[QueueItem], bool]:
    """The annotator's stored queue for this run and protocol, or a new one stored now;
    and whether it was stored before (then `segments`, `seed` and `attention_checks` are
    not used: the annotator keeps the items already begun)."""
    stored = store.queue(run_id, annotator, protocol)
    if stored:
        return stored, True
    queue = build_queue(rows, systems, segments, seed, attention_checks, documents)
    store.set_queue(run_id, annotator, protocol, queue)
    return queue, False


def neighbours(
    rows: Sequence[SegmentRow], segment_id: str
) -> tuple[SegmentRow | None, SegmentRow | None]:
    """The rows before and after a segment in its document (run order), for context."""
    at = next(i for i, row in enumerate(rows) if row.id == segment_id)
    doc = rows[at].doc_id
    before = rows[at - 1] if at > 0 and rows[at - 1].doc_id == doc else None
    after = rows[at + 1] if at + 1 < len(rows) and rows[at + 1].doc_id == doc else None
    return before, after
