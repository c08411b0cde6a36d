"""The one-time model artefacts under the user cache directory: what each is, its size,
which systems of stored runs use it, and which ones `evalkit cache prune` may remove.

evalkit owns two folders there and names everything in them (evalkit/engines):
  packaged/<model>/<gguf_name>   a packaged model's GGUF, joined from its part packages;
                                 removed once the checkpoint is made
  packaged/<model>/float32/      the config and tokenizer files of the float32 checkpoint
                                 made from it: every packaged run reads them
  packaged/<model>/float32/model.safetensors
                                 its weights: `engine=transformers` and vLLM load them,
                                 CTranslate2 converts them; removed once a conversion is
                                 made and loads, made again when needed
  packaged/<model>/.lock         the model's lock (not an artefact: never removed)
  ct2/<revision>-<compute_type>/ a CTranslate2 conversion (of a packaged model's float32
                                 checkpoint, or of a `ct2:MODEL` folder or hub model)
Anything else in those two folders is a leftover: a write killed half-way (its writer
gone), a model this evalkit no longer knows, a name it no longer makes. Leftovers are
always pruned. Artefacts are pruned on request, and only those that come back without
loss: the GGUF when its packages are installed (joined again in seconds), a checkpoint's
files or a conversion when no stored run uses it and what makes it is still there.
Nothing used within `keep_recent_s` (by the files' access or change time) goes: a run may
be reading it; nothing of a packaged model while a process holds the model's lock.
Other files of the user cache directory (the cache file, the digests memo) are not
artefacts, and are left alone.

Removal renames first (to `.tmp-rm-NAME~PID@HOST`, a hidden leftover if killed) and then
deletes, so no reader finds half an artefact under its real name.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import get_args

import platformdirs

from evalkit.atomic import owner_tag, writer_gone
from evalkit.engines.ct2 import CT2Options, conversion_name
from evalkit.engines.one_time import file_lock
from evalkit.engines.packaged_models import (
    LOCK_FILE,
    PACKAGED_MODELS,
    WEIGHTS_FILE,
    PackagedModel,
    missing_parts,
)
from evalkit.housekeeping.cache_prune import DEFAULT_KEEP_RECENT_S
from evalkit.housekeeping.units import folder_size
from evalkit.record import RunRecord

PACKAGED_DIR, CT2_DIR = "packaged", "ct2"
FLOAT_CHECKPOINT = "float32"
#: the kinds of a packaged model's checkpoint: its small files, and its weights
CONFIG_KIND, WEIGHTS_KIND = "config and tokenizer", "float32 weights"
#: a half-written temporary whose writer is gone is a leftover once this old (a writer
#: on another host, sharing a network home, cannot be asked whether it still runs)
LEFTOVER_AGE_S = 3600.0
#: the hidden name an artefact takes while it is being removed
REMOVING_PREFIX = ".tmp-rm-"
_COMPUTE_TYPES = get_args(CT2Options.model_fields["compute_type"].annotation)
#: ct2/.tmp-NAME-PID (evalkit/engines/ct2.py) and packaged/M/.NAME.PID.tmp (packaged_models)
_PID_TEMPORARY = re.compile(r"^\.tmp-.+-(\d+)$|^\..+\.(\d+)\.tmp$")


@dataclass(frozen=True)
class Artefact:
    """One artefact (or leftover) and what removing it would mean."""

    path: Path
    #: gguf, config and tokenizer, float32 weights, ct2 conversion, leftover, being written
    kind: str
    size_bytes: int
    #: the packaged model, or the conversion's source revision
    model: str
    #: system specs of stored runs that use it, with their run counts
    users: tuple[str, ...]
    #: whether `cache prune` removes it (with `--artefacts` unless a leftover)
    prunable: bool
    #: why it goes, or why it stays
    reason: str

    @property
    def leftover(self) -> bool:
        return self.kind == "leftover"


def user_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("evalkit"))


def scan_artefacts(
    records: list[RunRecord],
    root: Path | None = None,
    keep_recent_s: float = DEFAULT_KEEP_RECENT_S,
    now: float | None = None,
) -> list[Artefact]:
    """Every artefact and leftover under `root` (default: the user cache directory),
    with the systems of `records` that use each."""
    root = root or user_cache_dir()
    now = time.time() if now is None else now
    scan = _Scan(_users(records), now - keep_recent_s, now)
    found = [*scan.packaged(root / PACKAGED_DIR), *scan.converted(root / CT2_DIR)]
    return sorted(found, key=lambda a: str(a.path))


def remove_leftovers(root: Path | None = None) -> tuple[int, int]:
    """Remove what killed writes and earlier versions left under `root` (default: the
    user cache directory): called by every run of a model engine, so leftovers do not
    wait for `cache prune`. Artefacts themselves are never touched here. (removed, bytes)"""
    found = scan_artefacts([], root)
    return remove_artefacts([a for a in found if a.leftover and a.prunable])


def remove_artefacts(artefacts: list[Artefact]) -> tuple[int, int]:
    """Remove each (renamed away first, then deleted); (removed, bytes freed). One that
    vanished meanwhile (another prune) is skipped."""
    removed = freed = 0
    # a checkpoint's weights before its folder: each counted as listed
    for artefact in sorted(artefacts, key=lambda a: -len(a.path.parts)):
        lock = _model_lock(artefact)
        with file_lock(lock, exclusive=True, wait=False) if lock else nullcontext(True) as held:
            if held and _remove(artefact.path):
                removed += 1
                freed += artefact.size_bytes
    return removed, freed


def _remove(path: Path) -> bool:
    """Rename away, then delete; False when it vanished meanwhile."""
    staging = path.with_name(f"{REMOVING_PREFIX}{path.name}{owner_tag()}")
    try:
        os.rename(path, staging)
    except FileNotFoundError:
        return False
    if staging.is_dir() and not staging.is_symlink():
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.unlink(missing_ok=True)
    return True


def _model_lock(artefact: Artefact) -> Path | None:
    """The lock of the packaged model an artefact belongs to (None for a conversion or a
    leftover: nothing else locks those); a process building or loading its files holds
    it, and the artefact then stays."""
    if artefact.kind not in ("gguf", CONFIG_KIND, WEIGHTS_KIND):
        return None
    model_folder = artefact.path.parent
    if artefact.kind == WEIGHTS_KIND:
        model_folder = model_folder.parent
    return model_folder / LOCK_FILE


def _users(records: list[RunRecord]) -> dict[str, Counter[str]]:
    """Artefact key -> system spec -> runs: `packaged:NAME` for a packaged model's GGUF
    and checkpoint, `ct2:FOLDER` for a conversion."""
    users: dict[str, Counter[str]] = {}
    for record in records:
        for system in record.systems:
            fp = system.fingerprint
            keys = []
            if fp.get("kind") == "packaged":
                keys.append(f"packaged:{fp.get('model')}")
                if fp.get("engine") != "ct2":  # loads the weights themselves
                    keys.append(f"weights:{fp.get('model')}")
            options = fp.get("options") if isinstance(fp.get("options"), dict) else {}
            if "ct2" in (fp.get("kind"), fp.get("engine")) and fp.get("revision"):
                compute_type = options.get("compute_type", "float32")
                keys.append(f"ct2:{conversion_name(str(fp['revision']), str(compute_type))}")
            for key in keys:
                users.setdefault(key, Counter())[system.spec] += 1
    return users


class _Scan:
    """Classifies what is found, folder by folder."""

    def __init__(self, users: dict[str, Counter[str]], spare_since: float, now: float) -> None:
        self.users = users
        self.spare_since = spare_since
        self.now = now

    def packaged(self, folder: Path) -> list[Artefact]:
        found = []
        for entry in _children(folder):
            model = PACKAGED_MODELS.get(entry.name)
            if model is None or not entry.is_dir():
                why = "a model this evalkit does not know"
                found.append(self._leftover(entry, entry.name, why))
                continue
            for item in _children(entry):
                if item.name != LOCK_FILE:
                    found.extend(self._packaged_items(model, item))
        return found

    def _packaged_items(self, model: PackagedModel, item: Path) -> list[Artefact]:
        users = self._user_list(f"packaged:{model.name}")
        rebuildable = not missing_parts(model)
        if item.name == model.gguf_name:
            reason = (
                "joined again from its packages when needed"
                if rebuildable
                else "kept: its packages are not installed, it could not be made again"
            )
            return [self._artefact(item, "gguf", model.name, users, rebuildable, reason)]
        if item.name == FLOAT_CHECKPOINT and (item / "config.json").is_file():
            gguf = item.parent / model.gguf_name
            source = "the GGUF" if gguf.is_file() else "its packages"
            weights = item / WEIGHTS_FILE
            found = []
            if weights.is_file():
                loaders = self._user_list(f"weights:{model.name}")
                reason, prunable = _verdict(loaders, rebuildable or gguf.is_file(), source, "load")
                found.append(
                    self._artefact(weights, WEIGHTS_KIND, model.name, loaders, prunable, reason)
                )
            reason, prunable = _verdict(users, rebuildable or gguf.is_file(), source, "use")
            files = self._artefact(item, CONFIG_KIND, model.name, users, prunable, reason)
            if weights.is_file():
                files = replace(files, size_bytes=files.size_bytes - found[0].size_bytes)
            return [files, *found]
        if item.name == FLOAT_CHECKPOINT:
            return [self._leftover(item, model.name, "not a finished checkpoint")]
        return [self._leftover(item, model.name, "not a name this evalkit makes")]

    def converted(self, folder: Path) -> list[Artefact]:
        found = []
        sources = {model.sha256[:24]: model.name for model in PACKAGED_MODELS.values()}
        for entry in _children(folder):
            slug, _, compute_type = entry.name.rpartition("-")
            complete = entry.is_dir() and (entry / "model.bin").is_file()
            if not complete or compute_type not in _COMPUTE_TYPES or entry.name.startswith("."):
                found.append(self._leftover(entry, entry.name, "not a finished conversion"))
                continue
            model = sources.get(slug, slug)
            users = self._user_list(f"ct2:{entry.name}")
            reason = "kept: stored runs use it" if users else "no stored run uses it"
            found.append(self._artefact(entry, "ct2 conversion", model, users, not users, reason))
        return found

    def _artefact(
        self, path: Path, kind: str, model: str, users: tuple[str, ...], prunable: bool, reason: str
    ) -> Artefact:
        if prunable and _last_use(path) >= self.spare_since:
            prunable, reason = False, "kept: used recently"
        return Artefact(path, kind, folder_size(path), model, users, prunable, reason)

    def _leftover(self, path: Path, model: str, why: str) -> Artefact:
        """A leftover, unless it is a temporary still being written."""
        match = _PID_TEMPORARY.match(path.name)
        ours = path.name.startswith(REMOVING_PREFIX) or (match is not None)
        if ours:
            young = _last_use(path) > self.now - LEFTOVER_AGE_S
            gone = writer_gone(path.name) if "~" in path.name else _pid_gone(match)
            if young or not gone:
                return Artefact(
                    path, "being written", folder_size(path), model, (), False, "its writer runs"
                )
            why = "left by a write that was stopped"
        return Artefact(path, "leftover", folder_size(path), model, (), True, why)

    def _user_list(self, key: str) -> tuple[str, ...]:
        counts = self.users.get(key, Counter())
        return tuple(f"{spec} ({n} run{'s' if n > 1 else ''})" for spec, n in counts.items())


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _pid_gone(match: re.Match[str] | None) -> bool:
    if match is None:
        return True
    pid = int(match.group(1) or match.group(2))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _last_use(path: Path) -> float:
    """The latest access or change time of the files that make up `path` (of files only:
    listing a folder, as this scan does, updates the folder's own access time)."""
    try:
        latest = path.stat().st_mtime
    except OSError:
        return 0.0
    for item in path.rglob("*") if path.is_dir() else (path,):
        try:
            if item.is_file():
                info = item.stat()
                latest = max(latest, info.st_atime, info.st_mtime)
        except OSError:
            continue
    return latest


def _verdict(users: Sequence[str], can_rebuild: bool, source: str, verb: str) -> tuple[str, bool]:
    """(why, prunable) of a checkpoint part: kept while stored runs `verb` it or while
    nothing here could make it again; otherwise prunable, made again from `source`."""
    if users:
        return f"kept: stored runs {verb} it", False
    if not can_rebuild:
        return "kept: neither its GGUF nor its packages are here", False
    return f"no stored run {verb}s it; made again from {source}", True
