"""Lines set aside as having nothing to translate: credits go, short real sentences stay.

The documents are made here (news-like paragraphs in Arabic and English, with the
leftovers a scraper brings along); no line of any corpus is named. A credit must be set
aside wherever the rule can tell it (its shape, or its place at the edge with nothing on
the other side to translate it); a short sentence in the middle of a document, or at its
edge with a short line facing it on the other side, must be kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.align import Aligner
from evalkit.align.lines import (
    BRACKETED,
    CREDIT,
    FRAGMENT,
    LINKS,
    is_fragment,
    non_translatable_reason,
    split_translatable,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import align_set_aside as bench
from align_corpora import AlignCase

AR = [
    "أعلنت الحكومة اليوم عن خطة جديدة لتطوير شبكة النقل العام في المدينة.",
    "وقال المتحدث باسم الوزارة إن العمل سيبدأ في الربيع المقبل ويستمر عامين.",
    "ورحب سكان الأحياء الشرقية بالقرار بعد سنوات من الانتظار والشكوى.",
    "لكن بعض الخبراء حذروا من أن التكلفة قد تتجاوز التقديرات الأولية بكثير.",
    "ومن المتوقع أن يناقش البرلمان تفاصيل التمويل خلال الأسابيع القادمة.",
]
EN = [
    "The government announced today a new plan to develop the city's public transport.",
    "A ministry spokesman said work would begin next spring and last two years.",
    "Residents of the eastern districts welcomed the decision after years of waiting.",
    "But some experts warned that the cost could far exceed the first estimates.",
    "Parliament is expected to discuss the funding in the coming weeks.",
]
#: leftovers a scraper brings along, in both scripts: each must be set aside
CREDITS = [
    "(AP)",
    "(رويترز)",
    "Photo: John Smith/Agency",
    "تصوير: محمد علي",
    "بقلم: أحمد حسن",
    "© 2024 Example News",
    "https://example.com/news/story-1234",
    "@newsdesk",
]
#: a lone word or two: a credit only by its place (an edge, nothing facing it)
EDGE_LABELS = [
    "Reuters",
    "وكالات",
    "سياسة",
    "By Jane Doe",
    "— Reuters",
    "- AFP",
    "— Jane Doe",
    "القاهرة - وكالات",
    "كتب - أحمد حسن",
    "London - Reuters",
]


def _skipped(segments: list[str], other: list[str] | None = None) -> list[int]:
    """0-based indices set aside."""
    return [line.index - 1 for line in split_translatable(segments, other)[1]]


# --- credits are set aside ----------------------------------------------------------------


@pytest.mark.parametrize("credit", CREDITS)
def test_a_credit_is_told_by_its_shape_anywhere(credit):
    assert non_translatable_reason(credit) is not None
    for doc in ([*AR[:2], credit, *AR[2:]], [*EN, credit], [credit, *EN]):
        assert _skipped(doc) == [doc.index(credit)]
        assert _skipped(doc, EN) == [doc.index(credit)]


@pytest.mark.parametrize("label", EDGE_LABELS)
@pytest.mark.parametrize("at_start", [True, False])
def test_a_lone_label_at_the_edge_with_nothing_facing_it_is_set_aside(label, at_start):
    doc = [label, *AR] if at_start else [*AR, label]
    where = 0 if at_start else len(AR)
    assert _skipped(doc) == [where]
    assert _skipped(doc, EN) == [where]
    assert split_translatable(doc, EN)[1][0].reason == FRAGMENT


def test_shapes_of_credits_name_their_reason():
    assert non_translatable_reason("بقلم: أحمد حسن") == CREDIT
    assert non_translatable_reason("Photo: John Smith/Agency") == CREDIT
    assert non_translatable_reason("(AP)") == BRACKETED
    assert non_translatable_reason("www.example.org @desk") == LINKS


# --- short real text is kept --------------------------------------------------------------


@pytest.mark.parametrize(
    "short",
    ["لا أدري", "ادخلوا بسلام", "Never again", "Enter in peace", "Why not", "永远不"],
)
def test_a_short_sentence_in_the_middle_is_kept(short):
    doc = [*AR[:2], short, *AR[2:]]
    assert _skipped(doc) == []
    assert _skipped(doc, [*EN[:2], "I do not know.", *EN[2:]]) == []
    assert _skipped([*EN[:3], short, *EN[3:]], AR) == []


def test_a_short_line_at_the_edge_is_kept_when_the_other_side_has_its_counterpart():
    src = [*AR, "ادخلوا بسلام"]
    ref = [*EN, "Enter in peace."]
    assert _skipped(src, ref) == []
    assert _skipped(ref, src) == []
    # the same line facing a whole paragraph on the other side has no counterpart there
    assert _skipped(src, EN) == [len(AR)]


def test_labels_facing_each_other_at_the_same_edge_are_kept_and_linked():
    """Each is the other's counterpart: a pair that translate each other, scored as such."""
    src, ref = [*AR, "وكالات"], [*EN, "— Reuters"]
    alignment = Aligner("length").align_paragraphs(src, ref)
    assert alignment.skipped_src == [] and alignment.skipped_ref == []
    assert ((len(src),), (len(ref),)) in {(link.src, link.ref) for link in alignment.links}


