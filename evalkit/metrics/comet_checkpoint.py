"""Finding and reading a COMET checkpoint without unbabel-comet.

A published COMET model is a folder: `hparams.yaml` (the model class, the encoder's hub
id, the head's shape) and `checkpoints/model.ckpt` (a Lightning checkpoint whose
`state_dict` holds every weight, the encoder's included). Only the encoder's config and
tokenizer come from elsewhere: the hub id in the hparams, or a local copy (`encoder=FOLDER`)
for offline use; unbabel-comet's own `load_from_checkpoint` always asks the hub for them.

The checkpoint is a pickle. It is read with `torch.load(weights_only=True)`, which runs no
code; the few Lightning classes a checkpoint may name besides tensors (its hyperparameter
dict) are read as plain dicts, and anything else is refused with its name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from evalkit.errors import UserInputError
from evalkit.metrics.base import MetricUnavailable

CHECKPOINT_IN_REPO = "checkpoints/model.ckpt"
HPARAMS = "hparams.yaml"
#: what an encoder folder must hold: its config and tokenizer (no weights: the checkpoint
#: has them)
ENCODER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "vocab.txt",
)
#: where to get the published checkpoints, for messages
WHERE = "https://huggingface.co/Unbabel"
#: Lightning classes a checkpoint may pickle beside tensors; they are read as dicts
_LIGHTNING_DICTS = (
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
)
#: model classes (hparams `class_identifier`) the native loader knows
REGRESSION = "regression_metric"
REFERENCELESS = "referenceless_regression_metric"
UNIFIED = "unified_metric"
XCOMET = "xcomet_metric"
MODEL_CLASSES = (REGRESSION, REFERENCELESS, UNIFIED, XCOMET)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: `owner/name` as the hub spells repositories (a path like /models/x is not one)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


class CometCheckpointError(UserInputError):
    """A checkpoint that is here but cannot be used: no hparams, a class or encoder
    evalkit does not know, weights that do not fit the model the hparams describe."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint on disk: its `.ckpt` file and the hparams beside it."""

    path: Path
    hparams: dict[str, Any]

    @property
    def model_class(self) -> str:
        return str(self.hparams.get("class_identifier", ""))


def resolve_checkpoint(
    spec: str, metric: str = "comet", cache_dir: str | Path | None = None
) -> Path:
    """The local `.ckpt` file of a spec, or MetricUnavailable saying how to get it.

    A spec is a `.ckpt` file, a folder holding `checkpoints/model.ckpt`, or a hub id
    (`owner/name`): looked up in the local Hugging Face cache (`cache_dir`, by default the
    usual one), then downloaded when there is a network (not with HF_HUB_OFFLINE=1).
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        if (path / CHECKPOINT_IN_REPO).is_file():
            return path / CHECKPOINT_IN_REPO
        raise MetricUnavailable(metric, f"{spec} has no {CHECKPOINT_IN_REPO}")
    if spec.endswith(".ckpt") or not _HUB_ID.match(spec):
        raise MetricUnavailable(metric, f"no checkpoint at {spec}; get one from {WHERE}")
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(spec, CHECKPOINT_IN_REPO, cache_dir=cache_dir)
    if isinstance(cached, str) and Path(cached).is_file():
        return Path(cached)
    how = (
        f"fetch it once with `huggingface-cli download {spec}`, or give a model folder: "
        f"--metric {metric}:PATH (published models: {WHERE})"
    )
    if not hub_reachable():
        raise MetricUnavailable(metric, f"checkpoint {spec} is not in the local cache: {how}")
    try:
        hf_hub_download(spec, HPARAMS, cache_dir=cache_dir)
        return Path(hf_hub_download(spec, CHECKPOINT_IN_REPO, cache_dir=cache_dir))
    except Exception as exc:  # gated (CometKiwi needs its licence accepted), absent
        raise MetricUnavailable(
            metric, f"checkpoint {spec} could not be downloaded ({type(exc).__name__}): {how}"
        ) from None


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a download can be tried: not with HF_HUB_OFFLINE set, nor when the hub's
    host cannot be reached directly (huggingface_hub would retry for half a minute).
    Behind a proxy (HTTPS_PROXY) the download is simply tried."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    if os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return True
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        socket.create_connection((host or "huggingface.co", 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint at `path` with the `hparams.yaml` of its model folder."""
    import yaml

    hparams_file = path.parents[1] / HPARAMS if len(path.parents) > 1 else path.parent / HPARAMS
    if not hparams_file.is_file():
        raise CometCheckpointError(
            f"{HPARAMS} is missing beside {path.parent} (a COMET model folder holds "
            f"{HPARAMS} and {CHECKPOINT_IN_REPO})"
        )
    hparams = yaml.safe_load(hparams_file.read_text(encoding="utf-8")) or {}
    if not isinstance(hparams, dict):
        raise CometCheckpointError(f"{hparams_file} is not a mapping")
    return Checkpoint(path, hparams)


