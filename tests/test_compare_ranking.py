"""Ranking every system (evalkit/compare/ranking.py): significance clusters between
neighbours, shared ranks on ties, WMT24's AutoRank, per-group rankings, and `evalkit
compare` / `evalkit report` showing them."""

from __future__ import annotations

import csv
import io
import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from evalkit import api
from evalkit.compare.load import Pool, Row, SystemRef
from evalkit.compare.ranking import (
    autorank,
    clusters_of,
    rank_by_group,
    rank_comparison,
    rescale,
    wants_ranking,
)
from evalkit.compare.significance import compare
from evalkit.errors import UserInputError
from evalkit.json_output import comparison_json
from evalkit.record import MetricInfo
from tests.compare_data import SEGMENTS, run_args, write_systems

QE = MetricInfo(name="qe", signature="qe|v1", higher_is_better=True, needs_reference=False)
ERRORS = MetricInfo(name="errs", signature="errs|v1", higher_is_better=False, needs_reference=False)
RESAMPLES = 200


def _pool(scores: dict[str, list[float]], metric: MetricInfo = QE, docs: list[str] | None = None):
    """A pool of one mean-of-segment-scores metric (a name evalkit does not know, so its
    stored scores are resampled), rows in the documents `docs` (default: all in "d")."""
    keys = list(scores)
    n = len(scores[keys[0]])
    rows = [
        Row(
            doc_id=docs[i] if docs else "d",
            src_ids=(i + 1,),
            ref_ids=(),
            src=f"مصدر {i}",
            ref=None,
            hyp={k: f"out {k} {i}" for k in keys},
            scores={k: {metric.name: scores[k][i]} for k in keys},
        )
        for i in range(n)
    ]
    return Pool([], [SystemRef(k, k, "r") for k in keys], [metric], rows)


def _ranked(pool: Pool, test: str = "bs", autorank_metrics=None):
    comparison = compare(pool, resamples=RESAMPLES, seed=1, test=test)
    return comparison, rank_comparison(comparison, autorank_metrics)


def _by_system(entries) -> dict[str, tuple[int, int]]:
    return {e.system: (e.rank, e.cluster) for e in entries}


def _noise(seed: int, n: int = 40, scale: float = 0.01) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, n)


# --- clusters on cases whose answer is known ------------------------------------------


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_identical_systems_share_rank_and_cluster_above_a_clearly_worse_one(test):
    base = 0.7 + _noise(0, scale=0.1)
    pool = _pool({"c": list(base - 0.3), "a": list(base), "b": list(base)})
    _, ranking = _ranked(pool, test)
    entries = ranking.metrics["qe"]
    assert [e.system for e in entries] == ["a", "b", "c"]  # equal scores keep their order
    assert _by_system(entries) == {"a": (1, 1), "b": (1, 1), "c": (3, 2)}
    assert entries[1].p_value == 1.0 and entries[1].delta == 0
    assert entries[2].p_value < 0.05 and entries[2].delta == pytest.approx(-0.3)
    assert entries[0].p_value is None and entries[0].delta is None


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_a_chain_with_large_gaps_is_one_cluster_per_system(test):
    pool = _pool({name: list(mean + _noise(i)) for i, (name, mean) in enumerate(
        [("mid", 0.5), ("top", 0.9), ("low", 0.3), ("high", 0.7)]
    )})  # fmt: skip
    _, ranking = _ranked(pool, test)
    assert _by_system(ranking.metrics["qe"]) == {
        "top": (1, 1),
        "high": (2, 2),
        "mid": (3, 3),
        "low": (4, 4),
    }


def test_lower_is_better_sorts_the_lowest_first():
    pool = _pool(
        {
            "many": list(0.6 + _noise(1)),
            "few": list(0.1 + _noise(2)),
            "some": list(0.3 + _noise(3)),
        },
        ERRORS,
    )
    _, ranking = _ranked(pool)
    assert [e.system for e in ranking.metrics["errs"]] == ["few", "some", "many"]
    assert [e.cluster for e in ranking.metrics["errs"]] == [1, 2, 3]
    assert ranking.metrics["errs"][1].delta == pytest.approx(0.2, abs=0.02)  # worse: higher


