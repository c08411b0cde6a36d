"""`evalkit run` and `evalkit score`: translate and score, or score existing outputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

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
    app,
    err,
    out,
    print_footer,
    print_json,
    print_record,
    reports_user_errors,
)
from evalkit.cli.progress import RunDisplay
from evalkit.corpus.resolve import load_test_set
from evalkit.embeddings import DEFAULT_ENCODER
from evalkit.json_output import dry_run_json, run_summary, score_json
from evalkit.record import DEFAULT_RESULTS_DIR
from evalkit.report.dry_run import dry_run_table
from evalkit.report.tables import leaderboard
from evalkit.run_api import CacheLike, evaluate, open_cache, prepare_systems
from evalkit.run_api import score as score_outputs
from evalkit.run_config import SystemEntry, load_run_config
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
    cache: CacheLike = False if no_cache else cache_path or True
    if dry_run:
        test_set, systems = prepare_systems(test_set, specs, ref_as_system)
        with open_cache(cache) as opened:
            plans = {n.label: plan_translation(n.system, test_set, unit, opened) for n in systems}
        if as_json:
            print_json(dry_run_json(plans))
        else:
            out.print(dry_run_table(plans))
        return
    display = RunDisplay(err, quiet=quiet)
    with display:
        stored = evaluate(
            test_set,
            specs,
            metric,
            unit=unit,
            align=align,
            encoder=encoder,
            align_unit=align_unit,
            min_confidence=min_confidence,
            ref_as_system=ref_as_system,
            name=name,
            cache=cache,
            results_dir=results_dir,
            command=sys.argv,
            on_progress=display.on_translation,
            on_stage=display.on_stage,
        )
    evaluation, folder = stored, stored.folder
    if as_json:
        print_json(run_summary(evaluation.record, str(folder)))
        return
    print_record(evaluation.record, by="system")
    out.print(Text.assemble("run stored in ", (str(folder), "bold")), soft_wrap=True)


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
    record = score_outputs(
        ref, hyp, src, metric or (), ref_as_system=ref_as_system, src_lang=src_lang,
        tgt_lang=tgt_lang, command=sys.argv,
    ).record  # fmt: skip
    if as_json:
        print_json(score_json(record))
        return
    out.print(leaderboard(record))
    print_footer(record)
