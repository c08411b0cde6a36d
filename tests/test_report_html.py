"""`evalkit report`: one self-contained HTML file, checked statically and in headless Chromium.

The browser tests (tests/browser.py) are skipped, saying why, where Chromium is missing.
Their network logs must show no request made by the page for anything but the file itself
(and its inline images). A control page with a remote image proves that a log does catch
a page's requests.

The segment rows travel as compact data (evalkit/report/segment_data.py) that the page's
script draws a page at a time: the data is decoded here and compared with the run's rows,
and a synthetic run of a few hundred rows, hostile text in some, is paged, searched,
filtered and sorted in Chromium (the 10,000-row figures are bench/report_scale.py's).
"""

from __future__ import annotations

import json
import math
import random
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from evalkit import api, safe_text
from evalkit.report import segment_data
from evalkit.report.html import render_report
from tests.browser import browse, chromium_or_skip, page_requests, selenium_chromium
from tests.compare_data import run_args, write_systems
from tests.report_run import SYSTEMS, write_report_run

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
    # the segment table's header only: its rows come from the data, drawn by the page
    assert page.segment_rows == 1
    assert 'data-encoding="json"' in html  # a small report: plain JSON
    assert len(segment_data.from_page(html)["rows"]) == 40
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

    wait = "--virtual-time-budget=3000"  # the segment rows are drawn once the data is read
    dom, requests = browse(browser, path, tmp_path / "dom", wait, "--dump-dom")
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
    sorted_dom, _ = browse(browser, clicked, tmp_path / "sorted", wait, "--dump-dom")
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


# --- the segment rows as data ----------------------------------------------------------

#: hostile text in the synthetic run's first rows (reference and sys-a's output): markup,
#: a script end, a bidi override, a C1 control, a line separator, astral characters
HOSTILE = [
    "</script><script>document.title='PWNED'</script>"
    "<img src=x onerror=\"document.title='PWNED'\">",
    "<!-- <b>bold</b> & &amp; \u2028 \u2029 \u202eevil\u202c \x85 \x1b[31m end",
    "emoji 😀 before 𝒜 spans 😀 after",
]
FIRST_DOC = "<i>doc</i>\u202e{{7*7}}"
#: the synthetic run's metrics compared here (few, to stay fast; one lexical)
METRICS = ["ter", "comet", "xcomet", "xqe"]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> tuple[Any, Path, str]:
    """A synthetic run of 300 rows in four documents (hostile text in the first rows, the
    first document's id too), its comparison, and its report (gzipped data, by size)."""
    results = tmp_path_factory.mktemp("scaled")
    record = write_report_run(results, 300, hostile=HOSTILE, first_doc=FIRST_DOC)
    comparison = api.compare_runs(
        record.run_id, results_dir=results, metrics=METRICS, resamples=100
    )
    html = render_report(comparison, api.compute_breakdowns(comparison, top=10))
    path = results / "report.html"
    path.write_text(html, encoding="utf-8")
    return comparison, path, html


def _from_utf16(text: str, offset: int) -> int:
    """JavaScript's UTF-16 offset back as a code-point offset."""
    return len(text.encode("utf-16-le")[: 2 * offset].decode("utf-16-le"))


def _decoded(payload: dict) -> list[dict]:
    """The payload's rows as plain dicts, every index resolved."""
    strings = payload["strings"]
    col = {name: i for i, name in enumerate(payload["columns"])}
    sc = {name: i for i, name in enumerate(payload["system_columns"])}
    metrics = [m["name"] for m in payload["metrics"]]

    def text(index: int | None) -> str | None:
        return None if index is None else strings[index]

    rows = []
    for row in payload["rows"]:
        systems = {}
        for key, cell in zip(payload["systems"], row[col["systems"]], strict=True):
            hyp = text(cell[sc["hyp"]])
            spans = [
                (_from_utf16(hyp or "", a), _from_utf16(hyp or "", b), strings[s], c)
                for a, b, s, c in cell[sc["spans"]] or []
            ]
            systems[key] = {
                "hyp": hyp,
                "flags": [strings[f] for f in cell[sc["flags"]]],
                "spans": spans,
                "scores": dict(zip(metrics, cell[sc["scores"]], strict=True)),
            }
        rows.append(
            {
                "doc": strings[row[col["doc"]]],
                "src_ids": row[col["src_ids"]],
                "ref_ids": row[col["ref_ids"]],
                "src": strings[row[col["src"]]],
                "ref": text(row[col["ref"]]),
                "more_refs": [strings[i] for i in row[col["more_refs"]]],
                "confidence": row[col["confidence"]],
                "flags": [strings[f] for f in row[col["flags"]]],
                "systems": systems,
            }
        )
    return rows


