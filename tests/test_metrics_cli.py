"""Default metrics end to end: reference-free columns everywhere, reference-based where a
reference exists, and a metric that cannot load is skipped, noted and the run goes on."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.metrics import DEFAULT_METRICS, MetricUnavailable, create_metrics
from evalkit.metrics.base import MeanMetric
from evalkit.runner import evaluate

REFERENCE_BASED = ["bleu", "chrf", "chrf++", "ter", "bertscore"]
REFERENCE_FREE = ["xqe", "off_target", "untranslated", "numbers", "length_outlier", "repetition"]


def tables(output: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header cells, body rows) of each rich table printed, in order (one-line headers)."""
    found: list[tuple[list[str], list[list[str]]]] = []
    for line in output.splitlines():
        if line.startswith("┃"):
            found.append(([cell.strip() for cell in line.strip().strip("┃").split("┃")], []))
        elif line.startswith("│"):
            found[-1][1].append([cell.strip() for cell in line.strip().strip("│").split("│")])
    return found


def metric_names(header: list[str]) -> list[str]:
    return [cell.rsplit(" ", 1)[0] for cell in header if cell.endswith(("↑", "↓"))]


def test_copy_on_the_seeds_scores_reference_free_metrics_on_every_document(cli):
    assert list(DEFAULT_METRICS) == REFERENCE_BASED + REFERENCE_FREE
    summary = json.loads(cli("run", "--data", "seeds", "--system", "copy", "--json").stdout)
    documents = summary["systems"]["copy"]["documents"]
    assert set(documents) == {"000", "001", "002", "003"}
    for doc_id, scores in documents.items():
        assert all(scores[name] is not None for name in REFERENCE_FREE), doc_id
        assert all((scores[name] is not None) == (doc_id == "000") for name in REFERENCE_BASED)
        # the copy system outputs Arabic: off target and untranslated
        assert scores["off_target"] > 0.9 and scores["untranslated"] > 0.9
    assert not any("skipped" in note for note in summary["notes"])

    shown = cli("show", "latest", "--by", "doc")
    assert shown.exit_code == 0
    assert shown.stdout.index("reference-based") < shown.stdout.index("reference-free")
    (based_header, based_rows), (free_header, free_rows) = tables(shown.stdout)
    assert metric_names(based_header) == REFERENCE_BASED
    assert metric_names(free_header) == REFERENCE_FREE
    based = {row[0]: row[3:] for row in based_rows}
    free = {row[0]: row[3:] for row in free_rows}
    assert set(based) == set(free) == {"000", "001", "002", "003"}
    for doc_id in based:
        assert all(cell != "–" for cell in free[doc_id])
        assert all((cell != "–") == (doc_id == "000") for cell in based[doc_id])

    (based_header, _), (free_header, _) = tables(cli("show", "latest").stdout)
    assert metric_names(based_header) == REFERENCE_BASED
    assert metric_names(free_header) == REFERENCE_FREE


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
