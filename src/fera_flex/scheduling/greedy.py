"""Sessions under no binding shared limit: each one's optimum by filling its cheapest slots.

A session that no node or shared-EVSE limit constrains in any slot of its
stay has a problem of its own: a fractional knapsack over its cost segments
(pairs of (slot, REGULAR segment), each with a width in grid kWh and a cost
per grid kWh). Filling the cheapest segments first up to the need, and every
segment of negative cost up to the top of the energy range, is exactly
optimal; partial slots and any charge efficiency are fine, since each
session is on its own. One sort of all segments by (session, cost) does
every session at once.

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
    order = np.lexsort((cost, session))
    who, price, room = session[order], cost[order], width[order]
    running = np.cumsum(room)
    start = np.searchsorted(who, who, side="left")
    before = running - room - (running[start] - room[start])
    target = np.where(price < 0, top[who], need[who])
    taken = np.clip(target - before, 0.0, room)
    take = np.empty_like(taken)
    take[order] = taken
    marginal = np.zeros(need.shape)
    used = (taken > 0) & (price >= 0)
    np.maximum.at(marginal, who[used], price[used])
    return take, marginal
