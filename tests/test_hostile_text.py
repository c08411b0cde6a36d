"""Hostile text in every output: the HTML report, terminal tables, markdown, LaTeX, CSV.

One real run is built through the CLI from a test set, run name, system labels and a
`files:` system whose text carries script tags, event handlers, remote images,
`javascript:` URLs, tag breakouts, jinja2 syntax, rich markup, bidi and C1 controls,
spreadsheet formulas, LaTeX and markdown syntax and a 200,000-character line. A copy of
that run, edited as a run folder received from someone else could be, adds escape
sequences (ESC, OSC 8 hyperlinks, carriage returns) that loaders refuse in test sets.

What must hold: the data files keep the raw text; the report runs no script but its own
and makes no request (headless Chromium, checked against control pages that do both); the
page is not widened by the long line; every text output shows the hostile text literally,
with no markup, formula or control character acting.
"""

from __future__ import annotations

import csv
import html as html_module
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import Result
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from evalkit import safe_text
from evalkit.cli import app
from evalkit.cli import common as cli_module
from evalkit.report import segment_data
from tests.browser import browse, chromium_or_skip, page_requests, selenium_chromium
from tests.conftest import write_manifest_dir

PWNED = "PWNED"
#: each of these, were it markup, would set the page title to PWNED or add #pwned
SCRIPT = (
    "<script>document.title='PWNED';"
    "document.body.appendChild(document.createElement('hr')).id='pwned'</script>"
)
LONG = "x" * 200_000
BIDI = "\u202eevil\u202c \u202a\u202b\u202d \u2066\u2067\u2068iso\u2069 \u200f\u200e\u061c done"
HOSTILE = [
    SCRIPT,
    "<img src=x onerror=\"document.title='PWNED'\">",
    '<img src="http://example.invalid/leak.png"><iframe src="http://example.invalid/f">'
    '</iframe><link rel=stylesheet href="http://example.invalid/x.css">'
    "<style>@import url(http://example.invalid/y.css);</style>",
    "<a href=\"javascript:document.title='PWNED'\">click</a> javascript:alert(1) "
    "<svg onload=\"document.title='PWNED'\"></svg>",
    "</textarea></title></script></style></bdi><script>document.title='PWNED'</script><!--",
    "{{ 7*7 }} {% print('JINJA') %} {# c #}",
    "[bold red]x[/] [link=http://example.invalid]x[/link] [/]",
    BIDI,
    "c1 \x9b31mCSI \x85NEL \x90DCS",
    '=HYPERLINK("http://example.invalid","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    r"\input{/etc/passwd} & 100% $x$ # _ ^^5c ~ \\ {",
    "| a | b | ![i](http://example.invalid/i.png) <b>b</b> *em* `code`",
    LONG,
]
#: strings that must show literally (escaped) wherever their segment is shown
LITERAL = [
    "<script>document.title='PWNED';",
    "<img src=x onerror=",
    "javascript:alert(1)",
    "</textarea></title></script>",
    "{{ 7*7 }}",
    "{% print('JINJA') %}",
    "[bold red]x[/]",
    "[link=http://example.invalid]x[/link]",
]
DOC_ID = "<img src=x onerror=document.title='PWNED'>[red]d{{7*7}}$x^$\u202e"
FORMULA_DOC_ID = "=SUM(1+1)*cmd|' -C calc'!A0"
SET_NAME = "<script>document.title='PWNED'</script>[red]set[/red]{{7*7}}\u202e"
RUN_NAME = "<script>alert(1)</script>[red]n[/red]\u202e"
ODD_LABEL_FILE = "[red]mt[blink]<i>$\\frac$\u202e{{x}}.txt"
#: added to a copy of the run: what a run folder from elsewhere could hold
ESCAPES = (
    "ansi \x1b[31mRED\x1b[0m \x1b]8;;http://example.invalid\x1b\\osc8\x1b]8;;\x1b\\ \rover\x07"
)
#: what must never reach a terminal or a page raw: control characters (but the line
#: breaks and tabs of the output itself) and bidi controls
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Hostile:
    root: Path
    cli: Callable[..., Result]
    run_id: str
    report: Path
    shared: Path  # the edited copy of the run (escape sequences)
    odd_label: str


