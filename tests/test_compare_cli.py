"""`evalkit compare` end to end: comparability checks, breakdowns, every output format."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from evalkit.compare.load import comparability_problems
from evalkit.record import AlignmentInfo, LinkInfo, RunRecord, read_record
from tests.compare_data import SEGMENTS, run_args, write_systems
from tests.synthetic_parallel import SET_ASIDE


@pytest.fixture
def run_id(cli, tmp_path: Path) -> str:
    paths = write_systems(tmp_path / "data")
    result = cli(*run_args(paths, "good", "near", "worse"))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["run_id"]


def test_two_runs_of_a_test_set_with_an_aligned_document(cli, results_dir, synthetic_set):
    # bleu: reference-based; repetition: reference-free, cheap (what metric does not matter)
    args = ("run", "--data", synthetic_set.folder, "--system", "copy", "--json")
    args += ("--metric", "bleu", "--metric", "repetition", "--align", "length")
    first = json.loads(cli(*args).stdout)["run_id"]
    second = json.loads(cli(*args).stdout)["run_id"]
    result = cli("compare", first, second)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "bleu ↑ [95% CI]" in out and "Δ bleu, p" in out
    assert f"copy@{first[16:]}" in out and f"copy@{second[16:]}" in out
    data = json.loads(cli("compare", first, second, "--json").stdout)
    cell = data["results"]["bleu"][f"copy@{second[16:]}"]
    assert cell["delta"] == 0 and cell["p_value"] == 1.0
    # the document with a reference is aligned into paragraph groups: one row each
    (alignment,) = read_record(results_dir / first).alignment
    assert alignment.doc_id == synthetic_set.with_ref
    assert cell["n"] == len(alignment.links) > 1
    # the reference-free metric also has a row for every line with something to translate
    # of the document without a reference
    translatable = len(synthetic_set.alone) - len(SET_ASIDE)
    free = data["results"]["repetition"][f"copy@{second[16:]}"]
    assert free["n"] == cell["n"] + translatable


def test_compare_refuses_runs_on_different_test_sets(cli, run_id, results_dir):
    # the built-in test set: another one (only chrf, the metric both runs share)
    args = ("--system", "copy", "--metric", "chrf", "--align", "length", "--json")
    seeds = json.loads(cli("run", *args).stdout)["run_id"]
    hashes = [read_record(results_dir / r).test_set.hash for r in (run_id, seeds)]
    result = cli("compare", run_id, seeds)
    assert result.exit_code == 2
    assert "test sets differ" in result.stderr
    assert hashes[0] in result.stderr and hashes[1] in result.stderr
    assert "--force" in result.stderr
    forced = cli("compare", run_id, seeds, "--force")
    assert forced.exit_code == 0, forced.output
    assert "warning: compared despite: test sets differ" in forced.stdout
    as_json = json.loads(cli("compare", run_id, seeds, "--force", "--json").stdout)
    assert any("test sets differ" in w for w in as_json["warnings"])


def _copy_run(results_dir: Path, run_id: str, new_id: str, edit) -> str:
    shutil.copytree(results_dir / run_id, results_dir / new_id)
    path = results_dir / new_id / "run.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["run_id"] = new_id
    edit(raw)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return new_id


def test_compare_refuses_other_metric_signatures(cli, run_id, results_dir):
    def edit(raw):
        raw["metrics"][0]["signature"] += "|tok:intl"

    other = _copy_run(results_dir, run_id, "20990101-000000-other", edit)
    result = cli("compare", run_id, other)
    assert result.exit_code == 2 and "bleu signatures differ" in result.stderr
    # comparing only metrics whose signatures agree is fine
    assert cli("compare", run_id, other, "--metric", "chrf").exit_code == 0
    # BLEU statistics are recomputed with the installed sacrebleu: said when that differs
    alone = json.loads(cli("compare", other, "--metric", "bleu", "--json").stdout)
    assert any("statistics recomputed as" in w for w in alone["warnings"])


def test_alignment_must_match(run_id, results_dir):
    record = read_record(results_dir / run_id)
    without = [record, record.model_copy(update={"run_id": "b"})]
    assert comparability_problems(without) == []

    def aligned(run: str, method: str) -> RunRecord:
        info = AlignmentInfo(
            doc_id="src",
            unit="paragraph",
            method=method,
            signature=f"{method}|v1",
            mean_confidence=0.5,
            low_confidence_links=0,
            links=[LinkInfo(src=[1], ref=[1], cost=0.1, confidence=0.5, low_confidence=False)],
        )
        return record.model_copy(update={"run_id": run, "alignment": [info]})

    same = [aligned("a", "length"), aligned("b", "length")]
    assert comparability_problems(same) == []
    problems = comparability_problems([aligned("a", "length"), aligned("b", "embedding")])
    assert problems == ["alignments differ between run a and run b (documents src)"]
    assert comparability_problems([record, aligned("b", "embeddings")])  # one has none


def test_breakdowns(cli, run_id):
    result = cli("compare", run_id, "--by", "all", "--top", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    breakdowns = data["breakdowns"]
    assert breakdowns["document"]["groups"] == ["src"]
    assert sum(breakdowns["length"]["rows"].values()) == SEGMENTS
    for wtl in breakdowns["win_tie_loss"]:
        assert wtl["wins"] + wtl["ties"] + wtl["losses"] == SEGMENTS
    good_worse = next(
        w
        for w in breakdowns["win_tie_loss"]
        if (w["metric"], w["a"], w["b"]) == ("bleu", "good", "worse")
    )
    assert good_worse["wins"] == SEGMENTS
    top = [d for d in breakdowns["top"] if d["b"] == "worse"]
    assert len(top) == 3
    gaps = [abs(d["score_a"] - d["score_b"]) for d in top]
    assert gaps == sorted(gaps, reverse=True)
    assert all(d["src"] and d["ref"] and d["hyp_a"] and d["hyp_b"] for d in top)
    near = [d for d in breakdowns["top"] if d["b"] == "near"]
    assert len(near) == 2  # only two segments differ
    rich = cli("compare", run_id, "--by", "doc", "--by", "wins", "--by", "top", "--by", "length")
    for title in ("per document", "per source length", "win / tie / loss", "differ most"):
        assert title in rich.stdout


def test_baseline_option(cli, run_id):
    data = json.loads(cli("compare", run_id, "--baseline", "worse", "--json").stdout)
    assert data["baseline"] == "worse"
    good = data["results"]["bleu"]["good"]
    assert good["delta"] > 0 and good["better"] is True and good["significant"] is True
    assert data["results"]["ter"]["good"]["delta"] < 0 and data["results"]["ter"]["good"]["better"]
    missing = cli("compare", run_id, "--baseline", "nope")
    assert missing.exit_code == 2 and "no system 'nope'" in missing.stderr


def test_output_formats(cli, run_id):
    markdown = cli("compare", run_id, "--format", "markdown").stdout
    assert markdown.startswith("### compare") and "| system |" in markdown
    assert "| worse |" in markdown and "p=" in markdown
    rows = list(csv.DictReader(io.StringIO(cli("compare", run_id, "--format", "csv").stdout)))
    assert len(rows) == 3 * 4
    worse_bleu = next(r for r in rows if (r["system"], r["metric"]) == ("worse", "bleu"))
    assert float(worse_bleu["p_value"]) < 0.05 and worse_bleu["significant"] == "True"
    assert float(worse_bleu["ci_low"]) <= float(worse_bleu["score"]) <= float(worse_bleu["ci_high"])
    latex = cli("compare", run_id, "--format", "latex").stdout
    assert "\\begin{tabular}" in latex and "$\\Delta$ bleu, p" in latex
    as_json = json.loads(cli("compare", run_id, "--format", "json").stdout)
    assert as_json == json.loads(cli("compare", run_id, "--json").stdout)
    assert as_json["schema_version"] == 2 and as_json["kind"] == "evalkit.compare"
    assert [s["key"] for s in as_json["systems"]] == ["good", "near", "worse"]
    assert {m["name"] for m in as_json["metrics"]} == {"bleu", "chrf", "chrf++", "ter"}
    cell = as_json["results"]["chrf"]["near"]
    assert set(cell) == {
        "score",
        "ci",
        "n",
        "delta",
        "delta_ci",
        "p_value",
        "significant",
        "better",
    }
    bad = cli("compare", run_id, "--format", "yaml")
    assert bad.exit_code == 2 and "--format" in bad.stderr


def test_approximate_randomization_option(cli, run_id):
    data = json.loads(cli("compare", run_id, "--test", "ar", "--json").stdout)
    assert data["test"] == "ar"
    assert data["results"]["bleu"]["worse"]["significant"]
    assert not data["results"]["bleu"]["near"]["significant"]
    assert cli("compare", run_id, "--test", "t").exit_code == 2


def test_any_stored_metric_is_compared_from_its_segment_scores(cli, run_id, results_dir):
    """A metric evalkit does not know (a neural or reference-free one) is compared through
    the mean of its stored segment scores, rows without a score left out."""
    folder = results_dir / run_id
    raw = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    raw["metrics"].append(
        {"name": "xqe", "signature": "xqe|v1", "higher_is_better": False, "needs_reference": False}
    )
    (folder / "run.json").write_text(json.dumps(raw), encoding="utf-8")
    lines = (folder / "segments.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    for i, row in enumerate(rows):
        wobble = (i % 7) / 100
        row["scores"]["good"]["xqe"] = None if i == 0 else 0.2 + wobble
        row["scores"]["near"]["xqe"] = 0.2 + wobble + (0.01 if i % 2 else -0.01)
        row["scores"]["worse"]["xqe"] = 0.6 + wobble
    (folder / "segments.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )
    data = json.loads(cli("compare", run_id, "--metric", "xqe", "--json").stdout)
    cells = data["results"]["xqe"]
    assert cells["good"]["n"] == SEGMENTS - 1  # its first row has no score
    assert not cells["near"]["significant"] and cells["near"]["p_value"] > 0.05
    assert cells["worse"]["significant"] and cells["worse"]["better"] is False
    assert cells["worse"]["delta"] == pytest.approx(0.4)
    assert data["metrics"] == [
        {"name": "xqe", "signature": "xqe|v1", "higher_is_better": False, "rows": SEGMENTS - 1}
    ]
