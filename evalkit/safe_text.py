"""Text from outside (test sets, system outputs, labels, names) shown safely in every output.

Data files (run.json, segments.jsonl) and JSON output keep text exactly as it was read.
Everything that shows text to a person goes through this module:

- control characters (C0 but tab, DEL, C1) and the bidirectional controls (U+061C,
  U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are replaced by a visible `<U+202E>`, as
  `less` shows them: no escape sequence from user text reaches a terminal, and no control
  can hide text or reorder what surrounds it (a "Trojan Source" label or hypothesis);
- terminal, markdown and LaTeX cells are clipped to `CELL_LIMIT` characters with an
  ellipsis and the count left out, so that one 200,000-character line cannot blow up a
  table; CSV cells to `CSV_CELL_LIMIT` (a spreadsheet cell holds at most 32,767
  characters); JSON and the HTML report keep the whole text (the report wraps it);
- each format escapes its own markup: rich markup is never parsed (`terminal` returns a
  `Text`), markdown and LaTeX special characters are escaped, HTML is escaped by jinja2
  with the controls shown as marked spans (`html`);
- CSV cells of text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab,
  carriage return first) get a leading apostrophe (`csv_cell`, OWASP's advice); numbers
  stay numbers.
"""

from __future__ import annotations

import numbers
import re
import unicodedata
from typing import Any

from markupsafe import Markup, escape
from rich.text import Text

#: characters never shown raw: C0 controls but tab, DEL, C1 controls, and the bidi
#: controls (marks, embeddings, overrides, isolates)
HIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: text cells longer than this are clipped in terminal, markdown and LaTeX tables
CELL_LIMIT = 300
#: text cells longer than this are clipped in CSV: spreadsheets hold at most 32,767
#: characters in a cell (and Python's csv reader 131,072 by default)
CSV_CELL_LIMIT = 32_000
#: names (labels, document ids, test set names) longer than this are clipped in terminal
#: tables and titles
NAME_LIMIT = 100

_C0_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x9B: "CONTROL SEQUENCE INTRODUCER",
}


def code_point(char: str) -> str:
    """`U+202E`."""
    return f"U+{ord(char):04X}"


def describe(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, `U+001B ESCAPE`, `U+0085 control character`."""
    name = _C0_NAMES.get(ord(char)) or unicodedata.name(char, "control character")
    return f"{code_point(char)} {name}"


def visible(text: str) -> str:
    """The text with every hidden character written as `<U+XXXX>`."""
    return HIDDEN.sub(lambda m: f"<{code_point(m.group())}>", text)


def clip(text: str, limit: int | None) -> str:
    """At most `limit` characters of the text, then `… (+N chars)` when some were left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit:,} chars)"


def plain(text: Any, limit: int | None = None) -> str:
    """User text for a plain-text output: clipped, hidden characters made visible."""
    return visible(clip(str(text), limit))


def terminal(text: Any, limit: int | None = NAME_LIMIT, style: str = "") -> Text:
    """User text for rich: never parsed as markup, nothing hidden, clipped."""
    return Text(plain(text, limit), style=style)


def html(text: Any) -> Markup:
    """HTML-escaped text, each hidden character as a visible marked span that names it."""
    escaped = str(escape(text))
    return Markup(
        HIDDEN.sub(
            lambda m: (
                f'<span class="ctl" title="{describe(m.group())}">'
                f"&lt;{code_point(m.group())}&gt;</span>"
            ),
            escaped,
        )
    )


def markdown(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """Text for a markdown table cell: every character markdown (or GitHub) would read as
    markup escaped with a backslash: no link, image, raw HTML, emphasis, math, mention or
    cell break comes out of user text."""
    return re.sub(r"([\\`*_{}\[\]<>|!~$@&#])", r"\\\1", plain(text, limit))


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",  # a row starting with `[` would be read as the optional argument of `\\`
    "]": "{]}",
    "Δ": r"$\Delta$",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "–": "--",
}


def latex(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """Text for LaTeX: every special character as a command, nothing that could end a `%`
    comment line or a table cell (line breaks are shown as `<U+000A>`)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in plain(text, limit))


#: what makes a spreadsheet read a cell as a formula (OWASP: CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any, numeric: bool = False) -> Any:
    """A CSV cell: numbers as they are; text clipped, hidden characters made visible and,
    when a spreadsheet would read it as a formula, a leading apostrophe. In a numeric
    column a text that is a plain number (`-3.88`) stays as it is."""
    if value is None:
        return ""
    if isinstance(value, numbers.Real):  # numpy numbers too
        return value
    text = str(value)
    if numeric and _NUMBER.fullmatch(text):
        return text
    if text.startswith(_FORMULA_START):
        text = "'" + text  # before `visible`: a leading tab or CR is what triggers it
    return plain(text, CSV_CELL_LIMIT)
