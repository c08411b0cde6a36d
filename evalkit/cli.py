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
from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics, metric_names
from evalkit.report.tables import (
    by_document,
    footer_lines,
    leaderboard,
    run_summary,
    runs_table,
)
from evalkit.results import DEFAULT_RESULTS_DIR, find_run, list_runs, read_record, write_run
from evalkit.runner import evaluate
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


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
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
    as_json: JsonOpt = False,
) -> None:
    """Translate a test set with each system, score every output, store the run."""
    test_set = load_test_set(data, src, ref, src_lang, tgt_lang)
    systems = create_systems(system or ["copy"])
    metrics = create_metrics(metric)
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done, total=total)

        evaluation = evaluate(
            test_set,
            systems,
            metrics,
            unit=unit,
            name=name,
            command=sys.argv,
            on_progress=on_progress,
        )
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
    metrics = create_metrics(metric)
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
        out.print(line, style="dim", highlight=False)


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


def _print_record(record: Any, by: str) -> None:
    out.print(by_document(record) if by == "doc" else leaderboard(record))
    for line in footer_lines(record):
        out.print(line, style="dim", highlight=False, soft_wrap=True)


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
