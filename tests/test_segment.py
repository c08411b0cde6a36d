from hypothesis import given
from hypothesis import strategies as st

from evalkit.corpus.segment import paragraphs, split_sentences


def test_paragraphs_are_non_blank_lines():
    assert paragraphs(["a", "", "  ", "b "]) == ["a", "b "]


def test_arabic_splits_on_question_mark_and_period_not_on_comma():
    text = "قال الوزير، في بيان، إن الوضع خطير. هل ستتحرك الحكومة؟ نعم!"
    sentences = [s.text for s in split_sentences(text, "ar")]
    assert sentences == ["قال الوزير، في بيان، إن الوضع خطير.", "هل ستتحرك الحكومة؟", "نعم!"]


def test_arabic_keeps_closing_quote_and_decimal_number_in_sentence():
    text = 'وقال "انتهى الأمر". ثم ارتفع المؤشر 3.5 نقطة.'
    sentences = [s.text for s in split_sentences(text, "ar")]
    assert sentences == ['وقال "انتهى الأمر".', "ثم ارتفع المؤشر 3.5 نقطة."]


def test_english_abbreviations_do_not_end_sentences():
    text = "Dr. Smith met the U.S. envoy at 5 p.m. on Monday. They talked."
    sentences = [s.text for s in split_sentences(text, "en")]
    assert sentences == ["Dr. Smith met the U.S. envoy at 5 p.m. on Monday.", "They talked."]


def test_unknown_language_falls_back_to_english_rules():
    assert [s.text for s in split_sentences("One. Two.", "xx")] == ["One.", "Two."]


@given(
    st.lists(
        st.text(alphabet="abc ابت.؟!،\"'", min_size=1, max_size=30), min_size=1, max_size=5
    ).map(" ".join)
)
def test_offsets_point_into_the_original_text(text):
    for lang in ("ar", "en"):
        spans = split_sentences(text, lang)
        for span in spans:
            assert text[span.start : span.end] == span.text
            assert span.text == span.text.strip() and span.text
        starts = [s.start for s in spans]
        assert starts == sorted(starts)


def test_closing_guillemet_stays_with_its_question():
    sentences = [s.text for s in split_sentences("وسأل «هل انتهى الأمر؟» ثم غادر.", "ar")]
    assert sentences == ["وسأل «هل انتهى الأمر؟»", "ثم غادر."]
