"""Fuzzing with hypothesis: the test-set loaders, the sentence splitter, the aligner and the
cleanup of a model's chat reply, on arbitrary and on valid generated input.

Loaders must return a test set or raise `UserInputError`, nothing else, and give back
exactly what valid files hold. The splitter, the aligner and the reply cleanup must keep
their documented invariants whatever text they get. `make test` runs a few hundred
derandomized cases; `make fuzz` runs 10,000 per target and prints the counts (see
tests/conftest.py for the profiles).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evalkit.align.document import Aligner
from evalkit.align.dp import DEFAULT_STEPS, align_sequences
from evalkit.corpus.model import TestSet
from evalkit.corpus.resolve import load_test_set
from evalkit.corpus.segment import split_sentences
from evalkit.corpus.textfile import control_character
from evalkit.engines.chat_prompt import (
    _END_MARKERS,
    _NOTE,
    _PREAMBLE,
    _QUOTES,
    PromptBuilder,
    clean_output,
    read_examples,
)
from evalkit.errors import UserInputError
from tests.fuzz_counts import count

# --- strategies ------------------------------------------------------------------------------

#: characters a valid input line may hold: no control, format, private-use, unassigned or
#: line/paragraph separator characters
_CLEAN_CHARS = st.characters(exclude_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"))


def clean_line(max_size: int = 30) -> st.SearchStrategy[str]:
    """One line of printable text with something besides spaces in it."""
    return st.text(_CLEAN_CHARS, min_size=1, max_size=max_size).map(
        lambda s: s if s.strip() else s + "x"
    )


#: byte fragments that trip decoders and line splitters
_BYTE_FRAGMENTS = [
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b"\x00",
    b" ",
    b"\xef\xbb\xbf",  # UTF-8 BOM
    b"\xff\xfe",  # UTF-16 LE BOM
    b"\xfe\xff",  # UTF-16 BE BOM
    b"\x80",
    b"\xc3",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\x1b[0m",
    "\u2028".encode(),
    "نص عربي.".encode(),
    b"plain text.",
]
messy_bytes = st.one_of(
    st.binary(max_size=120),
    st.lists(
        st.one_of(
            st.sampled_from(_BYTE_FRAGMENTS),
            st.binary(max_size=4),
            st.text(max_size=8).map(str.encode),
        ),
        max_size=25,
    ).map(b"".join),
)

#: JSON text that is valid but hard on a parser: integers past Python's 4300-digit limit
#: for int(), nesting past the recursion limit, lone surrogates in \u escapes
json_edge_cases = st.one_of(
    st.integers(4301, 4400).map(lambda n: "1" * n),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "0" + "}" * n),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3).map(
        json.dumps
    ),
)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["a", "b", "", " ", "ar", "en"]),
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


def dumps(value: object, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


def _jsonl_line() -> st.SearchStrategy[str]:
    row = st.dictionaries(
        st.sampled_from(["doc_id", "src", "ref", "seg_id", "other"]),
        st.one_of(st.sampled_from(["a", "b", "", "1"]), json_values),
        max_size=5,
    )
    edge_row = json_edge_cases.map(lambda v: '{"doc_id": "a", "src": ' + v + "}")
    return st.one_of(
        st.builds(dumps, row, st.booleans()),
        st.builds(dumps, json_values, st.booleans()),
        json_edge_cases,
        edge_row,
        st.text(max_size=20),
    )


jsonl_bytes = st.one_of(
    messy_bytes,
    st.lists(_jsonl_line(), max_size=6).map(lambda lines: "\n".join(lines).encode()),
)

_tsv_cell = st.one_of(
    st.sampled_from(["doc_id", "src", "ref", "seg_id", "", "d", "x y", '"', '"a', "\r", "\x00"]),
    st.text(max_size=10),
)
_tsv_line = st.lists(_tsv_cell, max_size=5).map("\t".join)
_tsv_header = st.one_of(
    st.sampled_from(["doc_id\tsrc", "doc_id\tsrc\tref", "src\tdoc_id\tref\tseg_id"]), _tsv_line
)
tsv_bytes = st.one_of(
    messy_bytes,
    st.tuples(_tsv_header, st.lists(_tsv_line, max_size=8)).map(
        lambda parts: "\n".join([parts[0], *parts[1]]).encode()
    ),
    # a cell longer than the csv module's default field limit (131,072 characters)
    st.integers(131_000, 131_200).map(lambda n: ("doc_id\tsrc\nd\t" + "x" * n + "\n").encode()),
)


# --- loaders ---------------------------------------------------------------------------------


def check_test_set(test_set: TestSet) -> None:
    """What every loaded test set promises, whatever file it came from: text that encodes,
    unique ids, no line break or control character in a segment (TAB and a carriage
    return inside a plain-text line aside), as many reference as source segments when
    aligned."""
    assert isinstance(test_set, TestSet) and test_set.documents
    assert test_set.content_hash().startswith("sha256:")  # every string encodes as UTF-8
    ids = [doc.id for doc in test_set.documents]
    assert len(set(ids)) == len(ids) and all(ids)
    for doc in test_set.documents:
        sides = [doc.source] + ([doc.reference] if doc.reference else [])
        for side in sides:
            for segment in side.segments:
                assert isinstance(segment, str) and "\n" not in segment
                assert control_character(segment.replace("\r", "")) is None
        if doc.aligned and doc.reference is not None:
            assert len(doc.reference.segments) == len(doc.source.segments)


def load_or_refuse(load: Callable[[], TestSet]) -> TestSet | None:
    """The test set `load` returns, or None when it refused the input with a UserInputError.
    Any other exception fails the test."""
    try:
        test_set = load()
    except UserInputError as err:
        assert str(err)
        return None
    check_test_set(test_set)
    return test_set


@given(src=st.one_of(st.none(), messy_bytes), ref=st.one_of(st.none(), messy_bytes))
def test_plain_files_load_or_are_refused(src: bytes | None, ref: bytes | None):
    count("loader: --src/--ref, any bytes")
    if src is None and ref is None:
        src = b""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, data in (("src", src), ("ref", ref)):
            if data is not None:
                paths[name] = Path(tmp) / f"{name}.txt"
                paths[name].write_bytes(data)
        test_set = load_or_refuse(lambda: load_test_set(src=paths.get("src"), ref=paths.get("ref")))
    if test_set is not None:
        (doc,) = test_set.documents
        assert doc.aligned and (doc.reference is not None) == (ref is not None)


@given(
    lines=st.lists(st.tuples(clean_line(), clean_line()), min_size=1, max_size=15),
    ending=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    bom=st.booleans(),
    extra_ref_lines=st.integers(0, 2),
    source_given=st.booleans(),
)
def test_plain_files_round_trip(
    lines: list[tuple[str, str]],
    ending: str,
    final_newline: bool,
    bom: bool,
    extra_ref_lines: int,
    source_given: bool,
):
    count("loader: --src/--ref, valid")
    src_lines = [s for s, _ in lines]
    ref_lines = [r for _, r in lines] + ["more"] * extra_ref_lines

    def text(file_lines: list[str]) -> str:
        return (
            ("\ufeff" if bom else "") + ending.join(file_lines) + (ending if final_newline else "")
        )

    with tempfile.TemporaryDirectory() as tmp:
        src_path, ref_path = Path(tmp) / "doc.src", Path(tmp) / "doc.ref"
        src_path.write_text(text(src_lines), encoding="utf-8", newline="")
        ref_path.write_text(text(ref_lines), encoding="utf-8", newline="")
        src_arg = src_path if source_given else None
        if extra_ref_lines and source_given:
            with pytest.raises(UserInputError, match="line-count mismatch"):
                load_test_set(src=src_arg, ref=ref_path)
            return
        test_set = load_or_refuse(lambda: load_test_set(src=src_arg, ref=ref_path))
    assert test_set is not None
    (doc,) = test_set.documents
    assert doc.reference is not None and doc.reference.segments == tuple(ref_lines)
    assert doc.source.segments == (tuple(src_lines) if source_given else ("",) * len(ref_lines))
    assert doc.aligned and doc.id == "doc"


def _load_table_bytes(data: bytes, suffix: str) -> TestSet | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"set{suffix}"
        path.write_bytes(data)
        return load_or_refuse(lambda: load_test_set(str(path)))


@given(data=tsv_bytes)
@example(data=b"doc_id\tsrc\nd\tone\rtwo\n").via("a carriage return inside a line")
@example(data=b"doc_id\tsrc\nd\t" + b"x" * 131_073 + b"\n").via("a cell of 131,073 characters")
def test_tsv_loads_or_is_refused(data: bytes):
    count("loader: .tsv, any bytes")
    _load_table_bytes(data, ".tsv")


@given(data=jsonl_bytes)
@example(data=b'{"doc_id": "a", "src": ' + b"1" * 4301 + b"}").via("4301-digit integer")
@example(data=b"[" * 100_000).via("nesting past the recursion limit")
@example(data=b'{"doc_id": "a", "src": "\\ud800"}').via("a lone surrogate")
def test_jsonl_loads_or_is_refused(data: bytes):
    count("loader: .jsonl, any bytes")
    _load_table_bytes(data, ".jsonl")


_doc_ids = st.one_of(st.sampled_from(["a", "b", "c"]), clean_line(8))


@given(
    rows=st.lists(st.tuples(_doc_ids, clean_line(), clean_line()), min_size=1, max_size=12),
    with_ref=st.booleans(),
    columns=st.permutations(["doc_id", "src", "ref"]),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_tsv_round_trip(rows: list[tuple[str, str, str]], with_ref: bool, columns, ending: str):
    count("loader: .tsv, valid")
    if not with_ref:
        columns = [c for c in columns if c != "ref"]
    lines = ["\t".join(columns)]
    for doc_id, src, ref in rows:
        cells = {"doc_id": doc_id, "src": src, "ref": ref}
        lines.append("\t".join(cells[c] for c in columns))
    test_set = _load_table_bytes((ending.join(lines) + ending).encode(), ".tsv")
    assert test_set is not None
    _check_grouped(test_set, rows, with_ref)


def _check_grouped(test_set: TestSet, rows: list[tuple[str, str, str]], with_ref: bool) -> None:
    """Rows of one doc_id form one document, documents in order of first appearance."""
    expected: dict[str, list[tuple[str, str]]] = {}
    for doc_id, src, ref in rows:
        expected.setdefault(doc_id, []).append((src, ref))
    assert [doc.id for doc in test_set.documents] == list(expected)
    for doc in test_set.documents:
        assert doc.source.segments == tuple(src for src, _ in expected[doc.id])
        if with_ref:
            assert doc.reference is not None
            assert doc.reference.segments == tuple(ref for _, ref in expected[doc.id])
        else:
            assert doc.reference is None
        assert doc.aligned


@given(
    rows=st.lists(
        st.tuples(st.one_of(_doc_ids, st.integers(0, 3).map(str)), clean_line(), clean_line()),
        min_size=1,
        max_size=12,
    ),
    with_ref=st.booleans(),
    ascii_only=st.booleans(),
    numeric_ids=st.booleans(),
    blank_lines=st.booleans(),
)
def test_jsonl_round_trip(
    rows: list[tuple[str, str, str]],
    with_ref: bool,
    ascii_only: bool,
    numeric_ids: bool,
    blank_lines: bool,
):
    count("loader: .jsonl, valid")
    lines = []
    for seg, (doc_id, src, ref) in enumerate(rows):
        row: dict[str, object] = {"doc_id": doc_id, "src": src, "seg_id": str(seg), "note": [1]}
        if numeric_ids and doc_id.isascii() and doc_id.isdigit() and doc_id == str(int(doc_id)):
            row["doc_id"] = int(doc_id)
        if with_ref:
            row["ref"] = ref
        lines.append(json.dumps(row, ensure_ascii=ascii_only))
        if blank_lines:
            lines.append("  ")
    test_set = _load_table_bytes("\n".join(lines).encode(), ".jsonl")
    assert test_set is not None
    _check_grouped(test_set, rows, with_ref)


_file_names = st.one_of(
    st.sampled_from(
        [
            "a.txt",
            "b.txt",
            "sub/c.txt",
            "missing.txt",
            "sub",
            ".",
            "",
            "manifest.json",
            "../outside.txt",
            "sub/../a.txt",
            "a.txt\x00",
            "x" * 300,
            "sub/" + "y" * 300 + "/c.txt",
        ]
    ),
    st.text(max_size=12),
    json_values,
)
_file_spec = st.one_of(
    st.fixed_dictionaries(
        {"file": _file_names},
        optional={"lang": st.one_of(st.sampled_from(["ar", "en", "fr"]), json_values)},
    ),
    json_values,
)
_document_spec = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["a", "b", ".x", "a/b", " a", "a\x01"]), json_values)},
    optional={
        "source": _file_spec,
        "reference": _file_spec,
        "aligned": st.one_of(st.booleans(), json_values),
        "extra": json_values,
    },
)
_manifest = st.fixed_dictionaries(
    {"documents": st.one_of(st.lists(_document_spec, max_size=3), json_values)},
    optional={
        "schema_version": st.one_of(st.just(1), json_values),
        "name": json_values,
        "source_lang": st.one_of(st.just("ar"), json_values),
        "target_lang": st.one_of(st.just("en"), json_values),
    },
)
manifest_bytes = st.one_of(
    st.builds(dumps, _manifest, st.booleans()).map(str.encode),
    messy_bytes,
    json_edge_cases.map(str.encode),
    json_edge_cases.map(lambda v: ('{"schema_version": 1, "name": ' + v + "}").encode()),
)


@given(
    manifest=manifest_bytes,
    files=st.fixed_dictionaries(
        {"a.txt": messy_bytes, "b.txt": messy_bytes, "sub/c.txt": messy_bytes}
    ),
)
@example(
    manifest=b'{"source_lang": "ar", "documents": [{"id": "a", "source": {"file": "a\\u0000"}}]}',
    files={"a.txt": b"x\n", "b.txt": b"", "sub/c.txt": b""},
).via("a NUL byte in a file name")
@example(
    manifest=(
        '{"source_lang": "ar", "documents": [{"id": "a", "source": {"file": "%s"}}]}' % ("x" * 300)
    ).encode(),
    files={"a.txt": b"x\n", "b.txt": b"", "sub/c.txt": b""},
).via("a file name longer than the file system allows")
@example(manifest=b"1" * 4301, files={}).via("4301-digit integer")
@example(manifest=b'{"name": ' + b"[" * 100_000 + b"}", files={}).via("nesting too deep")
def test_manifest_folder_loads_or_is_refused(manifest: bytes, files: dict[str, bytes]):
    count("loader: manifest folder, any content")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        (folder / "sub").mkdir(parents=True)
        (Path(tmp) / "outside.txt").write_text("outside\n", encoding="utf-8")
        (folder / "manifest.json").write_bytes(manifest)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        test_set = load_or_refuse(lambda: load_test_set(str(folder)))
    if test_set is not None:
        for doc in test_set.documents:
            assert all(segment.strip() for segment in doc.source.segments)
            assert "outside" not in doc.source.segments


_file_lines = st.lists(st.one_of(clean_line(), st.sampled_from(["", "  "])), max_size=10)


@given(
    docs=st.lists(
        st.tuples(_file_lines, st.one_of(st.none(), _file_lines), st.booleans()),
        min_size=1,
        max_size=3,
    ),
    ids=st.permutations(["a", "doc-2", "نص", "x.y"]),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_manifest_folder_round_trip(docs, ids: list[str], ending: str):
    count("loader: manifest folder, valid")
    specs, files, expected = [], {}, {}
    for doc_id, (src_lines, ref_lines, aligned) in zip(ids, docs, strict=False):
        spec: dict[str, object] = {"id": doc_id, "source": {"file": f"{doc_id}.src.txt"}}
        files[f"{doc_id}.src.txt"] = ending.join(src_lines)
        src_paragraphs = [line for line in src_lines if line.strip()]
        ref_paragraphs = None
        if ref_lines is not None:
            spec["reference"] = {"file": f"{doc_id}.ref.txt", "lang": "en"}
            spec["aligned"] = aligned
            files[f"{doc_id}.ref.txt"] = ending.join(ref_lines)
            ref_paragraphs = [line for line in ref_lines if line.strip()]
        specs.append(spec)
        expected[doc_id] = (src_paragraphs, ref_paragraphs, aligned)
    refused = any(
        not src or ref == [] or (ref is not None and aligned and len(ref) != len(src))
        for src, ref, aligned in expected.values()
    )
    manifest = {"schema_version": 1, "name": "fuzz", "source_lang": "ar", "documents": specs}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8", newline="")
        test_set = load_or_refuse(lambda: load_test_set(str(folder)))
    assert (test_set is None) == refused
    if test_set is None:
        return
    assert test_set.name == "fuzz" and test_set.tgt_lang == "en"
    assert [doc.id for doc in test_set.documents] == list(expected)
    for doc in test_set.documents:
        src, ref, aligned = expected[doc.id]
        assert doc.source.segments == tuple(src) and doc.source.lang == "ar"
        if ref is None:
            assert doc.reference is None
        else:
            assert doc.reference is not None and doc.reference.segments == tuple(ref)
            assert doc.aligned == aligned


@given(data=jsonl_bytes)
@example(data=b'{"src": ' + b"1" * 4301 + b', "tgt": "x"}').via("4301-digit integer")
@example(data=b"[" * 100_000).via("nesting past the recursion limit")
def test_few_shot_examples_load_or_are_refused(data: bytes):
    count("loader: few-shot examples, any bytes")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "examples.jsonl"
        path.write_bytes(data)
        try:
            examples = read_examples(path)
        except UserInputError:
            return
    for item in examples:
        assert isinstance(item.src, str) and isinstance(item.tgt, str)
        (item.src + item.tgt).encode("utf-8")


# --- sentence splitter -----------------------------------------------------------------------

_SPLITTER_PIECES = st.sampled_from(
    [
        "Dr.",
        "U.S.",
        "e.g.",
        "د.",
        "3.14",
        "...",
        "?!",
        "؟",
        "،",
        "» ",
        "«",
        '"',
        "')",
        "\u00a0",
        "\n",
        "  ",
        "Mr. Smith",
        "www.example.com",
        "a@b.co",
        "(1)",
        "1.",
        "i.",
    ]
)
paragraph_text = st.one_of(
    st.text(max_size=150),
    st.lists(
        st.one_of(
            st.text(alphabet="ab Zc .!?؟،,:;«»“”\"'()[]…ابتثج١٢3", max_size=15), _SPLITTER_PIECES
        ),
        max_size=15,
    ).map("".join),
)


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@given(paragraph=paragraph_text, lang=st.sampled_from(["ar", "en", "fr", "zh", "xx"]))
@example(paragraph="a.?!", lang="en").via("pysbd drops the ?! after a.")
def test_sentence_splitter_keeps_every_character_in_order(paragraph: str, lang: str):
    count("splitter: split_sentences")
    spans = split_sentences(paragraph, lang)
    end = 0
    for span in spans:
        assert span.text and span.text == span.text.strip()
        assert paragraph[span.start : span.end] == span.text
        assert span.start >= end  # in order, not overlapping
        end = span.end
    # sentences cut the paragraph, they do not drop or change anything but spaces
    assert "".join(_visible(span.text) for span in spans) == _visible(paragraph)


# --- aligner ---------------------------------------------------------------------------------


def _cheapest_path_cost(n: int, m: int, cost, steps) -> float:
    """Brute force: the cheapest cost over every path of steps, enumerated one by one."""
    best = math.inf

    def walk(i: int, j: int, total: float) -> None:
        nonlocal best
        if (i, j) == (n, m):
            best = min(best, total)
            return
        for a, b in steps:
            if i + a <= n and j + b <= m:
                walk(i + a, j + b, total + cost(i, i + a, j, j + b))

    walk(0, 0, 0.0)
    return best


_extra_steps = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda s: s != (0, 0)), max_size=3
)


@given(
    n=st.integers(0, 4),
    m=st.integers(0, 4),
    table=st.lists(st.floats(0, 100), min_size=1, max_size=50),
    extra=_extra_steps,
)
def test_dp_is_optimal_monotonic_and_covers_each_unit_once(n, m, table, extra):
    count("aligner: align_sequences (DP)")
    steps = list(dict.fromkeys([(1, 0), (0, 1), *extra]))

    def cost(i0: int, i1: int, j0: int, j1: int) -> float:
        return table[hash((i0, i1, j0, j1)) % len(table)]

    links = align_sequences(n, m, cost, steps)
    assert [i for link in links for i in link.src] == list(range(n))
    assert [j for link in links for j in link.ref] == list(range(m))
    assert all((len(link.src), len(link.ref)) in steps for link in links)
    i = j = 0
    for link in links:  # each link's stored cost is its own, not the running total
        own = cost(i, i + len(link.src), j, j + len(link.ref))
        assert math.isclose(link.cost, own, rel_tol=1e-9, abs_tol=1e-9)
        i, j = i + len(link.src), j + len(link.ref)
    total = sum(link.cost for link in links)
    assert math.isclose(total, _cheapest_path_cost(n, m, cost, steps), rel_tol=1e-9, abs_tol=1e-9)


_unit_text = st.one_of(
    st.sampled_from(["", " ", "a", "412", "(Photo)", "The minister spoke today.", "قال الوزير."]),
    st.text(max_size=40),
)
# very unequal sides as often as similar ones
_unit_lists = st.one_of(
    st.tuples(st.lists(_unit_text, max_size=8), st.lists(_unit_text, max_size=8)),
    st.tuples(st.lists(_unit_text, max_size=30), st.lists(_unit_text, max_size=2)),
    st.tuples(st.lists(_unit_text, max_size=2), st.lists(_unit_text, max_size=30)),
)
_LENGTH_ALIGNER = Aligner("length")


def _check_links(links, n_src: int, n_ref: int, base: int) -> None:
    """Links in order, each unit of both sides in exactly one link, shapes the DP's steps,
    confidences in [0, 1] and 0 for an unlinked unit."""
    assert [i for link in links for i in link.src] == list(range(base, base + n_src))
    assert [j for link in links for j in link.ref] == list(range(base, base + n_ref))
    for link in links:
        assert (len(link.src), len(link.ref)) in DEFAULT_STEPS
        assert 0.0 <= link.confidence <= 1.0
        assert math.isfinite(link.cost)
        if not (link.src and link.ref):
            assert link.confidence == 0.0


@given(sides=_unit_lists)
@example(sides=(["abc"], [""])).via("a reference with no characters")
def test_length_alignment_of_units(sides):
    count("aligner: align_units (length)")
    src, ref = sides
    _check_links(_LENGTH_ALIGNER.align_units(src, ref), len(src), len(ref), base=0)


def _check_document_alignment(alignment, n_src: int, n_ref: int) -> None:
    """Every unit is linked once or set aside once, links in order, unlinked ones flagged."""
    for side, skipped, n in (
        ("src", alignment.skipped_src, n_src),
        ("ref", alignment.skipped_ref, n_ref),
    ):
        linked = [k for link in alignment.links for k in getattr(link, side)]
        assert linked == sorted(set(linked))
        assert sorted(linked + [line.index for line in skipped]) == list(range(1, n + 1))
    for link in alignment.links:
        assert (len(link.src), len(link.ref)) in DEFAULT_STEPS
        assert 0.0 <= link.confidence <= 1.0
        if not (link.src and link.ref):
            assert link.low_confidence
    assert 0.0 <= alignment.mean_confidence <= 1.0


@given(sides=_unit_lists)
@example(sides=(["Some long sentence here."], [" "])).via("a blank reference line")
def test_length_alignment_of_paragraphs(sides):
    count("aligner: align_paragraphs (length)")
    src, ref = sides
    alignment = _LENGTH_ALIGNER.align_paragraphs(src, ref)
    _check_document_alignment(alignment, len(src), len(ref))


_paragraph_lists = st.tuples(
    st.lists(st.one_of(paragraph_text, _unit_text), max_size=5),
    st.lists(st.one_of(paragraph_text, _unit_text), max_size=5),
)


@given(sides=_paragraph_lists)
def test_length_alignment_of_sentences(sides):
    count("aligner: align_sentences (length)")
    src, ref = sides
    alignment = _LENGTH_ALIGNER.align(src, ref, unit="sentence", src_lang="ar", ref_lang="en")
    _check_document_alignment(alignment, len(alignment.src_units), len(alignment.ref_units))


# --- chat reply cleanup ----------------------------------------------------------------------

_REPLY_PIECES = st.sampled_from(
    [
        *_END_MARKERS,
        "<|im_start|>",
        "Here is the translation:",
        "Sure! Here's the English translation:",
        "Translation:",
        "English:",
        "Note:",
        "(Explanation:",
        "\n",
        "\r\n",
        "\u2028",
        "\x85",
        " ",
        '"',
        "“",
        "”",
        "«",
        "»",
        "'",
        "The city was calm.",
        "المدينة",
    ]
)
replies = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_REPLY_PIECES, st.text(max_size=6)), max_size=12).map("".join),
)
sources = st.one_of(st.sampled_from(["x", '"quoted"', "«x»", " 'x'", ""]), st.text(max_size=10))


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


@given(reply=replies, source=sources)
def test_chat_reply_cleanup_only_removes(reply: str, source: str):
    count("chat: clean_output, any reply")
    out = clean_output(reply, source)
    assert isinstance(out, str)
    assert out == out.strip() and len(out.splitlines()) <= 1  # one stripped line
    assert not any(marker in out for marker in _END_MARKERS)
    assert len(out) <= len(reply)
    # it cuts and joins, never adds or reorders
    assert _is_subsequence(_visible(out), _visible(reply))


def _plain_translation(text: str) -> bool:
    """Text the cleanup has no reason to touch: one stripped line, no marker, preamble,
    note or wrapping quotes."""
    return (
        text == text.strip()
        and len(text.splitlines()) == 1
        and not any(marker in text for marker in _END_MARKERS)
        and not _PREAMBLE.match(text)
        and not _NOTE.match(text)
        and not (len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]])
    )


@given(
    translation=st.one_of(clean_line(60), st.text(max_size=60)).filter(_plain_translation),
    preamble=st.sampled_from(
        ["", "Here is the translation:\n", "Sure! Here's the English translation: ", "English: "]
    ),
    wrap=st.sampled_from([None, '"', "“", "«"]),
    ending=st.sampled_from(["", *_END_MARKERS]),
    trailer=st.sampled_from(["", "\n\nNote: I kept the name.", "\n(Explanation: literal)"]),
    junk=st.text(max_size=20),
)
def test_chat_reply_cleanup_recovers_the_translation(
    translation: str, preamble: str, wrap: str | None, ending: str, trailer: str, junk: str
):
    count("chat: clean_output, wrapped translation")
    body = translation if wrap is None else wrap + translation + _QUOTES[wrap]
    reply = preamble + body + trailer + ending + (junk if ending else "")
    assert clean_output(reply, "المدينة هادئة") == translation
    # a source in quotes keeps the quotes of its translation
    if wrap is not None and not preamble and not trailer and not ending:
        assert clean_output(reply, f"{wrap}x") == body


@given(
    replies=st.lists(replies, min_size=1, max_size=3),
    specials=st.lists(
        st.sampled_from(["<s>", "</s>", "<pad>", "<|im_start|>", "[CLS]", ""]), max_size=4
    ),
)
@example(replies=["<<s>s>"], specials=["<s>"]).via("a special token around another")
def test_prompt_builder_cleanup_leaves_no_special_token(replies: list[str], specials: list[str]):
    count("chat: PromptBuilder.clean")
    tokenizer = SimpleNamespace(all_special_tokens=specials, chat_template="x")
    builder = PromptBuilder(tokenizer, None, None)
    cleaned = builder.clean(replies, ["source"] * len(replies))
    assert len(cleaned) == len(replies)
    for text in cleaned:
        assert text == text.strip()
        assert not any(token and token in text for token in specials)
