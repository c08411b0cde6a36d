"""The command line. It parses options, calls the stages and prints; it holds no logic."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from evalkit import __version__
from evalkit.cache import TranslationCache, default_cache_path
from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics, metric_context, metric_names
from evalkit.report.tables import (
    by_document,
    footer_lines,
    leaderboard,
    run_summary,
    runs_table,
)
from evalkit.results import DEFAULT_RESULTS_DIR, find_run, list_runs, read_record, write_run
from evalkit.runner import evaluate
from evalkit.translate import Progress as TranslationProgress
from evalkit.translate import Unit

app = typer.Typer(
    help="Translate test sets with several systems, score them, store and compare runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def reports_user_errors(command: F) -> F:
    """Bad input ends the command with one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserInputError as error:
            err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper  # type: ignore[return-value]


# Options shared by several commands, declared once.
DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        help="Built-in test set name, a folder with manifest.json, or a .jsonl/.tsv file "
        "(default: seeds).",
    ),
]
SrcOpt = Annotated[
    Path | None, typer.Option("--src", help="Plain source file, one segment per line.")
]
RefOpt = Annotated[
    Path | None, typer.Option("--ref", help="Plain reference file, line-aligned with --src.")
]
SrcLangOpt = Annotated[
    str, typer.Option("--src-lang", help="Source language of plain and table inputs.")
]
TgtLangOpt = Annotated[
    str, typer.Option("--tgt-lang", help="Target language of plain and table inputs.")
]
MetricOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", "-m", help=f"Metric to compute (repeatable; default: all of {metric_names()})."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ResultsOpt = Annotated[
    Path,
    typer.Option("--results-dir", envvar="EVALKIT_RESULTS", help="Where runs are stored."),
]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", envvar="EVALKIT_CACHE", help="Translation cache file (SQLite)."),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


@app.command()
@reports_user_errors
def run(
    system: Annotated[
        list[str] | None,
        typer.Option(
            "--system",
            "-s",
            help="System spec [LABEL=]KIND[:ARG], e.g. copy or mt=files:out/ (repeatable; "
            "default: copy).",
        ),
    ] = None,
    data: DataOpt = None,
    src: SrcOpt = None,
    ref: RefOpt = None,
    src_lang: SrcLangOpt = "ar",
    tgt_lang: TgtLangOpt = "en",
    metric: MetricOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="A name for this run.")] = None,
    unit: Annotated[
        Unit, typer.Option("--unit", help="What engines translate at a time.")
    ] = "sentence",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    cache_path: CacheOpt = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Translate everything again; store nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Translate a test set with each system, score every output, store the run."""
    test_set = load_test_set(data, src, ref, src_lang, tgt_lang)
    systems = create_systems(system or ["copy"])
    metrics = create_metrics(metric, metric_context(test_set))
    cache = None if no_cache else TranslationCache(cache_path)
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def on_progress(label: str, state: TranslationProgress) -> None:
            rate = (
                f"{state.generated_tokens / state.seconds:.1f} tok/s"
                if state.generated_tokens and state.seconds
                else ""
            )
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=state.total, rate=rate)
            progress.update(tasks[label], completed=state.done, total=state.total, rate=rate)

        try:
            evaluation = evaluate(
                test_set,
                systems,
                metrics,
                unit=unit,
                name=name,
                command=sys.argv,
                cache=cache,
                on_progress=on_progress,
            )
        finally:
            if cache:
                cache.close()
    folder = write_run(results_dir, evaluation.record, evaluation.rows)
    if as_json:
        _print_json(run_summary(evaluation.record, str(folder)))
        return
    _print_record(evaluation.record, by="system")
    out.print(f"run stored in [bold]{folder}[/bold]", highlight=False)


@app.command()
@reports_user_errors
def score(
    ref: Annotated[Path, typer.Option("--ref", "-r", help="Reference file, one segment per line.")],
    hyp: Annotated[
        list[str],
        typer.Option("--hyp", "-i", help="System output file, line-aligned (repeatable)."),
    ],
    src: SrcOpt = None,
    src_lang: SrcLangOpt = "ar",
    tgt_lang: TgtLangOpt = "en",
    metric: MetricOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score existing outputs against a reference, like sacrebleu, all metrics in one table.

    Nothing is stored."""
    test_set = load_test_set(None, src, ref, src_lang, tgt_lang)
    systems = create_systems([f"{Path(h).name}=files:{h}" for h in hyp])
    metrics = create_metrics(metric, metric_context(test_set))
    record = evaluate(test_set, systems, metrics, unit="paragraph", command=sys.argv).record
    if as_json:
        _print_json(
            {
                "schema_version": 1,
                "systems": {
                    s.label: {
                        m.name: {
                            "score": record.scores[s.label].corpus[m.name],
                            "signature": m.signature,
                        }
                        for m in record.metrics
                    }
                    for s in record.systems
                },
            }
        )
        return
    out.print(leaderboard(record))
    for line in footer_lines(record):
        out.print(line, style="dim", highlight=False, markup=False, soft_wrap=True)


