"""`files:PATH`: outputs made elsewhere.

PATH is either a folder with one file per document, named by document id (`000.txt` or
`000`), or one file with one line per segment of the whole test set in order (the
sacrebleu convention, for line-aligned test sets). A document file may repeat the source's
blank lines; what counts is one line per source segment.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from evalkit.corpus.model import Document, TestSet
from evalkit.corpus.segment import paragraphs
from evalkit.corpus.textfile import read_lines
from evalkit.engines.base import PrecomputedSystem
from evalkit.engines.registry import register
from evalkit.errors import UserInputError


@register("files")
class FilesSystem(PrecomputedSystem):
    summary = "outputs made elsewhere: a folder with a file per document, or one file of lines"

    def __init__(self, argument: str | None, options=None) -> None:
        if not argument:
            raise UserInputError("the files system needs a path: files:PATH")
        super().__init__(argument, options)
        self.path = Path(argument)
        if not self.path.exists():
            raise UserInputError("system output not found", self.path)

    def fingerprint(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        files = sorted(self.path.rglob("*")) if self.path.is_dir() else [self.path]
        for file in files:
            if file.is_file():
                digest.update(file.name.encode("utf-8") + b"\0" + file.read_bytes())
        return {"kind": "files", "path": str(self.path.resolve()), "sha256": digest.hexdigest()}

    def hypotheses(self, test_set: TestSet) -> dict[str, list[str]]:
        if self.path.is_dir():
            return {doc.id: self._document_file(doc) for doc in test_set.documents}
        return self._single_file(test_set)

    def _document_file(self, doc: Document) -> list[str]:
        candidates = [self.path / f"{doc.id}.txt", self.path / doc.id]
        if doc.source.path:
            candidates.append(self.path / Path(doc.source.path).name)
        for candidate in candidates:
            if candidate.is_file():
                return _fit_lines(read_lines(candidate), len(doc.source.segments), candidate)
        raise UserInputError(
            f"no output for document {doc.id!r} (looked for {candidates[0].name})", self.path
        )

    def _single_file(self, test_set: TestSet) -> dict[str, list[str]]:
        total = sum(len(doc.source.segments) for doc in test_set.documents)
        lines = _fit_lines(read_lines(self.path), total, self.path)
        result: dict[str, list[str]] = {}
        start = 0
        for doc in test_set.documents:
            end = start + len(doc.source.segments)
            result[doc.id] = lines[start:end]
            start = end
        return result


def _fit_lines(lines: list[str], expected: int, path: Path) -> list[str]:
    """Accept exactly one line per segment, or the same once blank lines are dropped."""
    if len(lines) == expected:
        return lines
    non_blank = paragraphs(lines)
    if len(non_blank) == expected:
        return non_blank
    raise UserInputError(
        f"line-count mismatch: expected {expected} lines (one per source segment), "
        f"found {len(lines)}",
        path,
    )
