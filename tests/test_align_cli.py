"""`evalkit align`, `evalkit pair`, and what a run keeps of the alignment."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.corpus.manifest import load_manifest_dir
from evalkit.results import read_record, read_segments
from tests.conftest import SEED_SOURCE_000
from tests.synthetic_parallel import verse_pairs

SEED_SOURCE_LINES = [
    line for line in SEED_SOURCE_000.read_text(encoding="utf-8").splitlines() if line.strip()
]


def test_align_json_has_the_documented_shape(cli):
    result = cli("align", "--data", "seeds", "--doc", "000", "--method", "length", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["doc"] == "000" and data["unit"] == "paragraph"
    assert set(data["links"][0]) >= {"src", "ref", "score"}
    assert [i for link in data["links"] for i in link["src"]] == list(range(1, 16))
    assert [j for link in data["links"] for j in link["ref"]] == list(range(1, 16))
    assert all(0.0 <= link["score"] <= 1.0 for link in data["links"])
    assert any(len(link["src"]) != len(link["ref"]) for link in data["links"])


def test_align_table_shows_both_texts_and_link_shapes(cli):
    result = cli("align", "--data", "seeds", "--doc", "000", "--unit", "sentence", "--width", "0")
    assert result.exit_code == 0, result.output
    assert "sentence alignment" in result.stdout
    assert "Shafaq News" in result.stdout and "البصرة" in result.stdout
    assert "1:1" in result.stdout and "signature: align:v1" in result.stdout


def test_align_refuses_unknown_documents_and_documents_without_reference(cli):
    unknown = cli("align", "--data", "seeds", "--doc", "999")
    assert unknown.exit_code == 2 and "no document '999'" in unknown.stderr
    assert "000, 001" in unknown.stderr
    alone = cli("align", "--data", "seeds", "--doc", "001")
    assert alone.exit_code == 2 and "no reference" in alone.stderr


def test_run_keeps_the_alignment_and_flags_weak_links(cli, results_dir: Path):
    result = cli("run", "--system", "copy", "--metric", "chrf", "--align", "length")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    (alignment,) = record.alignment
    assert alignment.method == "length" and "gale-church" in alignment.signature
    assert 0 < alignment.mean_confidence <= 1
    rows = [row for row in read_segments(folder) if row.doc_id == "000"]
    assert [(row.src_ids, row.ref_ids) for row in rows] == [
        (link.src, link.ref) for link in alignment.links
    ]
    flagged = {tuple(link.src) for link in alignment.links if link.low_confidence}
    assert {tuple(row.src_ids) for row in rows if row.flags} == flagged


def test_run_without_alignment_scores_the_document_whole(cli, results_dir: Path):
    result = cli("run", "--system", "copy", "--metric", "chrf", "--align", "none")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    assert record.alignment == [] and record.test_set.documents[0].scored_as == "document"
    first = next(iter(read_segments(folder)))
    assert first.ref_ids == list(range(1, 16))


def test_lines_with_nothing_to_translate_are_reported_in_the_run(cli, results_dir: Path):
    assert cli("run", "--system", "copy", "--metric", "chrf", "--align", "none").exit_code == 0
    (folder,) = list(results_dir.iterdir())
    record = read_record(folder)
    skipped = {
        doc.id: [line.reason for line in doc.skipped_source_lines]
        for doc in record.test_set.documents
    }
    assert any(skipped.values())
    scored = {(row.doc_id, tuple(row.src_ids)) for row in read_segments(folder)}
    for doc in record.test_set.documents:
        for line in doc.skipped_source_lines:
            assert (doc.id, (line.line,)) not in scored


def _write_document(path: Path, texts: list[str], per_paragraph: int = 3) -> None:
    paragraphs = [
        " ".join(texts[i : i + per_paragraph]) for i in range(0, len(texts), per_paragraph)
    ]
    path.write_text("\n".join(paragraphs) + "\n", encoding="utf-8")


def test_pair_matches_documents_by_content_and_lists_the_rest(cli, tmp_path: Path):
    verses = verse_pairs()
    folder = tmp_path / "articles"
    folder.mkdir()
    chunks = {"a": verses[300:330], "b": verses[2000:2030], "c": verses[4000:4030]}
    # file names deliberately do not give the pairing away
    _write_document(folder / "x1.txt", [ar for ar, _ in chunks["a"]])
    _write_document(folder / "x2.txt", [ar for ar, _ in chunks["b"]])
    _write_document(folder / "y1.txt", [en for _, en in chunks["b"]])
    _write_document(folder / "y2.txt", [en for _, en in chunks["a"]])
    _write_document(folder / "y3.txt", [en for _, en in chunks["c"]])
    result = cli("pair", folder, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {(p["source"], p["reference"]) for p in data["pairs"]} == {
        ("x1.txt", "y2.txt"),
        ("x2.txt", "y1.txt"),
    }
    assert data["unpaired"] == [{"file": "y3.txt", "lang": "en"}]
    # the proposal is a manifest the loader accepts once renamed
    proposal = folder / "manifest.proposed.json"
    proposal.rename(folder / "manifest.json")
    test_set = load_manifest_dir(folder)
    assert [(d.id, d.reference is not None, d.aligned) for d in test_set.documents] == [
        ("x1", True, False),
        ("x2", True, False),
    ]


def test_pair_refuses_to_overwrite_a_manifest(cli, tmp_path: Path):
    folder = tmp_path / "set"
    folder.mkdir()
    _write_document(folder / "a.txt", [ar for ar, _ in verse_pairs()[10:20]])
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    result = cli("pair", folder, "-o", folder / "manifest.json")
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (folder / "manifest.json").read_text(encoding="utf-8") == "{}"


def test_sentence_links_as_scoring_units(cli, results_dir: Path):
    result = cli("run", "--system", "copy", "--metric", "chrf", "--align-unit", "sentence")
    assert result.exit_code == 0, result.output
    (folder,) = list(results_dir.iterdir())
    (alignment,) = read_record(folder).alignment
    assert alignment.unit == "sentence"
    rows = [row for row in read_segments(folder) if row.doc_id == "000"]
    assert [(row.src_ids, row.ref_ids) for row in rows] == [
        (link.src, link.ref) for link in alignment.links
    ]
    paragraphs = len(SEED_SOURCE_LINES)
    assert max(i for row in rows for i in row.src_ids) > paragraphs  # sentence numbers
    # each unit's hypothesis is the translation of exactly its sentences (copy: the source)
    assert all(row.hyp["copy"] == row.src for row in rows)


def test_sentence_units_need_sentence_translations(cli, tmp_path: Path):
    refused = cli("run", "--system", "copy", "--align-unit", "sentence", "--unit", "paragraph")
    assert refused.exit_code == 2 and "--unit sentence" in refused.stderr
    outputs = tmp_path / "out"
    outputs.mkdir()
    for name in ("000_09131ef7724dbe94.txt",):
        (outputs / name).write_text("x\n", encoding="utf-8")
    files = cli("run", "--system", f"mine=files:{outputs}", "--align-unit", "sentence")
    assert files.exit_code == 2 and "mine give whole lines" in files.stderr