def test_a_run_of_short_lines_is_verse_or_a_list_not_a_credit():
    verse = ["والليل إذا سكن", "والصبح إذا بدا", "ما أنت بغافل", *AR[:2], "فاصبر صبرا", "جميلا"]
    assert _skipped(verse) == []
    assert _skipped(verse, EN) == []


def test_a_one_line_document_is_not_a_label_of_itself():
    assert _skipped(["كلمتان فقط"]) == []
    assert _skipped(["Two words"], ["كلمتان"]) == []


def test_dialogue_after_a_dash_is_not_a_credit():
    for line in ("— yes, of course", "— Oui, bien sûr.", "— Yes, of course."):
        assert non_translatable_reason(line) is None
        assert not is_fragment(line)
        assert _skipped([*EN, line]) == []


def test_fragments_are_short_lines_without_a_stop_or_a_few_capitalised_words():
    assert is_fragment("وكالات") and is_fragment("By Jane Doe")
    assert is_fragment("كتب - أحمد حسن") and is_fragment("London - Reuters")
    assert not is_fragment("the quick - and the dead")
    assert not is_fragment("Enter in peace.")
    assert not is_fragment("the council will meet again soon")
    assert not is_fragment("")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(AR)), st.sampled_from(["لا أدري", "Never again", "Why not"]))
def test_a_short_line_inside_a_document_is_never_set_aside(position, short):
    doc = [*AR[:position], short, *AR[position:]]
    ref = [*EN[:position], "I do not know.", *EN[position:]]
    assert _skipped(doc, ref) == []


# --- the alignment ------------------------------------------------------------------------


def test_credits_set_aside_and_short_lines_kept_leave_every_true_link_in_place():
    src = ["بقلم: أحمد حسن", *AR[:2], "لا أدري", *AR[2:], "وكالات"]
    ref = ["By Jane Doe", *EN[:2], "I do not know.", *EN[2:], "(Reuters)"]
    alignment = Aligner("length").align_paragraphs(src, ref)
    assert [line.index for line in alignment.skipped_src] == [1, len(src)]
    assert [line.index for line in alignment.skipped_ref] == [1, len(ref)]
    links = {(link.src, link.ref) for link in alignment.links}
    assert all(((i,), (i,)) in links for i in range(2, len(src)))


def test_the_bench_counts_every_line_set_aside():
    case = AlignCase("made", "d", "ar", "en", [*AR, "وكالات"], [*EN, "(Reuters)"], [])
    count = bench.count_set_aside("made", "paragraphs", [case])
    assert (count.lines, count.set_aside, count.alone) == (len(AR) + len(EN) + 2, 2, 2)
    assert sum(count.reasons.values()) == 2
    clean = bench.count_set_aside(
        "made", "paragraphs", [AlignCase("m", "d", "ar", "en", AR, EN, [])]
    )
    assert (clean.set_aside, clean.alone) == (0, 0)
