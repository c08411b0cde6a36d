"""Rich tables for the terminal, and the JSON summary printed by `--json`.

Tables only read a RunRecord; they never compute a score.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from evalkit.results import MetricInfo, RunRecord, Score

SUMMARY_SCHEMA_VERSION = 1


def _format(value: Score) -> str:
    return "–" if value is None else f"{value:.2f}"


def _best(values: list[Score], higher_is_better: bool) -> Score:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if higher_is_better else min(present)


REFERENCE_BASED = "reference-based"
REFERENCE_FREE = "reference-free"


def _ordered_metrics(record: RunRecord) -> list[MetricInfo]:
    """The metrics in table order: reference-based first, then reference-free."""
    return sorted(record.metrics, key=lambda m: not m.needs_reference)


def _metric_header(record: RunRecord) -> list[tuple[str, bool]]:
    return [(m.name, m.higher_is_better) for m in _ordered_metrics(record)]


def _add_metric_columns(table: Table, record: RunRecord) -> None:
    """One column per metric, in two groups named in a first header line.

    Reference-based metrics cover only documents with a reference; reference-free ones
    (quality estimation, diagnostics) cover every document.
    """
    group = None
    for metric in _ordered_metrics(record):
        name = REFERENCE_BASED if metric.needs_reference else REFERENCE_FREE
        label = f"{metric.name} {'↑' if metric.higher_is_better else '↓'}"
        table.add_column(f"{name if name != group else ''}\n{label}", justify="right")
        group = name


def leaderboard(record: RunRecord) -> Table:
    """One row per system, one column per metric, the best value of each column in bold."""
    metrics = _metric_header(record)
    table = Table(title=f"{record.test_set.name} · run {record.run_id}", title_justify="left")
    table.add_column("\nsystem", style="cyan", no_wrap=True)
    _add_metric_columns(table, record)
    table.add_column("sec", justify="right", style="dim")
    table.add_column("tok/s", justify="right", style="dim")
    table.add_column("cached", justify="right", style="dim")
    best = {
        name: _best([record.scores[s.label].corpus.get(name) for s in record.systems], higher)
        for name, higher in metrics
    }
    for system in record.systems:
        cells = []
        for name, _ in metrics:
            value = record.scores[system.label].corpus.get(name)
            text = _format(value)
            if value is not None and value == best[name] and len(record.systems) > 1:
                text = f"[bold]{text}[/bold]"
            cells.append(text)
        rate = system.generated_tokens / system.seconds if system.generated_tokens else None
        table.add_row(
            system.label,
            *cells,
            f"{system.seconds:.1f}",
            "–" if rate is None else f"{rate:.1f}",
            f"{system.cache_hits}/{system.cache_hits + system.translated}"
            if system.kind != "files"
            else "–",
        )
    return table


def by_document(record: RunRecord) -> Table:
    """Scores per document and system, with how each document was scored."""
    metrics = _metric_header(record)
    table = Table(title=f"{record.test_set.name} · per document", title_justify="left")
    table.add_column("\ndoc", style="magenta", no_wrap=True)
    table.add_column("\nscored as", style="dim")
    table.add_column("\nsystem", style="cyan", no_wrap=True)
    _add_metric_columns(table, record)
    for doc in record.test_set.documents:
        for i, system in enumerate(record.systems):
            doc_scores = record.scores[system.label].documents.get(doc.id, {})
            table.add_row(
                doc.id if i == 0 else "",
                doc.scored_as if i == 0 else "",
                system.label,
                *(_format(doc_scores.get(name)) for name, _ in metrics),
                end_section=i == len(record.systems) - 1,
            )
    return table


def runs_table(records: list[RunRecord]) -> Table:
    table = Table(title="runs", title_justify="left")
    table.add_column("run", no_wrap=True, style="cyan")
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("test set", no_wrap=True)
    table.add_column("systems", overflow="fold")
    for record in records:
        table.add_row(
            record.run_id,
            record.finished[:16].replace("T", " "),
            f"{record.test_set.name} {record.test_set.hash[7:15]}",
            ", ".join(s.label for s in record.systems),
        )
    return table


def footer_lines(record: RunRecord) -> list[str]:
    """Signatures and notes: what a reader needs to trust or reproduce the numbers."""
    lines = [f"{m.name}: {m.signature}" for m in record.metrics]
    lines += [f"note: {note}" for note in record.notes]
    return lines


def run_summary(record: RunRecord, path: str | None = None) -> dict[str, Any]:
    """The machine-readable summary of a run (`--json`)."""
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "run_id": record.run_id,
        "path": path,
        "test_set": {"name": record.test_set.name, "hash": record.test_set.hash},
        "metrics": {m.name: m.signature for m in record.metrics},
        "systems": {
            s.label: {
                "spec": s.spec,
                "fingerprint": s.fingerprint_hash,
                "corpus": record.scores[s.label].corpus,
                "documents": record.scores[s.label].documents,
            }
            for s in record.systems
        },
        "notes": record.notes,
    }
