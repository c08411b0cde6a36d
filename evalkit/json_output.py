"""Every JSON payload the command line prints (`--json`) and the API returns, in one place.

Each payload carries a `schema_version` of its own; the README documents the fields.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.align import DocumentAlignment
from evalkit.align.pairing import Pairing
from evalkit.cache import CacheInfo, StoreInfo
from evalkit.compare.ranking import Ranking
from evalkit.compare.significance import Comparison
from evalkit.engines.base import RequestPlan
from evalkit.record import RunRecord
from evalkit.report.formats import Breakdowns
from evalkit.translate import TranslationPlan

SUMMARY_SCHEMA_VERSION = 1
ALIGN_SCHEMA_VERSION = 1
DRY_RUN_SCHEMA_VERSION = 1
SCORE_SCHEMA_VERSION = 1
PAIR_SCHEMA_VERSION = 1
CACHE_SCHEMA_VERSION = 1
#: 2 added the ranking (`ranking`, `autorank`, ...; see evalkit/report/formats.py)
COMPARE_SCHEMA_VERSION = 2


def run_summary(record: RunRecord, path: str | None = None) -> dict[str, Any]:
    """The machine-readable summary of a run (`--json`)."""
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "run_id": record.run_id,
        "path": path,
        "test_set": {"name": record.test_set.name, "hash": record.test_set.hash},
        "metrics": {m.name: m.signature for m in record.metrics},
        "systems": {
            s.label: {
                "spec": s.spec,
                "fingerprint": s.fingerprint_hash,
                "corpus": record.scores[s.label].corpus,
                "documents": record.scores[s.label].documents,
                "truncated": s.truncated,
                "requests": s.requests,
                "retries": s.retries,
                "prompt_tokens": s.prompt_tokens,
                "completion_tokens": s.completion_tokens,
            }
            for s in record.systems
        },
        "notes": record.notes,
    }


def alignment_json(doc_id: str, alignment: DocumentAlignment) -> dict[str, Any]:
    """`{"doc", "unit", "links": [{"src", "ref", "score"}]}`; indices are 1-based over
    non-empty lines (paragraphs) or over the document's sentences; score is confidence."""
    return {
        "schema_version": ALIGN_SCHEMA_VERSION,
        "doc": doc_id,
        "unit": alignment.unit,
        "method": alignment.method,
        "signature": alignment.signature,
        "mean_confidence": round(alignment.mean_confidence, 4),
        "low_confidence_links": alignment.flagged,
        "unreliable": alignment.unreliable,
        "links": [
            {
                "src": list(link.src),
                "ref": list(link.ref),
                "score": link.confidence,
                "cost": link.cost,
                "low_confidence": link.low_confidence,
            }
            for link in alignment.links
        ],
        "skipped": [
            {"side": side, "index": item.index, "text": item.text, "reason": item.reason}
            for side, skipped in (("src", alignment.skipped_src), ("ref", alignment.skipped_ref))
            for item in skipped
        ],
    }


def dry_run_json(plans: dict[str, TranslationPlan]) -> dict[str, Any]:
    return {
        "schema_version": DRY_RUN_SCHEMA_VERSION,
        "kind": "evalkit.dry-run",
        "systems": {
            label: {
                "units": plan.units,
                "distinct": plan.distinct,
                "cached": plan.cached,
                "to_translate": plan.to_translate,
                **_requests_json(plan.requests),
            }
            for label, plan in plans.items()
        },
    }


def _requests_json(sent: RequestPlan | None) -> dict[str, Any]:
    """What a served system would send; nulls for systems that send nothing."""
    if sent is None:
        return dict.fromkeys(
            ("requests", "prompt_tokens", "prompt_tokens_exact", "max_completion_tokens")
        )
    return {
        "requests": sent.requests,
        "prompt_tokens": sent.prompt_tokens,
        "prompt_tokens_exact": sent.exact,
        "max_completion_tokens": sent.max_completion_tokens,
    }


