"""WMT's human-evaluation JSONL (WMT24 `wmt24-genmt-humeval.jsonl`, WMT25
`wmt25-genmt-humeval.jsonl`) as judgments of a run of the same file.

Each row is a segment (evalkit.corpus.formats.wmt_segments); its `scores` map a system to
its judgments, in the shapes WMT has published:

    [{"score": 71.0, "annotator": "A1", "errors": [...]}, ...]        a list (WMT24, WMT25)
    {"human": 71.0, "annotator": "A1", "errors": [...]}              one judgment
    {"human1": 71.0, "annotator1": "A1", "errors1": [...], "human2": ...}   one per wave

Each judgment is an ESA judgment (WMT24 and WMT25 used Error Span Annotation): its score
(`score` or `human`, a number or a numeric string), its annotator (`unknown` when none is
named) and its error spans from `errors`: `start_i`/`end_i` are character offsets into the
translation with the end included (ESA's convention; evalkit's end is exclusive), `severity`
`minor` or `major`. An error whose offsets are missing (marked `"missing"`, ESA's mark for
something left out) or out of the translation becomes an empty span at 0, so it is still
shown; errors of another severity are left out. A judgment without a score is not a score
and is left out. Judgments join the run's rows by evalkit.judgments.positional's rule.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.corpus.formats.common import output_label
from evalkit.corpus.formats.wmt_rows import read_rows
from evalkit.corpus.formats.wmt_segments import Segment, read_segments
from evalkit.errors import UserInputError
from evalkit.judgments.join import Unmatched
from evalkit.judgments.model import Judgment, Span
from evalkit.judgments.positional import Claim, RunRows

SCORE_KEYS = ("score", "human", "esa_score")
_WAVE = re.compile(r"^(?:human|score)(\d+)$")
SEVERITIES = ("minor", "major")


@dataclass
class HumevalJudgments:
    judgments: list[Judgment] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    #: the file's rows (segments)
    rows: int = 0


def looks_like_wmt_humeval(path: Path) -> bool:
    """A JSONL file whose first object has WMT's `scores` (evalkit's own has `version`)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            first = next((line for line in handle if line.strip()), "")
        row = json.loads(first) if first else None
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(row, dict) and "scores" in row and "version" not in row


def read_wmt_humeval(path: Path, run_id: str, rows: RunRows) -> HumevalJudgments:
    """The judgments of the file that join rows of the run, and those that join none; a
    score that is not a number, or scores of an unknown shape: an error naming the line."""
    segments = read_segments(read_rows(path), path)
    found = HumevalJudgments(rows=len(segments))
    for segment in segments:
        for system, value in segment.scores.items():
            for annotation in _annotations(value, system, path, segment.line):
                _add(found, segment, system, annotation, run_id, rows, path)
    return found


def _add(
    found: HumevalJudgments,
    segment: Segment,
    system: str,
    annotation: dict[str, Any],
    run_id: str,
    rows: RunRows,
    path: Path,
) -> None:
    score = _score(annotation, system, path, segment.line)
    if score is None:
        return
    target = segment.targets.get(system)
    claim = Claim(
        system=output_label(system),
        doc_id=segment.doc_id,
        position=segment.position,
        source=segment.source,
        target=target,
        annotator=str(annotation.get("annotator") or "unknown"),
        line=segment.line,
        seg_id=str(segment.order),
    )
    joined = rows.join(claim)
    if isinstance(joined, Unmatched):
        found.unmatched.append(joined)
        return
    text = target if target is not None else joined.hyp.get(claim.system, "")
    found.judgments.append(
        Judgment(
            run_id=run_id,
            segment_id=joined.id,
            system=claim.system,
            annotator=claim.annotator,
            protocol="esa",
            score=score,
            spans=_spans(annotation.get("errors"), text, path, segment.line),
            target=text,
            complete=True,
            origin=f"wmt-humeval:{path.name}",
        )
    )


def _annotations(value: Any, system: str, path: Path, line: int) -> list[dict[str, Any]]:
    """Every judgment of one system on one segment, each as {score, annotator, errors}."""
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    if isinstance(value, dict):
        if any(key in value for key in SCORE_KEYS):
            return [value]
        waves = sorted({int(m.group(1)) for key in value if (m := _WAVE.match(key))})
        if waves:
            return [
                {
                    "score": value.get(f"human{n}", value.get(f"score{n}")),
                    "annotator": value.get(f"annotator{n}"),
                    "errors": value.get(f"errors{n}"),
                }
                for n in waves
            ]
    raise UserInputError(
        f"scores of system {system!r}: expected a list of judgments or one judgment "
        '({"score": ..., "annotator": ..., "errors": [...]})',
        path,
        line,
    )


def _score(annotation: dict[str, Any], system: str, path: Path, line: int) -> float | None:
    raw = next((annotation[k] for k in SCORE_KEYS if k in annotation), None)
    if raw is None or raw == "":
        return None
    try:
        score = float(raw)
    except (TypeError, ValueError):
        raise UserInputError(
            f"score of system {system!r} is not a number: {raw!r}", path, line
        ) from None
    if not math.isfinite(score):
        raise UserInputError(f"score of system {system!r} is not finite: {raw!r}", path, line)
    return score


def _spans(errors: Any, target: str, path: Path, line: int) -> list[Span]:
    if errors is None:
        return []
    if not isinstance(errors, list):
        raise UserInputError("'errors' must be a list of error spans", path, line)
    spans = []
    for error in errors:
        severity = str(error.get("severity", "")).lower() if isinstance(error, dict) else ""
        if severity not in SEVERITIES:
            continue
        start, end = error.get("start_i"), error.get("end_i")
        if _offset(start) and _offset(end) and start <= end < len(target):
            spans.append(Span(start=start, end=end + 1, severity=severity))  # type: ignore[arg-type]
        else:
            spans.append(Span(start=0, end=0, severity=severity))  # type: ignore[arg-type]
    return spans


def _offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
