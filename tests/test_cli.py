"""One end-to-end test per command, through the real CLI."""

import json
from pathlib import Path

from evalkit.corpus.resolve import load_test_set
from evalkit.record import read_record, read_segments

#: what these tests are about is the command, not how runs align or score: the cheapest
#: metric and alignment
CHEAP = ("--metric", "chrf", "--align", "length")


def test_run_scores_a_test_set_and_stores_the_run(cli, results_dir: Path, synthetic_set):
    result = cli(
        "run",
        "--data",
        synthetic_set.folder,
        "--system",
        "copy",
        *("--metric", "bleu", "--metric", "chrf", "--metric", "ter", "--align", "length"),
        "--name",
        "smoke",
    )
    assert result.exit_code == 0, result.output
    assert "copy" in result.stdout and "bleu ↑" in result.stdout and "ter ↓" in result.stdout
    assert "aligned units" in result.stdout  # the reference is not line-aligned
    (folder,) = [p for p in results_dir.iterdir()]
    record = read_record(folder)
    assert record.name == "smoke" and record.test_set.name == synthetic_set.folder.name
    assert [s.label for s in record.systems] == ["copy"]
    assert [m.name for m in record.metrics] == ["bleu", "chrf", "ter"]
    assert record.environment["sacrebleu"] and record.environment["cpu"]
    rows = list(read_segments(folder))
    # the document with a reference as aligned units covering both sides once, then the
    # rows of the one without
    with_ref, without_ref = synthetic_set.with_ref, synthetic_set.without_ref
    aligned = [row for row in rows if row.doc_id == with_ref]
    src, ref = synthetic_set.pair.src, synthetic_set.pair.ref
    assert [i for row in aligned for i in row.ref_ids] == list(range(1, len(ref) + 1))
    assert [i for row in aligned for i in row.src_ids] == list(range(1, len(src) + 1))
    assert all(
        row.confidence is not None and row.scores["copy"]["chrf"] is not None for row in aligned
    )
    (alignment,) = record.alignment
    assert alignment.doc_id == with_ref and len(alignment.links) == len(aligned)
    assert record.test_set.documents[0].scored_as == "aligned"
    others = rows[len(aligned) :]
    assert others and all(row.doc_id == without_ref and row.ref is None for row in others)
    assert others[0].hyp["copy"] == others[0].src == synthetic_set.alone[0]


