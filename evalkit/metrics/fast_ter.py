"""sacrebleu's TER edit count, compiled: the same numbers, many times faster on long units.

sacrebleu computes TER (`sacrebleu.metrics.lib_ter`) in pure Python: a greedy search for
block shifts, each candidate scored by a beam-limited edit distance (a band of 25 cells
either side of the length-scaled diagonal, the whole last row), at most 1,000 candidates
per segment. On a paragraph or a whole document that is seconds per unit. This module
runs the same algorithm, step for step, compiled with numba (`_ter_kernel`) over integer
word ids:

* the same candidate pairs in the same order (`_find_shifted_pairs`: hypothesis start,
  then reference start, then length; start distance at most 50, length at most 10);
* the same filters (the moved words are not all correct, the target words are not all
  correct, the target is not inside the block), the same insertion points taken from the
  alignment of the current best path, with the same tie-breaking of edit operations
  (substitution or match, then deletion, then insertion) and of candidates (larger
  gain, then longer block, then earlier start, then earlier target);
* the same budget: the candidate count runs over the whole segment, a search that
  reaches 1,000 stops there and its shift is not applied;
* the same beam, including its widening when the lengths differ a lot, and the same
  cell values outside it (1e16, "unreachable"), so a path that sacrebleu cannot take
  this module cannot take either.

sacrebleu caches edit-distance rows by hypothesis prefix; the values do not depend on
the cache, only the time does. Here a candidate starts from the rows of the current
hypothesis up to the first word the shift changes, and keeps only two rows, as it needs
the cost and not the path.

Tokenisation stays sacrebleu's (`TercomTokenizer`, through `TER._preprocess_segment`),
and so do the signature, the corpus aggregation and the score formula: `FastTER` is
sacrebleu's `TER` with only the per-segment edit count replaced. Without numba the
module falls back to sacrebleu's own function (same numbers, sacrebleu's speed).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from sacrebleu.metrics import TER, lib_ter

# sacrebleu's beam, read from sacrebleu (as are the kernel's limits) so that a change there
# is not silently missed
BEAM_WIDTH = lib_ter._BEAM_WIDTH

#: what the kernel returns when the best path runs into an unreachable cell, where
#: sacrebleu raises: the segment then goes to sacrebleu, to fail in its own words
_NO_PATH = -1


def _beam(n_hyp: int, n_ref: int) -> tuple[float, int]:
    """The length ratio and beam width of `BeamEditDistance._edit_distance`."""
    ratio = n_ref / n_hyp if n_hyp else 1.0
    width = math.ceil(ratio / 2 + BEAM_WIDTH) if ratio / 2 > BEAM_WIDTH else BEAM_WIDTH
    return ratio, width


def _bands(n_hyp: int, n_ref: int, ratio: float, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Row i of the edit-distance matrix is computed for columns lo[i] <= j < hi[i]."""
    lo = np.zeros(n_hyp + 1, dtype=np.int64)
    hi = np.zeros(n_hyp + 1, dtype=np.int64)
    for i in range(1, n_hyp + 1):
        diagonal = math.floor(i * ratio)
        lo[i] = max(0, diagonal - width)
        hi[i] = n_ref + 1 if i == n_hyp else min(n_ref + 1, diagonal + width)
    return lo, hi


@functools.cache
def _kernel():
    """The compiled search (`_ter_kernel.edits`), or None where numba cannot be imported."""
    try:
        from evalkit.metrics import _ter_kernel
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return _ter_kernel.edits


def translation_edit_rate(words_hyp: Sequence[str], words_ref: Sequence[str]) -> tuple[int, int]:
    """`sacrebleu.metrics.lib_ter.translation_edit_rate`: (number of edits, reference length)."""
    n_hyp, n_ref = len(words_hyp), len(words_ref)
    if n_ref == 0:
        return n_hyp, 0
    kernel = _kernel()
    if kernel is None:
        return lib_ter.translation_edit_rate(list(words_hyp), list(words_ref))
    ids: dict[str, int] = {}
    ref = np.array([ids.setdefault(w, len(ids)) for w in words_ref], dtype=np.int64)
    hyp = np.array([ids.setdefault(w, len(ids)) for w in words_hyp], dtype=np.int64)
    lo, hi = _bands(n_hyp, n_ref, *_beam(n_hyp, n_ref))
    edits = int(kernel(hyp, ref, lo, hi))
    if edits == _NO_PATH:  # sacrebleu raises here; let it say so in its own words
        return lib_ter.translation_edit_rate(list(words_hyp), list(words_ref))
    return edits, n_ref


class FastTER(TER):
    """sacrebleu's `TER` (same options, signature, aggregation and scores) with the
    per-segment edit count computed by `translation_edit_rate` above."""

    def _compute_segment_statistics(self, hypothesis: str, ref_kwargs: dict) -> list[float]:
        # `TER._compute_segment_statistics`, line for line, with the compiled edit count
        ref_lengths = 0
        best_num_edits = int(1e16)
        words_hyp = hypothesis.split()
        ref_words = ref_kwargs["ref_words"]
        for words_ref in ref_words:
            num_edits, ref_len = translation_edit_rate(words_hyp, words_ref)
            ref_lengths += ref_len
            if num_edits < best_num_edits:
                best_num_edits = num_edits
        avg_ref_len = ref_lengths / len(ref_words)
        return [best_num_edits, avg_ref_len]
