"""The report's segment rows as compact data, embedded once in the page and drawn by its
script (`templates/segments.js`) a page at a time.

Why: rendered as HTML, every row of every view costs markup, escaping and layout up front
(6,236 segments x 4 systems made a 27 MB page that took 18 s to open). As data, each text is
stored once (a string table: document ids, flags and texts that repeat, such as identical
hypotheses, are written once) and rows are arrays of indexes and numbers, then gzipped and
base64-encoded; the page decodes them with `DecompressionStream('gzip')` and builds only
the rows it shows, with `textContent`.

Hostile text is inert at every step: base64 has no character that can end a `<script>`
element, and the plain-JSON form (small reports, see `GZIP_FROM`) writes `<`, `>`, `&`,
U+2028, U+2029 and every character `safe_text.HIDDEN` names as `\\uXXXX` escapes, so the
file holds no raw control character either. The page shows those characters as the same
named markers `safe_text.html` draws (`hidden` and `names` below).

Layout (`VERSION` 1), one JSON object:
  version         1
  systems         [system key]                 column order of each row's `systems` cell
  metrics         [{name, higher_is_better}]   order of each system's `scores`
  strings         [text]                       every text once; text cells index into it
  columns         ["doc", "src_ids", "ref_ids", "src", "ref", "more_refs", "confidence",
                   "flags", "systems"]
  system_columns  ["hyp", "flags", "spans", "scores"]
  rows            [[cell, ...]]   one per row, in the comparison's order:
                  doc, src, ref (null: none): string index; more_refs, flags: [string
                  index]; src_ids, ref_ids: [int]; confidence: number or null; systems:
                  per system [hyp (string index, null: no output), flags ([string
                  index]), spans (null, or [[start, end, severity (string index),
                  confidence or null]]: see `span_cells`), scores ([number or null],
                  see `_score`)]
  hidden          the character class of `safe_text.HIDDEN`, as JavaScript regex source
  names           {"U+202E": "U+202E RIGHT-TO-LEFT OVERRIDE"} for each hidden character
                  that occurs in the strings (the marker's tooltip)
"""

from __future__ import annotations

import base64
import gc
import gzip
import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from evalkit import safe_text
from evalkit.compare.load import Row
from evalkit.compare.significance import Comparison
from evalkit.record import ErrorSpanInfo

VERSION = 1
COLUMNS = (
    "doc",
    "src_ids",
    "ref_ids",
    "src",
    "ref",
    "more_refs",
    "confidence",
    "flags",
    "systems",
)
SYSTEM_COLUMNS = ("hyp", "flags", "spans", "scores")
#: JSON at least this long (characters) is embedded gzipped (a small report stays readable
#: as plain JSON, and decoding it needs nothing of the browser)
GZIP_FROM = 64 * 1024
#: gzip's level 6: within 0.5% of level 9's size in half its time (10,000 segments: 5.16
#: against 5.15 MB); level 5 is 2% bigger, level 4 6%
GZIP_LEVEL = 6
#: scores are stored with this many significant digits (the page shows two decimals):
#: random digits do not compress, and 10,000 rows x 4 systems x 11 metrics of six digits
#: took 1.6 MB of gzip, four digits 1.1 MB
SCORE_DIGITS = 4

#: from here on (absolute value) a score has two decimals at most `SCORE_DIGITS` digits
_TWO_DECIMALS_FROM = 10.0 ** (SCORE_DIGITS - 3)

Encoding = Literal["gzip", "json"]
#: what the page's data element says, per encoding (its `data-encoding` attribute)
ENCODING_NAMES: dict[Encoding, str] = {"gzip": "gzip+base64", "json": "json"}

#: inside JSON text: what could end or confuse the <script> element holding it, the two
#: characters JavaScript once read as line ends, and every hidden character
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]|" + safe_text.HIDDEN.pattern)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Embedded:
    """The data as it goes into the page: how it is encoded, and the text itself (ASCII
    for gzip, script-safe JSON otherwise)."""

    encoding: Encoding
    text: str

    @property
    def name(self) -> str:
        return ENCODING_NAMES[self.encoding]


