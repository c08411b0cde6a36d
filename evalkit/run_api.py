"""The library's entry points for making runs: `evaluate`, `score` and `rescore`.

The command line's `run`, `score` and `rescore` call these and only parse and print, the
way lm-eval's `simple_evaluate` serves its CLI and notebooks alike:

    import evalkit
    run = evalkit.evaluate("seeds", ["copy", "mt=files:out/"], ["bleu", "chrf"])
    print(run.record.scores["mt"].corpus["bleu"], run.folder)

Every argument takes what the command line takes (a built-in test set name or a path, a
system spec, a metric spec) or the built object (`TestSet`, `NamedSystem`, `Metric`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from evalkit.align.document import AlignUnit
from evalkit.align.methods import AlignMethod, aligner_for
from evalkit.cache import TranslationCache
from evalkit.compare.load import Run
from evalkit.corpus.model import TestSet
from evalkit.corpus.resolve import load_test_set
from evalkit.embeddings import DEFAULT_ENCODER
from evalkit.engines import create_systems
from evalkit.engines.bundled import systems_in_data
from evalkit.engines.human_reference import reference_as_system
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError
from evalkit.housekeeping.artefacts import remove_leftovers
from evalkit.metrics import create_metrics, metric_context
from evalkit.metrics.base import Metric
from evalkit.pipeline import RunProgress, StageCallback
from evalkit.pipeline import evaluate as _evaluate
from evalkit.pipeline.rescore import Rescored, build_metrics
from evalkit.pipeline.rescore import rescore as _rescore
from evalkit.record import DEFAULT_RESULTS_DIR, find_run, write_run
from evalkit.run_config import SystemEntry
from evalkit.translate import Unit

#: systems that make one-time model artefacts in the user cache directory: a run of one
#: first removes what killed writes and earlier versions left there
MODEL_ARTEFACT_KINDS = ("packaged", "ct2")

TestSetLike = TestSet | str | Path
SystemLike = str | SystemEntry | NamedSystem
MetricLike = str | Metric
#: True: the default cache file; False: no cache; a path: that file
CacheLike = bool | str | Path


def evaluate(
    test_set: TestSetLike = "seeds",
    systems: Sequence[SystemLike] = (),
    metrics: Sequence[MetricLike] = (),
    *,
    unit: Unit = "sentence",
    align: AlignMethod = "embedding",
    encoder: str = DEFAULT_ENCODER,
    align_unit: AlignUnit = "paragraph",
    min_confidence: float | None = None,
    ref_as_system: bool = False,
    name: str | None = None,
    cache: CacheLike = True,
    results_dir: Path | str | None = DEFAULT_RESULTS_DIR,
    src_lang: str = "ar",
    tgt_lang: str = "en",
    command: Sequence[str] = (),
    on_progress: RunProgress | None = None,
    on_stage: StageCallback | None = None,
) -> Run:
    """Translate the test set with every system, score every output with every metric,
    and store the run in `results_dir` (`evalkit run`); with `results_dir=None` nothing
    is written and the returned run has no folder.

    Without systems: the outputs the test set carries (a WMT XML file's systems), else
    the copy floor. Without metrics: the default set. `align`, `unit`, `align_unit`,
    `min_confidence` and `ref_as_system` are `evalkit run`'s options of the same names.
    Raises `UserInputError` on bad input before anything is translated."""
    data = test_set if isinstance(test_set, TestSet) else _load(test_set, src_lang, tgt_lang)
    data, named = prepare_systems(data, systems, ref_as_system)
    built = prepare_metrics(data, metrics)
    if encoder != DEFAULT_ENCODER:
        use_run_encoder(built, [m for m in metrics if isinstance(m, Metric)], encoder)
    if any(n.system.kind in MODEL_ARTEFACT_KINDS for n in named):
        remove_leftovers()
    with open_cache(cache) as opened:
        evaluation = _evaluate(
            data,
            named,
            built,
            unit=unit,
            name=name,
            command=command,
            cache=opened,
            on_progress=on_progress,
            aligner=aligner_for(align, encoder, [(n.label, n.system.kind) for n in named]),
            align_unit=align_unit,
            min_confidence=min_confidence,
            on_stage=on_stage,
        )
    folder = (
        write_run(Path(results_dir), evaluation.record, evaluation.rows)
        if results_dir is not None
        else None
    )
    return Run(folder, evaluation.record, evaluation.rows)  # type: ignore[arg-type]


def score(
    references: Sequence[str | Path],
    hypotheses: Sequence[str | Path],
    source: str | Path | None = None,
    metrics: Sequence[MetricLike] = (),
    *,
    ref_as_system: bool = False,
    src_lang: str = "ar",
    tgt_lang: str = "en",
    command: Sequence[str] = (),
) -> Run:
    """Score line-aligned output files against one or more reference files, as the
    sacrebleu command line does (`evalkit score`); nothing is stored and the returned run
    has no folder. Each hypothesis file is a system labelled by its file name."""
    data = load_test_set(
        None, Path(source) if source else None, [Path(r) for r in references], src_lang, tgt_lang
    )
    specs: list[SystemLike] = [f"{Path(h).name}=files:{h}" for h in hypotheses]
    data, named = prepare_systems(data, specs, ref_as_system)
    evaluation = _evaluate(
        data, named, prepare_metrics(data, metrics), unit="paragraph", command=command
    )
    return Run(None, evaluation.record, evaluation.rows)  # type: ignore[arg-type]


@dataclass
class RescoredRun:
    """What `rescore` did, the stored run it scored again, and the new run (None when
    nothing needed computing)."""

    result: Rescored
    source: Path
    run: Run | None


def rescore(
    run: str | Path,
    metrics: Sequence[str],
    *,
    name: str | None = None,
    cache: CacheLike = True,
    results_dir: Path | str = DEFAULT_RESULTS_DIR,
    command: Sequence[str] = (),
) -> RescoredRun:
    """Score a stored run again with more metrics, without translating (`evalkit
    rescore`), and store the result as a new run that records `rescored_from`. Metrics
    the run has with the same signature are kept; the old run is left as it is."""
    folder = find_run(Path(results_dir), str(run))
    built = build_metrics(folder, metrics)
    with open_cache(cache) as opened:
        result = _rescore(folder, built, name=name, command=command, cache=opened)
    if result.record is None:
        return RescoredRun(result, folder, None)
    stored = write_run(Path(results_dir), result.record, result.rows)
    return RescoredRun(result, folder, Run(stored, result.record, result.rows))


def _load(test_set: str | Path, src_lang: str, tgt_lang: str) -> TestSet:
    return load_test_set(str(test_set), None, None, src_lang, tgt_lang)


def prepare_systems(
    test_set: TestSet, systems: Sequence[SystemLike], ref_as_system: bool = False
) -> tuple[TestSet, list[NamedSystem]]:
    """The systems to run: those given (specs are built), else the outputs the test set
    carries, else the copy floor; with `ref_as_system` the last reference as one more,
    taken out of the test set's references."""
    if not systems:
        named = create_systems([*systems_in_data(test_set)] or ["copy"])
    else:
        built = iter(create_systems([s for s in systems if not isinstance(s, NamedSystem)]))
        named = [s if isinstance(s, NamedSystem) else next(built) for s in systems]
        labels = [n.label for n in named]
        if len(set(labels)) < len(labels):
            raise UserInputError("two systems share a label; name them with LABEL=SPEC")
    if ref_as_system:
        test_set, human = reference_as_system(test_set)
        if human.label in {n.label for n in named}:
            raise UserInputError(f"a system is already labelled {human.label!r}; rename it")
        named.append(human)
    return test_set, named


def prepare_metrics(test_set: TestSet, metrics: Sequence[MetricLike]) -> list[Metric]:
    """The metrics to compute: those given (specs are built for the test set's
    languages), else the default set."""
    if not metrics:
        return create_metrics(None, metric_context(test_set))
    built = iter(
        create_metrics([m for m in metrics if isinstance(m, str)], metric_context(test_set))
    )
    return [m if isinstance(m, Metric) else next(built) for m in metrics]


def use_run_encoder(metrics: Sequence[Metric], given: Sequence[Metric], encoder: str) -> None:
    """The run's sentence encoder (`--encoder`, when not the default) for the metrics that
    embed sentences (xqe) as for the aligner: one encoder per run, which is how a served
    one takes all the embedding work. Metrics handed over built keep their own."""
    for metric in metrics:
        if hasattr(metric, "encoder_spec") and not any(metric is m for m in given):
            metric.encoder_spec = encoder


def open_cache(cache: CacheLike) -> AbstractContextManager[TranslationCache | None]:
    """The translation cache to use, closed on the way out; none for `False`."""
    if cache is False:
        return nullcontext()
    return TranslationCache(None if cache is True else Path(cache))
