"""`evalkit report`: one self-contained HTML file, checked statically and in headless Chromium.

The browser test (tests/browser.py) is skipped, saying why, where Chromium is missing. Its
network log must show no request made by the page for anything but the file itself. A
control page with a remote image proves that the log does catch a page's requests.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evalkit import api
from tests.browser import browse, chromium_or_skip
from tests.compare_data import run_args, write_systems

ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture
def report(cli, tmp_path: Path, results_dir: Path) -> tuple[Path, str]:
    paths = write_systems(tmp_path / "data")
    run_id = json.loads(cli(*run_args(paths, "good", "near", "worse")).stdout)["run_id"]
    result = cli("report", run_id)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == results_dir / run_id / "report.html"
    return path, run_id


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.tags: dict[str, int] = {}
        self.links: list[str] = []
        self.rtl_lang: list[tuple[str | None, str | None]] = []
        self.segment_rows = 0
        #: per row of the segment table, each cell's data-value (None for text cells)
        self.segment_values: list[list[str | None]] = []
        self._in_title = False
        self._in_segments = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_title = tag == "title"
        for name in ("src", "href", "xlink:href", "action", "data"):
            if a.get(name):
                self.links.append(a[name])
        if a.get("dir") == "rtl":
            self.rtl_lang.append((a.get("lang"), a.get("class")))
        if tag == "table" and a.get("id") == "segments":
            self._in_segments = True
        if tag == "tr" and self._in_segments:
            self.segment_rows += 1
            self.segment_values.append([])
        if tag == "td" and self._in_segments:
            self.segment_values[-1].append(a.get("data-value"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_segments = False
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_report_is_one_self_contained_file(report):
    path, run_id = report
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    assert run_id in page.title and page.title.startswith("evalkit report")
    assert page.tags.get("svg", 0) >= 5  # bars, heatmap, two scatters, length histogram
    assert page.segment_rows == 1 + 40  # header and one row per segment
    assert ("ar", "text ar") in page.rtl_lang and ARABIC.search(html)
    assert "Noto Naskh Arabic" in html
    # nothing to fetch: in-page anchors and inline images only, no remote URL anywhere
    assert all(link.startswith(("#", "data:image/")) for link in page.links), set(page.links)
    assert not re.search(r"https?://|//cdn|@import", html)
    assert not re.search(r"url\((?!#)", html)
    for label in ("good", "near", "worse", "p=", "[95% CI]"):
        assert label in html
    # the write was atomic: no temporary file left beside the report
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_report_via_api_to_any_path(report, tmp_path, results_dir):
    _, run_id = report
    out = api.build_report(run_id, output=tmp_path / "x" / "r.html", results_dir=results_dir)
    assert out.is_file() and "<svg" in out.read_text(encoding="utf-8")


@pytest.mark.slow  # a real browser
def test_report_renders_in_headless_chromium_without_network(report, tmp_path):
    browser = chromium_or_skip()
    path, run_id = report

    control = tmp_path / "control.html"
    control.write_text(
        '<html><head><title>c</title></head><body><img src="http://example.invalid/x.png">'
        "</body></html>",
        encoding="utf-8",
    )
    _, control_requests = browse(browser, control, tmp_path / "control", "--dump-dom")
    assert [r["url"] for r in control_requests] == ["http://example.invalid/x.png"]

    dom, requests = browse(browser, path, tmp_path / "dom", "--dump-dom")
    assert [r["url"] for r in requests if not r["url"].startswith("file:")] == []
    page = _parse(dom)
    assert run_id in page.title
    assert page.segment_rows == 41 and page.tags.get("svg", 0) >= 5
    assert ARABIC.search(dom) and 'dir="rtl"' in dom

    # the segment table sorts by a score column when its header is clicked
    column = 5  # doc, seg, source, reference, good's output, then good's first score
    click = f"<script>document.querySelectorAll('#segments th')[{column}].click()</script>"
    clicked = tmp_path / "clicked.html"
    clicked.write_text(
        path.read_text(encoding="utf-8").replace("</body>", click + "</body>"), encoding="utf-8"
    )
    sorted_dom, _ = browse(browser, clicked, tmp_path / "sorted", "--dump-dom")
    values = [float(cells[column]) for cells in _parse(sorted_dom).segment_values if cells]
    assert len(values) == 40 and values == sorted(values, reverse=True)
    unsorted = [float(cells[column]) for cells in page.segment_values if cells]
    assert unsorted != values and sorted(unsorted, reverse=True) == values

    shot = tmp_path / "report.png"
    _, requests = browse(browser, path, tmp_path / "shot", f"--screenshot={shot}")
    assert requests == [] or all(r["url"].startswith("file:") for r in requests)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1280
    assert pixels.std() > 0.05  # not a blank page


def test_forced_report_over_different_test_sets_says_so(cli, report, tmp_path):
    _, run_id = report
    # the built-in test set: another one (only chrf, the metric both runs share)
    args = ("--system", "copy", "--metric", "chrf", "--align", "length", "--json")
    seeds = json.loads(cli("run", *args).stdout)["run_id"]
    refused = cli("report", run_id, seeds, "-o", tmp_path / "r.html")
    assert refused.exit_code == 2 and "test sets differ" in refused.stderr
    assert not (tmp_path / "r.html").exists()
    forced = cli("report", run_id, seeds, "--force", "-o", tmp_path / "r.html")
    assert forced.exit_code == 0, forced.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "warning: compared despite: test sets differ" in html
