"""`evalkit cache info`, `cache clear` and `cache prune`: the stores of the cache file, and
the one-time model artefacts beside it. The work is evalkit/cache.py and
evalkit/housekeeping (what prune removes, and why)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.cache import TranslationCache, default_cache_path
from evalkit.cache.file import STORES
from evalkit.cli.common import CacheOpt, JsonOpt, app, err, out, print_json, reports_user_errors
from evalkit.cli.housekeeping_views import artefacts_table, prune_table
from evalkit.errors import UserInputError
from evalkit.housekeeping.artefacts import (
    Artefact,
    remove_artefacts,
    scan_artefacts,
    user_cache_dir,
)
from evalkit.housekeeping.cache_prune import (
    CachePrunePlan,
    apply_cache_prune,
    plan_cache_prune,
)
from evalkit.housekeeping.payloads import artefact_json, cache_prune_json
from evalkit.housekeeping.units import format_size, parse_age, parse_size
from evalkit.json_output import cache_json
from evalkit.record import DEFAULT_RESULTS_DIR, RunRecord, scan_runs
from evalkit.report.tables import cache_table

cache_app = typer.Typer(
    help="Inspect, prune or clear the translation cache and the model artefacts.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")

ResultsDirsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--results-dir",
        envvar="EVALKIT_RESULTS",
        help="Where runs are stored: their systems and rows say what is in use (repeatable: "
        "every results folder that shares this cache; default: results).",
    ),
]


@cache_app.command("info")
@reports_user_errors
def cache_info(
    cache_path: CacheOpt = None, results_dirs: ResultsDirsOpt = None, as_json: JsonOpt = False
) -> None:
    """Where the cache is, and per store (translations, statistics, embeddings) how many
    entries it holds, their size and how often lookups found what they asked for; then the
    model artefacts under the user cache folder, with the systems of stored runs using each."""
    with TranslationCache(cache_path or default_cache_path()) as cache:
        info = cache.info()
        stores = cache.stores()
    artefacts = scan_artefacts(_records(results_dirs or [DEFAULT_RESULTS_DIR]))
    if as_json:
        print_json({**cache_json(info, stores), "artefacts": [artefact_json(a) for a in artefacts]})
        return
    out.print(
        f"{info.path} ({info.size_bytes / 1e6:.1f} MB on disk); translations from "
        f"{info.engines} engine configurations",
        highlight=False,
        markup=False,
    )
    out.print(cache_table(stores))
    _print_artefacts(artefacts, set())


@cache_app.command("clear")
@reports_user_errors
def cache_clear(
    cache_path: CacheOpt = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="Only this engine fingerprint hash's translations."),
    ] = None,
    store: Annotated[
        list[str] | None,
        typer.Option(
            "--store",
            help=f"Clear only this store: {', '.join(STORES)} (repeatable; default: all).",
        ),
    ] = None,
) -> None:
    """Delete cached work: every store, or some (translations of one engine configuration
    with --engine)."""
    chosen = list(store or (["translations"] if engine else list(STORES)))
    unknown = [name for name in chosen if name not in STORES]
    if unknown:
        raise UserInputError(f"no store {unknown[0]!r} (stores: {', '.join(STORES)})")
    with TranslationCache(cache_path or default_cache_path()) as cache:
        removed = cache.clear(engine, chosen)
    out.print(f"removed {removed} entries from {', '.join(chosen)}", highlight=False)


@cache_app.command("prune")
@reports_user_errors
def cache_prune(
    cache_path: CacheOpt = None,
    results_dirs: ResultsDirsOpt = None,
    unused: Annotated[
        bool,
        typer.Option(
            "--unused/--no-unused",
            help="Remove translations and statistics no stored run needs (embeddings cannot "
            "be traced to runs: --max-size only).",
        ),
    ] = True,
    max_size: Annotated[
        str | None,
        typer.Option(
            "--max-size",
            metavar="SIZE",
            help="Then remove the least recently used entries until the entries fit: 500M, 2G.",
        ),
    ] = None,
    keep_recent: Annotated[
        str,
        typer.Option(
            "--keep-recent",
            metavar="AGE",
            help="Never remove what was used this recently (a run in progress uses it): "
            "36h, 1d, 2w.",
        ),
    ] = "24h",
    artefacts: Annotated[
        bool,
        typer.Option(
            "--artefacts",
            help="Also remove model artefacts that come back without loss: GGUF files whose "
            "packages are installed, float32 weights no stored run loads, checkpoints and "
            "conversions no stored run uses.",
        ),
    ] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Then shrink the file (rewrites it: runs writing meanwhile wait for it).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove cache entries no stored run needs and, with --max-size, the least recently
    used beyond a size; leftovers of interrupted or older model preparation always, model
    artefacts with --artefacts. Nothing used within --keep-recent."""
    keep_recent_s = parse_age(keep_recent)
    limit = parse_size(max_size) if max_size is not None else None
    folders = results_dirs or [DEFAULT_RESULTS_DIR]
    with TranslationCache(cache_path or default_cache_path()) as cache:
        plan = plan_cache_prune(cache, folders if unused else None, keep_recent_s, limit)
        found = scan_artefacts(_records(folders), keep_recent_s=keep_recent_s)
        chosen = [a for a in found if a.prunable and (artefacts or a.leftover)]
        removed = artefacts_removed = None
        if not dry_run:
            removed = apply_cache_prune(cache, plan)
            artefacts_removed = remove_artefacts(chosen)
            if vacuum:
                cache.vacuum()
    if as_json:
        print_json(cache_prune_json(plan, found, removed, artefacts_removed))
        return
    _print_plan(plan, keep_recent_s, removed)
    _print_artefacts(found, {a.path for a in chosen})
    verb = "would remove" if dry_run else "removed"
    count, size = artefacts_removed or (len(chosen), sum(a.size_bytes for a in chosen))
    out.print(f"{verb} {count} artefacts and leftovers ({format_size(size)})", highlight=False)


def _records(results_dirs: list[Path]) -> list[RunRecord]:
    """The readable runs of the folders (none for a folder that does not exist)."""
    return [record for folder in results_dirs for record in scan_runs(folder)[0]]


def _print_plan(
    plan: CachePrunePlan, keep_recent_s: float, removed: tuple[int, int] | None
) -> None:
    users = ", ".join(str(p) for p in plan.results_dirs) or "none (--no-unused)"
    out.print(
        f"{plan.path}: {plan.runs} stored run{'' if plan.runs == 1 else 's'} in {users}; "
        "entries used in the last "
        f"{keep_recent_s / 3600:g} h are kept",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    out.print(prune_table(plan))
    for problem in plan.problems:
        err.print(f"warning: {problem}", highlight=False, markup=False, soft_wrap=True)
    if removed is None:
        line = f"would remove {plan.removed} entries ({format_size(plan.removed_bytes)})"
    else:
        line = f"removed {removed[0]} entries ({format_size(removed[1])})"
    then = "would then hold" if removed is None else "now hold about"
    line += f"; the stores {then} {format_size(plan.size_after)}"
    if plan.over_limit:
        line += " (over --max-size: the rest was used too recently)"
    out.print(line, highlight=False, markup=False)


def _print_artefacts(found: list[Artefact], marked: set[Path]) -> None:
    root = user_cache_dir()
    if not found:
        out.print(f"no model artefacts under {root}", highlight=False, markup=False)
        return
    total = format_size(sum(a.size_bytes for a in found))
    out.print(f"model artefacts under {root} ({total}):", highlight=False, markup=False)
    out.print(artefacts_table(found, root, marked))
