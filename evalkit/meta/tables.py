"""A meta-evaluation as tables (every output format of `evalkit.report.formats`) and as JSON.

JSON schema (schema_version 1):
  kind            "evalkit.meta"
  schema_version  1
  run_id, test_set
  human           {source, protocol, scale ("raw" | "z": z-scores per annotator),
                   run_ids, systems, items, cells, judgments, annotators,
                   excluded: {reason: count}}
  resamples, permutations, seed, confidence (0.95)
  metrics         [{name, signature, higher_is_better, rank, cluster (significance
                    cluster, 1 = best; null when unranked), ranking_score, systems,
                    items, cells, system_items, epsilon,
                    pairwise_accuracy, soft_pairwise_accuracy, acc23, kendall_tau_b,
                    pearson}]      each statistic: {value, ci: [low, high] | null,
                                   reason: null | why value is null}
  annotators      [{first, second, cells, items, kendall_tau_b, pearson,
                    pairwise_accuracy}]
  notes           [str]
"""

from __future__ import annotations

from typing import Any, Literal

from evalkit import table_text as formats
from evalkit.meta.agreement import MetaEvaluation
from evalkit.meta.agreement_stats import MetricAgreement, Stat
from evalkit.meta.clusters import SIGNIFICANCE
from evalkit.meta.stats import CONFIDENCE
from evalkit.table_text import Table

SCHEMA_VERSION = 1

#: (column, attribute) of the statistics, in table order
STATISTICS = (
    ("sys pairwise acc", "pairwise_accuracy"),
    ("SPA", "soft_pairwise_accuracy"),
    ("acc23", "acc23"),
    ("Kendall τb", "kendall_tau_b"),
    ("Pearson r", "pearson"),
)


def stat_text(stat: Stat) -> str:
    """`0.812 [0.700, 0.905]`, or `–` when there is none (the reason goes in the notes)."""
    if stat.value is None:
        return "–"
    text = f"{stat.value:.3f}"
    if stat.ci is not None:
        text += f" [{stat.ci[0]:.3f}, {stat.ci[1]:.3f}]"
    return text


def _epsilon_text(epsilon: float | None) -> str:
    return "–" if epsilon is None else f"{epsilon:.4g}"


def _reasons(metrics: list[MetricAgreement]) -> list[str]:
    """One note per statistic left empty, with the metrics it concerns."""
    found: dict[tuple[str, str], list[str]] = {}
    for m in metrics:
        for column, attribute in STATISTICS:
            stat: Stat = getattr(m, attribute)
            if stat.value is None and stat.reason:
                found.setdefault((column, stat.reason), []).append(m.name)
    return [f"{column} –: {why} ({', '.join(names)})" for (column, why), names in found.items()]


def agreement_table(meta: MetaEvaluation) -> Table:
    """One row per metric, best first: the WMT statistics with 95% CIs."""
    human = meta.human
    rows: list[list[Any]] = []
    ranked = sorted(meta.metrics, key=lambda m: (m.rank is None, m.rank or 0, m.name))
    for m in ranked:
        rows.append(
            [
                "–" if m.rank is None else m.rank,
                "–" if m.cluster is None else m.cluster,
                f"{m.name} {'↑' if m.higher_is_better else '↓'}",
                *(stat_text(getattr(m, attribute)) for _, attribute in STATISTICS[:3]),
                _epsilon_text(m.epsilon),
                *(stat_text(getattr(m, attribute)) for _, attribute in STATISTICS[3:]),
                m.cells,
            ]
        )
    columns = ["rank", "cluster", "metric", *(c for c, _ in STATISTICS[:3]), "acc23 ε"]
    columns += [*(c for c, _ in STATISTICS[3:]), "cells"]
    excluded = ", ".join(f"{reason} {n}" for reason, n in human.excluded.items())
    notes = [
        f"human: {human.judgments} judgments ({human.protocol or 'none'}"
        + (", z-scores per annotator" if human.scale == "z" else "")
        + ") by "
        f"{len(human.annotators)} annotator(s) of {len(human.items)} items × "
        f"{len(human.systems)} systems = {human.cells} cells; source {human.source}"
        + (f"; left out: {excluded}" if excluded else ""),
        "system level (sys pairwise acc, SPA): systems' mean scores on the items judged for "
        "every system; segment level: acc23 with tie calibration (metric differences <= ε "
        "count as ties) averaged over items, Kendall τb and Pearson r over all cells",
        f"95% CI: bootstrap percentile over items, {meta.resamples} resamples, seed "
        f"{meta.seed}; SPA: paired permutation test, {meta.permutations} permutations "
        "(every sign mask when there are fewer); rank: mean of SPA and acc23",
        "cluster: metrics in one cluster are not significantly different; a metric starts "
        f"a new one when its rank score is below one of the current cluster's at p < "
        f"{SIGNIFICANCE} (paired bootstrap on the same resamples)",
        *_reasons(meta.metrics),
        *meta.notes,
    ]
    return Table(
        f"agreement with human judgments · {meta.test_set} · {meta.run_id}",
        columns,
        rows,
        notes,
        numeric=set(range(3, len(columns))),
    )


