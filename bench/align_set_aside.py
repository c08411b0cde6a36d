"""Lines of the alignment bench's corpora that the aligner sets aside as having nothing
to translate (`evalkit.align.lines`). Every line of these corpora is real text, so each one
set aside is a false fire; counted on the bench's documents and on the whole corpus laid
out one unit a line (`align_corpora.line_documents`), where short units stand alone.
Kept apart from `align.py`, which scores the links, because it reads other documents and
needs no encoder (`python bench/align.py --set-aside-only` prints it alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from align_corpora import AlignCase, CorpusSpec, line_documents

from evalkit.align import Aligner
from evalkit.align.lines import split_translatable

#: the bench's re-paragraphed documents, and the whole corpus one unit a line
LAYOUTS = ("paragraphs", "unit a line")
#: false fires kept in the JSON per corpus and layout, to read
EXAMPLES = 5


@dataclass
class SetAside:
    """How many real lines of one corpus and layout the aligner set aside, and why."""

    corpus: str
    layout: str
    lines: int = 0
    set_aside: int = 0
    #: set aside when each side is read without the other, as for a document without a
    #: reference (reference-free scoring units)
    alone: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, object]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.set_aside / self.lines if self.lines else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "corpus": self.corpus,
            "layout": self.layout,
            "lines": self.lines,
            "set_aside": self.set_aside,
            "share": round(self.share, 5),
            "set_aside_side_alone": self.alone,
            "reasons": dict(sorted(self.reasons.items())),
            "examples": self.examples,
        }


def count_set_aside(corpus: str, layout: str, cases: Sequence[AlignCase]) -> SetAside:
    """Lines of both sides set aside by the aligner's own path (`align_paragraphs`, which
    sees both sides; the length method, since which lines are set aside does not depend
    on the method), and by `split_translatable` reading each side alone."""
    aligner = Aligner("length")
    count = SetAside(corpus, layout)
    for case in cases:
        alignment = aligner.align_paragraphs(case.src, case.ref)
        for side, texts, skipped in (
            ("source", case.src, alignment.skipped_src),
            ("reference", case.ref, alignment.skipped_ref),
        ):
            count.lines += sum(bool(text.strip()) for text in texts)
            count.set_aside += len(skipped)
            count.alone += len(split_translatable(texts)[1])
            for line in skipped:
                count.reasons[line.reason] = count.reasons.get(line.reason, 0) + 1
                if len(count.examples) < EXAMPLES:
                    count.examples.append(
                        {
                            "doc": case.doc_id,
                            "side": side,
                            "line": line.index,
                            "of": len(texts),
                            "reason": line.reason,
                        }
                    )
    return count


def set_aside_counts(corpora: Sequence[tuple[CorpusSpec, list[AlignCase]]]) -> list[SetAside]:
    counts = []
    for spec, cases in corpora:
        counts.append(count_set_aside(spec.name, LAYOUTS[0], cases))
        counts.append(count_set_aside(spec.name, LAYOUTS[1], line_documents(spec)))
    return counts


def set_aside_table(counts: Sequence[SetAside]) -> list[str]:
    lines = [
        "lines set aside as having nothing to translate (every line is real text: each one is"
        " a false fire)",
        "| corpus | layout | lines | set aside | share | set aside, each side read alone |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for c in counts:
        lines.append(
            f"| {c.corpus} | {c.layout} | {c.lines} | {c.set_aside} | {c.share:.2%} | {c.alone} |"
        )
    return lines
