"""Parallel documents with a known alignment, made from real Arabic–English verse pairs.

The verses come from the `TheQuranModule` package (MIT; Arabic text with Yusuf Ali's
English translation, verse by verse), read from its CSV files without importing it.
A document groups consecutive verses into paragraphs; its reference groups the same
verses differently by splitting and merging paragraphs at random, so the true links are
known: two paragraph boundaries correspond exactly when they fall after the same verse.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from evalkit.align.lines import BRACKETED, NO_WORDS


@cache
def verse_pairs() -> list[tuple[str, str]]:
    """(Arabic, English) for every verse, in order."""
    spec = importlib.util.find_spec("Quran_Module")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("TheQuranModule is not installed (it is in evalkit[dev])")
    folder = Path(next(iter(spec.submodule_search_locations)))

    def read(name: str) -> dict[tuple[str, str], str]:
        with open(folder / name, encoding="utf-8-sig", newline="") as handle:
            return {(r["SuraID"], r["VerseID"]): r["AyahText"] for r in csv.DictReader(handle)}

    arabic, english = read("Quran_Arabic.csv"), read("Quran_English.csv")
    return [(arabic[key], english[key]) for key in arabic if key in english]


@dataclass
class SyntheticPair:
    src: list[str]
    ref: list[str]
    #: true links, 0-based paragraph indices
    links: list[tuple[tuple[int, ...], tuple[int, ...]]]


def _group(sizes: list[int], texts: list[str]) -> list[str]:
    out, start = [], 0
    for size in sizes:
        out.append(" ".join(texts[start : start + size]))
        start += size
    return out


def make_pair(
    rng: random.Random, paragraphs: int = 12, edits: int = 3, stop: str = ""
) -> SyntheticPair:
    """A document of `paragraphs` paragraphs (1–3 verses each) and a re-paragraphed reference.

    Each edit, at a distinct place, splits one reference paragraph in two (a 1:2 link) or
    merges two into one (2:1); edits never touch neighbouring paragraphs, so every true
    link is one of the shapes the aligner searches. `stop` ends each Arabic verse (the
    verses have no sentence punctuation of their own: "." makes each one a sentence).
    """
    pairs = verse_pairs()
    src_sizes = [rng.randint(2, 4) for _ in range(paragraphs)]
    start = rng.randrange(0, len(pairs) - sum(src_sizes))
    verses = pairs[start : start + sum(src_sizes)]
    arabic, english = [a + stop for a, _ in verses], [e for _, e in verses]
    # choose edit places, at least two paragraphs apart
    places: list[int] = []
    candidates = list(range(paragraphs - 1))
    rng.shuffle(candidates)
    for place in candidates:
        if len(places) == edits:
            break
        if all(abs(place - other) > 2 for other in places):
            places.append(place)
    links: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    ref_sizes: list[int] = []
    i = 0
    while i < paragraphs:
        j = len(ref_sizes)
        if i in places and rng.random() < 0.5 and i + 1 < paragraphs:  # merge i and i+1
            ref_sizes.append(src_sizes[i] + src_sizes[i + 1])
            links.append(((i, i + 1), (j,)))
            i += 2
        elif i in places and src_sizes[i] >= 2:  # split i
            cut = rng.randint(1, src_sizes[i] - 1)
            ref_sizes += [cut, src_sizes[i] - cut]
            links.append(((i,), (j, j + 1)))
            i += 1
        else:
            ref_sizes.append(src_sizes[i])
            links.append(((i,), (j,)))
            i += 1
    return SyntheticPair(_group(src_sizes, arabic), _group(ref_sizes, english), links)


def precision_recall(
    found: list[tuple[tuple[int, ...], tuple[int, ...]]],
    truth: list[tuple[tuple[int, ...], tuple[int, ...]]],
) -> tuple[float, float]:
    """Exact-link precision and recall (a link counts only when both sides match)."""
    found_set, truth_set = set(found), set(truth)
    hits = len(found_set & truth_set)
    return hits / max(len(found_set), 1), hits / max(len(truth_set), 1)


#: lines with nothing to translate in SyntheticSet's source-only document, and why
SET_ASIDE = (("2020", NO_WORDS), ("(صورة)", BRACKETED))


@dataclass
class SyntheticSet:
    """A test set folder (manifest.json and documents) made from verse pairs.

    Document `with_ref` has a re-paragraphed reference (`aligned: false`, so runs align
    it); document `alone` has no reference and, after its first paragraph, the lines of
    SET_ASIDE. Each Arabic verse ends with "." so that paragraphs hold several sentences.
    """

    folder: Path
    pair: SyntheticPair
    alone: list[str]
    with_ref: str = "a"
    without_ref: str = "b"

    @property
    def doc_ids(self) -> list[str]:
        return [self.with_ref, self.without_ref]

    def source_file(self, doc_id: str) -> str:
        return f"{doc_id}.ar.txt"


def write_synthetic_set(folder: Path, seed: int = 0, paragraphs: int = 8) -> SyntheticSet:
    """Write a SyntheticSet into `folder` (created), deterministic for a given seed."""
    rng = random.Random(seed)
    pair = make_pair(rng, paragraphs=paragraphs, edits=2, stop=".")
    alone_pair = make_pair(rng, paragraphs=3, edits=0, stop=".")
    alone = [alone_pair.src[0], *(line for line, _ in SET_ASIDE), *alone_pair.src[1:]]
    made = SyntheticSet(folder, pair, alone)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        made.source_file("a"): pair.src,
        "a.en.txt": pair.ref,
        made.source_file("b"): alone,
    }
    for name, lines in texts.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    documents = [
        {
            "id": "a",
            "source": {"file": made.source_file("a"), "lang": "ar"},
            "reference": {"file": "a.en.txt", "lang": "en"},
            "aligned": False,
        },
        {"id": "b", "source": {"file": made.source_file("b"), "lang": "ar"}},
    ]
    manifest = {"schema_version": 1, "name": folder.name, "documents": documents}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return made
