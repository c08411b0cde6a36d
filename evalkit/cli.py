"""The command line. It parses options, calls the stages and prints; it holds no logic."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import click
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
from rich.text import Text

from evalkit import __version__
from evalkit.align import Aligner
from evalkit.align.pairing import (
    DEFAULT_THRESHOLD,
    pair_documents,
    proposed_manifest,
    read_folder,
    write_manifest,
)
from evalkit.cache import STORES, TranslationCache, default_cache_path
from evalkit.corpus.resolve import load_test_set
from evalkit.embeddings import DEFAULT_ENCODER, load_encoder
from evalkit.engines import create_systems
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics, metric_context, metric_names
from evalkit.report.alignment_table import alignment_json, alignment_table, skipped_lines
from evalkit.report.dry_run import dry_run_json, dry_run_table
from evalkit.report.tables import (
    by_document,
    cache_table,
    footer_lines,
    leaderboard,
    run_summary,
    runs_table,
)
from evalkit.results import (
    DEFAULT_RESULTS_DIR,
    find_run,
    read_record,
    scan_runs,
    write_run,
)
from evalkit.runner import evaluate
from evalkit.safe_text import plain
from evalkit.translate import Progress as TranslationProgress
from evalkit.translate import Unit, plan_translation

app = typer.Typer(
    help="Translate test sets with several systems, score them, store and compare runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
#: width when stdout is not a terminal (a pipe, a file, make's log) and COLUMNS is unset:
#: rich's 80 columns would clip the score tables, which are what such output is kept for
PIPED_WIDTH = 160
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH)
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


#: set by the global --debug option (or EVALKIT_DEBUG=1): internal errors show their traceback
_debug = bool(os.environ.get("EVALKIT_DEBUG"))

#: exit codes, documented in the README: a script can tell a bad input from a bug
EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 130


def reports_user_errors(command: F) -> F:
    """One line on stderr and a documented exit code for everything but success: 2 bad
    input, 3 a service failed after its retries, 130 interrupted, 1 an internal error (with
    the traceback under --debug)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserInputError as error:
            # the message quotes user input (paths, lines): printed as text, never as markup
            err.print(Text.assemble(("error:", "red"), f" {error}"), soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print(
                "interrupted: nothing partial was written; finished translations are cached",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except PermissionError as error:
            err.print(f"error: {error.filename}: permission denied", highlight=False, markup=False)
            raise typer.Exit(UserInputError.exit_code) from None
        except Exception as error:
            if _debug:
                raise
            err.print(
                f"internal error: {type(error).__name__}: {error} "
                "(run again with --debug for the traceback)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

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


AlignMethod = Literal["embedding", "length", "none"]
AlignOpt = Annotated[
    AlignMethod,
    typer.Option(
        "--align",
        help="How to pair the paragraphs of documents whose reference does not follow the "
        "source line by line: sentence embeddings plus lengths, lengths only "
        "(Gale–Church, no model), or none (score such documents whole).",
    ),
]
EncoderOpt = Annotated[
    str,
    typer.Option(
        "--encoder",
        help="Sentence encoder for embedding alignment: e5-small (built in) or "
        "st:MODEL (a sentence-transformers path or hub id, e.g. LaBSE).",
    ),
]


def _aligner(method: AlignMethod, encoder: str) -> Aligner | None:
    return None if method == "none" else Aligner(method, encoder)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", envvar="EVALKIT_CACHE", help="Translation cache file (SQLite)."),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
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
    align: AlignOpt = "embedding",
    align_unit: Annotated[
        Literal["paragraph", "sentence"],
        typer.Option(
            "--align-unit",
            help="Score aligned documents on paragraph links, or on sentence links "
            "(finer; needs --unit sentence and systems that translate).",
        ),
    ] = "paragraph",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Count what each system would translate (and, for served models, the "
            "requests and prompt tokens it would send); translate and store nothing.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Translate a test set with each system, score every output, store the run."""
    test_set = load_test_set(data, src, ref, src_lang, tgt_lang)
    systems = create_systems(system or ["copy"])
    if dry_run:
        with _translation_cache(no_cache, cache_path) as cache:
            plans = {n.label: plan_translation(n.system, test_set, unit, cache) for n in systems}
        if as_json:
            _print_json(dry_run_json(plans))
        else:
            out.print(dry_run_table(plans))
        return
    metrics = create_metrics(metric, metric_context(test_set))
    with _translation_cache(no_cache, cache_path) as cache, _progress() as progress:
        tasks: dict[str, Any] = {}

        def on_progress(label: str, state: TranslationProgress) -> None:
            rate = _rate(state)
            if label not in tasks:
                tasks[label] = progress.add_task(plain(label), total=state.total, rate=rate)
            progress.update(tasks[label], completed=state.done, total=state.total, rate=rate)

        evaluation = evaluate(
            test_set,
            systems,
            metrics,
            unit=unit,
            name=name,
            command=sys.argv,
            cache=cache,
            on_progress=on_progress,
            aligner=_aligner(align, encoder),
            align_unit=align_unit,
        )
    folder = write_run(results_dir, evaluation.record, evaluation.rows)
    if as_json:
        _print_json(run_summary(evaluation.record, str(folder)))
        return
    _print_record(evaluation.record, by="system")
    out.print(Text.assemble("run stored in ", (str(folder), "bold")), soft_wrap=True)


def _translation_cache(
    no_cache: bool, path: Path | None
) -> AbstractContextManager[TranslationCache | None]:
    """The cache to use, closed on the way out; none with --no-cache."""
    return nullcontext() if no_cache else TranslationCache(path)


def _rate(state: TranslationProgress) -> str:
    """Requests/s (served models) and tokens/s, for the progress bar."""
    if not state.seconds:
        return ""
    parts = []
    if state.requests:
        parts.append(f"{state.requests / state.seconds:.2f} req/s")
    if state.generated_tokens:
        parts.append(f"{state.generated_tokens / state.seconds:.1f} tok/s")
    return ", ".join(parts)


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


@app.command("align")
@reports_user_errors
def align_command(
    doc: Annotated[str, typer.Option("--doc", help="Document id (see the manifest).")],
    data: DataOpt = None,
    unit: Annotated[
        Literal["paragraph", "sentence"],
        typer.Option("--unit", help="Align paragraphs (non-empty lines) or sentences."),
    ] = "paragraph",
    method: Annotated[
        Literal["embedding", "length"],
        typer.Option("--method", help="Embeddings plus lengths, or lengths only."),
    ] = "embedding",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    width: Annotated[
        int, typer.Option("--width", help="Characters shown per text cell (0: all).")
    ] = 160,
    as_json: JsonOpt = False,
) -> None:
    """Align one document with its reference and show the links for checking by eye."""
    test_set = load_test_set(data, None, None, "ar", "en")
    try:
        document = test_set.document(doc)
    except KeyError:
        known = ", ".join(d.id for d in test_set.documents)
        raise UserInputError(f"no document {doc!r} in {test_set.name} (has: {known})") from None
    if document.reference is None:
        raise UserInputError(f"document {doc!r} has no reference to align with")
    alignment = Aligner(method, encoder).align(
        document.source.segments,
        document.reference.segments,
        unit,
        document.source.lang,
        document.reference.lang,
    )
    if as_json:
        _print_json(alignment_json(doc, alignment))
        return
    out.print(alignment_table(doc, alignment, width or None))
    for line in skipped_lines(alignment):
        out.print(line, style="dim", highlight=False, markup=False, soft_wrap=True)
    out.print(f"signature: {alignment.signature}", style="dim", highlight=False, soft_wrap=True)


@app.command()
@reports_user_errors
def pair(
    folder: Annotated[Path, typer.Argument(help="Folder of .txt files, one document each.")],
    src_lang: SrcLangOpt = "ar",
    tgt_lang: Annotated[
        str, typer.Option("--ref-lang", help="Language of the reference documents.")
    ] = "en",
    threshold: Annotated[
        float, typer.Option("--threshold", help="Least document similarity for a pair.")
    ] = DEFAULT_THRESHOLD,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the proposed manifest (default: FOLDER/manifest.proposed.json).",
        ),
    ] = None,
    encoder: EncoderOpt = DEFAULT_ENCODER,
    as_json: JsonOpt = False,
) -> None:
    """Pair source and reference documents of a folder by content; propose a manifest."""
    if not folder.is_dir():
        raise UserInputError("not a folder", folder)
    documents = read_folder(folder)
    pairing = pair_documents(documents, src_lang, tgt_lang, load_encoder(encoder), threshold)
    manifest = proposed_manifest(folder, pairing, tgt_lang)
    target = output or folder / "manifest.proposed.json"
    write_manifest(target, manifest)
    if as_json:
        _print_json(
            {
                "pairs": [
                    {"source": s.path.name, "reference": r.path.name, "similarity": round(v, 4)}
                    for s, r, v in pairing.pairs
                ],
                "unpaired": [{"file": d.path.name, "lang": d.lang} for d in pairing.unpaired],
                "manifest": str(target),
            }
        )
        return
    for s, r, score in pairing.pairs:
        out.print(
            plain(f"paired   {s.path.name} ↔ {r.path.name}  similarity {score:.3f}"),
            highlight=False,
            markup=False,
        )
    for d in pairing.unpaired:
        out.print(plain(f"unpaired {d.path.name} ({d.lang})"), highlight=False, markup=False)
    out.print(
        Text.assemble(
            "proposed manifest written to ",
            (plain(target), "bold"),
            "; check it, then rename it to manifest.json to use the folder with --data",
        )
    )


@app.command()
@reports_user_errors
def runs(results_dir: ResultsOpt = DEFAULT_RESULTS_DIR, as_json: JsonOpt = False) -> None:
    """List stored runs, oldest first."""
    records, problems = scan_runs(results_dir)
    for problem in problems:
        err.print(f"warning: skipped {problem}", highlight=False, markup=False, soft_wrap=True)
    if as_json:
        _print_json([run_summary(r, str(results_dir / r.run_id)) for r in records])
        return
    if not records:
        out.print(f"no runs in {results_dir}", highlight=False, markup=False)
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
    int, typer.Option("--resamples", help="Bootstrap resamples (and randomization trials).")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the resampling.")]
TestOpt = Annotated[
    str,
    typer.Option(
        "--test", help="p-value from 'bs' (paired bootstrap) or 'ar' (approximate randomization)."
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Compare runs that differ in test set, alignment or metrics."),
]


@app.command()
@reports_user_errors
def compare(
    runs: RunsArg = None,
    baseline: BaselineOpt = None,
    metric: CompareMetricOpt = None,
    resamples: ResamplesOpt = 1000,
    seed: SeedOpt = 12345,
    test: TestOpt = "bs",
    force: ForceOpt = False,
    breakdown: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Breakdowns to add (repeatable): doc, length, wins, top, or all.",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Segments shown by --by top.")] = 5,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="rich, markdown, csv, json or latex.")
    ] = "rich",
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    as_json: JsonOpt = False,
    cache_path: CacheOpt = None,
) -> None:
    """Compare every system of the runs: 95% CIs, differences, p-values against a baseline."""
    from evalkit import api
    from evalkit.compare.formats import FORMATS

    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        raise UserInputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    kinds = {"doc", "length", "wins", "top", "all"}
    chosen = set(breakdown or [])
    if chosen - kinds:
        raise UserInputError(
            f"--by takes {', '.join(sorted(kinds))}, not {sorted(chosen - kinds)[0]!r}"
        )
    if "all" in chosen:
        chosen = kinds
    comparison = api.compare_runs(
        *(runs or ["latest"]),
        baseline=baseline,
        metrics=metric,
        resamples=resamples,
        seed=seed,
        test=test,
        force=force,
        results_dir=results_dir,
        cache=cache_path or default_cache_path(),
    )
    breakdowns = (
        api.compute_breakdowns(
            comparison,
            document="doc" in chosen,
            length="length" in chosen,
            wins="wins" in chosen,
            top=top if "top" in chosen else None,
        )
        if chosen
        else None
    )
    result = api.format_comparison(comparison, fmt, breakdowns)
    if fmt == "json":
        _print_json(result)
    elif fmt == "rich":
        for item in result:
            if isinstance(item, str):
                style = "yellow" if item.startswith("warning") else "dim"
                out.print(item, style=style, highlight=False, markup=False, soft_wrap=True)
            else:
                out.print(item)
    else:
        sys.stdout.write(result)
    for warning in comparison.warnings:
        if warning.startswith("compared despite") and fmt != "rich":
            err.print(Text.assemble(("warning:", "yellow"), f" {plain(warning)}"), soft_wrap=True)


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
    resamples: ResamplesOpt = 1000,
    seed: SeedOpt = 12345,
    test: TestOpt = "bs",
    force: ForceOpt = False,
    results_dir: ResultsOpt = DEFAULT_RESULTS_DIR,
    cache_path: CacheOpt = None,
) -> None:
    """Write one self-contained HTML report (works offline) and print its path."""
    from evalkit import api

    path = api.build_report(
        *(runs or ["latest"]),
        output=output,
        baseline=baseline,
        metrics=metric,
        resamples=resamples,
        seed=seed,
        test=test,
        force=force,
        results_dir=results_dir,
        cache=cache_path or default_cache_path(),
    )
    out.print(str(path), highlight=False, markup=False, soft_wrap=True)


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
        _print_json(
            {
                "path": str(info.path),
                "size_bytes": info.size_bytes,
                "entries": info.entries,
                "engines": info.engines,
                "stores": {
                    s.name: {
                        "entries": s.entries,
                        "size_bytes": s.size_bytes,
                        "hits": s.hits,
                        "misses": s.misses,
                        "last_run": {"hits": s.last_hits, "misses": s.last_misses},
                    }
                    for s in stores
                },
            }
        )
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
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="EVALKIT_DEBUG", help="Show the traceback of an internal error."
        ),
    ] = False,
) -> None:
    """evalkit: translation-quality evaluation harness."""
    global _debug
    _debug = _debug or debug
