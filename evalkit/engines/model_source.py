"""Where a model's files are, and a stable id for exactly those weights.

A model is named by a local folder or a Hugging Face hub id. Hub ids resolve through the
hub's own cache (and download on first use where a network exists); the snapshot's
commit hash identifies the weights. Local folders are identified by a sha256 over their
files, memoised by (path, size, mtime) because hashing gigabytes takes seconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from evalkit import atomic
from evalkit.errors import UserInputError

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".model", ".json", ".txt", ".spm")


@dataclass(frozen=True)
class ModelSource:
    name: str  # what the user wrote
    path: Path  # local folder with the files
    revision: str  # commit hash or sha256 of the files


def resolve_model(name: str) -> ModelSource:
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UserInputError("a model must be a folder (or a hub id)", path)
        return ModelSource(name, path.resolve(), "sha256:" + folder_digest(path))
    if name.count("/") != 1 or name.startswith((".", "/")):
        raise UserInputError(f"model {name!r}: no such folder, and not a hub id (owner/name)")
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(name))
    except Exception as error:  # the hub client raises many types; all mean "not available"
        raise UserInputError(
            f"model {name!r} is not in the local hub cache and could not be downloaded "
            f"({type(error).__name__}); pass a local folder instead"
        ) from None
    return ModelSource(name, folder, "commit:" + folder.name)


def folder_digest(folder: Path) -> str:
    """sha256 over the names and contents of the files that define a model."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    stamp = json.dumps(
        [(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    )
    memo_file = Path(platformdirs.user_cache_dir("evalkit")) / "digests.json"
    memo = _read_memo(memo_file)
    key = hashlib.sha256((str(folder.resolve()) + stamp).encode()).hexdigest()
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(folder)).encode() + b"\0")
        with open(p, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    memo[key] = digest.hexdigest()
    _write_memo(memo_file, memo)
    return memo[key]


def _read_memo(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_memo(path: Path, memo: dict[str, str]) -> None:
    atomic.write_text(path, json.dumps(memo))
