"""The one text chunker and the one bounded cache the embedding users share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.embeddings import SENTENCE_END, BoundedCache, text_pieces

sentences = st.lists(
    st.text(alphabet=st.sampled_from("abc de"), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool),
    min_size=1,
    max_size=30,
)


@given(sentences, st.integers(min_value=5, max_value=200))
def test_pieces_keep_every_word_in_order_and_fit_when_they_can(parts, limit):
    text = ". ".join(parts) + "."
    pieces = text_pieces(text, limit)
    assert " ".join(pieces).split() == text.split()
    for piece in pieces:
        # a piece over the limit is a single word that cannot be cut
        assert len(piece) <= limit or len(piece.split()) == 1


def test_a_text_within_the_limit_is_one_piece_itself():
    assert text_pieces("One. Two.", 100) == ["One. Two."]


def test_pieces_are_measured_by_the_given_size():
    words = lambda piece: len(piece.split())  # noqa: E731
    text = "a b c. d e f. g h i."
    assert text_pieces(text, 6, words) == ["a b c. d e f.", "g h i."]
    assert all(words(p) <= 3 for p in text_pieces(text, 3, words))


def test_sentence_ends_include_arabic_and_cjk_marks():
    assert SENTENCE_END.split("نعم؟ لا. 好。 yes! ok") == ["نعم؟", "لا.", "好。", "yes!", "ok"]


def test_the_cache_drops_the_least_recently_used():
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


@given(st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8))
def test_the_cache_never_grows_past_its_capacity(keys, capacity):
    cache: BoundedCache[int, int] = BoundedCache(capacity)
    for key in keys:
        cache.put(key, key)
        assert len(cache) <= capacity and cache.get(key) == key


def test_a_cache_needs_room():
    with pytest.raises(ValueError):
        BoundedCache(0)
