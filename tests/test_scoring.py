"""Scoring units and scores at three levels, checked against sacrebleu directly."""

import pytest
from sacrebleu.metrics import BLEU, CHRF

from evalkit.align.units import scoring_units
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.metrics import create_metrics
from evalkit.metrics.base import MeanMetric
from evalkit.scoring import system
from evalkit.scoring.system import score_system, unit_hypotheses

SRC = Side("ar", ("جلس القط على الحصيرة.", "نبح كلب في الليل."))
REF = Side("en", ("the cat sat on the mat", "a dog barked at night"))
TEST_SET = TestSet(
    name="t",
    origin="t",
    tgt_lang="en",
    documents=(
        Document("aligned", SRC, REF, aligned=True),
        Document("whole", SRC, REF, aligned=False),
        Document("noref", SRC, None),
    ),
)
HYPS = {
    "aligned": ["the cat sat on a mat", "a dog barked"],
    "whole": ["the cat sat on a mat", "a dog barked"],
    "noref": ["x", "y"],
}


def test_units_follow_how_each_document_can_be_scored():
    units = scoring_units(TEST_SET).units
    assert [(u.doc_id, u.src_ids, u.ref_ids) for u in units] == [
        ("aligned", (1,), (1,)),
        ("aligned", (2,), (2,)),
        ("whole", (1, 2), (1, 2)),
        ("noref", (1,), ()),
        ("noref", (2,), ()),
    ]
    assert units[2].ref == "the cat sat on the mat a dog barked at night"
    assert unit_hypotheses(units, HYPS)[2] == "the cat sat on a mat a dog barked"


def test_scores_match_sacrebleu_at_every_level():
    units = scoring_units(TEST_SET).units
    hyps = unit_hypotheses(units, HYPS)
    scores = score_system(units, hyps, create_metrics(["bleu", "chrf"]))
    scored = [i for i, u in enumerate(units) if u.ref is not None]
    corpus_refs = [[units[i].ref for i in scored]]
    assert scores.corpus["bleu"] == pytest.approx(
        BLEU().corpus_score([hyps[i] for i in scored], corpus_refs).score
    )
    assert scores.documents["aligned"]["chrf"] == pytest.approx(
        CHRF().corpus_score(HYPS["aligned"], [list(REF.segments)]).score
    )
    sentence_bleu = BLEU(effective_order=True).sentence_score(hyps[1], [units[1].ref]).score
    assert scores.segments[1]["bleu"] == pytest.approx(sentence_bleu)
    assert scores.documents["noref"] == {"bleu": None, "chrf": None}
    assert scores.segments[3] == {"bleu": None, "chrf": None}


def test_a_reference_only_unit_counts_for_reference_metrics_only():
    from evalkit.align.units import ScoringUnit

    units = [
        ScoringUnit("d", (1,), (1,), "جلس القط على الحصيرة.", "the cat sat on the mat"),
        ScoringUnit("d", (), (2,), "", "a dog barked at night", flags=("unlinked",)),
    ]
    scores = score_system(
        units, ["the cat sat on the mat", ""], create_metrics(["chrf", "length_outlier"])
    )
    assert scores.segments[1]["chrf"] == 0.0  # the missing translation costs recall
    assert scores.segments[1]["length_outlier"] is None  # nothing to judge an output against
    assert scores.segments[0]["length_outlier"] is not None
    assert scores.corpus["chrf"] < 100.0


class _CallSizes(MeanMetric):
    """Scores a segment by its hypothesis length and remembers how many segments each
    call was handed."""

    name = "call_sizes"
    needs_reference = False

    def __init__(self) -> None:
        self.calls: list[int] = []

    def segment_statistics(self, hypotheses, references, sources):
        self.calls.append(len(hypotheses))
        return [[float(len(h))] for h in hypotheses]

    def signature(self) -> str:
        return "call_sizes|v1"


class _DictStore:
    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}
        self.writes: list[int] = []

    def get_many(self, keys):
        return {k: self.rows[k] for k in keys if k in self.rows}

    def put_many(self, stats):
        self.writes.append(len(stats))
        self.rows.update(stats)


@pytest.mark.parametrize("with_store", [False, True])
def test_a_metric_gets_segments_in_chunks_and_the_same_statistics(monkeypatch, with_store):
    """Memory stays flat as test sets grow: a per-segment metric is handed at most
    CHUNK_SEGMENTS segments at once, each chunk stored as soon as it is computed, and the
    statistics are the ones a single call gives."""
    monkeypatch.setattr(system, "CHUNK_SEGMENTS", 3)
    hypotheses = [f"output {'x' * k}" for k in range(7)]
    sources = [f"source {k}" for k in range(7)]
    metric, store = _CallSizes(), _DictStore() if with_store else None
    stats = system.segment_statistics(metric, hypotheses, None, sources, store)
    assert stats == [[float(len(h))] for h in hypotheses]
    assert metric.calls == [3, 3, 1]
    if store is not None:
        assert store.writes == [3, 3, 1]
        again = _CallSizes()
        assert system.segment_statistics(again, hypotheses, None, sources, store) == stats
        assert again.calls == []  # every chunk was stored


def test_a_whole_set_metric_gets_every_segment_at_once(monkeypatch):
    monkeypatch.setattr(system, "CHUNK_SEGMENTS", 3)
    metric = _CallSizes()
    metric.per_segment = False
    system.segment_statistics(metric, ["a"] * 7, None, ["s"] * 7, _DictStore())
    assert metric.calls == [7]


class _ReferenceReads(_CallSizes):
    """Remembers every reference it was handed, call by call."""

    name = "reference_reads"
    needs_reference = True

    def __init__(self) -> None:
        super().__init__()
        self.references: list[list[str]] = []

    def segment_statistics(self, hypotheses, references, sources):
        self.references.append(list(references))
        return super().segment_statistics(hypotheses, references, sources)


def test_systems_are_scored_together_a_chunk_of_units_at_a_time(monkeypatch):
    """Each call holds one chunk of units with every system's output of it, so a metric
    that embeds a reference once per call embeds it once for all systems; the scores are
    those of each system scored alone."""
    monkeypatch.setattr(system, "CHUNK_SEGMENTS", 6)
    source = Side("ar", tuple(f"مصدر {k}" for k in range(5)))
    reference = Side("en", tuple(f"reference {k}" for k in range(5)))
    test_set = TestSet(
        name="t",
        origin="t",
        tgt_lang="en",
        documents=(Document("d", source, reference, aligned=True),),
    )
    units = scoring_units(test_set).units
    outputs = [[f"first {'x' * k}" for k in range(5)], [f"second {'yy' * k}" for k in range(5)]]
    metric = _ReferenceReads()
    told: list[tuple[int, int]] = []
    together = system.score_systems(units, outputs, [metric], on_chunk=lambda *n: told.append(n))
    assert metric.calls == [6, 4]  # 3 units x 2 systems, then 2 x 2
    assert told == [(6, 10), (10, 10)]  # segments done of all, after each chunk
    for call in metric.references:
        half = len(call) // 2
        assert call[:half] == call[half:]  # the same units' references, one per system
    alone = [system.score_system(units, hyps, [_ReferenceReads()]) for hyps in outputs]
    assert [s.segments for s in together] == [s.segments for s in alone]
    assert [s.corpus for s in together] == [s.corpus for s in alone]
