"""sacrebleu-style plain parallel files: one segment per line, line i of each file aligned."""

from __future__ import annotations

from pathlib import Path

from evalkit.corpus.model import Document, Side, TestSet
from evalkit.corpus.textfile import blank_facing_text, read_lines
from evalkit.errors import UserInputError


def load_parallel(src: Path | None, ref: Path | None, src_lang: str, tgt_lang: str) -> TestSet:
    """One document whose segments are the files' lines (blank lines included, as in
    sacrebleu, but a blank line must face a blank line).

    Either file may be missing but not both: `score` needs only references, `run` on
    monolingual input needs only the source.
    """
    if src is None and ref is None:
        raise UserInputError("give --src, --ref or both")
    src_lines = _non_empty_file(src) if src else None
    ref_lines = _non_empty_file(ref) if ref else None
    if src_lines is not None and ref_lines is not None and len(src_lines) != len(ref_lines):
        raise UserInputError(
            f"line-count mismatch: {len(src_lines)} lines in {src}, {len(ref_lines)} in {ref}",
            ref,
        )
    if src and ref and src_lines is not None and ref_lines is not None:
        _check_blank_pairs(src, src_lines, ref, ref_lines)
    if src_lines is None:
        # Scoring without a source: keep the segment count, leave the source text empty.
        src_lines = [""] * len(ref_lines or [])
    main = src or ref
    assert main is not None
    document = Document(
        id=main.stem,
        source=Side(lang=src_lang, segments=tuple(src_lines), path=str(src) if src else None),
        reference=Side(lang=tgt_lang, segments=tuple(ref_lines), path=str(ref))
        if ref_lines is not None
        else None,
        aligned=True,
    )
    return TestSet(name=main.stem, origin=str(main), tgt_lang=tgt_lang, documents=(document,))


def _non_empty_file(path: Path) -> list[str]:
    lines = read_lines(path)
    if not lines:
        raise UserInputError("empty file", path)
    return lines


def _check_blank_pairs(src: Path, src_lines: list[str], ref: Path, ref_lines: list[str]) -> None:
    for line_no, (src_line, ref_line) in enumerate(zip(src_lines, ref_lines, strict=True), 1):
        if bool(src_line.strip()) != bool(ref_line.strip()):
            blank_is_source = not src_line.strip()
            raise UserInputError(
                blank_facing_text("source" if blank_is_source else "reference"),
                src if blank_is_source else ref,
                line_no,
            )
