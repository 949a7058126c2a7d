"""numba kernels of the profile algebra (private).

Every kernel takes plain C-contiguous arrays and validates nothing: the public
functions in :mod:`fera_flex.timeseries` check and convert their input first.
Each kernel has a numpy twin of the same signature in
:mod:`fera_flex.timeseries._reference`; the tests compare the two.

Conventions shared by all kernels:

- A profile is ``(t, v, end)``: strictly increasing int64 breakpoints ``t`` [s],
  float64 values ``v`` (``v[i]`` holds on ``[t[i], t[i + 1])``) and an int64
  ``end`` [s]; an open end is :data:`OPEN_END` (the largest int64).
- A batch of ``P`` profiles is flat arrays ``t``, ``v`` with ``offsets``
  (length ``P + 1``; profile ``p`` is ``t[offsets[p]:offsets[p + 1]]``) and
  ``ends`` (length ``P``).
- ``fill`` is the value of a profile where it is undefined (before its first
  breakpoint and from its end on).
- Results are defined on ``[lo, hi)``, computed by the caller.

The n-ary kernels see each profile as *events*: breakpoint ``i`` (event id
``i``) changes its profile's value from the previous one (``fill`` for the
first) to ``v[i]``; the end of profile ``p`` (event id ``n + p``) changes it
back to ``fill``. Events before ``lo`` act at ``lo``; events at or after ``hi``
are dropped.
"""

from __future__ import annotations

import numpy as np

from fera_flex._jit import jit

