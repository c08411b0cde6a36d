"""Human scores on the z scale: each annotator standardised over their own judgments,
checked against a computation done here with numpy."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.errors import UserInputError
from evalkit.judgments.model import Judgment
from evalkit.meta.human import human_scores
from evalkit.record import SegmentRow

SYSTEMS = ["a", "b"]


def _rows(count: int) -> list[SegmentRow]:
    return [
        SegmentRow(
            doc_id="doc",
            src_ids=[i],
            ref_ids=[i],
            src=f"source {i}",
            ref=f"reference {i}",
            hyp={s: f"{s} {i}" for s in SYSTEMS},
            scores={s: {} for s in SYSTEMS},
        )
        for i in range(count)
    ]


def _da(row: SegmentRow, system: str, annotator: str, score: float) -> Judgment:
    return Judgment(
        run_id="run",
        segment_id=row.id,
        system=system,
        annotator=annotator,
        protocol="da",
        score=score,
        complete=True,
    )


def test_z_scores_standardise_each_annotator_before_averaging() -> None:
    rows = _rows(3)
    # a lenient annotator on rows 0-1, a harsh one on rows 1-2 (row 1 judged by both)
    lenient = {(0, "a"): 90, (0, "b"): 70, (1, "a"): 95, (1, "b"): 85}
    harsh = {(1, "a"): 40, (1, "b"): 20, (2, "a"): 30, (2, "b"): 10}
    judgments = [_da(rows[i], s, "lenient", v) for (i, s), v in lenient.items()]
    judgments += [_da(rows[i], s, "harsh", v) for (i, s), v in harsh.items()]

    def z(scores: dict) -> dict:
        values = np.array(list(scores.values()), dtype=float)
        return {k: (v - values.mean()) / values.std() for k, v in scores.items()}

    zl, zh = z(lenient), z(harsh)
    expected = np.full((2, 3), np.nan)
    for i in range(3):
        for k, s in enumerate(SYSTEMS):
            cell = [d[(i, s)] for d in (zl, zh) if (i, s) in d]
            expected[k, i] = np.mean(cell)

    human = human_scores(judgments, ["run"], rows, SYSTEMS, "test", scale="z")
    assert human.scale == "z"
    np.testing.assert_allclose(human.matrix, expected)
    raw = human_scores(judgments, ["run"], rows, SYSTEMS, "test")
    assert raw.scale == "raw" and raw.matrix[0, 0] == 90


def test_an_annotator_with_one_score_for_everything_is_left_out_and_counted() -> None:
    rows = _rows(2)
    judgments = [_da(rows[i], s, "flat", 50) for i in range(2) for s in SYSTEMS]
    judgments += [_da(rows[0], "a", "varied", 80), _da(rows[0], "b", "varied", 20)]
    human = human_scores(judgments, ["run"], rows, SYSTEMS, "test", scale="z")
    assert human.judgments == 2
    assert human.annotators == ["varied"]
    assert human.excluded == {"annotators with all scores equal (no z-score)": 4}
    np.testing.assert_allclose(human.matrix, [[1.0], [-1.0]])


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(UserInputError, match="unknown scale"):
        human_scores([], ["run"], _rows(1), SYSTEMS, "test", scale="minmax")  # type: ignore[arg-type]