def _same_score(stored: float | None, value: float | None) -> bool:
    if value is None or not math.isfinite(value):
        return stored is None
    return (
        stored is not None
        and f"{stored:.2f}" == f"{value:.2f}"  # what the page shows
        and math.isclose(stored, value, rel_tol=5e-4, abs_tol=0.005)
    )


@pytest.mark.parametrize("encoding", ["gzip", "json"])
def test_segment_data_round_trip(scaled, encoding):
    comparison, _, _ = scaled
    payload = segment_data.build(comparison)
    embedded = segment_data.encode(payload, encoding)
    decoded = segment_data.decode(embedded.name, embedded.text)
    assert decoded == payload  # JSON round trip: nothing lost in the encoding
    rows = _decoded(decoded)
    assert decoded["systems"] == list(SYSTEMS) and len(rows) == len(comparison.pool.rows) == 300
    spans_seen = flags_seen = 0
    for row, got in zip(comparison.pool.rows, rows, strict=True):
        assert (got["doc"], got["src"], got["ref"]) == (row.doc_id, row.src, row.ref)
        assert (got["src_ids"], got["ref_ids"]) == (list(row.src_ids), list(row.ref_ids))
        assert got["more_refs"] == list(row.more_refs) and got["flags"] == list(row.flags)
        assert _same_score(got["confidence"], row.confidence)
        for key in SYSTEMS:
            system = got["systems"][key]
            assert system["hyp"] == row.hyp.get(key)
            assert system["flags"] == row.hyp_flags.get(key, [])
            spans = next(iter(row.spans.get(key, {}).values()), [])
            assert [(a, b, s) for a, b, s, _ in system["spans"]] == [
                (x.start, x.end, x.severity) for x in spans
            ]
            for name in METRICS:
                assert _same_score(system["scores"][name], row.scores[key].get(name)), name
            spans_seen += len(spans)
            flags_seen += len(system["flags"])
    assert spans_seen > 50 and flags_seen > 0 and any(r["more_refs"] for r in rows)
    assert any(r["ref"] is None for r in rows) and any(r["confidence"] for r in rows)


def test_the_report_embeds_the_data_gzipped_from_its_size_on(scaled, report):
    comparison, _, html = scaled
    assert 'data-encoding="gzip+base64"' in html
    assert segment_data.from_page(html) == segment_data.build(comparison)
    # no row's markup or control character is in the page raw (the most different
    # segments, rendered as before, show some of that text escaped)
    assert "<script>document.title" not in html and "<img" not in html
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\u2028]", html)
    small = report[0].read_text(encoding="utf-8")
    assert 'data-encoding="json"' in small and len(small) < len(html)


def test_embedded_json_cannot_end_its_script_element_or_hide_characters():
    payload = {"strings": [*HOSTILE, "a\u2028b", "<\u0085>&", FIRST_DOC]}
    text = segment_data.script_safe_json(payload)
    assert not re.search("[<>&\u2028\u2029]", text) and not safe_text.HIDDEN.search(text)
    assert json.loads(text) == payload
    embedded = segment_data.encode(payload, "json")
    assert embedded.text == text and segment_data.decode("json", text) == payload
    packed = segment_data.encode(payload, "gzip")
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", packed.text)
    assert segment_data.decode(packed.name, packed.text) == payload


def test_stored_scores_show_the_same_two_decimals():
    rng = random.Random(3)
    values = [rng.uniform(-150, 150) for _ in range(3000)] + [rng.random() for _ in range(3000)]
    values += [5.1249999, 5.12499, 0.004999, 99.995, 9.9949, -0.00501, 0.0, 1e-9, 123456.789]
    for value in values:
        stored = segment_data._score(value)
        assert stored is not None and _same_score(stored, value), (value, stored)
    assert segment_data._score(None) is None and segment_data._score(float("nan")) is None
    assert segment_data._score(57.123456) == 57.12 and segment_data._score(0.8734567) == 0.8735


