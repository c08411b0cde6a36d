"""`repetition`: degenerate loops, the typical failure of a model that does not stop.

A loop is a tandem repeat: the same n-gram (n from 1 to 50 tokens) three or more times
in a row (four or more for single tokens, so that "very, very" or "no, no, no" is not a
loop). Tokens are whitespace-separated words compared case-folded and without
surrounding punctuation; text without spaces (Chinese, Japanese) is compared character by
character. The segment score is the share of tokens inside loops: 0 for ordinary text,
near 1 for "the the the the ...".
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.metrics.base import MeanMetric, Stats

MAX_PERIOD = 50
MIN_COPIES = 3
MIN_COPIES_SINGLE = 4


def tokens(text: str) -> list[str]:
    words = text.split()
    if len(words) <= 1 and len(text.strip()) > 20:  # no spaces: compare characters
        return [char for char in text if not char.isspace()]
    stripped = [word.strip(".,;:!?\"'()[]«»“”‘’،؛؟").casefold() for word in words]
    return [word for word in stripped if word]


def loop_share(text: str) -> float:
    """The share of tokens that are part of a tandem repeat."""
    toks = tokens(text)
    covered = [False] * len(toks)
    for period in range(1, min(MAX_PERIOD, len(toks) // MIN_COPIES) + 1):
        copies = MIN_COPIES_SINGLE if period == 1 else MIN_COPIES
        need = (copies - 1) * period  # positions i with toks[i] == toks[i + period]
        run_start, run = 0, 0
        for i in range(len(toks) - period + 1):
            if i < len(toks) - period and toks[i] == toks[i + period]:
                if run == 0:
                    run_start = i
                run += 1
                continue
            if run >= need:
                for j in range(run_start, run_start + run + period):
                    covered[j] = True
            run = 0
    return sum(covered) / len(toks) if toks else 0.0


class Repetition(MeanMetric):
    """Share of the hypothesis inside degenerate loops; the corpus score is the mean share."""

    name = "repetition"
    needs_reference = False
    higher_is_better = False

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        return [[loop_share(hyp)] for hyp in hypotheses]

    def signature(self) -> str:
        return (
            f"repetition|tandem repeats of 1-{MAX_PERIOD} tokens, ≥{MIN_COPIES} copies"
            f" (≥{MIN_COPIES_SINGLE} for one token)|score:share of tokens|corpus:mean"
        )
