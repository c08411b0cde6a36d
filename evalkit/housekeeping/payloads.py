"""The JSON printed by `--json` of the housekeeping commands (`runs rm|prune`,
`cache prune`, and the artefacts `cache info` adds): plain dicts, sizes in bytes."""

from __future__ import annotations

from typing import Any

from evalkit.housekeeping.artefacts import Artefact
from evalkit.housekeeping.cache_prune import CachePrunePlan
from evalkit.housekeeping.runs import Deletion, StoredRun

#: the version of these payloads; a reader refuses versions it does not know
HOUSEKEEPING_SCHEMA_VERSION = 1


def deleted_runs_json(runs: list[StoredRun], done: Deletion | None) -> dict[str, Any]:
    """What `runs rm|prune` deleted, or with `--dry-run` (`done` None) would delete."""
    return {
        "schema_version": HOUSEKEEPING_SCHEMA_VERSION,
        "dry_run": done is None,
        "runs": [
            {
                "run_id": run.run_id,
                "path": str(run.folder),
                "finished": run.record.finished,
                "size_bytes": run.size_bytes,
                "judgments": run.judgments,
            }
            for run in runs
        ],
        "freed_bytes": sum(run.size_bytes for run in runs),
        "judgments": sum(run.judgments for run in runs) if done is None else done.judgments,
        "judgment_copies": [str(path) for path in done.judgment_copies] if done else [],
    }


def artefact_json(artefact: Artefact) -> dict[str, Any]:
    return {
        "path": str(artefact.path),
        "kind": artefact.kind,
        "model": artefact.model,
        "size_bytes": artefact.size_bytes,
        "used_by": list(artefact.users),
        "prunable": artefact.prunable,
        "reason": artefact.reason,
    }


def cache_prune_json(
    plan: CachePrunePlan,
    artefacts: list[Artefact],
    removed: tuple[int, int] | None,
    artefacts_removed: tuple[int, int] | None,
) -> dict[str, Any]:
    """`cache prune --json`: per store what each rule removes, then the artefacts; with
    `--dry-run` (`removed` None) what would be."""
    return {
        "schema_version": HOUSEKEEPING_SCHEMA_VERSION,
        "dry_run": removed is None,
        "cache": str(plan.path),
        "results_dirs": [str(path) for path in plan.results_dirs],
        "runs": plan.runs,
        "spared_since": plan.spare_since,
        "max_size": plan.max_size,
        "stores": {
            s.store: {
                "entries": s.entries,
                "size_bytes": s.size_bytes,
                "traced_to_runs": s.traced,
                "unused": {"entries": s.unused, "size_bytes": s.unused_bytes},
                "lru": {"entries": s.lru, "size_bytes": s.lru_bytes},
            }
            for s in plan.stores
        },
        "planned": {"entries": plan.removed, "size_bytes": plan.removed_bytes},
        "removed": None if removed is None else {"entries": removed[0], "size_bytes": removed[1]},
        "size_after_bytes": plan.size_after,
        "over_max_size": plan.over_limit,
        "problems": plan.problems,
        "artefacts": [artefact_json(a) for a in artefacts],
        "artefacts_removed": None
        if artefacts_removed is None
        else {"count": artefacts_removed[0], "size_bytes": artefacts_removed[1]},
    }
