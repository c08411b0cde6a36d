"""Static plots for the HTML report: matplotlib (Agg), returned as inline SVG text.

Text is drawn as paths, so the SVG needs no font and makes no request; the XML prolog and
DOCTYPE are dropped so that the SVG can sit inside HTML. Names from outside (labels,
document ids) go through `_label`: clipped, hidden characters shown, `$` never read as
the start of a formula (matplotlib's mathtext fails on a malformed one).
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from evalkit import safe_text
from evalkit.compare.breakdowns import GroupScores
from evalkit.compare.significance import Comparison

#: the report's plot style, applied inside each plotting function only (a program that
#: imports evalkit keeps its own matplotlib settings)
STYLE = {
    "svg.fonttype": "path",
    "svg.hashsalt": "evalkit",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
F = TypeVar("F", bound=Callable[..., Any])


def styled(plot: F) -> F:
    """Run a plotting function under the report's style. Figures are made with
    `matplotlib.figure.Figure`, not pyplot, so no backend or global state is touched."""

    @functools.wraps(plot)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(STYLE):
            return plot(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


#: names longer than this are clipped in plots
LABEL_LIMIT = 40
#: a scatter of more points than this draws them as one embedded PNG inside its SVG (axes,
#: labels and diagonal stay vector): as SVG each point is an element of its own, about
#: 160 bytes, so 10,000 points would make a 1.6 MB plot that is slow to write and to show
RASTER_POINTS = 2000
#: a heatmap of more documents than this leaves the numbers out of its cells, draws its
#: rows lower and names at most `HEATMAP_NAMES` documents, once per row of panels: a
#: number per cell is unreadable at that height anyway, and every number and name is
#: drawn as glyph paths (125 documents x 11 metrics: 4.3 MB and 12 s, most of it laying
#: out those glyphs)
HEATMAP_NUMBERED_DOCUMENTS = 40
HEATMAP_NAMES = 50


def _label(name: str) -> str:
    """A name from outside as matplotlib text: clipped, hidden characters shown as
    `<U+202E>`, and `$` escaped so that it is drawn, never parsed as mathtext."""
    return safe_text.plain(name, LABEL_LIMIT).replace("$", r"\$")


def to_svg(fig: Figure) -> str:
    """The figure as an SVG element for inline use in HTML.

    Drops the XML prolog, DOCTYPE, RDF metadata and namespace declarations (HTML needs
    none; they only hold URIs), and prefixes every id so that several SVGs on one page
    never share an id (matplotlib names glyphs and clip paths the same in every figure).
    The prefix is a hash of the figure, so different figures never share one.
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    # from the figure's own content, not a counter: the same report renders to the same
    # bytes whatever the process drew before it
    prefix = f"f{hashlib.sha256(text.encode()).hexdigest()[:10]}-"
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', text)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", text)


def _grid(count: int, per_row: int = 3) -> tuple[int, int]:
    cols = min(count, per_row)
    return math.ceil(count / cols), cols


