"""`evalkit show`, `models`, `compare` and `report`: what is stored, and comparisons."""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

from evalkit.cache import default_cache_path
from evalkit.cli.common import (
    CacheOpt,
    JsonOpt,
    ResultsOpt,
    app,
    err,
    out,
    print_json,
    print_record,
    reports_user_errors,
)
from evalkit.compare.options import CompareOptions, SignificanceTest
from evalkit.compare.significance import DEFAULT_RESAMPLES, DEFAULT_SEED
from evalkit.json_output import comparison_json, run_summary
from evalkit.record import DEFAULT_RESULTS_DIR, find_run, read_record
from evalkit.report.formats import Format
from evalkit.safe_text import plain
from evalkit.table_text import Note


@app.command()
@reports_user_errors
def show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, unique prefix, path, or 'latest'.")
    ] = "latest",
    by: Annotated[
        Literal["system", "doc"],
        typer.Option("--by", help="system (leaderboard) or doc (per document)."),
    ] = "system",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored run's table again."""
    folder = find_run(results_dir, run_ref)
    record = read_record(folder)
    if as_json:
        print_json(run_summary(record, str(folder)))
        return
    print_record(record, by=by)


@app.command()
@reports_user_errors
def models(as_json: JsonOpt = False) -> None:
    """List engine kinds and packaged models: installed or not, converted (cached) or not."""
    from evalkit.report.models_table import models_listing, models_tables

    listing = models_listing()
    if as_json:
        print_json(listing)
        return
    for table in models_tables(listing):
        out.print(table)


RunsArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="RUN...", help="Run ids, unique prefixes, paths, or 'latest' (default: latest)."
    ),
]
BaselineOpt = Annotated[
    str | None,
    typer.Option("--baseline", "-b", help="System the others are tested against (default: first)."),
]
CompareMetricOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", "-m", help="Metric to compare (repeatable; default: every shared one)."
    ),
]
ResamplesOpt = Annotated[
    int,
    typer.Option("--resamples", min=1, help="Bootstrap resamples (and randomization trials)."),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the resampling.")]
TestOpt = Annotated[
    SignificanceTest,
    typer.Option(
        "--test", help="p-value from bs (paired bootstrap) or ar (approximate randomization)."
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Compare runs that differ in test set, alignment or metrics."),
]
RankOpt = Annotated[
    bool | None,
    typer.Option(
        "--rank/--no-rank",
        help="Rank every system: per metric rank and significance cluster, and AutoRank "
        "(default: from three systems on).",
    ),
]
AutorankMetricsOpt = Annotated[
    str | None,
    typer.Option(
        "--autorank-metrics",
        metavar="M1,M2",
        help="Metrics AutoRank averages, comma-separated (default: every compared one).",
    ),
]
ByGroupOpt = Annotated[
    str | None,
    typer.Option(
        "--by-group",
        metavar="KEY",
        help="Rank again within each group of documents by a metadata key (e.g. origlang).",
    ),
]


class Breakdown(str, Enum):
    """What `compare --by` adds (typer takes repeatable choices as an Enum)."""

    doc = "doc"
    length = "length"
    wins = "wins"
    top = "top"
    all = "all"


@app.command()
@reports_user_errors
def compare(
    runs: RunsArg = None,
    baseline: BaselineOpt = None,
    metric: CompareMetricOpt = None,
    resamples: ResamplesOpt = DEFAULT_RESAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    test: TestOpt = "bs",
    force: ForceOpt = False,
    breakdown: Annotated[
        list[Breakdown] | None,
        typer.Option(
            "--by", help="Breakdowns to add (repeatable): doc, length, wins, top, or all."
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Segments shown by --by top.")] = 5,
    rank: RankOpt = None,
    autorank_metrics: AutorankMetricsOpt = None,
    by_group: ByGroupOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = "rich",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
    cache_path: CacheOpt = None,
) -> None:
    """Compare every system of the runs: 95% CIs, differences, p-values against a baseline;
    from three systems on, every system ranked in significance clusters, with AutoRank."""
    from evalkit import api
    from evalkit.report.formats import render, render_rich

    options = _options(baseline, metric, resamples, seed, test, force, results_dir, cache_path)
    options = _with_ranking(options, rank, autorank_metrics, by_group)
    comparison = api.compare_runs(*(runs or ["latest"]), options=options)
    chosen = {kind.value for kind in breakdown or []}
    breakdowns = (
        api.compute_breakdowns(
            comparison,
            document=bool(chosen & {"doc", "all"}),
            length=bool(chosen & {"length", "all"}),
            wins=bool(chosen & {"wins", "all"}),
            top=top if chosen & {"top", "all"} else None,
        )
        if chosen
        else None
    )
    fmt = "json" if as_json else fmt
    if fmt == "json":
        print_json(comparison_json(comparison, breakdowns))
    elif fmt == "rich":
        for item in render_rich(comparison, breakdowns):
            if isinstance(item, Note):
                style = "yellow" if item.warning else "dim"
                out.print(item.text, style=style, highlight=False, markup=False, soft_wrap=True)
            else:
                out.print(item)
    else:
        sys.stdout.write(render(comparison, breakdowns, fmt))
        for warning in comparison.warnings:  # text output may go to a file: say it here too
            if warning.kind == "forced":
                err.print(
                    Text.assemble(("warning:", "yellow"), f" {plain(warning.text)}"), soft_wrap=True
                )


@app.command()
@reports_user_errors
def report(
    runs: RunsArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file (default: report.html in the run folder)."),
    ] = None,
    baseline: BaselineOpt = None,
    metric: CompareMetricOpt = None,
    resamples: ResamplesOpt = DEFAULT_RESAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    test: TestOpt = "bs",
    force: ForceOpt = False,
    rank: RankOpt = None,
    autorank_metrics: AutorankMetricsOpt = None,
    by_group: ByGroupOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    cache_path: CacheOpt = None,
) -> None:
    """Write one self-contained HTML report (works offline) and print its path."""
    from evalkit import api

    options = _options(baseline, metric, resamples, seed, test, force, results_dir, cache_path)
    options = _with_ranking(options, rank, autorank_metrics, by_group)
    path = api.build_report(*(runs or ["latest"]), output=output, options=options)
    out.print(str(path), highlight=False, markup=False, soft_wrap=True)


def _options(
    baseline: str | None,
    metrics: list[str] | None,
    resamples: int,
    seed: int,
    test: SignificanceTest,
    force: bool,
    results_dir: Path,
    cache_path: Path | None,
) -> CompareOptions:
    """The comparison settings `compare` and `report` share, the cache file defaulted."""
    return CompareOptions(
        baseline, metrics, resamples, seed, test, force, results_dir,
        cache_path or default_cache_path(),
    )  # fmt: skip


def _with_ranking(
    options: CompareOptions, rank: bool | None, autorank_metrics: str | None, by_group: str | None
) -> CompareOptions:
    """The ranking settings `compare` and `report` share: `--autorank-metrics` read as a
    comma-separated list (blank names dropped)."""
    names = [n.strip() for n in (autorank_metrics or "").split(",") if n.strip()]
    return replace(options, rank=rank, autorank_metrics=names or None, by_group=by_group)
