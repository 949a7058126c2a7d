r"""The flex a node can deliver below a baseline: the largest sustained reduction per block.

For a block ``B`` (a 2, 4 or 6 hour dispatch) the reduction ``r`` [kW] is
deliverable when the node's exact set of aggregate load profiles
(:func:`fera_flex.flexibility.aggregate`) has a member ``x`` with
``x_t <= baseline_t - r`` in every slot of ``B`` and ``x_t <= baseline_t`` in
the block's adjacent hours (an NL-Flex dispatch may hold the baseline for an
hour either side, where that hour lies in the event's window; with
``adjacent_hours=False`` they are free), free elsewhere: every session still
gets its need. The set is convex and the bound falls as ``r`` grows, so
deliverability is monotone in ``r``: the largest deliverable ``r`` is found
by bisection on the multiples of 0.01 kW (the resolution NL-Flex powers
carry) between bounds where the answer is known, each step one
:meth:`NodeFlexibility.within` question. The result is **rounded down** to
the hundredth: it is deliverable, and it plus 0.01 kW is not (as far as the
set's oracle tells: exactly for flow and closed-form sets, to the LP
tolerance otherwise).

A block's slots are every slot it overlaps (a block off the grid gets the
cap on whole slots: safe). The baseline is the group's offtake limit
without dispatch; the offtake is the EV load through the node, or with
``base_load_included`` the EV load plus the node's non-EV load.

:func:`available_flex` is the amount callable in *any* block a DSO may
dispatch in a window (every start on a step, every duration up to
``max_duration``): the minimum over the blocks, found by checking each block
once at the running minimum and bisecting only those that fall below it.
The guarantee is per dispatch: an event with several dispatch intervals is
one set of caps, whose joint deliverability ``schedule`` of
:func:`~fera_flex.standards.openadr.limits.with_flex_dispatch` shows.

Examples
--------
Two EVs that need 12 kWh each between 16:00 and 22:00 at up to 4 kW, against
a 10 kW baseline: a 2-hour block from 17:00 can go down to 0 kW (the other
four hours take the 24 kWh); over 4 hours from 17:00 the other two hours
take at most 16 kWh, so 8 kWh, 2 kW on average, remain in the block:

>>> from datetime import datetime, timedelta, timezone
>>> import fera_flex as ff
>>> grid = ff.TimeGrid(datetime(2026, 3, 3, tzinfo=timezone.utc), timedelta(hours=1), 24)
>>> problem = ff.ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[16, 16], departure_slot=[22, 22], energy_kwh=[12.0, 12.0],
...     power_max_kw=4.0, node_of_session=[0, 0], node_parent=[-1],
...     node_capacity_kw=100.0, price_eur_per_kwh=0.25)
>>> at = datetime(2026, 3, 3, 17, tzinfo=timezone.utc)
>>> block_flex_kw(problem, 0, 10.0, at, timedelta(hours=2))
10.0
>>> block_flex_kw(problem, 0, 10.0, at, timedelta(hours=4))
8.0
>>> offer = available_flex(problem, 0, 10.0, max_duration=timedelta(hours=4))
>>> offer.flex_kw, offer.worst_start.hour, offer.worst_duration
(8.0, 16, datetime.timedelta(seconds=14400))
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.flexibility.aggregate import NodeFlexibility, aggregate
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.standards.openadr.events import ADJACENT_HOUR, DISPATCH_DURATIONS
from fera_flex.standards.openadr.limits import covering_slots

__all__ = ["AvailableFlex", "available_flex", "block_flex_kw"]


@dataclass(frozen=True)
class AvailableFlex:
    """The reduction callable in every block of a window, with the block that limits it.

    Attributes
    ----------
    node_id : str
    flex_kw : float
        The largest reduction below the baseline that every block can deliver
        [kW], a multiple of 0.01 (negative when some block cannot even keep
        the baseline; ``-inf`` when its adjacent hours cannot).
    worst_start : datetime
    worst_duration : timedelta
        The block that sets ``flex_kw``.
    n_blocks : int
        Blocks checked.
    """

    node_id: str
    flex_kw: float
    worst_start: datetime
    worst_duration: timedelta
    n_blocks: int

    @property
    def offered_kw(self) -> float:
        """What can be offered (NL-Flex's ACTIVE flex, a flex delta of minus this) [kW], >= 0."""
        return max(self.flex_kw, 0.0)


class _Blocks:
    """Deliverability questions on one node, in hundredths of a kW."""

    def __init__(self, problem, node, baseline_kw, base_load_included, flexibility, where):
        self.problem = problem
        k = problem.node_index(node)
        if flexibility is None:
            flexibility = aggregate(problem, k)
        elif (
            not isinstance(flexibility, NodeFlexibility)
            or flexibility.node_id != problem.node_ids[k]
        ):
            raise InputError(where, "flexibility", flexibility, f"must be aggregate(problem, {k})")
        self.flexibility = flexibility
        self.node_id = problem.node_ids[k]
        self.baseline_kw = _baseline(where, baseline_kw, problem.n_slots)
        if base_load_included:
            self.baseline_kw = self.baseline_kw - problem.node_base_load_kw[k]
        self.most_kw = problem.node_loads_kw(problem.power_max_kw)[k]
        self.least_kw = -problem.node_loads_kw(problem.discharge_max_kw)[k]

    def slots(self, start: datetime, duration: timedelta, window: tuple[datetime, datetime]):
        """The block's slots and those of its adjacent hours that fit in the window, as slices."""
        grid = self.problem.grid
        end = start + duration
        hours = [(start - ADJACENT_HOUR, start), (end, end + ADJACENT_HOUR)]
        return slice(*covering_slots(grid, start, end)), [
            slice(*covering_slots(grid, *hour))
            for hour in hours
            if window[0] <= hour[0] and hour[1] <= window[1]
        ]

    def ok(self, block: slice, adjacent: list[slice], hundredths: int) -> bool:
        """Whether a reduction of ``hundredths`` / 100 kW is deliverable on the block."""
        upper = np.full(self.problem.n_slots, np.inf)
        for hour in adjacent:
            upper[hour] = self.baseline_kw[hour]
        upper[block] = np.minimum(upper[block], self.baseline_kw[block] - hundredths / 100)
        return self.flexibility.within(-np.inf, upper)

    def largest(self, block: slice, adjacent: list[slice], below: int | None = None) -> float:
        """The largest deliverable reduction [kW] (hundredths); ``below`` is known not to be."""
        room = self.baseline_kw[block]
        low = math.floor(100 * float((room - self.most_kw[block]).min())) - 1  # never binds
        high = math.ceil(100 * float((room - self.least_kw[block]).max())) + 1  # never met
        if below is not None:
            high = min(high, below)
        if not self.ok(block, adjacent, low):
            return -math.inf  # the adjacent hours alone cannot keep the baseline
        while high - low > 1:
            middle = (low + high) // 2
            if self.ok(block, adjacent, middle):
                low = middle
            else:
                high = middle
        return low / 100


def block_flex_kw(
    problem: ChargingProblem,
    node: int | str,
    baseline_kw: float | NDArray,
    start: datetime,
    duration: timedelta,
    *,
    adjacent_hours: bool = True,
    base_load_included: bool = False,
    flexibility: NodeFlexibility | None = None,
) -> float:
    """The largest reduction below the baseline [kW] a node can sustain over one block.

    Parameters
    ----------
    problem : ChargingProblem
    node : int or str
    baseline_kw : float or array (T,)
        The group's baseline offtake [kW] (NL-Flex: the constant ACTIVE_BASELINE).
    start : datetime
    duration : timedelta
    adjacent_hours : bool
        Whether the hour before and after the block is held at the baseline.
    base_load_included : bool
        Whether the offtake includes the node's non-EV load.
    flexibility : NodeFlexibility, optional
        ``aggregate(problem, node)``, if already built.

    Returns
    -------
    float
        A multiple of 0.01 kW (see the module documentation); ``-inf`` when the
        adjacent hours alone cannot be held at the baseline.

    Raises
    ------
    fera_flex.flexibility.EmptyFlexibilityError
        When the needs under the node cannot be met at all.
    """
    where = "block_flex_kw"
    blocks = _Blocks(problem, node, baseline_kw, base_load_included, flexibility, where)
    window = _window(where, problem, None)
    block, adjacent = blocks.slots(start, _positive(where, "duration", duration), window)
    if block.start >= block.stop:
        raise InputError(where, "start", start.isoformat(), "the block lies outside the horizon")
    return blocks.largest(block, adjacent if adjacent_hours else [])


def available_flex(
    problem: ChargingProblem,
    node: int | str,
    baseline_kw: float | NDArray,
    *,
    window: tuple[datetime, datetime] | None = None,
    max_duration: timedelta = DISPATCH_DURATIONS[-1],
    start_step: timedelta | None = None,
    adjacent_hours: bool = True,
    base_load_included: bool = False,
    flexibility: NodeFlexibility | None = None,
) -> AvailableFlex:
    """The reduction callable in any 2/4/6-hour block of a window (the NL-Flex available flex).

    Parameters
    ----------
    problem, node, baseline_kw, adjacent_hours, base_load_included, flexibility
        As for :func:`block_flex_kw`.
    window : (datetime, datetime), optional
        Where dispatches may lie (NL-Flex: the FLEX event's 24 hours); the
        horizon by default. It must lie inside the horizon.
    max_duration : timedelta
        The group's MAX_DURATION: blocks of 2, 4 and 6 hours up to it.
    start_step : timedelta, optional
        Blocks start every ``start_step`` from the window's start (the slot length by default).

    Returns
    -------
    AvailableFlex
    """
    where = "available_flex"
    blocks = _Blocks(problem, node, baseline_kw, base_load_included, flexibility, where)
    first, last = _window(where, problem, window)
    durations = [d for d in DISPATCH_DURATIONS[::-1] if d <= max_duration]
    if not durations:
        raise InputError(where, "max_duration", max_duration, "must be at least PT2H")
    step = _positive(where, "start_step", start_step or timedelta(seconds=problem.grid.step_s))
    best, worst, count = math.inf, None, 0
    for start, duration in _starts(first, last, durations, step):
        block, adjacent = blocks.slots(start, duration, (first, last))
        adjacent = adjacent if adjacent_hours else []
        count += 1
        known = None if worst is None else round(best * 100)
        if known is None or not blocks.ok(block, adjacent, known):
            best, worst = blocks.largest(block, adjacent, known), (start, duration)
            if best == -math.inf:
                break
    if worst is None:
        raise InputError(where, "window", (first, last), "holds no block up to max_duration")
    return AvailableFlex(blocks.node_id, best, worst[0], worst[1], count)


def _starts(first: datetime, last: datetime, durations: list[timedelta], step: timedelta):
    """(start, duration) of every block in the window, longest durations first."""
    for duration in durations:
        start = first
        while start + duration <= last:
            yield start, duration
            start += step


def _baseline(where: str, baseline_kw, n_slots: int) -> NDArray[np.float64]:
    try:
        array = np.broadcast_to(np.asarray(baseline_kw, dtype=np.float64), (n_slots,))
    except (TypeError, ValueError):
        raise InputError(
            where, "baseline_kw", baseline_kw, f"must be {n_slots} kW or one"
        ) from None
    if isinstance(baseline_kw, bool) or not np.isfinite(array).all():
        raise InputError(where, "baseline_kw", baseline_kw, "must be finite numbers of kW")
    return np.array(array)


def _window(where: str, problem: ChargingProblem, window) -> tuple[datetime, datetime]:
    grid = problem.grid
    first, last = window if window is not None else (grid.start, grid.end)
    if not grid.start <= first < last <= grid.end:
        raise InputError(
            where, "window", (str(first), str(last)), "must be a non-empty span of the horizon"
        )
    return first, last


def _positive(where: str, name: str, span: timedelta) -> timedelta:
    if not isinstance(span, timedelta) or span <= timedelta(0):
        raise InputError(where, name, span, "must be a positive timedelta")
    return span
