"""`evalkit runs` (list), `runs rm` and `runs prune`: the stored runs, and deleting some.

The commands parse, print and ask; choosing runs and deleting them safely is
evalkit/housekeeping/runs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from evalkit.cli.common import (
    JsonOpt,
    ResultsOpt,
    app,
    err,
    out,
    print_json,
    reports_user_errors,
)
from evalkit.cli.housekeeping_views import deletion_table, runs_table
from evalkit.errors import UserInputError
from evalkit.housekeeping.payloads import deleted_runs_json
from evalkit.housekeeping.runs import (
    Deletion,
    StoredRun,
    delete_runs,
    judged,
    list_stored_runs,
    measured,
    refuse_judged,
    resolve_runs,
    select_for_pruning,
)
from evalkit.housekeeping.units import format_size, parse_age
from evalkit.json_output import run_summary
from evalkit.record import DEFAULT_RESULTS_DIR


class _PlainGroup(TyperGroup):
    """The group's own options (`evalkit runs --json`) shown as every command shows its
    own (evalkit/cli/strict_options.py): no placeholder for a flag, PATH for a path."""

    def get_params(self, ctx: typer.Context) -> list:
        params = super().get_params(ctx)
        for param in params:
            if param.param_type_name != "option" or param.metavar is not None:
                continue
            if param.is_flag:
                param.metavar = ""
            elif getattr(param.type_descriptor.annotation, "__name__", "") == "Path":
                param.metavar = "PATH"
        return params


runs_app = typer.Typer(
    cls=_PlainGroup,
    help="List stored runs, oldest first, with the judgments that reference each; delete "
    "some (rm) or the old ones (prune).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(runs_app, name="runs")

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking first.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="List what would be deleted and the space it frees.")
]
WithJudgmentsOpt = Annotated[
    bool,
    typer.Option(
        "--with-judgments",
        help="Delete judged runs too, with their judgments (a copy of them is kept in "
        "deleted-judgments/ of the results folder).",
    ),
]


@runs_app.callback()
@reports_user_errors
def runs(
    ctx: typer.Context, results_dir: ResultsOpt = DEFAULT_RESULTS_DIR, as_json: JsonOpt = False
) -> None:
    """List stored runs, oldest first, with the judgments that reference each."""
    if ctx.invoked_subcommand is not None:
        given = [
            name
            for name in ("results_dir", "as_json")
            if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"
        ]
        if given:  # each subcommand takes its own; these would be silently ignored
            raise UserInputError(
                f"--results-dir and --json go after the subcommand: evalkit runs "
                f"{ctx.invoked_subcommand} ... --results-dir DIR"
            )
        return
    stored = _stored_runs(results_dir)
    if as_json:
        print_json(
            [
                {**run_summary(r.record, str(results_dir / r.run_id)), "judgments": r.judgments}
                for r in stored
            ]
        )
        return
    if not stored:
        out.print(f"no runs in {results_dir}", highlight=False, markup=False)
        return
    out.print(runs_table(stored))


def _stored_runs(results_dir: Path) -> list[StoredRun]:
    """The stored runs, with a warning line for each folder that is not a readable run."""
    stored, problems = list_stored_runs(results_dir)
    for problem in problems:
        err.print(f"warning: skipped {problem}", highlight=False, markup=False, soft_wrap=True)
    return stored


@runs_app.command("rm")
@reports_user_errors
def rm(
    run_refs: Annotated[
        list[str],
        typer.Argument(metavar="RUN...", help="Run ids, unique prefixes, paths, or 'latest'."),
    ],
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    with_judgments: WithJudgmentsOpt = False,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Delete stored runs (asks first). A run judgments reference is kept unless
    --with-judgments."""
    chosen = resolve_runs(results_dir, run_refs)
    if not with_judgments:
        refuse_judged(chosen)
    _delete(chosen, with_judgments, yes, dry_run, as_json)


@runs_app.command("prune")
@reports_user_errors
def prune(
    keep: Annotated[
        int | None, typer.Option("--keep", min=0, help="Keep this many newest runs.")
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Delete runs finished longer ago than this: 36h, 30d, 2w (with --keep: "
            "runs both old and not among the newest).",
        ),
    ] = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    with_judgments: WithJudgmentsOpt = False,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Delete old runs (asks first). Runs judgments reference are kept unless
    --with-judgments."""
    age = parse_age(older_than) if older_than is not None else None
    chosen = select_for_pruning(_stored_runs(results_dir), keep, age)
    kept = [] if with_judgments else judged(chosen)
    if kept:
        err.print(
            f"keeping {len(kept)} judged run{'s' if len(kept) > 1 else ''} "
            f"({', '.join(r.run_id for r in kept)}): --with-judgments deletes them too",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        chosen = [run for run in chosen if not run.judgments]
    _delete(measured(chosen), with_judgments, yes, dry_run, as_json)


def _delete(
    chosen: list[StoredRun], with_judgments: bool, yes: bool, dry_run: bool, as_json: bool
) -> None:
    """List, ask (unless --yes or --dry-run), delete, say what was freed."""
    size = format_size(sum(run.size_bytes for run in chosen))
    judgments = sum(run.judgments for run in chosen)
    what = f"{len(chosen)} run{'s' if len(chosen) != 1 else ''} ({size})"
    if with_judgments and judgments:
        what += f" and {judgments} judgment{'s' if judgments != 1 else ''}"
    if not chosen:
        if as_json:
            print_json(deleted_runs_json([], None if dry_run else Deletion()))
        else:
            out.print("no runs to delete", highlight=False)
        return
    if dry_run:
        if as_json:
            print_json(deleted_runs_json(chosen, None))
            return
        out.print(deletion_table(chosen))
        out.print(f"would delete {what}", highlight=False, markup=False)
        return
    if not as_json:
        out.print(deletion_table(chosen))
    if not yes and not _confirmed(f"delete {what}?"):
        raise UserInputError("not confirmed: nothing deleted (--yes deletes without asking)")
    done = delete_runs(chosen, with_judgments)
    if as_json:
        print_json(deleted_runs_json(chosen, done))
        return
    out.print(f"deleted {what}", highlight=False, markup=False)
    for copy in done.judgment_copies:
        out.print(
            f"a copy of the deleted judgments is in {copy}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _confirmed(question: str) -> bool:
    """typer.confirm on stderr (stdout may be JSON); no answer (end of input) is no."""
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        err.print()
        return False
