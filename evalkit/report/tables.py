"""Rich tables for the terminal, and the JSON summary printed by `--json`.

Tables only read a RunRecord; they never compute a score. Names from outside (labels,
document ids, test set names) go in as `Text` (`safe_text.terminal`), never as markup.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from evalkit.align.reliability import alignment_warnings
from evalkit.cache import StoreInfo
from evalkit.record import MetricInfo, RunRecord, Score
from evalkit.safe_text import plain, terminal


def _format(value: Score) -> str:
    return "–" if value is None else f"{value:.2f}"


def _best(values: list[Score], higher_is_better: bool) -> Score:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if higher_is_better else min(present)


REFERENCE_BASED = "reference-based"
REFERENCE_FREE = "reference-free"


def _metric_groups(record: RunRecord) -> list[tuple[str, list[MetricInfo]]]:
    """Reference-based metrics (documents with a reference), then reference-free ones
    (quality estimation and diagnostics, every document); empty groups left out, but
    always one table, so that systems and documents are listed even without metrics."""
    groups = [
        (
            f"{REFERENCE_BASED} · documents with a reference",
            [m for m in record.metrics if m.needs_reference],
        ),
        (f"{REFERENCE_FREE} · all documents", [m for m in record.metrics if not m.needs_reference]),
    ]
    return [(title, metrics) for title, metrics in groups if metrics] or [("no metrics", [])]


def _add_metric_columns(table: Table, metrics: list[MetricInfo]) -> None:
    for m in metrics:  # values never cut ("100.00"); long names fold instead
        arrow = "↑" if m.higher_is_better else "↓"
        table.add_column(f"{m.name} {arrow}", justify="right", min_width=6, overflow="fold")


def _stacked(title: Text, tables: list[Table]) -> Table:
    """Tables one above the other under one title (a table, for callers that print it)."""
    grid = Table.grid()
    grid.title = title
    grid.title_justify = "left"
    for table in tables:
        grid.add_row(table)
    return grid


def leaderboard(record: RunRecord) -> Table:
    """One row per system and one column per metric, reference-based and reference-free
    metrics in separate tables; the best value of each column in bold."""
    tables = []
    for i, (group, metrics) in enumerate(_metric_groups(record)):
        table = Table(title=group, title_justify="left", title_style="italic")
        table.add_column("system", style="cyan", no_wrap=True)
        _add_metric_columns(table, metrics)
        if i == 0:
            table.add_column("sec", justify="right", style="dim")
            table.add_column("tok/s", justify="right", style="dim")
            table.add_column("cached", justify="right", style="dim")
        best = {
            m.name: _best(
                [record.scores[s.label].corpus.get(m.name) for s in record.systems],
                m.higher_is_better,
            )
            for m in metrics
        }
        for system in record.systems:
            cells = []
            for m in metrics:
                value = record.scores[system.label].corpus.get(m.name)
                bold = value is not None and value == best[m.name] and len(record.systems) > 1
                cells.append(Text(_format(value), style="bold" if bold else ""))
            if i == 0:
                rate = system.generated_tokens / system.seconds if system.generated_tokens else None
                cells += [
                    f"{system.seconds:.1f}",
                    "–" if rate is None else f"{rate:.1f}",
                    f"{system.cache_hits}/{system.cache_hits + system.translated}"
                    if system.cache_hits + system.translated
                    else "–",
                ]
            table.add_row(terminal(system.label), *cells)
        tables.append(table)
    title = Text.assemble(terminal(record.test_set.name), f" · run {record.run_id}")
    return _stacked(title, tables)


def by_document(record: RunRecord) -> Table:
    """Scores per document and system, with how each document was scored; reference-based
    and reference-free metrics in separate tables."""
    tables = []
    for group, metrics in _metric_groups(record):
        table = Table(title=group, title_justify="left", title_style="italic")
        table.add_column("doc", style="magenta", no_wrap=True)
        table.add_column("scored as", style="dim")
        table.add_column("system", style="cyan", no_wrap=True)
        _add_metric_columns(table, metrics)
        for doc in record.test_set.documents:
            for i, system in enumerate(record.systems):
                doc_scores = record.scores[system.label].documents.get(doc.id, {})
                table.add_row(
                    terminal(doc.id) if i == 0 else "",
                    terminal(doc.scored_as) if i == 0 else "",
                    terminal(system.label),
                    *(_format(doc_scores.get(m.name)) for m in metrics),
                    end_section=i == len(record.systems) - 1,
                )
        tables.append(table)
    return _stacked(Text.assemble(terminal(record.test_set.name), " · per document"), tables)


def runs_table(records: list[RunRecord]) -> Table:
    table = Table(title="runs", title_justify="left")
    table.add_column("run", no_wrap=True, style="cyan")
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("test set", no_wrap=True)
    table.add_column("systems", overflow="fold")
    for record in records:
        table.add_row(
            terminal(record.run_id),
            terminal(record.finished[:16].replace("T", " ")),
            terminal(f"{record.test_set.name} {record.test_set.hash[7:15]}"),
            terminal(", ".join(s.label for s in record.systems), None),
        )
    return table


def cache_table(stores: list[StoreInfo]) -> Table:
    """`evalkit cache info`: each store of the cache file and how well it serves runs."""
    table = Table(title_justify="left")
    table.add_column("store")
    for header in ("entries", "MB", "last run found", "all runs found"):
        table.add_column(header, justify="right")

    def rate(hits: int, misses: int) -> str:
        share = StoreInfo.rate(hits, misses)
        return "–" if share is None else f"{share:.0%} of {hits + misses}"

    for s in stores:
        table.add_row(
            s.name,
            str(s.entries),
            f"{s.size_bytes / 1e6:.1f}",
            rate(s.last_hits, s.last_misses),
            rate(s.hits, s.misses),
        )
    return table


def footer_lines(record: RunRecord) -> list[str]:
    """Signatures and notes: what a reader needs to trust or reproduce the numbers (plain
    text, hidden characters shown: print it with markup off)."""
    lines = [f"warning: {line}" for line in alignment_warnings(record.alignment)]
    lines += [f"{m.name}: {m.signature}" for m in record.metrics]
    lines += _system_lines(record)
    lines += [f"note: {note}" for note in record.notes]
    if record.timings:
        stages = " · ".join(f"{stage} {seconds:.1f} s" for stage, seconds in record.timings.items())
        lines.append(f"time: {stages} · total {record.duration_s:.1f} s")
    return [plain(line) for line in lines]


def _system_lines(record: RunRecord) -> list[str]:
    """What served systems sent, and units cut off at the generation cap."""
    lines = []
    for s in record.systems:
        parts = []
        if s.requests is not None:
            parts.append(
                f"{s.requests} requests ({s.retries} retries), {s.prompt_tokens} prompt + "
                f"{s.completion_tokens} completion tokens"
            )
        if s.truncated:
            parts.append(
                f"{s.truncated} unit{'' if s.truncated == 1 else 's'} cut off at the "
                "generation cap (kept, flagged truncated)"
            )
        if parts:
            lines.append(f"{s.label}: " + "; ".join(parts))
    return lines
