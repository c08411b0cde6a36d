"""Translation-based alignment: links found through a pivot translation of the source.

The documents are synthetic: English "pivot translations" of made-up hadith-like
paragraphs (a chain of narrators, then a statement with its own names and numbers) and a
reference that leaves out the chain, adds a translator's note or cuts a paragraph. Each
source paragraph's chain names people from one shared pool, as real chains do, so the
omitted half looks alike from paragraph to paragraph and only the kept half tells them
apart.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evalkit.align import Aligner
from evalkit.align.translation import (
    MissingPivot,
    TranslationAligner,
    pivot_lines,
)
from tests.conftest import write_manifest_dir

NARRATORS = [
    "Muhammad bin Bashshar", "Yahya bin Said", "Shubah", "Qatadah", "Sufyan", "Waki",
    "Hisham bin Ammar", "Malik", "Nafi", "Abdur-Rahman bin Mahdi", "Ibn Shihab", "Zuhri",
]  # fmt: skip
#: (narrator the reference names, what he reports): each names someone and a number
STATEMENTS = [
    ("Abu Hurairah", "whoever fasts Ramadan out of faith will be forgiven, he fasted 30 days"),
    ("Aishah", "the Messenger of Allah prayed 4 rak'ahs before Zuhr and 2 after it"),
    ("Ibn Umar", "the Prophet forbade selling dates before they ripen, in the drought of 7 AH"),
    ("Anas bin Malik", "none of you believes until he loves for his brother what he loves"),
    ("Jabir bin Abdullah", "we were 1400 at Hudaibiyah and the Prophet put his hand in the water"),
    ("Abu Said al-Khudri", "the best charity is water given to a thirsty camel at Rumah"),
    ("Ibn Abbas", "the Prophet was most generous in Ramadan, when Jibril met him"),
    ("Umm Salamah", "she asked about the ghusl of Friday: pour water three times over the head"),
    ("Muadh bin Jabal", "he was sent to Yemen to take zakat from the rich and give it to the poor"),
    ("Abu Musa al-Ashari", "the believer to the believer is like a building of bricks"),
    ("Uthman bin Affan", "the best of you learn the Quran and teach it, as he said at 60"),
    ("Salman al-Farisi", "the Prophet accepted a gift of dates and refused 5 measures of sadaqah"),
]


def _chain(rng: random.Random) -> str:
    names = rng.sample(NARRATORS, 4)
    return f"{names[0]} told us, {names[1]} told us, from {names[2]}, from {names[3]}, that"


def pivot_paragraph(rng: random.Random, k: int) -> str:
    """The pivot translation of source paragraph k: its chain, then its statement."""
    narrator, text = STATEMENTS[k]
    return f"{_chain(rng)} {narrator} narrated that {text}."


def reference_paragraph(k: int) -> str:
    """The reference of paragraph k: no chain, the narrator and the statement only."""
    narrator, text = STATEMENTS[k]
    return f"It was narrated from {narrator} that {text}."


def source_lines(count: int) -> list[str]:
    """Stand-in source paragraphs: the aligner reads only their pivot (and their shape)."""
    return [f"حدثنا فلان عن فلان في الباب رقم {k + 1} من الكتاب." for k in range(count)]


def align(pivot: list[str], ref: list[str]):
    src = source_lines(len(pivot))
    return TranslationAligner(dict(zip(src, pivot, strict=True)), "test").align(src, ref)


def shapes(alignment) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(link.src, link.ref) for link in alignment.links]


def test_links_paragraphs_whose_chain_of_narrators_the_reference_leaves_out():
    rng = random.Random(1)
    pivot = [pivot_paragraph(rng, k) for k in range(10)]
    ref = [reference_paragraph(k) for k in range(10)]
    # the reference joins paragraphs 3 and 4, and splits paragraph 7 after its narrator
    narrator, text = STATEMENTS[7]
    ref = [
        *ref[:3],
        f"{ref[3]} {ref[4]}",
        *ref[5:7],
        f"It was narrated from {narrator}.",
        f"He said that {text}.",
        *ref[8:],
    ]
    alignment = align(pivot, ref)
    expected = [((k,), (k,)) for k in (1, 2, 3)] + [((4, 5), (4,))]
    expected += [((6,), (5,)), ((7,), (6,)), ((8,), (7, 8)), ((9,), (9,)), ((10,), (10,))]
    assert shapes(alignment) == expected
    assert alignment.method == "translation"
    assert not any(link.low_confidence for link in alignment.links)


def test_the_chain_misleads_lengths_but_not_the_pivot():
    """Chains of very different lengths: a length aligner is thrown off, the pivot not."""
    rng = random.Random(2)
    pivot = []
    for k in range(8):
        chain = " ".join(_chain(rng) for _ in range(1 + 3 * (k % 2)))
        narrator, text = STATEMENTS[k]
        pivot.append(f"{chain} {narrator} narrated that {text}.")
    ref = [reference_paragraph(k) for k in range(8)]
    del ref[5]
    expected = [((k,), (k,)) for k in range(1, 6)] + [((6,), ())]
    expected += [((7,), (6,)), ((8,), (7,))]
    assert shapes(align(pivot, ref)) == expected
    by_length = Aligner("length").align(source_lines(8), ref)
    assert shapes(by_length) != expected


def test_an_added_translators_note_is_left_unlinked_and_flagged():
    rng = random.Random(3)
    pivot = [pivot_paragraph(rng, k) for k in range(6)]
    ref = [reference_paragraph(k) for k in range(6)]
    note = "Translator's note: a rak'ah is one cycle of standing, bowing and prostration."
    ref.insert(2, note)
    alignment = align(pivot, ref)
    expected = [((1,), (1,)), ((2,), (2,)), ((), (3,))] + [((k,), (k + 1,)) for k in range(3, 7)]
    assert shapes(alignment) == expected
    unlinked = alignment.links[2]
    assert unlinked.low_confidence and unlinked.confidence == 0.0


def test_a_note_appended_to_a_paragraph_keeps_it_linked():
    rng = random.Random(4)
    pivot = [pivot_paragraph(rng, k) for k in range(6)]
    ref = [reference_paragraph(k) for k in range(6)]
    ref[3] += " (The well of Rumah was bought by Uthman for the Muslims; see the notes.)"
    assert shapes(align(pivot, ref)) == [((k,), (k,)) for k in range(1, 7)]


def test_a_cut_paragraph_is_left_out_and_its_neighbours_keep_their_links():
    rng = random.Random(5)
    pivot = [pivot_paragraph(rng, k) for k in range(9)]
    ref = [reference_paragraph(k) for k in range(9) if k not in (2, 6)]
    alignment = align(pivot, ref)
    expected = [((1,), (1,)), ((2,), (2,)), ((3,), ()), ((4,), (3,)), ((5,), (4,))]
    expected += [((6,), (5,)), ((7,), ()), ((8,), (6,)), ((9,), (7,))]
    assert shapes(alignment) == expected
    assert [link.low_confidence for link in alignment.links if not link.ref] == [True, True]
    assert all(0.0 <= link.confidence <= 1.0 for link in alignment.links)
    assert alignment.flagged == 2 and not alignment.unreliable


def test_signature_names_the_method_and_the_pivot():
    signature = TranslationAligner({}, "qwen-pivot").signature()
    assert "method:translation" in signature and "pivot:qwen-pivot" in signature
    assert signature != TranslationAligner({}, "other").signature()


def test_pivot_from_documents_a_function_or_given_per_call():
    rng = random.Random(6)
    pivot = [pivot_paragraph(rng, k) for k in range(5)]
    ref = [reference_paragraph(k) for k in range(5)]
    src = source_lines(5)
    expected = [((k,), (k,)) for k in range(1, 6)]
    from_documents = TranslationAligner.from_documents({"d": pivot}, {"d": src}, "run")
    assert shapes(from_documents.align(src, ref)) == expected
    lookup = dict(zip(src, pivot, strict=True))
    asked: list[tuple[str, str]] = []

    def translate(texts, src_lang, ref_lang):
        asked.append((src_lang, ref_lang))
        return [lookup[t] for t in texts]

    by_function = TranslationAligner(translate, "fn").align(src, ref, src_lang="ar")
    assert shapes(by_function) == expected and asked == [("ar", "en")]
    given = TranslationAligner({}, "given").align(src, ref, pivot=pivot)
    assert shapes(given) == expected
    with pytest.raises(MissingPivot):
        TranslationAligner({}, "none").align(src, ref)
    with pytest.raises(ValueError, match="2 pivot lines for 5 source lines"):
        TranslationAligner.from_documents({"d": pivot[:2]}, {"d": src}, "run")


def test_sentences_align_through_the_pivots_sentence_translations():
    rng = random.Random(7)
    # each source paragraph is two sentences; the pivot translates sentence by sentence
    src, pivot_of, ref = [], {}, []
    for k in range(0, 8, 2):
        first = f"الجملة الأولى من الفقرة {k}."
        second = f"الجملة الثانية من الفقرة {k}."
        src.append(f"{first} {second}")
        pivot_of[first] = pivot_paragraph(rng, k)
        pivot_of[second] = pivot_paragraph(rng, k + 1)
        ref.append(f"{reference_paragraph(k)} {reference_paragraph(k + 1)}")
    aligner = TranslationAligner(pivot_of, "sentences")
    alignment = aligner.align(src, ref, "sentence", "ar", "en")
    assert alignment.unit == "sentence"
    assert shapes(alignment) == [((k,), (k,)) for k in range(1, 9)]


def test_pivot_lines_follow_the_source_files_layout():
    source = ["one", "", "two", "three"]
    assert pivot_lines(source, ["1", "", "2", "3"]) == ["1", "2", "3"]
    assert pivot_lines(source, ["1", "2", "3"]) == ["1", "2", "3"]
    with pytest.raises(ValueError, match="pivot file has 2 lines"):
        pivot_lines(source, ["1", "2"])


@pytest.fixture
def pivot_set(tmp_path: Path) -> tuple[Path, Path]:
    """A test set whose reference leaves out the chains and cuts paragraph 3, and a pivot
    file laid out like its source (a blank line between paragraphs)."""
    rng = random.Random(8)
    pivot = [pivot_paragraph(rng, k) for k in range(7)]
    ref = [reference_paragraph(k) for k in range(7) if k != 2]
    folder = write_manifest_dir(
        tmp_path / "set",
        [
            {
                "id": "d",
                "source": {"file": "d.ar.txt", "lang": "ar"},
                "reference": {"file": "d.en.txt", "lang": "en"},
                "aligned": False,
            }
        ],
        {
            "d.ar.txt": "\n\n".join(source_lines(7)) + "\n",
            "d.en.txt": "\n".join(ref) + "\n",
        },
    )
    pivot_file = tmp_path / "pivot.en.txt"
    pivot_file.write_text("\n\n".join(pivot) + "\n", encoding="utf-8")
    return folder, pivot_file


def test_align_command_takes_a_file_of_pivot_translations(cli, pivot_set):
    folder, pivot_file = pivot_set
    result = cli("align", "--data", folder, "--doc", "d", "--pivot", pivot_file, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "translation"
    assert "pivot:file:pivot.en.txt" in data["signature"]
    links = [(link["src"], link["ref"]) for link in data["links"]]
    assert links == [([1], [1]), ([2], [2]), ([3], []), *[([k], [k - 1]) for k in range(4, 8)]]
    assert [link["low_confidence"] for link in data["links"]] == [False] * 2 + [True] + [False] * 4
    table = cli("align", "--data", folder, "--doc", "d", "--pivot", pivot_file)
    assert table.exit_code == 0, table.output
    assert "method:translation" in table.stdout


def test_align_command_refuses_a_pivot_file_of_another_length(cli, pivot_set, tmp_path: Path):
    folder, _ = pivot_set
    short = tmp_path / "short.txt"
    short.write_text("one line only\n", encoding="utf-8")
    result = cli("align", "--data", folder, "--doc", "d", "--pivot", short)
    assert result.exit_code == 2
    assert "pivot file has 1 lines" in result.stderr


def test_sentences_fall_back_to_lengths_inside_links_when_the_pivot_is_by_line():
    rng = random.Random(9)
    src = [f"الجملة الأولى {k}. الجملة الثانية {k}." for k in range(4)]
    pivot = [pivot_paragraph(rng, k) for k in range(4)]
    ref = [f"It was narrated from {n}. He said that {t}." for n, t in STATEMENTS[:4]]
    alignment = TranslationAligner(dict(zip(src, pivot, strict=True)), "lines").align(
        src, ref, "sentence", "ar", "en"
    )
    linked = [link for link in alignment.links if link.src and link.ref]
    # every sentence link stays inside its paragraph's link: sentences 2k+1, 2k+2 both sides
    assert all((s - 1) // 2 == (r - 1) // 2 for link in linked for s in link.src for r in link.ref)
    assert sorted(i for link in alignment.links for i in link.src) == list(range(1, 9))