def test_a_difference_within_noise_is_no_boundary():
    base = 0.5 + _noise(4, scale=0.2)
    swings = np.array([0.05, -0.05] * 20)  # per row ±0.05, over the set +0.0003
    swings[0] += 0.01
    close = base + swings
    pool = _pool({"a": list(base), "b": list(close), "c": list(base - 0.4)})
    _, ranking = _ranked(pool)
    clusters = {e.system: e.cluster for e in ranking.metrics["qe"]}
    assert clusters["a"] == clusters["b"] == 1 and clusters["c"] == 2


def test_all_systems_tied():
    same = list(0.5 + _noise(6))
    _, ranking = _ranked(_pool({"a": same, "b": list(same), "c": list(same)}))
    assert _by_system(ranking.metrics["qe"]) == {"a": (1, 1), "b": (1, 1), "c": (1, 1)}
    assert [e.autorank for e in ranking.autorank] == [1.0, 1.0, 1.0]


def test_few_rows_never_start_a_cluster():
    pool = _pool({"a": [0.9, 0.8, 0.95, 0.85], "b": [0.1, 0.2, 0.15, 0.05], "c": [0.5] * 4})
    _, ranking = _ranked(pool)
    assert [e.cluster for e in ranking.metrics["qe"]] == [1, 1, 1]
    assert [e.rank for e in ranking.metrics["qe"]] == [1, 2, 3]


def test_clusters_follow_neighbours_only():
    """The walk compares each system with the one above it, nothing else: two small steps
    stay in one cluster even where their sum would be significant."""
    assert clusters_of([None, 0.2, 0.2], rows=40, alpha=0.05) == [1, 1, 1]
    assert clusters_of([None, 0.01, 0.3, 0.001], rows=40, alpha=0.05) == [1, 2, 2, 3]
    assert clusters_of([None, None, 0.01], rows=40, alpha=0.05) == [1, 1, 2]
    assert clusters_of([None, 0.001, 0.001], rows=9, alpha=0.05) == [1, 1, 1]
    assert clusters_of([None, 0.04], rows=40, alpha=0.01) == [1, 1]


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_neighbour_p_values_are_compares_own_against_a_baseline(test):
    """The ranking reuses compare's paired test: between two neighbours it gives the very
    p-value `compare` gives with the upper one as baseline."""
    scores = {f"s{i}": list(0.6 - i / 100 + _noise(7 + i, scale=0.1)) for i in range(3)}
    _, ranking = _ranked(_pool(scores), test)
    entries = ranking.metrics["qe"]
    for above, below in pairwise(entries):
        against = compare(_pool(scores), above.system, resamples=RESAMPLES, seed=1, test=test)
        assert below.p_value == against.cells["qe"][below.system].p_value
        assert below.delta == pytest.approx(against.cells["qe"][below.system].delta)


# --- AutoRank ------------------------------------------------------------------------


def test_autorank_rescales_best_to_one_and_worst_to_n():
    assert rescale({"A": 30.0, "B": 20.0, "C": 10.0}, True, 3) == {"A": 1.0, "B": 2.0, "C": 3.0}
    # TER: lower is better; B is a third of the way from best to worst
    ter = rescale({"A": 50.0, "B": 60.0, "C": 80.0}, False, 3)
    assert ter == pytest.approx({"A": 1.0, "B": 1 + 2 / 3, "C": 3.0})
    assert rescale({"A": 7.0, "B": 7.0}, True, 2) == {"A": 1.0, "B": 1.0}

    entries = autorank(
        {"bleu": {"A": 30.0, "B": 20.0, "C": 10.0}, "ter": {"A": 50.0, "B": 60.0, "C": 80.0}},
        {"bleu": True, "ter": False},
    )
    assert [e.system for e in entries] == ["A", "B", "C"]
    assert [e.autorank for e in entries] == pytest.approx([1.0, (2 + 5 / 3) / 2, 3.0])
    assert entries[1].rescaled == pytest.approx({"bleu": 2.0, "ter": 5 / 3})
    # a system best on one metric and worst on the other sits in the middle
    mixed = autorank(
        {"bleu": {"A": 30.0, "B": 10.0}, "ter": {"A": 80.0, "B": 50.0}},
        {"bleu": True, "ter": False},
    )
    assert [e.autorank for e in mixed] == [1.5, 1.5]