def test_run_json_summary(cli, tmp_path: Path):
    src, ref, hyp = (tmp_path / n for n in ("s.ar", "r.en", "h.en"))
    src.write_text("قطة\nكلب\n", encoding="utf-8")
    ref.write_text("a cat\na dog\n", encoding="utf-8")
    hyp.write_text("a cat\nthe dog\n", encoding="utf-8")
    result = cli(
        "run",
        "--src",
        src,
        "--ref",
        ref,
        "--system",
        f"mine=files:{hyp}",
        "--system",
        "copy",
        "--metric",
        "chrf",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["schema_version"] == 1
    assert set(summary["systems"]) == {"mine", "copy"}
    mine = summary["systems"]["mine"]
    assert mine["corpus"]["chrf"] > summary["systems"]["copy"]["corpus"]["chrf"]
    assert Path(summary["path"], "run.json").is_file()


def test_score_prints_one_row_per_hypothesis(cli, tmp_path: Path):
    ref = tmp_path / "ref.txt"
    ref.write_text("the cat sat on the mat\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("the cat sat on the mat\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("a dog stood\n", encoding="utf-8")
    hyps = ("--hyp", tmp_path / "a.txt", "--hyp", tmp_path / "b.txt")
    result = cli("score", "--ref", ref, *hyps, "--metric", "chrf")
    assert result.exit_code == 0, result.output
    assert "a.txt" in result.stdout and "b.txt" in result.stdout
    assert "100.00" in result.stdout  # a.txt is the reference itself


def test_runs_lists_stored_runs(cli):
    assert "no runs" in cli("runs").stdout
    cli("run", *CHEAP, "--name", "first")
    cli("run", *CHEAP, "--name", "second")
    listing = cli("runs", "--json")
    assert listing.exit_code == 0
    assert [r["run_id"].split("-")[2] for r in json.loads(listing.stdout)] == ["first", "second"]
    table = cli("runs")
    assert "first" in table.stdout and "second" in table.stdout


def test_show_by_system_and_by_document(cli):
    run = json.loads(cli("run", *CHEAP, "--json").stdout)
    shown = cli("show", run["run_id"][:20])
    assert shown.exit_code == 0 and run["run_id"] in shown.stdout
    by_doc = cli("show", "latest", "--by", "doc")
    assert by_doc.exit_code == 0
    doc_ids = [doc.id for doc in load_test_set().documents]  # the default test set
    assert doc_ids
    for doc_id in doc_ids:
        assert doc_id in by_doc.stdout
    as_json = json.loads(cli("show", "latest", "--json").stdout)
    assert as_json["systems"]["copy"]["corpus"] == run["systems"]["copy"]["corpus"]
    assert set(as_json["systems"]["copy"]["documents"]) == set(doc_ids)


def test_show_unknown_run_fails_cleanly(cli):
    result = cli("show", "nope")
    assert result.exit_code == 2 and "no run 'nope'" in result.stderr


def test_models_lists_engines_and_packaged_models(cli):
    listing = json.loads(cli("models", "--json").stdout)
    kinds = {row["kind"] for row in listing["engines"]}
    assert {"copy", "files", "hf-seq2seq", "hf-causal", "ct2", "packaged"} <= kinds
    default = [row for row in listing["packaged"] if row["default"]]
    assert [row["name"] for row in default] == ["qwen2.5-coder-0.5b-instruct"]
    assert all(isinstance(row["installed"], bool) for row in listing["packaged"])
    assert "packaged models" in cli("models").stdout


def test_cache_info_and_clear(cli, tmp_path: Path, synthetic_set):
    from evalkit.translate import translation_units

    test_set = load_test_set(str(synthetic_set.folder))
    distinct = len({(u.lang, u.text) for u in translation_units(test_set, "sentence")})
    # embedding alignment: it fills the third store, of sentence embeddings
    args = ("--data", synthetic_set.folder, "--metric", "chrf", "--align", "embedding")
    assert cli("run", "--system", "copy", *args).exit_code == 0
    info = json.loads(cli("cache", "info", "--json").stdout)
    assert info["entries"] == distinct and info["engines"] == 1
    rerun = json.loads(cli("run", "--system", "copy", *args, "--json").stdout)
    assert rerun["systems"]["copy"]["corpus"]
    record = json.loads(Path(rerun["path"], "run.json").read_text())
    assert record["systems"][0]["cache_hits"] == distinct
    assert record["systems"][0]["translated"] == 0
    stores = json.loads(cli("cache", "info", "--json").stdout)["stores"]
    assert stores["translations"]["entries"] == distinct
    assert stores["translations"]["last_run"] == {"hits": distinct, "misses": 0}
    assert stores["statistics"]["entries"] > 0 and stores["embeddings"]["entries"] > 0
    assert stores["statistics"]["last_run"]["misses"] == 0  # the rerun found every one
    assert stores["statistics"]["misses"] > 0  # counted over both runs: the first computed
    assert "statistics" in cli("cache", "info").stdout

    cleared = cli("cache", "clear", "--store", "statistics")
    assert f"removed {stores['statistics']['entries']} entries from statistics" in cleared.stdout
    after = json.loads(cli("cache", "info", "--json").stdout)["stores"]
    assert after["statistics"]["entries"] == 0 and after["statistics"]["hits"] == 0
    assert after["translations"]["entries"] == distinct
    assert cli("cache", "clear", "--store", "nope").exit_code == 2
    cli("cache", "clear")
    info = json.loads(cli("cache", "info", "--json").stdout)
    assert info["entries"] == 0 and all(s["entries"] == 0 for s in info["stores"].values())
