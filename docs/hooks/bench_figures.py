"""MkDocs hook: figures in the docs are read from `bench/results/*.json`, with their dates.

A page writes a marker where a measured figure goes, and the built page shows the figure
the bench last wrote, so the docs cannot drift from the bench's files:

    {{ bench("warm", "main_job.all_cached_s", ".2f") }}      -> 1.65
    {{ bench("ter", "rows[units=documents].speedup", ".0f") }} -> 470
    {{ bench_ratio("align", "held_out.folds[corpus=verse].right_links_flagged",
                   "held_out.folds[corpus=verse].correct_links", ".2f") }}   -> 0.25
    {{ bench_date("align") }}                                  -> 2026-12-07

`bench_ratio` divides one figure by another; either may be a list of paths, summed (an F1
from its counts: `["x.correct", "x.correct"]` over `["x.true", "x.found"]`).

The first argument names `bench/results/NAME.json`. A path goes down the JSON: a key (keys
may hold dots and spaces: the longest key that fits is taken), a list index (`bins.0`), or
a list item chosen by its fields (`folds[corpus=verse]`, `results[corpus=hadith,method=length]`).
The format is a Python format spec (`.3f`, `.1%`, `,.0f`), rounded half up as people
round, except that a figure stored already rounded and exactly halfway (`0.8095` to
three places) keeps its last digit rather than be rounded twice; without a format the
value is shown as stored.

A figure's date is the file's own (`measured`, `timestamp` or `date` at its top level),
else the date of the last commit that changed the file, else, for a file changed since
that commit or outside git, its modification date.

Markers inside code (a code span, a fenced block) are left as written.
A marker that names a missing file, key or item stops `mkdocs build` with an error naming
the page and the marker.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import subprocess
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"

MARKER = r"\{\{\s*(?P<function>bench|bench_ratio|bench_date)\((?P<arguments>.*?)\)\s*\}\}"
#: code first (a run of backticks up to the same run), so a marker inside code stays as is
_CODE_OR_MARKER = re.compile(r"(?P<code>`+)(?:.|\n)*?(?P=code)|" + MARKER, re.DOTALL)
_FIXED = re.compile(r"(?P<group>,?)\.(?P<places>\d+)(?P<kind>[f%])")
_DATE_FIELDS = ("measured", "timestamp", "date")

_loaded: dict[Path, tuple[float, Any]] = {}


class MarkerError(ValueError):
    """A marker that cannot be rendered: its text says why."""


def load(name: str) -> Any:
    """The JSON of `bench/results/NAME.json` (read once per change of the file)."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        raise MarkerError(f"no bench results file {path.relative_to(ROOT)}")
    mtime = path.stat().st_mtime
    cached = _loaded.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
        _loaded[path] = cached
    return cached[1]


def lookup(data: Any, path: str) -> Any:
    """The value at `path` (see the module's docstring) inside `data`."""
    rest, node, walked = path, data, ""
    while rest:
        if isinstance(node, dict):
            key = _longest_key(node, rest, walked)
            node, rest = node[key], rest[len(key) :]
            walked = f"{walked}.{key}" if walked else key
        elif isinstance(node, list) and rest.startswith("["):
            fields, closed, rest = rest[1:].partition("]")
            if not closed or rest[:1] not in ("", "."):
                raise MarkerError(f"{walked}: a filter is [KEY=VALUE,...] followed by . or the end")
            node = _select(node, fields, walked)
            walked += f"[{fields}]"
        elif isinstance(node, list):
            step = rest.split(".", 1)[0]
            if not (step.isdigit() and int(step) < len(node)):
                raise MarkerError(f"{walked} has no item {step!r} ({len(node)} items)")
            node, rest = node[int(step)], rest[len(step) :]
            walked += f".{step}"
        else:
            raise MarkerError(f"{walked} is a value ({node!r}), {rest!r} is not inside it")
        rest = rest[1:] if rest.startswith(".") else rest
    return node