def load_state_dict(path: Path) -> dict[str, Any]:
    """The checkpoint's weights, read without running pickled code."""
    import pickle

    import torch

    # the Lightning dict classes a checkpoint names are built as plain dicts (never their
    # code): the only classes weights_only reading lets hold items are dicts
    allowed = [(dict, name) for name in _LIGHTNING_DICTS]
    try:
        with torch.serialization.safe_globals(allowed):
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CometCheckpointError(
            f"{path} holds objects other than weights, which are not loaded: {exc}"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise CometCheckpointError(f"cannot read {path}: {exc}") from None
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict) or not state:
        raise CometCheckpointError(f"{path} has no state_dict")
    return state


@lru_cache(maxsize=16)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_sha256(path: Path) -> str:
    """The SHA-256 of the checkpoint file, for signatures: the hub's cache names a file by
    it (`blobs/<sha256>`), so a hub checkpoint is not read again; others are hashed once
    per process."""
    real = path.resolve()
    if _SHA256.match(real.name) and real.parent.name == "blobs":
        return real.name
    stat = real.stat()
    return _file_sha256(str(real), stat.st_size, stat.st_mtime_ns)


def folder_sha256(folder: Path) -> str:
    """One hash of an encoder folder's config and tokenizer files: what a local copy
    changes in the scores."""
    digest = hashlib.sha256()
    for name in ENCODER_FILES:
        file = folder / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def resolve_encoder(hub_id: str, folder: str | None, metric: str = "comet") -> Path:
    """The local folder with the encoder's config and tokenizer: `folder` when given, the
    hparams' `pretrained_model` when it is a folder, else the hub id's files from the
    local Hugging Face cache or (with a network) the hub: config and tokenizer only,
    never the encoder's weights, which the checkpoint holds."""
    if folder is not None:
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file():
            raise UserInputError(f"encoder={folder}: no config.json there")
        return path
    if Path(hub_id).expanduser().is_dir():
        return Path(hub_id).expanduser()
    from huggingface_hub import snapshot_download

    patterns = list(ENCODER_FILES)
    how = (
        f"fetch its config and tokenizer with `huggingface-cli download {hub_id} "
        f"{' '.join(ENCODER_FILES[:5])}`, or give a local copy: ,encoder=FOLDER"
    )
    try:
        return Path(snapshot_download(hub_id, allow_patterns=patterns, local_files_only=True))
    except Exception:
        if not hub_reachable():
            raise MetricUnavailable(
                metric, f"the encoder {hub_id!r} is not in the local cache: {how}"
            ) from None
    try:
        return Path(snapshot_download(hub_id, allow_patterns=patterns))
    except Exception as exc:
        raise MetricUnavailable(
            metric, f"the encoder {hub_id!r} could not be downloaded ({type(exc).__name__}): {how}"
        ) from None
