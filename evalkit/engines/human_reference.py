"""One reference scored as a system against the others (`--ref-as-system`, WMT practice).

With two or more human references, scoring one of them as if it were a system output
shows where machine translation stands against a human translator. The reference taken
out is removed from the references of every segment, so every system, the human one
included, is scored against the same remaining references: a comparison in which one
system is scored against itself would not be fair.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from evalkit.corpus.model import TestSet
from evalkit.engines.base import PrecomputedSystem
from evalkit.engines.registry import NamedSystem
from evalkit.errors import UserInputError


class HumanReference(PrecomputedSystem):
    """A reference translation, scored as a system (`--ref-as-system`)."""

    kind = "reference"
    summary = "a human reference, scored as a system against the other references"

    def __init__(self, lines: dict[str, list[str]], number: int) -> None:
        super().__init__(f"ref{number}")
        self.lines = lines
        self.number = number

    def fingerprint(self) -> dict[str, Any]:
        blob = json.dumps(self.lines, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return {
            "kind": self.kind,
            "reference": self.number,
            "sha256": hashlib.sha256(blob).hexdigest(),
        }

    def hypotheses(self, test_set: TestSet) -> dict[str, list[str]]:
        return {doc.id: self.lines[doc.id] for doc in test_set.documents}


def reference_as_system(test_set: TestSet) -> tuple[TestSet, NamedSystem]:
    """The test set without its last reference, and that reference as a system.

    Every document needs at least two references, given line by line (a reference that
    does not follow the source line by line has no output for each source line), and
    the reference taken out needs text wherever the source has some."""
    count = {len(doc.references) for doc in test_set.documents}
    if min(count, default=0) < 2:
        raise UserInputError(
            "--ref-as-system needs at least two references in every document "
            f"(found {min(count, default=0)})"
        )
    if len(count) > 1:
        raise UserInputError(
            "--ref-as-system needs the same number of references in every document "
            f"(found {', '.join(str(n) for n in sorted(count))})"
        )
    number = count.pop()
    lines: dict[str, list[str]] = {}
    documents = []
    for doc in test_set.documents:
        taken = doc.more_references[-1]
        if not doc.aligned:
            raise UserInputError(
                f"--ref-as-system: document {doc.id!r} is not line-aligned with its "
                "references, so a reference has no output for each source line"
            )
        for line, (src, text) in enumerate(
            zip(doc.source.segments, taken.segments, strict=True), start=1
        ):
            if src.strip() and not text.strip():
                raise UserInputError(
                    f"--ref-as-system: reference {number} has no text for line {line} "
                    f"of document {doc.id!r}",
                    taken.path,
                )
        lines[doc.id] = list(taken.segments)
        documents.append(replace(doc, more_references=doc.more_references[:-1]))
    system = HumanReference(lines, number)
    label = f"ref{number}"
    named = NamedSystem(label=label, spec=f"{label}=reference:{number}", system=system)
    return replace(test_set, documents=tuple(documents)), named
