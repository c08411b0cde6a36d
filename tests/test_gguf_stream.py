"""The streamed GGUF conversion writes what save_pretrained writes, byte for byte.

The file-format half is checked against safetensors itself on random tensors; the
conversion half on a small GGUF written here with gguf-py (quantized like the packaged
models) against transformers' own load-then-save path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from evalkit.engines.gguf_stream import TensorPlan, write_safetensors
from tests.tiny_gguf import write_tiny_qwen2_gguf as write_qwen2_gguf

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def random_tensors(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [f"layer.{rng.integers(0, 40)}.w{i}" for i in range(int(rng.integers(1, 12)))]
    return {
        name: rng.standard_normal(tuple(rng.integers(1, 9, size=int(rng.integers(1, 4))))).astype(
            np.float32
        )
        for name in names
    }


@pytest.mark.parametrize("seed", range(8))
def test_streamed_safetensors_equal_save_file(tmp_path: Path, seed: int) -> None:
    tensors = random_tensors(seed)
    reference = tmp_path / "reference.safetensors"
    safetensors_torch.save_file(
        {name: torch.from_numpy(a) for name, a in tensors.items()}, reference, {"format": "pt"}
    )
    streamed = tmp_path / "streamed.safetensors"
    plans = [TensorPlan(name, a.shape) for name, a in tensors.items()]
    made: list[str] = []

    def make(plan: TensorPlan) -> np.ndarray:
        made.append(plan.name)
        return tensors[plan.name]

    write_safetensors(streamed, plans, make, {"format": "pt"})
    assert streamed.read_bytes() == reference.read_bytes()
    assert sorted(made) == sorted(tensors)  # each tensor made once


def test_a_wrong_shape_is_refused(tmp_path: Path) -> None:
    plan = TensorPlan("w", (2, 3))
    with pytest.raises(ValueError, match="shape"):
        write_safetensors(tmp_path / "x.safetensors", [plan], lambda p: np.zeros((3, 2)), {})


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def write_tiny_qwen2_gguf(path: Path, tied: bool) -> None:
    """A two-layer Qwen2 GGUF with random weights, its matrices Q8_0-quantized."""
    write_qwen2_gguf(path, [f"t{i}" for i in range(96)], tied=tied)


def save_pretrained_of(gguf_file: Path, target: Path) -> None:
    """transformers' own path: load the whole GGUF in float32, then save it."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32
    )
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(target)


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_streamed_checkpoint_equals_save_pretrained(tmp_path: Path, tied: bool) -> None:
    pytest.importorskip("gguf")
    from evalkit.engines.gguf_stream import gguf_to_checkpoint

    gguf_file = tmp_path / "tiny.gguf"
    write_tiny_qwen2_gguf(gguf_file, tied)
    save_pretrained_of(gguf_file, tmp_path / "reference")
    (tmp_path / "streamed").mkdir()
    gguf_to_checkpoint(gguf_file, tmp_path / "streamed")
    assert digests(tmp_path / "streamed") == digests(tmp_path / "reference")


@pytest.mark.parametrize("qtype", ["Q8_0", "F16", "F32"])
def test_dequantizing_by_rows_equals_all_at_once(qtype: str) -> None:
    gguf = pytest.importorskip("gguf")
    from evalkit.engines.gguf_stream import dequantize_by_rows

    kind = gguf.GGMLQuantizationType[qtype]
    values = np.random.default_rng(1).standard_normal((37, 64)).astype(np.float32)
    data = gguf.quants.quantize(values, kind)
    whole = gguf.quants.dequantize(data, kind)
    assert np.array_equal(dequantize_by_rows(data, kind, rows=5), whole)


def test_one_reader_serves_the_checkpoint_config_and_metadata(tmp_path: Path, monkeypatch) -> None:
    gguf = pytest.importorskip("gguf")
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    from evalkit.engines.gguf_stream import gguf_to_checkpoint, one_reader_per_file

    gguf_file = tmp_path / "tiny.gguf"
    write_tiny_qwen2_gguf(gguf_file, tied=False)
    parses: list[str] = []
    original = gguf.GGUFReader

    def counted(path, mode="r"):
        parses.append(str(path))
        return original(path, mode)

    monkeypatch.setattr(gguf, "GGUFReader", counted)
    (tmp_path / "shared").mkdir()
    with one_reader_per_file():
        gguf_to_checkpoint(gguf_file, tmp_path / "shared")
        load_gguf_checkpoint(str(gguf_file))
    assert len(parses) == 1
    assert gguf.GGUFReader is counted  # put back after the block
    (tmp_path / "alone").mkdir()
    gguf_to_checkpoint(gguf_file, tmp_path / "alone")
    assert len(parses) > 2  # without the block each step parses the file again
    assert digests(tmp_path / "shared") == digests(tmp_path / "alone")
