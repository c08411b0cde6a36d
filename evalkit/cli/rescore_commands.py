"""`evalkit rescore`: score a stored run again with more metrics, without translating again."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.text import Text

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
from evalkit.json_output import run_summary
from evalkit.metrics import metric_names
from evalkit.record import DEFAULT_RESULTS_DIR
from evalkit.run_api import rescore


@app.command(name="rescore")
@reports_user_errors
def rescore_command(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, unique prefix, path, or 'latest'.")
    ],
    metric: Annotated[
        list[str],
        typer.Option(
            "--metric",
            "-m",
            help=f"Metric to add (repeatable; any of {metric_names()}, with its options).",
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="A name for the new run (default: the old one's).")
    ] = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    cache_path: CacheOpt = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Compute every statistic and judge reply again.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score a stored run again with more metrics (no translation); store it as a new run.

    Metrics the run has with the same signature are kept, not recomputed; one with another
    signature is computed and replaces the old numbers. The old run is left as it is; the
    new one records `rescored_from`."""
    done = rescore(
        run_ref,
        metric,
        name=name,
        cache=False if no_cache else cache_path or True,
        results_dir=results_dir,
        command=sys.argv,
    )
    result = done.result
    if done.run is None or result.record is None:
        folder = done.source
        message = (
            f"nothing to compute: {', '.join(result.kept) or 'no metric'} already in run "
            f"{folder.name} with the same signature; no new run written"
        )
        if as_json:
            print_json({"run_id": None, "rescored_from": folder.name, "kept": result.kept,
                        "skipped": result.skipped, "note": message})  # fmt: skip
        else:
            for reason in result.skipped:
                err.print(f"warning: {reason}", highlight=False, markup=False, soft_wrap=True)
            out.print(message, highlight=False, markup=False, soft_wrap=True)
        return
    stored = done.run.folder
    if as_json:
        summary = run_summary(result.record, str(stored))
        summary.update(
            rescored_from=result.record.rescored_from,
            added=result.added,
            replaced=result.replaced,
            kept=result.kept,
        )
        print_json(summary)
        return
    print_record(result.record, by="system")
    out.print(Text.assemble("run stored in ", (str(stored), "bold")), soft_wrap=True)
