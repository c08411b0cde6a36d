"""`device=` and `dtype=` for the torch metrics (bertscore, comet, cometkiwi, xcomet).

Why options and not a global switch: a run may score one torch metric on a GPU and keep
another on the CPU, and the choice must be checked before any model loads, so that
`device=cuda` on a machine without CUDA is one line of error, not a traceback from deep
inside torch after minutes of loading.

float32 is the reference: its scores are the stored ones and its signature is unchanged.
bfloat16 halves memory and runs on the GPU's fast units, but moves scores slightly (tests
compare it against float32), so it is named in the signature and never mixed with float32
scores in a cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.errors import UserInputError

Dtype = Literal["float32", "bfloat16"]
DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


class TorchOptions(BaseModel):
    """The options every torch metric takes: `device=cpu|cuda|cuda:N,dtype=float32|bfloat16`."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field("cpu", pattern=DEVICE.pattern)
    dtype: Dtype = "float32"


@dataclass(frozen=True)
class Placement:
    """Where a metric's model runs, checked against what this machine has."""

    device: str = "cpu"
    dtype: Dtype = "float32"

    def signature(self) -> str:
        """`|dtype:bfloat16` for bfloat16; nothing for float32, whose scores are the
        reference (the device is not named: float32 on a GPU gives the CPU's scores to
        float rounding)."""
        return "" if self.dtype == "float32" else f"|dtype:{self.dtype}"

    def torch_dtype(self) -> Any:
        import torch

        return torch.bfloat16 if self.dtype == "bfloat16" else torch.float32

    def key(self) -> str:
        """What in-process caches of embeddings are keyed by besides the model."""
        return f"{self.device}|{self.dtype}"


def placement(metric: str, device: str = "cpu", dtype: str = "float32") -> Placement:
    """The checked placement; UserInputError (one line) when it cannot be had here."""
    if not DEVICE.match(device):
        raise UserInputError(f"{metric}: device must be cpu, cuda or cuda:N, not {device!r}")
    if dtype not in ("float32", "bfloat16"):
        raise UserInputError(f"{metric}: dtype must be float32 or bfloat16, not {dtype!r}")
    if device != "cpu":
        check_cuda(metric, device)
    return Placement(device, dtype)  # type: ignore[arg-type]


def check_cuda(metric: str, device: str) -> None:
    """Refuse a CUDA device this machine does not have, saying what torch sees."""
    import torch

    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise UserInputError(
            f"{metric}: device={device} asked for, but torch {torch.__version__} ({build}) "
            "sees no CUDA GPU on this machine; use device=cpu"
        )
    index = int(device.split(":")[1]) if ":" in device else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise UserInputError(
            f"{metric}: device={device} asked for, but this machine has {count} CUDA GPU(s) "
            f"(cuda:0 to cuda:{count - 1})"
        )
