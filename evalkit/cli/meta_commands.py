"""`evalkit meta`: how well each stored metric agrees with the human judgments of a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from evalkit.cli.common import JsonOpt, ResultsOpt, app, out, print_json, reports_user_errors
from evalkit.errors import UserInputError
from evalkit.meta.stats import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES, DEFAULT_SEED
from evalkit.record import DEFAULT_RESULTS_DIR
from evalkit.report.formats import Format


@app.command()
@reports_user_errors
def meta(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, unique prefix, path, or 'latest'.")
    ] = "latest",
    human: Annotated[
        Path | None,
        typer.Option(
            "--human",
            help="Judgments to compare with: a JSONL file (`evalkit judgments export`) or a "
            "judgments.sqlite (default: the store in the results folder).",
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol", help="esa, mqm or da (default: the protocol with most judgments)."
        ),
    ] = None,
    scale: Annotated[
        Literal["raw", "z"],
        typer.Option(
            "--scale",
            help="raw: the protocol's scores; z: each annotator's scores as z-scores "
            "(WMT's practice for DA: a harsh and a lenient annotator count alike).",
        ),
    ] = "raw",
    resamples: Annotated[
        int, typer.Option("--resamples", min=0, help="Bootstrap resamples for the 95% CIs.")
    ] = DEFAULT_RESAMPLES,
    permutations: Annotated[
        int, typer.Option("--permutations", min=1, help="Permutations of SPA's tests.")
    ] = DEFAULT_PERMUTATIONS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of resampling and permutations.")] = (
        DEFAULT_SEED
    ),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = "rich",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
) -> None:
    """How well each metric of a run agrees with human judgments (WMT's statistics)."""
    from evalkit import table_text
    from evalkit.meta.agreement import evaluate_run
    from evalkit.meta.tables import meta_json, render_text, tables
    from evalkit.record import find_run
    from evalkit.safe_text import plain

    folder = find_run(results_dir, run_ref)
    evaluation = evaluate_run(
        folder, results_dir, human, protocol, resamples, permutations, seed, scale
    )
    if not evaluation.human.judgments:
        left_out = ", ".join(f"{why} {n}" for why, n in evaluation.human.excluded.items())
        raise UserInputError(
            f"no usable human judgment of run {evaluation.run_id} in {evaluation.human.source}"
            + (f" (left out: {left_out})" if left_out else "")
            + "; judge it with `evalkit judge` or pass --human FILE"
        )
    fmt = "json" if as_json else fmt
    if fmt == "json":
        print_json(meta_json(evaluation))
    elif fmt == "rich":
        for table in tables(evaluation):
            out.print(table_text.to_rich(table))
            for note in table.note_lines():
                out.print(plain(note), style="dim", highlight=False, markup=False, soft_wrap=True)
    else:
        sys.stdout.write(render_text(evaluation, fmt))
