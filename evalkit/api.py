"""The Python API, mirroring the command line, for notebooks and scripts.

    from evalkit import api
    run = api.evaluate("seeds", ["copy"], ["bleu"])   # evalkit run (stored in results/)
    scored = api.score(["ref.en"], ["hyp.en"])        # evalkit score (nothing stored)
    api.rescore(run.folder, ["chrf"])                 # evalkit rescore RUN --metric chrf
    run = api.load_run("latest")                      # evalkit show latest
    comparison = api.compare_runs("latest", "20261123-1")   # evalkit compare RUN RUN
    print(api.format_comparison(comparison, "markdown"))
    api.build_report("latest", output="report.html")  # evalkit report latest -o report.html
    meta = api.meta_evaluation("latest")              # evalkit meta latest
    print(api.format_meta(meta, "markdown"))

Runs can be given as ids, unique id prefixes, `latest`, folders, or `Run` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evalkit.cache import TranslationCache
from evalkit.compare.breakdowns import by_document, by_length, top_differences, win_tie_loss
from evalkit.compare.load import Pool, Run, comparability_problems, pool_runs
from evalkit.compare.load import load_run as _load_run
from evalkit.compare.options import CompareOptions
from evalkit.compare.ranking import (
    document_groups,
    rank_by_group,
    rank_comparison,
    wants_ranking,
)
from evalkit.compare.significance import Comparison, compare
from evalkit.errors import UserInputError
from evalkit.record import DEFAULT_RESULTS_DIR
from evalkit.report.formats import Breakdowns, TextFormat, render
from evalkit.report.html import REPORT_FILE, render_report, write_report
from evalkit.run_api import RescoredRun, evaluate, rescore, score

if TYPE_CHECKING:
    from evalkit.meta.agreement import MetaEvaluation

__all__ = [
    "Breakdowns",
    "CompareOptions",
    "Comparison",
    "Pool",
    "RescoredRun",
    "Run",
    "build_report",
    "comparability_problems",
    "compare_runs",
    "compute_breakdowns",
    "evaluate",
    "format_comparison",
    "format_meta",
    "load_run",
    "meta_evaluation",
    "rescore",
    "score",
]

RunLike = Run | str | Path


def load_run(ref: RunLike = "latest", results_dir: Path | str = DEFAULT_RESULTS_DIR) -> Run:
    """A stored run (record and segment rows) by id, prefix, `latest` or path."""
    return ref if isinstance(ref, Run) else _load_run(ref, results_dir)


def _runs(refs: Sequence[RunLike], results_dir: Path | str) -> list[Run]:
    return [load_run(ref, results_dir) for ref in (refs or ["latest"])]


def compare_runs(
    *runs: RunLike, options: CompareOptions | None = None, **settings: Any
) -> Comparison:
    """Every system of the runs, each metric with a 95% CI and a paired test against the
    baseline (`evalkit compare`); from three systems on (or with `rank=True`) also every
    system's rank, significance cluster and AutoRank (`comparison.ranking`). Settings are
    `CompareOptions` fields, given as an object, as keywords, or both (keywords win).
    Raises UserInputError when the runs do not compare."""
    chosen = replace(options or CompareOptions(), **settings)
    pool = pool_runs(_runs(runs, chosen.results_dir), chosen.metrics, force=chosen.force)

    def run_comparison() -> Comparison:
        comparison = compare(
            pool, chosen.baseline, resamples=chosen.resamples, seed=chosen.seed, test=chosen.test
        )
        return add_ranking(comparison, chosen)

    if chosen.cache is None or not Path(chosen.cache).is_file():
        return run_comparison()
    with TranslationCache(Path(chosen.cache)) as opened:
        pool.statistics = opened.statistics
        try:
            return run_comparison()
        finally:
            pool.statistics = None


def add_ranking(comparison: Comparison, options: CompareOptions) -> Comparison:
    """The comparison with its systems ranked and clustered when the options ask for it
    (or by default, from three systems on), and per group with `options.by_group`."""
    if not wants_ranking(len(comparison.systems), options.rank, options.by_group):
        return comparison
    comparison.ranking = rank_comparison(comparison, options.autorank_metrics)
    if options.by_group:
        groups = document_groups(comparison.pool, options.by_group)
        comparison.group_rankings = rank_by_group(
            comparison, groups, options.by_group, options.autorank_metrics
        )
    return comparison


def compute_breakdowns(
    comparison: Comparison,
    document: bool = True,
    length: bool = True,
    wins: bool = True,
    top: int | None = 5,
    top_metric: str | None = None,
) -> Breakdowns:
    """Per document, per source-length bucket, win/tie/loss per pair of systems, and the
    `top` segments where the baseline and each other system differ most on `top_metric`
    (default: the first metric)."""
    pool = comparison.pool
    result = Breakdowns(
        document=by_document(pool) if document else None,
        length=by_length(pool) if length else None,
        win_tie_loss=win_tie_loss(pool) if wins else None,
    )
    if top and comparison.metrics:
        names = {m.name: m for m in comparison.metrics}
        if top_metric is not None and top_metric not in names:
            raise UserInputError(
                f"top_metric {top_metric!r} is not among the compared metrics ({', '.join(names)})"
            )
        metric = names[top_metric] if top_metric else comparison.metrics[0]
        result.top = [
            diff
            for other in comparison.systems
            if other != comparison.baseline
            for diff in top_differences(pool, comparison.baseline, other, metric, top)
        ]
    return result


def format_comparison(
    comparison: Comparison, fmt: TextFormat = "markdown", breakdowns: Breakdowns | None = None
) -> str:
    """markdown, csv or latex text (JSON: `json_output.comparison_json`; rich tables:
    `report.formats.render_rich`)."""
    return render(comparison, breakdowns, fmt)


def build_report(
    *runs: RunLike,
    output: Path | str | None = None,
    options: CompareOptions | None = None,
    **settings: Any,
) -> Path:
    """Write the self-contained HTML report (`evalkit report`) and return its path; by
    default `report.html` inside the (first) run's folder. Settings as for `compare_runs`."""
    comparison = compare_runs(*runs, options=options, **settings)
    breakdowns = compute_breakdowns(comparison, top=10)
    target = Path(output) if output else comparison.pool.runs[0].folder / REPORT_FILE
    return write_report(render_report(comparison, breakdowns), target)


def meta_evaluation(
    run: RunLike = "latest",
    human: Path | str | None = None,
    protocol: str | None = None,
    results_dir: Path | str = DEFAULT_RESULTS_DIR,
    **settings: Any,
) -> MetaEvaluation:
    """How well each stored metric of a run agrees with human judgments (`evalkit meta`):
    from the results folder's store, or `human` (a JSONL export or a judgments.sqlite).
    `settings`: `resamples`, `permutations`, `seed`, `scale` ("raw" or "z": z-scores per
    annotator). Returns a `MetaEvaluation`."""
    from evalkit.meta.agreement import evaluate_run

    folder = load_run(run, results_dir).folder
    return evaluate_run(
        folder, Path(results_dir), Path(human) if human else None, protocol, **settings
    )


def format_meta(
    evaluation: MetaEvaluation, fmt: Literal["markdown", "csv", "latex", "json"] = "markdown"
) -> str:
    """The agreement tables of `meta_evaluation` as markdown, csv, latex or json text."""
    import json

    from evalkit.meta.tables import meta_json, render_text

    if fmt == "json":
        return json.dumps(meta_json(evaluation), ensure_ascii=False, indent=2)
    return render_text(evaluation, fmt)
