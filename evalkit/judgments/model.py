"""A human judgment of one system's translation of one segment, and the score it implies.

Protocols (see the README's "Human judgments" section):
  esa  error spans marked minor or major, then a 0-100 score (Kocmi et al. 2024)
  mqm  error spans with a severity and a category; the score is minus the weighted error
       count (Freitag et al. 2021: major 5, minor 1, minor fluency/punctuation 0.1,
       non-translation 25), so higher is better as for every other score here
  da   a 0-100 score, no spans
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Protocol = Literal["esa", "mqm", "da"]
PROTOCOLS: tuple[str, ...] = ("esa", "mqm", "da")
Severity = Literal["minor", "major"]

#: MQM's error categories and their standard subcategories (MQM core as used at WMT)
MQM_CATEGORIES: dict[str, tuple[str, ...]] = {
    "accuracy": ("mistranslation", "omission", "addition", "untranslated"),
    "fluency": (
        "grammar",
        "spelling",
        "punctuation",
        "register",
        "inconsistency",
        "character encoding",
    ),
    "terminology": ("inappropriate for context", "inconsistent use"),
    "style": ("awkward",),
    "locale": ("currency format", "date format", "name format", "time format", "address format"),
    "other": (),
    "non-translation": (),
}

MQM_MAJOR = 5.0
MQM_MINOR = 1.0
MQM_MINOR_PUNCTUATION = 0.1
MQM_NON_TRANSLATION = 25.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    """An error marked in the translation: character offsets [start, end)."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    severity: Severity
    #: MQM only: "category" or "category/subcategory", e.g. "fluency/punctuation"
    category: str | None = None


class Judgment(_Model):
    """One annotator's judgment of one system's translation of one segment of a run."""

    run_id: str
    #: the row's stable id (evalkit.record.segment_id)
    segment_id: str
    #: the system's label in the run
    system: str
    annotator: str
    protocol: Protocol
    #: ESA and DA: the 0-100 score given; MQM: None (the score comes from the spans), or
    #: a published MQM total imported without its spans (mt-metrics-eval's score files)
    score: float | None = None
    spans: list[Span] = []
    #: the translation that was judged (for an attention check, the bad one shown)
    target: str = ""
    #: an attention check: a translation known to be bad was shown in place of the real one
    attention_check: bool = False
    #: the annotator submitted it (moved on); saved work in progress is not yet a score
    complete: bool = False
    #: "browser", or where an import came from
    origin: str = "browser"
    updated: str = ""


def mqm_weight(span: Span) -> float:
    """The penalty of one MQM error under the usual WMT weights."""
    category = (span.category or "").lower()
    if category.startswith("non-translation"):
        return MQM_NON_TRANSLATION
    if span.severity == "major":
        return MQM_MAJOR
    if category == "fluency/punctuation":
        return MQM_MINOR_PUNCTUATION
    return MQM_MINOR


def mqm_score(spans: list[Span]) -> float:
    """Minus the weighted error count: 0 for a perfect translation, lower is worse."""
    return -sum(mqm_weight(span) for span in spans)


def human_score(judgment: Judgment) -> float | None:
    """The number a judgment gives its translation (higher is better), or None when the
    judgment is not finished (not submitted, or an ESA or DA item without its score)."""
    if not judgment.complete:
        return None
    if judgment.protocol == "mqm":
        # an MQM total imported without spans keeps its score; spans, when given, decide
        if judgment.score is not None and not judgment.spans:
            return judgment.score
        return mqm_score(judgment.spans)
    return judgment.score
