"""xqe must rank a real translation above what copying or a wrong language can produce.

Systems are built from real Arabic–English verse pairs (`synthetic_parallel.verse_pairs`):
the English translation is the good system, and the others are made from it or from the
source by rules that know nothing of the text:

- shuffled: the translations permuted across segments (right language, wrong meaning);
- copy: the source verbatim; copy without marks: the source with its vowel and
  annotation marks dropped, a copy that is not byte-identical;
- romanized: the source written in Latin letters (Arabic, so the wrong language, in the
  target's script);
- translation + source: the translation with the untouched source pasted after it.

The encoder alone scores the copies near 1 and the romanized source above the
translation; the assertions are about the ranking, never about a verse.
"""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from evalkit.metrics import MetricContext
from evalkit.metrics.xqe import RULE_VERSION, CrossLingualQE, copied_share, language_share
from tests.synthetic_parallel import verse_pairs

SEGMENTS = 30
SEED = 14
#: sources up to this length, to keep the encoder's time in the test small
MAX_SOURCE_CHARS = 300
AR_EN = MetricContext(tgt_lang="en", src_langs=("ar",))

#: Arabic letters and vowel signs in Latin letters (a simplified ALA-LC romanization)
_LETTERS = {
    "ا": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "ḥ", "خ": "kh", "د": "d",
    "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "ṣ", "ض": "ḍ", "ط": "ṭ",
    "ظ": "ẓ", "ع": "ʿ", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m",
    "ن": "n", "ه": "h", "و": "w", "ي": "y", "ى": "á", "ة": "h", "ء": "ʾ", "أ": "ʾa",
    "إ": "ʾi", "ؤ": "ʾ", "ئ": "ʾ", "آ": "ʾā",
}  # fmt: skip
_VOWELS = {"\u064e": "a", "\u0650": "i", "\u064f": "u", "\u064b": "an", "\u064d": "in"}
_VOWELS |= {"\u064c": "un", "\u0670": "ā"}


def romanize(text: str) -> str:
    """The text with Arabic letters and vowel signs in Latin letters; other Arabic signs
    (sukun, shadda, Quranic marks) dropped."""
    out = []
    for char in text:
        if char in _LETTERS or char in _VOWELS:
            out.append(_LETTERS.get(char) or _VOWELS[char])
        elif "ARABIC" not in unicodedata.name(char, ""):
            out.append(char)
    return "".join(out)


def without_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def derangement(items: list[str], rng: random.Random) -> list[str]:
    """The items permuted along one random cycle, so that none keeps its place."""
    order = list(range(len(items)))
    rng.shuffle(order)
    result = list(items)
    for k, i in enumerate(order):
        result[i] = items[order[(k + 1) % len(order)]]
    return result


@pytest.fixture(scope="module")
def systems() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    pairs = [pair for pair in verse_pairs() if len(pair[0]) <= MAX_SOURCE_CHARS]
    sources, translations = map(list, zip(*rng.sample(pairs, SEGMENTS), strict=True))
    return {
        "source": sources,
        "translation": translations,
        "shuffled": derangement(translations, rng),
        "copy": sources,
        "copy without marks": [without_marks(s) for s in sources],
        "romanized": [romanize(s) for s in sources],
        "translation + source": [f"{t} {s}" for t, s in zip(translations, sources, strict=True)],
    }


def segment_scores(metric: CrossLingualQE, systems: dict[str, list[str]]) -> dict[str, np.ndarray]:
    metric.check_available()
    return {
        name: np.array(
            [
                metric.segment_score(row)
                for row in metric.segment_statistics(hyps, None, systems["source"])
            ]
        )
        for name, hyps in systems.items()
        if name != "source"
    }


@pytest.fixture(scope="module")
def into_english(systems) -> dict[str, np.ndarray]:
    return segment_scores(CrossLingualQE(AR_EN), systems)


@pytest.fixture(scope="module")
def no_target(systems) -> dict[str, np.ndarray]:
    return segment_scores(CrossLingualQE(), systems)


def test_the_encoder_alone_ranks_copies_and_the_wrong_language_first(systems):
    """Why the rule exists: the plain cosine prefers the copies to the translation, and
    puts the romanized source within a hair of it (no margin to rank by)."""
    raw = CrossLingualQE(AR_EN)
    cosine = {
        name: np.mean([row[1] for row in raw.segment_statistics(hyps, None, systems["source"])])
        for name, hyps in systems.items()
        if name in ("translation", "copy", "copy without marks", "romanized")
    }
    assert cosine["copy"] == pytest.approx(1.0, abs=1e-4)
    assert cosine["copy without marks"] > cosine["translation"]
    assert cosine["romanized"] > cosine["translation"] - 0.05


@pytest.mark.parametrize(
    "worse", ["shuffled", "copy", "copy without marks", "romanized", "translation + source"]
)
def test_the_translation_wins_at_system_level(into_english, worse):
    assert into_english["translation"].mean() > into_english[worse].mean()


@pytest.mark.parametrize("copy", ["copy", "copy without marks"])
def test_a_copy_never_beats_the_translation_of_its_segment(into_english, copy):
    assert np.all(into_english[copy] < into_english["translation"])
    assert np.all(into_english[copy] == 0.0)


def test_the_wrong_language_scores_far_below_the_translation(into_english):
    assert into_english["romanized"].mean() < into_english["translation"].mean() / 2


def test_without_a_target_language_copying_still_loses(no_target):
    for worse in ("shuffled", "copy", "copy without marks", "translation + source"):
        assert no_target["translation"].mean() > no_target[worse].mean()
    for copy in ("copy", "copy without marks"):
        assert np.all(no_target[copy] < no_target["translation"])


def test_language_share_counts_letters_in_the_target_scripts():
    latin = frozenset({"LATIN"})
    assert language_share("2020 - 15", latin, "en", ("en",)) is None  # no letters
    assert language_share("ab جد", latin, None, ("en",)) == pytest.approx(0.5)
    # too short for lingua: judged by script alone
    assert language_share("abc", latin, "en", ("en", "fr")) == 1.0


def test_copied_share_ignores_marks_and_case():
    marked = "".join(f"{c}\u064e" for c in "كتب")  # a word with a vowel sign on each letter
    assert copied_share(f"{marked} Abc", "كتب abc") == 1.0
    assert copied_share("xyz abc", "abc") == 0.5
    assert copied_share("12 34", "abc") is None


def test_the_signature_states_the_rule_and_its_version():
    assert RULE_VERSION >= 2
    into_english, no_target = CrossLingualQE(AR_EN).signature(), CrossLingualQE().signature()
    assert into_english.startswith(f"xqe|v{RULE_VERSION}|") and "|tgt:en|" in into_english
    assert "share of hypothesis letters in LATIN" in into_english and "lingua-" in into_english
    assert "tgt:none" in no_target and "found in the source" in no_target
    unknown = CrossLingualQE(MetricContext(tgt_lang="xx")).signature()
    assert "script alone" in unknown
