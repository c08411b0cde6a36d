"""Paired tests: A/A is not significant, A/B is, and the numbers are sacrebleu's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from evalkit import api
from evalkit.compare.load import Pool, Row, SystemRef
from evalkit.compare.significance import FEW_ROWS, bootstrap_indices, compare
from evalkit.record import MetricInfo
from tests.compare_data import run_args, write_systems


@pytest.fixture
def systems(cli, tmp_path: Path, results_dir: Path):
    """One run: good, same (good's very file), near (2 trivial edits), worse."""
    paths = write_systems(tmp_path / "data")
    args = run_args(paths, "good", "near", "worse")
    args += ["--system", f"same=files:{paths['good']}"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return paths, json.loads(result.stdout)["run_id"]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_a_system_against_itself_is_not_significant(systems, results_dir, test):
    _, run_id = systems
    comparison = api.compare_runs(run_id, results_dir=results_dir, test=test)
    for m in comparison.metrics:
        cell = comparison.cells[m.name]["same"]
        assert cell.delta == 0 and cell.p_value == 1.0 and not cell.significant
        assert cell.n == 40


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_trivially_different_copy_is_not_significant(systems, results_dir, test):
    _, run_id = systems
    comparison = api.compare_runs(run_id, results_dir=results_dir, test=test)
    for m in comparison.metrics:
        cell = comparison.cells[m.name]["near"]
        assert cell.delta != 0
        assert cell.p_value > 0.05 and not cell.significant, (m.name, cell)
        assert cell.delta_ci[0] <= 0 <= cell.delta_ci[1] or cell.delta_ci == (0.0, 0.0)


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_clearly_worse_system_is_significant(systems, results_dir, test):
    _, run_id = systems
    comparison = api.compare_runs(run_id, results_dir=results_dir, test=test)
    for m in comparison.metrics:
        cell = comparison.cells[m.name]["worse"]
        assert cell.p_value < 0.05 and cell.significant and cell.better is False
        low, high = cell.delta_ci
        assert (high < 0) if m.higher_is_better else (low > 0)  # the CI excludes no change
        assert cell.ci[0] <= cell.score <= cell.ci[1]


def test_bootstrap_p_values_are_sacrebleus(systems, results_dir):
    """Same data, same seed, same resamples: the same p-values as sacrebleu's PairedTest."""
    paths, run_id = systems
    refs = [_lines(paths["ref"])]
    comparison = api.compare_runs(run_id, results_dir=results_dir, test="bs", resamples=1000)
    for other in ("near", "worse"):
        test = PairedTest(
            [("good", _lines(paths["good"])), (other, _lines(paths[other]))],
            {"BLEU": BLEU(), "chrF": CHRF(), "chrF++": CHRF(word_order=2), "TER": TER()},
            refs,
            test_type="bs",
            n_samples=1000,
        )
        _, results = test()
        names = {"bleu": "BLEU", "chrf": "chrF2", "chrf++": "chrF2++", "ter": "TER"}
        for ours, name in names.items():
            theirs = results[name][1]
            cell = comparison.cells[ours][other]
            assert cell.p_value == theirs.p_value, (other, ours)
            assert cell.score == pytest.approx(theirs.score, abs=1e-9)
    assert comparison.cells["bleu"]["near"].p_value > 0.05


def test_randomization_p_values_are_sacrebleus_without_ties(cli, tmp_path, results_dir):
    """Two different systems of similar quality: an intermediate p, the same as sacrebleu's."""
    paths = write_systems(tmp_path / "data")
    run_id = json.loads(cli(*run_args(paths, "good", "alt")).stdout)["run_id"]
    refs = [_lines(paths["ref"])]
    named = [("good", _lines(paths["good"])), ("alt", _lines(paths["alt"]))]
    metrics = {"BLEU": BLEU(), "chrF": CHRF(), "TER": TER()}
    for test in ("ar", "bs"):
        ours = api.compare_runs(run_id, results_dir=results_dir, test=test)
        _, results = PairedTest(named, metrics, refs, test_type=test, n_samples=1000)()
        for name, theirs in (("bleu", "BLEU"), ("chrf", "chrF2"), ("ter", "TER")):
            p = ours.cells[name]["alt"].p_value
            assert 0.01 < p < 0.99
            if (test, name) == ("ar", "ter"):
                # TER differences under swapping are multiples of 1/reference length, so
                # swaps tie the observed one often: counted here, not by sacrebleu
                assert p > results[theirs][1].p_value
            else:
                assert p == results[theirs][1].p_value, (test, name)


def test_where_sacrebleu_and_this_differ_on_ties(systems, results_dir):
    """sacrebleu counts only strictly larger resampled differences, so a system compared with
    itself gets p = 1/(R+1); ties count here, which gives 1."""
    paths, run_id = systems
    hyps = _lines(paths["good"])
    _, results = PairedTest(
        [("good", hyps), ("same", list(hyps))],
        {"BLEU": BLEU()},
        [_lines(paths["ref"])],
        test_type="bs",
        n_samples=1000,
    )()
    assert results["BLEU"][1].p_value == pytest.approx(1 / 1001)
    ours = api.compare_runs(run_id, results_dir=results_dir, metrics=["bleu"])
    assert ours.cells["bleu"]["same"].p_value == 1.0


def test_resamples_and_seed_are_options_and_recorded(cli, systems):
    _, run_id = systems
    result = cli("compare", run_id, "--resamples", "200", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["resamples"] == 200 and data["seed"] == 7 and data["test"] == "bs"
    p = data["results"]["bleu"]["worse"]["p_value"]
    assert p == pytest.approx(1 / 201)
    rich = cli("compare", run_id, "--resamples", "200", "--seed", "7")
    assert "200 resamples, seed 7" in rich.stdout


def _pool(scores: dict[str, list[float | None]], metrics: list[MetricInfo]) -> Pool:
    keys = list(scores)
    n = len(next(iter(scores.values())))
    rows = [
        Row(
            "d",
            (i + 1,),
            (),
            f"مصدر {i}",
            None,
            {k: f"out {i}" for k in keys},
            {k: {m.name: scores[k][i] for m in metrics} for k in keys},
        )
        for i in range(n)
    ]
    return Pool([], [SystemRef(k, k, "r") for k in keys], metrics, rows)


def test_mean_metrics_use_the_same_paired_bootstrap():
    """Metrics other than sacrebleu's: the mean of stored segment scores, None rows left out."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.9, size=60)
    noise = rng.normal(0, 0.01, size=60)
    qe = MetricInfo(name="xqe", signature="x", higher_is_better=True, needs_reference=False)
    pool = _pool(
        {
            "a": [*base[:59], None],
            "a_copy": [*(base[:59] + noise[:59]), 0.1],
            "bad": [*(base[:59] - 0.2), 0.5],
        },
        [qe],
    )
    comparison = compare(pool, resamples=1000, seed=12345)
    cells = comparison.cells["xqe"]
    assert cells["a"].n == 59
    assert cells["a"].score == pytest.approx(float(np.mean(base[:59])))
    assert not cells["a_copy"].significant and cells["a_copy"].p_value > 0.05
    assert cells["bad"].significant and cells["bad"].better is False
    assert cells["bad"].delta == pytest.approx(-0.2)
    # the interval is the bootstrap percentile interval over the same indices
    idxs = bootstrap_indices(59, 1000, 12345)
    expected = np.percentile(base[:59][idxs].mean(1), [2.5, 97.5])
    assert cells["a"].ci == pytest.approx(tuple(expected))


def test_lower_is_better_and_discrete_scores():
    """A 0/1 diagnostic where fewer flags is better: ties are common and count as extreme."""
    flags = MetricInfo(
        name="off_target", signature="x", higher_is_better=False, needs_reference=False
    )
    clean = [0.0] * 30
    pool = _pool({"a": clean, "same": list(clean), "flagged": [1.0] * 12 + [0.0] * 18}, [flags])
    cells = compare(pool).cells["off_target"]
    assert cells["same"].p_value == 1.0 and not cells["same"].significant
    assert cells["flagged"].significant and cells["flagged"].better is False
    better = compare(pool, baseline="flagged").cells["off_target"]["a"]
    assert better.better is True and better.delta == pytest.approx(-0.4)


def test_few_rows_are_flagged_and_never_significant():
    qe = MetricInfo(name="xqe", signature="x", higher_is_better=True, needs_reference=False)
    pool = _pool({"a": [0.9, 0.8, 0.95, 0.85], "b": [0.1, 0.2, 0.15, 0.05]}, [qe])
    comparison = compare(pool)
    cell = comparison.cells["xqe"]["b"]
    assert cell.n == 4 < FEW_ROWS and cell.few_rows and not cell.significant
    assert any(w.kind == "few-rows" and "only 4 rows" in w.text for w in comparison.warnings)
    one = compare(_pool({"a": [0.9], "b": [0.1]}, [qe])).cells["xqe"]["b"]
    assert one.p_value is None and not one.significant


def test_an_unknown_top_metric_names_the_api_argument_and_the_choices():
    from evalkit.api import compute_breakdowns
    from evalkit.errors import UserInputError

    qe = MetricInfo(name="xqe", signature="x", higher_is_better=True, needs_reference=False)
    comparison = compare(_pool({"a": [0.5, 0.6, 0.7], "b": [0.4, 0.6, 0.9]}, [qe]))
    with pytest.raises(UserInputError) as refused:
        compute_breakdowns(comparison, top_metric="no-such-metric")
    message = str(refused.value)
    assert "top_metric" in message and "--top-metric" not in message
    assert all(m.name in message for m in comparison.metrics)