@styled
def metric_bars(comparison: Comparison) -> str:
    """Each metric: one bar per system with its 95% CI as error bars."""
    metrics = comparison.metrics
    rows, cols = _grid(len(metrics))
    fig = Figure(figsize=(4 * cols, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    systems = comparison.systems
    for ax, m in zip(axes.flat, metrics, strict=False):
        cells = [comparison.cells[m.name][k] for k in systems]
        values = [c.score if c.score is not None else np.nan for c in cells]
        low = [max(0.0, c.score - c.ci[0]) if c.ci and c.score is not None else 0 for c in cells]
        high = [max(0.0, c.ci[1] - c.score) if c.ci and c.score is not None else 0 for c in cells]
        colors = ["#888888" if k == comparison.baseline else "#3b75af" for k in systems]
        ax.bar(range(len(systems)), values, yerr=[low, high], capsize=4, color=colors)
        ax.set_xticks(range(len(systems)), [_label(k) for k in systems], rotation=20, ha="right")
        n = cells[0].n if cells else 0
        ax.set_title(f"{_label(m.name)} {'↑' if m.higher_is_better else '↓'} (n={n})")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig)


@styled
def document_heatmap(groups: GroupScores, comparison: Comparison) -> str:
    """Per metric: documents × systems, coloured by score (darker is better)."""
    metrics = [m for m in comparison.metrics if m.name in groups.scores]
    rows, cols = _grid(len(metrics))
    systems = comparison.systems
    numbered = len(groups.groups) <= HEATMAP_NUMBERED_DOCUMENTS
    height = max(2.2, (0.35 if numbered else 0.12) * len(groups.groups) + 1.2)
    fig = Figure(figsize=(max(3.5, 1.1 * len(systems) + 1.8) * cols, height * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for index, (ax, m) in enumerate(zip(axes.flat, metrics, strict=False)):
        grid = np.array(
            [
                [np.nan if (v := groups.scores[m.name][g][k]) is None else v for k in systems]
                for g in groups.groups
            ],
            dtype="float64",
        )
        cmap = "Blues" if m.higher_is_better else "Blues_r"
        # "none": the image goes into the SVG at one pixel per cell, scaled by the browser
        # (pixelated), not resampled to the figure's size: the same look, half the time
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", interpolation="none")
        ax.set_xticks(range(len(systems)), [_label(k) for k in systems], rotation=20, ha="right")
        # many documents: named once per row of panels (every panel lists the same ones)
        if numbered:
            ax.set_yticks(range(len(groups.groups)), [_label(g) for g in groups.groups])
        elif index % cols == 0:
            step = math.ceil(len(groups.groups) / HEATMAP_NAMES)
            named = range(0, len(groups.groups), step)
            ax.set_yticks(named, [_label(groups.groups[i]) for i in named], fontsize=6)
        else:
            ax.set_yticks([])
        ax.set_title(f"{_label(m.name)} per document")
        if not numbered:
            continue
        finite = grid[np.isfinite(grid)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        for (i, j), v in np.ndenumerate(grid):
            share = 0.0 if np.isnan(v) or high == low else (v - low) / (high - low)
            dark = share > 0.5 if m.higher_is_better else share < 0.5 and not np.isnan(v)
            ax.text(
                j,
                i,
                "–" if np.isnan(v) else f"{v:.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig)


@styled
def segment_scatter(a: str, b: str, metric: str, xs: Sequence[float], ys: Sequence[float]) -> str:
    """Segment scores of system a (x) against system b (y); the diagonal is a tie."""
    fig = Figure(figsize=(4, 4))
    ax = fig.subplots()
    ax.scatter(xs, ys, s=14, alpha=0.7, color="#3b75af", rasterized=len(xs) > RASTER_POINTS)
    if len(xs):
        low = min(min(xs), min(ys))
        high = max(max(xs), max(ys))
        ax.plot([low, high], [low, high], color="#999999", linewidth=1, linestyle="--")
    ax.set_xlabel(_label(a))
    ax.set_ylabel(_label(b))
    ax.set_title(f"{_label(metric)} per segment (n={len(xs)})")
    fig.tight_layout()
    return to_svg(fig)


@styled
def length_ratio_histogram(basis: str, ratios: dict[str, np.ndarray]) -> str:
    """Output length over reference (or source) length, in words, one histogram per system."""
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    present = [v for v in ratios.values() if len(v)]
    if present:
        values = np.concatenate(present)
        high = max(2.0, float(np.percentile(values, 99)))
        bins = np.linspace(0, high, 25)
        for key, v in ratios.items():
            if len(v):
                label = f"{_label(key)} (n={len(v)})"
                ax.hist(np.clip(v, 0, high), bins=bins, alpha=0.5, label=label)
        ax.axvline(1.0, color="#999999", linestyle="--", linewidth=1)
        ax.legend(fontsize=7)
    ax.set_xlabel(f"output words / {basis} words")
    ax.set_ylabel("segments")
    ax.set_title(f"length ratio to the {basis}")
    fig.tight_layout()
    return to_svg(fig)