def score_json(record: RunRecord) -> dict[str, Any]:
    """`evalkit score --json`: per system, each metric's corpus score and signature."""
    return {
        "schema_version": SCORE_SCHEMA_VERSION,
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


def pairing_json(pairing: Pairing, manifest: Path) -> dict[str, Any]:
    """`evalkit pair --json`: the pairs found, the documents left unpaired, the manifest."""
    return {
        "schema_version": PAIR_SCHEMA_VERSION,
        "pairs": [
            {"source": s.path.name, "reference": r.path.name, "similarity": round(v, 4)}
            for s, r, v in pairing.pairs
        ],
        "unpaired": [{"file": d.path.name, "lang": d.lang} for d in pairing.unpaired],
        # every source x reference similarity, highest first: the near-misses of a pairing
        "similarities": [
            {"source": source, "reference": reference, "similarity": round(value, 4)}
            for (source, reference), value in sorted(
                pairing.similarities.items(), key=lambda item: -item[1]
            )
        ],
        "manifest": str(manifest),
    }


def cache_json(info: CacheInfo, stores: list[StoreInfo]) -> dict[str, Any]:
    """`evalkit cache info --json`: the file, and per store its size and hit counts."""
    return {
        "schema_version": CACHE_SCHEMA_VERSION,
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


def _pair(values: tuple[float, float] | None) -> list[float] | None:
    return list(values) if values is not None else None


def ranking_json(ranking: Ranking) -> dict[str, Any]:
    """The ranking keys of a comparison: per metric each system's rank and cluster (1 =
    best), AutoRank, and the rules said with them."""
    return {
        "ranking": {
            metric: [
                {
                    "system": e.system,
                    "rank": e.rank,
                    "cluster": e.cluster,
                    "score": e.score,
                    "delta": e.delta,
                    "p_value": e.p_value,
                }
                for e in entries
            ]
            for metric, entries in ranking.metrics.items()
        },
        "ranking_rule": ranking.rule,
        "ranking_rows": ranking.rows,
        "autorank": [
            {"system": e.system, "autorank": e.autorank, "rescaled": e.rescaled}
            for e in ranking.autorank
        ],
        "autorank_metrics": ranking.autorank_metrics,
        "autorank_rule": ranking.autorank_rule,
    }


def comparison_json(comparison: Comparison, breakdowns: Breakdowns | None = None) -> dict:
    pool = comparison.pool
    data: dict[str, Any] = {
        "schema_version": COMPARE_SCHEMA_VERSION,
        "kind": "evalkit.compare",
        "runs": [
            {
                "run_id": run.record.run_id,
                "path": str(run.folder),
                "test_set": {"name": run.record.test_set.name, "hash": run.record.test_set.hash},
            }
            for run in pool.runs
        ],
        "systems": [{"key": s.key, "label": s.label, "run_id": s.run_id} for s in pool.systems],
        "baseline": comparison.baseline,
        "test": comparison.test,
        "resamples": comparison.resamples,
        "seed": comparison.seed,
        "alpha": comparison.alpha,
        "confidence": 0.95,
        "metrics": [
            {
                "name": m.name,
                "signature": m.signature,
                "higher_is_better": m.higher_is_better,
                "rows": comparison.cells[m.name][comparison.baseline].n,
            }
            for m in comparison.metrics
        ],
        "results": {
            m.name: {
                key: {
                    "score": c.score,
                    "ci": _pair(c.ci),
                    "n": c.n,
                    "delta": c.delta,
                    "delta_ci": _pair(c.delta_ci),
                    "p_value": c.p_value,
                    "significant": c.significant,
                    "better": c.better,
                }
                for key, c in comparison.cells[m.name].items()
            }
            for m in comparison.metrics
        },
        "breakdowns": {},
        "warnings": [w.text for w in comparison.warnings],
    }
    if comparison.ranking is not None:
        data.update(ranking_json(comparison.ranking))
    if comparison.group_rankings is not None:
        by_group = comparison.group_rankings
        data["group_rankings"] = {
            "key": by_group.key,
            "documents_without": by_group.documents_without,
            "groups": {
                value: {k: v for k, v in ranking_json(ranked).items() if not k.endswith("_rule")}
                for value, ranked in by_group.groups.items()
            },
        }
    if breakdowns:
        for name in ("document", "length"):
            groups = getattr(breakdowns, name)
            if groups is not None:
                data["breakdowns"][name] = {
                    "groups": groups.groups,
                    "rows": groups.rows,
                    "scores": groups.scores,
                }
        if breakdowns.win_tie_loss is not None:
            data["breakdowns"]["win_tie_loss"] = [asdict(w) for w in breakdowns.win_tie_loss]
        if breakdowns.top is not None:
            data["breakdowns"]["top"] = [
                {**asdict(d), "src_ids": list(d.src_ids)} for d in breakdowns.top
            ]
    return data