__all__ = [
    "DROPPED",
    "MAX",
    "MEAN",
    "MERGE",
    "MIN",
    "OPEN_END",
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

OPEN_END = np.iinfo(np.int64).max
"""Sentinel end of an open-ended profile [s] (the largest int64)."""

DROPPED = -1
"""Key or rank of an event outside ``[lo, hi)``."""

MEAN, MIN, MAX = 0, 1, 2
"""Codes of the resampling statistics."""

_RADIX_MAX_BITS = 16
"""Largest digit of the LSD radix sort [bits]: 65,536 buckets stay in cache."""

_DENSE_SLACK = 65_536
"""Extra bins the dense ranking may use beyond twice the number of events."""


# --------------------------------------------------------------------------- helpers


@jit(inline="always")
def _two_sum(a, b):
    """Return ``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly."""
    s = a + b
    b_virtual = s - a
    e = (a - (s - b_virtual)) + (b - b_virtual)
    return s, e


@jit(inline="always")
def _profile_event_time(t, end, k):
    """Time of event ``k`` of one profile: breakpoint, then end, then never."""
    if k < t.size:
        return t[k]
    if k == t.size:
        return end
    return OPEN_END


@jit(inline="always")
def _value_after(v, fill, k):
    """Value of one profile just after its event ``k``."""
    if k < v.size:
        return v[k]
    return fill


# --------------------------------------------------------------------------- pairwise


def _make_merge(op):
    """Build the kernel that combines two profiles with the scalar function ``op``."""

    @jit
    def merge(ta, va, ea, tb, vb, eb, lo, hi, fill):
        """Combine two profiles on ``[lo, hi)``.

        Output breakpoints: ``lo`` and every distinct breakpoint or end of either
        input inside ``(lo, hi)``; output value ``op(a, b)`` with ``fill`` for an
        input where it is undefined. Returns ``(t_out, v_out)``.
        """
        t_out = np.empty(ta.size + tb.size + 3, np.int64)
        v_out = np.empty(ta.size + tb.size + 3, np.float64)
        i = 0
        a = fill
        while _profile_event_time(ta, ea, i) <= lo:
            a = _value_after(va, fill, i)
            i += 1
        j = 0
        b = fill
        while _profile_event_time(tb, eb, j) <= lo:
            b = _value_after(vb, fill, j)
            j += 1
        t_out[0] = lo
        v_out[0] = op(a, b)
        k = 1
        while True:
            ti = _profile_event_time(ta, ea, i)
            tj = _profile_event_time(tb, eb, j)
            t = min(ti, tj)
            if t >= hi:
                break
            if ti == t:
                a = _value_after(va, fill, i)
                i += 1
            if tj == t:
                b = _value_after(vb, fill, j)
                j += 1
            t_out[k] = t
            v_out[k] = op(a, b)
            k += 1
        return t_out[:k], v_out[:k]

    return merge


@jit(inline="always")
def _add(a, b):
    return a + b


@jit(inline="always")
def _sub(a, b):
    return a - b


@jit(inline="always")
def _mul(a, b):
    return a * b


@jit(inline="always")
def _min(a, b):
    return min(a, b)


@jit(inline="always")
def _max(a, b):
    return max(a, b)


merge_add = _make_merge(_add)
merge_sub = _make_merge(_sub)
merge_mul = _make_merge(_mul)
merge_min = _make_merge(_min)
merge_max = _make_merge(_max)

MERGE = {
    "add": merge_add,
    "sub": merge_sub,
    "mul": merge_mul,
    "min": merge_min,
    "max": merge_max,
}
"""Pairwise kernels by operation name."""


# --------------------------------------------------------------------------- compress


@jit
def compress(t, v, tol):
    """Merge neighbouring periods whose values lie within ``tol`` of the run's first.

    A run starts at a breakpoint whose value differs by more than ``tol`` from the
    first value of the current run; the run keeps that first value.
    Returns ``(t_out, v_out)``.
    """
    n = t.size
    t_out = np.empty(n, np.int64)
    v_out = np.empty(n, np.float64)
    k = 0
    for i in range(n):
        if k == 0 or abs(v[i] - v_out[k - 1]) > tol:
            t_out[k] = t[i]
            v_out[k] = v[i]
            k += 1
    return t_out[:k], v_out[:k]


# --------------------------------------------------------------------------- resample


@jit
def resample_batch(t, v, offsets, ends, start_s, step_s, how, fill, use_fill, out):
    """One statistic per grid slot for every profile of a batch, written to ``out``.

    ``out`` has shape ``(P, n_slots)``; slot ``s`` is
    ``[start_s + s * step_s, start_s + (s + 1) * step_s)``. ``how`` is
    :data:`MEAN` (time-weighted mean), :data:`MIN` or :data:`MAX` (over the
    periods that overlap the slot for a positive time). A slot the profile does
    not cover entirely gets NaN, unless ``use_fill``: then the uncovered part of
    the slot counts as value ``fill``. The caller allocates ``out`` with numpy,
    which asks the OS for huge pages and so halves the cost of a large first touch.
    """
    for p in range(offsets.size - 1):
        _resample_one(
            t[offsets[p] : offsets[p + 1]],
            v[offsets[p] : offsets[p + 1]],
            ends[p],
            start_s,
            step_s,
            how,
            fill,
            use_fill,
            out[p],
        )


@jit(inline="always")
def _resample_one(t, v, end, start_s, step_s, how, fill, use_fill, row):
    """:func:`resample_batch` for one profile, written into ``row``."""
    n_slots = row.size
    grid_end = start_s + step_s * n_slots
    if t.size == 0 or max(t[0], start_s) >= min(end, grid_end):
        row[:] = fill if use_fill else np.nan
        return
    support_start = t[0]
    support_end = min(end, grid_end)
    first_slot = max(support_start - start_s, 0) // step_s
    stop_slot = min((support_end - start_s + step_s - 1) // step_s, n_slots)
    row[:first_slot] = fill if use_fill else np.nan
    row[stop_slot:] = fill if use_fill else np.nan
    if how == MEAN:
        row[first_slot:stop_slot] = 0.0
    elif how == MIN:
        row[first_slot:stop_slot] = np.inf
    else:
        row[first_slot:stop_slot] = -np.inf
    for i in range(t.size):
        x0 = max(t[i], start_s)
        x1 = min(t[i + 1] if i + 1 < t.size else end, grid_end)
        slot = (x0 - start_s) // step_s
        while x0 < x1:
            slot_end = start_s + (slot + 1) * step_s
            overlap = min(x1, slot_end) - x0
            if how == MEAN:
                row[slot] += v[i] * (overlap / step_s)
            elif how == MIN:
                row[slot] = min(row[slot], v[i])
            else:
                row[slot] = max(row[slot], v[i])
            x0 = slot_end
            slot += 1
    _fill_partial_slot(
        row, first_slot, start_s, step_s, support_start, support_end, how, fill, use_fill
    )
    if stop_slot - 1 > first_slot:
        _fill_partial_slot(
            row, stop_slot - 1, start_s, step_s, support_start, support_end, how, fill, use_fill
        )


@jit(inline="always")
def _fill_partial_slot(row, slot, start_s, step_s, support_start, support_end, how, fill, use_fill):
    """Account for the part of ``slot`` outside the support (NaN or ``fill``)."""
    slot_start = start_s + slot * step_s
    covered = min(support_end, slot_start + step_s) - max(support_start, slot_start)
    if covered == step_s:
        return
    if not use_fill:
        row[slot] = np.nan
    elif how == MEAN:
        row[slot] += fill * ((step_s - covered) / step_s)
    elif how == MIN:
        row[slot] = min(row[slot], fill)
    else:
        row[slot] = max(row[slot], fill)


# --------------------------------------------------------------------------- n-ary


@jit
def radix_argsort(keys):
    """Stable argsort of non-negative int64 ``keys`` (LSD radix sort, no comparisons)."""
    n = keys.size
    order = np.arange(n)
    if n == 0:
        return order
    largest = keys.max()
    bits = 0
    while (largest >> bits) > 0:
        bits += 1
    passes = max(1, (bits + _RADIX_MAX_BITS - 1) // _RADIX_MAX_BITS)
    width = (bits + passes - 1) // passes
    mask = (1 << width) - 1
    sorted_keys = keys.copy()
    order_buf = np.empty(n, np.int64)
    keys_buf = np.empty(n, np.int64)
    counts = np.empty(mask + 2, np.int64)
    for step in range(passes):
        shift = step * width
        counts[:] = 0
        for i in range(n):
            counts[((sorted_keys[i] >> shift) & mask) + 1] += 1
        for d in range(1, mask + 2):
            counts[d] += counts[d - 1]
        for i in range(n):
            digit = (sorted_keys[i] >> shift) & mask
            position = counts[digit]
            counts[digit] += 1
            order_buf[position] = order[i]
            keys_buf[position] = sorted_keys[i]
        order, order_buf = order_buf, order
        sorted_keys, keys_buf = keys_buf, sorted_keys
    return order


@jit(inline="always")
def _key(time, lo, hi):
    """Key of an event at ``time``: ``max(time, lo) - lo``, :data:`DROPPED` at/after ``hi``."""
    return DROPPED if time >= hi else max(time, lo) - lo


@jit
def _key_span(t, ends, lo, hi):
    """One more than the largest key of any kept event (0 if none is kept)."""
    if hi != OPEN_END:
        return hi - lo
    largest = DROPPED
    for time in t:
        largest = max(largest, _key(time, lo, hi))
    for time in ends:
        largest = max(largest, _key(time, lo, hi))
    return largest + 1


@jit
def _dense_table(t, ends, lo, hi, span):
    """Rank of every key in ``[0, span)`` that some event has, by direct addressing.

    Returns ``(table, times)``: ``table[key]`` is the rank of ``key`` among the
    distinct keys (meaningless for keys no event has) and ``times`` the distinct
    event times, sorted. No sort: O(events + span).
    """
    table = np.zeros(span, np.int64)
    for times in (t, ends):
        for time in times:
            key = _key(time, lo, hi)
            if key != DROPPED:
                table[key] = 1
    n_unique = 0
    for key in range(span):
        n_unique += table[key]
    times = np.empty(n_unique, np.int64)
    u = 0
    for key in range(span):
        if table[key]:
            table[key] = u
            times[u] = key + lo
            u += 1
    return table, times


@jit
def _sorted_ranks(t, ends, lo, hi):
    """Rank of every event's time and the distinct times, by radix-sorting the keys."""
    n_events = t.size + ends.size
    keys = np.empty(n_events, np.int64)
    for i in range(t.size):
        keys[i] = _key(t[i], lo, hi)
    for p in range(ends.size):
        keys[t.size + p] = _key(ends[p], lo, hi)
    kept = np.flatnonzero(keys != DROPPED)
    order = kept[radix_argsort(keys[kept])]
    ranks = np.full(n_events, DROPPED, np.int64)
    times = np.empty(order.size, np.int64)
    u = -1
    for e in order:
        if u < 0 or keys[e] + lo != times[u]:
            u += 1
            times[u] = keys[e] + lo
        ranks[e] = u
    return ranks, times[: u + 1]


@jit
def _rank_table(t, ends, lo, hi):
    """A table that gives the rank of each event's time among the distinct times.

    Returns ``(by_key, table, times)``. When the key range is small compared
    with the number of events, ``by_key`` is True and ``table`` is indexed by
    the event's key (direct addressing: no sort, no per-event array); otherwise
    ``table`` is indexed by event id and was filled by a radix sort. Either way
    the rank is only looked up for events whose key is not :data:`DROPPED`.
    """
    n_events = t.size + ends.size
    span = _key_span(t, ends, lo, hi)
    if span <= 2 * n_events + _DENSE_SLACK:
        table, times = _dense_table(t, ends, lo, hi, span)
        return True, table, times
    ranks, times = _sorted_ranks(t, ends, lo, hi)
    return False, ranks, times


@jit
def event_ranks(t, offsets, ends, lo, hi):
    """Rank of each event's time among the distinct event times in ``[lo, hi)``.

    Returns ``(ranks, times)``: ``ranks`` per event id (:data:`DROPPED` outside
    ``[lo, hi)``), ``times`` the sorted distinct times (events before ``lo`` at ``lo``).
    ``offsets`` is unused and accepted for a uniform batch signature.
    """
    by_key, table, times = _rank_table(t, ends, lo, hi)
    if not by_key:
        return table, times
    ranks = np.empty(t.size + ends.size, np.int64)
    for e, time in enumerate(np.concatenate((t, ends))):
        key = _key(time, lo, hi)
        ranks[e] = DROPPED if key == DROPPED else table[key]
    return ranks, times


@jit(inline="always")
def _bin_add(bins, bin_nonzero, r, new, old):
    """Add the change ``new - old`` to bin ``r`` (``bins[r] = [sum, error]``)."""
    change, change_error = _two_sum(new, -old)
    s, e = _two_sum(bins[r, 0], change)
    bins[r, 0] = s
    bins[r, 1] += e + change_error
    bin_nonzero[r] += int(new != 0.0) - int(old != 0.0)


@jit
def nary_sum(t, v, offsets, ends, fill, lo, hi):
    """Sum of a batch of profiles on ``[lo, hi)``, ``fill`` where one is undefined.

    Value changes are summed per distinct time, then accumulated in time order,
    both with compensated (two-sum) arithmetic. Where no profile (and no fill) is
    non-zero the result is exactly 0. Returns ``(t_out, v_out)``.
    """
    n = t.size
    n_profiles = offsets.size - 1
    by_key, table, times = _rank_table(t, ends, lo, hi)
    bins = np.zeros((times.size, 2), np.float64)
    bin_nonzero = np.zeros(times.size, np.int64)
    for p in range(n_profiles):
        previous = fill
        for i in range(offsets[p], offsets[p + 1]):
            key = _key(t[i], lo, hi)
            if key != DROPPED:
                _bin_add(bins, bin_nonzero, table[key if by_key else i], v[i], previous)
            previous = v[i]
        key = _key(ends[p], lo, hi)
        if key != DROPPED:
            _bin_add(bins, bin_nonzero, table[key if by_key else n + p], fill, previous)
    total = n_profiles * fill
    compensation = 0.0
    nonzero = n_profiles if fill != 0.0 else 0
    v_out = np.empty(times.size, np.float64)
    for r in range(times.size):
        total, e = _two_sum(total, bins[r, 0])
        compensation += e + bins[r, 1]
        nonzero += bin_nonzero[r]
        if nonzero == 0:
            total = 0.0
            compensation = 0.0
        v_out[r] = total + compensation
    return times, v_out


@jit
def nary_min(t, v, offsets, ends, fill, lo, hi, sign):
    """Minimum (``sign = 1``) or maximum (``sign = -1``) of a batch on ``[lo, hi)``.

    Events are bucketed by time rank (counting sort, stable) and applied to a
    segment tree over the profiles whose root holds the minimum of
    ``sign * value``. Returns ``(t_out, v_out)``.
    """
    n = t.size
    n_profiles = offsets.size - 1
    ranks, times = event_ranks(t, offsets, ends, lo, hi)
    starts = np.zeros(times.size + 1, np.int64)
    for r in ranks:
        if r != DROPPED:
            starts[r + 1] += 1
    for r in range(times.size):
        starts[r + 1] += starts[r]
    cursor = starts[:-1].copy()
    order = np.empty(starts[-1], np.int64)
    for e in range(ranks.size):
        r = ranks[e]
        if r != DROPPED:
            order[cursor[r]] = e
            cursor[r] += 1
    profile_of = np.empty(n, np.int64)
    for p in range(n_profiles):
        profile_of[offsets[p] : offsets[p + 1]] = p
    leaves = 1
    while leaves < n_profiles:
        leaves *= 2
    tree = np.full(2 * leaves, np.inf)
    tree[leaves : leaves + n_profiles] = sign * fill
    for node in range(leaves - 1, 0, -1):
        tree[node] = min(tree[2 * node], tree[2 * node + 1])
    v_out = np.empty(times.size, np.float64)
    for r in range(times.size):
        for k in range(starts[r], starts[r + 1]):
            e = order[k]
            if e < n:
                node = leaves + profile_of[e]
                tree[node] = sign * v[e]
            else:
                node = leaves + (e - n)
                tree[node] = sign * fill
            node //= 2
            while node >= 1:
                tree[node] = min(tree[2 * node], tree[2 * node + 1])
                node //= 2
        v_out[r] = sign * tree[1]
    return times, v_out
