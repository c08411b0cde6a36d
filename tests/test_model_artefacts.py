"""A packaged model's one-time files keep only what later runs read: once its CTranslate2
conversion is made and loads, the float32 checkpoint's weights and the joined GGUF go (the
config and tokenizer files stay); whatever needs the weights again makes them again from
the packages; what earlier versions left goes with the next run of the model; and two
processes never see the files half made or half gone (real processes).

On a tiny model built here (tests/tiny_packaged.py), through the same code as the shipped
models: no test here reads or asserts anything of the real packaged models.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.engines import create_system
from evalkit.engines.ct2 import conversion_dir, convert_once, is_converted
from evalkit.engines.model_source import ModelSource
from evalkit.engines.packaged_models import (
    PACKAGED_MODELS,
    WEIGHTS_FILE,
    PackagedModel,
    assemble_gguf,
    float_checkpoint_dir,
    gguf_path,
    prepare_float_checkpoint,
)
from evalkit.housekeeping.artefacts import remove_artefacts, scan_artefacts
from tests.tiny_packaged import NAME, SENTENCE, TASKS, build_tiny_packaged, write_spec

pytest.importorskip("gguf")
pytest.importorskip("ctranslate2")
pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[PackagedModel, Path]:
    return build_tiny_packaged(tmp_path_factory.mktemp("tiny-packaged"))


@pytest.fixture
def model(built, private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> PackagedModel:
    """The tiny model, registered, its part packages findable, on an empty user cache."""
    tiny, site = built
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(PACKAGED_MODELS, NAME, tiny)
    return tiny


def translate(task: str) -> str:
    engine = create_system(TASKS[task]).system
    try:
        (output,) = engine.translate([SENTENCE], "ar", "en")
    finally:
        engine.close()
    return output


def weights(model: PackagedModel) -> Path:
    return float_checkpoint_dir(model) / WEIGHTS_FILE


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def conversion(model: PackagedModel, compute_type: str = "float32") -> Path:
    return conversion_dir(f"gguf-sha256:{model.sha256}", compute_type)


def hidden_entries(root: Path) -> list[Path]:
    """Temporaries and removals in progress (a lock file is neither)."""
    return [p for p in root.rglob(".*") if p.name != ".lock"]


def test_the_weights_and_the_gguf_go_once_the_conversion_loads(model, private_cache):
    output = translate("ct2")
    assert output
    assert is_converted(conversion(model))
    folder = float_checkpoint_dir(model)
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert not weights(model).exists()
    assert not gguf_path(model).exists()
    assert not hidden_entries(private_cache)
    kinds = sorted(a.kind for a in scan_artefacts([], private_cache / "evalkit"))
    assert kinds == ["config and tokenizer", "ct2 conversion"]
    # a rerun reads the conversion and the small files only, and translates the same
    assert translate("ct2") == output
    assert not weights(model).exists()


def test_weights_are_made_again_when_needed(model):
    first = digest(prepare_float_checkpoint(model) / WEIGHTS_FILE)
    fingerprint = create_system(TASKS["ct2"]).system.fingerprint()
    translate("ct2")
    assert not weights(model).exists()
    # the same system after: the same fingerprint (its cached translations still apply)
    assert create_system(TASKS["ct2"]).system.fingerprint() == fingerprint

    translate("transformers")  # loads the weights: made again from the packages
    assert digest(weights(model)) == first
    assert not gguf_path(model).exists()

    translate("int8")  # a new conversion reads them, then they go again
    assert is_converted(conversion(model, "int8"))
    assert not weights(model).exists()
    # vLLM and the benches ask for the checkpoint itself
    assert digest(prepare_float_checkpoint(model) / WEIGHTS_FILE) == first


def test_leftovers_of_earlier_versions_go_with_the_next_run(model, monkeypatch):
    """An earlier version kept the GGUF and the whole checkpoint beside the conversion."""
    folder = prepare_float_checkpoint(model)
    assemble_gguf(model)
    convert_once(ModelSource(NAME, folder, f"gguf-sha256:{model.sha256}"), "float32")
    assert weights(model).exists() and gguf_path(model).exists()

    # a run of the model on transformers reads the weights: they stay, the GGUF goes
    create_system(TASKS["transformers"]).system.fingerprint()
    assert weights(model).exists() and not gguf_path(model).exists()

    # a CTranslate2 run of it, even one whose units are all cached (no model loaded)
    assemble_gguf(model)
    create_system(TASKS["ct2"]).system.fingerprint()
    assert not weights(model).exists() and not gguf_path(model).exists()
    assert (folder / "config.json").is_file()


def test_a_gguf_its_packages_cannot_join_again_stays(model, monkeypatch):
    from evalkit.engines import packaged_models

    prepare_float_checkpoint(model)
    convert_once(ModelSource(NAME, float_checkpoint_dir(model), f"gguf-sha256:{model.sha256}"),
                 "float32")  # fmt: skip
    assemble_gguf(model)
    monkeypatch.setattr(packaged_models, "missing_parts", lambda m: ["tiny-packaged-part1==1.0"])
    create_system(TASKS["ct2"]).system.fingerprint()
    assert not weights(model).exists()
    assert gguf_path(model).exists()  # the only source left of the weights


def _driver(spec: Path, *tasks: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tiny_packaged", str(spec), *tasks],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # real processes
def test_weights_another_process_holds_stay(model, built, private_cache, tmp_path):
    """While another process loads the weights (holds the model's lock, shared), neither a
    finished conversion nor `cache prune` removes them; the next run does."""
    spec = write_spec(model, built[1], tmp_path / "spec.json")
    holder = _driver(spec, "hold", "60")
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()  # once it holds them
        assert line.startswith("holding"), line + (holder.stderr.read() if holder.stderr else "")
        translate("ct2")  # converts (a shared read), then cannot remove them
        assert is_converted(conversion(model)) and weights(model).exists()
        found = scan_artefacts([], private_cache / "evalkit", keep_recent_s=0)
        held = [a for a in found if a.path == weights(model)]
        assert held and held[0].prunable
        assert remove_artefacts(held) == (0, 0) and weights(model).exists()
    finally:
        holder.kill()
        holder.communicate()
    translate("ct2")  # the next run: nobody holds them
    assert not weights(model).exists()


@pytest.mark.slow  # real processes
def test_two_processes_at_once(model, built, private_cache, tmp_path):
    """Two processes start on an empty cache at once, each making, converting, loading
    and removing the same model's files in its own order: both finish, with the same
    outputs, and leave no half-made or half-removed file."""
    spec = write_spec(model, built[1], tmp_path / "spec.json")
    orders = [("ct2", "transformers", "int8"), ("transformers", "int8", "ct2")]
    started = time.monotonic()
    processes = [_driver(spec, *order) for order in orders]
    outputs: dict[str, set[str]] = {}
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
        for line in stdout.splitlines():
            for task, text in json.loads(line).items():
                outputs.setdefault(task, set()).add(text)
    assert {task: len(texts) for task, texts in outputs.items()} == dict.fromkeys(TASKS, 1)
    assert time.monotonic() - started < 600
    assert is_converted(conversion(model)) and is_converted(conversion(model, "int8"))
    assert not hidden_entries(private_cache)
    # here, the same model on the same files translates as they did
    assert translate("ct2") in outputs["ct2"]
    assert not weights(model).exists() and not gguf_path(model).exists()
