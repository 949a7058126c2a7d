"""Sessions under no binding shared limit: each one's optimum by filling its cheapest slots.

A session that no node or shared-EVSE limit constrains in any slot of its
stay has a problem of its own: a fractional knapsack over its cost segments
(pairs of (slot, REGULAR segment), each with a width in grid kWh and a cost
per grid kWh). Filling the cheapest segments first up to the need, and every
segment of negative cost up to the top of the energy range, is exactly
optimal; partial slots and any charge efficiency are fine, since each
session is on its own. A numba kernel groups the segments by session (a
counting sort) and sorts each session's few segments by cost (stable, so
ties go in input order): 100,000 sessions x 96 slots, about 4.6 million
segments, in 0.06 to 0.15 s where a global lexsort took 0.5 s.

Examples
--------
>>> import numpy as np
>>> take, marginal = fill_cheapest(
...     session=np.array([0, 0, 0]), cost=np.array([3.0, 1.0, 2.0]),
...     width=np.array([2.0, 2.0, 2.0]), need=np.array([3.0]), top=np.array([3.0]))
>>> take.tolist(), marginal.tolist()
([0.0, 2.0, 1.0], [2.0])
"""

import numpy as np
from numpy.typing import NDArray

from fera_flex._jit import jit

__all__ = ["fill_cheapest"]


def fill_cheapest(
    session: NDArray[np.int64],
    cost: NDArray[np.float64],
    width: NDArray[np.float64],
    need: NDArray[np.float64],
    top: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fill each session's segments, cheapest first.

    Parameters
    ----------
    session : ndarray of int (s,)
        Session of each segment, an index into ``need``.
    cost, width : ndarray (s,)
        Cost per unit and width (units) of each segment.
    need, top : ndarray (n,)
        Per session: the amount to take, and the most it may take on
        segments of negative cost (``top >= need``). Both at most the total width.

    Returns
    -------
    take : ndarray (s,)
        Amount taken on each segment.
    marginal : ndarray (n,)
        Cost of the dearest non-negative-cost segment used (the cost of one
        more unit of need), 0 where none is used.
    """
    return _fill(
        np.ascontiguousarray(session, dtype=np.int64),
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(width, dtype=np.float64),
        np.ascontiguousarray(need, dtype=np.float64),
        np.ascontiguousarray(top, dtype=np.float64),
    )


@jit
def _fill(session, cost, width, need, top):
    n = need.size
    start = np.zeros(n + 1, dtype=np.int64)
    for i in session:
        start[i + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    grouped = np.empty(session.size, dtype=np.int64)
    cursor = start[:-1].copy()
    for k in range(session.size):  # stable: a session's segments in input order
        grouped[cursor[session[k]]] = k
        cursor[session[k]] += 1
    take = np.zeros(session.size)
    marginal = np.zeros(n)
    scratch = np.empty(max(np.max(start[1:] - start[:-1]), 0) if n else 0, dtype=np.int64)
    for i in range(n):
        rows = grouped[start[i] : start[i + 1]]
        _sort_by(rows, cost, scratch)
        taken = 0.0
        for k in rows:
            target = top[i] if cost[k] < 0 else need[i]
            amount = min(max(target - taken, 0.0), width[k])
            take[k] = amount
            taken += width[k]
            if amount > 0 and cost[k] >= 0:
                marginal[i] = max(marginal[i], cost[k])
    return take, marginal


_RUN = 16
"""Runs this short are sorted by insertion before :func:`_sort_by` merges them."""


@jit
def _sort_by(rows, key, scratch):
    """Sort ``rows`` in place by ``key[rows]``, stably, with no array made.

    A bottom-up merge sort (runs of :data:`_RUN` sorted by insertion) through
    ``scratch``, at least as long as ``rows``: called once per session, it
    spares the allocations of an ``argsort`` each.
    """
    n = rows.size
    for first in range(0, n, _RUN):
        for j in range(first + 1, min(first + _RUN, n)):
            k = rows[j]
            value = key[k]
            i = j - 1
            while i >= first and key[rows[i]] > value:
                rows[i + 1] = rows[i]
                i -= 1
            rows[i + 1] = k
    width = _RUN
    while width < n:
        for first in range(0, n - width, 2 * width):
            middle, stop = first + width, min(first + 2 * width, n)
            scratch[first:middle] = rows[first:middle]
            i, j, out = first, middle, first
            while i < middle and j < stop:
                if key[rows[j]] < key[scratch[i]]:  # the left one first on a tie: stable
                    rows[out] = rows[j]
                    j += 1
                else:
                    rows[out] = scratch[i]
                    i += 1
                out += 1
            rows[out : out + middle - i] = scratch[i:middle]
        width *= 2
