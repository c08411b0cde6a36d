"""Every comparison table in five formats: rich (terminal), markdown, csv, json, latex.

Tables are built once as plain rows (`Table`) and rendered by format. JSON is the whole
comparison as one document (`evalkit.json_output.comparison_json`), schema below;
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

from dataclasses import dataclass
from typing import Any, Literal

from rich.table import Table as RichTable

from evalkit import safe_text
from evalkit.compare.breakdowns import GroupScores, SegmentDifference, WinTieLoss
from evalkit.compare.significance import FEW_ROWS, Cell, Comparison
from evalkit.report.ranking_tables import group_ranking_tables, ranking_cells, ranking_tables
from evalkit.table_text import (
    WIDE_METRICS,
    Note,
    Table,
    num,
    p_text,
    signed,
    to_csv,
    to_latex,
    to_markdown,
    to_rich,
)

Format = Literal["rich", "markdown", "csv", "json", "latex"]
TextFormat = Literal["markdown", "csv", "latex"]
FORMATS: tuple[Format, ...] = ("rich", "markdown", "csv", "json", "latex")


@dataclass
class Breakdowns:
    document: GroupScores | None = None
    length: GroupScores | None = None
    win_tie_loss: list[WinTieLoss] | None = None
    top: list[SegmentDifference] | None = None


def score_text(cell: Cell) -> str:
    if cell.score is None:
        return "–"
    text = num(cell.score)
    if cell.ci is not None:
        text += f" [{cell.ci[0]:.2f}, {cell.ci[1]:.2f}]"
    if cell.few_rows:
        text += f" (n={cell.n}, few)"
    return text


def delta_text(cell: Cell) -> str:
    if cell.delta is None:
        return "–"
    text = f"{signed(cell.delta)} {p_text(cell.p_value)}"
    return text + (" *" if cell.significant else "")


#: above this many metrics the leaderboard puts metrics in rows, not columns, so that it
#: stays readable at any terminal width
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
                rows[-1] += ranking_cells(ranking, m.name, key)
    return Table("compare", columns, rows, warnings=[w.text for w in comparison.warnings])


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
                        num(groups.scores[m.name][group][key])
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
            f"{d.a} {num(d.score_a)}",
            f"{d.b} {num(d.score_b)}",
            signed(d.difference),
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
