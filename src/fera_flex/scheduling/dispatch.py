"""Activated flexibility (dispatches) as node target bands of a problem.

A dispatch fixes a node's load in the slots it names and leaves the rest of
the horizon free. It is given as

- a :class:`~fera_flex.models.fera.FlexibilityDispatch` (its own ``start``,
  ``step_s`` and one value per slot) or a list of them;
- a mapping of node id (or index) to a :class:`~fera_flex.timeseries.Profile`
  (the slots it covers entirely) or to one value per slot of the horizon.

:func:`dispatch_targets` turns it into per-(node, slot) targets [kW], NaN
where free; :func:`with_dispatch` puts them into a problem as its target
bands (both ends at the target), which ``schedule()`` follows by its TRACK
stage before cost.

Examples
--------
>>> import numpy as np
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(4, n_slots=8, seed=0)
>>> target = dispatch_targets(problem, {problem.node_ids[0]: np.full(8, 5.0)})
>>> target.shape, float(target[0, 0]), bool(np.isnan(target[1:]).all())
((4, 8), 5.0, True)
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.timeseries import Profile

__all__ = ["band_deviation_kw", "dispatch_targets", "with_dispatch"]

_WHERE = "dispatch"


def dispatch_targets(problem: ChargingProblem, dispatch: Any) -> NDArray[np.float64]:
    """Target load per (node, slot) [kW] of a dispatch, NaN where it leaves the node free.

    Raises
    ------
    InputError
        For an unknown node, another time grid, a value that is not finite, a
        dispatch outside the horizon, or two dispatches for one node and slot.
    """
    target = np.full((problem.n_nodes, problem.n_slots), np.nan)
    for label, node, first, values in _parts(problem, dispatch):
        k = _node(problem, node, label)
        stop = first + values.size
        if first < 0 or stop > problem.n_slots:
            raise InputError(
                _WHERE,
                label,
                f"slots {first}..{stop - 1}",
                f"outside the horizon (0..{problem.n_slots - 1})",
            )
        if not np.isfinite(values).all():
            raise InputError(_WHERE, label, values.tolist(), "every value must be finite")
        taken = ~np.isnan(target[k, first:stop])
        if taken.any():
            slot = first + int(np.flatnonzero(taken)[0])
            raise InputError(
                _WHERE,
                label,
                f"node {problem.node_ids[k]!r}, slot {slot}",
                "overlaps another dispatch",
            )
        target[k, first:stop] = values
    return target


def with_dispatch(problem: ChargingProblem, dispatch: Any) -> ChargingProblem:
    """The problem with the dispatch as its node target bands (replacing them where named)."""
    target = dispatch_targets(problem, dispatch)
    named = ~np.isnan(target)
    low = np.where(named, target, problem.node_target_min_kw)
    high = np.where(named, target, problem.node_target_max_kw)
    return problem.replace(node_target_min_kw=low, node_target_max_kw=high)


def band_deviation_kw(problem: ChargingProblem, net_kw: Any) -> NDArray[np.float64]:
    """Node load minus its target band per (node, slot) [kW] (m, T); 0 inside a band or without.

    ``net_kw`` is the net power per session (n, T): charge minus discharge.
    """
    low, high = problem.node_target_min_kw, problem.node_target_max_kw
    if not (np.isfinite(low).any() or np.isfinite(high).any()):
        return np.zeros(low.shape)
    load = problem.node_loads_kw(net_kw)
    above = np.maximum(load - high, 0.0)
    below = np.minimum(load - low, 0.0)
    return np.where(np.isfinite(high), above, 0.0) + np.where(np.isfinite(low), below, 0.0)


def _parts(problem: ChargingProblem, dispatch: Any):
    """(label, node, first slot, values) of every part of a dispatch."""
    grid = problem.grid
    if isinstance(dispatch, FlexibilityDispatch):
        dispatch = [dispatch]
    if isinstance(dispatch, Mapping):
        for node, values in dispatch.items():
            label = f"[{node!r}]"
            if isinstance(values, Profile):
                sampled = values.resample(grid)
                first = (sampled.start_s - grid.start_s) // grid.step_s
                yield label, node, int(first), np.asarray(sampled.values, dtype=np.float64)
                continue
            array = np.asarray(values, dtype=np.float64)
            if array.shape != (grid.n,):
                raise InputError(
                    _WHERE,
                    label,
                    array.shape,
                    f"must be a Profile or {grid.n} values (one per slot)",
                )
            yield label, node, 0, array
        return
    if not isinstance(dispatch, Sequence) or isinstance(dispatch, str):
        raise InputError(
            _WHERE,
            "dispatch",
            type(dispatch).__name__,
            "must be a FlexibilityDispatch, a list of them, or a mapping node -> values",
        )
    for item in dispatch:
        if not isinstance(item, FlexibilityDispatch):
            kind = type(item).__name__
            raise InputError(_WHERE, "dispatch", kind, "must be a FlexibilityDispatch")
        label = f"FlexibilityDispatch {item.id!r}"
        offset_s = int(item.start.timestamp()) - grid.start_s
        if item.step_s != grid.step_s or offset_s % grid.step_s:
            given = f"start {item.start.isoformat()}, step_s {item.step_s}"
            wanted = (
                f"must lie on the grid: step_s {grid.step_s}, slots from {grid.start.isoformat()}"
            )
            raise InputError(_WHERE, label, given, wanted)
        values = np.asarray(item.power_kw, dtype=np.float64)
        yield label, item.node_id, offset_s // grid.step_s, values


def _node(problem: ChargingProblem, node: Any, label: str) -> int:
    try:
        return problem.node_index(node)
    except InputError as error:
        raise InputError(_WHERE, label, node, "no such node") from error
