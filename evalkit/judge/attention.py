"""How each annotator did on the attention checks: items that showed a translation of a
different segment, which an attentive annotator must judge badly.

The rule, per submitted attention check of an annotator (same run and protocol):
  * when the same annotator has submitted the real item (same segment and system), the
    check passes if its score is lower than the real item's score (ESA and DA: the 0-100
    score; MQM: the MQM score, minus the weighted error count); equal scores fail;
  * otherwise it passes if the check alone is judged bad: ESA or DA score at most 50,
    MQM at least one major (or non-translation) error.
Checks not yet submitted are counted as pending, never as passed or failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from evalkit.judgments.model import Judgment, human_score

#: ESA/DA: a check judged alone passes at or below this score
BAD_SCORE = 50.0


@dataclass
class AttentionSummary:
    """One annotator's attention checks under one protocol."""

    annotator: str
    protocol: str
    passed: int = 0
    failed: int = 0
    #: attention checks saved but not submitted yet
    pending: int = 0
    #: of passed + failed, how many were decided against the real item (the rest alone)
    compared: int = 0
    #: segment ids of the failed checks, to look at them again
    failed_segments: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return self.passed + self.failed

    def as_dict(self) -> dict:
        return {**asdict(self), "judged": self.judged}

    def line(self) -> str:
        text = (
            f"{self.annotator} ({self.protocol}): passed {self.passed} of {self.judged} "
            f"attention check{'' if self.judged == 1 else 's'}"
        )
        if self.pending:
            text += f", {self.pending} not submitted"
        return text


def judged_alone_bad(check: Judgment) -> bool:
    """The fallback rule, when the real item is not judged yet."""
    if check.protocol == "mqm":
        return any(
            span.severity == "major" or (span.category or "").startswith("non-translation")
            for span in check.spans
        )
    return check.score is not None and check.score <= BAD_SCORE


def check_passed(check: Judgment, real: Judgment | None) -> tuple[bool, bool]:
    """(passed, decided against the real item) for one submitted attention check."""
    check_score = human_score(check)
    real_score = human_score(real) if real is not None else None
    if check_score is not None and real_score is not None:
        return check_score < real_score, True
    return judged_alone_bad(check), False


def attention_summaries(judgments: Iterable[Judgment]) -> list[AttentionSummary]:
    """Per (annotator, protocol) with at least one attention check, in name order."""
    judgments = list(judgments)
    real = {
        (j.run_id, j.segment_id, j.system, j.annotator, j.protocol): j
        for j in judgments
        if not j.attention_check
    }
    summaries: dict[tuple[str, str], AttentionSummary] = {}
    for check in (j for j in judgments if j.attention_check):
        key = (check.annotator, check.protocol)
        summary = summaries.setdefault(key, AttentionSummary(*key))
        if not check.complete:
            summary.pending += 1
            continue
        partner = real.get(
            (check.run_id, check.segment_id, check.system, check.annotator, check.protocol)
        )
        passed, compared = check_passed(check, partner)
        summary.compared += compared
        if passed:
            summary.passed += 1
        else:
            summary.failed += 1
            summary.failed_segments.append(check.segment_id)
    return [summaries[key] for key in sorted(summaries)]
