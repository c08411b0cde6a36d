"""mt-metrics-eval test-set folders (google-research/mt-metrics-eval, `data.py`), such as
`mt-metrics-eval-v2/wmt23/`, read as its `EvalSet` reads them:

    sources/LP.txt                 the source, one segment per line (LP: `en-de`)
    references/LP.REF.txt          each reference (`refA`, `refB`), line-aligned with it
    system-outputs/LP/SYSTEM.txt   each system's output, line-aligned
    documents/LP.docs              one line per segment: `DOMAIN DOCID`
    human-scores/LP.NAME.LEVEL.score   human scores (see evalkit.judgments.mtme_scores)

`--data FOLDER` reads the pair after `#` (`wmt23#en-de`), else the folder's only pair,
else the one --src-lang/--tgt-lang name. Consecutive lines of one DOCID are one
line-aligned document, its DOMAIN in `Document.meta`; without `documents/LP.docs` the
whole pair is one document named LP. References come in name order (`refA` first); a
system output named like a reference (a human translation, mt-metrics-eval's "human
system") is left out, since it would be scored against itself. Lines are read as
mt-metrics-eval reads them: trailing whitespace removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evalkit.corpus.formats.common import (
    bcp47,
    check_doc_id,
    check_system_name,
    choose_pair,
    split_pair,
)
from evalkit.corpus.model import Document, Side, SystemOutputs, TestSet
from evalkit.corpus.textfile import read_lines
from evalkit.errors import UserInputError


@dataclass(frozen=True)
class Place:
    """Where a line of the pair's files lies: its document and 1-based line in it."""

    doc_id: str
    position: int
    domain: str | None


def is_mtme_folder(folder: Path) -> bool:
    return (folder / "sources").is_dir() and (
        (folder / "references").is_dir() or (folder / "documents").is_dir()
    )


def language_pairs(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "sources").glob("*.txt"))


def load_mtme(folder: Path, selector: str | None, src_lang: str, tgt_lang: str) -> TestSet:
    pair = choose_pair(language_pairs(folder), selector, src_lang, tgt_lang, folder)
    codes = split_pair(pair)
    sources_file = folder / "sources" / f"{pair}.txt"
    src_code = bcp47(codes[0], "the pair's source language", sources_file)
    tgt_code = bcp47(codes[1], "the pair's target language", sources_file)
    source = pair_lines(sources_file)
    if not source:
        raise UserInputError("empty file: the pair has no segment", sources_file)
    places = segment_places(folder, pair, len(source))
    references = _named_files(folder / "references", f"{pair}.", len(source), reference=True)
    systems = {
        name: lines
        for name, lines in _named_files(
            folder / "system-outputs" / pair, "", len(source), reference=False
        ).items()
        if name not in references
    }
    spans = _document_spans(places)
    documents = [
        Document(
            id=doc_id,
            source=Side(src_code, tuple(source[start:end]), str(sources_file)),
            reference=_side(references, 0, start, end, tgt_code, folder, pair),
            aligned=True,
            more_references=tuple(
                _side(references, i, start, end, tgt_code, folder, pair)
                for i in range(1, len(references))
            ),
            meta=(("domain", places[start].domain),) if places[start].domain else (),
        )
        for doc_id, (start, end) in spans.items()
    ]
    outputs = tuple(
        SystemOutputs(
            name=name,
            documents=tuple((doc_id, tuple(lines[s:e])) for doc_id, (s, e) in spans.items()),
        )
        for name, lines in systems.items()
    )
    return TestSet(
        name=f"{folder.name}.{pair}",
        origin=str(folder),
        tgt_lang=tgt_code,
        documents=tuple(documents),
        outputs=outputs,
        reference_names=tuple(references),
    )


def pair_lines(path: Path) -> list[str]:
    """A file's lines as mt-metrics-eval reads them (trailing whitespace removed), refused
    when not UTF-8 or holding control characters."""
    return [line.rstrip() for line in read_lines(path)]


def segment_places(folder: Path, pair: str, count: int) -> list[Place]:
    """The document and position of each of the pair's `count` lines, from
    `documents/PAIR.docs`; one document named after the pair when there is no such file.
    A document's lines must be consecutive, as mt-metrics-eval requires."""
    path = folder / "documents" / f"{pair}.docs"
    if not path.is_file():
        return [Place(pair, i, None) for i in range(1, count + 1)]
    lines = read_lines(path)
    if len(lines) != count:
        raise UserInputError(
            f"{len(lines)} lines, but the source has {count} (one line per segment)", path
        )
    places: list[Place] = []
    finished: set[str] = set()
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if len(fields) < 2:
            raise UserInputError("expected 'DOMAIN DOCID'", path, number)
        domain, doc_id = fields[0], check_doc_id(fields[1], path, number)
        previous = places[-1] if places else None
        if previous is not None and previous.doc_id != doc_id:
            finished.add(previous.doc_id)
        if doc_id in finished:
            raise UserInputError(
                f"document {doc_id!r} continues after other documents: its lines must be "
                "consecutive",
                path,
                number,
            )
        same = previous is not None and previous.doc_id == doc_id
        places.append(Place(doc_id, previous.position + 1 if same and previous else 1, domain))
    return places


def _document_spans(places: list[Place]) -> dict[str, tuple[int, int]]:
    """doc id -> [start, end) line range, in file order."""
    spans: dict[str, tuple[int, int]] = {}
    for index, place in enumerate(places):
        start, _ = spans.get(place.doc_id, (index, index))
        spans[place.doc_id] = (start, index + 1)
    return spans


def _named_files(folder: Path, prefix: str, count: int, reference: bool) -> dict[str, list[str]]:
    """NAME -> lines of `folder/PREFIXNAME.txt`, in name order; each must have `count` lines."""
    if not folder.is_dir():
        return {}
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob(f"{prefix}*.txt")):
        # as mt-metrics-eval: the reference name is the part before `.txt`
        name = path.name.split(".")[-2] if reference else path.name[: -len(".txt")]
        if reference and ("-" in name or name in ("all", "src")):
            raise UserInputError(f"{name!r} cannot name a reference (mt-metrics-eval's rule)", path)
        if not reference:
            check_system_name(name, path, None)
        lines = pair_lines(path)
        if len(lines) != count:
            raise UserInputError(
                f"{len(lines)} lines, but the source has {count} (line-aligned files)", path
            )
        found[name] = lines
    return found


def _side(
    references: dict[str, list[str]],
    index: int,
    start: int,
    end: int,
    lang: str,
    folder: Path,
    pair: str,
) -> Side | None:
    if index >= len(references):
        return None
    name = list(references)[index]
    return Side(
        lang, tuple(references[name][start:end]), str(folder / "references" / f"{pair}.{name}.txt")
    )
