"""The HTML report: one self-contained file (inline CSS, JS and SVG plots; no request).

`render_report` turns a comparison into HTML text through the jinja2 template
`templates/report.html.j2`; `write_report` writes it atomically (temporary file, rename).

The segment rows are not rendered here: they go into the page once, as compact data
(`segment_data`: a string table, gzip+base64 from 64 KB of JSON on), and the page's script
(`templates/segments.js`) draws the rows it shows, a page at a time, with search and
filters. So the page's size and the time to write and open it grow with the text of the
run, not with rows x systems x metrics of markup (10,000 segments x 4 systems x 11
metrics: bench/report_scale.py).

Every value the template prints is HTML-escaped, with control and bidi characters shown
as marked spans (`safe_text.html`, the environment's `finalize`); text from outside (names,
labels, document ids, segments) is printed through the `text` filter, which also isolates
it in a `<bdi>`, so that right-to-left text cannot reorder what surrounds it. Only the
plots (SVG that evalkit drew) are marked safe.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from evalkit import __version__, atomic, safe_text
from evalkit.compare.breakdowns import by_document, length_ratios, top_differences
from evalkit.compare.significance import Comparison
from evalkit.record import utc_now
from evalkit.report import plots, segment_data
from evalkit.report.formats import (
    Breakdowns,
    delta_text,
    group_ranking_tables,
    leaderboard,
    ranking_tables,
    score_text,
)

REPORT_FILE = "report.html"
MAX_SCATTERS = 3


def _finalize(value: Any) -> Any:
    """Every printed value: escaped, hidden characters shown (Markup, e.g. a plot, as is)."""
    return value if hasattr(value, "__html__") else safe_text.html(value)


def _text(value: Any) -> Markup:
    """Text from outside, isolated from its surroundings (bidi) and escaped."""
    return Markup("<bdi>%s</bdi>") % safe_text.html(value)


def _plain(value: Any) -> Markup:
    """Text from outside where no element may stand (the page title): escaped, hidden
    characters written as `<U+202E>`."""
    return Markup("%s") % safe_text.plain(value)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("evalkit.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["text"] = _text
    env.filters["plain"] = _plain
    return env


def _scatters(comparison: Comparison) -> list[str]:
    """Baseline against each other system, on the first metric with segment scores."""
    pool = comparison.pool
    out = []
    others = [k for k in comparison.systems if k != comparison.baseline][:MAX_SCATTERS]
    for other in others:
        for m in comparison.metrics:
            pairs = [
                (
                    row.scores.get(comparison.baseline, {}).get(m.name),
                    row.scores.get(other, {}).get(m.name),
                )
                for row in pool.rows
            ]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            if pairs:
                xs, ys = zip(*pairs, strict=True)
                out.append(plots.segment_scatter(comparison.baseline, other, m.name, xs, ys))
                break
    return out


def _meta_tables(comparison: Comparison) -> list[Any]:
    """The "Agreement with human judgments" section: the `evalkit meta` tables of each run
    compared that has judgments in the store beside it (its results folder); none otherwise."""
    from evalkit.judgments.store import JUDGMENTS_FILE

    found = []
    for run in comparison.pool.runs:
        results_dir = run.folder.parent
        if not (results_dir / JUDGMENTS_FILE).is_file():
            continue
        # imported only here: half a second a report without judgments need not wait
        from evalkit.meta.agreement import evaluate_run
        from evalkit.meta.tables import tables

        meta = evaluate_run(run.folder, results_dir)
        if meta.human.judgments:
            found += tables(meta)
    return found


@cache
def _segments_js() -> str:
    """The segment table's script, as the page embeds it (it must not end its element)."""
    text = (files("evalkit.report") / "templates" / "segments.js").read_text(encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError("segments.js must not contain </script or <!--")
    return text


def render_report(
    comparison: Comparison,
    breakdowns: Breakdowns | None = None,
    segment_encoding: Literal["gzip", "json"] | None = None,
) -> str:
    """The whole report as HTML text. `segment_encoding`: how the segment rows are
    embedded (default: by size, see `segment_data.encode`)."""
    with segment_data.collector_paused():
        return _render(comparison, breakdowns or Breakdowns(), segment_encoding)


def _render(
    comparison: Comparison, breakdowns: Breakdowns, segment_encoding: Literal["gzip", "json"] | None
) -> str:
    pool = comparison.pool
    documents = breakdowns.document or by_document(pool)
    basis, ratios = length_ratios(pool)
    table = leaderboard(comparison)
    top = breakdowns.top
    if top is None and len(comparison.systems) > 1 and comparison.metrics:
        other = next(k for k in comparison.systems if k != comparison.baseline)
        top = top_differences(pool, comparison.baseline, other, comparison.metrics[0], 10)
    run_ids = [run.record.run_id for run in pool.runs]
    context = {
        "test_set_name": pool.runs[0].record.test_set.name,
        "run_list": ", ".join(run_ids),
        "version": __version__,
        "generated": utc_now(),
        "comparison": comparison,
        "runs": pool.runs,
        "metrics": comparison.metrics,
        "systems": comparison.systems,
        "leaderboard": [
            {
                "key": key,
                "baseline": key == comparison.baseline,
                "cells": [
                    {
                        "score": score_text(comparison.cells[m.name][key]),
                        "delta": delta_text(comparison.cells[m.name][key]),
                        "significant": comparison.cells[m.name][key].significant,
                        "better": comparison.cells[m.name][key].better,
                    }
                    for m in comparison.metrics
                ],
            }
            for key in comparison.systems
        ],
        "notes": table.notes,
        "warnings": table.warnings,
        # every system ranked, clusters and AutoRank (from three systems on, or --rank)
        "ranking": ranking_tables(comparison) + group_ranking_tables(comparison),
        "wins": breakdowns.win_tie_loss,
        "top": top,
        "segment_count": len(pool.rows),
        "segments_js": Markup(_segments_js()),
        "meta": _meta_tables(comparison),
    }
    # the rows' data is encoded on a thread of its own while the plots are drawn: zlib lets
    # go of the interpreter lock, so with two cores or more compressing costs no time of
    # its own (a fifth of the report's writing time at 10,000 segments)
    payload = segment_data.build(comparison)
    with ThreadPoolExecutor(max_workers=1) as encoder:
        encoded = encoder.submit(segment_data.encode, payload, segment_encoding)
        context["plots"] = {
            "bars": plots.metric_bars(comparison) if comparison.metrics else None,
            "heatmap": plots.document_heatmap(documents, comparison)
            if comparison.metrics and documents.groups
            else None,
            "scatters": _scatters(comparison),
            "lengths": plots.length_ratio_histogram(basis, ratios),
        }
        context["segment_data"] = encoded.result()
    return _environment().get_template("report.html.j2").render(**context)


def write_report(html: str, output: Path | str) -> Path:
    """Write atomically (evalkit/atomic.py): a report being replaced stays whole until the
    new one is complete."""
    return atomic.write_text(output, html)
