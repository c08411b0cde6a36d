"""Alignment where the reference leaves things out or adds them, and how sure it says it is.

Documents are made here from word lists, with a bag-of-words encoder: a source paragraph
is a chain of names the reference never repeats, then its content; the reference gives
the content alone (an omitted chain), the content and a note (an added note), or skips a
paragraph (a cut). The true links are known, so the search and the confidence model are
pinned without a real encoder; `test_align.py` runs the real one.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zlib
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from evalkit.align import Aligner
from evalkit.align.anchors import AnchorScore, skeleton
from evalkit.align.confidence import (
    FLAG_BELOW,
    LinkEvidence,
    expected_wrong_share,
    probability,
    too_many_flagged,
    unreliable,
)
from evalkit.align.costs import (
    NEIGHBOURS,
    AlignParams,
    CombinedCost,
    EmbeddingCost,
    LengthCost,
    _spread,
    length_ratio,
    linked_ratio,
    mutual_nearest,
)
from evalkit.align.dp import Link
from evalkit.align.judging import link_evidence
from evalkit.align.reliability import alignment_warnings
from evalkit.align.units import BELOW_MIN_CONFIDENCE_FLAG, LOW_CONFIDENCE_FLAG, scoring_units
from evalkit.corpus.model import Document, Side, TestSet
from evalkit.record import AlignmentInfo, LinkInfo

DIMENSIONS = 4096


class WordsEncoder:
    """Each text as the normalised count of its hashed words: shared words make texts
    close, as a shared meaning does for a real encoder."""

    name = "test-words"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                out[row, zlib.crc32(word.encode()) % DIMENSIONS] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _words(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}{k}" for k in range(count))


def _document(seed: int, paragraphs: int = 10, note: bool = False) -> tuple[list[str], list[str]]:
    """Sources with chains of 1 to 3 times their content's length (some paragraphs half
    chain, some three quarters), references with the content only (and a note)."""
    rng = random.Random(seed)
    src, ref = [], []
    for p in range(paragraphs):
        content = _words(f"c{seed}x{p}w", rng.randint(8, 20))
        chain = _words(f"n{seed}x{p}w", len(content.split()) * rng.randint(1, 3))
        src.append(f"{chain} {content}")
        extra = f" {_words(f'note{seed}x{p}w', rng.randint(5, 15))}" if note else ""
        ref.append(content + extra)
    return src, ref


def _aligner() -> Aligner:
    aligner = Aligner("embedding")
    aligner.use_encoder(WordsEncoder())
    return aligner


def _links(alignment) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(link.src, link.ref) for link in alignment.links]


@pytest.mark.parametrize("seed", range(4))
def test_a_reference_without_the_chains_is_linked_paragraph_to_paragraph(seed):
    src, ref = _document(seed)
    alignment = _aligner().align_paragraphs(src, ref)
    assert _links(alignment) == [((k,), (k,)) for k in range(1, len(src) + 1)]
    assert not alignment.unreliable


@pytest.mark.parametrize("seed", range(4))
def test_a_reference_with_a_note_after_each_paragraph_is_linked_alike(seed):
    src, ref = _document(seed, note=True)
    alignment = _aligner().align_paragraphs(src, ref)
    assert _links(alignment) == [((k,), (k,)) for k in range(1, len(src) + 1)]
    assert not alignment.unreliable


@pytest.mark.parametrize("cut", [1, 4, 10])
def test_a_paragraph_the_reference_cuts_is_left_unlinked_and_the_rest_stays_right(cut):
    src, ref = _document(7)
    del ref[cut - 1]
    alignment = _aligner().align_paragraphs(src, ref)
    expected = [((k,), (k if k < cut else k - 1,)) for k in range(1, len(src) + 1) if k != cut]
    expected.insert(cut - 1, ((cut,), ()))
    assert _links(alignment) == expected


def test_a_reference_of_another_document_is_unreliable_and_its_links_flagged():
    src, _ = _document(1)
    _, other = _document(2)
    alignment = _aligner().align_paragraphs(src, other)
    assert alignment.unreliable
    assert alignment.flagged >= len(alignment.links) // 2
    right = _aligner().align_paragraphs(*_document(1))
    assert min(link.confidence for link in right.links) > max(
        link.confidence for link in alignment.links if link.src and link.ref
    )


def test_confidence_falls_as_the_two_sides_grow_apart_and_the_margin_thins():
    # the rest of the document stays at a distance of 1.0 (no closer than anything)
    close = LinkEvidence(margin=1.0, distance=0.2, length=0.5, unlinked=False, rival=0.8)
    apart = LinkEvidence(margin=1.0, distance=1.0, length=0.5, unlinked=False, rival=0.0)
    thin = LinkEvidence(margin=0.0, distance=0.2, length=0.5, unlinked=False, rival=0.8)
    assert probability(close) > probability(apart)
    assert probability(close) > probability(thin)
    assert 0.0 <= probability(apart) <= 1.0


def test_a_margin_method_calls_a_document_unreliable_when_a_sound_one_would_rarely_flag_as_many():
    # a sound alignment flags about a fifth of its links: 5 of 12 happens, 6 rarely
    assert too_many_flagged(6, 12) and not too_many_flagged(5, 12)
    assert not too_many_flagged(0, 0)
    # the bar is a share that falls as documents grow: a third of 40 is no accident
    assert too_many_flagged(13, 40) and not too_many_flagged(2, 6) and too_many_flagged(3, 3)
    assert unreliable("length", [0.9] * 12, 6) and not unreliable("length", [0.9] * 12, 5)


def test_the_embedding_method_judges_a_document_by_the_links_it_expects_wrong():
    """Its confidences are probabilities: many links each a little doubtful (all flagged)
    are still mostly right; a few links likely wrong make a document unreliable."""
    assert not unreliable("embedding", [0.9] * 10, 10)
    assert unreliable("embedding", [0.99] * 6 + [0.3] * 4, 4)
    assert expected_wrong_share([0.5, 1.0]) == pytest.approx(0.25)
    assert not unreliable("embedding", [], 0)

    def info(doc_id: str, confidences: list[float], method: str = "embedding") -> AlignmentInfo:
        links = [
            LinkInfo(src=[k], ref=[k], cost=0.1, confidence=c, low_confidence=c < 0.95)
            for k, c in enumerate(confidences, start=1)
        ]
        return AlignmentInfo(
            doc_id=doc_id,
            unit="paragraph",
            method=method,
            signature="s",
            mean_confidence=sum(confidences) / len(confidences),
            low_confidence_links=sum(link.low_confidence for link in links),
            links=links,
        )

    sound = info("sound", [0.9] * 9)
    doubtful = info("doubtful", [0.99] * 5 + [0.2] * 4)
    by_margin = info("margins", [0.99] * 4 + [0.2] * 5, method="length")
    warnings = alignment_warnings([sound, doubtful, by_margin])
    assert len(warnings) == 2
    assert warnings[0].startswith("doubtful: alignment unreliable, about 36% of its 9 links")
    assert warnings[1].startswith("margins: alignment unreliable, 5 of 9 links flagged")
    assert all("--min-confidence" in line for line in warnings)


def test_min_confidence_keeps_a_doubtful_link_but_not_its_reference():
    src, _ = _document(3)
    _, other = _document(4)
    document = Document("d", Side("ar", tuple(src)), Side("en", tuple(other)), aligned=False)
    test_set = TestSet("t", "made here", "en", (document,))
    # at the flag threshold, --min-confidence leaves out exactly the flagged links
    found = scoring_units(test_set, _aligner(), min_confidence=FLAG_BELOW)
    linked = [u for u in found.units if u.src_ids and u.ref_ids]
    doubtful = [u for u in linked if LOW_CONFIDENCE_FLAG in u.flags]
    assert doubtful
    assert all(u.ref is None and BELOW_MIN_CONFIDENCE_FLAG in u.flags for u in doubtful)
    assert all(u.ref for u in linked if u not in doubtful)
    assert len(found.units) == len(found.alignments["d"].links)


# --- anchors: names and numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("arabic", "english"),
    [
        ("زيد", "Zayd"),
        ("أَرْقَمَ", "Arqam"),
        ("هريرة", "Hurairah"),
        ("قتادة", "Qatadah"),
        ("المدينة", "Al-Madinah"),
        ("١٩٤٨", "1948"),
    ],
)
def test_a_name_and_its_transliteration_share_a_skeleton(arabic, english):
    assert skeleton(arabic) == skeleton(english)


def test_the_anchor_score_rewards_shared_rare_names_and_ignores_words_without_counterpart():
    src = ["حدثنا زيد بن أرقم عن قتادة قال", "أخبرنا أنس بن مالك قال", "قال عمر في سنة ١٩٤٨"]
    ref = ["Narrated Zayd ibn Arqam: the Messenger said", "Anas bin Malik said", "In 1948"]
    anchors = AnchorScore(src, ref)
    assert anchors.active
    for j in range(3):
        scores = [anchors(i, i + 1, j, j + 1) for i in range(3)]
        assert scores.index(max(scores)) == j and max(scores) > 0
    # a span that takes in a neighbour's names matches less well than the right one
    assert anchors(0, 2, 0, 1) < anchors(0, 1, 0, 1)
    # "Messenger" has no counterpart in the source: not an anchor, not a penalty
    assert anchors(0, 1, 0, 1) == pytest.approx(1.0)


def test_the_anchor_score_is_the_same_bit_for_bit_whatever_the_hash_seed():
    """Sets iterate in an order the process's hash seed picks; a sum over one could move
    the last bit, and a link's confidence (trees split on exact values) with it."""
    names = "Zayd Arqam Qatadah Anas Malik Umar Ali Uthman Bakr Hurayrah Abbas Aishah"
    arabic = "زيد أرقم قتادة أنس مالك عمر علي عثمان بكر هريرة عباس عائشة"
    script = (
        "from evalkit.align.anchors import AnchorScore\n"
        f"src = [' '.join({arabic.split()!r}[k : k + 7]) for k in range(6)]\n"
        f"ref = [' '.join({names.split()!r}[k : k + 7]) for k in range(6)]\n"
        "score = AnchorScore(src, ref)\n"
        "print(repr([score(0, 3, 0, 4), score(1, 5, 0, 6), score(0, 6, 2, 5)]))\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(seen) == 1


def test_anchors_say_nothing_where_the_two_sides_share_no_name():
    anchors = AnchorScore(["Le chat dort."], ["The Dog sleeps."])
    assert not anchors.active and anchors(0, 1, 0, 1) == 0.0


# --- how leaving a unit out is priced --------------------------------------------------------


def _cost(src: list[str], ref: list[str], params: AlignParams | None = None) -> CombinedCost:
    embedding = EmbeddingCost(src, ref, WordsEncoder(), neighbours=NEIGHBOURS)
    length = LengthCost([len(t) for t in src], [len(t) for t in ref])
    return CombinedCost(length, embedding, params or AlignParams())


def test_a_paragraph_nothing_claims_is_cheaper_to_leave_out_than_one_with_a_counterpart():
    src, ref = _document(5)
    del ref[3]  # the reference cut paragraph 4: nothing of it is left to claim it
    cost = _cost(src, ref)
    params = AlignParams()
    assert mutual_nearest(cost.embedding, len(src), len(ref))[0] == set(range(len(src))) - {3}
    assert cost(3, 4, 3, 3) == pytest.approx(params.skip_cost * params.lonely_skip)
    assert cost(2, 3, 3, 3) == pytest.approx(params.skip_cost)
    # priced alike, it is what vecalign does: one price for every unit
    alike = _cost(src, ref, replace(params, lonely_skip=1.0))
    assert alike(3, 4, 3, 3) == alike(2, 3, 3, 3) == pytest.approx(params.skip_cost)


def test_a_cut_between_paragraphs_that_share_words_is_left_out_not_shifted():
    """Neighbouring paragraphs that share much of their wording (verses of one passage)
    make a shifted chain of links nearly as cheap as the true one: the cut paragraph,
    claimed by nothing, is left out all the same."""
    rng = random.Random(11)
    shared = _words("theme", 12)
    src, ref = [], []
    for p in range(10):
        own = _words(f"v{p}w", rng.randint(6, 10))
        src.append(f"{shared} {own}")
        ref.append(f"{shared} {own}")
    del ref[4]
    alignment = _aligner().align_paragraphs(src, ref)
    assert ((5,), ()) in _links(alignment)
    assert [link for link in _links(alignment) if link[0] and link[1]] == [
        ((k,), (k if k < 5 else k - 1,)) for k in range(1, 11) if k != 5
    ]


def test_a_span_is_judged_against_its_nearest_units_not_the_whole_document():
    """A span's distance is divided by its mean distance to its few nearest units on the
    other side: a paragraph far from most of the document but close to two of them is
    not made to look close by the far ones."""
    vector = np.array([1.0, 0.0])
    others = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert _spread(vector, others) == pytest.approx(np.mean(1 - others @ vector))
    assert _spread(vector, others, neighbours=2) == pytest.approx((0.0 + 0.2) / 2)


def test_a_cut_paragraph_swallowed_by_a_merge_shows_in_the_links_evidence():
    """Where the search merges a cut paragraph into its neighbour's link, the link is
    further from its reference than its right part alone: the confidence model sees it."""
    src, ref = _document(6)
    del ref[2]
    cost = _cost(src, ref)
    length = cost.length
    link = Link((1, 2), (1,), 0.0)
    seen = link_evidence(link, 0.1, cost.embedding, length, None, AlignParams(), 10, 9)
    assert seen.merged and seen.merge_excess > 0
    right = link_evidence(
        Link((1,), (1,), 0.0), 0.1, cost.embedding, length, None, AlignParams(), 10, 9
    )
    assert right.mutual and right.merge_excess == 0.0
    left_out = link_evidence(
        Link((2,), (), 0.0), 0.1, cost.embedding, length, None, AlignParams(), 10, 9
    )
    assert left_out.unlinked and not left_out.mutual


def test_the_length_ratio_counts_the_units_a_reference_kept_not_the_ones_it_cut():
    """Cut paragraphs make the document's total ratio wrong for every kept paragraph; the
    second search takes the ratio over linked units only."""
    src_lengths, ref_lengths = [100, 400, 100, 100], [150, 150, 150]
    links = [Link((0,), (0,), 0.0), Link((1,), (), 2.0), Link((2,), (1,), 0.0)]
    links.append(Link((3,), (2,), 0.0))
    assert length_ratio(src_lengths, ref_lengths) == pytest.approx(450 / 700)
    assert linked_ratio(links, src_lengths, ref_lengths) == pytest.approx(1.5)
    # a reference that adds notes (0:1 links) is measured on what was linked as well
    noted = [Link((0,), (0,), 0.0), Link((), (1,), 2.0), Link((1, 2, 3), (2,), 0.0)]
    assert linked_ratio(noted, src_lengths, ref_lengths) == pytest.approx(300 / 700)
