"""Built-in test sets shipped with the package (one folder each, with a manifest.json)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def builtin_test_sets() -> dict[str, Path]:
    """Map each built-in test set's name to its folder on disk."""
    root = resources.files(__name__)
    found: dict[str, Path] = {}
    for entry in root.iterdir():
        if entry.is_dir() and entry.joinpath("manifest.json").is_file():
            found[entry.name] = Path(str(entry))
    return found