@app.command()
@reports_user_errors
def runs(results_dir: ResultsOpt = DEFAULT_RESULTS_DIR, as_json: JsonOpt = False) -> None:
    """List stored runs, oldest first."""
    records = list_runs(results_dir)
    if as_json:
        _print_json([run_summary(r, str(results_dir / r.run_id)) for r in records])
        return
    if not records:
        out.print(f"no runs in {results_dir}")
        return
    out.print(runs_table(records))


@app.command()
@reports_user_errors
def show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, unique prefix, path, or 'latest'.")
    ] = "latest",
    by: Annotated[
        str, typer.Option("--by", help="'system' (leaderboard) or 'doc' (per document).")
    ] = "system",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored run's table again."""
    if by not in ("system", "doc"):
        raise UserInputError(f"--by must be 'system' or 'doc', not {by!r}")
    folder = find_run(results_dir, run_ref)
    record = read_record(folder)
    if as_json:
        _print_json(run_summary(record, str(folder)))
        return
    _print_record(record, by=by)


@app.command()
@reports_user_errors
def models(as_json: JsonOpt = False) -> None:
    """List engine kinds and packaged models: installed or not, converted (cached) or not."""
    from evalkit.report.models_table import models_listing, models_tables

    listing = models_listing()
    if as_json:
        _print_json(listing)
        return
    for table in models_tables(listing):
        out.print(table)


cache_app = typer.Typer(help="Inspect or clear the translation cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
@reports_user_errors
def cache_info(cache_path: CacheOpt = None, as_json: JsonOpt = False) -> None:
    """Where the cache is, how many translations it holds, and its size."""
    with TranslationCache(cache_path or default_cache_path()) as cache:
        info = cache.info()
    if as_json:
        _print_json(
            {
                "path": str(info.path),
                "entries": info.entries,
                "engines": info.engines,
                "size_bytes": info.size_bytes,
            }
        )
        return
    out.print(
        f"{info.path}\n{info.entries} translations from {info.engines} engine configurations, "
        f"{info.size_bytes / 1e6:.1f} MB",
        highlight=False,
    )


@cache_app.command("clear")
@reports_user_errors
def cache_clear(
    cache_path: CacheOpt = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Only this engine fingerprint hash.")
    ] = None,
) -> None:
    """Delete cached translations (all, or one engine configuration's)."""
    with TranslationCache(cache_path or default_cache_path()) as cache:
        removed = cache.clear(engine)
    out.print(f"removed {removed} cached translations", highlight=False)


def _print_record(record: Any, by: str) -> None:
    out.print(by_document(record) if by == "doc" else leaderboard(record))
    for line in footer_lines(record):
        out.print(line, style="dim", highlight=False, markup=False, soft_wrap=True)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """evalkit: translation-quality evaluation harness."""
