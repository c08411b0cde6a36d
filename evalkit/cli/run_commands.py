"""`evalkit run` and `evalkit score`: translate and score, or score existing outputs."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

from evalkit.cache import TranslationCache
from evalkit.cli.common import (
    AlignOpt,
    CacheOpt,
    DataOpt,
    EncoderOpt,
    JsonOpt,
    MetricOpt,
    QuietOpt,
    RefAsSystemOpt,
    RefOpt,
    ResultsOpt,
    SrcLangOpt,
    SrcOpt,
    TgtLangOpt,
    aligner_for,
    app,
    err,
    out,
    print_footer,
    print_json,
    print_record,
    reports_user_errors,
)
from evalkit.cli.progress import RunDisplay
from evalkit.corpus.model import TestSet
from evalkit.corpus.reference_as_system import reference_as_system
from evalkit.corpus.resolve import load_test_set
from evalkit.embeddings import DEFAULT_ENCODER
from evalkit.engines import create_systems
from evalkit.engines.bundled import systems_in_data
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics, metric_context
from evalkit.report.dry_run import dry_run_table
from evalkit.report.tables import leaderboard
from evalkit.results import DEFAULT_RESULTS_DIR, write_run
from evalkit.run_config import SystemEntry, load_run_config
from evalkit.runner import evaluate
from evalkit.serialize import dry_run_json, run_summary, score_json
from evalkit.translate import Unit, plan_translation


@app.command()
@reports_user_errors
def run(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="A run file (TOML): test set, systems, metrics and options as values; "
            "options given here win, --system and --metric add to its lists.",
        ),
    ] = None,
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
    ref_as_system: RefAsSystemOpt = False,
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
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            min=0.0,
            max=1.0,
            metavar="P",
            help="Score aligned links whose confidence (the chance the link is right) is "
            "below P without their reference: reference-free metrics still score them. "
            "The count goes in the notes and in run.json.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Count what each system would translate (and, for served models, the "
            "requests and prompt tokens it would send); translate and store nothing.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Translate a test set with each system, score every output, store the run."""
    specs: list[str | SystemEntry] = list(system or [])
    metric = list(metric or [])
    if config is not None:
        run_file = load_run_config(config)
        specs = [*run_file.systems, *specs]
        metric = [*run_file.metrics, *metric]
        given = _from_command_line(ctx)
        data = data if "data" in given else run_file.data
        src = src if "src" in given else _path(run_file.src)
        ref = ref if "ref" in given else _paths(run_file.ref)
        src_lang = src_lang if "src_lang" in given else run_file.src_lang or src_lang
        tgt_lang = tgt_lang if "tgt_lang" in given else run_file.tgt_lang or tgt_lang
        name = name if "name" in given else run_file.name
        unit = unit if "unit" in given else run_file.unit or unit
        align = align if "align" in given else run_file.align or align
        align_unit = align_unit if "align_unit" in given else run_file.align_unit or align_unit
        encoder = encoder if "encoder" in given else run_file.encoder or encoder
    test_set = load_test_set(data, src, ref, src_lang, tgt_lang)
    # outputs the test set carries (WMT XML hyps, ...) are its systems when none is named
    specs = specs or [*systems_in_data(test_set)] or ["copy"]
    test_set, systems = _systems(test_set, specs, ref_as_system)
    if dry_run:
        with _translation_cache(no_cache, cache_path) as cache:
            plans = {n.label: plan_translation(n.system, test_set, unit, cache) for n in systems}
        if as_json:
            print_json(dry_run_json(plans))
        else:
            out.print(dry_run_table(plans))
        return
    metrics = create_metrics(metric or None, metric_context(test_set))
    display = RunDisplay(err, quiet=quiet)
    with _translation_cache(no_cache, cache_path) as cache, display:
        evaluation = evaluate(
            test_set,
            systems,
            metrics,
            unit=unit,
            name=name,
            command=sys.argv,
            cache=cache,
            on_progress=display.on_translation,
            aligner=aligner_for(align, encoder),
            align_unit=align_unit,
            min_confidence=min_confidence,
            on_stage=display.on_stage,
        )
    folder = write_run(results_dir, evaluation.record, evaluation.rows)
    if as_json:
        print_json(run_summary(evaluation.record, str(folder)))
        return
    print_record(evaluation.record, by="system")
    out.print(Text.assemble("run stored in ", (str(folder), "bold")), soft_wrap=True)


def _systems(
    test_set: TestSet, specs: list[str | SystemEntry], ref_as_system: bool
) -> tuple[TestSet, list[NamedSystem]]:
    """The systems the specs name, and with --ref-as-system the last reference as one
    more (taken out of the test set's references)."""
    systems = create_systems(specs)
    if not ref_as_system:
        return test_set, systems
    test_set, human = reference_as_system(test_set)
    if human.label in {named.label for named in systems}:
        raise UserInputError(f"a system is already labelled {human.label!r}; rename it")
    return test_set, [*systems, human]


def _from_command_line(ctx: typer.Context) -> set[str]:
    """The options the user gave (not left at their defaults), which win over a run file."""
    sources = {name: ctx.get_parameter_source(name) for name in ctx.params}
    # by name: typer may bring its own copy of click's ParameterSource
    return {
        name
        for name, source in sources.items()
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
    }


def _path(value: str | None) -> Path | None:
    return Path(value) if value is not None else None


def _paths(value: str | list[str] | None) -> list[Path] | None:
    """A run file's `ref`: one path or a list of them."""
    if value is None:
        return None
    return [Path(v) for v in ([value] if isinstance(value, str) else value)]


def _translation_cache(
    no_cache: bool, path: Path | None
) -> AbstractContextManager[TranslationCache | None]:
    """The cache to use, closed on the way out; none with --no-cache."""
    return nullcontext() if no_cache else TranslationCache(path)


@app.command()
@reports_user_errors
def score(
    ref: Annotated[
        list[Path],
        typer.Option(
            "--ref",
            "-r",
            help="Reference file, one segment per line (repeatable: several references, "
            "scored together as sacrebleu scores them).",
        ),
    ],
    hyp: Annotated[
        list[str],
        typer.Option("--hyp", "-i", help="System output file, line-aligned (repeatable)."),
    ],
    src: SrcOpt = None,
    ref_as_system: RefAsSystemOpt = False,
    src_lang: SrcLangOpt = "ar",
    tgt_lang: TgtLangOpt = "en",
    metric: MetricOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score existing outputs against references, like sacrebleu, all metrics in one table.

    Nothing is stored."""
    test_set = load_test_set(None, src, ref, src_lang, tgt_lang)
    specs: list[str | SystemEntry] = [f"{Path(h).name}=files:{h}" for h in hyp]
    test_set, systems = _systems(test_set, specs, ref_as_system)
    metrics = create_metrics(metric, metric_context(test_set))
    record = evaluate(test_set, systems, metrics, unit="paragraph", command=sys.argv).record
    if as_json:
        print_json(score_json(record))
        return
    out.print(leaderboard(record))
    print_footer(record)
