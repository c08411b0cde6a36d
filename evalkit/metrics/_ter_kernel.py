"""The compiled part of `evalkit.metrics.fast_ter`: sacrebleu's TER search over word ids.

Imported only when TER is computed (importing numba takes a moment). `cache=True` keeps
the machine code beside this file (or in numba's cache folder), so the compile happens
once per machine and Python version, not once per run. The constants are sacrebleu's
(`sacrebleu.metrics.lib_ter`); numba reads them as compile-time constants.

Operations in the matrix: 0 match, 1 substitution, 2 deletion (a hypothesis word that
is not in the reference), 3 insertion (a reference word missing from the hypothesis),
4 unreachable (outside the beam), as sacrebleu's ' ', 's', 'd', 'i', 'x'.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from sacrebleu.metrics import lib_ter

MAX_SHIFT_SIZE = lib_ter._MAX_SHIFT_SIZE
MAX_SHIFT_DIST = lib_ter._MAX_SHIFT_DIST
MAX_SHIFT_CANDIDATES = lib_ter._MAX_SHIFT_CANDIDATES
INF = lib_ter._INT_INFINITY


@njit(cache=True, nogil=True)
def _rows(hyp, ref, first, cost, op, lo, hi):
    """Rows first..len(hyp) of the edit-distance matrix, with the operation of each cell."""
    n_hyp = hyp.shape[0]
    for i in range(first, n_hyp + 1):
        word = hyp[i - 1]
        above = cost[i - 1]
        row = cost[i]
        ops = op[i]
        for j in range(lo[i], hi[i]):
            if j == 0:
                row[0] = above[0] + 1
                ops[0] = 2  # _DEL
                continue
            best = INF
            best_op = 4  # _UNDEF
            if word == ref[j - 1]:
                c = above[j - 1]
                sub_op = 0  # _NOP
            else:
                c = above[j - 1] + 1
                sub_op = 1  # _SUB
            if best > c:
                best = c
                best_op = sub_op
            c = above[j] + 1
            if best > c:
                best = c
                best_op = 2  # _DEL
            c = row[j - 1] + 1
            if best > c:
                best = c
                best_op = 3  # _INS
            row[j] = best
            ops[j] = best_op


@njit(cache=True, nogil=True)
def _cost_from(hyp, ref, first, cost, lo, hi, buf_a, buf_b):
    """Edit distance of `hyp`, whose rows before `first` equal those in `cost`.

    Two rows in turn (`buf_a`, `buf_b`), unreachable (INF) outside the band they hold;
    both are left all-INF again on return.
    """
    n_hyp = hyp.shape[0]
    n_ref = ref.shape[0]
    if first > n_hyp:
        return cost[n_hyp, n_ref]
    above = cost[first - 1]
    a_lo = a_hi = b_lo = b_hi = 0
    row = buf_a
    for i in range(first, n_hyp + 1):
        if (i - first) % 2 == 0:
            row = buf_a
            for j in range(a_lo, a_hi):
                row[j] = INF
            a_lo = lo[i]
            a_hi = hi[i]
        else:
            row = buf_b
            for j in range(b_lo, b_hi):
                row[j] = INF
            b_lo = lo[i]
            b_hi = hi[i]
        word = hyp[i - 1]
        for j in range(lo[i], hi[i]):
            if j == 0:
                row[0] = above[0] + 1
                continue
            # substitution or match, then deletion, then insertion; only a strictly
            # smaller cost replaces the one before (for the cost alone, the minimum)
            best = INF
            c = above[j - 1] if word == ref[j - 1] else above[j - 1] + 1
            if best > c:
                best = c
            c = above[j] + 1
            if best > c:
                best = c
            c = row[j - 1] + 1
            if best > c:
                best = c
            row[j] = best
        above = row
    result = above[n_ref]
    for j in range(a_lo, a_hi):
        buf_a[j] = INF
    for j in range(b_lo, b_hi):
        buf_b[j] = INF
    return result


@njit(cache=True, nogil=True)
def _shift_into(out, words, start, length, target):
    """`lib_ter._perform_shift(words, start, length, target)`, slicing rules included."""
    n = words.shape[0]
    k = 0
    if target < start:
        parts = ((0, target), (start, start + length), (target, start), (start + length, n))
    elif target > start + length:
        parts = ((0, start), (start + length, target), (start, start + length), (target, n))
    else:
        parts = (
            (0, start),
            (start + length, min(length + target, n)),
            (start, start + length),
            (min(length + target, n), n),
        )
    for a, b in parts:
        for m in range(a, b):
            out[k] = words[m]
            k += 1


@njit(cache=True, nogil=True)
def edits(hyp, ref, lo, hi):
    """`lib_ter.translation_edit_rate(hyp, ref)[0]` for a non-empty reference, or -1."""
    n_hyp = hyp.shape[0]
    n_ref = ref.shape[0]
    cost = np.full((n_hyp + 1, n_ref + 1), INF, dtype=np.int64)
    op = np.full((n_hyp + 1, n_ref + 1), 4, dtype=np.int8)
    for j in range(n_ref + 1):
        cost[0, j] = j
        op[0, j] = 3  # _INS
    buf_a = np.full(n_ref + 1, INF, dtype=np.int64)
    buf_b = np.full(n_ref + 1, INF, dtype=np.int64)
    words = hyp.copy()
    shifted = np.empty(n_hyp, dtype=hyp.dtype)
    align = np.empty(n_ref, dtype=np.int64)
    hyp_err = np.empty(n_hyp, dtype=np.int64)
    ref_err = np.empty(n_ref, dtype=np.int64)
    shifts = 0
    checked = 0
    first = 1  # rows before this one are those of `words`
    while True:
        _rows(words, ref, first, cost, op, lo, hi)
        pre_score = cost[n_hyp, n_ref]
        # the alignment of the best path (`trace_to_alignment` of the flipped trace)
        i = n_hyp
        j = n_ref
        while i > 0 or j > 0:
            o = op[i, j]
            if o == 0 or o == 1:  # match or substitution
                hyp_err[i - 1] = o
                ref_err[j - 1] = o
                align[j - 1] = i - 1
                i -= 1
                j -= 1
            elif o == 3:  # reference word not in the hypothesis
                ref_err[j - 1] = 1
                align[j - 1] = i - 1
                j -= 1
            elif o == 2:  # hypothesis word not in the reference
                hyp_err[i - 1] = 1
                i -= 1
            else:
                return -1
        # `_shift`: the best candidate, in `_find_shifted_pairs` order
        found = False
        best_gain = 0
        best_length = 0
        best_start = 0
        best_target = 0
        stop = False
        for start_h in range(n_hyp):
            # sacrebleu walks every start_r and skips those further than MAX_SHIFT_DIST
            for start_r in range(
                max(0, start_h - MAX_SHIFT_DIST), min(n_ref, start_h + MAX_SHIFT_DIST + 1)
            ):
                length = 0
                while length < MAX_SHIFT_SIZE and words[start_h + length] == ref[start_r + length]:
                    length += 1
                    wrong = 0
                    for m in range(start_h, start_h + length):
                        wrong += hyp_err[m]
                    if wrong != 0:
                        wrong = 0
                        for m in range(start_r, start_r + length):
                            wrong += ref_err[m]
                    to = align[start_r]
                    if wrong != 0 and not (start_h <= to < start_h + length):
                        prev_target = -1
                        for offset in range(-1, length):
                            if start_r + offset == -1:
                                target = 0
                            elif 0 <= start_r + offset < n_ref:
                                target = align[start_r + offset] + 1
                            else:
                                break
                            if target == prev_target:
                                continue
                            prev_target = target
                            _shift_into(shifted, words, start_h, length, target)
                            same = 0
                            while same < n_hyp and shifted[same] == words[same]:
                                same += 1
                            gain = pre_score - _cost_from(
                                shifted, ref, same + 1, cost, lo, hi, buf_a, buf_b
                            )
                            checked += 1
                            # (gain, length, -start, -target) compared as sacrebleu's tuples
                            better = not found
                            if not better:
                                if gain != best_gain:
                                    better = gain > best_gain
                                elif length != best_length:
                                    better = length > best_length
                                elif start_h != best_start:
                                    better = start_h < best_start
                                else:
                                    better = target < best_target
                            if better:
                                found = True
                                best_gain = gain
                                best_length = length
                                best_start = start_h
                                best_target = target
                        if checked >= MAX_SHIFT_CANDIDATES:
                            stop = True
                            break
                    if n_hyp == start_h + length or n_ref == start_r + length:
                        break
                if stop:
                    break
            if stop:
                break
        if checked >= MAX_SHIFT_CANDIDATES or not found or best_gain <= 0:
            return shifts + pre_score
        shifts += 1
        _shift_into(shifted, words, best_start, best_length, best_target)
        first = 0
        while first < n_hyp and shifted[first] == words[first]:
            first += 1
        first += 1
        words[:] = shifted
