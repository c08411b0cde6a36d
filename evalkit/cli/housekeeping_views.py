"""Rich tables of the housekeeping commands: runs with their judgments, runs to delete,
what `cache prune` removes per store, and the model artefacts. Names from outside go in
as `Text` (`safe_text.terminal`), never as markup."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from evalkit.housekeeping.artefacts import Artefact
from evalkit.housekeeping.cache_prune import CachePrunePlan
from evalkit.housekeeping.runs import StoredRun
from evalkit.housekeeping.units import format_size
from evalkit.safe_text import terminal


def runs_table(runs: list[StoredRun]) -> Table:
    """`evalkit runs`: the columns of evalkit/report/tables.py `runs_table`, and the
    judgments that reference each run (which keep `runs rm` from deleting it)."""
    table = Table(title="runs", title_justify="left")
    table.add_column("run", no_wrap=True, style="cyan")
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("test set", no_wrap=True)
    table.add_column("systems", overflow="fold")
    table.add_column("judgments", justify="right")
    for run in runs:
        record = run.record
        table.add_row(
            terminal(record.run_id),
            terminal(record.finished[:16].replace("T", " ")),
            terminal(f"{record.test_set.name} {record.test_set.hash[7:15]}"),
            terminal(", ".join(s.label for s in record.systems), None),
            str(run.judgments) if run.judgments else "–",
        )
    return table


def deletion_table(runs: list[StoredRun]) -> Table:
    """The runs `runs rm|prune` deletes, with their size and judgments."""
    table = Table(title_justify="left")
    table.add_column("run", no_wrap=True, style="cyan")
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("judgments", justify="right")
    for run in runs:
        table.add_row(
            terminal(run.run_id),
            terminal(run.record.finished[:16].replace("T", " ")),
            format_size(run.size_bytes),
            str(run.judgments) if run.judgments else "–",
        )
    return table


def prune_table(plan: CachePrunePlan) -> Table:
    """Per store: what it holds, and what each rule of `cache prune` removes."""
    table = Table(title_justify="left")
    table.add_column("store")
    table.add_column("entries", justify="right")
    table.add_column("size", justify="right")
    table.add_column("unused by runs", justify="right")
    table.add_column("least recently used", justify="right")

    def part(entries: int, size: int) -> str:
        return f"{entries} ({format_size(size)})" if entries else "–"

    for s in plan.stores:
        unused = part(s.unused, s.unused_bytes) if s.traced else "not traceable"
        table.add_row(
            s.store,
            str(s.entries),
            format_size(s.size_bytes),
            unused if plan.results_dirs else "off",
            part(s.lru, s.lru_bytes) if plan.max_size is not None else "off",
        )
    return table


def artefacts_table(artefacts: list[Artefact], root: Path, marked: set[Path]) -> Table:
    """Each artefact: kind, size, the systems of stored runs that use it, and what
    becomes of it (`marked`: what this command removes)."""
    table = Table(title_justify="left")
    table.add_column("artefact", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("used by", overflow="fold")
    table.add_column("", overflow="fold")
    for artefact in artefacts:
        try:
            shown = artefact.path.relative_to(root)
        except ValueError:
            shown = artefact.path
        note = ("removed: " if artefact.path in marked else "") + artefact.reason
        table.add_row(
            terminal(shown, None),
            artefact.kind,
            format_size(artefact.size_bytes),
            terminal(", ".join(artefact.users) or "no stored run", None),
            terminal(note, None),
        )
    return table
