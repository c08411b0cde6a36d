"""The ranking of a comparison as tables: per metric each system's rank and cluster with
its difference to the system above, AutoRank, and the same per group of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.compare.ranking import RankEntry, Ranking
from evalkit.compare.significance import Comparison
from evalkit.table_text import WIDE_METRICS, Table, num, p_text, signed


def ranking_cells(ranking: Ranking, metric: str, key: str) -> list[Any]:
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
    text = f"{signed(entry.delta)} {p_text(entry.p_value)}"
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
                    num(entry.score),
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
        [e.system, num(e.autorank), *(num(e.rescaled[m]) for m in shown)] for e in ranking.autorank
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
