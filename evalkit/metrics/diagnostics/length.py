"""`length_outlier`: hypotheses far longer or shorter than their source should be.

The expected hypothesis/source length ratio depends on the language pair and the
writing systems (Arabic into English runs about 1.2 characters per character, Chinese into
English three or more), so no fixed band fits every test set. The band is estimated from
the system's own segments instead, robustly:

- the ratio of a segment is (hypothesis characters + 10) / (source characters + 10),
  whitespace not counted; the +10 keeps very short segments from swinging wildly;
- the centre is the median log ratio over the system's non-empty hypotheses, and the
  half-width is three robust standard deviations (1.4826 × the median absolute
  deviation), clipped to between a factor of 2 and a factor of 3 either side: a factor of
  2 is well outside normal variation of a sentence translation, and the cap keeps a
  system whose outputs are mostly broken from widening the band until nothing is flagged;
- an empty hypothesis for a non-empty source is always an outlier.

The centre comes from the system itself, so a system that halves every output is not
flagged here (its reference-based scores show it); what is flagged is the segment that
behaves unlike the system's other segments: a truncation, a runaway generation, a
repeated paragraph.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from evalkit.metrics.base import MeanMetric, Stats

SMOOTHING = 10
MIN_FACTOR = 2.0
MAX_FACTOR = 3.0
MAD_TO_SD = 1.4826
WIDTH_IN_SD = 3.0


def _length(text: str) -> int:
    return sum(not char.isspace() for char in text)


def length_band(log_ratios: Sequence[float]) -> tuple[float, float]:
    """(centre, half-width) in log space of the accepted hypothesis/source length ratios."""
    if not log_ratios:
        return 0.0, math.log(MIN_FACTOR)
    centre = statistics.median(log_ratios)
    mad = statistics.median(abs(r - centre) for r in log_ratios)
    half = min(max(WIDTH_IN_SD * MAD_TO_SD * mad, math.log(MIN_FACTOR)), math.log(MAX_FACTOR))
    return centre, half


class LengthOutlier(MeanMetric):
    """1 for a segment whose length ratio lies outside the band, else 0; stats keep the ratio."""

    name = "length_outlier"
    needs_reference = False
    needs_source = True
    higher_is_better = False
    per_segment = False  # the band comes from every segment's ratio

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        lengths = [
            (_length(hyp), _length(src)) for hyp, src in zip(hypotheses, sources, strict=True)
        ]
        log_ratios = [math.log((h + SMOOTHING) / (s + SMOOTHING)) for h, s in lengths]
        centre, half = length_band(
            [r for r, (h, _) in zip(log_ratios, lengths, strict=True) if h > 0]
        )
        stats = []
        for log_ratio, (hyp_len, src_len) in zip(log_ratios, lengths, strict=True):
            empty = hyp_len == 0 and src_len > 0
            outside = abs(log_ratio - centre) > half
            stats.append([float(empty or outside), math.exp(log_ratio)])
        return stats

    def signature(self) -> str:
        return (
            f"length_outlier|ratio:(hyp+{SMOOTHING})/(src+{SMOOTHING}) non-space chars"
            f"|band:median±clip({WIDTH_IN_SD:g}×1.4826×MAD,×{MIN_FACTOR:g},×{MAX_FACTOR:g})"
            "|empty:outlier|corpus:rate"
        )