def test_autorank_over_the_named_metrics_only():
    keys = ["a", "b", "c"]
    rows = [
        Row(
            doc_id="d",
            src_ids=(i,),
            ref_ids=(),
            src="s",
            ref=None,
            hyp=dict.fromkeys(keys, "h"),
            scores={
                "a": {"qe": 0.9 + i / 1000, "errs": 0.5},
                "b": {"qe": 0.5 + i / 1000, "errs": 0.1},
                "c": {"qe": 0.1 + i / 1000, "errs": 0.3},
            },
        )
        for i in range(20)
    ]
    pool = Pool([], [SystemRef(k, k, "r") for k in keys], [QE, ERRORS], rows)
    _, both = _ranked(pool)
    assert both.autorank_metrics == ["qe", "errs"]
    assert {e.system: e.autorank for e in both.autorank} == pytest.approx(
        {"a": (1 + 3) / 2, "b": (2 + 1) / 2, "c": (3 + 2) / 2}
    )
    _, errs_only = _ranked(pool, autorank_metrics=["errs"])
    assert [e.system for e in errs_only.autorank] == ["b", "c", "a"]
    assert "over errs:" in errs_only.autorank_rule
    with pytest.raises(UserInputError, match="'bleu' is not a compared metric"):
        _ranked(pool, autorank_metrics=["bleu"])


def test_when_systems_are_ranked():
    assert not wants_ranking(2, None)
    assert wants_ranking(3, None)
    assert wants_ranking(2, True)
    assert not wants_ranking(5, False)
    assert wants_ranking(2, None, "domain")
    with pytest.raises(UserInputError, match="--by-group"):
        wants_ranking(3, False, "domain")


# --- per group -----------------------------------------------------------------------


def test_the_same_ranking_per_group_of_documents():
    """`a` wins the news documents, `b` the web ones; rows of a document in no group are
    left out; each group is ranked on its own rows."""
    news = 0.8 + _noise(9, 20)
    web = 0.8 + _noise(10, 20)
    docs = ["n1"] * 10 + ["n2"] * 10 + ["w1"] * 20 + ["x"] * 3
    pool = _pool(
        {
            "a": [*news, *(web - 0.4), 0.5, 0.5, 0.5],
            "b": [*(news - 0.4), *web, 0.5, 0.5, 0.5],
            "c": [*(news - 0.2), *(web - 0.2), 0.5, 0.5, 0.5],
        },
        docs=docs,
    )
    comparison = compare(pool, resamples=RESAMPLES, seed=1)
    grouped = rank_by_group(comparison, {"n1": "news", "n2": "news", "w1": "web"}, "domain")
    assert grouped.key == "domain" and grouped.documents_without == 1
    assert list(grouped.groups) == ["news", "web"]
    news_rank = grouped.groups["news"]
    assert news_rank.rows == {"qe": 20}
    assert _by_system(news_rank.metrics["qe"]) == {"a": (1, 1), "c": (2, 2), "b": (3, 3)}
    assert _by_system(grouped.groups["web"].metrics["qe"]) == {
        "b": (1, 1),
        "c": (2, 2),
        "a": (3, 3),
    }
    assert news_rank.metrics["qe"][0].score == pytest.approx(float(np.mean(news)))
    assert [e.system for e in grouped.groups["web"].autorank] == ["b", "c", "a"]


# --- JSON ----------------------------------------------------------------------------


def test_json_adds_the_ranking_and_keeps_every_key():
    pool = _pool({"a": list(0.9 + _noise(11)), "b": list(0.5 + _noise(12)), "c": [0.5] * 40})
    comparison = compare(pool, resamples=RESAMPLES, seed=1)
    plain = comparison_json(comparison)
    assert not {"ranking", "autorank", "ranking_rule"} & set(plain)
    comparison.ranking = rank_comparison(comparison)
    data = comparison_json(comparison)
    assert set(plain) < set(data)
    assert {k: data[k] for k in plain} == plain
    assert data["schema_version"] == 2
    assert data["ranking"]["qe"][0] == {
        "system": "a",
        "rank": 1,
        "cluster": 1,
        "score": pytest.approx(comparison.cells["qe"]["a"].score),
        "delta": None,
        "p_value": None,
    }
    assert [e["cluster"] for e in data["ranking"]["qe"]] == [1, 2, 2]
    assert data["autorank"][0] == {"system": "a", "autorank": 1.0, "rescaled": {"qe": 1.0}}
    assert data["autorank_metrics"] == ["qe"] and data["ranking_rows"] == {"qe": 40}
    assert data["ranking_rule"].startswith("clusters: systems sorted by each metric; a new")
    assert f"paired bootstrap, {RESAMPLES} resamples, p<0.05" in data["ranking_rule"]
    json.dumps(data)  # every value serialises


