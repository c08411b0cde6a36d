"""Judgments in and out: evalkit's JSONL, WMT's MQM TSV, and how its judgments join a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import UserInputError
from evalkit.judgments import jsonl
from evalkit.judgments.join import (
    NO_ROW_LEFT,
    NO_SOURCE,
    NOT_A_DOCUMENT,
    NOT_A_SYSTEM,
    OTHER_TRANSLATION,
    ROWS_DISAGREE,
    normalise,
)
from evalkit.judgments.model import Judgment, Span, human_score, mqm_score
from evalkit.judgments.store import JUDGMENTS_FILE, JudgmentStore
from evalkit.judgments.transfer import import_file, stored_judgments
from evalkit.judgments.wmt_mqm import looks_like_mqm_tsv, mqm_category, read_mqm_tsv, strip_markers
from evalkit.record import find_run, read_record

#: one document, `news`: a repeated source (lines 2 and 3) and a line with a double space
SOURCE = ["ذهب الولد إلى المدرسة.", "شكرا.", "شكرا.", "الجو  حار اليوم."]
REFERENCE = ["The boy went to school.", "Thank you.", "Thank you.", "It is hot today."]
SYS_A = ["The boy went to the school .", "Thanks.", "Thank you.", "The weather is hot today."]
SYS_B = ["The boy goes to school.", "Thanks!", "Thank you!", "Hot weather today."]

HEADER = "system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity\tcomment"


def tsv_row(system: str, doc_id: int, rater: str, source: str, target: str, cat: str, sev: str):
    return "\t".join(
        [system, "news", str(doc_id), str(doc_id), rater, source, target, cat, sev, ""]
    )


#: what WMT would publish for the run below, with every case the join rule has to decide
MQM_ROWS = [
    # line 2-4: sysA segment 1, rater r1: a major and a minor punctuation error, one Neutral
    tsv_row("sysA", 1, "r1", SOURCE[0], "The boy <v>went</v> to the school .",
            "Accuracy/Mistranslation", "Major"),
    tsv_row("sysA", 1, "r1", SOURCE[0], "The boy went to the school<v> .</v>",
            "Fluency/Punctuation", "Minor"),
    tsv_row("sysA", 1, "r1", SOURCE[0], "The <v>boy</v> went to the school .",
            "Style/Awkward", "Neutral"),
    # lines 5-6: the repeated source: WMT's 2nd and 3rd segment join rows 2 and 3 in order
    tsv_row("sysA", 2, "r1", SOURCE[1], "Thanks.", "No-error", "No-error"),
    tsv_row("sysA", 3, "r1", SOURCE[2], "<v>Thank you.</v>", "Non-translation!", "Major"),
    # lines 7-8: segment 4 by two raters; WMT's source has one space where the run has two;
    # an omission marked only in the source
    tsv_row("sysA", 4, "r2", "<v>الجو</v> حار اليوم.", SYS_A[3], "Accuracy/Omission", "Minor"),
    tsv_row("sysA", 4, "r1", "الجو حار اليوم.", "The weather is hot <v>today</v>.",
            "Locale convention/Date format", "Minor"),
    # line 9 on: what joins nothing
    tsv_row("sysC", 1, "r1", SOURCE[0], "A boy went.", "No-error", "No-error"),
    tsv_row("sysA", 5, "r1", "مرحبا.", "Hello.", "No-error", "No-error"),
    tsv_row("sysA", 6, "r1", SOURCE[1], "Thanks.", "No-error", "No-error"),
    tsv_row("sysB", 1, "r1", SOURCE[0], "The boy <v>went</v> home.", "Accuracy/Addition", "Major"),
    tsv_row("sysB", 2, "r1", SOURCE[1], "<v>Thanks!</v>", "Fluency/Register", "Minor"),
    tsv_row("sysB", 2, "r1", SOURCE[1], "Thanks<v>.</v>", "Fluency/Punctuation", "Minor"),
    "\t".join(["sysA", "sport", "1", "7", "r1", SOURCE[0], SYS_A[0], "No-error", "No-error", ""]),
]  # fmt: skip


def write_mqm(path: Path, rows: list[str] = MQM_ROWS) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def make_run(cli, folder: Path, name: str = "judged") -> str:
    """A stored run of the document `news` with the systems sysA and sysB (their outputs
    as files: no model), scored with chrF; returns its id."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"news.ar": SOURCE, "news.en": REFERENCE, "a.en": SYS_A, "b.en": SYS_B}
    for file, lines in files.items():
        (folder / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli(
        "run",
        *("--src", folder / "news.ar", "--ref", folder / "news.en"),
        *("--system", f"sysA=files:{folder / 'a.en'}", "--system", f"sysB=files:{folder / 'b.en'}"),
        *("--metric", "chrf", "--align", "none", "--name", name, "--json"),
    )
    assert result.exit_code == 0, result.output
    return read_record(Path(json.loads(result.stdout)["path"])).run_id


@pytest.fixture
def run_id(cli, tmp_path: Path) -> str:
    return make_run(cli, tmp_path / "data")


def test_markers_are_removed_and_their_range_kept():
    assert strip_markers("a <v>bc</v> d") == ("a bc d", (2, 4))
    assert strip_markers("<v>all</v>") == ("all", (0, 3))
    assert strip_markers("none") == ("none", None)
    assert strip_markers("open <v>to the end") == ("open to the end", (5, 15))
    # two marked pieces in one row: one span from the first opening to the last closing
    assert strip_markers("<v>a</v> b <v>c</v>") == ("a b c", (0, 5))


def test_categories_read_as_evalkits():
    assert mqm_category("Non-translation!") == "non-translation"
    assert mqm_category("Fluency/Punctuation") == "fluency/punctuation"
    assert mqm_category("Locale convention/Currency format") == "locale/currency format"
    assert mqm_category("Terminology/Inconsistent use of terminology") == (
        "terminology/inconsistent use"
    )
    assert mqm_category("Source error") == "source error"


def test_normalise_keeps_case_and_punctuation():
    assert normalise(" a\u00a0 <v>b</v>\n") == "a b"
    assert normalise("e\u0301") == "\u00e9"  # NFC
    assert normalise("Thanks.") != normalise("thanks.")


def test_the_tsv_is_read_one_judgment_per_system_segment_and_rater(tmp_path: Path):
    mqm = read_mqm_tsv(write_mqm(tmp_path / "wmt.tsv"))
    assert mqm.rows == len(MQM_ROWS) and mqm.neutral == 1
    first = mqm.segments[0]
    assert (first.system, first.doc, first.doc_id, first.rater) == ("sysA", "news", 1, "r1")
    assert first.lines == [2, 3, 4] and first.target == SYS_A[0] and first.neutral == 1
    assert [(s.start, s.end, s.severity, s.category) for s in first.spans] == [
        (8, 12, "major", "accuracy/mistranslation"),
        (26, 28, "minor", "fluency/punctuation"),
    ]
    by_rater = {s.rater: s for s in mqm.segments if s.doc_id == 4}
    assert by_rater["r2"].spans == [
        Span(start=0, end=0, severity="minor", category="accuracy/omission")
    ]
    assert by_rater["r2"].source == "الجو حار اليوم."  # markers gone from the source too
    disagreeing = [s for s in mqm.segments if s.system == "sysB" and s.doc_id == 2]
    assert len(disagreeing) == 1 and not disagreeing[0].agree


def test_a_tsv_is_known_by_its_name_or_its_header(tmp_path: Path):
    named = write_mqm(tmp_path / "ratings.tsv", [])
    unnamed = write_mqm(tmp_path / "ratings.txt", [])
    other = tmp_path / "j.jsonl"
    other.write_text('{"version": 1}\n', encoding="utf-8")
    assert looks_like_mqm_tsv(named) and looks_like_mqm_tsv(unnamed)
    assert not looks_like_mqm_tsv(other)


@pytest.mark.parametrize(
    ("rows", "where", "says"),
    [
        ([tsv_row("sysA", 1, "r1", "s", "t", "Style/Awkward", "Critical")], 3, "unknown severity"),
        (["sysA\tnews\tone\t1\tr1\ts\tt\tNo-error\tNo-error\t"], 2, "doc_id 'one'"),
        (["sysA\tnews\t1\t1\tr1\ts"], 2, "6 fields"),
    ],
)
def test_a_bad_tsv_row_is_named_by_line(tmp_path: Path, rows, where, says):
    good = tsv_row("sysA", 1, "r1", "s", "t", "No-error", "No-error")
    rows = rows if where == 2 else [good, *rows]
    with pytest.raises(UserInputError) as caught:
        read_mqm_tsv(write_mqm(tmp_path / "bad.tsv", rows))
    assert f"bad.tsv:{where}:" in str(caught.value) and says in str(caught.value)


def test_a_tsv_without_the_columns_is_refused(tmp_path: Path):
    path = tmp_path / "other.tsv"
    path.write_text("system\tdoc\tscore\nA\td\t1\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"other.tsv:1: .*no column doc_id"):
        read_mqm_tsv(path)


def test_mqm_judgments_join_the_run_with_spans_and_weights(
    tmp_path: Path, results_dir: Path, run_id: str
):
    summary = import_file(write_mqm(tmp_path / "wmt.tsv"), results_dir, run_id)
    assert summary.format == "wmt-mqm" and summary.neutral == 1
    stored = JudgmentStore.in_results(results_dir).judgments(run_id)
    assert len(stored) == len(summary.stored) == 5
    got = {(j.segment_id, j.system, j.annotator): j for j in stored}
    assert set(got) == {
        ("news#s1", "sysA", "r1"),
        ("news#s2", "sysA", "r1"),
        ("news#s3", "sysA", "r1"),
        ("news#s4", "sysA", "r1"),
        ("news#s4", "sysA", "r2"),
    }
    for judgment in stored:
        assert judgment.protocol == "mqm" and judgment.complete and judgment.score is None
        assert judgment.origin == "wmt-mqm:wmt.tsv" and not judgment.attention_check
    first = got[("news#s1", "sysA", "r1")]
    assert first.target == SYS_A[0]
    assert [first.target[s.start : s.end] for s in first.spans] == ["went", " ."]
    # major 5 + minor punctuation 0.1; the Neutral row counts nothing
    assert mqm_score(first.spans) == pytest.approx(-5.1)
    assert human_score(got[("news#s2", "sysA", "r1")]) == 0
    # the third row of the document (the repeated source's second copy) is non-translation
    assert human_score(got[("news#s3", "sysA", "r1")]) == -25
    assert got[("news#s3", "sysA", "r1")].spans[0].category == "non-translation"
    late = got[("news#s4", "sysA", "r1")]
    assert late.spans[0].category == "locale/date format"
    assert late.target[late.spans[0].start : late.spans[0].end] == "today"
    assert human_score(late) == -1 and human_score(got[("news#s4", "sysA", "r2")]) == -1


def test_what_joins_nothing_is_listed_with_its_reason(tmp_path: Path, results_dir, run_id):
    summary = import_file(write_mqm(tmp_path / "wmt.tsv"), results_dir, run_id)
    listed = {(u.system, u.doc, u.doc_id): (u.reason, u.lines) for u in summary.unmatched}
    assert listed == {
        ("sysC", "news", 1): (NOT_A_SYSTEM, [9]),
        ("sysA", "news", 5): (NO_SOURCE, [10]),
        ("sysA", "news", 6): (NO_ROW_LEFT, [11]),
        ("sysB", "news", 1): (OTHER_TRANSLATION, [12]),
        ("sysB", "news", 2): (ROWS_DISAGREE, [13, 14]),
        ("sysA", "sport", 1): (NOT_A_DOCUMENT, [15]),
    }
    report = summary.as_json()
    assert report["stored"] == 5 and report["unmatched"] == 6 and report["rows"] == 14
    assert report["unmatched_judgments"][0]["reason"]


def test_an_mqm_tsv_needs_a_run(tmp_path: Path, results_dir: Path, run_id: str):
    with pytest.raises(UserInputError, match="--run RUN"):
        import_file(write_mqm(tmp_path / "wmt.tsv"), results_dir, None)
    assert not (results_dir / JUDGMENTS_FILE).exists()


def judgment(run_id: str, **changes) -> Judgment:
    fields = {
        "run_id": run_id,
        "segment_id": "news#s1",
        "system": "sysA",
        "annotator": "ana",
        "protocol": "esa",
        "score": 70.0,
        "spans": [Span(start=4, end=7, severity="minor")],
        "target": SYS_A[0],
        "complete": True,
    }
    return Judgment.model_validate({**fields, **changes})


def test_jsonl_round_trip_gives_the_same_judgments(tmp_path: Path, results_dir, run_id):
    store = JudgmentStore.in_results(results_dir)
    store.save_many(
        [
            judgment(run_id),
            judgment(run_id, system="sysB", protocol="mqm", score=None, annotator="bo",
                     target=SYS_B[0],
                     spans=[Span(start=0, end=3, severity="major", category="fluency/grammar")]),
            judgment(run_id, segment_id="news#s2", protocol="da", spans=[], complete=False,
                     target=SYS_A[1]),
            judgment(run_id, segment_id="news#s3", attention_check=True, target="Xhank"),
        ]
    )  # fmt: skip
    before = stored_judgments(results_dir, run_id)
    path = tmp_path / "out.jsonl"
    path.write_text(jsonl.dumps(before), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(json.loads(line)["version"] == 1 for line in lines)
    (results_dir / JUDGMENTS_FILE).unlink()
    summary = import_file(path, results_dir)
    assert summary.format == "jsonl" and len(summary.stored) == 4
    assert stored_judgments(results_dir, run_id) == before


def test_export_filters_by_run_annotator_and_protocol(cli, tmp_path: Path, results_dir, run_id):
    other = make_run(cli, tmp_path / "data2", name="again")
    JudgmentStore.in_results(results_dir).save_many(
        [judgment(run_id), judgment(run_id, annotator="bo", protocol="da"), judgment(other)]
    )
    assert len(stored_judgments(results_dir)) == 3
    assert {j.run_id for j in stored_judgments(results_dir, other)} == {other}
    assert [j.annotator for j in stored_judgments(results_dir, run_id, "bo")] == ["bo"]
    assert [j.protocol for j in stored_judgments(results_dir, None, None, "esa")] == ["esa"] * 2


def test_no_judgments_file_exports_nothing_and_creates_none(results_dir: Path, run_id: str):
    assert stored_judgments(results_dir, run_id) == []
    assert not (results_dir / JUDGMENTS_FILE).exists()


def test_jsonl_attaches_to_another_run_of_the_same_test_set(
    cli, tmp_path: Path, results_dir: Path, run_id: str
):
    other = make_run(cli, tmp_path / "data2", name="again")
    path = tmp_path / "j.jsonl"
    path.write_text(jsonl.dumps([judgment(run_id)]), encoding="utf-8")
    import_file(path, results_dir, other)
    (moved,) = stored_judgments(results_dir)
    assert moved.run_id == other == find_run(results_dir, other).name


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"run_id": "x"}', "no `version`"),
        ('{"version": 2}', "version 2 is not readable"),
        ('{"version": 1, "run_id": "x"}', "invalid judgment: segment_id"),
    ],
)
def test_a_bad_jsonl_line_is_named_and_nothing_is_stored(
    tmp_path: Path, results_dir: Path, run_id: str, bad: str, says: str
):
    path = tmp_path / "j.jsonl"
    good = jsonl.judgment_line(judgment(run_id))
    path.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
    with pytest.raises(UserInputError) as caught:
        import_file(path, results_dir)
    assert str(caught.value).startswith(f"{path}:3: ") and says in str(caught.value)
    assert stored_judgments(results_dir) == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"run_id": "20000101-000000-none"}, "no run '20000101-000000-none'"),
        ({"segment_id": "news#s9"}, "segment 'news#s9' is not a row of run"),
        ({"system": "sysZ"}, "system 'sysZ' is not a system of run"),
        ({"target": "another text"}, "the translation judged for 'sysA' on 'news#s1' is not"),
    ],
)
def test_a_judgment_of_nothing_in_the_results_is_refused(
    tmp_path: Path, results_dir: Path, run_id: str, changes, says
):
    path = tmp_path / "j.jsonl"
    changed = judgment(run_id).model_copy(update=changes)
    path.write_text(jsonl.dumps([judgment(run_id), changed]), "utf-8")
    with pytest.raises(UserInputError) as caught:
        import_file(path, results_dir)
    assert f"j.jsonl:2: {says}" in str(caught.value)
    assert stored_judgments(results_dir) == []
