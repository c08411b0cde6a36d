"""Default metrics end to end: reference-free columns everywhere, reference-based where a
reference exists, and a metric that cannot load is skipped, noted and the run goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.table import Table

from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.metrics import DEFAULT_METRICS, MetricUnavailable, create_metrics
from evalkit.metrics.base import MeanMetric
from evalkit.pipeline import evaluate
from evalkit.record import read_record
from evalkit.report.tables import by_document, leaderboard

REFERENCE_BASED = ["bleu", "chrf", "chrf++", "ter", "bertscore"]
REFERENCE_FREE = ["xqe", "off_target", "untranslated", "numbers", "length_outlier", "repetition"]


def stacked_tables(grid: Table) -> list[Table]:
    """The tables a `show` view stacks one above the other, in order."""
    return [cell for column in grid.columns for cell in column.cells]


def metric_names(table: Table) -> list[str]:
    headers = [str(column.header) for column in table.columns]
    return [cell.rsplit(" ", 1)[0] for cell in headers if cell.endswith(("↑", "↓"))]


def body(table: Table) -> list[list[str]]:
    columns = [[str(cell) for cell in column.cells] for column in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


@pytest.mark.slow  # every default metric, the neural ones (real models) too
def test_copy_scores_reference_free_metrics_on_every_document(cli, synthetic_set):
    assert list(DEFAULT_METRICS) == REFERENCE_BASED + REFERENCE_FREE
    # the default metrics are under test here, the alignment is not
    args = ("run", "--data", synthetic_set.folder, "--system", "copy", "--align", "length")
    summary = json.loads(cli(*args, "--json").stdout)
    assert list(summary["metrics"]) == list(DEFAULT_METRICS)
    test_set = load_test_set(str(synthetic_set.folder))
    with_reference = {doc.id for doc in test_set.documents if doc.reference is not None}
    assert with_reference and with_reference != {doc.id for doc in test_set.documents}
    documents = summary["systems"]["copy"]["documents"]
    assert set(documents) == {doc.id for doc in test_set.documents}
    for doc_id, scores in documents.items():
        assert all(scores[name] is not None for name in REFERENCE_FREE), doc_id
        assert all(
            (scores[name] is not None) == (doc_id in with_reference) for name in REFERENCE_BASED
        )
        # the copy system outputs Arabic: off target and untranslated
        assert scores["off_target"] > 0.9 and scores["untranslated"] > 0.9
    assert not any("skipped" in note for note in summary["notes"])

    # `show` prints reference-based and reference-free metrics in two tables, per document
    # as per system (what it prints is built from the stored run: check those tables)
    shown = cli("show", "latest", "--by", "doc")
    assert shown.exit_code == 0
    assert shown.stdout.index("reference-based") < shown.stdout.index("reference-free")
    record = read_record(Path(summary["path"]))
    based, free = stacked_tables(by_document(record))
    assert metric_names(based) == REFERENCE_BASED
    assert metric_names(free) == REFERENCE_FREE
    for table in (based, free):  # one system: a row per document, its scores from the 4th cell
        assert [row[0] for row in body(table)] == [doc.id for doc in test_set.documents]
    for row in body(free):
        assert all(cell != "–" for cell in row[3:])
    for row in body(based):
        assert all((cell != "–") == (row[0] in with_reference) for cell in row[3:])
        assert row[3:] == [
            "–" if documents[row[0]][name] is None else f"{documents[row[0]][name]:.2f}"
            for name in REFERENCE_BASED
        ]

    assert cli("show", "latest").exit_code == 0
    based, free = stacked_tables(leaderboard(record))
    assert metric_names(based) == REFERENCE_BASED
    assert metric_names(free) == REFERENCE_FREE


class Unloadable(MeanMetric):
    """A metric whose model turns out to be missing only when it computes."""

    name = "unloadable"

    def segment_statistics(self, hypotheses, references, sources):
        raise MetricUnavailable(self.name, "its model is not on disk: set SOMETHING")

    def signature(self) -> str:
        return "unloadable"


def test_a_metric_failing_to_load_while_scoring_is_dropped_and_noted():
    test_set = load_test_set(None, None, None, "ar", "en")
    metrics = [Unloadable(), *create_metrics(["chrf"])]
    record = evaluate(test_set, create_systems(["copy", "again=copy"]), metrics).record
    assert [m.name for m in record.metrics] == ["chrf"]
    assert (
        record.notes[-1] == "metric 'unloadable' skipped: its model is not on disk: set SOMETHING"
    )
    for system in ("copy", "again"):
        assert set(record.scores[system].corpus) == {"chrf"}
        assert all(set(doc) == {"chrf"} for doc in record.scores[system].documents.values())


def test_target_language_reaches_the_metrics(cli, tmp_path: Path):
    src, hyp = tmp_path / "s.en", tmp_path / "h.ar"
    src.write_text("The prime minister met the governor in Basra on Monday.\n", encoding="utf-8")
    hyp.write_text("التقى رئيس الوزراء بالمحافظ في البصرة يوم الاثنين.\n", encoding="utf-8")
    common = ("--src", src, "--system", f"mt=files:{hyp}", "--metric", "off_target", "--json")
    into_arabic = json.loads(cli("run", *common, "--src-lang", "en", "--tgt-lang", "ar").stdout)
    into_french = json.loads(cli("run", *common, "--src-lang", "en", "--tgt-lang", "fr").stdout)
    assert into_arabic["systems"]["mt"]["corpus"]["off_target"] == 0.0
    assert into_french["systems"]["mt"]["corpus"]["off_target"] == 1.0


def test_score_without_source_skips_the_metrics_that_read_it(cli, tmp_path: Path):
    ref, hyp = tmp_path / "ref.txt", tmp_path / "hyp.txt"
    ref.write_text("Police said 3 people were injured.\nThe talks ended.\n", encoding="utf-8")
    hyp.write_text("Police said 3 people were hurt.\nthe the the the\n", encoding="utf-8")
    result = cli("score", "--ref", ref, "--hyp", hyp, "--json")
    assert result.exit_code == 0, result.output
    scores = {
        name: entry["score"]
        for name, entry in json.loads(result.stdout)["systems"]["hyp.txt"].items()
    }
    assert set(scores) == {*REFERENCE_BASED, "off_target", "repetition"}
    assert scores["repetition"] == 0.5 and scores["off_target"] == 0.0
    table = cli("score", "--ref", ref, "--hyp", hyp, "--metric", "xqe", "--metric", "chrf")
    assert "metric 'xqe' skipped: it reads the source text: give --src" in table.stdout
