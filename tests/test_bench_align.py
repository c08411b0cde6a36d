"""The alignment bench's corpora: true links that are right by construction, and scores.

`bench/align_corpora.py` makes the documents `make bench-align` measures; a wrong true
link there would make every figure of the bench wrong. Checked on units made here, and
on the verse corpus (TheQuranModule, in evalkit[dev]) with the length method only.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.align.dp import DEFAULT_STEPS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import align as bench
from align_corpora import (
    CORPORA,
    AlignCase,
    CorpusSpec,
    MissingCorpus,
    abridge,
    build_corpus,
    chain_share,
    make_case,
    reparagraph,
    unrelated_cases,
)

#: units made for the test: unit k is "Sentence k." on both sides (a different language
#: is not needed to check the bookkeeping)
UNITS = [(f"Source sentence {k}.", f"Reference sentence {k}.") for k in range(60)]
SPEC = CorpusSpec("made", "test units", "this file", "none", lambda: [("xx", "en", UNITS)])


def _texts_of(case: AlignCase, side: str, link_side: tuple[int, ...]) -> list[int]:
    """The unit numbers in the paragraphs of one side of a link."""
    paragraphs = case.src if side == "src" else case.ref
    text = " ".join(paragraphs[p] for p in link_side)
    return [int(word.rstrip(".")) for word in text.split() if word.rstrip(".").isdigit()]


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 20))
def test_true_links_cover_every_paragraph_once_with_searchable_shapes(seed, paragraphs):
    sizes = [random.Random(seed + k).randint(1, 4) for k in range(paragraphs)]
    ref_sizes, links = reparagraph(random.Random(seed), sizes)
    assert [i for src, _ in links for i in src] == list(range(len(sizes)))
    assert [j for _, ref in links for j in ref] == list(range(len(ref_sizes)))
    assert all((len(src), len(ref)) in DEFAULT_STEPS for src, ref in links)
    assert all(len(src) == 1 or len(ref) == 1 for src, ref in links)
    assert sum(ref_sizes) == sum(sizes)


@pytest.mark.parametrize("seed", range(8))
def test_both_sides_of_every_true_link_hold_the_same_units(seed):
    case = make_case(SPEC, random.Random(seed), "d", ("xx", "en"), UNITS, paragraphs=10)
    for src, ref in case.links:
        assert _texts_of(case, "src", src) == _texts_of(case, "ref", ref)
    assert all(1 <= len(_texts_of(case, "src", (i,))) <= 4 for i in range(len(case.src)))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("edit", ["cuts", "swaps"])
def test_cut_and_swapped_references_keep_true_links_right(seed, edit):
    spec = CorpusSpec("made", "test units", "this file", "none", SPEC.pairs, **{edit: True})
    case = make_case(spec, random.Random(seed), "d", ("xx", "en"), UNITS, paragraphs=12)
    assert [i for src, _ in case.links for i in src] == list(range(len(case.src)))
    assert sorted(j for _, ref in case.links for j in ref) == list(range(len(case.ref)))
    for src, ref in case.links:
        if ref:
            assert _texts_of(case, "src", src) == _texts_of(case, "ref", ref)
    if edit == "cuts":
        cut = [src for src, ref in case.links if not ref]
        assert all(len(src) == 1 for src in cut)
        # never two cuts in a row: the paragraph after a cut keeps its reference
        assert not any(
            not a[1] and not b[1] for a, b in zip(case.links, case.links[1:], strict=False)
        )


def test_every_seed_of_the_edited_corpora_edits_something():
    made = {
        edit: [
            make_case(
                CorpusSpec("made", "t", "f", "none", SPEC.pairs, **{edit: True}),
                random.Random(seed),
                "d",
                ("xx", "en"),
                UNITS,
                paragraphs=12,
            )
            for seed in range(10)
        ]
        for edit in ("cuts", "swaps")
    }
    assert any(not ref for case in made["cuts"] for _, ref in case.links)
    # a swap: a link whose reference comes after the next link's
    assert any(
        a[1] and b[1] and a[1][0] > b[1][0]
        for case in made["swaps"]
        for a, b in zip(case.links, case.links[1:], strict=False)
    )


def test_the_chain_share_is_what_comes_before_the_first_quotation():
    assert chain_share('حدثنا زيد عن عمر قال "لا تفعل"') == pytest.approx(5 / 7)
    assert chain_share("قال عمر لا تفعل") is None


def test_an_abridged_paragraph_loses_a_sentence_or_a_final_clause_never_most_of_it():
    rng = random.Random(1)
    two = "The first sentence is here. The second one follows it closely."
    shorter = abridge(rng, two, "en")
    assert shorter in ("The first sentence is here.", "The second one follows it closely.")
    one = "Everyone may take part in the meeting, and may speak there freely."
    assert abridge(rng, one, "en") == "Everyone may take part in the meeting."
    assert abridge(rng, "A single clause without any break at all.", "en") is None


def test_corpora_are_the_same_for_the_same_seeds():
    spec = next(spec for spec in CORPORA if spec.name == "verse")
    try:
        first = build_corpus(spec, [0, 1], 2, 8)
    except MissingCorpus as missing:
        pytest.skip(str(missing))
    again = build_corpus(spec, [0, 1], 2, 8)
    assert [(c.src, c.ref, c.links) for c in first] == [(c.src, c.ref, c.links) for c in again]
    assert len({tuple(c.src) for c in first}) == len(first)


def test_the_bench_scores_exact_links_and_bins_confidence():
    from evalkit.align import Aligner

    cases = [make_case(SPEC, random.Random(s), f"d{s}", ("xx", "en"), UNITS, 8) for s in range(3)]
    total, by_seed = bench.evaluate(Aligner("length"), "made", cases)
    assert total.true_links == sum(len(c.links) for c in cases)
    assert 0 <= total.correct_links <= min(total.found_links, total.true_links)
    assert total.f1 == pytest.approx(
        2 * total.precision * total.recall / (total.precision + total.recall)
    )
    assert sum(b["links"] for b in bench.reliability(total.outcomes)) == total.found_links
    rates = bench.error_rates(total.outcomes)
    assert rates["flagged"]["links"] + rates["unflagged"]["links"] == total.found_links
    assert sum(r.docs for r in by_seed.values()) == len(cases)


def test_an_unrelated_case_pairs_a_source_with_another_documents_reference_and_links_nothing():
    cases = [
        make_case(SPEC, random.Random(seed), f"d{seed}", ("xx", "en"), UNITS, paragraphs=6)
        for seed in range(4)
    ]
    unrelated = unrelated_cases(cases, count=2)
    assert len(unrelated) == 2
    for case, a, b in zip(unrelated, cases[:2], cases[1:3], strict=True):
        assert case.src == a.src and case.ref == b.ref and case.doc_id == f"{a.doc_id}+{b.doc_id}"
        assert sorted(case.links) == sorted(
            [((i,), ()) for i in range(len(a.src))] + [((), (j,)) for j in range(len(b.ref))]
        )
