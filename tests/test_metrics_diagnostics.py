"""Known answers of the reference-free diagnostics, reasoned by hand on tiny inputs."""

from __future__ import annotations

import pytest

from evalkit.align.units import ScoringUnit
from evalkit.metrics import MetricContext, available_metrics, create_metrics
from evalkit.metrics.diagnostics import (
    LengthOutlier,
    NumberMismatch,
    OffTarget,
    Repetition,
    Untranslated,
)
from evalkit.metrics.diagnostics.numbers import compare_numbers, extract_numbers
from evalkit.metrics.diagnostics.repetition import loop_share
from evalkit.scoring.system import score_system

AR_EN = MetricContext(tgt_lang="en", src_langs=("ar",))

ARABIC = [
    "ارتفعت أسعار النفط بشكل حاد بعد إعلان الحكومة عن خطة جديدة.",
    "التقى رئيس الوزراء بالمحافظ في البصرة يوم الاثنين لمناقشة الخدمات.",
    "قالت الشرطة إن ثلاثة أشخاص أصيبوا في حادث سير على الطريق السريع.",
]
ENGLISH = [
    "Oil prices rose sharply after the government announced a new plan.",
    "The prime minister met the governor in Basra on Monday to discuss services.",
    "Police said three people were injured in a road accident on the highway.",
]


def scores(metric, hyps, srcs):
    stats = metric.segment_statistics(hyps, None, srcs)
    return [metric.segment_score(s) for s in stats], metric.corpus_score(stats)


def test_copied_arabic_source_is_off_target_and_untranslated():
    segment, corpus = scores(OffTarget(AR_EN), ARABIC, ARABIC)
    assert segment == [1.0, 1.0, 1.0] and corpus == 1.0
    segment, corpus = scores(Untranslated(AR_EN), ARABIC, ARABIC)
    assert segment == [1.0, 1.0, 1.0] and corpus == 1.0


def test_english_translation_is_on_target_and_translated():
    assert scores(OffTarget(AR_EN), ENGLISH, ARABIC) == ([0.0, 0.0, 0.0], 0.0)
    assert scores(Untranslated(AR_EN), ENGLISH, ARABIC) == ([0.0, 0.0, 0.0], 0.0)


def test_off_target_catches_a_wrong_target_language_and_judges_short_text_by_script():
    french = "Les prix du pétrole ont fortement augmenté après l'annonce du gouvernement."
    assert scores(OffTarget(AR_EN), [french], [ARABIC[0]])[0] == [1.0]
    # short: too few letters for statistics, judged by script only
    assert scores(OffTarget(AR_EN), ["نعم", "Yes", "2020"], ["نعم"] * 3)[0] == [1.0, 0.0, 0.0]


def test_off_target_into_arabic_uses_the_context():
    into_arabic = OffTarget(MetricContext(tgt_lang="ar", src_langs=("en",)))
    assert scores(into_arabic, ARABIC + ENGLISH, ENGLISH + ARABIC)[0] == [0, 0, 0, 1, 1, 1]


def test_untranslated_counts_the_share_of_source_script_letters():
    # 10 Latin letters ("The mayor of"), 6 Arabic (البصرة), 5 Latin ("spoke")
    assert scores(Untranslated(AR_EN), ["The mayor of البصرة spoke."], [ARABIC[1]])[0] == [6 / 21]


def test_untranslated_between_languages_sharing_a_script_counts_copied_words():
    fr_en = Untranslated(MetricContext(tgt_lang="en", src_langs=("fr",)))
    source = "Le chat dort sur le canapé"
    copied, _ = scores(fr_en, [source, "The cat sleeps on the sofa", "The chat dort"], [source] * 3)
    assert copied == [1.0, 0.0, 2 / 3]


def test_numbers_normalise_digits_and_separators():
    assert extract_numbers("١٩٩٠ و ۲۰۲۰ و ١٢٫٥ و ٣٬٥٠٠") == ["1990", "2020", "12.5", "3500"]
    assert extract_numbers("1,234,567 1,234.5 1.234.567 1.234,5") == [
        "1234567",
        "1234.5",
        "1234567",
        "1234.5",
    ]
    assert extract_numbers("3.50 3,5 007 1,2,3") == ["3.5", "3.5", "7", "1", "2", "3"]


def test_arabic_indic_digits_match_western_ones():
    metric = NumberMismatch(AR_EN)
    source = "قتل ١٥ شخصا وأصيب ٣٬٢٠٠ في عام ۲۰۱۹ بنسبة ١٢٫٥ بالمئة"
    hypothesis = "15 people were killed and 3,200 injured in 2019, a rate of 12.5 percent"
    assert scores(metric, [hypothesis], [source]) == ([0.0], 0.0)


