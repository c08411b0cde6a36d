"""Every comparison table in five formats: rich (terminal), markdown, csv, json, latex.

Tables are built once as plain rows (`Table`) and rendered by format. JSON is the whole
comparison as one document (`evalkit.serialize.comparison_json`), schema below;
`schema_version` changes whenever a field changes meaning or disappears.

JSON schema (schema_version 2; 2 added the ranking keys, present only when systems are
ranked: from three systems on, with --rank, or with --by-group):
  kind            "evalkit.compare"
  runs            [{run_id, path, test_set: {name, hash}}]
  systems         [{key, label, run_id}]      key: unique label (label@run when ambiguous)
  baseline        key of the baseline system
  test            "bs" (paired bootstrap) or "ar" (approximate randomization)
  resamples, seed, alpha, confidence (0.95)
  metrics         [{name, signature, higher_is_better, rows}]   rows: rows the metric used
  results         {metric: {system key: {score, ci: [low, high], n, delta,
                   delta_ci: [low, high], p_value, significant, better}}}
                  delta = system - baseline; better respects the metric's direction;
                  significant needs p < alpha and n >= 10
  breakdowns      {document: {groups, rows, scores}, length: {...},
                   win_tie_loss: [{metric, a, b, wins, ties, losses}],
                   top: [{metric, a, b, doc_id, src_ids, src, ref, hyp_a, hyp_b,
                          score_a, score_b}]}    (only the breakdowns asked for)
  warnings        [str]
  ranking         {metric: [{system, rank, cluster, score, delta, p_value}]}   best first;
                  cluster 1 the best; delta and p_value against the system ranked just
                  above (null for the first); metrics without rows left out
  ranking_rule    the cluster rule as printed, with its test, resamples and alpha
  autorank        [{system, autorank, rescaled: {metric: value}}]   best (lowest) first
  autorank_metrics  [metric]   the metrics AutoRank averages
  autorank_rule   how AutoRank is computed, as printed
  ranking_rows    {metric: rows ranked on}
  group_rankings  {key, documents_without, groups: {value: {ranking, autorank,
                   autorank_metrics, ranking_rows}}}   (only with --by-group KEY)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.table import Table as RichTable

from evalkit import safe_text
from evalkit.compare.breakdowns import GroupScores, SegmentDifference, WinTieLoss
from evalkit.compare.ranking import RankEntry, Ranking
from evalkit.compare.significance import FEW_ROWS, Cell, Comparison
from evalkit.safe_text import CELL_LIMIT

Format = Literal["rich", "markdown", "csv", "json", "latex"]
TextFormat = Literal["markdown", "csv", "latex"]
FORMATS: tuple[Format, ...] = ("rich", "markdown", "csv", "json", "latex")


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


@dataclass
class Breakdowns:
    document: GroupScores | None = None
    length: GroupScores | None = None
    win_tie_loss: list[WinTieLoss] | None = None
    top: list[SegmentDifference] | None = None


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def p_text(value: float | None) -> str:
    """`p=0.123`, `p<0.001` (the floor with 1000 resamples is 1/1001), or `p=n/a`."""
    if value is None:
        return "p=n/a"
    return f"p={value:.3f}" if value >= 0.001 else "p<0.001"


def score_text(cell: Cell) -> str:
    if cell.score is None:
        return "–"
    text = _num(cell.score)
    if cell.ci is not None:
        text += f" [{cell.ci[0]:.2f}, {cell.ci[1]:.2f}]"
    if cell.few_rows:
        text += f" (n={cell.n}, few)"
    return text


def delta_text(cell: Cell) -> str:
    if cell.delta is None:
        return "–"
    text = f"{_signed(cell.delta)} {p_text(cell.p_value)}"
    return text + (" *" if cell.significant else "")


#: above this many metrics the leaderboard puts metrics in rows, not columns, so that it
#: stays readable at any terminal width
WIDE_METRICS = 4


def leaderboard(comparison: Comparison) -> Table:
    """Each metric's score [95% CI] per system and its difference from the baseline: one
    row per system for a few metrics, one row per metric and system for many."""
    if len(comparison.metrics) > WIDE_METRICS:
        columns = ["metric", "system", "score [95% CI]", "Δ vs baseline, p"]
        numeric = {2, 3}
        rows: list[list[Any]] = []
        for m in comparison.metrics:
            arrow = "↑" if m.higher_is_better else "↓"
            for i, key in enumerate(comparison.systems):
                cell = comparison.cells[m.name][key]
                rows.append(
                    [
                        f"{m.name} {arrow}" if i == 0 else "",
                        key + (" (baseline)" if key == comparison.baseline else ""),
                        score_text(cell),
                        delta_text(cell) if key != comparison.baseline else "",
                    ]
                )
    else:
        columns = ["system"]
        numeric = set()
        for m in comparison.metrics:
            arrow = "↑" if m.higher_is_better else "↓"
            columns += [f"{m.name} {arrow} [95% CI]", f"Δ {m.name}, p"]
            numeric |= {len(columns) - 2, len(columns) - 1}
        rows = []
        for key in comparison.systems:
            row: list[Any] = [key + (" (baseline)" if key == comparison.baseline else "")]
            for m in comparison.metrics:
                cell = comparison.cells[m.name][key]
                row += [score_text(cell), delta_text(cell) if key != comparison.baseline else ""]
            rows.append(row)
    test = "paired bootstrap" if comparison.test == "bs" else "approximate randomization"
    notes = [
        f"{test}, {comparison.resamples} resamples, seed {comparison.seed}; 95% CI: bootstrap "
        f"percentile; * p < {comparison.alpha} (needs n >= {FEW_ROWS} rows)",
        "rows per metric: "
        + ", ".join(
            f"{m.name} {comparison.cells[m.name][comparison.baseline].n}"
            for m in comparison.metrics
        ),
        *(f"{m.name}: {m.signature}" for m in comparison.metrics),
    ]
    return Table(
        f"compare · {comparison.pool.test_set} · baseline {comparison.baseline}",
        columns,
        rows,
        notes,
        numeric,
        warnings=[w.text for w in comparison.warnings],
    )


def long_results(comparison: Comparison) -> Table:
    """One row per (system, metric) with every number in its own column (for csv)."""
    columns = [
        "system",
        "metric",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "p_value",
        "significant",
        "baseline",
        "test",
        "resamples",
        "seed",
    ]
    ranking = comparison.ranking
    if ranking is not None:
        columns += ["rank", "cluster", "autorank"]
    rows = []
    for key in comparison.systems:
        for m in comparison.metrics:
            c = comparison.cells[m.name][key]
            rows.append(
                [
                    key,
                    m.name,
                    c.n,
                    c.score,
                    c.ci[0] if c.ci else None,
                    c.ci[1] if c.ci else None,
                    c.delta,
                    c.delta_ci[0] if c.delta_ci else None,
                    c.delta_ci[1] if c.delta_ci else None,
                    c.p_value,
                    c.significant,
                    comparison.baseline,
                    comparison.test,
                    comparison.resamples,
                    comparison.seed,
                ]
            )
            if ranking is not None:
                rows[-1] += _ranking_cells(ranking, m.name, key)
    return Table("compare", columns, rows, warnings=[w.text for w in comparison.warnings])


def _ranking_cells(ranking: Ranking, metric: str, key: str) -> list[Any]:
    """rank, cluster and AutoRank of one (system, metric) row of the long table: blank
    where the metric is not ranked (no rows), AutoRank on every row of its system."""
    entry = next((e for e in ranking.metrics.get(metric, []) if e.system == key), None)
    auto = next((e.autorank for e in ranking.autorank if e.system == key), None)
    return [
        entry.rank if entry else None,
        entry.cluster if entry else None,
        auto if ranking.autorank_metrics else None,
    ]


def _against_above(entries: Sequence[RankEntry], i: int) -> str:
    """The difference from the system ranked just above and its p-value; `*` where a new
    cluster starts."""
    entry = entries[i]
    if i == 0:
        return ""
    text = f"{_signed(entry.delta)} {p_text(entry.p_value)}"
    return text + (" *" if entry.cluster != entries[i - 1].cluster else "")


def ranking_table(ranking: Ranking, comparison: Comparison, title: str) -> Table:
    """Per metric, every system best first with its rank and significance cluster, and
    the test against the system just above: the evidence each cluster boundary rests on.
    Metrics go in rows, so that the table reads the same at any terminal width."""
    columns = ["metric", "rank", "cluster", "system", "score", "Δ vs above, p"]
    rows: list[list[Any]] = []
    separators: set[int] = set()
    for m in comparison.metrics:
        entries = ranking.metrics.get(m.name, [])
        arrow = "↑" if m.higher_is_better else "↓"
        for i, entry in enumerate(entries):
            if i == 0 or entry.cluster != entries[i - 1].cluster:
                separators.add(len(rows))
            rows.append(
                [
                    f"{m.name} {arrow}" if i == 0 else "",
                    entry.rank,
                    entry.cluster,
                    entry.system,
                    _num(entry.score),
                    _against_above(entries, i),
                ]
            )
    notes = [ranking.rule + "; * a new cluster starts", *ranking.notes]
    return Table(title, columns, rows, notes, {1, 2, 4, 5}, separators=separators)


def autorank_table(ranking: Ranking, comparison: Comparison, title: str) -> Table:
    """Systems by AutoRank, best first, with each metric's rescaled score it averages
    (those columns left out above WIDE_METRICS metrics, as the leaderboard does)."""
    shown = ranking.autorank_metrics if len(ranking.autorank_metrics) <= WIDE_METRICS else []
    n = len(comparison.systems)
    columns = ["system", "autorank ↓", *(f"{m} (1-{n})" for m in shown)]
    rows = [
        [e.system, _num(e.autorank), *(_num(e.rescaled[m]) for m in shown)]
        for e in ranking.autorank
    ]
    return Table(title, columns, rows, [ranking.autorank_rule], set(range(1, len(columns))))


def ranking_tables(comparison: Comparison) -> list[Table]:
    """The ranking and AutoRank tables; none when the systems were not ranked."""
    ranking = comparison.ranking
    if ranking is None:
        return []
    test_set = comparison.pool.test_set
    return [
        ranking_table(ranking, comparison, f"ranking · {test_set}"),
        autorank_table(ranking, comparison, f"autorank · {test_set}"),
    ]


def group_ranking_tables(comparison: Comparison) -> list[Table]:
    """The same two tables for each group of `--by-group`; none without it."""
    by_group = comparison.group_rankings
    if by_group is None:
        return []
    out = []
    for value, ranked in by_group.groups.items():
        label = f"{by_group.key}={value}"
        table = ranking_table(ranked, comparison, f"ranking · {label}")
        # the rule is the one said under the whole ranking; the rows are the group's
        table.notes = [
            "rows per metric: " + ", ".join(f"{m} {n}" for m, n in ranked.rows.items()),
            *ranked.notes,
        ]
        if by_group.documents_without:
            without = f"{by_group.documents_without} document(s) without {by_group.key}"
            table.notes.append(f"{without} are in no group")
        out += [table, autorank_table(ranked, comparison, f"autorank · {label}")]
    return out


def group_table(groups: GroupScores, comparison: Comparison) -> Table:
    label = "doc" if groups.kind == "document" else "source words"
    columns = [label, "rows", "system"] + [
        f"{m.name} {'↑' if m.higher_is_better else '↓'}" for m in comparison.metrics
    ]
    rows = []
    for group in groups.groups:
        for i, key in enumerate(comparison.systems):
            rows.append(
                [
                    group if i == 0 else "",
                    groups.rows[group] if i == 0 else "",
                    key,
                    *(
                        _num(groups.scores[m.name][group][key])
                        for m in comparison.metrics
                        if m.name in groups.scores
                    ),
                ]
            )
    title = "per document" if groups.kind == "document" else "per source length (words)"
    return Table(title, columns, rows, numeric=set(range(3, len(columns))))


def wins_table(wins: list[WinTieLoss]) -> Table:
    rows = [[w.metric, w.a, w.b, w.wins, w.ties, w.losses] for w in wins]
    return Table(
        "win / tie / loss per segment",
        ["metric", "A", "B", "A better", "tie", "B better"],
        rows,
        numeric={3, 4, 5},
    )


def top_table(top: list[SegmentDifference]) -> Table:
    rows = [
        [
            d.metric,
            d.doc_id,
            ",".join(map(str, d.src_ids))
            if len(d.src_ids) < 4
            else f"{d.src_ids[0]}-{d.src_ids[-1]}",
            f"{d.a} {_num(d.score_a)}",
            f"{d.b} {_num(d.score_b)}",
            _signed(d.difference),
            d.src,
            d.ref or "–",
            d.hyp_a,
            d.hyp_b,
        ]
        for d in top
    ]
    return Table(
        "segments that differ most",
        ["metric", "doc", "src", "A", "B", "A-B", "source", "reference", "A output", "B output"],
        rows,
        numeric={5},
    )


def tables(comparison: Comparison, breakdowns: Breakdowns | None = None) -> list[Table]:
    """The leaderboard, the ranking (when systems were ranked), then the breakdowns."""
    return [
        leaderboard(comparison),
        *ranking_tables(comparison),
        *group_ranking_tables(comparison),
        *breakdown_tables(comparison, breakdowns),
    ]


def breakdown_tables(comparison: Comparison, breakdowns: Breakdowns | None) -> list[Table]:
    """The tables of the breakdowns asked for (`--by`)."""
    out: list[Table] = []
    if breakdowns:
        if breakdowns.document:
            out.append(group_table(breakdowns.document, comparison))
        if breakdowns.length:
            out.append(group_table(breakdowns.length, comparison))
        if breakdowns.win_tie_loss is not None:
            out.append(wins_table(breakdowns.win_tie_loss))
        if breakdowns.top is not None:
            out.append(top_table(breakdowns.top))
            if not breakdowns.top:
                out[-1].notes.append("no segment scores differ")
    return out


# --- renderers -------------------------------------------------------------------------


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


def render_rich(comparison: Comparison, breakdowns: Breakdowns | None) -> list[RichTable | Note]:
    """Rich tables, each followed by its notes and warnings."""
    out: list[RichTable | Note] = []
    for table in tables(comparison, breakdowns):
        out.append(to_rich(table))
        out += [Note(safe_text.plain(note)) for note in table.notes]
        out += [Note(safe_text.plain(f"warning: {w}"), warning=True) for w in table.warnings]
    return out


def render(comparison: Comparison, breakdowns: Breakdowns | None, fmt: TextFormat) -> str:
    """Text for markdown/csv/latex (rich: `render_rich`; JSON: `comparison_json`)."""
    if fmt == "markdown":
        return "\n".join(to_markdown(t) for t in tables(comparison, breakdowns))
    if fmt == "latex":
        return "\n".join(to_latex(t) for t in tables(comparison, breakdowns))
    if fmt == "csv":  # rank, cluster and AutoRank are columns of the long table
        parts = [to_csv(long_results(comparison))]
        extra = group_ranking_tables(comparison) + breakdown_tables(comparison, breakdowns)
        for table in extra:
            parts.append(f"# {table.title}\n" + to_csv(table))
        return "\n".join(parts)
    raise ValueError(fmt)
