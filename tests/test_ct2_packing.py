"""CTranslate2's GEMM packing: on only when a run has an integer CTranslate2 system on
the CPU, and never over a setting the user made."""

from __future__ import annotations

import os

import pytest

from evalkit.engines import ct2_packing


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ct2_packing, "_planned", set())
    # set first so that monkeypatch restores the variable's absence, not what settle() set
    monkeypatch.setenv("CT2_PACKED_GEMM", "")
    monkeypatch.delenv("CT2_PACKED_GEMM")


def test_float_systems_only_turn_packing_off() -> None:
    ct2_packing.plan("float32", "cpu")
    assert ct2_packing.settle() is False
    assert os.environ["CT2_PACKED_GEMM"] == "0"


def test_an_int8_system_keeps_packing_for_the_whole_process() -> None:
    ct2_packing.plan("float32", "cpu")
    ct2_packing.plan("int8", "cpu")
    assert ct2_packing.settle() is True


def test_integer_systems_on_a_gpu_do_not_count() -> None:
    ct2_packing.plan("int8", "cuda")
    assert ct2_packing.settle() is False


def test_the_users_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CT2_PACKED_GEMM", "1")
    ct2_packing.plan("float32", "cpu")
    assert ct2_packing.settle() is True


def test_making_systems_plans_them() -> None:
    from evalkit.engines import create_systems

    create_systems(["packaged:qwen2.5-coder-0.5b-instruct,compute_type=int8", "copy"])
    assert ct2_packing.settle() is True
