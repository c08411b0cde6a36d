"""`evalkit.evaluate`, `score` and `rescore`: the library calls the command line uses."""

from __future__ import annotations

import json

import pytest
from sacrebleu.metrics import BLEU

import evalkit
from evalkit import api
from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.metrics import create_metrics


def _files(tmp_path):
    src, ref, hyp = tmp_path / "s.ar", tmp_path / "r.en", tmp_path / "h.en"
    src.write_text("نص أول\nنص ثان\n", encoding="utf-8")
    ref.write_text("the first text\nthe second text\n", encoding="utf-8")
    hyp.write_text("a first text\nthe second one\n", encoding="utf-8")
    return src, ref, hyp


def test_evaluate_stores_the_run_the_cli_would_store(cli, results_dir, tmp_path):
    src, ref, hyp = _files(tmp_path)
    test_set = load_test_set(None, src, [ref])
    run = evalkit.evaluate(
        test_set, [f"mt=files:{hyp}"], ["bleu", "chrf"], cache=False, results_dir=results_dir
    )
    assert run.folder is not None and run.folder.parent == results_dir
    stored = json.loads((run.folder / "run.json").read_text())
    expected = BLEU().corpus_score(["a first text", "the second one"], [["the first text",
                                   "the second text"]]).score  # fmt: skip
    assert stored["scores"]["mt"]["corpus"]["bleu"] == pytest.approx(expected)
    by_cli = cli("run", "--src", src, "--ref", ref, "-s", f"mt=files:{hyp}", "-m", "bleu",
                 "-m", "chrf", "--no-cache", "--json")  # fmt: skip
    assert by_cli.exit_code == 0, by_cli.output
    cli_run = json.loads(
        (results_dir / json.loads(by_cli.stdout)["run_id"] / "run.json").read_text()
    )
    assert cli_run["scores"] == stored["scores"]


def test_evaluate_takes_built_objects_and_keeps_their_order(tmp_path):
    src, ref, hyp = _files(tmp_path)
    test_set = load_test_set(None, src, [ref])
    (built,) = create_systems([f"b=files:{hyp}"])
    (chrf,) = create_metrics(["chrf"])
    run = api.evaluate(test_set, ["copy", built], ["bleu", chrf], cache=False, results_dir=None)
    assert run.folder is None
    assert [s.label for s in run.record.systems] == ["copy", "b"]
    assert [m.name for m in run.record.metrics] == ["bleu", "chrf"]


def test_score_with_two_references_and_rescore(tmp_path, results_dir):
    src, ref, hyp = _files(tmp_path)
    ref2 = tmp_path / "r2.en"
    hyp.write_text("the hypothesis of the first text\nthe second one as it stands\n", "utf-8")
    ref2.write_text(hyp.read_text(encoding="utf-8"), encoding="utf-8")
    scored = evalkit.score([ref, ref2], [hyp], metrics=["bleu"])
    assert scored.record.scores["h.en"].corpus["bleu"] == pytest.approx(100.0)
    assert "nrefs:2" in scored.record.metrics[0].signature
    run = evalkit.evaluate(load_test_set(None, src, [ref]), ["copy"], ["bleu"], cache=False,
                           results_dir=results_dir)  # fmt: skip
    again = evalkit.rescore(run.folder, ["chrf"], cache=False, results_dir=results_dir)
    assert again.result.added == ["chrf"] and again.run is not None
    assert again.run.record.rescored_from == run.record.run_id
