"""`evalkit run --align translation[:LABEL]`: the documents are aligned through one
system's translation (the pivot), and every system is scored on those units."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.align.methods import PivotAligner, aligner_for, default_pivot, parse_method
from evalkit.errors import UserInputError
from tests.conftest import write_manifest_dir

#: source paragraphs (a chain of narrators, then the saying) and the reference, which
#: leaves every chain out and adds a translator's note after the second paragraph
SOURCE = [
    "حدثنا محمد بن بشار حدثنا يحيى عن سفيان قال قال رسول الله "
    "الصدق يهدي إلى البر والبر يهدي إلى الجنة",
    "حدثنا علي بن حجر أخبرنا إسماعيل عن حميد عن أنس قال خرج النبي إلى المدينة في رمضان ثلاثين يوما",
    "حدثنا قتيبة حدثنا الليث عن نافع عن ابن عمر قال من باع نخلا قد أبرت فثمرتها للبائع",
]
PIVOT = [
    "Muhammad ibn Bashar told us from Sufyan: the Messenger said truthfulness leads to "
    "righteousness and righteousness leads to Paradise",
    "Ali ibn Hujr told us from Anas: the Prophet went out to Medina in Ramadan for thirty days",
    "Qutaybah told us from Ibn Umar: whoever sells palm trees after pollination, the fruit "
    "belongs to the seller",
]
REFERENCE = [
    "Truthfulness leads to righteousness, and righteousness leads to Paradise.",
    "The Prophet went out to Medina in Ramadan, for thirty days.",
    "[Translator's note: the month of fasting.]",
    "Whoever sells palm trees after they have been pollinated, their fruit belongs to the seller.",
]


@pytest.fixture
def test_set(tmp_path: Path) -> Path:
    docs = [
        {
            "id": "h1",
            "source": {"file": "h1.ar", "lang": "ar"},
            "reference": {"file": "h1.en", "lang": "en"},
        }
    ]
    files = {"h1.ar": "\n".join(SOURCE) + "\n", "h1.en": "\n".join(REFERENCE) + "\n"}
    return write_manifest_dir(tmp_path / "set", docs, files)


@pytest.fixture
def pivot_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mt"
    folder.mkdir()
    (folder / "h1.txt").write_text("\n".join(PIVOT) + "\n", encoding="utf-8")
    return folder


def test_the_method_names_are_read_and_anything_else_refused():
    assert parse_method("embedding") == ("embedding", None)
    assert parse_method("translation") == ("translation", None)
    assert parse_method("translation:mt") == ("translation", "mt")
    for bad in ("bogus", "length:mt", "translations"):
        with pytest.raises(UserInputError):
            parse_method(bad)


def test_the_default_pivot_is_the_first_model_system():
    assert default_pivot([("copy", "copy"), ("ref", "files"), ("big", "ct2"), ("b", "hf")]) == "big"
    with pytest.raises(UserInputError, match="translation:LABEL"):
        default_pivot([("copy", "copy"), ("out", "files")])
    with pytest.raises(UserInputError, match="no system of the run is labelled x"):
        aligner_for("translation:x", systems=[("mt", "files")])
    assert isinstance(aligner_for("translation:mt", systems=[("mt", "files")]), PivotAligner)


def test_a_run_aligns_through_the_pivot_and_scores_every_system_on_its_units(
    cli, results_dir, test_set, pivot_dir
):
    result = cli(
        "run", "--data", test_set, "--system", f"mt=files:{pivot_dir}", "--system", "copy",
        "--metric", "chrf", "--align", "translation:mt",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (folder,) = results_dir.iterdir()
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    (alignment,) = record["alignment"]
    assert alignment["method"] == "translation"
    assert "pivot:mt" in alignment["signature"]
    links = {(tuple(link["src"]), tuple(link["ref"])) for link in alignment["links"]}
    assert {((1,), (1,)), ((2,), (2,)), ((3,), (4,))} <= links
    rows = [json.loads(line) for line in (folder / "segments.jsonl").read_text().splitlines()]
    assert all(set(row["hyp"]) == {"mt", "copy"} for row in rows)


def test_a_pivot_no_system_is_labelled_is_refused_before_translating(cli, test_set, pivot_dir):
    result = cli(
        "run", "--data", test_set, "--system", f"mt=files:{pivot_dir}",
        "--metric", "chrf", "--align", "translation:other",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no system of the run is labelled other" in result.output
