"""Deterministic work is done once: metric statistics and sentence embeddings are kept in
the cache file, a rerun reads them (loading no model) and gives the same run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from evalkit import embeddings
from evalkit.cache import TranslationCache
from evalkit.embeddings import StoredEncoder, embedding_key
from evalkit.metrics.base import MeanMetric, Stats
from evalkit.record import read_segments
from evalkit.scoring.system import segment_statistics, statistics_key


class CountingMetric(MeanMetric):
    """Hypothesis length as the statistic; remembers which hypotheses it computed."""

    name = "counting"
    needs_reference = False

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.seen: list[str] = []

    def segment_statistics(self, hypotheses, references, sources) -> list[Stats]:
        self.seen += hypotheses
        return [[float(len(h)) / 3, float(self.version)] for h in hypotheses]

    def signature(self) -> str:
        return f"counting|v{self.version}"


def test_only_missing_segments_reach_the_metric(tmp_path: Path):
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        metric = CountingMetric()
        first = segment_statistics(
            metric, ["a", "bb", "a"], None, ["x", "y", "x"], cache.statistics
        )
        assert metric.seen == ["a", "bb"]  # the repeated segment is computed once
        metric.seen.clear()
        again = segment_statistics(
            metric, ["bb", "ccc", "a"], None, ["y", "z", "x"], cache.statistics
        )
        assert metric.seen == ["ccc"]
    assert first == [[1 / 3, 1.0], [2 / 3, 1.0], [1 / 3, 1.0]]
    assert again == [[2 / 3, 1.0], [1.0, 1.0], [1 / 3, 1.0]]  # floats come back exactly


def test_a_new_signature_or_other_texts_are_new_keys():
    base = statistics_key("m|v1", "hyp", "ref", "src")
    assert statistics_key("m|v2", "hyp", "ref", "src") != base
    assert statistics_key("m|v1", "hyp", None, "src") != base
    assert statistics_key("m|v1", "hyp", "ref", "other") != base
    assert statistics_key("m|v1", "hyp", "ref", "src") == base


def test_metrics_over_the_whole_set_are_never_stored(tmp_path: Path):
    metric = CountingMetric()
    metric.per_segment = False
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        segment_statistics(metric, ["a"], None, ["x"], cache.statistics)
        segment_statistics(metric, ["a"], None, ["x"], cache.statistics)
        assert metric.seen == ["a", "a"] and cache.statistics.count() == 0


def test_stored_embeddings_are_the_model_vectors_and_load_no_model(tmp_path, monkeypatch):
    calls: list[list[str]] = []

    class FakeModel:
        name = "fake"

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            calls.append(list(texts))
            rng = np.random.default_rng(len(calls))
            return rng.standard_normal((len(texts), 8)).astype(np.float32)

    monkeypatch.setattr(embeddings, "load_encoder", lambda spec: FakeModel())
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        encoder = StoredEncoder("st:fake", cache.embeddings)
        first = encoder.encode(["one", "two", "one"])
        assert calls == [["one", "two"]]
    np.testing.assert_array_equal(first[0], first[2])

    def no_model(spec: str):
        raise AssertionError("a stored embedding loaded the model")

    monkeypatch.setattr(embeddings, "load_encoder", no_model)
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        again = StoredEncoder("st:fake", cache.embeddings).encode(["two", "one"])
        key = embedding_key("sentence-transformers:fake", "one")
        assert set(cache.embeddings.get_many([key])) == {key}
    np.testing.assert_array_equal(again, first[[1, 0]])


@pytest.mark.slow  # the real xqe and alignment encoders, on the first run
@pytest.mark.parametrize("metrics", [("bleu", "chrf", "ter", "xqe", "off_target")])
def test_a_rerun_reads_every_statistic_and_embedding_and_loads_no_model(
    cli, results_dir, monkeypatch, metrics, synthetic_set
):
    """A test set with embedding alignment and xqe: the second run gives the same record
    and rows, with the encoder, TER and every metric's computation forbidden."""
    args = ["run", "--data", str(synthetic_set.folder), "--system", "copy", "--json"]
    args += [*[a for m in metrics for a in ("-m", m)], "--align", "embedding"]
    first = json.loads(cli(*args).stdout)

    def forbidden(*_args, **_kwargs):
        raise AssertionError("recomputed on a warm run")

    monkeypatch.setattr(embeddings, "load_encoder", forbidden)
    from evalkit.metrics import lexical, xqe
    from evalkit.metrics.diagnostics import language

    monkeypatch.setattr(lexical.SacrebleuMetric, "segment_statistics", forbidden)
    monkeypatch.setattr(xqe.CrossLingualQE, "segment_statistics", forbidden)
    monkeypatch.setattr(language.OffTarget, "segment_statistics", forbidden)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    records = [json.loads((Path(r["path"]) / "run.json").read_text()) for r in (first, second)]
    assert records[0]["scores"] == records[1]["scores"]
    assert records[0]["alignment"] == records[1]["alignment"]
    assert [a["method"] for a in records[0]["alignment"]] == ["embedding"]  # it ran
    rows = [list(read_segments(Path(r["path"]))) for r in (first, second)]
    assert rows[0] == rows[1]


def test_compare_reads_the_statistics_its_runs_stored(cli, results_dir, monkeypatch, tmp_path):
    """Same comparison with the stored statistics as recomputed from the texts, and none
    recomputed when the cache holds them."""
    from evalkit.metrics import lexical

    args = ("-s", "copy", "-m", "bleu", "-m", "chrf", "--align", "length", "--json")
    run = json.loads(cli("run", *args).stdout)
    args = ["compare", run["run_id"], "--format", "json", "--by", "all"]
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "elsewhere.sqlite"))  # no such file
    recomputed = json.loads(cli(*args).stdout)
    assert not (tmp_path / "elsewhere.sqlite").exists()  # compare creates no cache file
    monkeypatch.setenv("EVALKIT_CACHE", str(results_dir.parent / "cache.sqlite"))

    def forbidden(*_args, **_kwargs):
        raise AssertionError("statistics recomputed although stored")

    monkeypatch.setattr(lexical.SacrebleuMetric, "segment_statistics", forbidden)
    stored = json.loads(cli(*args).stdout)
    assert stored == recomputed