def _longest_key(node: dict[str, Any], rest: str, walked: str) -> str:
    fitting = [
        key for key in node if rest.startswith(key) and rest[len(key) :][:1] in ("", ".", "[")
    ]
    if not fitting:
        keys = ", ".join(map(str, node))
        raise MarkerError(f"{walked or 'the file'} has no key for {rest!r} (keys: {keys})")
    return max(fitting, key=len)


def _select(items: list[Any], fields: str, where: str) -> Any:
    wanted = dict(part.split("=", 1) for part in fields.split(","))
    found = [
        item
        for item in items
        if isinstance(item, dict) and all(str(item.get(k)) == v for k, v in wanted.items())
    ]
    if len(found) != 1:
        raise MarkerError(f"{where}: {len(found)} items have {fields} (one is needed)")
    return found[0]


def format_value(value: Any, spec: str | None) -> str:
    """`value` in format `spec`, rounded half up from its shortest decimal form; a value
    that lies exactly halfway (`0.5455` to three places: stored already rounded, so its
    true value may lie either side) keeps one more digit rather than be rounded twice."""
    if spec is None:
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MarkerError(f"format {spec!r} needs a number, the value is {value!r}")
    if isinstance(value, int) and not _FIXED.fullmatch(spec):
        return format(value, spec)
    number = Decimal(repr(value))
    fixed = _FIXED.fullmatch(spec)
    if fixed:
        places = int(fixed["places"]) + (2 if fixed["kind"] == "%" else 0)
        shifted = number.scaleb(places)
        if shifted - shifted.to_integral_value(rounding=ROUND_FLOOR) == Decimal("0.5"):
            spec = f"{fixed['group']}.{int(fixed['places']) + 1}{fixed['kind']}"
    with localcontext() as context:
        context.rounding = ROUND_HALF_UP
        return format(number, spec)


def file_date(name: str) -> str:
    """The date of the figures in `bench/results/NAME.json` (see the module's docstring)."""
    data = load(name)
    if isinstance(data, dict):
        for field in _DATE_FIELDS:
            if isinstance(data.get(field), str):
                return data[field][:10]
    path = RESULTS / f"{name}.json"
    committed = _git("log", "-1", "--format=%cs", "--", str(path))
    changed = _git("status", "--porcelain", "--", str(path))
    if committed and not changed:
        return committed
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).date().isoformat()


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def render_marker(function: str, arguments: str) -> str:
    """The text a marker stands for; `arguments` are Python literals, as in a call."""
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
        assert isinstance(call, ast.Call)
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError, AssertionError) as error:
        raise MarkerError(f"arguments are not Python literals: {error}") from None
    try:
        if function == "bench_date":
            return file_date(*args, **kwargs)
        if function == "bench":
            return _bench(*args, **kwargs)
        return _bench_ratio(*args, **kwargs)
    except TypeError as error:
        raise MarkerError(str(error)) from None


def _bench(name: str, path: str, fmt: str | None = None) -> str:
    return format_value(lookup(load(name), path), fmt)


def _bench_ratio(
    name: str, numerator: str | list[str], denominator: str | list[str], fmt: str | None = None
) -> str:
    data = load(name)

    def total(paths: str | list[str]) -> Any:
        return sum(lookup(data, path) for path in ([paths] if isinstance(paths, str) else paths))

    return format_value(total(numerator) / total(denominator), fmt)


def render(markdown: str, where: str = "page") -> str:
    """`markdown` with every marker replaced by its figure; markers inside code (a code
    span or a fenced block) are left as written, so a page can show one."""

    def replace(match: re.Match[str]) -> str:
        if match["code"]:
            return match[0]
        try:
            return render_marker(match["function"], match["arguments"])
        except (MarkerError, KeyError) as error:
            raise PluginError(f"{where}: {match[0]!r}: {error}") from None

    return _CODE_OR_MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    return render(markdown, page.file.src_uri)
