"""Scoring units and scores at three levels, checked against sacrebleu directly."""

import pytest
from sacrebleu.metrics import BLEU, CHRF

from evalkit.align.units import scoring_units
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.metrics import create_metrics
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
