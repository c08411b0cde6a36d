"""sacrebleu-style plain parallel files: one segment per line, line i of each file aligned.

Several reference files (`--ref A --ref B`) are several references of the same segments,
as in `sacrebleu A B -i H`. A further reference may leave a line blank where its
translator gave none: the number of references then varies by segment, as sacrebleu
allows. A line with source text needs text in at least one reference, and a blank source
line needs blank references: anything else means a line was lost or added somewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evalkit.corpus.model import Document, Side, TestSet
from evalkit.corpus.textfile import blank_facing_text, read_lines
from evalkit.errors import UserInputError


def load_parallel(
    src: Path | None,
    ref: Path | Sequence[Path] | None,
    src_lang: str,
    tgt_lang: str,
) -> TestSet:
    """One document whose segments are the files' lines (blank lines included, as in
    sacrebleu, but a blank line must face a blank line).

    Either side may be missing but not both: `score` needs only references, `run` on
    monolingual input needs only the source.
    """
    refs = [ref] if isinstance(ref, Path) else list(ref or [])
    if src is None and not refs:
        raise UserInputError("give --src, --ref or both")
    src_lines = _non_empty_file(src) if src else None
    ref_lines = [_non_empty_file(path) for path in refs]
    _check_line_counts(src, src_lines, refs, ref_lines)
    if src is not None and src_lines is not None and ref_lines:
        _check_blank_pairs(src, src_lines, refs, ref_lines)
    if src_lines is None:
        # Scoring without a source: keep the segment count, leave the source text empty.
        src_lines = [""] * len(ref_lines[0])
    main = src or refs[0]
    sides = [
        Side(lang=tgt_lang, segments=tuple(lines), path=str(path))
        for path, lines in zip(refs, ref_lines, strict=True)
    ]
    document = Document(
        id=main.stem,
        source=Side(lang=src_lang, segments=tuple(src_lines), path=str(src) if src else None),
        reference=sides[0] if sides else None,
        aligned=True,
        more_references=tuple(sides[1:]),
    )
    return TestSet(name=main.stem, origin=str(main), tgt_lang=tgt_lang, documents=(document,))


def _non_empty_file(path: Path) -> list[str]:
    lines = read_lines(path)
    if not lines:
        raise UserInputError("empty file", path)
    return lines


def _check_line_counts(
    src: Path | None,
    src_lines: list[str] | None,
    refs: Sequence[Path],
    ref_lines: Sequence[list[str]],
) -> None:
    named = ([(src, src_lines)] if src is not None and src_lines is not None else []) + list(
        zip(refs, ref_lines, strict=True)
    )
    first_path, first = named[0]
    for path, lines in named[1:]:
        if len(lines) != len(first):
            raise UserInputError(
                f"line-count mismatch: {len(first)} lines in {first_path}, {len(lines)} in {path}",
                path,
            )


def _check_blank_pairs(
    src: Path, src_lines: list[str], refs: Sequence[Path], ref_lines: Sequence[list[str]]
) -> None:
    for number, src_line in enumerate(src_lines, start=1):
        texts = [lines[number - 1].strip() for lines in ref_lines]
        if src_line.strip() and not any(texts):
            raise UserInputError(blank_facing_text("reference"), refs[0], number)
        if not src_line.strip() and any(texts):
            raise UserInputError(blank_facing_text("source"), src, number)
