"""Whether CTranslate2 packs its GEMM weights for Intel MKL, decided once per process.

CTranslate2 packs every linear weight into MKL's own layout while a model loads
(`CT2_PACKED_GEMM`, on by default), and keeps the weights it read until all are packed:
loading peaks near twice the model file. CTranslate2 reads the setting once, at the first
model it loads in a process, so it cannot differ between two models of one run.

Measured on 2 cores (`bench/cold.py`, 24 seed sentences, same outputs either way): the
0.5B in float32 decoded 12.7 tokens/s packed and 15.7 unpacked, peaking at 4.83 GiB and
3.07 GiB; the 1.5B in int8 decoded 16.8 tokens/s packed and 10.5 unpacked (2.65 GiB
unpacked, 3.82 packed). So packing stays on when a run has an integer CTranslate2 system
on the CPU, where it pays, and is turned off otherwise. A `CT2_PACKED_GEMM` the user set
is left as it is.
"""

from __future__ import annotations

import os

#: compute types whose CPU GEMM is faster with packed weights (see the module docstring)
PACKING_PAYS = frozenset({"int8", "int8_float32", "int16"})

_planned: set[str] = set()


def plan(compute_type: str, device: str) -> None:
    """Note a CTranslate2 system this process will run. Every system of a run is made
    before any model loads, so by the first load the process knows them all."""
    if device == "cpu":
        _planned.add(compute_type)


def settle() -> bool:
    """Set `CT2_PACKED_GEMM` before the first model loads, unless the user did;
    returns whether packing is on."""
    if "CT2_PACKED_GEMM" not in os.environ:
        os.environ["CT2_PACKED_GEMM"] = "1" if _planned & PACKING_PAYS else "0"
    return os.environ["CT2_PACKED_GEMM"].strip().lower() in {"1", "true", "on", "yes"}
