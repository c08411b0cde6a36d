"""The field's test-set formats as `--data`: WMT XML, WMT SGML, FLORES, WMT JSONL and
mt-metrics-eval folders; the outputs they carry as `data:NAME` systems; their human scores
as judgments.

The fixtures under tests/fixtures/formats/ are written by hand from each format's own
documentation and reference reader (sacrebleu's, mt-metrics-eval's, WMT's scripts); what
the tests expect of them is written next to each test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sacrebleu.dataset.wmt_xml import WMTXMLDataset

from evalkit.corpus.formats.common import output_label
from evalkit.corpus.formats.detect import detect, split_selector
from evalkit.corpus.formats.flores import flores_file
from evalkit.corpus.model import SystemOutputs, TestSet
from evalkit.corpus.resolve import load_test_set
from evalkit.engines import create_systems
from evalkit.engines.bundled import systems_in_data
from evalkit.errors import UserInputError
from evalkit.judgments.model import human_score
from evalkit.judgments.store import JudgmentStore
from evalkit.record import read_record
from tests.test_fuzz import load_or_refuse

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
XML = FIXTURES / "wmt_xml" / "wmttest-mini.de-en.xml"
SGML = FIXTURES / "wmt_sgml"
FLORES = FIXTURES / "flores"
GENMT = FIXTURES / "wmt_jsonl" / "genmt" / "wmt25-mini.jsonl"
HUMEVAL = FIXTURES / "wmt_jsonl" / "wmt25-humeval-mini.jsonl"
MTME = FIXTURES / "mtme" / "wmt-mini"
CHEAP = ("--metric", "bleu", "--metric", "chrf")


def refs(test_set: TestSet) -> list[list[tuple[str, ...]]]:
    return [[side.segments for side in doc.references] for doc in test_set.documents]


def outputs(test_set: TestSet) -> dict[str, dict[str, tuple[str, ...]]]:
    return {o.name: dict(o.documents) for o in test_set.outputs}


def raises(data: str | Path, match: str, **languages: str) -> UserInputError:
    with pytest.raises(UserInputError, match=match) as caught:
        load_test_set(str(data), **languages)
    return caught.value


# --- detection ------------------------------------------------------------------------


def test_each_format_is_told_from_the_path():
    assert detect(XML) == "wmt-xml"
    assert detect(SGML) == detect(SGML / "newstest-mini-deen-src.de.sgm") == "wmt-sgml"
    assert detect(FLORES) == detect(FLORES / "devtest") == "flores"
    assert detect(GENMT) == detect(HUMEVAL) == "wmt-jsonl"
    assert detect(MTME) == "mt-metrics-eval"


def test_evalkit_tables_are_still_tables(tmp_path: Path):
    table = tmp_path / "t.jsonl"
    table.write_text('{"doc_id": "a", "src": "x", "ref": "y"}\n', encoding="utf-8")
    assert detect(table) == "table"
    assert load_test_set(str(table)).documents[0].reference.segments == ("y",)


def test_a_root_element_tells_a_file_of_another_name(tmp_path: Path):
    renamed = tmp_path / "newstest.txt"
    renamed.write_bytes(XML.read_bytes())
    assert detect(renamed) == "wmt-xml"
    assert load_test_set(str(renamed)).content_hash() == load_test_set(str(XML)).content_hash()


def test_selector_is_split_off_only_when_the_path_does_not_exist(tmp_path: Path):
    assert split_selector(f"{MTME}#en-de") == (MTME, "en-de")
    odd = tmp_path / "a#b"
    odd.mkdir()
    assert split_selector(str(odd)) == (odd, None)
    raises(f"{XML}#en-de", "selects a language pair or split")


def test_an_unknown_folder_says_what_is_accepted(tmp_path: Path):
    raises(tmp_path, "manifest.json, an mt-metrics-eval folder")


# --- WMT XML ----------------------------------------------------------------------------


def test_wmt_xml_documents_references_meta_and_outputs():
    test_set = load_test_set(str(XML))
    assert (test_set.name, test_set.tgt_lang) == ("wmttest-mini.de-en", "en")
    assert test_set.reference_names == ("A", "B")
    # the test-suite document is skipped
    assert [d.id for d in test_set.documents] == ["news-1", "chat-7"]
    news, chat = test_set.documents
    assert news.meta == (("origlang", "de"), ("domain", "news"))
    assert chat.meta == (("origlang", "en"),)  # no domain attribute
    assert all(doc.aligned and doc.source.lang == "de" for doc in test_set.documents)
    # segment 4 of chat-7 has no reference at all: left out, as sacrebleu leaves it out;
    # whitespace collapsed and `&amp;` read as `&`
    assert chat.source.segments == (
        "Guten Morgen!",
        "Tom & Jerry kommen später.",
        "Ist das Café schon offen?",
    )
    # translator B gave no segment 2: "" there
    assert refs(test_set)[1] == [
        ("Good morning!", "Tom & Jerry are coming later.", "Is the café open yet?"),
        ("Morning!", "", "Has the café opened already?"),
    ]
    assert list(outputs(test_set)) == ["sysA", "sysB"]
    assert outputs(test_set)["sysB"]["chat-7"] == (
        "Good morning !",
        "Tom and Jerry come later.",
        "Is that café already open?",
    )


def test_wmt_xml_reading_agrees_with_sacrebleu():
    fields = WMTXMLDataset._unwrap_wmt21_or_later(str(XML))

    def clean(lines: list[str]) -> list[str]:  # sacrebleu's Dataset._clean
        return [re.sub(r"\s+", " ", line.strip()) for line in lines]

    test_set = load_test_set(str(XML))
    docs = test_set.documents
    assert [d.id for d in docs for _ in d.source.segments] == fields["docid"]
    assert [dict(d.meta)["origlang"] for d in docs for _ in d.source.segments] == (
        fields["origlang"]
    )
    assert [s for d in docs for s in d.source.segments] == clean(fields["src"])
    for index, name in enumerate(test_set.reference_names):
        flat = [s for d in docs for s in d.references[index].segments]
        assert flat == clean(fields[f"ref:{name}"])
    for name, by_doc in outputs(test_set).items():
        assert [s for d in docs for s in by_doc[d.id]] == clean(fields[name])


def test_a_source_only_xml_keeps_every_segment(tmp_path: Path):
    path = tmp_path / "blind.xml"
    path.write_text(
        '<dataset id="x"><collection id="c"><doc id="d1" origlang="en">'
        '<src lang="en"><p><seg id="1">One.</seg><seg id="2">Two.</seg></p></src>'
        "</doc></collection></dataset>",
        encoding="utf-8",
    )
    test_set = load_test_set(str(path), tgt_lang="cs")
    (doc,) = test_set.documents
    assert doc.source.segments == ("One.", "Two.") and doc.reference is None
    assert test_set.tgt_lang == "cs" and test_set.outputs == ()


XML_DOC = (
    '<dataset id="x"><collection id="c">\n<doc id="d1" origlang="en">\n'
    '<src lang="en"><p><seg id="1">One.</seg>\n<seg id="2">Two.</seg></p></src>\n'
    "{rest}</doc>\n</collection></dataset>\n"
)


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("<dataset><doc>\n<oops></dataset>\n", "invalid XML", 2),
        ('<root id="x"/>\n', "root element is <root>", 1),
        (XML_DOC.replace('<seg id="2">', "<seg>"), "<seg> without an id", 4),
        (XML_DOC.replace('<seg id="2">', '<seg id="two">'), "'two' is not a number", 4),
        (XML_DOC.replace('<seg id="2">', '<seg id="1">'), "id 1 appears twice", 4),
        (
            XML_DOC.format(rest='<hyp lang="de" system="s"><p><seg id="1">Eins.</seg></p></hyp>\n'),
            "system 's' has no segment 2 of document 'd1'",
            2,
        ),
        (
            XML_DOC.format(rest='<ref lang="de" translator="A"><p><seg id="9">X</seg></p></ref>\n'),
            "segment id 9 is not a segment",
            5,
        ),
        (XML_DOC.replace('id="d1"', 'id="a/b"'), "not safe as a file name", 2),
        (XML_DOC.replace('<src lang="en">', "<src>"), "<src> without its lang", 3),
    ],
)
def test_bad_wmt_xml_names_file_and_line(tmp_path: Path, content: str, message: str, line: int):
    path = tmp_path / "bad.xml"
    path.write_text(content.replace("{rest}", ""), encoding="utf-8")
    error = raises(path, re.escape(message))
    assert error.path == path and error.line == line


# --- WMT SGML ---------------------------------------------------------------------------


def test_wmt_sgml_source_with_its_references_and_systems():
    test_set = load_test_set(str(SGML))
    # the source file names the same test set as its folder
    assert load_test_set(str(SGML / "newstest-mini-deen-src.de.sgm")) == test_set
    assert (test_set.name, test_set.tgt_lang) == ("newstest-mini", "en")
    # srclang="any": the language comes from the file name
    assert {doc.source.lang for doc in test_set.documents} == {"de"}
    # both reference files, in file-name order; the other test set's file is left alone
    assert test_set.reference_names == ("newstest-mini-deen-ref.en", "newstestB-mini-deen-ref.en")
    abend, blog = test_set.documents
    assert abend.meta == (("origlang", "de"), ("domain", "news"))
    # the second reference lists segment 2 first: read by id
    assert refs(test_set)[0][1] == ("The council approved the budget.", "The opposition voted no.")
    # `&` is kept as written, whitespace collapsed (sacrebleu's reading)
    assert blog.source.segments[:2] == (
        "Müller & Söhne eröffnen eine Filiale.",
        "Die Preise sind niedrig.",
    )
    # sysA is named on its root, sysB on its documents
    assert list(outputs(test_set)) == ["sysA", "sysB"]
    assert outputs(test_set)["sysB"]["abend.1"] == (
        "City council budget decided.",
        "Opposition voted against it.",
    )


def copy_sgml(tmp_path: Path) -> Path:
    folder = tmp_path / "sgml"
    folder.mkdir()
    for file in SGML.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "message", "line"),
    [
        (
            "newstest-mini-deen-ref.en.sgm",
            '<seg id="2">The opposition voted against it.</seg>\n',
            "",
            "document 'abend.1' has no segment 2",
            2,
        ),
        (
            "newstest-mini-deen-src.de.sgm",
            '<seg id="2">Die Preise',
            "<seg>Die Preise",
            "<seg> without an id",
            11,
        ),
        (
            "newstest-mini-deen-src.de.sgm",
            "</seg>\n</p>\n</doc>\n<doc",
            "\n</p>\n</doc>\n<doc",
            "open and close on its line",
            5,
        ),
        (
            "newstest-mini.de-en.sysA.sgm",
            'docid="blog.2"',
            'docid="blog.3"',
            "lacks document 'blog.2'",
            None,
        ),
    ],
)
def test_bad_wmt_sgml_names_file_and_line(
    tmp_path: Path, file: str, old: str, new: str, message: str, line: int | None
):
    folder = copy_sgml(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    error = raises(folder, re.escape(message))
    assert error.path == path and error.line == line


def test_sgml_folder_needs_one_source_and_a_reference_is_not_one(tmp_path: Path):
    folder = copy_sgml(tmp_path)
    raises(folder / "newstest-mini-deen-ref.en.sgm", "give the source file")
    (folder / "second-src.fr.sgm").write_text(
        '<srcset setid="s" srclang="fr">\n<doc docid="x">\n<seg id="1">Un.</seg>\n</doc>\n',
        encoding="utf-8",
    )
    raises(folder, "expected one <srcset> file in the folder, found 2")


# --- FLORES -------------------------------------------------------------------------------


def test_flores_files_by_language_codes_and_split():
    test_set = load_test_set(str(FLORES), src_lang="ar", tgt_lang="en")
    (doc,) = test_set.documents
    assert (test_set.name, doc.id, doc.aligned) == ("flores-devtest", "devtest", True)
    assert (doc.source.lang, test_set.tgt_lang) == ("ar", "en")
    assert doc.source.segments == tuple(
        (FLORES / "devtest" / "arb_Arab.devtest").read_text(encoding="utf-8").splitlines()
    )
    assert doc.reference.segments[0] == "The museum opens its new wing next spring."
    # `#dev` picks the split; FLORES codes are accepted and kept as BCP 47 tags
    dev = load_test_set(f"{FLORES}#dev", src_lang="arb_Arab", tgt_lang="eng_Latn")
    assert dev.documents[0].id == "dev" and len(dev.documents[0].source.segments) == 2
    assert (dev.documents[0].source.lang, dev.tgt_lang) == ("arb-Arab", "eng-Latn")
    # a split folder itself
    split = load_test_set(str(FLORES / "devtest"), src_lang="en", tgt_lang="fr")
    assert split.name == "flores-devtest" and split.documents[0].reference.segments[2] == (
        "Le comité publiera son rapport vendredi."
    )


def test_flores_plus_file_names(tmp_path: Path):
    split = tmp_path / "floresplus" / "devtest"
    split.mkdir(parents=True)
    (split / "devtest.cmn_Hans").write_text("博物馆明年春天开放新馆。\n", encoding="utf-8")
    (split / "devtest.eng_Latn").write_text(
        "The museum opens its new wing next spring.\n", encoding="utf-8"
    )
    assert flores_file("devtest.cmn_Hans") == ("cmn_Hans", "devtest")
    assert flores_file("apc_Arab_nort3139.dev") == ("apc_Arab_nort3139", "dev")
    # zh finds FLORES+'s cmn_Hans (FLORES-200 called it zho_Hans)
    test_set = load_test_set(str(tmp_path / "floresplus"), src_lang="zh", tgt_lang="en")
    assert test_set.documents[0].source.segments == ("博物馆明年春天开放新馆。",)


def test_flores_errors(tmp_path: Path):
    raises(
        FLORES,
        r"no file for --src-lang 'sw' \(tried swh_Latn; this folder has arb_Arab",
        src_lang="sw",
    )
    raises(f"{FLORES}#test", "no test/ folder with FLORES files")
    short = tmp_path / "f" / "devtest"
    short.mkdir(parents=True)
    (short / "arb_Arab.devtest").write_text("١\n٢\n", encoding="utf-8")
    (short / "eng_Latn.devtest").write_text("one\n", encoding="utf-8")
    error = raises(tmp_path / "f", "line-count mismatch", src_lang="ar", tgt_lang="en")
    assert error.path == short / "eng_Latn.devtest"


# --- WMT JSONL ----------------------------------------------------------------------------


def test_wmt_test_set_jsonl_with_its_systems_folder():
    # --src-lang/--tgt-lang pick the pair without the region
    test_set = load_test_set(str(GENMT), src_lang="en", tgt_lang="cs")
    assert (test_set.name, test_set.tgt_lang) == ("wmt25-mini.en-cs_CZ", "cs-CZ")
    assert test_set.reference_names == ("refA", "refB")
    bridge, post = test_set.documents
    assert bridge.id == "en-cs_CZ_#_news_#_bridge" and bridge.meta == (("domain", "news"),)
    # paragraphs at blank lines; a line break inside one is a space
    assert bridge.source.segments == (
        "The old bridge will close in May.",
        "A ferry will carry cyclists across.",
    )
    assert bridge.aligned and refs(test_set)[0][1][1] == "Cyklisty přepraví přívoz."
    # post3 has no refB: "" there, so references keep their positions
    assert [r.segments for r in post.references] == [("Má někdo chuť na výlet v neděli?",), ("",)]
    assert outputs(test_set)["sysB"] == {
        "en-cs_CZ_#_news_#_bridge": ("Most zavře květen.", "Trajekt nese cyklisty."),
        "en-cs_CZ_#_social_#_post3": ("Kdo jde neděle túra?",),
    }
    # `#PAIR` picks another pair: sysB has no output for it and is left out
    japanese = load_test_set(f"{GENMT}#en-ja_JP")
    assert japanese.tgt_lang == "ja-JP" and list(outputs(japanese)) == ["sysA"]
    assert japanese.documents[0].reference is None


def test_wmt_humeval_jsonl_as_a_test_set():
    test_set = load_test_set(str(HUMEVAL))  # the ids name the pair: no options needed
    assert (test_set.tgt_lang, test_set.reference_names) == ("cs-CZ", ("refA", "refB"))
    bridge, post = test_set.documents
    assert bridge.meta == (("domain", "news"),)
    assert post.id == "en-cs_CZ_#_social_#_post3" and post.meta == (("domain", "social"),)
    # the file lists segment 2 before 0 and 1: ordered by their number
    assert post.source.segments == (
        "Anyone up for a hike on Sunday?",
        "Bring water and a snack.",
        "See you at the station.",
    )
    # refB has no translation of the bridge's second segment
    assert refs(test_set)[0][1] == ("Starý most bude v květnu zavřen.", "")
    assert outputs(test_set)["sysA"]["en-cs_CZ_#_social_#_post3"][2] == "Uvidíme se na stanici."


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def segment(doc_id: str, **targets: str) -> dict:
    return {"doc_id": doc_id, "src_text": "Hello.", "tgt_text": targets}


@pytest.mark.parametrize(
    ("rows", "message", "line"),
    [
        ([segment("en-de_#_news_#_d", sysA="Hallo.")], "does not end with _#_N", 1),
        (
            [segment("en-de_#_n_#_d_#_0", sysA="Hallo."), segment("en-de_#_n_#_d_#_1", refA="Hi.")],
            "system 'sysA' has no translation of this segment",
            2,
        ),
        (
            [segment("en-de_#_n_#_d_#_0", sysA="A."), segment("en-de_#_n_#_d_#_0", sysA="B.")],
            "segment 0 of document 'en-de_#_n_#_d' appears twice",
            2,
        ),
        (
            [segment("en-de_#_n_#_d_#_0", sysA="A."), {"doc_id": "x", "src_text": "Hi."}],
            "unlike the first row",
            2,
        ),
        (
            [segment("en-de_#_n_#_d_#_0", sysA="A."), segment("en-fr_#_n_#_d_#_0", sysA="B.")],
            "holds several language pairs \\(en-de, en-fr\\)",
            None,
        ),
        (
            [{"doc_id": "d", "src_lang": "en", "tgt_lang": "xx_YY", "src_text": "Hi."}],
            "unknown language code",
            1,
        ),
    ],
)
def test_bad_wmt_jsonl_names_file_and_line(tmp_path: Path, rows, message: str, line: int | None):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    error = raises(path, message, src_lang="ar", tgt_lang="en")
    assert error.path == path and error.line == line


def test_document_references_keep_their_positions(tmp_path: Path):
    row = {"src_lang": "en", "tgt_lang": "de", "src_text": "A.\n\nB."}
    path = write_jsonl(
        tmp_path / "set.jsonl",
        [
            {**row, "doc_id": "both", "refs": {"refA": {"ref": "X.\n\nY."}, "refB": "P.\n\nQ."}},
            # refB only, in one paragraph: refA is "" and the document is not line-aligned
            {**row, "doc_id": "onlyB", "refs": {"refB": {"ref": "P and Q."}}},
            {**row, "doc_id": "none", "refs": {}},
        ],
    )
    test_set = load_test_set(str(path))
    assert test_set.reference_names == ("refA", "refB")
    both, only_b, none = test_set.documents
    assert both.aligned and refs(test_set)[0] == [("X.", "Y."), ("P.", "Q.")]
    assert not only_b.aligned and refs(test_set)[1] == [("", ""), ("P and Q.",)]
    assert none.reference is None and none.aligned


def test_a_system_file_must_match_the_source_paragraphs(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "set.jsonl",
        [{"doc_id": "d", "src_lang": "en", "tgt_lang": "de", "src_text": "A.\n\nB."}],
    )
    (tmp_path / "systems").mkdir()
    system = write_jsonl(tmp_path / "systems" / "s.jsonl", [{"doc_id": "d", "hypothesis": "A."}])
    error = raises(path, "document 'd': 1 paragraphs, the source has 2")
    assert error.path == system and error.line == 1


_text = st.text(max_size=10)
_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)
_wmt_key = st.sampled_from(
    ["doc_id", "src_text", "tgt_text", "scores", "src_lang", "tgt_lang", "refs", "domain"]
)
_segment_id = st.builds(
    lambda doc, n: f"en-de_#_news_#_{doc}_#_{n}", st.sampled_from("ab"), st.integers(0, 3)
)
_targets = st.dictionaries(st.sampled_from(["refA", "sysA"]), st.one_of(_text, _value))


@given(
    rows=st.lists(
        st.dictionaries(_wmt_key, st.one_of(_value, _segment_id, _targets), max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_any_wmt_jsonl_loads_or_is_refused(tmp_path_factory, rows: list[dict]):
    """Whatever WMT-shaped rows hold, the reader returns a sound test set or refuses them
    with a UserInputError, never another exception."""
    path = tmp_path_factory.mktemp("wmt") / "rows.jsonl"
    write_jsonl(path, [{"src_text": "x", **row} for row in rows])
    load_or_refuse(lambda: load_test_set(str(path), src_lang="en", tgt_lang="de"))


# --- mt-metrics-eval -----------------------------------------------------------------------


def test_mtme_folder_documents_references_and_systems():
    test_set = load_test_set(f"{MTME}#en-de")
    assert (test_set.name, test_set.tgt_lang) == ("wmt-mini.en-de", "de")
    assert test_set.reference_names == ("refA", "refB")
    assert [(d.id, d.meta, len(d.source.segments)) for d in test_set.documents] == [
        ("council-1", (("domain", "news"),), 2),
        ("support-9", (("domain", "chat"),), 3),
    ]
    sources = (MTME / "sources" / "en-de.txt").read_text(encoding="utf-8").splitlines()
    assert [s for d in test_set.documents for s in d.source.segments] == sources
    refb = (MTME / "references" / "en-de.refB.txt").read_text(encoding="utf-8").splitlines()
    assert [s for d in test_set.documents for s in d.references[1].segments] == refb
    # refB's output is a human translation: left out of the systems
    assert list(outputs(test_set)) == ["sysA", "sysB"]
    # without `#`, the options pick the pair
    assert load_test_set(str(MTME), src_lang="de", tgt_lang="en").name == "wmt-mini.de-en"


def copy_tree(source: Path, target: Path) -> Path:
    for file in source.rglob("*"):
        if file.is_file():
            dest = target / file.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(file.read_bytes())
    return target


def test_bad_mtme_folders(tmp_path: Path):
    folder = copy_tree(MTME, tmp_path / "wmt-mini")
    raises(f"{folder}#en-fr", r"no language pair 'en-fr' here \(it holds de-en, en-de\)")
    raises(folder, "holds several language pairs", src_lang="ar", tgt_lang="en")
    docs = folder / "documents" / "en-de.docs"
    docs.write_text("news a\nchat b\nnews a\nchat b\nchat b\n", encoding="utf-8")
    error = raises(f"{folder}#en-de", "document 'a' continues after other documents")
    assert error.path == docs and error.line == 3
    docs.write_text("news a\n" * 5, encoding="utf-8")
    ref = folder / "references" / "en-de.refA.txt"
    ref.write_text("only one line\n", encoding="utf-8")
    error = raises(f"{folder}#en-de", "1 lines, but the source has 5")
    assert error.path == ref


# --- the data: system ------------------------------------------------------------------------


def test_systems_in_data_are_data_systems_with_their_hypotheses():
    test_set = load_test_set(str(XML))
    specs = systems_in_data(test_set)
    assert specs == ["sysA=data:sysA", "sysB=data:sysB"]
    systems = create_systems(specs)
    assert [named.label for named in systems] == ["sysA", "sysB"]
    assert systems[1].system.hypotheses(test_set) == {
        doc: list(lines) for doc, lines in outputs(test_set)["sysB"].items()
    }
    assert output_label("Online W (v2)") == "Online_W__v2_"


def test_the_fingerprint_follows_the_outputs():
    test_set = load_test_set(str(XML))
    changed = TestSet(
        test_set.name,
        test_set.origin,
        test_set.tgt_lang,
        test_set.documents,
        outputs=(
            SystemOutputs(
                "sysA",
                tuple(
                    (doc, (*lines[:-1], "edited"))
                    for doc, lines in outputs(test_set)["sysA"].items()
                ),
            ),
        ),
    )
    assert changed == test_set  # the outputs are not part of the test set
    prints = []
    for data in (test_set, changed):
        (named,) = create_systems(["sysA=data:sysA"])
        named.system.hypotheses(data)
        prints.append(named.system.fingerprint_hash())
    assert prints[0] != prints[1]


def test_a_data_system_the_test_set_does_not_carry():
    (named,) = create_systems(["data:nobody"])
    with pytest.raises(UserInputError, match="carries no outputs of system 'nobody'"):
        named.system.hypotheses(load_test_set(str(XML)))
    with pytest.raises(UserInputError, match="data:NAME"):
        create_systems(["data"])


# --- through the command line ------------------------------------------------------------


def test_run_scores_the_systems_a_wmt_xml_file_carries(cli, results_dir: Path):
    result = cli(
        "run", "--data", XML, "--system", "sysA=data:sysA", "--system", "sysB=data:sysB", *CHEAP
    )
    assert result.exit_code == 0, result.output
    (folder,) = results_dir.iterdir()
    record = read_record(folder)
    assert [s.label for s in record.systems] == ["sysA", "sysB"]
    assert [s.kind for s in record.systems] == ["data", "data"]


def run_and_import(cli, results_dir: Path, data: str, scores: Path):
    result = cli(
        "run", "--data", data, "--system", "sysA=data:sysA", "--system", "sysB=data:sysB", *CHEAP
    )
    assert result.exit_code == 0, result.output
    imported = cli("judgments", "import", scores, "--run", "latest", "--json")
    assert imported.exit_code == 0, imported.output
    return json.loads(imported.stdout), JudgmentStore.in_results(results_dir).judgments()


def test_wmt_human_scores_import_as_esa_judgments(cli, results_dir: Path):
    summary, judgments = run_and_import(cli, results_dir, str(HUMEVAL), HUMEVAL)
    assert summary["format"] == "wmt-humeval" and summary["rows"] == 5
    # refA was judged too, but is the reference, not a system of the run
    assert summary["stored"] == 6 and summary["unmatched"] == 1
    assert summary["unmatched_judgments"][0]["system"] == "refA"
    assert {j.protocol for j in judgments} == {"esa"}
    by_key = {(j.segment_id, j.system, j.annotator): j for j in judgments}
    first = by_key[("en-cs_CZ_#_news_#_bridge#s1", "sysA", "en-cs_CZ_#_annotator1")]
    # ESA's end offset is inclusive; evalkit's is not
    assert (first.score, first.spans[0].start, first.spans[0].end) == (88.0, 14, 21)
    assert first.target[14:21] == "v květn"
    bad = by_key[("en-cs_CZ_#_news_#_bridge#s1", "sysB", "en-cs_CZ_#_annotator2")]
    assert bad.score == 41.0  # a numeric string, as WMT24 wrote them
    assert [(s.start, s.end, s.severity) for s in bad.spans] == [(0, 4, "major"), (0, 0, "major")]
    # one judgment per wave
    waves = [j for j in judgments if j.segment_id.endswith("bridge#s2") and j.system == "sysA"]
    assert sorted((j.annotator, j.score) for j in waves) == [
        ("en-cs_CZ_#_annotator1", 92.0),
        ("en-cs_CZ_#_annotator3", 85.0),
    ]


def test_mtme_seg_scores_import_and_meta_runs_on_them(cli, results_dir: Path):
    scores = MTME / "human-scores" / "en-de.mqm.seg.score"
    summary, judgments = run_and_import(cli, results_dir, f"{MTME}#en-de", scores)
    assert summary["format"] == "mt-metrics-eval"
    # 10 lines of sysA/sysB, one of them None; refB's 5 lines are not a system of the run
    assert summary["stored"] == 9 and summary["unmatched"] == 5
    assert {(j.protocol, j.annotator) for j in judgments} == {("mqm", "mqm")}
    worst = next(j for j in judgments if j.system == "sysB" and j.segment_id == "council-1#s2")
    assert human_score(worst) == -6.0  # the published MQM total, kept without spans
    meta = cli("meta", "latest", "--resamples", "10", "--permutations", "10")
    assert meta.exit_code == 0, meta.output
    assert "9 judgments (mqm)" in meta.stdout


def test_only_segment_level_mtme_scores_are_judgments(cli, results_dir: Path):
    result = cli("run", "--data", f"{MTME}#en-de", "--system", "sysA=data:sysA", *CHEAP)
    assert result.exit_code == 0, result.output
    refused = cli(
        "judgments", "import", MTME / "human-scores" / "en-de.mqm.sys.score", "--run", "latest"
    )
    assert refused.exit_code == 2 and "sys-level scores are not judgments" in refused.output