def test_span_offsets_are_utf16_units_as_javascript_counts_them():
    text = "a😀b𝒜c"
    assert [segment_data.utf16_offset(text, i) for i in range(len(text) + 1)] == [
        0, 1, 3, 4, 6, 7,
    ]  # fmt: skip
    assert segment_data.severity_class('Major" onclick="x') == "majoronclickx"
    assert segment_data.severity_class("") == "unknown"


# --- the segment table in a browser ------------------------------------------------------


def _expected(payload: dict, keep) -> int:
    """How many rows the page should show: `keep(row, systems)` over the decoded rows."""
    return sum(1 for row in _decoded(payload) if keep(row, row["systems"]))


@pytest.mark.slow  # a real browser
def test_segment_table_pages_searches_filters_and_sorts_in_chromium(scaled, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    _, path, html = scaled
    payload = segment_data.from_page(html)
    driver = selenium_chromium(tmp_path / "chromium", width=1400, height=1000)
    try:
        # control: the request log does see a page's request elsewhere
        page_requests(driver)
        driver.get('data:text/html,<img src="http://example.invalid/x.png">')
        assert "http://example.invalid/x.png" in page_requests(driver)
        driver.get_log("browser")  # (its failed request)

        driver.get(path.as_uri())
        viewer = driver.find_element(By.ID, "segment-viewer")
        WebDriverWait(driver, 30).until(lambda d: viewer.get_attribute("data-ready"))

        # at 1400 px the page does not scroll sideways: a wide table scrolls in its box
        page_width = "return [document.documentElement.scrollWidth, window.innerWidth]"
        scroll_width, window_width = driver.execute_script(page_width)
        assert scroll_width <= window_width

        def shown() -> int:
            return int(viewer.get_attribute("data-shown"))

        def act(action, count: int) -> None:
            """Do something, then wait for the rows drawn again, `count` of them shown."""
            before = viewer.get_attribute("data-drawn")
            action()
            WebDriverWait(driver, 10).until(
                lambda d: viewer.get_attribute("data-drawn") != before and shown() == count
            )

        def typed(field_id: str, text: str, count: int) -> None:
            field = driver.find_element(By.ID, field_id)
            act(lambda: (field.clear(), field.send_keys(text)), count)

        def chosen(select_id: str, text: str, count: int) -> None:
            select = Select(driver.find_element(By.ID, select_id))
            act(lambda: select.select_by_visible_text(text), count)

        def rows() -> list:
            return driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")

        def column(name: str) -> int:
            """The index of a header cell (visible ones counted) by its text."""
            headers = [h for h in driver.find_elements(By.CSS_SELECTOR, "#segments th")]
            visible = [h.text.replace("⇅", "").strip() for h in headers if h.is_displayed()]
            return visible.index(name)

        def cells(index: int) -> list[str]:
            return [r.find_elements(By.TAG_NAME, "td")[index].text for r in rows()]

        def comet_in(low: float, high: float, keys=SYSTEMS) -> int:
            return _expected(
                payload,
                lambda row, s: any(
                    s[k]["scores"]["comet"] is not None and low <= s[k]["scores"]["comet"] <= high
                    for k in keys
                ),
            )

        status = driver.find_element(By.ID, "seg-status")
        assert status.text == "rows 1–50 of 300 shown (300 in all)" and len(rows()) == 50
        assert driver.title == _parse(html).title
        # hostile text shows as text, its controls as named markers, and runs nothing
        first = rows()[0]
        assert "</script><script>document.title='PWNED'</script>" in first.text
        assert driver.title != "PWNED" and not driver.find_elements(By.CSS_SELECTOR, "#pwned")
        markers = driver.find_elements(By.CSS_SELECTOR, "#segments .ctl")
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in [m.get_attribute("title") for m in markers]
        assert cells(0)[0] == safe_text.plain(FIRST_DOC)  # the document id, controls shown
        assert driver.find_elements(By.CSS_SELECTOR, "#segments tbody mark[class^='span-']")

        # paging
        act(lambda: driver.find_element(By.ID, "seg-next").click(), 300)
        assert viewer.get_attribute("data-page") == "2"
        assert status.text.startswith("rows 51–100 of 300") and cells(1)[0] == "51"
        chosen("seg-size", "250", 300)
        assert len(rows()) == 250 and viewer.get_attribute("data-page") == "1"
        act(lambda: driver.find_element(By.ID, "seg-next").click(), 300)
        assert len(rows()) == 50 and driver.find_element(By.ID, "seg-next").get_attribute(
            "disabled"
        )
        chosen("seg-size", "50", 300)

        # search: source, references and outputs, case-insensitive; hostile text literally
        for needle in ("</SCRIPT>", "😀 after", "basra"):
            low = needle.lower()
            typed(
                "seg-search",
                needle,
                _expected(
                    payload,
                    lambda row, systems, low=low: any(
                        low in (t or "").lower()
                        for t in [row["src"], row["ref"], *row["more_refs"]]
                        + [s["hyp"] for s in systems.values()]
                    ),
                ),
            )
            assert 0 < shown() < 300 and low in rows()[0].text.lower()
        typed("seg-search", "no such text anywhere", 0)
        assert status.text == "no row matches (300 in all)" and rows() == []
        typed("seg-search", " ", 300)  # blank: every row again

        # document (its hostile id shown as text, controls as <U+202E>)
        chosen("seg-doc", safe_text.plain(FIRST_DOC), 80)
        assert set(cells(0)) == {safe_text.plain(FIRST_DOC)}
        chosen("seg-doc", "all", 300)

        # system: only its columns; the score range then applies to it alone
        chosen("seg-system", "sys-b", 300)
        visible = [
            h for h in driver.find_elements(By.CSS_SELECTOR, "#segments th") if h.is_displayed()
        ]
        assert len(visible) == 4 + 1 + len(METRICS)
        assert all(len(r.find_elements(By.TAG_NAME, "td")) == len(visible) for r in rows())
        Select(driver.find_element(By.ID, "seg-metric")).select_by_visible_text("comet")
        typed("seg-min", "20", comet_in(20, 1e9, ["sys-b"]))
        typed("seg-max", "30", comet_in(20, 30, ["sys-b"]))
        comet = cells(column("sys-b comet"))
        assert comet and all(20 <= float(v) <= 30 for v in comet)
        chosen("seg-system", "all", comet_in(20, 30))  # any system's comet in range
        typed("seg-min", "", comet_in(-1e9, 30))
        typed("seg-max", "", 300)

        # flags: one flag, any flag, error spans
        chosen(
            "seg-flag",
            "truncated",
            _expected(payload, lambda row, s: any("truncated" in x["flags"] for x in s.values())),
        )
        assert all(r.find_elements(By.CSS_SELECTOR, ".flag") for r in rows())
        chosen(
            "seg-flag",
            "low-confidence",
            _expected(payload, lambda row, s: "low-confidence" in row["flags"]),
        )
        assert all("flagged" in r.get_attribute("class") for r in rows())
        chosen(
            "seg-flag",
            "flagged",
            _expected(
                payload, lambda row, s: bool(row["flags"]) or any(x["flags"] for x in s.values())
            ),
        )
        chosen(
            "seg-flag",
            "with error spans",
            _expected(payload, lambda row, s: any(x["spans"] for x in s.values())),
        )
        assert all(r.find_elements(By.TAG_NAME, "mark") for r in rows())
        chosen("seg-flag", "any row", 300)

        # sorting by a score column: descending, then ascending; rows without it last
        header = next(
            h
            for h in driver.find_elements(By.CSS_SELECTOR, "#segments th.sortable")
            if h.text.replace("⇅", "").strip() == "sys-a xqe"
        )
        index = column("sys-a xqe")
        header.click()
        values = [float(v) for v in cells(index)]
        assert values == sorted(values, reverse=True) and len(values) == 50
        header.click()
        values = [float(v) for v in cells(index)]
        assert values == sorted(values)

        # nothing left the page but the file itself and its inline images
        requested = page_requests(driver)
        assert path.as_uri() in requested
        # (chrome: the browser's own new-tab page, opened before ours; no page can ask it)
        outside = [u for u in requested if urlsplit(u).scheme not in ("file", "data", "chrome")]
        assert outside == []
        assert all(u.startswith("data:image/") for u in requested if u.startswith("data:"))
        assert driver.get_log("browser") == []  # no script error
    finally:
        driver.quit()
