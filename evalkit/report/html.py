"""The HTML report: one self-contained file (inline CSS, JS and SVG plots; no request).

`render_report` turns a comparison into HTML text through the jinja2 template
`templates/report.html.j2`; `write_report` writes it atomically (temporary file, rename).

Every value the template prints is HTML-escaped, with control and bidi characters shown
as marked spans (`safe_text.html`, the environment's `finalize`); text from outside (names,
labels, document ids, segments) is printed through the `text` filter, which also isolates
it in a `<bdi>`, so that right-to-left text cannot reorder what surrounds it. Only the
plots (SVG that evalkit drew) are marked safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from evalkit import __version__, atomic, safe_text
from evalkit.compare.breakdowns import by_document, length_ratios, top_differences
from evalkit.compare.significance import Comparison
from evalkit.report import plots
from evalkit.report.formats import (
    Breakdowns,
    delta_text,
    group_ranking_tables,
    leaderboard,
    ranking_tables,
    score_text,
)
from evalkit.results import ErrorSpanInfo, utc_now

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


def _link_text(row: Any) -> str:
    """Which reference lines the row pairs with, for rows that came from alignment."""
    if row.confidence is None:
        return ""
    refs = ",".join(map(str, row.ref_ids)) or "–"
    flags = f" {', '.join(row.flags)}" if row.flags else ""
    return f"→ ref {refs} · conf {row.confidence:.2f}{flags}"


def marked(text: str, spans: Sequence[ErrorSpanInfo]) -> Markup:
    """The hypothesis with the error spans a metric marked as `<mark>` elements; every
    piece of text escaped as `_text` escapes it, overlapping spans after the first left out."""
    parts: list[Markup] = []
    position = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        start, end = max(span.start, position), min(span.end, len(text))
        if start >= end:
            continue
        severity = "".join(ch for ch in span.severity.lower() if ch.isalpha()) or "unknown"
        title = f"{severity} error" + (
            f", confidence {span.confidence:.2f}" if span.confidence is not None else ""
        )
        parts.append(safe_text.html(text[position:start]))
        parts.append(
            Markup('<mark class="span-%s" title="%s">%s</mark>')
            % (severity, title, safe_text.html(text[start:end]))
        )
        position = end
    parts.append(safe_text.html(text[position:]))
    return Markup("<bdi>%s</bdi>") % Markup("").join(parts)


def _first_spans(spans: dict[str, list[ErrorSpanInfo]]) -> list[ErrorSpanInfo] | None:
    """The spans of the first metric that marked any (one metric's view per hypothesis)."""
    return next(iter(spans.values()), None) if spans else None


def _segment_rows(comparison: Comparison) -> list[dict[str, Any]]:
    rows = []
    for row in comparison.pool.rows:
        ids = row.src_ids
        rows.append(
            {
                "doc": row.doc_id,
                "seg": ",".join(map(str, ids)) if len(ids) < 4 else f"{ids[0]}-{ids[-1]}",
                "src": row.src,
                "ref": row.ref,
                "link": _link_text(row),
                "flagged": bool(row.flags),
                "systems": [
                    {
                        "key": k,
                        "hyp": row.hyp.get(k, ""),
                        "marked": marked(row.hyp.get(k, ""), spans)
                        if (spans := _first_spans(row.spans.get(k, {})))
                        else None,
                        "flags": row.hyp_flags.get(k, []),
                        "scores": [row.scores.get(k, {}).get(m.name) for m in comparison.metrics],
                    }
                    for k in comparison.systems
                ],
            }
        )
    return rows


def _meta_tables(comparison: Comparison) -> list[Any]:
    """The "Agreement with human judgments" section: the `evalkit meta` tables of each run
    compared that has judgments in the store beside it (its results folder); none otherwise."""
    from evalkit.judgments.store import JUDGMENTS_FILE
    from evalkit.meta.agreement import evaluate_run
    from evalkit.meta.tables import tables

    found = []
    for run in comparison.pool.runs:
        results_dir = run.folder.parent
        if not (results_dir / JUDGMENTS_FILE).is_file():
            continue
        meta = evaluate_run(run.folder, results_dir)
        if meta.human.judgments:
            found += tables(meta)
    return found


def render_report(comparison: Comparison, breakdowns: Breakdowns | None = None) -> str:
    """The whole report as HTML text."""
    pool = comparison.pool
    breakdowns = breakdowns or Breakdowns()
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
        "plots": {
            "bars": plots.metric_bars(comparison) if comparison.metrics else None,
            "heatmap": plots.document_heatmap(documents, comparison)
            if comparison.metrics and documents.groups
            else None,
            "scatters": _scatters(comparison),
            "lengths": plots.length_ratio_histogram(basis, ratios),
        },
        "wins": breakdowns.win_tie_loss,
        "top": top,
        "segments": _segment_rows(comparison),
        "meta": _meta_tables(comparison),
    }
    return _environment().get_template("report.html.j2").render(**context)


def write_report(html: str, output: Path | str) -> Path:
    """Write atomically (evalkit/atomic.py): a report being replaced stays whole until the
    new one is complete."""
    return atomic.write_text(output, html)
