"""An NL-Flex FLEX dispatch as import limits of the resource group's node in a ChargingProblem.

Each dispatch interval caps the group's offtake at ``ACTIVE_BASELINE -
FLEX`` [kW] (an adjacent hour at the baseline) in every slot it overlaps; the
group's offtake is the EV load through the node, or with
``base_load_included`` the node's whole load (EVs plus non-EV load). The
result is a new problem (:meth:`ChargingProblem.replace` of its node
capacities): ``schedule`` it, and every limit holds.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> import fera_flex as ff
>>> from fera_flex.standards.openadr.events import FlexDispatch, FlexInterval
>>> grid = ff.TimeGrid(datetime(2026, 3, 3, tzinfo=timezone.utc), timedelta(hours=1), 24)
>>> problem = ff.ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[16], departure_slot=[24], energy_kwh=[30.0],
...     power_max_kw=11.0, node_of_session=[0], node_parent=[-1],
...     node_capacity_kw=50.0, price_eur_per_kwh=0.25, node_ids=["group-1"])
>>> at = lambda hour: datetime(2026, 3, 3, hour, tzinfo=timezone.utc)
>>> dispatch = FlexDispatch("flex-1", "nl-flex", "group-1", at(0), at(0) + timedelta(days=1),
...     (FlexInterval(0, at(17), at(19), 4.0, False), FlexInterval(1, at(19), at(20), 0.0, True)))
>>> capped = with_flex_dispatch(problem, dispatch, baseline_kw=10.0)
>>> capped.node_capacity_kw[0, 16:21].tolist()
[50.0, 6.0, 6.0, 10.0, 50.0]
"""

import math
from datetime import datetime
from decimal import Decimal

import numpy as np

from fera_flex.errors import InputError
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.standards.openadr._rules import power_value
from fera_flex.standards.openadr.events import FlexDispatch
from fera_flex.timeseries import TimeGrid

__all__ = ["covering_slots", "with_flex_dispatch"]


def with_flex_dispatch(
    problem: ChargingProblem,
    dispatch: FlexDispatch,
    baseline_kw: float,
    node: int | str | None = None,
    *,
    base_load_included: bool = False,
) -> ChargingProblem:
    """The problem with a FLEX dispatch as import limits of the resource group's node.

    Every slot that a dispatch interval (or adjacent hour) overlaps, widened by
    its ``randomizeStart``, gets the limit ``baseline_kw - FLEX`` on the group's
    offtake (on top of the node's own limit: the smaller one holds). Intervals
    outside the horizon have no effect. The node capacities are replaced with
    :meth:`ChargingProblem.replace`.

    Parameters
    ----------
    problem : ChargingProblem
    dispatch : FlexDispatch
    baseline_kw : float
        The group's ``ACTIVE_BASELINE`` [kW].
    node : int or str, optional
        The node of the resource group; the node whose id is ``dispatch.group`` by default.
    base_load_included : bool
        Whether the group's offtake includes the node's non-EV load (by
        default the offtake is the EV load through the node).

    Raises
    ------
    InputError
        For an unknown node, or a cap below 0 kW.
    """
    where = "with_flex_dispatch"
    if not isinstance(dispatch, FlexDispatch):
        raise InputError(where, "dispatch", type(dispatch).__name__, "must be a FlexDispatch")
    if power_value(baseline_kw) is None:
        raise InputError(where, "baseline_kw", baseline_kw, "must be a number of kW, 2 decimals")
    k = problem.node_index(dispatch.group if node is None else node)
    capacity = np.array(
        np.broadcast_to(problem.node_capacity_kw, (problem.n_nodes, problem.n_slots))
    )
    other_load = 0.0 if base_load_included else problem.node_base_load_kw[k]
    cap = np.full(problem.n_slots, np.inf)
    for interval in dispatch.intervals:
        limit = float(Decimal(repr(float(baseline_kw))) - Decimal(repr(interval.flex_kw)))
        if limit < 0:
            raise InputError(
                where,
                f"dispatch.intervals[id={interval.id}]",
                interval.flex_kw,
                f"caps the offtake at {limit} kW below 0 (ACTIVE_BASELINE {baseline_kw} kW)",
            )
        first, stop = covering_slots(
            problem.grid,
            interval.start - interval.randomize_start,
            interval.end + interval.randomize_start,
        )
        cap[first:stop] = np.minimum(cap[first:stop], limit)
    capacity[k] = np.minimum(capacity[k], cap + other_load)
    return problem.replace(node_capacity_kw=capacity)


def covering_slots(grid: TimeGrid, start: datetime, end: datetime) -> tuple[int, int]:
    """First and stop slot of the grid's slots that ``[start, end)`` overlaps (clipped)."""
    first = math.floor((start.timestamp() - grid.start_s) / grid.step_s)
    stop = math.ceil((end.timestamp() - grid.start_s) / grid.step_s)
    return max(first, 0), min(max(stop, 0), grid.n)
