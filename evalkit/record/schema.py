"""What a run stores: the record schema of `run.json` and of each `segments.jsonl` row.

Layout of one run, `results/<run-id>/`:
  run.json        the RunRecord below (schema_version says how to read it)
  segments.jsonl  one SegmentRow per scoring unit, in test-set order
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

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
