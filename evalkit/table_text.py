"""A table as plain rows, and its writers: rich (terminal), markdown, CSV and LaTeX.

Shared by every table evalkit prints (comparisons, meta-evaluation, housekeeping): it
knows cells and how to escape them for each format (`evalkit.safe_text`), nothing of what
the tables hold, so any package may use it without depending on another's.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table as RichTable

from evalkit import safe_text
from evalkit.safe_text import CELL_LIMIT

#: above this many metrics a table lists one row per metric and system, and leaves out
#: per-metric columns
WIDE_METRICS = 4


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def p_text(value: float | None) -> str:
    """`p=0.123`, `p<0.001` (the floor with 1000 resamples is 1/1001), or `p=n/a`."""
    if value is None:
        return "p=n/a"
    return f"p={value:.3f}" if value >= 0.001 else "p<0.001"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    #: columns whose cells are numbers (right-aligned)
    numeric: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    #: rows that start a new section (a new metric or cluster of a ranking): a rule above
    separators: set[int] = field(default_factory=set)

    def note_lines(self) -> list[str]:
        """Notes, then warnings marked as such: what plain-text formats print under it."""
        return self.notes + [f"warning: {w}" for w in self.warnings]


@dataclass(frozen=True)
class Note:
    """A line printed under a rich table: plain text (print it with markup off)."""

    text: str
    warning: bool = False


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def to_rich(table: Table) -> RichTable:
    """Every cell, header and the title as `Text`: rich markup in user text (`[red]`,
    `[link=...]`) prints literally, control characters are shown, long text is clipped."""
    rich = RichTable(title=safe_text.terminal(table.title, CELL_LIMIT), title_justify="left")
    for i, column in enumerate(table.columns):
        rich.add_column(
            safe_text.terminal(column), justify="right" if i in table.numeric else "left"
        )
    for i, row in enumerate(table.rows):
        rich.add_row(
            *(safe_text.terminal(_text(v), CELL_LIMIT) for v in row),
            end_section=i + 1 in table.separators,
        )
    return rich


def to_markdown(table: Table) -> str:
    """Markdown with every cell escaped (`safe_text.markdown`): user text cannot make a
    link, an image, raw HTML or a new cell."""
    esc = safe_text.markdown
    lines = [f"### {esc(table.title)}", ""]
    lines.append("| " + " | ".join(esc(c) for c in table.columns) + " |")
    lines.append(
        "|"
        + "|".join("---:" if i in table.numeric else "---" for i in range(len(table.columns)))
        + "|"
    )
    lines += ["| " + " | ".join(esc(_text(v)) for v in row) + " |" for row in table.rows]
    if table.note_lines():
        lines.append("")
        lines += [f"- {esc(note, None)}" for note in table.note_lines()]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """CSV safe to open in a spreadsheet: text that would start a formula gets a leading
    apostrophe (`safe_text.csv_cell`); numbers stay numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_text.csv_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([safe_text.csv_cell(v, i in table.numeric) for i, v in enumerate(row)])
    return buffer.getvalue()


def latex_escape(value: Any, limit: int | None = CELL_LIMIT) -> str:
    return safe_text.latex(_text(value), limit)


def to_latex(table: Table) -> str:
    spec = "".join("r" if i in table.numeric else "l" for i in range(len(table.columns)))
    lines = [
        "% " + latex_escape(table.title),
        f"\\begin{{tabular}}{{{spec}}}",
        "\\hline",
        " & ".join(latex_escape(c) for c in table.columns) + r" \\",
        "\\hline",
    ]
    lines += [" & ".join(latex_escape(v) for v in row) + r" \\" for row in table.rows]
    lines += ["\\hline", "\\end{tabular}"]
    lines += [f"% {latex_escape(note, None)}" for note in table.note_lines()]
    return "\n".join(lines) + "\n"
