"""`evalkit judgments export|import` end to end, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.judgments.model import Span, human_score
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from tests.test_judgments_io import judgment, make_run, write_mqm


def test_import_of_an_mqm_tsv_stores_what_joins_and_lists_the_rest(
    cli, tmp_path: Path, results_dir: Path
):
    run_id = make_run(cli, tmp_path / "data")
    tsv = write_mqm(tmp_path / "wmt.tsv")
    result = cli("judgments", "import", tsv, "--run", run_id)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"stored 5 judgments for run {run_id} from {tsv} (14 rows, 1 Neutral left out); "
        "6 matched nothing"
    )
    assert "system 'sysC' is not in the run: 1 judgment left out" in result.stdout
    assert "line 10: sysA · news segment 5 · r1: no row of the document has this source" in (
        result.stdout
    )
    scores = {
        (j.segment_id, j.annotator): human_score(j)
        for j in JudgmentStore.in_results(results_dir).judgments(run_id)
    }
    assert scores[("news#s1", "r1")] == -5.1 and scores[("news#s3", "r1")] == -25

    again = cli("judgments", "import", tsv, "--run", run_id, "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["format"] == "wmt-mqm" and summary["runs"] == [run_id]
    assert (summary["stored"], summary["unmatched"], summary["neutral_skipped"]) == (5, 6, 1)
    assert {u["reason"] for u in summary["unmatched_judgments"]} >= {"system not in the run"}
    # importing the same file again replaces, never duplicates
    assert len(JudgmentStore.in_results(results_dir).judgments(run_id)) == 5


def test_export_then_import_gives_identical_judgments(cli, tmp_path: Path, results_dir: Path):
    run_id = make_run(cli, tmp_path / "data")
    store = JudgmentStore.in_results(results_dir)
    store.save_many(
        [
            judgment(run_id),
            judgment(run_id, annotator="bo", protocol="mqm", score=None,
                     spans=[Span(start=0, end=3, severity="major", category="accuracy/omission")]),
        ]
    )  # fmt: skip
    before = store.judgments()

    to_stdout = cli("judgments", "export", run_id, "--protocol", "mqm")
    assert to_stdout.exit_code == 0, to_stdout.output
    (line,) = to_stdout.stdout.splitlines()
    assert json.loads(line)["version"] == 1 and json.loads(line)["annotator"] == "bo"

    out = tmp_path / "judgments.jsonl"
    exported = cli("judgments", "export", "-o", out)
    assert exported.exit_code == 0, exported.output
    assert f"wrote 2 judgments to {out}" in exported.stderr
    (results_dir / JUDGMENTS_FILE).unlink()
    imported = cli("judgments", "import", out)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == f"stored 2 judgments for run {run_id} from {out}\n"
    assert JudgmentStore.in_results(results_dir).judgments() == before


def test_a_bad_jsonl_line_exits_2_naming_file_and_line(cli, tmp_path: Path, results_dir: Path):
    run_id = make_run(cli, tmp_path / "data")
    path = tmp_path / "j.jsonl"
    good = json.dumps({"version": 1, **judgment(run_id).model_dump()})
    bad = json.dumps({"version": 1, **judgment(run_id).model_dump(), "score": "high"})
    path.write_text(f"{good}\n{bad}\n", encoding="utf-8")
    result = cli("judgments", "import", path)
    assert result.exit_code == 2
    assert f"{path}:2: invalid judgment: score" in result.stderr
    assert cli("judgments", "export").stdout == ""  # the good first line was not stored


def test_unknown_protocol_and_missing_file_are_user_errors(cli, tmp_path: Path):
    result = cli("judgments", "export", "--protocol", "stars")
    assert result.exit_code == 2 and "no protocol 'stars'" in result.stderr
    missing = cli("judgments", "import", tmp_path / "none.jsonl")
    assert missing.exit_code == 2 and "none.jsonl: no such file" in missing.stderr