def _arabic(i: int) -> str:
    return f"قال الوزير إن الحكومة ستعمل {i}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALKIT_RESULTS", str(root / "results"))
        mp.setenv("EVALKIT_CACHE", str(root / "cache.sqlite"))
        mp.setattr(cli_module.out, "width", 200)
        runner = CliRunner()

        def cli(*args):
            return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

        extra = ["-2+3 plain", "@SUM(A1) plain"]
        data = write_manifest_dir(
            root / "data",
            [
                {
                    "id": DOC_ID,
                    "source": {"file": "a.ar.txt", "lang": "ar"},
                    "reference": {"file": "a.en.txt"},
                    "aligned": True,
                },
                {
                    "id": FORMULA_DOC_ID,
                    "source": {"file": "b.ar.txt", "lang": "ar"},
                    "reference": {"file": "b.en.txt"},
                    "aligned": True,
                },
            ],
            {
                "a.ar.txt": "\n".join(_arabic(i) for i in range(len(HOSTILE))) + "\n",
                "a.en.txt": "\n".join(HOSTILE) + "\n",
                "b.ar.txt": "\n".join(_arabic(100 + i) for i in range(len(extra))) + "\n",
                "b.en.txt": "\n".join(extra) + "\n",
            },
        )
        manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        manifest["name"] = SET_NAME
        (data / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        outputs = root / "o"
        outputs.mkdir()
        hypotheses = "\n".join(HOSTILE + extra) + "\n"
        for name in ("one.txt", "two.txt", ODD_LABEL_FILE):
            (outputs / name).write_text(hypotheses, encoding="utf-8")
        odd_label = f"files:{outputs / ODD_LABEL_FILE}"
        result = cli(
            "run",
            "--data",
            data,
            "--system",
            "copy",
            "--system",
            f"+1+1=files:{outputs / 'one.txt'}",
            "--system",
            f"-2+3=files:{outputs / 'two.txt'}",
            "--system",
            odd_label,
            "-m",
            "chrf",
            "--name",
            RUN_NAME,
            "--json",
        )
        assert result.exit_code == 0, result.output
        run_id = json.loads(result.stdout)["run_id"]
        reported = cli("report", run_id)
        assert reported.exit_code == 0, reported.output
        report = Path(reported.stdout.strip())

        shared = root / "shared" / run_id
        shutil.copytree(root / "results" / run_id, shared)
        record = json.loads((shared / "run.json").read_text(encoding="utf-8"))
        record["test_set"]["name"] = "set " + ESCAPES
        (shared / "run.json").write_text(json.dumps(record), encoding="utf-8")
        rows = [json.loads(line) for line in (shared / "segments.jsonl").open(encoding="utf-8")]
        for row in rows:
            row["hyp"]["+1+1"] = ESCAPES
        (shared / "segments.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
        )
        (shared / "report.html").unlink()
        yield Hostile(root, cli, run_id, report, shared, odd_label)


def _no_hidden(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {safe_text.describe(found.group())} in output"


# --- data files keep the raw text ----------------------------------------------------


def test_data_files_keep_the_raw_text(hostile):
    folder = hostile.root / "results" / hostile.run_id
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert record["test_set"]["name"] == SET_NAME
    assert record["name"] == RUN_NAME
    assert [d["id"] for d in record["test_set"]["documents"]] == [DOC_ID, FORMULA_DOC_ID]
    assert hostile.odd_label in [s["label"] for s in record["systems"]]
    rows = [json.loads(line) for line in (folder / "segments.jsonl").open(encoding="utf-8")]
    assert [r["ref"] for r in rows][: len(HOSTILE)] == HOSTILE
    assert [r["hyp"]["+1+1"] for r in rows][: len(HOSTILE)] == HOSTILE
    # the run id is built from the name, safely
    assert re.fullmatch(r"[0-9]{8}-[0-9]{6}-[A-Za-z0-9_.-]+", hostile.run_id)


# --- the HTML report -----------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element with its attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.title = ""
        #: the content of each <style> element
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in = tag
        if tag == "style":
            self.styles.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)


def _elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


#: elements that hostile text would bring in, none of which the report has of its own
FOREIGN = {"img", "iframe", "frame", "link", "a", "object", "embed", "form", "base", "video"}


def _check_page(html: str) -> _Elements:
    """What must hold of the report's HTML, as written or as the browser dumps it."""
    page = _elements(html)
    tags = [tag for tag, _ in page.elements]
    # evalkit's two: the segment rows as data (never run) and the script that draws them
    assert tags.count("script") == 2
    scripts = [attrs for tag, attrs in page.elements if tag == "script"]
    assert scripts[0]["type"] == "application/json" and scripts[0]["id"] == "segment-data"
    # evalkit's stylesheet and one in each plot, none fetching anything
    assert tags.count("style") == 1 + tags.count("svg")
    assert not [s for s in page.styles if re.search(r"@import|url\((?!#)", s)]
    assert not FOREIGN & set(tags), FOREIGN & set(tags)
    for tag, attrs in page.elements:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("src", "href", "xlink:href", "action", "data", "formaction"):
            value = attrs.get(name) or ""
            # in-page anchors and the heatmap's inline image only
            assert value == "" or value.startswith(("#", "data:image/png")), (tag, name, value)
        assert not re.search(r"url\((?!#)", attrs.get("style") or ""), (tag, attrs)
        assert "pwned" not in (attrs.get("id") or "")
    return page


def _check_shown(html: str) -> _Elements:
    """What must hold of the page once its script has drawn the segment rows: every
    hostile text shown literally, in <bdi>, its controls as named markers."""
    page = _check_page(html)
    text = "".join(page.text)
    for literal in LITERAL:
        assert literal in text, literal
    assert LONG in text  # the whole long line, wrapped rather than cut
    _no_hidden(html)
    for char in "\u202e\u202c\u202a\u202b\u202d\u2066\u2067\u2068\u2069\u200f\u200e\u061c\x9b\x85":
        marker = (
            f'<span class="ctl" title="{safe_text.describe(char)}">'
            f"&lt;{safe_text.code_point(char)}&gt;</span>"
        )
        assert marker in html, char
    # names show literally too, their controls as markers
    for name in (DOC_ID, FORMULA_DOC_ID):
        assert safe_text.plain(name) in text, name
    # user text sits in <bdi> (isolated from its neighbours)
    assert html.count("<bdi>") > 5 * len(HOSTILE)
    return page


def _attributes(html: str, tag: str) -> dict[str, str | None]:
    return next(attrs for name, attrs in _elements(html).elements if name == tag)


def test_report_escapes_isolates_and_shows_hostile_text(hostile):
    html = hostile.report.read_text(encoding="utf-8")
    page = _check_page(html)
    # the title names the test set as text, its bidi control as `<U+202E>`
    assert page.title == f"evalkit report · {safe_text.plain(SET_NAME)} · {hostile.run_id}"
    # no control or bidi character raw anywhere: each is a visible, named marker
    _no_hidden(html)
    for char in "\u202e":
        marker = (
            f'<span class="ctl" title="{safe_text.describe(char)}">'
            f"&lt;{safe_text.code_point(char)}&gt;</span>"
        )
        assert marker in html, char
    # the rows' text is in the page's data exactly as the run has it, never as markup, and
    # with the name of each control it holds, for the markers the page draws
    data = segment_data.from_page(html)
    assert set(HOSTILE) <= set(data["strings"]) and {DOC_ID, FORMULA_DOC_ID} <= set(data["strings"])
    for char in "\u202e\u202c\u202a\u202b\u202d\u2066\u2067\u2068\u2069\u200f\u200e\u061c\x9b\x85":
        assert data["names"][safe_text.code_point(char)] == safe_text.describe(char)
    assert "<script>document.title" not in html.split('id="top"')[0]
    # names show literally too, their controls as markers
    text = "".join(page.text)
    for name in (hostile.odd_label, "+1+1", "-2+3"):
        assert safe_text.plain(name) in text, name
    # long words wrap anywhere
    assert "overflow-wrap: anywhere" in html
    # the plots were drawn: `$...$` in a document id and a label is text, not mathtext
    # (a malformed formula used to stop the report)
    assert html.count("<svg") >= 4


@pytest.mark.slow  # a real browser
def test_report_in_headless_chromium_runs_no_hostile_script_and_sends_nothing(hostile, tmp_path):
    browser = chromium_or_skip()
    wait = "--virtual-time-budget=3000"

    # control: a page where the same text is NOT escaped; the checks below see it act
    control = tmp_path / "control.html"
    control.write_text(
        "<!DOCTYPE html><html><head><title>control</title></head><body>"
        + "".join(HOSTILE[:3])
        + "</body></html>",
        encoding="utf-8",
    )
    control_dom, control_requests = browse(browser, control, tmp_path / "c", wait, "--dump-dom")
    assert _elements(control_dom).title == PWNED
    assert re.search(r"<hr[^>]*id=\"pwned\"", control_dom)
    assert "http://example.invalid/leak.png" in [r["url"] for r in control_requests]

    expected_title = _elements(hostile.report.read_text(encoding="utf-8")).title
    dom, requests = browse(browser, hostile.report, tmp_path / "dom", wait, "--dump-dom")
    assert [r["url"] for r in requests if not r["url"].startswith("file:")] == []
    page = _check_shown(dom)
    assert page.title == expected_title != PWNED
    assert not re.search(r"<[a-z]+[^<>]*\bid=\"?pwned", dom)

    # measured by a script of our own, added to a copy: the page keeps its width (the long
    # line wraps), no element carries an event handler, only the page's scripts and ours
    # (once the page's script has drawn the rows: it decodes them asynchronously)
    measure = (
        "<script>(function wait() {"
        "if (!document.getElementById('segment-viewer').dataset.ready) {"
        " setTimeout(wait, 20); return; }"
        "var d = document.documentElement, b = document.body;"
        "b.dataset.scrollWidth = d.scrollWidth; b.dataset.clientWidth = d.clientWidth;"
        "b.dataset.handlers = Array.prototype.filter.call(document.querySelectorAll('*'),"
        " function (e) { return Array.prototype.some.call(e.attributes,"
        " function (a) { return a.name.indexOf('on') === 0; }); }).length;"
        "b.dataset.scripts = document.scripts.length;"
        "b.dataset.title = document.title === "
        + json.dumps(expected_title).replace("<", "\\u003c")  # the title holds </script>
        + " ? 'same' : 'changed';"
        "b.dataset.rows = document.querySelectorAll('#segments tbody tr').length;"
        "})();</script>"
    )
    measured = tmp_path / "measured.html"
    measured.write_text(
        hostile.report.read_text(encoding="utf-8").replace("</body>", measure + "</body>"),
        encoding="utf-8",
    )
    dom, requests = browse(browser, measured, tmp_path / "measured", wait, "--dump-dom")
    assert [r["url"] for r in requests if not r["url"].startswith("file:")] == []
    body = _attributes(dom, "body")
    client, scroll = int(body["data-client-width"]), int(body["data-scroll-width"])
    # 200,000 unbroken characters laid out on one line would be over a million pixels wide
    assert client > 1000 and scroll < 3 * client, (scroll, client)
    assert body["data-handlers"] == "0"
    assert body["data-scripts"] == "3"  # the data, the page's script, this one
    assert body["data-rows"] == str(len(HOSTILE) + 2)  # every row drawn (one page)
    assert body["data-title"] == "same"


def test_report_of_a_run_folder_with_escape_sequences(hostile, tmp_path):
    out = tmp_path / "shared.html"
    result = hostile.cli("report", hostile.shared, "-o", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    _no_hidden(html)
    assert 'title="U+001B ESCAPE">&lt;U+001B&gt;</span>[31mRED' in html
    assert 'title="U+000D CARRIAGE RETURN"' in html and 'title="U+0007 BELL"' in html
    # the segment rows: the text exact in the data, the name of each control beside it
    data = segment_data.from_page(html)
    assert ESCAPES in data["strings"]
    for name in ("U+001B ESCAPE", "U+000D CARRIAGE RETURN", "U+0007 BELL"):
        assert data["names"][name.split()[0]] == name


def _rows_holding(data: dict, needle: str) -> int:
    """The rows whose source, references or outputs hold `needle` (any case): what the
    page's search should find."""
    strings, col = data["strings"], {n: i for i, n in enumerate(data["columns"])}
    needle = needle.lower()
    found = 0
    for row in data["rows"]:
        texts = [row[col["src"]], row[col["ref"]], *row[col["more_refs"]]]
        texts += [system[0] for system in row[col["systems"]]]
        found += any(t is not None and needle in strings[t].lower() for t in texts)
    return found


@pytest.mark.slow  # a real browser
def test_report_search_paging_and_filters_keep_hostile_text_inert(hostile, tmp_path):
    """The rows the page draws on demand (searched, filtered, paged) show hostile text as
    text, run nothing and fetch nothing."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    html = hostile.report.read_text(encoding="utf-8")
    data = segment_data.from_page(html)
    total = len(data["rows"])
    driver = selenium_chromium(tmp_path / "chromium", width=1400, height=1000)
    try:
        page_requests(driver)
        driver.get(hostile.report.as_uri())
        viewer = driver.find_element(By.ID, "segment-viewer")
        WebDriverWait(driver, 30).until(lambda d: viewer.get_attribute("data-ready"))
        title = driver.title
        assert title == _elements(html).title != PWNED

        def act(action, count: int) -> None:
            """Do something, then wait for the rows drawn again, `count` of them shown."""
            before = viewer.get_attribute("data-drawn")
            action()
            WebDriverWait(driver, 10).until(
                lambda d: (
                    viewer.get_attribute("data-drawn") != before
                    and viewer.get_attribute("data-shown") == str(count)
                )
            )

        def typed(field_id: str, text: str, count: int) -> None:
            field = driver.find_element(By.ID, field_id)
            act(lambda: (field.clear(), field.send_keys(text)), count)

        def chosen(select_id: str, text: str, count: int) -> None:
            select = Select(driver.find_element(By.ID, select_id))
            act(lambda: select.select_by_visible_text(text), count)

        def body_text() -> str:
            return driver.find_element(By.CSS_SELECTOR, "#segments tbody").text

        # search: each hostile literal finds its rows, shown literally
        for literal in LITERAL:
            typed("seg-search", literal, _rows_holding(data, literal))
            assert literal in body_text(), literal
        # a bidi override searched for is found, and shown as its marker
        typed("seg-search", "\u202eevil", _rows_holding(data, "\u202eevil"))
        markers = driver.find_elements(By.CSS_SELECTOR, "#segments tbody .ctl")
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in [m.get_attribute("title") for m in markers]
        typed("seg-search", " ", total)

        # documents: the hostile ids are options as text, each filtering to its rows
        for doc in (DOC_ID, FORMULA_DOC_ID):
            rows = sum(data["strings"][r[0]] == doc for r in data["rows"])
            chosen("seg-doc", safe_text.plain(doc), rows)
            cells = driver.find_elements(By.CSS_SELECTOR, "#segments tbody td:first-child")
            assert [c.text for c in cells] == [safe_text.plain(doc)] * rows
        chosen("seg-doc", "all", total)

        # a system with a hostile label: its columns only, its label as text
        chosen("seg-system", safe_text.plain(hostile.odd_label), total)
        shown = [
            h.text
            for h in driver.find_elements(By.CSS_SELECTOR, "#segments th")
            if h.is_displayed()
        ]
        assert safe_text.plain(hostile.odd_label) in shown and len(shown) == 4 + 1 + 1
        typed("seg-max", "-1", 0)  # no chrf score below 0
        typed("seg-max", "", total)
        chosen("seg-flag", "with error spans", 0)
        chosen("seg-flag", "any row", total)
        chosen("seg-system", "all", total)

        # paging: 25 a page holds every row; the buttons say there is no other page
        chosen("seg-size", "25", total)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")) == total
        for button in ("seg-prev", "seg-next"):
            assert driver.find_element(By.ID, button).get_attribute("disabled")

        # nothing ran, nothing was fetched, no event handler came in with the text
        assert driver.title == title and not driver.find_elements(By.CSS_SELECTOR, "#pwned")
        handlers = driver.execute_script(
            "return Array.prototype.filter.call(document.querySelectorAll('*'), function (e) {"
            " return Array.prototype.some.call(e.attributes, function (a) {"
            " return a.name.indexOf('on') === 0; }); }).length;"
        )
        assert handlers == 0
        assert driver.find_elements(By.TAG_NAME, "script")[0].get_attribute("type") == (
            "application/json"
        )
        requested = page_requests(driver)
        # (chrome: the browser's own new-tab page, opened before ours; no page can ask it)
        outside = [u for u in requested if urlsplit(u).scheme not in ("file", "data", "chrome")]
        assert outside == []
        assert all(u.startswith("data:image/") for u in requested if u.startswith("data:"))
        assert driver.get_log("browser") == []  # no script error, no failed load
    finally:
        driver.quit()


# --- terminal tables -----------------------------------------------------------------


def _terminal_safe(output: str) -> None:
    _no_hidden(output)
    assert "\x1b" not in output


def test_show_and_runs_print_names_literally(hostile):
    for args in (("show", hostile.run_id), ("show", hostile.run_id, "--by", "doc"), ("runs",)):
        result = hostile.cli(*args)
        assert result.exit_code == 0, result.output
        out = result.stdout
        _terminal_safe(out)
        assert "<script>document.title='PWNED'</script>[red]set[/red]{{7*7}}<U+202E>" in out
        if args[0] == "show":
            assert "+1+1" in out and "-2+3" in out
            assert "[red]mt[blink]<i>$\\frac$<U+202E>{{x}}.txt" in out
        if "doc" in args:
            assert "[red]d{{7*7}}$x^$<U+202E>" in out
            assert FORMULA_DOC_ID in out


def test_compare_in_the_terminal_is_literal_and_bounded(hostile):
    result = hostile.cli("compare", hostile.run_id, "--by", "all", "--top", "100")
    assert result.exit_code == 0, result.output
    out = result.stdout
    _terminal_safe(out)
    assert "compare · <script>document.title='PWNED'</script>[red]set[/red]" in out
    assert "[red]mt[blink]<i>$\\frac$<U+202E>{{x}}.txt" in out.replace("\n", "")
    # the 200,000-character line is clipped in the table, with the count left out
    assert "(+199,700" in out
    assert len(out) < 400_000 and max(len(line) for line in out.splitlines()) < 400


def test_compare_of_a_run_folder_with_escape_sequences(hostile):
    shown_as = {
        "rich": "<U+001B>[31mRED",
        "markdown": "\\<U+001B\\>\\[31mRED",
        "latex": "\\textless{}U+001B\\textgreater{}{[}31mRED",
        "csv": "<U+001B>[31mRED",
    }
    for fmt, marker in shown_as.items():
        result = hostile.cli("compare", hostile.shared, "--by", "top", "--top", "3", "-f", fmt)
        assert result.exit_code == 0, result.output
        _terminal_safe(result.stdout)
        assert marker in result.stdout, fmt
    shown = hostile.cli("show", hostile.shared)
    _terminal_safe(shown.stdout)
    assert "set ansi <U+001B>[31mRED<U+001B>[0m <U+001B>]8;;http://example.invalid" in shown.stdout


def test_align_prints_text_literally(hostile):
    data = hostile.root / "data"
    result = hostile.cli("align", "--data", data, "--doc", DOC_ID, "--method", "length")
    assert result.exit_code == 0, result.output
    _terminal_safe(result.stdout)
    assert "<U+202E>" in result.stdout and "[bold red]x[/]" in result.stdout.replace("\n", "")


# --- markdown, LaTeX, CSV ------------------------------------------------------------


def _compare(hostile, fmt: str) -> str:
    result = hostile.cli("compare", hostile.run_id, "--by", "all", "--top", "100", "-f", fmt)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_markdown_renders_no_markup_from_text(hostile):
    text = _compare(hostile, "markdown")
    _terminal_safe(text)
    html = MarkdownIt("commonmark").enable("table").render(text)
    # no element but the table's, headings and lists: no link, image, raw HTML or emphasis
    tags = set(re.findall(r"<([a-z0-9]+)", html))
    assert tags <= {"h3", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "p"}, tags
    rendered = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    for literal in [*LITERAL, "| a | b | ![i](http://example.invalid/i.png)", "*em* `code`"]:
        assert literal in rendered, literal
    # every table row has as many cells as its header: no `|` in text split a cell
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        counts = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        assert len(counts) == 1, counts
    assert "… (+199,700 chars)" in text and max(len(line) for line in text.splitlines()) < 4000


def test_latex_escapes_every_special_character(hostile):
    text = _compare(hostile, "latex")
    _terminal_safe(text)
    assert r"\input" not in text.replace(r"\textbackslash{}input", "")
    assert r"\textbackslash{}input\{/etc/passwd\} \& 100\% \$x\$ \# \_ " in text
    assert r"\textasciicircum{}\textasciicircum{}5c" in text
    in_table = None
    for line in text.splitlines():
        if line.startswith("\\begin{tabular}"):
            spec = line[len("\\begin{tabular}{") : -1]
            in_table = len(spec)
            continue
        if line.startswith("\\end{tabular}"):
            in_table = None
            continue
        if in_table and not line.startswith("\\hline"):
            # one row per line, its cells split by unescaped `&` only, braces balanced
            cells = re.split(r"(?<!\\)&", line)
            assert len(cells) == in_table, line[:200]
            assert line.endswith(r" \\")
            assert not line.startswith("["), line[:80]
            unescaped = re.sub(r"\\[{}]", "", line)
            assert unescaped.count("{") == unescaped.count("}"), line[:200]
        elif not in_table and line:
            assert line.startswith("%"), line[:200]  # titles and notes stay comments
    assert "… (+199,700 chars)" in text


def test_csv_has_no_formula_and_keeps_numbers(hostile):
    text = _compare(hostile, "csv")
    _terminal_safe(text)
    sections = [s for s in text.split("\n\n") if s.strip()]
    numeric_columns = {
        "score", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value",
        "n", "resamples", "seed", "rows", "A-B", "chrf ↑", "A better", "tie", "B better",
    }  # fmt: skip
    cells_seen = []
    negative_numbers = 0
    for section in sections:
        lines = section.splitlines()
        if lines[0].startswith("# "):
            lines = lines[1:]
        rows = list(csv.reader(io.StringIO("\n".join(lines) + "\n")))
        header = rows[0]
        for row in rows[1:]:
            for name, cell in zip(header, row, strict=True):
                cells_seen.append(cell)
                if name in numeric_columns:
                    if cell.startswith("-"):
                        float(cell)  # a number, not text
                        negative_numbers += 1
                    continue
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert negative_numbers > 0  # score differences below the baseline stay numbers
    for expected in (
        "'+1+1",
        "'-2+3",
        '\'=HYPERLINK("http://example.invalid","y")',
        "'@SUM(A1)",
        "'" + FORMULA_DOC_ID,
        "'-2+3 plain",
    ):
        assert expected in cells_seen, expected
    # the long line clipped where a spreadsheet cell ends (32,767 characters)
    assert "x" * 32_000 + "… (+168,000 chars)" in cells_seen
    assert "<U+202E>evil<U+202C>" in text


def test_files_hypotheses_with_control_bytes_are_refused_or_shown(hostile, tmp_path):
    """Test sets refuse C0 controls; a `files:` output is read by the same reader. Whatever
    a reader lets through must still be shown, never sent raw to a terminal."""
    data = hostile.root / "data"
    outputs = tmp_path / "out.txt"
    lines = [*HOSTILE, "-2+3 plain", "@SUM(A1) plain"]
    lines[0] = "ansi \x1b[31mRED\x1b[0m \x07"
    outputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = hostile.cli(
        "run", "--data", data, "--system", f"esc=files:{outputs}", "-m", "chrf", "--json"
    )
    if result.exit_code == 2:
        assert "control character U+001B" in result.stderr
        _terminal_safe(result.stderr)
        return
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run_id"]
    shown = hostile.cli("compare", run_id, "--by", "top", "--top", "100")
    _terminal_safe(shown.stdout)


# --- the functions themselves ----------------------------------------------------------


def test_csv_cell():
    assert safe_text.csv_cell(-3.5) == -3.5 and safe_text.csv_cell(12) == 12
    assert safe_text.csv_cell(None) == ""
    assert safe_text.csv_cell("-3.88", numeric=True) == "-3.88"
    assert safe_text.csv_cell("-3.88") == "'-3.88"  # text that looks like a number: text
    assert safe_text.csv_cell("-2+3", numeric=True) == "'-2+3"
    assert safe_text.csv_cell("=1+1") == "'=1+1" and safe_text.csv_cell("@x") == "'@x"
    assert safe_text.csv_cell("\tx") == "'\tx" and safe_text.csv_cell("\rx") == "'<U+000D>x"
    assert safe_text.csv_cell("a=1") == "a=1" and safe_text.csv_cell("–") == "–"


def test_visible_clip_and_formats():
    assert safe_text.visible("a\u202eb\x1b\t") == "a<U+202E>b<U+001B>\t"
    assert safe_text.clip("abcdef", 3) == "abc… (+3 chars)" and safe_text.clip("abc", 3) == "abc"
    assert safe_text.describe("\u2067") == "U+2067 RIGHT-TO-LEFT ISOLATE"
    assert safe_text.describe("\x85") == "U+0085 control character"
    assert safe_text.latex("[x] <a>|") == r"{[}x{]} \textless{}a\textgreater{}\textbar{}"
    assert safe_text.markdown("[a](b) <i>|") == r"\[a\](b) \<i\>\|"
    assert safe_text.terminal("[red]x[/]").plain == "[red]x[/]"
    assert str(safe_text.html("<b>\u202e")) == (
        '&lt;b&gt;<span class="ctl" title="U+202E RIGHT-TO-LEFT OVERRIDE">&lt;U+202E&gt;</span>'
    )
