"""Error spans a metric marks (xCOMET): kept per row in the run, shown in the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from evalkit.report.html import marked
from evalkit.results import SCHEMA_VERSION, ErrorSpanInfo

FIXTURES = Path(__file__).parent / "fixtures" / "comet"


def span(start: int, end: int, severity: str = "major") -> ErrorSpanInfo:
    return ErrorSpanInfo(start=start, end=end, severity=severity, confidence=0.5)


def test_marks_cover_the_spans_and_every_piece_is_escaped():
    text = "a <b>bold</b> & plain claim"
    html = str(marked(text, [span(2, 13), span(16, 21, "minor")]))
    assert '<mark class="span-major"' in html and '<mark class="span-minor"' in html
    assert "<b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&"
    ) == text  # fmt: skip


def test_overlapping_and_out_of_range_spans_never_break_the_text():
    text = "one two three"
    html = str(marked(text, [span(0, 7), span(4, 9), span(11, 99), span(50, 60)]))
    assert html.count("<mark") == 3  # the overlap is cut to what is left, past the end dropped
    assert re.sub(r"<[^>]+>", "", html) == text


def test_a_hostile_severity_cannot_inject_a_class_or_markup():
    html = str(marked("text", [span(0, 4, 'major" onclick="x')]))
    assert "onclick=" not in html and '"x' not in html  # no attribute of its own
    assert 'class="span-majoronclickx"' in html


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
    assert html.count('<mark class="span-') >= 1
