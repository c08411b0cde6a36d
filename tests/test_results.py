"""Runs are written atomically and read back unchanged."""

import os
from pathlib import Path

import pytest

from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.errors import UserInputError
from evalkit.metrics import create_metrics
from evalkit.pipeline import evaluate
from evalkit.record import (
    RUN_FILE,
    SCHEMA_VERSION,
    find_run,
    read_record,
    read_segments,
    write_run,
)


@pytest.fixture
def evaluation():
    return evaluate(load_test_set(), create_systems(["copy"]), create_metrics(["chrf"]))


def test_round_trip(tmp_path: Path, evaluation):
    folder = write_run(tmp_path, evaluation.record, evaluation.rows)
    assert read_record(folder) == evaluation.record
    assert list(read_segments(folder)) == evaluation.rows
    assert find_run(tmp_path, "latest") == folder


def test_crash_while_writing_leaves_nothing(tmp_path: Path, evaluation, monkeypatch):
    def crash(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(KeyboardInterrupt):
        write_run(tmp_path, evaluation.record, evaluation.rows)
    assert list(tmp_path.iterdir()) == []


def test_unknown_schema_version_is_refused(tmp_path: Path, evaluation):
    folder = write_run(tmp_path, evaluation.record, evaluation.rows)
    path = folder / RUN_FILE
    text = path.read_text()
    assert f'"schema_version": {SCHEMA_VERSION}' in text
    path.write_text(text.replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99'))
    with pytest.raises(UserInputError, match="schema_version 99"):
        read_record(folder)


def test_latest_of_runs_started_in_the_same_second_is_the_one_stored_last(
    tmp_path: Path, evaluation
):
    # same start second, ids whose random parts sort the other way round
    stamp = evaluation.record.run_id.split("-")[0] + "-000000"
    later = evaluation.record.model_copy(update={"run_id": f"{stamp}-0000"})
    earlier = evaluation.record.model_copy(update={"run_id": f"{stamp}-ffff"})
    first = write_run(tmp_path, earlier, evaluation.rows)
    second = write_run(tmp_path, later, evaluation.rows)
    stamp_ns = (first / RUN_FILE).stat().st_mtime_ns
    os.utime(second / RUN_FILE, ns=(stamp_ns + 1_000_000, stamp_ns + 1_000_000))
    assert find_run(tmp_path, "latest") == second


def test_the_record_says_where_the_time_went(tmp_path: Path, evaluation):
    from evalkit.report.tables import footer_lines

    timings = evaluation.record.timings
    assert set(timings) == {"align", "prepare", "convert", "translate", "score"}
    assert all(seconds >= 0 for seconds in timings.values())
    assert sum(timings.values()) <= evaluation.record.duration_s + 0.01
    (line,) = [line for line in footer_lines(evaluation.record) if line.startswith("time:")]
    assert "translate" in line and "total" in line


def test_one_time_model_work_is_timed_apart_from_translation():
    """A system that makes its model files on first use: that time is `prepare`, not
    `translate`, and only the run that did it reports it."""
    import time

    from evalkit.engines import one_time
    from evalkit.engines.copy import CopyEngine
    from evalkit.engines.registry import NamedSystem

    class PreparingCopy(CopyEngine):
        prepared = False

        def translate(self, segments, src_lang, tgt_lang):
            if not PreparingCopy.prepared:
                with one_time.timed("prepare"):
                    time.sleep(0.5)
                PreparingCopy.prepared = True
            return super().translate(segments, src_lang, tgt_lang)

    def run():
        system = NamedSystem("prep", "copy", PreparingCopy(None))
        return evaluate(load_test_set(), [system], create_metrics(["chrf"])).record.timings

    first, second = run(), run()
    assert first["prepare"] >= 0.5 and first["convert"] == 0.0
    assert first["translate"] < 0.5  # copying takes milliseconds once the sleep is not in it
    assert second["prepare"] == 0.0


def test_a_record_of_version_3_reads_without_timings(tmp_path: Path, evaluation):
    import json

    folder = write_run(tmp_path, evaluation.record, evaluation.rows)
    raw = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    raw["schema_version"] = 3
    del raw["timings"]
    (folder / RUN_FILE).write_text(json.dumps(raw), encoding="utf-8")
    assert read_record(folder).timings == {}


def test_segment_id_is_stable_and_filled_in_for_rows_without_one():
    from evalkit.record import SegmentRow, segment_id

    assert segment_id("doc", [3, 4], [2]) == "doc#s3+4"
    assert segment_id("doc", [], [5]) == "doc#r5"
    row = SegmentRow.model_validate(
        {
            "doc_id": "d",
            "src_ids": [1],
            "ref_ids": [1],
            "src": "a",
            "ref": "b",
            "hyp": {},
            "scores": {},
        }
    )
    assert row.id == "d#s1"
    kept = SegmentRow.model_validate({**row.model_dump(), "id": "custom"})
    assert kept.id == "custom"
