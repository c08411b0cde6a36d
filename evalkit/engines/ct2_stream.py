"""CTranslate2 conversion of a float32 checkpoint without holding the float32 weights.

`TransformersConverter` loads the whole model (6.6 GiB for the packaged 1.5B in float32),
builds CTranslate2's specification from it and only then quantizes, so the float32
weights and their int8 copies are all in memory at once (8.75 GiB peak). Here the
model's parameters are views of a private memory map of `model.safetensors`, which
CTranslate2's loader reads like any tensors; once the specification is built, the
mapping's pages are handed back to the kernel, and each weight is then read from the file
into fresh memory when it is quantized or written out, one at a time. What stays in
memory is the output (the int8 weights), the tensors the converter computes itself (the
fused QKV matrices) and one float32 weight at a time.

Everything else is CTranslate2's own code: its loader for the architecture builds the
specification, its `validate`, `optimize` (aliasing, quantization) and `save` run
unchanged, so the folder written is byte for byte the one `TransformersConverter`
writes (tests/test_ct2_stream.py). Only the variables' storage differs (`MappedVariable`).

Not streamed (the plain converter is used, as before): architectures other than those in
`STREAMED_ARCHITECTURES` (encoder-decoder models among them), checkpoints that are not one
`model.safetensors` file (sharded, `.bin`), tensors that are not float32, a config asking
for another dtype, and any model whose loading does not map every parameter onto the file.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import mmap
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

#: Configs whose CTranslate2 loader only reads the model's weights (no in-place edits,
#: checked at run time anyway) and whose output was checked byte for byte against the
#: plain converter.
STREAMED_ARCHITECTURES = frozenset({"Qwen2ForCausalLM", "LlamaForCausalLM"})
WEIGHTS = "model.safetensors"
#: elements compared before two same-shaped weights are hashed in full
_QUICK_ELEMENTS = 1024
#: elements hashed or compared at a time, so no whole float32 copy is made
_CHUNK_ELEMENTS = 1 << 22
_TORCH_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def streamable(folder: Path) -> bool:
    """Whether `folder` is a checkpoint this module converts (cheap: reads config.json
    and the safetensors header only)."""
    config_file, weights = folder / "config.json", folder / WEIGHTS
    if not config_file.is_file() or not weights.is_file():
        return False
    if (folder / f"{WEIGHTS}.index.json").exists():
        return False
    config = json.loads(config_file.read_text(encoding="utf-8"))
    architectures = config.get("architectures") or []
    if len(architectures) != 1 or architectures[0] not in STREAMED_ARCHITECTURES:
        return False
    if config.get("quantization_config") or config.get("is_encoder_decoder"):
        return False
    if (config.get("dtype") or config.get("torch_dtype") or "float32") != "float32":
        return False
    try:
        header, _ = read_header(weights)
    except (ValueError, OSError):
        return False
    return all(entry["dtype"] == "F32" for entry in header.values())


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The safetensors header's tensor entries, and where the tensor data starts."""
    with open(path, "rb") as file:
        raw = file.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: not a safetensors file")
        (length,) = struct.unpack("<Q", raw)
        header = json.loads(file.read(length))
    header.pop("__metadata__", None)
    return header, 8 + length


