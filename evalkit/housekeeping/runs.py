"""Deleting stored runs: which ones (`runs rm`, `runs prune`), what references them, and
the deletion itself, crash-safe.

A run folder is first renamed to a hidden staging name, `.tmp-rm-<run-id>~PID@HOST`, then
deleted. The rename is atomic, so every reader sees the whole run or no run; a deletion
killed half-way leaves only a hidden folder, which readers ignore and the next write into
the results folder (or the next `runs rm` / `runs prune`) removes once its process has
ended (evalkit/atomic.py `sweep`).

Human judgments reference runs by id (evalkit/judgments/store.py). A judged run is never
deleted unless asked (`with_judgments`): judgments are human work no rerun gives back.
When asked, the run's judgments are first written to
`<results>/deleted-judgments/<run-id>.jsonl` (the `evalkit judgments export` format:
segment ids are stable across runs of a test set, so `evalkit judgments import FILE
--run OTHER` attaches them to another run of it), then deleted from the store with the
run's queues in one transaction, and only then is the run renamed away. Killed between
those steps, what is left is a run without judgments and their copy: never judgments
of a run that is gone.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from evalkit.atomic import fsync_dir, owner_tag, sweep, write_text
from evalkit.errors import UserInputError
from evalkit.housekeeping.units import folder_size
from evalkit.judgments import jsonl
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from evalkit.record import (
    STAGING_PREFIX,
    RunRecord,
    find_run,
    read_record,
    scan_runs,
)

#: where the judgments of runs deleted with `--with-judgments` are kept, in the results folder
DELETED_JUDGMENTS_DIR = "deleted-judgments"
#: the start of the hidden name a run folder takes while it is being deleted
DELETING_PREFIX = f"{STAGING_PREFIX}rm-"


@dataclass(frozen=True)
class StoredRun:
    """A run on disk and what deleting it involves."""

    record: RunRecord
    folder: Path
    size_bytes: int
    #: judgments in the results folder's store that reference this run
    judgments: int

    @property
    def run_id(self) -> str:
        return self.record.run_id


@dataclass
class Deletion:
    """What was deleted: runs, the bytes freed, and where deleted judgments were kept."""

    runs: list[StoredRun] = field(default_factory=list)
    freed_bytes: int = 0
    judgments: int = 0
    judgment_copies: list[Path] = field(default_factory=list)


def judgment_counts(results_dir: Path) -> dict[str, int]:
    """Judgments per run id in `results_dir`'s store; empty (and no store made) without one."""
    if not (results_dir / JUDGMENTS_FILE).is_file():
        return {}
    return JudgmentStore.in_results(results_dir).counts_by_run()


def list_stored_runs(results_dir: Path) -> tuple[list[StoredRun], list[UserInputError]]:
    """Every readable run, oldest first, with its judgments (sizes left at 0: see
    `measured`); and why other run folders cannot be read."""
    records, problems = scan_runs(results_dir)
    counts = judgment_counts(results_dir)
    runs = [
        StoredRun(record, results_dir / record.run_id, 0, counts.get(record.run_id, 0))
        for record in records
    ]
    return runs, problems


def measured(runs: list[StoredRun]) -> list[StoredRun]:
    """The runs with their sizes on disk (which walks each folder: done for the chosen)."""
    return [replace(run, size_bytes=folder_size(run.folder)) for run in runs]


def resolve_runs(results_dir: Path, refs: list[str]) -> list[StoredRun]:
    """The runs named by ids, unique prefixes, `latest` or paths, each once, in the order
    given; an unknown or ambiguous name stops everything before anything is deleted."""
    if not refs:
        raise UserInputError("name at least one run (an id, a unique prefix, or 'latest')")
    chosen: dict[Path, StoredRun] = {}
    for ref in refs:
        folder = find_run(results_dir, ref).resolve()
        if folder in chosen:
            continue
        record = read_record(folder)
        counts = judgment_counts(folder.parent)
        chosen[folder] = StoredRun(
            record, folder, folder_size(folder), counts.get(record.run_id, 0)
        )
    return list(chosen.values())