def test_a_dropped_or_added_number_is_flagged():
    metric = NumberMismatch(AR_EN)
    source = "قتل ١٥ شخصا وأصيب ٣٢ في عام ٢٠١٩"
    dropped = "15 people were killed and 32 injured."  # the year is gone
    added = "15 people were killed and 32 injured in 2019, at 10 am."
    stats = metric.segment_statistics([dropped, added], None, [source, source])
    assert stats == [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    assert metric.corpus_score(stats) == 1.0
    missing, added_numbers = compare_numbers(source, dropped)
    assert list(missing) == ["2019"] and not added_numbers


def test_a_number_repeated_in_the_source_must_be_repeated():
    missing, _ = compare_numbers("5 و 5", "5")
    assert missing == {"5": 1}


def test_small_numbers_spelled_out_in_english_count_as_present():
    assert compare_numbers("أصيب ٣ أشخاص", "three people were injured") == ({}, {})
    into_french = NumberMismatch(MetricContext(tgt_lang="fr"))
    assert scores(into_french, ["trois personnes"], ["أصيب ٣ أشخاص"])[0] == [1.0]


def test_a_repeated_loop_is_flagged_and_a_normal_sentence_is_not():
    loop = "The talks will continue tomorrow and the talks will continue tomorrow and " * 4
    normal = "The minister said the talks were very, very productive, and no, no, no delay."
    segment, corpus = scores(Repetition(), [loop, normal, "the the the the"], ["x"] * 3)
    assert segment[0] == 1.0 and segment[1] == 0.0 and segment[2] == 1.0
    assert corpus == pytest.approx(2 / 3)
    # a loop after a normal start covers only its part of the hypothesis
    half = loop_share("Oil prices rose after the announcement. " + "and then " * 4)
    assert 0.4 < half < 0.7


def test_loops_in_text_without_spaces_are_found_by_character():
    assert loop_share("我们的经济" + "增长增长" * 6) > 0.6
    assert loop_share("我们的经济正在快速增长并且前景很好啊") == 0.0


def test_length_outliers_empty_and_huge_outputs():
    sources = ARABIC * 3
    hypotheses = ENGLISH * 3
    hypotheses[1] = ""
    hypotheses[4] = " ".join([ENGLISH[1]] * 8)
    segment, corpus = scores(LengthOutlier(), hypotheses, sources)
    assert segment == [0, 1, 0, 0, 1, 0, 0, 0, 0]
    assert corpus == pytest.approx(2 / 9)


def test_length_band_centres_on_the_system_not_a_fixed_ratio():
    # every output twice as long as its source: normal for this system, nothing flagged
    doubled = [src + " " + src for src in ARABIC * 2]
    assert scores(LengthOutlier(), doubled, ARABIC * 2)[1] == 0.0
    # an empty source with an empty output is not an outlier
    assert scores(LengthOutlier(), [""], [""])[0] == [0.0]


def test_diagnostics_reach_units_without_reference():
    units = [
        ScoringUnit("a", (1,), (1,), ARABIC[0], ENGLISH[0]),
        ScoringUnit("b", (1,), (), ARABIC[1], None),
        ScoringUnit("b", (2,), (), ARABIC[2], None),
    ]
    metrics = create_metrics(["chrf", "off_target", "untranslated"], AR_EN)
    result = score_system(units, [ENGLISH[0], ARABIC[1], ENGLISH[2]], metrics)
    assert result.documents["b"]["chrf"] is None
    assert result.documents["b"]["off_target"] == 0.5
    assert result.documents["a"]["off_target"] == 0.0
    assert result.corpus["untranslated"] == pytest.approx(1 / 3)


def test_off_target_for_a_language_lingua_does_not_know_is_skipped():
    ready, skipped = available_metrics(
        create_metrics(["off_target", "numbers"], MetricContext("xx"))
    )
    assert [m.name for m in ready] == ["numbers"]
    assert [s.metric for s in skipped] == ["off_target"] and "'xx'" in str(skipped[0])


def test_diagnostics_are_reference_free_and_lower_is_better():
    names = ["off_target", "untranslated", "numbers", "length_outlier", "repetition"]
    for metric in create_metrics(names, AR_EN):
        assert not metric.needs_reference and not metric.higher_is_better
        assert metric.signature().startswith(metric.name)
