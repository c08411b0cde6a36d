"""A GGUF file turned into a float32 transformers checkpoint, one tensor at a time.

transformers can load a GGUF itself, but it dequantizes every tensor first and then
copies them into the model: two float32 copies of the weights at once, about 9.8 GB of
peak memory for the packaged 1.5B model. Here the checkpoint is written the way
`save_pretrained` would write it (the same config files, the same single
`model.safetensors`, byte for byte), but each tensor is dequantized, written and
dropped before the next one, so the peak is one tensor plus the memory-mapped GGUF.

The GGUF-to-transformers naming and per-architecture fix-ups are transformers' own
(`modeling_gguf_pytorch_utils`); only the order of work differs.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

#: safetensors aligns the start of the tensor data to 8 bytes, padding the header with spaces
_HEADER_ALIGNMENT = 8


@dataclass(frozen=True)
class TensorPlan:
    """One tensor of the checkpoint: its name and shape, known before any data is made."""

    name: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * 4


def safetensors_header(plans: list[TensorPlan], metadata: dict[str, str]) -> bytes:
    """The header `safetensors.torch.save_file` writes for these float32 tensors: sorted
    by name, offsets in that order, compact JSON padded with spaces to 8 bytes."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for plan in sorted(plans, key=lambda p: p.name):
        header[plan.name] = {
            "dtype": "F32",
            "shape": list(plan.shape),
            "data_offsets": [offset, offset + plan.nbytes],
        }
        offset += plan.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % _HEADER_ALIGNMENT)
    return struct.pack("<Q", len(raw)) + raw


def write_safetensors(
    path: Path,
    plans: list[TensorPlan],
    make: Callable[[TensorPlan], np.ndarray],
    metadata: dict[str, str],
) -> None:
    """Write a float32 safetensors file whose tensors are made one at a time by `make`."""
    with open(path, "wb") as out:
        out.write(safetensors_header(plans, metadata))
        for plan in sorted(plans, key=lambda p: p.name):
            _write_tensor(out, plan, make(plan))


def _write_tensor(out: BinaryIO, plan: TensorPlan, array: np.ndarray) -> None:
    if tuple(array.shape) != plan.shape:
        raise ValueError(f"tensor {plan.name}: shape {tuple(array.shape)}, expected {plan.shape}")
    out.write(memoryview(np.ascontiguousarray(array, dtype="<f4")).cast("B"))


def dequantize_by_rows(data: np.ndarray, qtype: Any, rows: int = 1024) -> np.ndarray:
    """gguf-py's dequantize, a block of rows at a time: it makes several float32
    temporaries the size of its input, which for a 150k-token embedding matrix is
    gigabytes. Rows are independent (blocks run along the last axis), so the result is
    the same."""
    from gguf.quants import dequantize

    if data.ndim < 2 or data.shape[0] <= rows:
        return dequantize(data, qtype)
    first = dequantize(data[:rows], qtype)
    result = np.empty((data.shape[0], *first.shape[1:]), dtype=first.dtype)
    result[:rows] = first
    for start in range(rows, data.shape[0], rows):
        result[start : start + rows] = dequantize(data[start : start + rows], qtype)
    return result


@contextmanager
def one_reader_per_file() -> Iterator[None]:
    """Within the block, every `gguf.GGUFReader` of one file is the same parsed object.

    transformers parses the whole GGUF anew for the config, for the tokenizer and for the
    checkpoint's metadata, and this module once more for the tensors: four parses of the
    metadata, each walking the 151k-token vocabulary field by field (most of the
    preparation's time on 2 cores). A reader only maps the file and reads its fields, so
    one can serve all four; what they read is unchanged."""
    import gguf

    original = gguf.GGUFReader
    readers: dict[tuple[str, str], Any] = {}

    def shared(path: Any, mode: str = "r") -> Any:
        key = (str(Path(path).resolve()), mode)
        if key not in readers:
            readers[key] = original(path, mode)
        return readers[key]

    gguf.GGUFReader = shared  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        gguf.GGUFReader = original  # type: ignore[misc]


def gguf_to_checkpoint(gguf: Path, target: Path) -> None:
    """Write config, generation config and model.safetensors of the GGUF's model into
    `target` (an existing, empty folder), as `save_pretrained` of the model transformers
    loads from the GGUF in float32 would."""
    import torch
    from gguf import GGUFReader
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import (
        TENSOR_PROCESSORS,
        TensorProcessor,
        get_gguf_hf_weights_map,
        load_gguf_checkpoint,
    )

    parsed = load_gguf_checkpoint(str(gguf))  # metadata only, no tensors
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config.dtype = torch.float32
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    reader = GGUFReader(gguf)
    architecture = _architecture(reader)
    processor = TENSOR_PROCESSORS.get(architecture, TensorProcessor)(config=parsed["config"])
    hf_name_of = get_gguf_hf_weights_map(skeleton, processor)
    source_of = {hf_name_of[t.name]: t for t in reader.tensors if t.name in hf_name_of}
    plans = _plans(skeleton, source_of)

    def make(plan: TensorPlan) -> np.ndarray:
        tensor = source_of[plan.name]
        weights = dequantize_by_rows(tensor.data, tensor.tensor_type)
        result = processor.process(
            weights=weights,
            name=tensor.name,
            tensor_key_mapping=hf_name_of,
            parsed_parameters={"config": parsed["config"], "tensors": {}},
        )
        if hf_name_of.get(result.name) != plan.name:
            raise ValueError(f"GGUF tensor {tensor.name} did not map to {plan.name}")
        return result.weights

    skeleton.config.architectures = [type(skeleton).__name__]
    skeleton.config.save_pretrained(target)
    if skeleton.can_generate():
        skeleton.generation_config.save_pretrained(target)
    write_safetensors(target / "model.safetensors", plans, make, {"format": "pt"})


def _architecture(reader: Any) -> str:
    field = reader.fields["general.architecture"]
    return bytes(field.parts[field.data[0]]).decode()


def _plans(skeleton: Any, source_of: dict[str, Any]) -> list[TensorPlan]:
    """The tensors save_pretrained would write: the model's state dict without tied
    copies; each must come from the GGUF."""
    state = skeleton.state_dict(keep_vars=True)
    tied = _tied_names(skeleton, state)
    plans = []
    for name, value in state.items():
        if name in tied:
            continue
        if name not in source_of:
            raise ValueError(f"the GGUF has no tensor for {name}")
        plans.append(TensorPlan(name, tuple(value.shape)))
    return plans


def _tied_names(skeleton: Any, state: dict[str, Any]) -> set[str]:
    """Names save_pretrained leaves out because they are the same weight as another one:
    the output matrix of a model whose embeddings are tied."""
    output = skeleton.get_output_embeddings()
    shared = skeleton.get_input_embeddings().weight
    if output is None or output.weight is not shared:
        return set()
    kept = next(name for name, value in state.items() if value is shared)
    return {name for name, value in state.items() if value is shared and name != kept}
