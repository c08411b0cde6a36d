"""WMT's MQM ratings TSV (google/wmt-mqm-human-evaluation), read into one record per rater,
system and segment.

The format, as published and as Google's own scoring script reads it (tab-separated, a
header line, no quoting):

    system  doc  doc_id  seg_id  rater  source  target  category  severity  [comment ...]

- one row per error; a segment the rater found no error in has one row whose category and
  severity are `No-error`;
- `doc_id` is the segment's 1-based position in its document, `seg_id` its id in the test
  set; the error's span is marked with `<v>` ... `</v>` inside `target` (or inside
  `source`, for an error such as an omission that shows only there);
- severities `Major`, `Minor`, `Neutral`; categories `Accuracy/Mistranslation`,
  `Fluency/Punctuation`, `Locale convention/Date format`, `Non-translation!`,
  `Source error`, ...

How it becomes evalkit's MQM spans:
- the rows that share system, doc, doc_id, seg_id and rater are one judgment;
- a `Major` or `Minor` row is one span; its offsets are code-point offsets in the target
  with every marker removed, from the first `<v>` to the last `</v>` of the row's target (an
  unclosed `<v>` runs to the end); an error marked only in the source gets an empty span at
  0, so it still counts in the score;
- `Neutral` rows are skipped (WMT weighs them 0, and evalkit's severities are minor and
  major) and counted, so the summary says how many;
- categories are lowercased with the `!` dropped, so they read as evalkit's
  (`fluency/punctuation`, `non-translation`); WMT's `Locale convention` is evalkit's
  `locale`, `Inconsistent use of terminology` its `inconsistent use`; other categories (for
  instance `source error`) are kept, lowercased: the MQM weights depend only on the
  severity, minor fluency/punctuation and non-translation (`evalkit.judgments.model`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import UserInputError
from evalkit.judgments.model import Span

COLUMNS: tuple[str, ...] = (
    "system",
    "doc",
    "doc_id",
    "seg_id",
    "rater",
    "source",
    "target",
    "category",
    "severity",
)
SEVERITIES = ("major", "minor")
NEUTRAL, NO_ERROR = "neutral", "no-error"
#: WMT's names where evalkit's (MQM_CATEGORIES) differ
CATEGORY_ALIASES = {
    "locale convention": "locale",
    "inconsistent use of terminology": "inconsistent use",
}
_MARKER = re.compile(r"</?v>")


def strip_markers(text: str) -> tuple[str, tuple[int, int] | None]:
    """The text without `<v>`/`</v>`, and the marked range in it: from the first opening to
    the last closing marker, or None when nothing is marked."""
    clean, start, end, last = [], None, None, 0
    length = 0
    for marker in _MARKER.finditer(text):
        piece = text[last : marker.start()]
        clean.append(piece)
        length += len(piece)
        last = marker.end()
        if marker.group() == "<v>":
            start = length if start is None else start
        else:
            end = length
    clean.append(text[last:])
    plain = "".join(clean)
    if start is None:
        return plain, None
    if end is None or end < start:  # an unclosed <v>
        end = len(plain)
    return plain, (start, end)


def mqm_category(text: str) -> str:
    """WMT's category as evalkit writes it: `Non-translation!` -> `non-translation`."""
    parts = [part.strip().lower().rstrip("!").strip() for part in text.split("/")]
    return "/".join(CATEGORY_ALIASES.get(part, part) for part in parts if part)


def looks_like_mqm_tsv(path: Path) -> bool:
    """A `.tsv` file, or any file whose first line is a header with WMT's MQM columns."""
    if path.suffix.lower() == ".tsv":
        return True
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
    except OSError:
        return False
    return set(COLUMNS) <= set(header)


@dataclass
class MqmSegment:
    """One rater's MQM judgment of one system's translation of one segment."""

    system: str
    doc: str
    #: the segment's 1-based position in its document
    doc_id: int
    seg_id: str
    rater: str
    #: source and target with the markers removed (those of the group's first row)
    source: str
    target: str
    spans: list[Span] = field(default_factory=list)
    #: the file's lines (1-based, the header is line 1) this judgment was read from
    lines: list[int] = field(default_factory=list)
    #: Neutral rows left out
    neutral: int = 0
    #: whether every row shows the same target (markers removed): offsets of rows that
    #: disagree would point into different texts
    agree: bool = True


@dataclass
class MqmFile:
    path: Path
    segments: list[MqmSegment]
    rows: int
    neutral: int


def read_mqm_tsv(path: Path) -> MqmFile:
    """Every judgment of an MQM TSV; a missing column, a short row, a non-numeric doc_id or
    an unknown severity is an error naming the file and line, raised before anything is
    returned."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise UserInputError(f"unreadable: {error.strerror}", path) from None
    except UnicodeDecodeError as error:
        raise UserInputError(f"not UTF-8 (byte {error.start})", path) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(reader, None)
        if header is None:
            raise UserInputError("empty file (an MQM TSV starts with a header)", path, 1)
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise UserInputError(
                f"not WMT's MQM TSV: no column {', '.join(missing)} in the header "
                f"(needs {', '.join(COLUMNS)})",
                path,
                1,
            )
        index = {name: header.index(name) for name in COLUMNS}
        groups: dict[tuple[str, str, int, str, str], MqmSegment] = {}
        rows = neutral = 0
        for fields in reader:
            if not any(fields):
                continue
            rows += 1
            neutral += _add_row(groups, fields, index, len(header), path, reader.line_num)
    except csv.Error as error:
        raise UserInputError(f"unreadable TSV: {error}", path, reader.line_num) from None
    return MqmFile(path, list(groups.values()), rows, neutral)


def _add_row(
    groups: dict[tuple[str, str, int, str, str], MqmSegment],
    fields: list[str],
    index: dict[str, int],
    width: int,
    path: Path,
    line: int,
) -> int:
    """Add one row to its judgment; returns 1 for a Neutral row (left out), else 0."""
    if len(fields) <= max(index.values()):
        raise UserInputError(f"{len(fields)} fields, the header has {width}", path, line)
    value = {name: fields[i] for name, i in index.items()}
    try:
        doc_id = int(value["doc_id"])
    except ValueError:
        raise UserInputError(f"doc_id {value['doc_id']!r} is not a number", path, line) from None
    source, _ = strip_markers(value["source"])
    target, marked = strip_markers(value["target"])
    key = (value["system"], value["doc"], doc_id, value["seg_id"], value["rater"])
    segment = groups.get(key)
    if segment is None:
        segment = groups[key] = MqmSegment(
            value["system"], value["doc"], doc_id, value["seg_id"], value["rater"], source, target
        )
    segment.lines.append(line)
    segment.agree = segment.agree and target == segment.target
    severity = value["severity"].strip().lower()
    category = mqm_category(value["category"])
    if severity == NO_ERROR or category == NO_ERROR:
        return 0
    if severity == NEUTRAL:
        segment.neutral += 1
        return 1
    if severity not in SEVERITIES:
        raise UserInputError(
            f"unknown severity {value['severity']!r} (Major, Minor, Neutral or No-error)",
            path,
            line,
        )
    start, end = marked or (0, 0)
    segment.spans.append(
        Span(start=start, end=end, severity=severity, category=category or None)  # type: ignore[arg-type]
    )
    return 0
