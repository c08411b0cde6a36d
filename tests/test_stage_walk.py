"""A run walks the stages in order: at most 3 kinds of climb back up to an earlier stage
(see tests/stage_walk.py for what counts)."""

from __future__ import annotations

import evalkit
from evalkit.corpus.model import Document, Side, TestSet
from tests.stage_walk import is_climb, walk

MAX_CLIMBS = 3


def test_a_plain_function_of_an_earlier_stage_is_a_climb_and_a_data_method_is_not():
    assert is_climb("record", "align", "split_translatable")
    assert not is_climb("record", "align", "ScoringUnit.scorable_by")
    assert not is_climb("align", "record", "segment_rows")  # onwards, not back
    assert not is_climb("cli", "corpus", "load_test_set")  # not a stage room
    assert not is_climb("record", "translate", "<module>")  # an import


def _small_test_set() -> TestSet:
    """One document aligned line by line, one whose reference merges two paragraphs and
    one without reference: every way a document is scored."""
    source = ("Le chat dort. Il fait beau.", "La maison est grande.", "Trois pommes.")
    reference = ("The cat sleeps. The weather is fine. The house is big.", "Three apples.")
    return TestSet(
        name="walk",
        origin="test",
        tgt_lang="en",
        documents=(
            Document("lines", Side("fr", source), Side("en", source), aligned=True),
            Document("merged", Side("fr", source), Side("en", reference)),
            Document("alone", Side("fr", source)),
        ),
    )


def test_a_run_climbs_back_at_most_three_times(tmp_path):
    def run() -> None:
        evalkit.evaluate(
            _small_test_set(),
            ["copy"],
            ["bleu", "chrf"],
            align="length",
            unit="sentence",
            align_unit="sentence",
            cache=False,
            results_dir=tmp_path,
        )

    run()  # modules imported before the walk: the walk is of the run, not of imports
    climbs = walk(run)
    kinds = sorted({(caller, function) for caller, _, function in climbs})
    assert len(kinds) <= MAX_CLIMBS, kinds