class MappedCheckpoint:
    """A safetensors file mapped privately (copy on write: nothing can reach the file),
    its tensors as zero-copy torch views."""

    def __init__(self, path: Path) -> None:
        import torch

        header, data_start = read_header(path)
        self.file = open(path, "rb")  # noqa: SIM115 (open for the checkpoint's lifetime)
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_COPY)
        self.size = len(self.map)
        self.tensors: dict[str, Any] = {}
        for name, entry in header.items():
            dtype = getattr(torch, _TORCH_DTYPES[entry["dtype"]])
            begin, end = (data_start + offset for offset in entry["data_offsets"])
            count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
            shape = tuple(entry["shape"])
            if count == 0:
                self.tensors[name] = torch.empty(shape, dtype=dtype)
                continue
            flat = torch.frombuffer(self.map, dtype=dtype, count=count, offset=begin)
            self.tensors[name] = flat.view(shape)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))

    def region_of(self, tensor: Any) -> tuple[int, int] | None:
        """(offset, length) of a contiguous tensor lying in the file's mapping, else None."""
        if tensor.device.type != "cpu" or not tensor.is_contiguous():
            return None
        start = tensor.data_ptr() - self.base
        length = tensor.numel() * tensor.element_size()
        if length == 0 or start < 0 or start + length > self.size:
            return None
        return start, length

    def read(self, start: int, length: int) -> bytearray:
        """A fresh copy of a byte range, read from the file (the page cache) rather than
        through the mapping: no page of the mapping is touched, and a plain read is
        several times faster than faulting the mapping's pages in."""
        data = bytearray(length)
        view = memoryview(data)
        done = 0
        while done < length:
            count = os.preadv(self.file.fileno(), [view[done:]], start + done)
            if count <= 0:
                raise OSError(f"{self.file.name}: short read at byte {start + done}")
            done += count
        return data

    def release(self, start: int = 0, length: int | None = None) -> None:
        """Hand the pages of a byte range back to the kernel: they leave this process's
        resident set and are read from the page cache again if touched. The mapping is
        never written (see `written_bytes`), so nothing is lost."""
        length = self.size - start if length is None else length
        page = mmap.PAGESIZE
        first = start - start % page
        last = min(self.size, -(-(start + length) // page) * page)
        if last > first:
            self.map.madvise(mmap.MADV_DONTNEED, first, last - first)

    def written_bytes(self) -> int:
        """Bytes of the mapping that were written (private copies made by a write), from
        /proc/self/smaps; 0 where that file cannot be read."""
        try:
            lines = Path("/proc/self/smaps").read_text().splitlines()
        except OSError:
            return 0
        inside = False
        for line in lines:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:
                low, high = (int(part, 16) for part in head.split("-"))
                inside = low <= self.base < high
            elif inside and line.startswith("Anonymous:"):
                return int(line.split()[1]) * 1024
        return 0


def _torch_variable_class() -> type:
    """`MappedVariable`, made on first use so that importing this module imports neither
    torch nor CTranslate2."""
    global _MAPPED_VARIABLE
    if _MAPPED_VARIABLE is None:
        _MAPPED_VARIABLE = _make_mapped_variable()
    return _MAPPED_VARIABLE


_MAPPED_VARIABLE: type | None = None


def _make_mapped_variable() -> type:
    import torch
    from ctranslate2.specs.model_spec import PyTorchVariable, Variable

    class MappedVariable(Variable):
        """A torch variable, as CTranslate2's `PyTorchVariable`, whose tensor may be a view
        of the mapped checkpoint. Such a view is only ever copied: `numpy` and `to_bytes`
        read a fresh copy from the file, `to` casts into fresh memory and releases the
        pages it read.
        `equal` compares a few elements, then content digests (computed once), and only
        confirms with `torch.equal` where the digests match, so aliasing does not read
        every pair of weights."""

        def __init__(self, tensor: Any, checkpoint: MappedCheckpoint) -> None:
            if isinstance(tensor, torch.nn.Parameter):
                tensor = tensor.data
            self.checkpoint = checkpoint
            self.region = checkpoint.region_of(tensor)
            self.tensor = tensor if self.region is not None else tensor.contiguous()
            self._quick: bytes | None = None
            self._digest: bytes | None = None

        @property
        def shape(self) -> list[int]:
            return list(self.tensor.shape)

        @property
        def dtype(self) -> str:
            return str(self.tensor.dtype).replace("torch.", "")

        def _release(self) -> None:
            if self.region is not None:
                self.checkpoint.release(*self.region)

        def numpy(self) -> np.ndarray:
            if self.region is None:
                return self.tensor.detach().numpy()
            data = self.checkpoint.read(*self.region)
            return np.frombuffer(data, dtype=self.dtype).reshape(self.shape)

        def num_bytes(self) -> int:
            return self.tensor.numel() * self.tensor.element_size()

        def to_bytes(self) -> bytes:
            if self.region is not None:
                return self.checkpoint.read(*self.region)  # type: ignore[return-value]
            return PyTorchVariable.to_bytes(self)

        def _to(self, dtype: str) -> Variable:
            converted = self.tensor.to(getattr(torch, dtype))
            self._release()
            self.tensor, self.region = converted, None
            return self

        def _flat_chunks(self) -> Any:
            flat = self.tensor.reshape(-1)
            for begin in range(0, flat.numel(), _CHUNK_ELEMENTS):
                yield flat[begin : begin + _CHUNK_ELEMENTS]

        def _quick_key(self) -> bytes:
            if self._quick is None:
                self._quick = _canonical_bytes(self.tensor.reshape(-1)[:_QUICK_ELEMENTS])
            return self._quick

        def _full_digest(self) -> bytes:
            if self._digest is None:
                digest = hashlib.blake2b(digest_size=32)
                for chunk in self._flat_chunks():
                    digest.update(_canonical_bytes(chunk))
                self._digest = digest.digest()
                self._release()
            return self._digest

        def _equal(self, other: Any) -> bool:
            # PyTorchVariable's test is `a is b or (same dtype and torch.equal(a, b))`;
            # equal elements have equal canonical bytes (-0.0 + 0 is 0.0), so different
            # quick keys or digests mean torch.equal is False, and matching ones are
            # confirmed by torch.equal itself.
            a, b = self.tensor, other.tensor
            if a is b:
                return True
            if a.dtype != b.dtype or a.shape != b.shape:
                return False
            if self._quick_key() != other._quick_key():
                return False
            if self._full_digest() != other._full_digest():
                return False
            same = all(
                torch.equal(x, y)
                for x, y in zip(self._flat_chunks(), other._flat_chunks(), strict=True)
            )
            self._release()
            other._release()
            return same

    return MappedVariable


def _canonical_bytes(chunk: Any) -> bytes:
    """The chunk's bytes with -0.0 turned into 0.0, so equal floats hash alike."""
    import torch

    if chunk.is_floating_point():
        chunk = chunk + 0
    return chunk.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def streamed_converter(folder: Path) -> Any:
    """A `TransformersConverter` for `folder` whose model is the mapped checkpoint; its
    `convert` is the converter's own. Where the model cannot be mapped (a parameter the
    file lacks, a loader that writes into its weights), it loads the whole model instead,
    as the plain converter does."""
    import ctranslate2

    class StreamedConverter(ctranslate2.converters.TransformersConverter):
        checkpoint: MappedCheckpoint | None = None
        mapped = True

        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            if not self.mapped:
                return super().load_model(model_class, model_name_or_path, **kwargs)
            self.checkpoint = MappedCheckpoint(Path(model_name_or_path) / WEIGHTS)
            return _mapped_model(model_class, kwargs["config"], self.checkpoint)

        def convert(self, *args: Any, **kwargs: Any) -> str:
            try:
                return super().convert(*args, **kwargs)
            finally:
                if self.checkpoint is not None:
                    self.checkpoint.file.close()

        def _load(self) -> Any:
            try:
                spec = super()._load()
                checkpoint = self.checkpoint
                if checkpoint is None:
                    raise RuntimeError("the loader did not load the model")
                if checkpoint.written_bytes():
                    raise RuntimeError("the loader wrote into the mapped checkpoint")
                _wrap_tensors(spec, checkpoint)
            except (ValueError, RuntimeError) as error:
                _note_fallback(error)
                self.mapped, self.checkpoint = False, None
                return super()._load()
            checkpoint.release()
            return spec

    return StreamedConverter(str(folder), low_cpu_mem_usage=True)


def _note_fallback(error: Exception) -> None:
    import warnings

    warnings.warn(
        f"streamed conversion not possible ({error}); loading the whole model", stacklevel=3
    )


def _mapped_model(model_class: Any, config: Any, checkpoint: MappedCheckpoint) -> Any:
    """The model with its parameters assigned from the mapped checkpoint, as
    `from_pretrained` would load it (tied weights tied); refuses anything left unset."""
    import torch

    with torch.device("meta"):
        model = model_class._from_config(config, dtype=torch.float32)
    result = model.load_state_dict(checkpoint.tensors, strict=False, assign=True)
    if result.unexpected_keys:
        raise ValueError(f"unexpected tensors: {sorted(result.unexpected_keys)[:5]}")
    model.tie_weights()
    unset = [name for name, value in model.named_parameters() if value.is_meta]
    if unset:
        raise ValueError(f"no tensor in the checkpoint for {unset[:5]}")
    model.eval()
    return model


def _wrap_tensors(spec: Any, checkpoint: MappedCheckpoint) -> None:
    """Every torch tensor of the specification as a `MappedVariable` (all of them, mapped
    or computed, so that aliasing compares the same variable types as before)."""
    import torch
    from ctranslate2.specs.model_spec import visit_spec

    variable_class = _torch_variable_class()

    def wrap(layer: Any, name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            if value.is_meta:
                raise ValueError(f"{name}: a weight the checkpoint did not set")
            setattr(layer, name.rsplit("/", 1)[-1], variable_class(value, checkpoint))

    visit_spec(spec, wrap)