def select_for_pruning(
    runs: list[StoredRun], keep: int | None, older_than_s: float | None, now: datetime | None = None
) -> list[StoredRun]:
    """The runs `runs prune` deletes: past the `keep` newest, and finished more than
    `older_than_s` ago; with both, only runs that satisfy both (each protects runs)."""
    if keep is None and older_than_s is None:
        raise UserInputError("say what to prune: --keep N (newest kept) or --older-than AGE")
    now = now or datetime.now(timezone.utc)
    candidates = runs[: max(0, len(runs) - keep)] if keep is not None else list(runs)
    if older_than_s is None:
        return candidates
    return [run for run in candidates if (now - _finished(run)).total_seconds() > older_than_s]


def _finished(run: StoredRun) -> datetime:
    stamp = datetime.fromisoformat(run.record.finished)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def judged(runs: list[StoredRun]) -> list[StoredRun]:
    return [run for run in runs if run.judgments]


def refuse_judged(runs: list[StoredRun]) -> None:
    """One line naming the judged runs, exit 2: deleting them needs `--with-judgments`."""
    found = judged(runs)
    if found:
        named = ", ".join(f"{run.run_id} ({run.judgments} judgments)" for run in found)
        raise UserInputError(
            f"judgments reference {_runs(len(found))}: {named}; keep the run, or pass "
            "--with-judgments to delete them too (a copy is kept in "
            f"{DELETED_JUDGMENTS_DIR}/)"
        )


def delete_runs(runs: list[StoredRun], with_judgments: bool = False) -> Deletion:
    """Delete each run (its judgments too when `with_judgments`), one after the other.

    Leftovers of an earlier deletion killed half-way are removed first."""
    done = Deletion()
    for folder in {run.folder.parent for run in runs}:
        sweep(folder, STAGING_PREFIX)
    for run in runs:
        copy, judgments = _delete_run(run, with_judgments)
        done.runs.append(run)
        done.freed_bytes += run.size_bytes
        done.judgments += judgments
        if copy is not None:
            done.judgment_copies.append(copy)
    return done


def _delete_run(run: StoredRun, with_judgments: bool) -> tuple[Path | None, int]:
    """The run's judgments (copied aside, then deleted) and queues, then the rename away,
    then the folder. Returns the copy of its judgments, if any, and how many."""
    results_dir = run.folder.parent
    copy, deleted = None, 0
    if (results_dir / JUDGMENTS_FILE).is_file():
        store = JudgmentStore.in_results(results_dir)
        if store.counts_by_run().get(run.run_id) and not with_judgments:
            refuse_judged([run])  # judged since the runs were chosen
        copy, deleted = _set_judgments_aside(store, results_dir, run.run_id)
    staging = results_dir / f"{DELETING_PREFIX}{run.run_id}{owner_tag()}"
    os.rename(run.folder, staging)
    fsync_dir(results_dir)
    shutil.rmtree(staging, ignore_errors=True)
    return copy, deleted


def _set_judgments_aside(
    store: JudgmentStore, results_dir: Path, run_id: str
) -> tuple[Path | None, int]:
    """Copy a run's judgments to DELETED_JUDGMENTS_DIR, then delete them and its queues
    from the store. The copy is written before the deletion, and again after it if the
    deleting transaction found others (saved in between by a judging session): no
    judgment is ever deleted without a copy."""
    copy = results_dir / DELETED_JUDGMENTS_DIR / f"{run_id}.jsonl"
    before = store.judgments(run_id)
    if before:
        write_text(copy, jsonl.dumps(before))
    deleted = store.forget_run(run_id)
    if deleted and deleted != before:
        write_text(copy, jsonl.dumps(deleted))
    return (copy if deleted else None), len(deleted)


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"