def annotator_table(meta: MetaEvaluation) -> Table | None:
    """Inter-annotator agreement on the cells judged twice; None when none was."""
    if not meta.annotators:
        return None
    rows = [
        [
            a.first,
            a.second,
            a.cells,
            a.items,
            stat_text(a.kendall_tau_b),
            stat_text(a.pearson),
            stat_text(a.pairwise_accuracy),
        ]
        for a in meta.annotators
    ]
    return Table(
        "inter-annotator agreement",
        ["annotator", "annotator", "cells", "items", "Kendall τb", "Pearson r", "pairwise acc"],
        rows,
        [
            "on the (item, system) cells both judged; pairwise acc: share of system pairs "
            "within an item both order alike (ties only with ties), averaged over items"
        ],
        numeric={2, 3, 4, 5, 6},
    )


def tables(meta: MetaEvaluation) -> list[Table]:
    found = [agreement_table(meta)]
    annotators = annotator_table(meta)
    if annotators is not None:
        found.append(annotators)
    return found


def long_table(meta: MetaEvaluation) -> Table:
    """One row per metric with every number in its own column (for csv)."""
    columns = ["metric", "higher_is_better", "rank", "cluster", "systems", "items", "cells"]
    for _, attribute in STATISTICS:
        columns += [attribute, f"{attribute}_ci_low", f"{attribute}_ci_high"]
    columns += ["acc23_epsilon"]
    rows = []
    for m in meta.metrics:
        row: list[Any] = [m.name, m.higher_is_better, m.rank, m.cluster]
        row += [m.systems, m.items, m.cells]
        for _, attribute in STATISTICS:
            stat: Stat = getattr(m, attribute)
            row += [stat.value, *(stat.ci if stat.ci else (None, None))]
        rows.append([*row, m.epsilon])
    return Table("meta", columns, rows, numeric=set(range(2, len(columns))))


def _stat_json(stat: Stat) -> dict[str, Any]:
    return {"value": stat.value, "ci": list(stat.ci) if stat.ci else None, "reason": stat.reason}


def meta_json(meta: MetaEvaluation) -> dict[str, Any]:
    """The whole meta-evaluation as one JSON document (schema in this module's docstring)."""
    human = meta.human
    return {
        "kind": "evalkit.meta",
        "schema_version": SCHEMA_VERSION,
        "run_id": meta.run_id,
        "test_set": meta.test_set,
        "human": {
            "source": human.source,
            "protocol": human.protocol,
            "scale": human.scale,
            "run_ids": human.run_ids,
            "systems": human.systems,
            "items": len(human.items),
            "cells": human.cells,
            "judgments": human.judgments,
            "annotators": human.annotators,
            "excluded": human.excluded,
        },
        "resamples": meta.resamples,
        "permutations": meta.permutations,
        "seed": meta.seed,
        "confidence": CONFIDENCE,
        "metrics": [
            {
                "name": m.name,
                "signature": m.signature,
                "higher_is_better": m.higher_is_better,
                "rank": m.rank,
                "cluster": m.cluster,
                "ranking_score": m.ranking_score,
                "systems": m.systems,
                "items": m.items,
                "cells": m.cells,
                "system_items": m.system_items,
                "epsilon": m.epsilon,
                **{attribute: _stat_json(getattr(m, attribute)) for _, attribute in STATISTICS},
            }
            for m in meta.metrics
        ],
        "annotators": [
            {
                "first": a.first,
                "second": a.second,
                "cells": a.cells,
                "items": a.items,
                "kendall_tau_b": _stat_json(a.kendall_tau_b),
                "pearson": _stat_json(a.pearson),
                "pairwise_accuracy": _stat_json(a.pairwise_accuracy),
            }
            for a in meta.annotators
        ],
        "notes": meta.notes,
    }


def render_text(meta: MetaEvaluation, fmt: Literal["markdown", "csv", "latex"]) -> str:
    """The agreement tables as markdown or latex, or the long table as csv: what
    `evalkit meta --format` prints and `api.format_meta` returns."""
    if fmt == "csv":
        return formats.to_csv(long_table(meta))
    render = formats.to_latex if fmt == "latex" else formats.to_markdown
    return "\n".join(render(table) for table in tables(meta))
