"""`evalkit align`, `evalkit pair`, and what a run keeps of the alignment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.corpus.manifest import load_manifest_dir
from evalkit.corpus.segment import split_sentences
from evalkit.record import read_record, read_segments
from tests.conftest import write_manifest_dir
from tests.synthetic_parallel import SET_ASIDE, SyntheticSet, verse_pairs

#: what is under test is the alignment the run keeps, not how it is found or scored:
#: the cheapest metric and method will do
CHEAP = ("--metric", "chrf", "--align", "length")


def test_align_json_has_the_documented_shape(cli, synthetic_set: SyntheticSet):
    src, ref = synthetic_set.pair.src, synthetic_set.pair.ref
    doc = synthetic_set.with_ref
    data_opt = ("--data", synthetic_set.folder)
    result = cli("align", *data_opt, "--doc", doc, "--align", "length", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["doc"] == doc and data["unit"] == "paragraph"
    assert set(data["links"][0]) >= {"src", "ref", "score"}
    assert [i for link in data["links"] for i in link["src"]] == list(range(1, len(src) + 1))
    assert [j for link in data["links"] for j in link["ref"]] == list(range(1, len(ref) + 1))
    assert all(0.0 <= link["score"] <= 1.0 for link in data["links"])
    # the reference was re-paragraphed: merges and splits (`len(src) != len(ref)`)
    assert len(src) != len(ref)
    assert any(len(link["src"]) != len(link["ref"]) for link in data["links"])


def test_align_table_shows_both_texts_and_link_shapes(cli, synthetic_set: SyntheticSet):
    result = cli(
        "align",
        "--data",
        synthetic_set.folder,
        "--doc",
        synthetic_set.with_ref,
        "--align",
        "length",
        "--align-unit",
        "sentence",
        "--width",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "sentence alignment" in result.stdout
    # the first and last sentences of both sides, whole (--width 0), word by word (a long
    # cell wraps over several lines of the table)
    shown = result.stdout.split()
    for paragraphs, lang in ((synthetic_set.pair.src, "ar"), (synthetic_set.pair.ref, "en")):
        for paragraph in (paragraphs[0], paragraphs[-1]):
            for sentence in (
                split_sentences(paragraph, lang)[0],
                split_sentences(paragraph, lang)[-1],
            ):
                assert all(word in shown for word in sentence.text.split()), sentence.text
    assert "1:1" in result.stdout and "signature: align:v1" in result.stdout


def test_align_refuses_unknown_documents_and_documents_without_reference(
    cli, synthetic_set: SyntheticSet
):
    unknown = cli("align", "--data", synthetic_set.folder, "--doc", "999")
    assert unknown.exit_code == 2 and "no document '999'" in unknown.stderr
    assert ", ".join(synthetic_set.doc_ids) in unknown.stderr
    alone = cli("align", "--data", synthetic_set.folder, "--doc", synthetic_set.without_ref)
    assert alone.exit_code == 2 and "no reference" in alone.stderr


def test_run_keeps_the_alignment_and_flags_weak_links(
    cli, results_dir: Path, synthetic_set: SyntheticSet
):
    result = cli("run", "--data", synthetic_set.folder, "--system", "copy", *CHEAP)
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    (alignment,) = record.alignment
    assert alignment.doc_id == synthetic_set.with_ref
    assert alignment.method == "length" and "gale-church" in alignment.signature
    assert 0 < alignment.mean_confidence <= 1
    rows = [row for row in read_segments(folder) if row.doc_id == synthetic_set.with_ref]
    assert [(row.src_ids, row.ref_ids) for row in rows] == [
        (link.src, link.ref) for link in alignment.links
    ]
    flagged = {tuple(link.src) for link in alignment.links if link.low_confidence}
    assert {tuple(row.src_ids) for row in rows if row.flags} == flagged


def test_min_confidence_scores_doubtful_links_without_their_reference(
    cli, results_dir: Path, synthetic_set: SyntheticSet
):
    data_opt = ("--data", synthetic_set.folder)
    result = cli("run", *data_opt, "--system", "copy", *CHEAP, "--min-confidence", "0.99")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    assert record.min_confidence == 0.99
    (alignment,) = record.alignment
    below = {
        tuple(link.src)
        for link in alignment.links
        if link.src and link.ref and link.confidence < 0.99
    }
    assert below and alignment.below_min_confidence == len(below)
    rows = [row for row in read_segments(folder) if row.doc_id == synthetic_set.with_ref]
    left_out = {tuple(row.src_ids) for row in rows if "below-min-confidence" in row.flags}
    assert left_out == below
    # a row is marked low-confidence only when its link was flagged, below P or not
    marked = {tuple(row.src_ids) for row in rows if "low-confidence" in row.flags}
    assert marked == {tuple(link.src) for link in alignment.links if link.low_confidence}
    assert all(row.ref is None for row in rows if tuple(row.src_ids) in below)
    assert any(f"--min-confidence 0.99: {len(below)} aligned unit" in n for n in record.notes)
    assert "min-confidence" in cli("run", "--help").stdout
    # scored again from the stored rows: still without those references, and still said
    rescored = cli("rescore", folder.name, "--metric", "chrf", "--metric", "bleu")
    assert rescored.exit_code == 0, rescored.output
    (again,) = [f for f in results_dir.iterdir() if f != folder]
    assert read_record(again).min_confidence == 0.99
    rows = [row for row in read_segments(again) if row.doc_id == synthetic_set.with_ref]
    assert all(row.ref is None for row in rows if tuple(row.src_ids) in below)


def test_a_stored_run_whose_alignment_is_doubtful_warns_in_show_compare_and_report(
    cli, results_dir: Path, synthetic_set: SyntheticSet
):
    data_opt = ("--data", synthetic_set.folder)
    assert cli("run", *data_opt, "--system", "copy", *CHEAP).exit_code == 0
    (folder,) = list(results_dir.iterdir())
    # as a run whose (length) aligner flagged three links in four would have stored it
    # (far more than a sound alignment flags)
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    (alignment,) = record["alignment"]
    for k, link in enumerate(alignment["links"]):
        link["low_confidence"] = k % 4 != 3
    flagged = sum(link["low_confidence"] for link in alignment["links"])
    alignment["low_confidence_links"] = flagged
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    warning = f"{synthetic_set.with_ref}: alignment unreliable, {flagged} of "
    for command in (("show", folder.name), ("compare", folder.name)):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        assert warning in " ".join(result.stdout.split()), command
    report = cli("report", folder.name, "-o", results_dir.parent / "report.html")
    assert report.exit_code == 0, report.output
    page = (results_dir.parent / "report.html").read_text(encoding="utf-8")
    assert "alignment unreliable" in page


def test_a_reference_of_another_text_is_called_unreliable_by_align_and_run(
    cli, results_dir: Path, tmp_path: Path
):
    verses = verse_pairs()
    src = [" ".join(a for a, _ in verses[k : k + 3]) for k in range(0, 24, 3)]
    # the English of verses far away: no paragraph of it translates the source
    other = [" ".join(e for _, e in verses[k : k + 3]) for k in range(3000, 3024, 3)]
    folder = write_manifest_dir(
        tmp_path / "unrelated",
        [
            {
                "id": "d",
                "source": {"file": "d.ar.txt", "lang": "ar"},
                "reference": {"file": "d.en.txt", "lang": "en"},
                "aligned": False,
            }
        ],
        {"d.ar.txt": "\n".join(src) + "\n", "d.en.txt": "\n".join(other) + "\n"},
    )
    shown = cli("align", "--data", folder, "--doc", "d")
    assert shown.exit_code == 0, shown.output
    assert "d: alignment unreliable" in " ".join(shown.stdout.split())
    as_json = json.loads(cli("align", "--data", folder, "--doc", "d", "--json").stdout)
    assert as_json["unreliable"] is True
    assert as_json["low_confidence_links"] >= len(as_json["links"]) / 3
    run = cli("run", "--data", folder, "--system", "copy", "--metric", "chrf")
    assert run.exit_code == 0, run.output
    assert "d: alignment unreliable" in " ".join(run.stdout.split())
    (stored,) = list(results_dir.iterdir())
    assert read_record(stored).alignment[0].unreliable


def test_run_without_alignment_scores_the_document_whole(
    cli, results_dir: Path, synthetic_set: SyntheticSet
):
    data_opt = ("--data", synthetic_set.folder)
    result = cli("run", *data_opt, "--system", "copy", "--metric", "chrf", "--align", "none")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    assert record.alignment == [] and record.test_set.documents[0].scored_as == "document"
    (whole,) = [r for r in read_segments(folder) if r.doc_id == synthetic_set.with_ref]
    assert whole.src_ids == list(range(1, len(synthetic_set.pair.src) + 1))
    assert whole.ref_ids == list(range(1, len(synthetic_set.pair.ref) + 1))


def test_lines_with_nothing_to_translate_are_reported_in_the_run(
    cli, results_dir: Path, synthetic_set: SyntheticSet
):
    data_opt = ("--data", synthetic_set.folder)
    assert cli("run", *data_opt, "--system", "copy", *CHEAP).exit_code == 0
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    skipped = {
        doc.id: [(line.line, line.text, line.reason) for line in doc.skipped_source_lines]
        for doc in record.test_set.documents
    }
    # the set-aside lines follow the first paragraph of the document without a reference
    assert skipped == {
        synthetic_set.with_ref: [],
        synthetic_set.without_ref: [
            (2 + k, text, reason) for k, (text, reason) in enumerate(SET_ASIDE)
        ],
    }
    # ... and are not scored: the rows of that document are its other lines, one each
    set_aside = {2 + k for k in range(len(SET_ASIDE))}
    rows = [r for r in read_segments(folder) if r.doc_id == synthetic_set.without_ref]
    assert [row.src_ids for row in rows] == [
        [k] for k in range(1, len(synthetic_set.alone) + 1) if k not in set_aside
    ]


def _write_document(path: Path, texts: list[str], per_paragraph: int = 3) -> None:
    paragraphs = [
        " ".join(texts[i : i + per_paragraph]) for i in range(0, len(texts), per_paragraph)
    ]
    path.write_text("\n".join(paragraphs) + "\n", encoding="utf-8")


def _folder_to_pair(tmp_path: Path) -> tuple[Path, dict[str, list[tuple[str, str]]]]:
    """Two Arabic documents, their English in other files, and an English one alone;
    file names deliberately do not give the pairing away."""
    verses = verse_pairs()
    folder = tmp_path / "articles"
    folder.mkdir()
    chunks = {"a": verses[300:330], "b": verses[2000:2030], "c": verses[4000:4030]}
    _write_document(folder / "x1.txt", [ar for ar, _ in chunks["a"]])
    _write_document(folder / "x2.txt", [ar for ar, _ in chunks["b"]])
    _write_document(folder / "y1.txt", [en for _, en in chunks["b"]])
    _write_document(folder / "y2.txt", [en for _, en in chunks["a"]])
    _write_document(folder / "y3.txt", [en for _, en in chunks["c"]])
    return folder, chunks


def _assert_paired_by_content(result) -> None:
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {(p["source"], p["reference"]) for p in data["pairs"]} == {
        ("x1.txt", "y2.txt"),
        ("x2.txt", "y1.txt"),
    }
    assert data["unpaired"] == [{"file": "y3.txt", "lang": "en"}]


@pytest.mark.slow  # documents compared by a real sentence encoder: minutes on two cores
def test_pair_matches_documents_by_content_and_lists_the_rest(cli, tmp_path: Path):
    folder, _ = _folder_to_pair(tmp_path)
    _assert_paired_by_content(cli("pair", folder, "--json"))
    # the proposal is a manifest the loader accepts once renamed
    proposal = folder / "manifest.proposed.json"
    proposal.rename(folder / "manifest.json")
    test_set = load_manifest_dir(folder)
    assert [(d.id, d.reference is not None, d.aligned) for d in test_set.documents] == [
        ("x1", True, False),
        ("x2", True, False),
    ]


def _rough(text: str) -> str:
    """A poor translation: every third word lost, the rest lower-cased."""
    return " ".join(w.lower() for k, w in enumerate(text.split()) if k % 3 != 2)


def test_pair_through_a_pivot_folder_pairs_by_translation_without_an_encoder(
    cli, tmp_path: Path, monkeypatch
):
    import evalkit.cli.document_commands as commands

    def no_encoder(*_args, **_kwargs):
        raise AssertionError("pairing through a pivot loads no encoder")

    monkeypatch.setattr(commands, "load_encoder", no_encoder)
    folder, chunks = _folder_to_pair(tmp_path)
    pivot = tmp_path / "pivot"
    pivot.mkdir()
    _write_document(pivot / "x1.txt", [_rough(en) for _, en in chunks["a"]])
    _write_document(pivot / "x2.txt", [_rough(en) for _, en in chunks["b"]])
    _assert_paired_by_content(cli("pair", folder, "--pivot", pivot, "--json"))

    (pivot / "x2.txt").unlink()
    result = cli("pair", folder, "--pivot", pivot, "-o", tmp_path / "again.json")
    assert result.exit_code == 2
    assert "no pivot translation of x2.txt" in result.stderr
    assert not (tmp_path / "again.json").exists()


def test_pair_refuses_to_overwrite_a_manifest(cli, tmp_path: Path):
    folder = tmp_path / "set"
    folder.mkdir()
    _write_document(folder / "a.txt", [ar for ar, _ in verse_pairs()[10:20]])
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    result = cli("pair", folder, "-o", folder / "manifest.json")
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (folder / "manifest.json").read_text(encoding="utf-8") == "{}"


def test_sentence_links_as_scoring_units(cli, results_dir: Path, synthetic_set: SyntheticSet):
    data_opt = ("--data", synthetic_set.folder)
    result = cli("run", *data_opt, "--system", "copy", *CHEAP, "--align-unit", "sentence")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    (alignment,) = read_record(folder).alignment
    assert alignment.unit == "sentence"
    rows = [row for row in read_segments(folder) if row.doc_id == synthetic_set.with_ref]
    assert [(row.src_ids, row.ref_ids) for row in rows] == [
        (link.src, link.ref) for link in alignment.links
    ]
    # units are numbered by sentence, and every sentence of both sides is in one
    for side, paragraphs, lang in (
        ("src_ids", synthetic_set.pair.src, "ar"),
        ("ref_ids", synthetic_set.pair.ref, "en"),
    ):
        sentences = sum(len(split_sentences(paragraph, lang)) for paragraph in paragraphs)
        assert sentences > len(paragraphs)
        assert sorted(i for row in rows for i in getattr(row, side)) == list(
            range(1, sentences + 1)
        )
    # each unit's hypothesis is the translation of exactly its sentences (copy: the source)
    assert all(row.hyp["copy"] == row.src for row in rows)


def test_sentence_units_need_sentence_translations(cli, tmp_path: Path, synthetic_set):
    data_opt = ("--data", synthetic_set.folder)
    refused = cli(
        "run",
        *data_opt,
        "--system",
        "copy",
        *CHEAP,
        "--align-unit",
        "sentence",
        "--unit",
        "paragraph",
    )
    assert refused.exit_code == 2 and "--unit sentence" in refused.stderr
    outputs = tmp_path / "out"
    outputs.mkdir()
    for doc_id in synthetic_set.doc_ids:
        (outputs / synthetic_set.source_file(doc_id)).write_text("x\n", encoding="utf-8")
    files = cli(
        "run", *data_opt, "--system", f"mine=files:{outputs}", *CHEAP, "--align-unit", "sentence"
    )
    assert files.exit_code == 2 and "mine give whole lines" in files.stderr
