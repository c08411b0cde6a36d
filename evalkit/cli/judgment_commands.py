"""`evalkit judgments export|import`: human judgments in and out of the store as JSONL,
and the field's published human scores in (WMT's MQM TSV and human-evaluation JSONL,
mt-metrics-eval's score files; see docs/formats.md)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from evalkit.atomic import write_text
from evalkit.cli.common import (
    JsonOpt,
    ResultsOpt,
    app,
    err,
    out,
    print_json,
    reports_user_errors,
)
from evalkit.errors import UserInputError
from evalkit.judgments import jsonl
from evalkit.judgments.join import NOT_A_SYSTEM
from evalkit.judgments.model import PROTOCOLS
from evalkit.judgments.transfer import ImportSummary, import_file, stored_judgments
from evalkit.record import DEFAULT_RESULTS_DIR

judgments_app = typer.Typer(
    help="Human judgments in and out: JSONL export and import; WMT's MQM TSV, WMT's "
    "human-evaluation JSONL and mt-metrics-eval's LP.NAME.seg.score import.",
    no_args_is_help=True,
)
app.add_typer(judgments_app, name="judgments")

#: unmatched judgments printed one by one before the rest are only counted
SHOWN_UNMATCHED = 20


@judgments_app.command("export")
@reports_user_errors
def export(
    run_ref: Annotated[
        str | None,
        typer.Argument(
            metavar="[RUN]", help="Run id, unique prefix, path or 'latest' (default: every run)."
        ),
    ] = None,
    annotator: Annotated[
        str | None, typer.Option("--annotator", help="Only this annotator's judgments.")
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", help=f"Only this protocol's: {', '.join(PROTOCOLS)}."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="JSONL file to write (default: stdout)."),
    ] = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
) -> None:
    """Write stored judgments as JSONL, one per line, each with the format `version`."""
    if protocol is not None and protocol not in PROTOCOLS:
        raise UserInputError(f"no protocol {protocol!r} (protocols: {', '.join(PROTOCOLS)})")
    judgments = stored_judgments(results_dir, run_ref, annotator, protocol)
    text = jsonl.dumps(judgments)
    if output is None:
        sys.stdout.write(text)
        return
    write_text(output, text)
    err.print(f"wrote {_judgments(len(judgments))} to {output}", highlight=False, markup=False)


@judgments_app.command("import")
@reports_user_errors
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="evalkit's JSONL, WMT's MQM TSV (.tsv, or its header), WMT's human-evaluation "
            "JSONL (rows with `scores`) or mt-metrics-eval's LP.NAME.seg.score.",
        ),
    ],
    run_ref: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="The run the judgments are of: required for the published formats; for "
            "evalkit's JSONL, attach every judgment to this run instead of the one it names.",
        ),
    ] = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Store judgments from a file: all of them, or none when a line is wrong. Published
    scores join the run's rows (an MQM TSV's by document and source text, WMT JSONL's and
    mt-metrics-eval's by document and position); those that join nothing are listed and
    not stored."""
    summary = import_file(path, results_dir, run_ref)
    if as_json:
        print_json(summary.as_json())
        return
    _print_summary(summary)


def _print_summary(summary: ImportSummary) -> None:
    runs = sorted({judgment.run_id for judgment in summary.stored})
    where = f" for run {', '.join(runs)}" if runs else ""
    read = f" ({summary.rows} rows" if summary.rows is not None else ""
    if read and summary.neutral:
        read += f", {summary.neutral} Neutral left out"
    read += ")" if read else ""
    unmatched = f"; {len(summary.unmatched)} matched nothing" if summary.rows is not None else ""
    out.print(
        f"stored {_judgments(len(summary.stored))}{where} from {summary.path}{read}{unmatched}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    missing_systems = Counter(u.system for u in summary.unmatched if u.reason == NOT_A_SYSTEM)
    for system, count in sorted(missing_systems.items()):
        out.print(
            f"  system {system!r} is not in the run: {_judgments(count)} left out",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    others = [u for u in summary.unmatched if u.reason != NOT_A_SYSTEM]
    for u in others[:SHOWN_UNMATCHED]:
        out.print(
            f"  line {u.lines[0]}: {u.system} · {u.doc} segment {u.doc_id} · {u.rater}: {u.reason}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if len(others) > SHOWN_UNMATCHED:
        out.print(
            f"  … and {len(others) - SHOWN_UNMATCHED} more (--json lists them all)",
            highlight=False,
            markup=False,
        )


def _judgments(count: int) -> str:
    return f"{count} judgment" if count == 1 else f"{count} judgments"
