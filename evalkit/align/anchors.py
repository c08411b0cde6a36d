"""Anchors that survive translation: names and numbers, matched by their consonants.

Where a reference leaves half of every paragraph out (a chain of narrators, a dateline,
a quoted commentary), sentence embeddings of the two sides grow alike across the whole
document and stop telling paragraphs apart. What a translation keeps is the names and
numbers of what it does translate: "Zayd ibn Arqam" for زيد بن أرقم, "1948" for ١٩٤٨.
Transliteration drops short vowels and spells consonants many ways, so both sides are
reduced to a consonant skeleton in coarse classes (ق and q and k alike, ث and th and t
alike, vowels and the semivowels w and y dropped, doubled letters once): "Hurairah" and
هريرة both become `hrh`.

The anchors of a document are the reference's capitalised words and numbers whose
skeleton some source word has (a capitalised "Messenger" with no counterpart anywhere is
none). A link's anchor score is the F-score of the anchors its two sides name, each
weighted by how rare it is among the document's reference paragraphs (a name in every
paragraph, like a recurring narrator or "Allah", tells nothing). Only skeletons of three
or more consonants count: two match too many ordinary words. A document with no shared
skeleton at all (a language pair that writes names differently, text without names) gets
no anchor score, so the cost is what it would be without anchors.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from functools import lru_cache

from evalkit.embeddings import ARABIC_MARKS  # vowels, shadda, tatweel: no consonant

#: Arabic letters to coarse Latin consonant classes; vowel carriers map to nothing
_ARABIC = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "h", "د": "d", "ذ": "d",
    "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "ة": "h", "پ": "b", "چ": "j", "ژ": "z", "ک": "k", "گ": "g", "ی": "",
    "ا": "", "أ": "", "إ": "", "آ": "", "ء": "", "ؤ": "", "ئ": "", "ى": "", "و": "",
    "ي": "", "ع": "",
}  # fmt: skip
#: Latin digraphs first, then letters, to the same classes
_LATIN_DIGRAPHS = (("th", "t"), ("dh", "d"), ("kh", "h"), ("sh", "s"), ("gh", "g"), ("ph", "f"))
_LATIN = str.maketrans({"q": "k", "c": "k", "x": "ks", "v": "f", "p": "b"})
#: the Arabic article as transliterated, assimilated or not: al-, el-, ar-, as-, ad-, ...
_LATIN_ARTICLE = re.compile(r"^[ae][lnrsdtz]-(?=\w)")
_LATIN_DROPPED = re.compile(r"[aeiouyw'’ʿʾ`\-]")
#: Arabic-Indic and Persian digits as ASCII
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_WORD = re.compile(r"\w+(?:['’ʿʾ-]\w+)*")
_ARABIC_LETTERS = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")
#: the shortest skeleton that counts as an anchor (numbers count at any length)
MIN_CONSONANTS = 3


def _collapse(skeleton: str) -> str:
    return re.sub(r"(.)\1+", r"\1", skeleton)


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """The consonant skeleton of one word of either script ('' when it has none)."""
    word = word.translate(_DIGITS)
    if word.isdigit():
        return word
    if _ARABIC_LETTERS.search(word):
        word = word.translate(ARABIC_MARKS)
        if word.startswith(("ال", "وال", "بال", "فال", "لل")) and len(word) > 4:
            word = word[word.index("ل") + 1 :]
        elif word.startswith("و") and len(word) > 3:
            word = word[1:]
        return _collapse("".join(_ARABIC.get(ch, "") for ch in word))
    word = _LATIN_ARTICLE.sub("", word.lower())
    for pair, single in _LATIN_DIGRAPHS:
        word = word.replace(pair, single)
    word = _LATIN_DROPPED.sub("", word.translate(_LATIN))
    return _collapse(re.sub(r"[^a-z]", "", word))


def _counts(skeletons: set[str]) -> set[str]:
    return {s for s in skeletons if s.isdigit() or len(s) >= MIN_CONSONANTS}


def source_skeletons(text: str) -> set[str]:
    """Every word's skeleton, and every two neighbouring words' joined: any word of the
    source may be a name, and a two-word name is often written as one ("AbuHurayrah")."""
    words = [skeleton(w) for w in _WORD.findall(text.translate(ARABIC_MARKS))]
    return _counts({*words, *(a + b for a, b in itertools.pairwise(words))})


def reference_anchors(text: str) -> set[str]:
    """The skeletons of the reference's capitalised words and numbers: its names."""
    words = _WORD.findall(text.translate(_DIGITS).translate(ARABIC_MARKS))
    return _counts({skeleton(w) for w in words if w[0].isupper() or w[0].isdigit()})


class AnchorScore:
    """Anchor scores of spans of one document pair (0-based, [i0, i1) × [j0, j1))."""

    def __init__(self, src_texts: Sequence[str], ref_texts: Sequence[str]) -> None:
        source = [source_skeletons(t) for t in src_texts]
        reference = [reference_anchors(t) for t in ref_texts]
        source_all = set().union(*source) if source else set()
        # the anchors of this document: the reference's names found somewhere in the
        # source ("Messenger", "Prophet", capitalised with no counterpart, are none)
        found = {a for anchors in reference for a in anchors} & source_all
        self._src = [anchors & found for anchors in source]
        self._ref = [anchors & found for anchors in reference]
        frequency = {a: sum(a in anchors for anchors in self._ref) for a in found}
        n = len(self._ref)
        #: rare anchors weigh more; one in every paragraph weighs almost nothing
        self._weight = {a: math.log((n + 1) / (df + 0.5)) for a, df in frequency.items()}
        #: whether the two sides share any anchor at all: if not, anchors say nothing
        self.active = bool(found)

    def __call__(self, i0: int, i1: int, j0: int, j1: int) -> float:
        """The weighted F-score of the two spans' anchors: high when both sides name the
        same people and numbers, and neither names ones the other lacks (a merged span
        that takes in a neighbour's names scores lower). 0 when anchors are inactive or
        neither span has any."""
        if not self.active:
            return 0.0
        ref = set().union(*self._ref[j0:j1])
        src = set().union(*self._src[i0:i1])
        # fsum: exact, so a set's iteration order (which varies with the process's hash
        # seed) cannot move the last bit, nor a link's confidence with it
        shared = math.fsum(self._weight[a] for a in ref & src)
        both = math.fsum(self._weight[a] for a in ref) + math.fsum(self._weight[a] for a in src)
        return 2 * shared / both if both > 0 else 0.0
