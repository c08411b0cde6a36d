"""Several references: loaders, the per-metric rules, alignment per reference,
--ref-as-system, and options given twice."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from sacrebleu.metrics import BLEU

from evalkit.corpus.resolve import load_test_set
from evalkit.errors import UserInputError
from evalkit.metrics.base import MeanMetric, Stats
from evalkit.record import read_segments
from tests.conftest import write_manifest_dir
from tests.synthetic_parallel import make_pair


class Overlap(MeanMetric):
    """A toy reference-based metric: [share of hypothesis words in the reference, words]."""

    name = "overlap"

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        assert references is not None
        rows = []
        for hyp, ref in zip(hypotheses, references, strict=True):
            words = hyp.split()
            rows.append([sum(w in ref.split() for w in words) / len(words), float(len(words))])
        return rows

    def signature(self) -> str:
        return f"overlap{self.references_signature()}"


def test_best_rule_keeps_the_statistics_of_the_best_reference():
    metric = Overlap()
    metric.multi_reference = "best"
    (row,) = metric.multi_reference_statistics(["a b c d"], [["a x", "a b c"]], [""])
    assert row == [0.75, 4.0]


def test_best_rule_of_a_lower_is_better_metric_takes_the_lowest():
    metric = Overlap()
    metric.multi_reference = "best"
    metric.higher_is_better = False
    (row,) = metric.multi_reference_statistics(["a b c d"], [["a x", "a b c"]], [""])
    assert row == [0.25, 4.0]


def test_mean_rule_averages_the_scores_and_keeps_the_first_references_details():
    metric = Overlap()
    metric.multi_reference = "mean"
    rows = metric.multi_reference_statistics(["a b c d", "a"], [["a x", "a b c"], ["a"]], ["", ""])
    assert rows == [[0.5, 4.0], [1.0, 1.0]]


def test_signature_names_the_count_and_the_rule_only_with_several_references():
    metric = Overlap()
    metric.count_references([1, 1])
    assert metric.signature() == "overlap"
    metric.count_references([2, 2, 0])
    assert metric.signature() == "overlap|nrefs:2|refs:best"
    metric.count_references([2, 1])
    assert metric.signature() == "overlap|nrefs:var|refs:best"


def test_jsonl_references_as_columns_or_a_list(tmp_path):
    path = tmp_path / "set.jsonl"
    rows = [
        {"doc_id": "d", "src": "نص", "ref": "text", "ref2": "the text"},
        {"doc_id": "d", "src": "آخر", "ref": ["other", "another", "one more"]},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (doc,) = load_test_set(str(path)).documents
    assert [side.segments for side in doc.references] == [
        ("text", "other"),
        ("the text", "another"),
        ("", "one more"),
    ]


def test_tsv_further_reference_columns(tmp_path):
    path = tmp_path / "set.tsv"
    path.write_text("doc_id\tsrc\tref\tref2\nd\tنص\ttext\t\nd\tآخر\tother\tanother\n", "utf-8")
    (doc,) = load_test_set(str(path)).documents
    assert doc.more_references[0].segments == ("", "another")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"doc_id": "d", "src": "نص", "ref": "a", "ref3": "c"}, "ref3"),
        ({"doc_id": "d", "src": "نص", "ref2": "b"}, "need a ref"),
        ({"doc_id": "d", "src": "نص", "ref": ["a", 3.5]}, "list of strings"),
        ({"doc_id": "d", "src": "نص", "ref": "", "ref2": ""}, "blank"),
    ],
)
def test_bad_reference_columns_name_the_file_and_line(tmp_path, row, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=message) as caught:
        load_test_set(str(path))
    assert "bad.jsonl:1" in str(caught.value)


def _two_reference_manifest(folder: Path, second: list[str], aligned: bool = False) -> Path:
    pair = make_pair(random.Random(11), paragraphs=8)
    doc = {
        "id": "d1",
        "source": {"file": "d1.ar", "lang": "ar"},
        "references": [{"file": "d1.en"}, {"file": "d1.en2"}],
        "aligned": aligned,
    }
    files = {
        "d1.ar": "\n".join(pair.src),
        "d1.en": "\n".join(pair.ref),
        "d1.en2": "\n".join(second),
    }
    return write_manifest_dir(folder, [doc], files)


def test_manifest_lists_several_references(tmp_path):
    folder = _two_reference_manifest(tmp_path / "set", ["one", "two"])
    (doc,) = load_test_set(str(folder)).documents
    assert doc.more_references[0].segments == ("one", "two")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["documents"][0]["reference"] = {"file": "d1.en"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserInputError, match="not both"):
        load_test_set(str(folder))


def _run_rows(cli, results_dir: Path, *args: str) -> tuple[dict, list]:
    result = cli("run", *args, "--system", "copy", "--metric", "bleu", "--align", "length")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in results_dir.iterdir() if p.is_dir()]
    record = json.loads((folder / "run.json").read_text())
    return record, list(read_segments(folder))


def test_each_reference_is_aligned_on_its_own(cli, results_dir, tmp_path):
    """The same reference given twice is aligned the same way twice; one re-paragraphed
    differently gives every unit its own text, no paragraph used twice."""
    pair = make_pair(random.Random(11), paragraphs=8)
    folder = _two_reference_manifest(tmp_path / "same", pair.ref)
    record, rows = _run_rows(cli, results_dir, "--data", str(folder))
    linked = [row for row in rows if row.ref is not None and row.src_ids]
    assert linked and all(row.more_refs == [row.ref] for row in linked)
    assert "nrefs:2" in record["metrics"][0]["signature"]

    coarse = [" ".join(pair.ref[j] for j in refs) for _, refs in pair.links if refs]
    folder = _two_reference_manifest(tmp_path / "coarse", coarse)
    for run in results_dir.iterdir():
        for file in run.iterdir():
            file.unlink()
        run.rmdir()
    _, rows = _run_rows(cli, results_dir, "--data", str(folder))
    used = [_paragraphs_of(row.more_refs[0], coarse) for row in rows if any(row.more_refs)]
    flat = [i for indices in used for i in indices]
    assert flat == sorted(set(flat))  # in order, none twice
    assert len(flat) >= len(coarse) - 2  # length alignment may leave an end unlinked


def _paragraphs_of(text: str, paragraphs: list[str]) -> list[int]:
    """The indices of the consecutive paragraphs `text` joins (fails if it joins none)."""
    for first in range(len(paragraphs)):
        indices, joined = [], ""
        for i in range(first, len(paragraphs)):
            joined = f"{joined} {paragraphs[i]}".strip()
            indices.append(i)
            if joined == text:
                return indices
            if not text.startswith(joined):
                break
    raise AssertionError(f"not a run of reference paragraphs: {text[:60]!r}")


def test_ref_as_system_scores_the_last_reference_against_the_others(cli, results_dir, tmp_path):
    first = ["the cat sat on the mat", "it is raining in the city today"]
    second = ["a cat was sitting on the mat", "today it rains in the city"]
    path = tmp_path / "set.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"doc_id": "d", "src": s, "ref": a, "ref2": b}, ensure_ascii=False)
            for s, a, b in zip(["نص", "آخر"], first, second, strict=True)
        ),
        encoding="utf-8",
    )
    record, rows = _run_rows(cli, results_dir, "--data", str(path), "--ref-as-system")
    assert [s["label"] for s in record["systems"]] == ["copy", "ref2"]
    expected = BLEU().corpus_score(second, [first]).score
    assert record["scores"]["ref2"]["corpus"]["bleu"] == pytest.approx(expected)
    assert "nrefs:1" in record["metrics"][0]["signature"]
    assert all(row.more_refs == [] for row in rows)


def test_ref_as_system_needs_two_references(cli, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"doc_id": "d", "src": "نص", "ref": "text"}), encoding="utf-8")
    result = cli("run", "--data", path, "--metric", "bleu", "--ref-as-system")
    assert result.exit_code == 2
    assert "at least two references" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--name", "a", "--name", "b"],
        ["score", "--ref", "r", "--hyp", "h", "--json", "--json"],
        ["compare", "--format", "md", "--format", "csv"],
    ],
)
def test_a_single_valued_option_given_twice_is_refused(cli, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert "given more than once" in result.output
