"""The `evalkit models` listing: engine kinds, and packaged models with their state."""

from __future__ import annotations

import inspect
from typing import Any

from rich.table import Table

from evalkit.engines.packaged_models import (
    PACKAGED_MODELS,
    float_checkpoint_dir,
    missing_parts,
)
from evalkit.engines.registry import registered_kinds


def models_listing() -> dict[str, Any]:
    kinds = []
    for kind, cls in sorted(registered_kinds().items()):
        summary = cls.summary or (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        kinds.append({"kind": kind, "summary": summary})
    packaged = [
        {
            "name": model.name,
            "spec": f"packaged:{model.name}",
            "family": model.family,
            "size": model.parameters,
            "installed": not missing_parts(model),
            "cached": (float_checkpoint_dir(model) / "config.json").is_file(),
            "default": model.default,
            "description": model.description,
        }
        for model in PACKAGED_MODELS.values()
    ]
    return {"engines": kinds, "packaged": packaged}


def models_tables(listing: dict[str, Any]) -> list[Table]:
    engines = Table(title="engines", title_justify="left")
    engines.add_column("kind", style="cyan", no_wrap=True)
    engines.add_column("what it is")
    for row in listing["engines"]:
        engines.add_row(row["kind"], row["summary"])
    packaged = Table(title="packaged models", title_justify="left")
    for column in ("spec", "family", "size", "installed", "cached"):
        packaged.add_column(column, no_wrap=column == "spec")
    for row in listing["packaged"]:
        packaged.add_row(
            row["spec"] + (" (default)" if row["default"] else ""),
            row["family"],
            row["size"],
            "yes" if row["installed"] else "no",
            "yes" if row["cached"] else "no",
        )
    return [engines, packaged]
