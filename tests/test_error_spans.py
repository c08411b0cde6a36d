"""Error spans a metric marks (xCOMET): kept per row in the run, shown in the report."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.record import SCHEMA_VERSION, ErrorSpanInfo
from evalkit.report import segment_data

FIXTURES = Path(__file__).parent / "fixtures" / "comet"


def span(start: int, end: int, severity: str = "major") -> ErrorSpanInfo:
    return ErrorSpanInfo(start=start, end=end, severity=severity, confidence=0.5)


# The report's page marks the spans itself, from its data (evalkit/report/segment_data.py),
# with text nodes only; that the marks show, escaped, is checked in Chromium by
# tests/test_report_html.py. What goes into the data is checked here.


def test_marks_cover_the_spans_in_order():
    text = "a <b>bold</b> & plain claim"
    cells = segment_data.span_cells(text, [span(16, 21, "minor"), span(2, 13)])
    assert cells == [(2, 13, "major", 0.5), (16, 21, "minor", 0.5)]
    assert [text[a:b] for a, b, _, _ in cells] == ["<b>bold</b>", "plain"]


def test_overlapping_and_out_of_range_spans_never_break_the_text():
    text = "one two three"
    cells = segment_data.span_cells(text, [span(0, 7), span(4, 9), span(11, 99), span(50, 60)])
    # the overlap is cut to what is left, past the end dropped
    assert [(a, b) for a, b, _, _ in cells] == [(0, 7), (7, 9), (11, 13)]


def test_a_hostile_severity_cannot_inject_a_class_or_markup():
    (cell,) = segment_data.span_cells("text", [span(0, 4, 'major" onclick="x')])
    assert cell[2] == "majoronclickx"  # letters only: a class name, no attribute of its own


def test_a_run_keeps_xcomet_spans_and_the_report_marks_them(cli, results_dir, synthetic_set):
    spec = f"xcomet:{FIXTURES / 'unified-spans'},encoder={FIXTURES / 'encoder-xlmr'}"
    args = ("--data", synthetic_set.folder, "--system", "copy", "--align", "length")
    done = cli("run", *args, "--metric", spec, "--metric", "chrf")
    assert done.exit_code == 0, done.output
    (run,) = results_dir.iterdir()
    rows = [json.loads(line) for line in (run / "segments.jsonl").read_text().splitlines()]
    found = [
        (row["hyp"]["copy"], one)
        for row in rows
        for one in row["spans"].get("copy", {}).get("xcomet", [])
    ]
    assert found, "the fixture model marks spans on these texts"
    for hypothesis, one in found:
        assert hypothesis[one["start"] : one["end"]] == one["text"]
        assert one["severity"] in {"minor", "major", "critical"}
    assert json.loads((run / "run.json").read_text())["schema_version"] == SCHEMA_VERSION
    report = cli("report", "latest", "--metric", "chrf")
    assert report.exit_code == 0, report.output
    html = (run / "report.html").read_text(encoding="utf-8")
    data = segment_data.from_page(html)
    marked = [system[2] for row in data["rows"] for system in row[-1] if system[2]]
    assert marked and all(
        data["strings"][s] in {"minor", "major", "critical"} for m in marked for _, _, s, _ in m
    )
