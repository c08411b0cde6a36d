"""`comet`: COMET through unbabel-comet, only when it and a checkpoint are already here.

unbabel-comet pins numpy<2 and transformers<5, so it lives in its own environment
(`pip install 'evalkit[comet]'` there), and it is never a default metric. The checkpoint
is `EVALKIT_COMET_MODEL`: a path to a `.ckpt` file, a folder holding
`checkpoints/model.ckpt` (a downloaded model), or a hub id (default
`Unbabel/wmt22-comet-da`) that must already be in the local Hugging Face cache: nothing
is downloaded at run time. When any of this is missing the metric is skipped with one line
saying what to do; it never reports a made-up score.

Reference-free checkpoints (CometKiwi, whose hub id contains "kiwi" or "qe") are run
without references, and then the metric is reference-free.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from evalkit.metrics.base import MeanMetric, MetricUnavailable, Stats, positive_int_from_env
from evalkit.registry import Build

DEFAULT_CHECKPOINT = "Unbabel/wmt22-comet-da"
MODEL_ENV = "EVALKIT_COMET_MODEL"
BATCH_ENV = "EVALKIT_COMET_BATCH_SIZE"
CHECKPOINT_IN_REPO = "checkpoints/model.ckpt"
INSTALL = "pip install 'evalkit[comet]' in a separate environment (it needs numpy<2)"


def resolve_checkpoint(spec: str, cache_dir: str | Path | None = None) -> Path:
    """The local `.ckpt` file of a checkpoint spec, or MetricUnavailable saying how to get it.

    A spec is a `.ckpt` file, a folder containing `checkpoints/model.ckpt`, or a hub id
    (`owner/name`) looked up in the local Hugging Face cache only (`cache_dir`, by default
    the usual one, `HF_HUB_CACHE`).
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        if (path / CHECKPOINT_IN_REPO).is_file():
            return path / CHECKPOINT_IN_REPO
        raise MetricUnavailable("comet", f"{spec} has no {CHECKPOINT_IN_REPO}; set {MODEL_ENV}")
    if spec.endswith(".ckpt") or spec.count("/") != 1:
        raise MetricUnavailable("comet", f"no checkpoint at {spec}; set {MODEL_ENV}")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(spec, CHECKPOINT_IN_REPO, cache_dir=cache_dir)
    if isinstance(cached, str) and Path(cached).is_file():
        return Path(cached)
    raise MetricUnavailable(
        "comet",
        f"checkpoint {spec} is not in the local Hugging Face cache (nothing is downloaded at "
        f"run time): fetch it once with `huggingface-cli download {spec}`, or set {MODEL_ENV} "
        "to a .ckpt path",
    )


@lru_cache(maxsize=2)
def _load(checkpoint: Path) -> Any:
    from comet import load_from_checkpoint

    try:
        return load_from_checkpoint(str(checkpoint))
    except OSError as exc:  # e.g. its encoder's tokenizer is not cached either
        raise MetricUnavailable("comet", f"cannot load {checkpoint} offline: {exc}") from exc


class Comet(MeanMetric):
    """Segment score: COMET's segment score; corpus: their mean (COMET's system score)."""

    name = "comet"
    needs_source = True
    higher_is_better = True

    def __init__(self, checkpoint: str | None = None, batch_size: int | None = None) -> None:
        self.checkpoint = checkpoint or os.environ.get(MODEL_ENV) or DEFAULT_CHECKPOINT
        self.batch_size = batch_size or positive_int_from_env(BATCH_ENV) or 8
        lowered = self.checkpoint.lower()
        self.needs_reference = not ("kiwi" in lowered or "-qe" in lowered)

    @classmethod
    def build(cls, build: Build) -> Comet:
        """`comet` (the default checkpoint or $EVALKIT_COMET_MODEL) or `comet:PATH_OR_ID`."""
        return cls(build.argument)

    def check_available(self) -> None:
        if importlib.util.find_spec("comet") is None:
            raise MetricUnavailable(self.name, f"unbabel-comet is not installed: {INSTALL}")
        resolve_checkpoint(self.checkpoint)

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        self.check_available()
        model = _load(resolve_checkpoint(self.checkpoint))
        data = [
            {"src": src, "mt": hyp} | ({"ref": references[i]} if references is not None else {})
            for i, (hyp, src) in enumerate(zip(hypotheses, sources, strict=True))
        ]
        output = model.predict(data, batch_size=self.batch_size, gpus=0, progress_bar=False)
        return [[float(score)] for score in output.scores]

    def signature(self) -> str:
        from importlib.metadata import version

        return (
            f"comet|checkpoint:{self.checkpoint}|unbabel-comet-{version('unbabel-comet')}"
            f"|{'with' if self.needs_reference else 'no'} reference|corpus:mean"
        )
