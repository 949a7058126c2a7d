"""The widest box a g-polymatroid keeps around a baseline, by two dominance tests (private).

For a g-polymatroid ``Q`` and a box ``[lo, hi]`` on a window ``W``, the box
lies in the projection of ``Q`` onto ``W`` exactly when some member of ``Q``
is at least ``hi`` on ``W`` and some member at most ``lo`` (Frank's
intersection theorem): the box is the baseline widened by the largest common
fraction of each slot's own up (down) room for which that test passes,
found by bisection. Only valid when ``NodeFlexibility.exact``.
"""

import numpy as np
from numpy.typing import NDArray

from fera_flex.flexibility.aggregate import NodeFlexibility

__all__ = ["BISECTION_STEPS", "dominance_box_kw"]

BISECTION_STEPS = 24
"""Halvings of the box's widening fraction (it is found to within 2**-24 of its largest value)."""


def dominance_box_kw(
    flexibility: NodeFlexibility,
    baseline: NDArray,
    first: int,
    stop: int,
    rooms: tuple[NDArray, NDArray],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Up and down widths [kW] (W,) of the widest deliverable box around the baseline (T,).

    ``rooms``: each slot's own up and down room (T,) twice
    (:func:`~fera_flex.flexibility.offer._rooms`), which the box widens into.
    """
    inside = slice(first, stop)
    room_up, room_down = rooms
    n_slots = baseline.size
    free = np.full(n_slots, np.inf)

    def up_ok(fraction):
        lower = np.full(n_slots, -np.inf)
        lower[inside] = (baseline + fraction * room_up)[inside]
        return flexibility.within(lower, free)

    def down_ok(fraction):
        upper = free.copy()
        upper[inside] = (baseline - fraction * room_down)[inside]
        return flexibility.within(-free, upper)

    return _largest(up_ok) * room_up[inside], _largest(down_ok) * room_down[inside]


def _largest(ok) -> float:
    """The largest fraction in [0, 1] for which ``ok`` holds (``ok`` monotone, ``ok(0)`` true)."""
    if ok(1.0):
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if ok(middle):
            low = middle
        else:
            high = middle
    return low
