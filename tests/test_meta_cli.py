"""`evalkit meta` end to end: a real run (file systems, no model), judgments saved in the
store or written as JSONL, and every number checked against a computation done here from
the rows and the judgments, independently of evalkit.meta."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from evalkit.judgments.model import Judgment, Span
from evalkit.judgments.store import JudgmentStore
from evalkit.record import find_run, read_record, read_segments, write_run
from tests.compare_data import run_args, write_systems
from tests.test_meta_stats import brute_calibrated, exact_p

SYSTEMS = ("good", "near", "worse")
ITEMS = 8  # 2**8 sign masks < 1000 permutations: SPA's tests are exact, checkable here


def _run(cli, tmp_path: Path, *systems: str) -> str:
    paths = write_systems(tmp_path / "data")
    result = cli(*run_args(paths, *systems))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["run_id"]


def _judge(results_dir: Path, run_id: str) -> dict[tuple[str, str], list[float]]:
    """ESA judgments of the first ITEMS rows by `ana`, the first half again by `omar`, plus
    what must be left out: an attention check, an unfinished item, MQM judgments. Returns
    the scores that count, per (segment, system)."""
    rows = list(read_segments(find_run(results_dir, run_id)))[:ITEMS]
    rng = random.Random(11)
    store = JudgmentStore.in_results(results_dir)
    counted: dict[tuple[str, str], list[float]] = {}
    for annotator, items in (("ana", rows), ("omar", rows[: ITEMS // 2])):
        for row in items:
            for system in row.hyp:
                # integer scores that follow chrF loosely: human ties happen
                score = float(round(row.scores[system]["chrf"] / 10) * 10 + rng.choice([0, 10]))
                store.save(_esa(run_id, row.id, system, annotator, score, row.hyp[system]))
                counted.setdefault((row.id, system), []).append(score)
    first = rows[0]
    store.save(_esa(run_id, first.id, "good", "ana", 0.0, "shuffled", attention_check=True))
    store.save(_esa(run_id, rows[-1].id, "good", "lee", 99.0, "", complete=False))
    store.save(
        Judgment(
            run_id=run_id,
            segment_id=first.id,
            system="worse",
            annotator="ana",
            protocol="mqm",
            spans=[Span(start=0, end=3, severity="major", category="accuracy/omission")],
            complete=True,
        )
    )
    return counted


def _esa(run_id, segment, system, annotator, score, target, **extra) -> Judgment:
    fields = {"complete": True, **extra}
    return Judgment(
        run_id=run_id,
        segment_id=segment,
        system=system,
        annotator=annotator,
        protocol="esa",
        score=score,
        target=target,
        **fields,
    )


def _expected(results_dir: Path, run_id: str, counted, metric: str) -> dict[str, float]:
    """The statistics computed here from the definitions, for one metric."""
    rows = {r.id: r for r in read_segments(find_run(results_dir, run_id))}
    record = read_record(find_run(results_dir, run_id))
    info = next(m for m in record.metrics if m.name == metric)
    sign = 1.0 if info.higher_is_better else -1.0
    items = list(dict.fromkeys(segment for segment, _ in counted))
    human = np.array([[np.mean(counted[(i, s)]) for i in items] for s in SYSTEMS])
    scores = np.array([[sign * rows[i].scores[s][metric] for i in items] for s in SYSTEMS])
    pairs = list(itertools.combinations(range(len(SYSTEMS)), 2))
    h_sys, m_sys = human.mean(axis=1), scores.mean(axis=1)
    accuracy = np.mean(
        [np.sign(h_sys[a] - h_sys[b]) == np.sign(m_sys[a] - m_sys[b]) for a, b in pairs]
    )
    # SPA's one-sided tests run from the humans' better system to the worse one
    best = sorted(range(len(SYSTEMS)), key=lambda k: -human[k].sum())
    ordered = [(best[a], best[b]) for a, b in pairs]
    spa = 1 - np.mean(
        [abs(exact_p(human[a], human[b]) - exact_p(scores[a], scores[b])) for a, b in ordered]
    )
    acc23, epsilon = brute_calibrated(human, scores)
    return {
        "pairwise_accuracy": float(accuracy),
        "soft_pairwise_accuracy": float(spa),
        "acc23": acc23,
        "epsilon": epsilon,
        "kendall_tau_b": scipy.stats.kendalltau(human.ravel(), scores.ravel()).statistic,
        "pearson": scipy.stats.pearsonr(human.ravel(), scores.ravel()).statistic,
    }


@pytest.fixture
def judged(cli, tmp_path: Path, results_dir: Path):
    run_id = _run(cli, tmp_path, *SYSTEMS)
    return run_id, _judge(results_dir, run_id)


def _meta(cli, *args: str) -> dict:
    result = cli("meta", *args, "--json", "--resamples", "200")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_meta_numbers_equal_an_independent_computation(cli, judged, results_dir: Path):
    run_id, counted = judged
    data = _meta(cli, run_id)
    assert data["kind"] == "evalkit.meta" and data["schema_version"] == 1
    human = data["human"]
    assert human["protocol"] == "esa" and human["annotators"] == ["ana", "omar"]
    assert human["judgments"] == sum(len(v) for v in counted.values())
    assert human["items"] == ITEMS and human["cells"] == ITEMS * len(SYSTEMS)
    assert any(f"only {ITEMS} items judged" in note for note in data["notes"])
    assert human["excluded"] == {
        "attention checks": 1,
        "unfinished": 1,
        "protocol mqm (scores on another scale)": 1,
    }
    by_name = {m["name"]: m for m in data["metrics"]}
    assert set(by_name) == {"bleu", "chrf", "chrf++", "ter"}
    for name, m in by_name.items():
        expected = _expected(results_dir, run_id, counted, name)
        for key in ("pairwise_accuracy", "soft_pairwise_accuracy", "acc23"):
            assert m[key]["value"] == pytest.approx(expected[key]), (name, key)
        assert m["epsilon"] == pytest.approx(expected["epsilon"])
        for key in ("kendall_tau_b", "pearson"):
            assert m[key]["value"] == pytest.approx(expected[key]), (name, key)
            low, high = m[key]["ci"]
            assert low <= m[key]["value"] <= high
        assert m["systems"] == 3 and m["cells"] == ITEMS * 3 and m["system_items"] == ITEMS
    # TER is lower-is-better: its scores were negated, so it agrees as well as the others
    assert by_name["ter"]["higher_is_better"] is False
    assert by_name["ter"]["kendall_tau_b"]["value"] > 0
    ranks = sorted(m["rank"] for m in data["metrics"])
    assert ranks[0] == 1
    best = min(data["metrics"], key=lambda m: m["rank"])
    assert best["ranking_score"] == max(m["ranking_score"] for m in data["metrics"])
    # significance clusters: the best metric in the first, never better than a higher rank
    by_rank = sorted(data["metrics"], key=lambda m: (m["rank"], m["name"]))
    clusters = [m["cluster"] for m in by_rank]
    assert clusters[0] == 1 and clusters == sorted(clusters)
    assert all(later - earlier in (0, 1) for earlier, later in itertools.pairwise(clusters))


def test_meta_on_z_scores_standardises_each_annotator(cli, judged, results_dir: Path):
    run_id, _ = judged
    data = _meta(cli, run_id, "--scale", "z")
    assert data["human"]["scale"] == "z"
    # computed here: each annotator's counted ESA scores standardised, then averaged per cell
    counted = [
        j
        for j in JudgmentStore.in_results(results_dir).judgments()
        if j.protocol == "esa" and j.complete and not j.attention_check
    ]
    by_annotator: dict[str, list[float]] = {}
    for j in counted:
        by_annotator.setdefault(j.annotator, []).append(float(j.score))
    moments = {a: (np.mean(v), np.std(v)) for a, v in by_annotator.items()}
    cells: dict[tuple[str, str], list[float]] = {}
    for j in counted:
        mean, deviation = moments[j.annotator]
        cells.setdefault((j.segment_id, j.system), []).append((j.score - mean) / deviation)
    rows = {r.id: r for r in read_segments(find_run(results_dir, run_id))}
    keys = sorted(cells)
    human = [np.mean(cells[k]) for k in keys]
    chrf = [rows[segment].scores[system]["chrf"] for segment, system in keys]
    by_name = {m["name"]: m for m in data["metrics"]}
    expected = scipy.stats.pearsonr(human, chrf).statistic
    assert by_name["chrf"]["pearson"]["value"] == pytest.approx(expected)
    raw = {m["name"]: m for m in _meta(cli, run_id)["metrics"]}
    assert raw["chrf"]["pearson"]["value"] != pytest.approx(expected)
    rich = cli("meta", run_id, "--scale", "z", "--resamples", "20")
    assert rich.exit_code == 0 and "z-scores per annotator" in rich.stdout


def test_inter_annotator_agreement_on_items_judged_twice(cli, judged):
    run_id, _ = judged
    (pair,) = _meta(cli, run_id)["annotators"]
    assert (pair["first"], pair["second"]) == ("ana", "omar")
    assert pair["items"] == ITEMS // 2 and pair["cells"] == ITEMS // 2 * len(SYSTEMS)
    assert pair["kendall_tau_b"]["value"] is not None
    assert 0 <= pair["pairwise_accuracy"]["value"] <= 1


def test_meta_reads_a_jsonl_of_judgments_and_agrees_with_the_store(
    cli, judged, results_dir: Path, tmp_path: Path
):
    run_id, _ = judged
    path = tmp_path / "judgments.jsonl"
    lines = [
        json.dumps({"version": 1, **j.model_dump()})
        for j in JudgmentStore.in_results(results_dir).judgments(run_id)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from_store, from_file = _meta(cli, run_id), _meta(cli, run_id, "--human", str(path))
    assert from_file["human"]["source"] == str(path)
    assert from_file["metrics"] == from_store["metrics"]


def test_meta_follows_a_rescored_run_to_the_judgments_of_its_original(
    cli, judged, results_dir: Path
):
    run_id, _ = judged
    folder = find_run(results_dir, run_id)
    record = read_record(folder)
    again = record.model_copy(
        update={"run_id": record.run_id + "-rescored", "rescored_from": run_id}
    )
    write_run(results_dir, again, read_segments(folder))
    original, rescored = _meta(cli, run_id), _meta(cli, again.run_id)
    assert rescored["human"]["run_ids"] == [again.run_id, run_id]
    assert rescored["metrics"] == original["metrics"]


def test_meta_tables_in_every_format(cli, judged):
    run_id, _ = judged
    rich = cli("meta", run_id, "--resamples", "20")
    assert rich.exit_code == 0, rich.output
    assert "agreement with human judgments" in rich.stdout and "inter-annotator" in rich.stdout
    assert "ter ↓" in rich.stdout and "attention checks 1" in rich.stdout
    markdown = cli("meta", run_id, "--resamples", "20", "--format", "markdown").stdout
    assert "| rank | cluster | metric |" in markdown
    latex = cli("meta", run_id, "--resamples", "20", "--format", "latex").stdout
    assert "\\begin{tabular}" in latex
    csv_text = cli("meta", run_id, "--resamples", "20", "--format", "csv").stdout
    header, *rows = csv_text.strip().splitlines()
    assert header.startswith("metric,higher_is_better,rank") and len(rows) == 4


def test_one_system_gives_reasons_not_numbers(cli, tmp_path: Path, results_dir: Path):
    run_id = _run(cli, tmp_path, "good")
    rows = list(read_segments(find_run(results_dir, run_id)))[:5]
    store = JudgmentStore.in_results(results_dir)
    for k, row in enumerate(rows):
        store.save(_esa(run_id, row.id, "good", "ana", float(10 * k), row.hyp["good"]))
    data = _meta(cli, run_id)
    chrf = next(m for m in data["metrics"] if m["name"] == "chrf")
    for key in ("pairwise_accuracy", "soft_pairwise_accuracy", "acc23"):
        assert chrf[key]["value"] is None and chrf[key]["reason"]
    assert chrf["kendall_tau_b"]["value"] is not None  # pooled over segments: still defined
    text = cli("meta", run_id, "--resamples", "20").stdout
    assert "needs 2 systems" in text


def test_no_judgments_is_a_clear_error(cli, tmp_path: Path):
    run_id = _run(cli, tmp_path, "good", "worse")
    result = cli("meta", run_id)
    assert result.exit_code == 2
    assert "no usable human judgment" in result.stderr


def test_report_has_the_agreement_section_only_with_judgments(cli, judged, results_dir: Path):
    run_id, _ = judged
    assert cli("report", run_id).exit_code == 0
    page = (results_dir / run_id / "report.html").read_text(encoding="utf-8")
    assert "Agreement with human judgments" in page and "inter-annotator agreement" in page
    (results_dir / "judgments.sqlite").unlink()
    assert cli("report", run_id).exit_code == 0
    page = (results_dir / run_id / "report.html").read_text(encoding="utf-8")
    assert "Agreement with human judgments" not in page


def test_the_python_api_gives_what_the_command_prints(cli, judged, results_dir: Path):
    from evalkit import api

    run_id, _ = judged
    evaluation = api.meta_evaluation(run_id, results_dir=results_dir, resamples=20)
    assert json.loads(api.format_meta(evaluation, "json")) == _meta_at(cli, run_id, "20")
    assert (
        api.format_meta(evaluation, "markdown")
        == cli("meta", run_id, "--resamples", "20", "--format", "markdown").stdout
    )
    on_z = api.meta_evaluation(run_id, results_dir=results_dir, resamples=20, scale="z")
    z_json = cli("meta", run_id, "--json", "--resamples", "20", "--scale", "z").stdout
    assert json.loads(api.format_meta(on_z, "json")) == json.loads(z_json)


def _meta_at(cli, run_id: str, resamples: str) -> dict:
    result = cli("meta", run_id, "--json", "--resamples", resamples)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
