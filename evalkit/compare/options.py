"""The settings of a comparison, in one place for `compare`, `report` and the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evalkit.compare.significance import DEFAULT_RESAMPLES, DEFAULT_SEED
from evalkit.record import DEFAULT_RESULTS_DIR

SignificanceTest = Literal["bs", "ar"]


@dataclass(frozen=True)
class CompareOptions:
    """Which runs' systems and metrics are compared, and how.

    `cache`: a cache file whose stored segment statistics spare recomputing them (used
    only if it exists; statistics computed here are added to it)."""

    #: the system the others are tested against (default: the first)
    baseline: str | None = None
    #: the metrics compared (default: every metric all runs share)
    metrics: Sequence[str] | None = None
    resamples: int = DEFAULT_RESAMPLES
    seed: int | None = DEFAULT_SEED
    #: paired bootstrap ("bs") or approximate randomization ("ar")
    test: SignificanceTest = "bs"
    #: compare runs that differ in test set, alignment or metrics (with a warning)
    force: bool = False
    results_dir: Path | str = DEFAULT_RESULTS_DIR
    cache: Path | str | None = None
    #: rank and cluster every system (evalkit/compare/ranking.py): True, False, or None
    #: for the default (from three systems on, or with `by_group`)
    rank: bool | None = None
    #: the metrics AutoRank averages (default: every ranked metric)
    autorank_metrics: Sequence[str] | None = None
    #: a document metadata key (run.json): the ranking again for each of its values
    by_group: str | None = None
