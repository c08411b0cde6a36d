"""Runs on disk: the record schema, atomic writes, and reading old runs back.

Layout of one run, `results/<run-id>/`:
  run.json        the RunRecord below (schema_version says how to read it)
  segments.jsonl  one SegmentRow per scoring unit, in test-set order

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
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from evalkit.atomic import fsync_dir, owner_tag, sweep
from evalkit.errors import UserInputError

SCHEMA_VERSION = 8
#: versions this code reads: 2 added alignment, skipped lines and per-row confidence; 3
#: added what served systems sent (requests, retries, tokens) and per-row system flags
#: (`truncated`); 4 added where the run's time went (`timings`); 5 added error spans per
#: row (`spans`, from metrics that mark them: xCOMET); 6 added a stable id per row (`id`,
#: derived from the document and line ids when an older row has none) and, for a run
#: scored again from a stored one, the run it came from (`rescored_from`); 7 added
#: `min_confidence` and, per aligned document, `unreliable` and `below_min_confidence`;
#: 8 added further references (`more_refs` per row, `more_reference_segments` per
#: document) and what the test set says of each document (`meta`: origlang, domain);
#: all with defaults, so older records read as runs without them
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8)
RUN_FILE = "run.json"
SEGMENTS_FILE = "segments.jsonl"
DEFAULT_RESULTS_DIR = Path("results")
#: the start of the hidden folder a run is written into before it is renamed into place
STAGING_PREFIX = ".tmp-"

Score = float | None


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkippedLineInfo(_Record):
    """A line set aside as carrying nothing to translate (see evalkit/align/lines.py)."""

    line: int
    text: str
    reason: str


class DocumentInfo(_Record):
    id: str
    src_lang: str
    source_segments: int
    reference_segments: int | None
    aligned: bool
    #: "segments" (line pairs), "aligned" (units found by alignment), "document" (whole
    #: document, paragraphs joined) or "none" (no reference)
    scored_as: str
    skipped_source_lines: list[SkippedLineInfo] = []
    skipped_reference_lines: list[SkippedLineInfo] = []
    #: paragraphs of each further reference (a second translator), in order
    more_reference_segments: list[int] = []
    #: what the test set says about the document (`origlang`, `domain`): groups for
    #: `compare --by-group`; empty in runs that recorded none
    meta: dict[str, str] = {}


class LinkInfo(_Record):
    src: list[int]
    ref: list[int]
    cost: float
    confidence: float
    low_confidence: bool


class AlignmentInfo(_Record):
    """How one document was aligned with its reference: enough to check and to compare."""

    doc_id: str
    unit: str
    method: str
    signature: str
    mean_confidence: float
    low_confidence_links: int
    links: list[LinkInfo]
    #: too many links flagged to trust this document's reference-based scores
    unreliable: bool = False
    #: links below the run's --min-confidence, scored without their reference
    below_min_confidence: int = 0


class TestSetInfo(_Record):
    __test__ = False
    name: str
    origin: str
    hash: str
    tgt_lang: str
    documents: list[DocumentInfo]
    #: who made each reference, in reference order, where the input says (WMT XML's
    #: `translator`); empty otherwise
    reference_names: list[str] = []


class SystemInfo(_Record):
    label: str
    spec: str
    kind: str
    fingerprint: dict[str, Any]
    fingerprint_hash: str
    #: wall-clock seconds to get the hypotheses (translation, or reading files)
    seconds: float
    #: translation units (sentences or paragraphs) in the test set
    units: int
    #: distinct units found in the translation cache / translated in this run
    cache_hits: int = 0
    translated: int = 0
    generated_tokens: int = 0
    #: units whose translation the generation cap cut off (kept, flagged on their rows)
    truncated: int = 0
    #: served systems only: HTTP requests sent in this run (retries included), retries,
    #: and the tokens the server counted; None for systems that run in this process
    requests: int | None = None
    retries: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class MetricInfo(_Record):
    name: str
    signature: str
    higher_is_better: bool
    needs_reference: bool


class SystemResult(_Record):
    corpus: dict[str, Score]
    documents: dict[str, dict[str, Score]]


class RunRecord(_Record):
    """Everything needed to reproduce a run and to decide whether two runs compare."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    name: str | None
    command: list[str]
    unit: str
    started: str
    finished: str
    duration_s: float
    test_set: TestSetInfo
    systems: list[SystemInfo]
    metrics: list[MetricInfo]
    scores: dict[str, SystemResult]
    notes: list[str]
    environment: dict[str, str]
    alignment: list[AlignmentInfo] = []
    #: the run whose translations this run scored again (`evalkit rescore`), if any
    rescored_from: str | None = None
    #: wall-clock seconds per stage: `align` (pairing paragraphs of documents not aligned
    #: line by line), `translate` (every system, model loading and preparation included)
    #: and `score` (every metric of every system); empty in records before version 4
    timings: dict[str, float] = {}
    #: `--min-confidence`: links below it were scored without their reference (None: off)
    min_confidence: float | None = None


class ErrorSpanInfo(_Record):
    """An error a metric marked in a hypothesis."""

    start: int
    end: int
    severity: str
    confidence: float | None = None
    text: str = ""


def segment_id(doc_id: str, src_ids: Iterable[int], ref_ids: Iterable[int]) -> str:
    """A row's stable id: the document and the source units it covers (`doc#s3` or
    `doc#s3+4`: line numbers, or sentence numbers under `--align-unit sentence`), or the
    reference units when it has no source unit (`doc#r5`).

    It depends only on the test set and its alignment, never on the systems or metrics of
    a run, so human judgments and imported scores join any run of the same test set."""
    src = "+".join(str(i) for i in src_ids)
    return f"{doc_id}#s{src}" if src else f"{doc_id}#r{'+'.join(str(i) for i in ref_ids)}"


class SegmentRow(_Record):
    #: stable across runs of the same test set (see `segment_id`); filled in when absent
    id: str = ""
    doc_id: str
    src_ids: list[int]
    ref_ids: list[int]
    src: str
    ref: str | None
    hyp: dict[str, str]
    scores: dict[str, dict[str, Score]]
    #: the unit's text in each further reference ("" where that one has none)
    more_refs: list[str] = []
    #: the alignment link's confidence (0..1) when the unit came from alignment
    confidence: float | None = None
    #: e.g. "low-confidence" (check this pair by eye), "unlinked" (no counterpart found)
    flags: list[str] = []
    #: per system label, flags on that system's hypothesis: "truncated" (the generation
    #: cap cut a unit of it off); systems without flags are left out
    hyp_flags: dict[str, list[str]] = {}
    #: per system label, per metric, the error spans it marked in that hypothesis
    #: (`start`, `end`: character offsets; `severity`; `confidence`; `text`)
    spans: dict[str, dict[str, list[ErrorSpanInfo]]] = {}

    @model_validator(mode="after")
    def _fill_id(self) -> SegmentRow:
        if not self.id:
            self.id = segment_id(self.doc_id, self.src_ids, self.ref_ids)
        return self


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
