"""Which items an annotator judges, and how attention checks are decided."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evalkit.judge.attention import attention_summaries, check_passed
from evalkit.judge.items import (
    annotator_queue,
    build_queue,
    decoy,
    default_attention_checks,
    judgeable,
    neighbours,
)
from evalkit.judgments.model import Judgment, Span
from evalkit.judgments.store import JudgmentStore
from tests.judge_run import SYSTEMS, rows


def test_the_same_seed_gives_the_same_queue_and_other_seeds_other_ones():
    first = build_queue(rows(), SYSTEMS, segments=5, seed=7)
    assert build_queue(rows(), SYSTEMS, segments=5, seed=7) == first
    others = {tuple(build_queue(rows(), SYSTEMS, segments=5, seed=s)) for s in range(8, 14)}
    assert len(others | {tuple(first)}) > 1


@pytest.mark.parametrize("segments", [1, 3, 5, 8, 50])
def test_every_system_is_shown_once_for_every_chosen_segment(segments: int):
    queue = build_queue(rows(), SYSTEMS, segments=segments, seed=3, attention_checks=0)
    real = [item for item in queue if not item.attention_check]
    per_segment = Counter(item.segment_id for item in real)
    assert len(per_segment) == min(segments, len(rows()))
    for segment in per_segment:
        assert sorted(i.system for i in real if i.segment_id == segment) == sorted(SYSTEMS)
    assert len(queue) == len(real)


def test_the_order_is_shuffled_not_grouped_by_segment_or_system():
    queue = build_queue(rows(), SYSTEMS, segments=8, seed=1, attention_checks=0)
    grouped = all(queue[i].segment_id == queue[i + 1].segment_id for i in range(0, 16, 2))
    alternating = all(queue[i].system != queue[i + 1].system for i in range(15))
    assert not grouped and not alternating
    assert [item.system for item in queue[:8]].count(SYSTEMS[0]) not in (0, 8)


def test_attention_checks_show_another_segments_translation_away_from_the_real_item():
    data = rows()
    queue = build_queue(data, SYSTEMS, segments=8, seed=5, attention_checks=4)
    checks = [item for item in queue if item.attention_check]
    assert len(checks) == 4
    by_id = {row.id: row for row in data}
    for check in checks:
        at = queue.index(check)
        real_at = queue.index(check.__class__(check.segment_id, check.system))
        assert abs(at - real_at) > 1
        bad = decoy(data, check.segment_id, check.system)
        assert bad is not None and bad != by_id[check.segment_id].hyp[check.system]
        assert bad in [row.hyp[check.system] for row in data if row.id != check.segment_id]
        assert decoy(data, check.segment_id, check.system) == bad  # stable


def test_no_attention_check_when_no_other_segment_can_stand_in():
    queue = build_queue(rows()[:1], SYSTEMS, segments=1, seed=1, attention_checks=3)
    assert len(queue) == len(SYSTEMS) and not any(item.attention_check for item in queue)


@pytest.mark.parametrize(
    ("segments", "systems", "expected"), [(4, 2, 1), (4, 1, 0), (5, 1, 1), (20, 3, 6), (40, 2, 8)]
)
def test_default_attention_checks_are_a_tenth_and_one_from_five_segments(
    segments: int, systems: int, expected: int
):
    assert default_attention_checks(segments, systems) == expected


def test_rows_without_a_source_or_a_systems_translation_are_not_judged():
    data = rows()
    data[0] = data[0].model_copy(update={"src": "  "})
    data[1] = data[1].model_copy(update={"hyp": {SYSTEMS[0]: "only one"}})
    kept = judgeable(data, SYSTEMS)
    assert [row.id for row in kept] == [row.id for row in data[2:]]
    queue = build_queue(data, SYSTEMS, segments=50, seed=1, attention_checks=0)
    assert {item.segment_id for item in queue} == {row.id for row in data[2:]}


def test_a_stored_queue_is_reused_whatever_the_options(tmp_path: Path):
    store = JudgmentStore(tmp_path / "j.sqlite")
    first, reused = annotator_queue(store, "run", rows(), SYSTEMS, "amal", "esa", 3, 1)
    assert not reused and store.queue("run", "amal", "esa") == first
    again, reused = annotator_queue(store, "run", rows(), SYSTEMS, "amal", "esa", 8, 99, 0)
    assert reused and again == first
    other, reused = annotator_queue(store, "run", rows(), SYSTEMS, "amal", "mqm", 8, 99, 0)
    assert not reused and len(other) == 8 * len(SYSTEMS)


def test_context_is_the_neighbouring_rows_of_the_same_document():
    data = rows()
    first_b = next(row for row in data if row.doc_id == "docB")
    before, after = neighbours(data, first_b.id)
    assert before is None and after is not None and after.doc_id == "docB"
    last_a = [row for row in data if row.doc_id == "docA"][-1]
    before, after = neighbours(data, last_a.id)
    assert before is not None and before.doc_id == "docA" and after is None


def _judgment(score=None, spans=(), check=False, complete=True, protocol="esa", who="amal"):
    return Judgment(
        run_id="run",
        segment_id="d#s1",
        system="sys",
        annotator=who,
        protocol=protocol,
        score=score,
        spans=list(spans),
        attention_check=check,
        complete=complete,
    )


MAJOR = Span(start=0, end=2, severity="major", category="accuracy/mistranslation")
MINOR = Span(start=0, end=2, severity="minor", category="fluency/grammar")


@pytest.mark.parametrize(
    ("check", "real", "passed", "compared"),
    [
        (_judgment(30, check=True), _judgment(70), True, True),
        (_judgment(70, check=True), _judgment(70), False, True),  # a tie fails
        (_judgment(80, check=True), _judgment(20), False, True),
        (_judgment(60, check=True), _judgment(90, complete=False), False, False),
        (_judgment(50, check=True), None, True, False),
        (_judgment(51, check=True), None, False, False),
        (_judgment(spans=[MINOR], check=True, protocol="mqm"), None, False, False),
        (_judgment(spans=[MAJOR], check=True, protocol="mqm"), None, True, False),
        (
            _judgment(spans=[MINOR], check=True, protocol="mqm"),
            _judgment(protocol="mqm"),
            True,
            True,
        ),
        (
            _judgment(spans=[MINOR], check=True, protocol="mqm"),
            _judgment(spans=[MAJOR], protocol="mqm"),
            False,
            True,
        ),
    ],
)
def test_the_attention_rule(check, real, passed, compared):
    assert check_passed(check, real) == (passed, compared)


def test_summaries_per_annotator_count_pending_checks_apart():
    judgments = [
        _judgment(20, check=True),
        _judgment(80),
        _judgment(90, check=True, who="basel"),
        _judgment(40, check=True, complete=False, who="carla"),
    ]
    summaries = {s.annotator: s for s in attention_summaries(judgments)}
    assert (summaries["amal"].passed, summaries["amal"].failed) == (1, 0)
    assert summaries["amal"].compared == 1
    assert (summaries["basel"].passed, summaries["basel"].failed) == (0, 1)
    assert summaries["basel"].failed_segments == ["d#s1"]
    assert (summaries["carla"].judged, summaries["carla"].pending) == (0, 1)
    assert "passed 1 of 1 attention check" in summaries["amal"].line()


def test_no_attention_check_stands_in_for_a_copy_of_the_source():
    from evalkit.judge.items import decoy
    from evalkit.record import SegmentRow

    rows = [
        SegmentRow(
            doc_id="d",
            src_ids=[i],
            ref_ids=[i],
            src=f"مصدر {i}",
            ref=f"ref {i}",
            hyp={"copy": f"مصدر {i}", "mt": f"translation {i}"},
            scores={},
        )
        for i in (1, 2, 3)
    ]
    assert decoy(rows, "d#s1", "copy") is None
    assert decoy(rows, "d#s1", "mt") in {"translation 2", "translation 3"}


def test_documents_restrict_where_the_segments_come_from():
    all_rows = rows()
    docs = sorted({row.doc_id for row in all_rows})
    assert len(docs) > 1
    queue = build_queue(all_rows, SYSTEMS, segments=50, seed=2, documents=[docs[-1]])
    in_doc = {row.id for row in judgeable(all_rows, SYSTEMS) if row.doc_id == docs[-1]}
    assert {item.segment_id for item in queue} == in_doc
