"""Runs on disk: atomic writes, listing and reading old runs back.

A run is written into a hidden temporary folder beside its final place and renamed
into place at the end, so a crash or Ctrl-C never leaves a half-written run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from evalkit.atomic import fsync_dir, owner_tag, sweep
from evalkit.errors import UserInputError
from evalkit.record.schema import (
    READABLE_VERSIONS,
    RUN_FILE,
    SEGMENTS_FILE,
    STAGING_PREFIX,
    RunRecord,
    SegmentRow,
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(name: str | None) -> str:
    """Sortable by time, readable, and unique even for two runs in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:40] if name else ""
    parts = [stamp, slug, secrets.token_hex(2)]
    return "-".join(part for part in parts if part)


def write_run(results_dir: Path, record: RunRecord, rows: Iterable[SegmentRow]) -> Path:
    """Write a run atomically and return its folder.

    The files go to a hidden staging folder, `.tmp-<run-id>~PID@HOST`, renamed into place
    once complete. kill -9 can leave the staging folder behind: no reader sees it, and the
    next run stored in the same folder removes it (see evalkit/atomic.py)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    sweep(results_dir, STAGING_PREFIX)
    final = results_dir / record.run_id
    if final.exists():
        raise FileExistsError(final)
    staging = results_dir / f"{STAGING_PREFIX}{record.run_id}{owner_tag()}"
    staging.mkdir()
    try:
        with open(staging / SEGMENTS_FILE, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(row.model_dump_json() + "\n")
            out.flush()
            os.fsync(out.fileno())
        with open(staging / RUN_FILE, "w", encoding="utf-8") as out:
            out.write(record.model_dump_json(indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(results_dir)
    return final


def list_runs(results_dir: Path) -> list[RunRecord]:
    """Every readable run in `results_dir`, oldest first; unreadable folders are left out
    (`scan_runs` says why)."""
    return scan_runs(results_dir)[0]


def scan_runs(results_dir: Path) -> tuple[list[RunRecord], list[UserInputError]]:
    """The readable runs, oldest first, and why each other run folder cannot be read.

    Hidden folders (a run being written, or one a crash left half-written) are not runs.
    Ordered by start time, then, for runs started in the same second (the record keeps
    whole seconds), by when the record was written: never by the random part of the id."""
    if not results_dir.is_dir():
        return [], []
    found, problems = [], []
    for folder in results_dir.iterdir():
        if folder.name.startswith(".") or not (folder / RUN_FILE).is_file():
            continue
        try:
            record = read_record(folder)
            written = (folder / RUN_FILE).stat().st_mtime_ns
        except RunGone:
            continue  # deleted while listed (`evalkit runs rm`): not a run any more
        except FileNotFoundError:
            continue
        except UserInputError as problem:
            problems.append(problem)
            continue
        found.append(((record.started, written), record))
    records = [record for _, record in sorted(found, key=lambda item: item[0])]
    return records, sorted(problems, key=str)


def find_run(results_dir: Path, ref: str) -> Path:
    """A run folder from its id, a unique id prefix, `latest`, or a path."""
    as_path = Path(ref)
    if as_path.name.startswith(STAGING_PREFIX):
        raise UserInputError("not a run: what an interrupted write left behind", ref)
    if (as_path / RUN_FILE).is_file():
        return as_path
    named = results_dir / ref
    if ref not in ("", ".", "..") and "/" not in ref and (named / RUN_FILE).is_file():
        return named  # readable or not: reading it names the broken file
    ids = [record.run_id for record in list_runs(results_dir)]
    if ref == "latest":
        if not ids:
            raise UserInputError("no runs yet", results_dir)
        return results_dir / ids[-1]
    matches = [run_id for run_id in ids if run_id == ref] or [
        run_id for run_id in ids if run_id.startswith(ref)
    ]
    if len(matches) == 1:
        return results_dir / matches[0]
    if not matches:
        raise UserInputError(f"no run {ref!r} (see `evalkit runs`)", results_dir)
    raise UserInputError(f"{ref!r} matches {len(matches)} runs: {', '.join(matches)}")


class RunGone(UserInputError):
    """The run's folder went away while it was being read: another process deleted it
    (`evalkit runs rm|prune` renames it away first, so it is there whole or not at all)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"run {folder.name!r} was deleted (see `evalkit runs`)", folder.parent)


def _missing(folder: Path, path: Path, what: str, err: OSError) -> UserInputError:
    """A file of a run that cannot be opened: the run deleted meanwhile, or a broken run."""
    if isinstance(err, FileNotFoundError) and not folder.exists():
        return RunGone(folder)
    return UserInputError(f"unreadable {what}: {err.strerror or err}", path)


def read_record(folder: Path) -> RunRecord:
    path = folder / RUN_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise _missing(folder, path, "run record", err) from None
    except ValueError as err:  # bad JSON or bad UTF-8
        raise UserInputError(f"unreadable run record: {err}", path) from None
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version not in READABLE_VERSIONS:
        raise UserInputError(
            f"run schema_version {version} is not readable by this evalkit "
            f"(reads {', '.join(map(str, READABLE_VERSIONS))})",
            path,
        )
    try:
        return RunRecord.model_validate(raw)
    except ValidationError as err:
        raise UserInputError(f"invalid run record: {err.errors()[0]['msg']}", path) from None


def read_segments(folder: Path) -> Iterator[SegmentRow]:
    """The rows of a run, each validated; a missing, truncated or edited file is named
    with the line that is wrong."""
    path = folder / SEGMENTS_FILE
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as err:
        raise _missing(folder, path, "segments file", err) from None
    if lines and lines[-1] == b"":
        lines.pop()
    for line_no, line in enumerate(lines, start=1):
        try:
            yield SegmentRow.model_validate_json(line)
        except ValidationError as err:
            raise UserInputError(f"invalid row: {err.errors()[0]['msg']}", path, line_no) from None
