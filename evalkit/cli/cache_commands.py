"""`evalkit cache info` and `evalkit cache clear`: the stores of the cache file."""

from __future__ import annotations

from typing import Annotated

import typer

from evalkit.cache import STORES, TranslationCache, default_cache_path
from evalkit.cli.common import CacheOpt, JsonOpt, app, out, print_json, reports_user_errors
from evalkit.errors import UserInputError
from evalkit.report.tables import cache_table
from evalkit.serialize import cache_json

cache_app = typer.Typer(help="Inspect or clear the translation cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
@reports_user_errors
def cache_info(cache_path: CacheOpt = None, as_json: JsonOpt = False) -> None:
    """Where the cache is, and per store (translations, statistics, embeddings) how many
    entries it holds, their size and how often lookups found what they asked for."""
    with TranslationCache(cache_path or default_cache_path()) as cache:
        info = cache.info()
        stores = cache.stores()
    if as_json:
        print_json(cache_json(info, stores))
        return
    out.print(
        f"{info.path} ({info.size_bytes / 1e6:.1f} MB on disk); translations from "
        f"{info.engines} engine configurations",
        highlight=False,
        markup=False,
    )
    out.print(cache_table(stores))


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
