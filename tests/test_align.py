"""Alignment: the search, the costs, lines set aside, and recovery of known links."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.align import Aligner
from evalkit.align.dp import DEFAULT_STEPS, align_sequences, link_margins
from evalkit.align.lines import (
    BRACKETED,
    CREDIT,
    DATELINE,
    NO_WORDS,
    non_translatable_reason,
    split_translatable,
)
from tests.synthetic_parallel import make_pair, precision_recall

#: the embedding method loads a real sentence encoder: minutes on two cores
METHODS = ["length", pytest.param("embedding", marks=pytest.mark.slow)]


def _links(alignment) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(link.src, link.ref) for link in alignment]


# --- the search ---------------------------------------------------------------------------


def test_search_takes_the_cheap_diagonal_and_a_merge_it_is_shown():
    # reference 1 is source 1+2 joined: make exactly that link cheap
    def cost(i0, i1, j0, j1):
        if (i0, i1, j0, j1) == (1, 3, 1, 2):
            return 0.1
        if i1 - i0 == 1 and j1 - j0 == 1 and i0 == j0:
            return 0.2
        return 5.0

    links = align_sequences(4, 3, cost)
    assert [(link.src, link.ref) for link in links] == [((0,), (0,)), ((1, 2), (1,)), ((3,), (2,))]
    assert [link.shape for link in links] == ["1:1", "2:1", "1:1"]
    assert sum(link.cost for link in links) == pytest.approx(0.1 + 0.2 + 5.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 7),
    st.integers(0, 7),
    st.lists(st.floats(0, 10), min_size=64, max_size=64),
)
def test_any_alignment_is_monotonic_and_covers_every_unit_once(n, m, noise):
    def cost(i0, i1, j0, j1):
        return noise[(i0 * 7 + j0 * 3 + i1 + j1) % 64]

    links = align_sequences(n, m, cost)
    src = [i for link in links for i in link.src]
    ref = [j for link in links for j in link.ref]
    assert src == list(range(n))
    assert ref == list(range(m))
    assert all(link.src or link.ref for link in links)


def _all_alignments(n: int, m: int):
    """Every monotonic alignment of the default steps, as lists of (i0, i1, j0, j1)."""
    if n == 0 and m == 0:
        yield []
        return
    for a, b in DEFAULT_STEPS:
        if a <= n and b <= m:
            for rest in _all_alignments(n - a, m - b):
                yield [*rest, (n - a, n, m - b, m)]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 4),
    st.integers(0, 4),
    st.lists(st.floats(0, 10), min_size=64, max_size=64),
)
def test_a_links_margin_is_what_the_cheapest_alignment_without_it_costs_more(n, m, noise):
    def cost(i0, i1, j0, j1):
        return noise[(i0 * 7 + j0 * 3 + i1 * 5 + j1) % 64]

    links = align_sequences(n, m, cost)
    totals = [(sum(cost(*span) for span in spans), spans) for spans in _all_alignments(n, m)]
    best = min(total for total, _ in totals)
    i = j = 0
    for link, margin in zip(links, link_margins(n, m, cost, links), strict=True):
        span = (i, i + len(link.src), j, j + len(link.ref))
        without = min((total for total, spans in totals if span not in spans), default=math.inf)
        assert margin == pytest.approx(without - best, abs=1e-9) or margin == without == math.inf
        i, j = span[1], span[3]


def test_a_link_with_an_equally_cheap_alternative_has_no_confidence():
    """The middle source unit belongs with the first or the last equally well: a coin toss,
    whatever the lengths of each link; the same units without it are clear."""
    aligner = Aligner("length")
    toss = aligner.align_units(["a" * 30, "b" * 20, "c" * 30], ["x" * 40, "y" * 40])
    assert [link.confidence for link in toss] == [0.0, 0.0]
    clear = aligner.align_units(["a" * 30, "c" * 30], ["x" * 30, "y" * 30])
    assert all(link.confidence > 0.9 for link in clear)


# --- lines with nothing to translate -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("412", NO_WORDS),
        ("٣٨", NO_WORDS),
        ("* * *", NO_WORDS),
        ("(Photo)", BRACKETED),
        ("[صورة أرشيفية]", BRACKETED),
        ("Tuesday 4 March 2019 / 08:30", DATELINE),
        ("الثلاثاء 4 مارس 2019", DATELINE),
        # a lone word may be a credit or a short verse: alone, its shape does not tell (its
        # place and the other side do: tests/test_align_lines.py)
        ("AFP", None),
        ("وكالات", None),
        ("Source: agencies", CREDIT),
        ("The minister resigned.", None),
        ("Markets fell sharply on Monday after the announcement", None),
        ("(The statement was not signed by the ministry, which declined to comment.)", None),
        ("In 2019 the council met 12 times and approved the budget twice.", None),
        # scripts without spaces: a sentence is one token, but many words
        ("今天上午市政府宣布了新的交通计划", None),
        ("市政府宣布了计划。", None),
        ("新华社", None),
        ("(图片)", BRACKETED),
    ],
)
def test_lines_without_translatable_content_are_told_by_their_shape(line, reason):
    assert non_translatable_reason(line) == reason


def test_lines_set_aside_do_not_shift_the_alignment():
    rng = random.Random(11)
    pair = make_pair(rng, paragraphs=8, edits=2)
    aligner = Aligner("length")
    clean = aligner.align_paragraphs(pair.src, pair.ref)
    noisy_src = ["(Archive)", *pair.src[:3], "217", *pair.src[3:]]
    noisy_ref = ["Monday 2 May 2022 / 10:15", *pair.ref]
    noisy = aligner.align_paragraphs(noisy_src, noisy_ref)
    kept_src, skipped_src = split_translatable(noisy_src)
    kept_ref, skipped_ref = split_translatable(noisy_ref)
    assert [s.index for s in skipped_src] == [1, 5]
    assert [s.index for s in skipped_ref] == [1]
    # map noisy line numbers back to clean ones: the same links
    src_back = {kept + 1: n for n, kept in enumerate(kept_src, start=1)}
    ref_back = {kept + 1: n for n, kept in enumerate(kept_ref, start=1)}
    remapped = [
        (tuple(src_back[i] for i in link.src), tuple(ref_back[j] for j in link.ref))
        for link in noisy.links
    ]
    assert remapped == _links(clean.links)


# --- stability ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=1))
def test_alignment_is_stable_under_trailing_whitespace(seed, pads):
    pair = make_pair(random.Random(seed), paragraphs=6, edits=1)
    aligner = Aligner("length")
    padded_src = [text + pads[i % len(pads)] for i, text in enumerate(pair.src)]
    padded_ref = [" " + text + pads[-1] for text in pair.ref]
    assert _links(aligner.align_paragraphs(padded_src, padded_ref).links) == _links(
        aligner.align_paragraphs(pair.src, pair.ref).links
    )


def test_blank_lines_do_not_count_as_paragraphs(tmp_path):
    from evalkit.corpus.manifest import load_manifest_dir
    from tests.conftest import write_manifest_dir

    pair = make_pair(random.Random(3), paragraphs=6, edits=1)
    folder = write_manifest_dir(
        tmp_path / "set",
        [
            {
                "id": "d",
                "source": {"file": "s.txt", "lang": "ar"},
                "reference": {"file": "r.txt", "lang": "en"},
            }
        ],
        {"s.txt": "\n\n".join(pair.src) + "\n\n\n", "r.txt": "\n".join(pair.ref) + "\n \n"},
    )
    doc = load_manifest_dir(folder).document("d")
    assert doc.reference is not None
    aligned = Aligner("length").align_paragraphs(doc.source.segments, doc.reference.segments)
    expected = Aligner("length").align_paragraphs(pair.src, pair.ref)
    assert _links(aligned.links) == _links(expected.links)


# --- recovering known links -------------------------------------------------------------


def _recovery(method: str, pairs) -> tuple[float, float]:
    aligner = Aligner(method)
    precision = recall = 0.0
    for pair in pairs:
        found = [
            (tuple(i - 1 for i in link.src), tuple(j - 1 for j in link.ref))
            for link in aligner.align_paragraphs(pair.src, pair.ref).links
        ]
        p, r = precision_recall(found, pair.links)
        precision += p / len(pairs)
        recall += r / len(pairs)
    return precision, recall


SYNTHETIC = [make_pair(random.Random(100 + k), paragraphs=8, edits=2) for k in range(6)]


@pytest.mark.parametrize("method", METHODS)
def test_aligner_recovers_merges_and_splits_of_real_parallel_text(method, capsys):
    precision, recall = _recovery(method, SYNTHETIC)
    with capsys.disabled():
        print(
            f"\n{method} alignment on {len(SYNTHETIC)} synthetic documents: "
            f"precision {precision:.3f}, recall {recall:.3f}"
        )
    assert precision >= 0.8
    assert recall >= 0.8


def test_zipping_lines_would_not_recover_them():
    """The synthetic edits are real breaks: the identity alignment scores far lower."""
    identity = [[((i,), (i,)) for i in range(min(len(p.src), len(p.ref)))] for p in SYNTHETIC]
    recall = sum(
        precision_recall(found, p.links)[1] for found, p in zip(identity, SYNTHETIC, strict=True)
    )
    _precision_of_aligner, recall_of_aligner = _recovery("length", SYNTHETIC)
    assert recall / len(SYNTHETIC) < recall_of_aligner - 0.2


# --- a re-paragraphed document -------------------------------------------------------------

#: a synthetic document whose reference merges and splits paragraphs but has as many of
#: them as the source, so that zipping line by line is a possible (wrong) answer
REPARAGRAPHED = SYNTHETIC[0]


@pytest.mark.parametrize("method", METHODS)
def test_a_reparagraphed_document_is_not_zipped_and_every_link_has_a_plausible_length(method):
    src, ref = REPARAGRAPHED.src, REPARAGRAPHED.ref
    assert len(src) == len(ref) and REPARAGRAPHED.links != [((i,), (i,)) for i in range(len(src))]
    alignment = Aligner(method).align_paragraphs(src, ref)
    links = _links(alignment.links)
    assert links != [((i,), (i,)) for i in range(1, len(src) + 1)]
    ratio = sum(map(len, ref)) / sum(map(len, src))
    for link in alignment.links:
        assert link.src and link.ref, f"unlinked paragraph in a translated document: {link}"
        src_chars = sum(len(src[i - 1]) for i in link.src)
        ref_chars = sum(len(ref[j - 1]) for j in link.ref)
        assert 0.5 < (ref_chars / src_chars) / ratio < 2.0, link


@pytest.mark.parametrize("method", METHODS)
def test_sentence_links_stay_inside_paragraph_links(method):
    # each Arabic verse ends with a full stop: paragraphs of two to four sentences
    pair = make_pair(random.Random(5), paragraphs=6, edits=2, stop=".")
    src, ref = pair.src, pair.ref
    aligner = Aligner(method)
    paragraphs = aligner.align_paragraphs(src, ref)
    sentences = aligner.align_sentences(src, ref, "ar", "en")
    assert len(sentences.src_units) > len(src) and len(sentences.ref_units) > len(ref)
    covered_src = [i for link in sentences.links for i in link.src]
    covered_ref = [j for link in sentences.links for j in link.ref]
    skipped_src = [line.index for line in sentences.skipped_src]
    skipped_ref = [line.index for line in sentences.skipped_ref]
    assert sorted(covered_src + skipped_src) == list(range(1, len(sentences.src_units) + 1))
    assert sorted(covered_ref + skipped_ref) == list(range(1, len(sentences.ref_units) + 1))
    assert covered_src == sorted(covered_src) and covered_ref == sorted(covered_ref)

    # every sentence link's text lies within one paragraph link (spaces aside: sentences
    # need not be separated by one, as in '… me!"…')
    def squeezed(texts) -> str:
        return "".join("".join(texts).split())

    for link in sentences.links:
        src_text = squeezed(sentences.src_units[i - 1] for i in link.src)
        ref_text = squeezed(sentences.ref_units[j - 1] for j in link.ref)
        assert any(
            src_text in squeezed(src[i - 1] for i in group.src)
            and ref_text in squeezed(ref[j - 1] for j in group.ref)
            for group in paragraphs.links
        )


def test_tiny_documents_get_a_length_confidence_and_zero_confidence_is_flagged():
    from evalkit.align.judging import AlignedLink, flag_low_confidence

    aligner = Aligner("embedding")
    (link,) = aligner.align_sentences(
        ["جلس القط على الحصيرة. ثم نام طويلا."], ["The cat sat and slept."], "ar", "en"
    ).links
    assert link.shape == "2:1"
    # nothing else in the document to judge the embedding distance against, and no other
    # alignment: the confidence model still gives a probability
    assert 0 < link.confidence <= 1
    flagged = flag_low_confidence(
        [AlignedLink((1,), (1,), 0.5, 0.0), AlignedLink((2,), (2,), 0.5, 0.0)]
    )
    assert all(item.low_confidence for item in flagged)
