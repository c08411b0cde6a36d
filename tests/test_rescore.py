"""`evalkit rescore`: a stored run scored again with more metrics equals a fresh run with
them, leaves the old run as it was, and works with compare and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.record import read_record, read_segments

#: cheap metrics and alignment: what is tested is rescoring, not the metrics
ALIGN = ("--align", "length")


def _systems(tmp_path: Path, synthetic_set) -> list[str]:
    """`copy`, and a `files:` system whose lines differ from the source (so the two
    systems score differently), one output line per source line."""
    out = tmp_path / "mt"
    out.mkdir()
    for doc_id in synthetic_set.doc_ids:
        source = (synthetic_set.folder / synthetic_set.source_file(doc_id)).read_text("utf-8")
        lines = source.split("\n")
        lines = [f"{x} extra words" if x.strip() and i % 2 else x for i, x in enumerate(lines)]
        (out / f"{doc_id}.txt").write_text("\n".join(lines), encoding="utf-8")
    return ["--system", "copy", "--system", f"mt=files:{out}"]


def _run(cli, synthetic_set, systems: list[str], *metrics: str, name: str) -> Path:
    args = [a for m in metrics for a in ("--metric", m)]
    result = cli("run", "--data", synthetic_set.folder, *systems, *args, *ALIGN, "--name", name)
    assert result.exit_code == 0, result.output
    return Path(json.loads(cli("show", "latest", "--json").stdout)["path"])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def stored(cli, tmp_path: Path, synthetic_set):
    systems = _systems(tmp_path, synthetic_set)
    folder = _run(cli, synthetic_set, systems, "bleu", "chrf", name="base")
    return folder, systems


def test_rescore_equals_a_fresh_run_and_leaves_the_old_run_alone(
    cli, results_dir: Path, synthetic_set, stored
):
    old, systems = stored
    before = _snapshot(old)
    result = cli("rescore", old.name, "--metric", "ter", "--metric", "chrf++", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rescored_from"] == old.name and summary["added"] == ["ter", "chrf++"]
    new = Path(summary["path"])
    assert new != old and _snapshot(old) == before  # the old run is untouched

    fresh = _run(cli, synthetic_set, systems, "bleu", "chrf", "ter", "chrf++", name="fresh")
    got, want = read_record(new), read_record(fresh)
    assert got.rescored_from == old.name and want.rescored_from is None
    assert [m.model_dump() for m in got.metrics] == [m.model_dump() for m in want.metrics]
    assert {k: v.model_dump() for k, v in got.scores.items()} == {
        k: v.model_dump() for k, v in want.scores.items()
    }
    got_rows, want_rows = list(read_segments(new)), list(read_segments(fresh))
    assert [r.model_dump() for r in got_rows] == [r.model_dump() for r in want_rows]
    assert any(f"rescored from run {old.name}" in note for note in got.notes)
    assert got.systems == read_record(old).systems  # translations were not made again


def test_same_signature_is_kept_and_nothing_new_writes_nothing(cli, results_dir: Path, stored):
    old, _ = stored
    result = cli("rescore", old.name, "--metric", "chrf")
    assert result.exit_code == 0, result.output
    assert "nothing to compute" in result.stdout
    assert sorted(p.name for p in results_dir.iterdir()) == [old.name]


def test_a_changed_signature_replaces_the_old_numbers(cli, stored):
    """A run whose chrf was computed otherwise (here: its record says another sacrebleu
    version, and its numbers are made up): rescoring computes chrf again, replaces the
    numbers everywhere and says so."""
    old, _ = stored
    run_file = old / "run.json"
    raw = json.loads(run_file.read_text(encoding="utf-8"))
    right = {m["name"]: m["signature"] for m in raw["metrics"]}["chrf"]
    for m in raw["metrics"]:
        if m["name"] == "chrf":
            m["signature"] = right.replace("version:", "version:0.")
    for system in raw["scores"].values():
        system["corpus"]["chrf"] = -1.0
    run_file.write_text(json.dumps(raw), encoding="utf-8")
    result = cli("rescore", old.name, "--metric", "chrf", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["replaced"] == ["chrf"] and summary["added"] == []
    record = read_record(Path(summary["path"]))
    (chrf,) = [m for m in record.metrics if m.name == "chrf"]
    assert chrf.signature == right
    assert all(
        s.corpus["chrf"] is not None and s.corpus["chrf"] > 0 for s in record.scores.values()
    )
    (note,) = [n for n in record.notes if n.startswith("rescored from")]
    assert "replaced (signature changed) chrf" in note and "version:0." in note


def test_compare_and_report_read_the_new_run(cli, tmp_path: Path, stored):
    old, _ = stored
    new = Path(json.loads(cli("rescore", old.name, "-m", "ter", "--json").stdout)["path"])
    compared = cli("compare", new.name, "--json", "--resamples", "50")
    assert compared.exit_code == 0, compared.output
    assert '"ter"' in compared.stdout and '"mt"' in compared.stdout
    # the rescored run beside the one it came from: same rows, same test set
    both = cli("compare", old.name, new.name, "--metric", "chrf", "--resamples", "50")
    assert both.exit_code == 0, both.output
    page = tmp_path / "report.html"
    made = cli("report", new.name, "--output", page, "--resamples", "50")
    assert made.exit_code == 0, made.output
    assert "ter" in page.read_text(encoding="utf-8")


def test_bad_metric_name_fails_with_exit_2(cli, results_dir: Path, stored):
    old, _ = stored
    result = cli("rescore", old.name, "--metric", "no-such-metric")
    assert result.exit_code == 2
    assert "unknown metric 'no-such-metric'" in result.stderr and "chrf" in result.stderr
    assert sorted(p.name for p in results_dir.iterdir()) == [old.name]


def test_unknown_run_fails_with_exit_2(cli, stored):
    result = cli("rescore", "nope", "--metric", "ter")
    assert result.exit_code == 2 and "no run 'nope'" in result.stderr
