"""Plain numpy twins of the kernels in :mod:`fera_flex.timeseries._kernels` (private).

Each function here has the signature and the contract of the kernel of the same
name and is written for clarity, not speed. The tests compare kernels against
these on random input; ``benchmarks/profiles.py`` times both.
"""

from __future__ import annotations

import functools

import numpy as np

from fera_flex.timeseries._kernels import DROPPED, MEAN, MIN

__all__ = [
    "MERGE",
    "compress",
    "event_ranks",
    "merge_add",
    "merge_max",
    "merge_min",
    "merge_mul",
    "merge_sub",
    "nary_min",
    "nary_sum",
    "radix_argsort",
    "resample_batch",
]


def _evaluate(t, v, end, fill, times):
    """Value of one profile at ``times``, ``fill`` outside ``[t[0], end)``."""
    times = np.asarray(times, dtype=np.int64)
    if t.size == 0:
        return np.full(times.shape, fill, dtype=np.float64)
    index = np.searchsorted(t, times, side="right") - 1
    inside = (index >= 0) & (times < end)
    return np.where(inside, v[np.clip(index, 0, None)], fill)


def _merge(ufunc, ta, va, ea, tb, vb, eb, lo, hi, fill):
    candidates = np.concatenate([ta, tb, [lo, ea, eb]]).astype(np.int64)
    times = np.unique(candidates[(candidates >= lo) & (candidates < hi)])
    a = _evaluate(ta, va, ea, fill, times)
    b = _evaluate(tb, vb, eb, fill, times)
    return times, ufunc(a, b).astype(np.float64)


merge_add = functools.partial(_merge, np.add)
merge_sub = functools.partial(_merge, np.subtract)
merge_mul = functools.partial(_merge, np.multiply)
merge_min = functools.partial(_merge, np.minimum)
merge_max = functools.partial(_merge, np.maximum)

MERGE = {
    "add": merge_add,
    "sub": merge_sub,
    "mul": merge_mul,
    "min": merge_min,
    "max": merge_max,
}


def compress(t, v, tol):
    """Twin of :func:`fera_flex.timeseries._kernels.compress` (a plain loop)."""
    keep = []
    run_value = 0.0
    for i, value in enumerate(v):
        if not keep or abs(value - run_value) > tol:
            keep.append(i)
            run_value = value
    keep = np.asarray(keep, dtype=np.int64)
    return t[keep], v[keep]


def resample_batch(t, v, offsets, ends, start_s, step_s, how, fill, use_fill, out):
    """Twin of :func:`fera_flex.timeseries._kernels.resample_batch` (overlap matrices)."""
    edges = start_s + step_s * np.arange(out.shape[1] + 1, dtype=np.int64)
    for p in range(offsets.size - 1):
        tp = t[offsets[p] : offsets[p + 1]]
        vp = v[offsets[p] : offsets[p + 1]]
        piece_end = np.append(tp[1:], ends[p])
        overlap = np.minimum(piece_end[:, None], edges[None, 1:]) - np.maximum(
            tp[:, None], edges[None, :-1]
        )
        overlap = np.clip(overlap, 0, None)
        covered = overlap.sum(axis=0)
        uncovered = step_s - covered
        if how == MEAN:
            value = vp @ (overlap / step_s) + (fill * uncovered / step_s if use_fill else 0.0)
        else:
            sign = 1.0 if how == MIN else -1.0
            candidates = np.where(overlap > 0, sign * vp[:, None], np.inf)
            if use_fill:
                candidates = np.vstack([candidates, np.where(uncovered > 0, sign * fill, np.inf)])
            value = sign * candidates.min(axis=0, initial=np.inf)
        out[p] = np.where(use_fill | (uncovered == 0), value, np.nan)


def radix_argsort(keys):
    """Twin of :func:`fera_flex.timeseries._kernels.radix_argsort`."""
    return np.argsort(keys, kind="stable")


def _events(t, v, offsets, ends, fill, lo, hi):
    """Every event as arrays ``(time, old, new, kept)``, times clamped to ``lo``."""
    n = t.size
    nonempty = offsets[1:] > offsets[:-1]
    first = np.zeros(n, dtype=bool)
    first[offsets[:-1][nonempty]] = True
    old_at_breakpoint = np.where(first, fill, np.roll(v, 1))
    last_value = np.full(ends.size, fill, dtype=np.float64)
    last_value[nonempty] = v[offsets[1:][nonempty] - 1]
    time = np.concatenate([t, ends]).astype(np.int64)
    old = np.concatenate([old_at_breakpoint, last_value]).astype(np.float64)
    new = np.concatenate([v, np.full(ends.size, fill)]).astype(np.float64)
    return np.maximum(time, lo), old, new, time < hi


def event_ranks(t, offsets, ends, lo, hi):
    """Twin of :func:`fera_flex.timeseries._kernels.event_ranks` (``np.unique``)."""
    time = np.concatenate([t, ends]).astype(np.int64)
    kept = time < hi
    times, inverse = np.unique(np.maximum(time, lo)[kept], return_inverse=True)
    ranks = np.full(time.size, DROPPED, dtype=np.int64)
    ranks[kept] = inverse
    return ranks, times


def nary_sum(t, v, offsets, ends, fill, lo, hi):
    """Twin of :func:`fera_flex.timeseries._kernels.nary_sum` (stable sort and cumsum)."""
    time, old, new, kept = _events(t, v, offsets, ends, fill, lo, hi)
    times, inverse = np.unique(time[kept], return_inverse=True)
    change = np.bincount(inverse, weights=(new - old)[kept], minlength=times.size)
    return times, (offsets.size - 1) * fill + np.cumsum(change)


def nary_min(t, v, offsets, ends, fill, lo, hi, sign):
    """Twin of :func:`fera_flex.timeseries._kernels.nary_min` (evaluate everything)."""
    time, _, _, kept = _events(t, v, offsets, ends, fill, lo, hi)
    times = np.unique(time[kept])
    values = np.full((offsets.size - 1, times.size), fill, dtype=np.float64)
    for p in range(offsets.size - 1):
        sl = slice(offsets[p], offsets[p + 1])
        values[p] = _evaluate(t[sl], v[sl], ends[p], fill, times)
    return times, sign * (sign * values).min(axis=0, initial=np.inf)