class _Strings:
    """A string table: each distinct text gets one index, in order of first use (so the
    texts of one row sit together, where gzip finds what they share)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    @property
    def table(self) -> list[str]:
        return list(self.index)


def _score(value: Any) -> float | None:
    """A score as stored: `SCORE_DIGITS` significant digits, never fewer than the two
    decimals the page shows (so from 10 up, exactly what it shows: sorting agrees with
    the figures), and always the same two decimals as the whole value (rounding twice
    could move the last one); None where missing or not finite (JSON has no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    if value >= _TWO_DECIMALS_FROM or value <= -_TWO_DECIMALS_FROM:  # rounded once, as shown
        return round(float(value), 2)
    if value == 0:
        return 0.0
    decimals = max(2, SCORE_DIGITS - 1 - math.floor(math.log10(abs(value))))
    stored = round(value, decimals)
    if f"{stored:.2f}" != f"{value:.2f}":
        stored = round(value, 2)
    return float(stored)


def utf16_offset(text: str, index: int) -> int:
    """Python's code-point offset as JavaScript's UTF-16 offset (astral characters take two
    units there)."""
    if not _ASTRAL.search(text, 0, index):
        return index
    return index + len(_ASTRAL.findall(text, 0, index))


def severity_class(severity: str) -> str:
    """The span's severity as a CSS class suffix: its letters, lower case (`unknown` if
    none): `span-major`, never anything a class name could be broken with."""
    return "".join(ch for ch in severity.lower() if ch.isalpha()) or "unknown"


def span_cells(
    text: str, spans: Sequence[ErrorSpanInfo]
) -> list[tuple[int, int, str, float | None]]:
    """The error spans of one hypothesis as the page marks them: in order, each cut to the
    text and to what the spans before it left (so overlaps after the first are cut, empty
    ones dropped: one mark never holds another), offsets in UTF-16 units, the severity as
    a class suffix, the confidence as a score."""
    cells = []
    position = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        start, end = max(span.start, position), min(span.end, len(text))
        if start >= end:
            continue
        cells.append(
            (
                utf16_offset(text, start),
                utf16_offset(text, end),
                severity_class(span.severity),
                _score(span.confidence),
            )
        )
        position = end
    return cells


def _spans(text: str, spans: Sequence[ErrorSpanInfo], strings: _Strings) -> list[list] | None:
    """A hypothesis's spans as stored: `span_cells`, the severity a string index."""
    if not spans:
        return None
    cells = span_cells(text, spans)
    return [[a, b, strings(severity), c] for a, b, severity, c in cells] or None


def _first_spans(spans: dict[str, list[ErrorSpanInfo]]) -> list[ErrorSpanInfo]:
    """The spans of the first metric that marked any (one metric's view per hypothesis)."""
    return next(iter(spans.values()), []) if spans else []


def _row(row: Row, systems: Sequence[str], metrics: Sequence[str], strings: _Strings) -> list:
    cells: list[Any] = [
        strings(row.doc_id),
        list(row.src_ids),
        list(row.ref_ids),
        strings(row.src),
        None if row.ref is None else strings(row.ref),
        [strings(text) for text in row.more_refs],
        _score(row.confidence),
        [strings(flag) for flag in row.flags],
    ]
    per_system = []
    for key in systems:
        hyp = row.hyp.get(key)
        scores = row.scores.get(key, {})
        per_system.append(
            [
                None if hyp is None else strings(hyp),
                [strings(flag) for flag in row.hyp_flags.get(key, [])],
                _spans(hyp or "", _first_spans(row.spans.get(key, {})), strings),
                [_score(scores.get(name)) for name in metrics],
            ]
        )
    cells.append(per_system)
    return cells


def _js_class(pattern: str) -> str:
    """A regex character class written with `\\uXXXX` escapes for every character that is
    not plain printable ASCII: the same class, readable by JavaScript's RegExp."""
    return "".join(
        ch if 0x20 < ord(ch) < 0x7F and ch != "\\" else f"\\u{ord(ch):04x}" for ch in pattern
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while. The payload is some 100,000 small
    lists for a 10,000-row run, none in a reference cycle: the collector, set off again
    and again while they are made, each time walking every object of the run, would take
    half the building time and free nothing. (The report pauses it for its whole writing:
    the plots' garbage waits a few seconds.)"""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def build(comparison: Comparison) -> dict[str, Any]:
    """The payload described in the module docstring."""
    systems = list(comparison.systems)
    metrics = [m.name for m in comparison.metrics]
    strings = _Strings()
    with collector_paused():
        rows = [_row(row, systems, metrics, strings) for row in comparison.pool.rows]
    table = strings.table
    hidden = sorted({ch for text in table for ch in safe_text.HIDDEN.findall(text)})
    return {
        "version": VERSION,
        "systems": systems,
        "metrics": [
            {"name": m.name, "higher_is_better": m.higher_is_better} for m in comparison.metrics
        ],
        "strings": table,
        "columns": list(COLUMNS),
        "system_columns": list(SYSTEM_COLUMNS),
        "rows": rows,
        "hidden": _js_class(safe_text.HIDDEN.pattern),
        "names": {safe_text.code_point(ch): safe_text.describe(ch) for ch in hidden},
    }


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def _json(payload: Any) -> str:
    """Compact JSON, UTF-8 text kept as it is (`\\uXXXX` would make Arabic three times
    longer)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def script_safe_json(payload: Any) -> str:
    """Compact JSON that can stand inside a `<script>` element as it is: see the module
    docstring. Every escaped character sits inside a JSON string, where `\\uXXXX` means it."""
    return _SCRIPT_UNSAFE.sub(_escape, _json(payload))


def encode(payload: Any, encoding: Encoding | None = None) -> Embedded:
    """The payload for the page: gzip+base64 from `GZIP_FROM` bytes of JSON on (or as
    `encoding` says), plain script-safe JSON below (base64 needs no escaping)."""
    text = _json(payload)
    if encoding is None:
        encoding = "gzip" if len(text) >= GZIP_FROM else "json"
    if encoding == "json":
        return Embedded("json", _SCRIPT_UNSAFE.sub(_escape, text))  # as script_safe_json
    packed = gzip.compress(text.encode("utf-8"), compresslevel=GZIP_LEVEL, mtime=0)
    return Embedded("gzip", base64.b64encode(packed).decode("ascii"))


def decode(encoding: str, text: str) -> Any:
    """The payload back from what the page holds (tests, and anyone reading a report)."""
    if encoding in ("gzip", ENCODING_NAMES["gzip"]):
        return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))
    if encoding in ("json", ENCODING_NAMES["json"]):
        return json.loads(text)
    raise ValueError(f"unknown segment data encoding {encoding!r}")


_ELEMENT = re.compile(
    r'<script type="application/json" id="segment-data" data-encoding="([^"]+)">([^<]*)</script>'
)


def from_page(html: str) -> Any:
    """The payload embedded in a report's HTML."""
    found = _ELEMENT.search(html)
    if found is None:
        raise ValueError("no segment data in this page")
    return decode(found.group(1), found.group(2))
