"""What a run's `--align` takes, and the aligner it names.

    embedding            sentence embeddings plus lengths (the default)
    length               lengths only (Gale–Church, no model)
    translation[:LABEL]  a system's translation of the source (the pivot) aligned with the
                         reference by character n-grams; LABEL names the system, by default
                         the run's first system that translates with a model
    none                 documents whose reference does not follow them are scored whole

One pivot serves every system, so every system is scored on the same units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from evalkit.align.document import Aligner
from evalkit.align.translation import TranslationAligner, pivot_table
from evalkit.embeddings import DEFAULT_ENCODER
from evalkit.errors import UserInputError

#: `--align` takes a str: "translation" may carry the label of the pivot system
AlignMethod = str
METHODS = ("embedding", "length", "translation", "none")
TRANSLATION = "translation"
#: system kinds that hand over stored text instead of translating: no default pivot
NOT_A_MODEL = ("copy", "files", "data", "reference")


def parse_method(value: str) -> tuple[str, str | None]:
    """(method, pivot label or None); a clear error for anything else."""
    method, _, label = value.partition(":")
    if method not in METHODS or (label and method != TRANSLATION):
        raise UserInputError(
            f"--align {value!r}: expected one of embedding, length, translation, "
            "translation:LABEL (LABEL a system of the run) or none"
        )
    return method, label or None


def default_pivot(systems: Sequence[tuple[str, str]]) -> str:
    """The label of the first system, given as (label, kind), that translates with a
    model: the pivot of `--align translation` without a label."""
    for label, kind in systems:
        if kind not in NOT_A_MODEL:
            return label
    raise UserInputError(
        "--align translation needs a system that translates with a model to be the pivot, "
        "or names one: --align translation:LABEL"
    )


class PivotAligner(TranslationAligner):
    """A translation aligner whose pivot is a system of the run: the pipeline hands it
    that system's hypotheses (`use_pivot`) after translation, before alignment."""

    def __init__(self, label: str) -> None:
        super().__init__({}, label)
        self.pivot_label = label

    def use_pivot(
        self, hypotheses: Mapping[str, Sequence[str]], sources: Mapping[str, Sequence[str]]
    ) -> None:
        """`hypotheses[doc_id]`: the pivot's line per source line of that document."""
        self.pivot = pivot_table(hypotheses, sources)


def aligner_for(
    method: AlignMethod,
    encoder: str = DEFAULT_ENCODER,
    systems: Sequence[tuple[str, str]] = (),
) -> Aligner | PivotAligner | None:
    """The aligner a run's `--align` names; None for "none". `systems`, as (label, kind),
    are the run's, for the pivot of `translation`."""
    name, label = parse_method(method)
    if name == "none":
        return None
    if name == TRANSLATION:
        label = label or default_pivot(systems)
        if systems and label not in [known for known, _ in systems]:
            raise UserInputError(
                f"--align translation:{label}: no system of the run is labelled {label} "
                f"(systems: {', '.join(known for known, _ in systems)})"
            )
        return PivotAligner(label)
    return Aligner(name, encoder)  # type: ignore[arg-type]