# --- end to end ----------------------------------------------------------------------


@pytest.fixture
def three(cli, tmp_path: Path) -> str:
    """A run of three systems: `good`, `near` (two trivial edits of it), `worse`."""
    paths = write_systems(tmp_path / "data")
    result = cli(*run_args(paths, "good", "near", "worse"))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["run_id"]


def test_compare_ranks_three_systems_by_default(cli, three):
    result = cli("compare", three, "--resamples", RESAMPLES, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["baseline"] == "good" and "good" in data["results"]["bleu"]  # view kept
    for metric in ("bleu", "chrf", "chrf++", "ter"):
        ranked = [(e["system"], e["rank"], e["cluster"]) for e in data["ranking"][metric]]
        assert ranked == [("good", 1, 1), ("near", 2, 1), ("worse", 3, 2)], metric
    assert data["autorank_metrics"] == ["bleu", "chrf", "chrf++", "ter"]
    assert data["autorank"][0]["system"] == "good" and data["autorank"][0]["autorank"] == 1.0
    assert data["autorank"][-1] == {
        "system": "worse",
        "autorank": 3.0,
        "rescaled": dict.fromkeys(["bleu", "chrf", "chrf++", "ter"], 3.0),
    }
    assert data["ranking_rows"]["bleu"] == SEGMENTS

    rich = cli("compare", three, "--resamples", RESAMPLES).stdout
    assert "ranking ·" in rich and "autorank ↓" in rich and "Δ vs above, p" in rich
    assert "a new cluster starts where a system is significantly worse than the one" in rich
    assert f"(paired bootstrap, {RESAMPLES} resamples, p<0.05" in rich
    assert "autorank (WMT24 AutoRank) over bleu, chrf, chrf++, ter" in rich

    markdown = cli("compare", three, "-m", "bleu", "--resamples", RESAMPLES, "-f", "markdown")
    assert markdown.stdout.startswith("### compare")  # the baseline view first, as before
    assert "### ranking ·" in markdown.stdout and "### autorank ·" in markdown.stdout
    assert "| bleu ↑ | 1 | 1 | good |" in markdown.stdout
    latex = cli("compare", three, "-m", "bleu", "--resamples", RESAMPLES, "-f", "latex").stdout
    assert "% ranking ·" in latex and "autorank $\\downarrow$" in latex
    table = cli("compare", three, "-m", "ter", "--resamples", RESAMPLES, "-f", "csv").stdout
    rows = {r["system"]: r for r in csv.DictReader(io.StringIO(table))}
    assert [(rows[k]["rank"], rows[k]["cluster"]) for k in ("good", "near", "worse")] == [
        ("1", "1"),
        ("2", "1"),
        ("3", "2"),
    ]
    assert float(rows["worse"]["autorank"]) == 3.0

    by_ar = json.loads(cli("compare", three, "--test", "ar", "--resamples", RESAMPLES,
                           "--autorank-metrics", "ter, bleu", "--json").stdout)  # fmt: skip
    assert "approximate randomization" in by_ar["ranking_rule"]
    assert by_ar["autorank_metrics"] == ["ter", "bleu"]
    assert [e["cluster"] for e in by_ar["ranking"]["bleu"]] == [1, 1, 2]
    assert "ranking" not in json.loads(cli("compare", three, "--no-rank", "--json").stdout)
    bad = cli("compare", three, "--autorank-metrics", "comet")
    assert bad.exit_code == 2 and "'comet' is not a compared metric" in bad.stderr


def test_two_systems_with_a_baseline_are_not_ranked_unless_asked(cli, tmp_path):
    paths = write_systems(tmp_path / "data")
    run_id = json.loads(cli(*run_args(paths, "good", "worse")).stdout)["run_id"]
    args = ("compare", run_id, "--baseline", "worse", "--resamples", RESAMPLES)
    rich = cli(*args).stdout
    assert "ranking" not in rich and "autorank" not in rich and "cluster" not in rich
    data = json.loads(cli(*args, "--json").stdout)
    assert not {"ranking", "autorank", "group_rankings"} & set(data)
    header = cli(*args, "-f", "csv").stdout.splitlines()[0]
    assert header.endswith(",baseline,test,resamples,seed")
    ranked = json.loads(cli(*args, "--rank", "--json").stdout)
    assert [e["system"] for e in ranked["ranking"]["bleu"]] == ["good", "worse"]
    assert [e["cluster"] for e in ranked["ranking"]["bleu"]] == [1, 2]


def _split_into_documents(folder: Path, groups: dict[str, str | None], sizes: list[int]) -> None:
    """Rewrite a one-document run as several documents with metadata: the rows in order,
    `sizes[i]` rows to the i-th document (what a run of a test set with `meta` records)."""
    raw = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    (doc,) = raw["test_set"]["documents"]
    raw["test_set"]["documents"] = [
        {**doc, "id": name, "meta": {"domain": value} if value else {}}
        for name, value in groups.items()
    ]
    (folder / "run.json").write_text(json.dumps(raw), encoding="utf-8")
    owners = [name for name, size in zip(groups, sizes, strict=True) for _ in range(size)]
    lines = (folder / "segments.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    for i, (row, owner) in enumerate(zip(rows, owners, strict=True)):
        row["doc_id"], row["id"] = owner, f"{owner}#s{i + 1}"
    (folder / "segments.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )


def test_compare_by_group_reads_the_documents_metadata(cli, three, results_dir):
    _split_into_documents(
        results_dir / three, {"a": "news", "b": "web", "c": "news", "d": None}, [15, 15, 5, 5]
    )
    args = ("compare", three, "-m", "bleu", "--resamples", RESAMPLES)
    data = json.loads(cli(*args, "--by-group", "domain", "--json").stdout)
    groups = data["group_rankings"]
    assert groups["key"] == "domain" and groups["documents_without"] == 1
    assert list(groups["groups"]) == ["news", "web"]
    assert groups["groups"]["news"]["ranking_rows"] == {"bleu": 20}
    assert groups["groups"]["web"]["ranking_rows"] == {"bleu": 15}
    for group in groups["groups"].values():
        assert [e["system"] for e in group["ranking"]["bleu"]] == ["good", "near", "worse"]
        assert group["ranking"]["bleu"][-1]["cluster"] == 2
        assert group["autorank"][-1]["system"] == "worse"
    assert data["ranking_rows"] == {"bleu": SEGMENTS}  # the whole ranking is still there
    markdown = cli(*args, "--by-group", "domain", "-f", "markdown").stdout
    assert "### ranking · domain=news" in markdown and "### autorank · domain=web" in markdown
    assert "1 document(s) without domain are in no group" in markdown
    csv_text = cli(*args, "--by-group", "domain", "-f", "csv").stdout
    assert "# ranking · domain=news" in csv_text

    missing = cli(*args, "--by-group", "origlang")
    assert missing.exit_code == 2
    assert "no document of the compared runs has 'origlang'" in missing.stderr
    assert "(metadata keys: domain)" in missing.stderr
    refused = cli(*args, "--by-group", "domain", "--no-rank")
    assert refused.exit_code == 2 and "--by-group" in refused.stderr


def test_old_runs_without_document_metadata_still_load(cli, three, results_dir):
    path = results_dir / three / "run.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    for doc in raw["test_set"]["documents"]:
        doc.pop("meta", None)
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert cli("compare", three, "-m", "bleu", "--resamples", RESAMPLES).exit_code == 0
    missing = cli("compare", three, "--by-group", "domain")
    assert missing.exit_code == 2 and "run.json records no document metadata" in missing.stderr


def test_report_shows_the_ranking(cli, three, results_dir):
    result = cli("report", three, "-m", "bleu", "-m", "ter", "--resamples", RESAMPLES)
    assert result.exit_code == 0, result.output
    page = (results_dir / three / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="ranking">Ranking</h2>' in page
    assert 'class="cluster-start"' in page and "autorank" in page
    assert "a new cluster starts where a system is significantly worse" in page
    api_page = api.build_report(
        three, results_dir=results_dir, resamples=RESAMPLES, metrics=["bleu"], rank=False,
        output=results_dir / "plain.html",
    )  # fmt: skip
    assert 'id="ranking"' not in api_page.read_text(encoding="utf-8")
