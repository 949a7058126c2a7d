"""Receding-horizon re-planning: keep the past, re-solve the rest.

Examples
--------
>>> from datetime import timedelta
>>> from fera_flex.scenarios import random_problem
>>> from fera_flex.scheduling.schedule import schedule
>>> plan = schedule(random_problem(10, seed=4))
>>> later = replan(plan, plan.problem.grid.start + timedelta(hours=10))
>>> bool((later.charge_kw[:, :41] == 0).all()), later.status.value
(True, 'optimal')
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from fera_flex._time import epoch_s
from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule

__all__ = ["remaining_problem", "replan"]

_WHERE = "replan"


def remaining_problem(
    problem: ChargingProblem, first_free_slot: int, delivered_kwh: Any
) -> ChargingProblem:
    """The problem left from ``first_free_slot`` on, with needs reduced by what was delivered.

    Parameters
    ----------
    problem : ChargingProblem
        The full problem.
    first_free_slot : int
        Slots before it are the past (executed) and get no power.
    delivered_kwh : array, shape (n,)
        Energy each session has already received [kWh].

    Returns
    -------
    ChargingProblem
        Same grid, nodes and signals; only sessions still plugged in after
        the past, with windows starting at ``first_free_slot`` at the
        earliest and needs ``max(need - delivered, 0)``.
    """
    if not 0 <= first_free_slot < problem.n_slots:
        raise InputError(
            _WHERE,
            "now",
            first_free_slot,
            f"leaves no slot of the horizon (0..{problem.n_slots - 1})",
        )
    delivered = np.asarray(delivered_kwh, dtype=np.float64)
    keep = np.flatnonzero(problem.departure_slot > first_free_slot)
    arrival = np.maximum(problem.arrival_slot[keep], first_free_slot)
    rows = np.arange(keep.size)
    remaining = problem.select(keep)
    return remaining.replace(
        arrival_slot=arrival,
        first_slot_fraction=remaining.presence[rows, arrival],
        energy_min_kwh=np.maximum(problem.energy_min_kwh[keep] - delivered[keep], 0.0),
        energy_max_kwh=np.maximum(problem.energy_max_kwh[keep] - delivered[keep], 0.0),
    )


def replan(
    plan: ChargingPlan,
    now: datetime,
    scenario_update: Scenario | None = None,
    *,
    measured_kwh: Mapping[str, float] | None = None,
    method: str | None = None,
    **options: Any,
) -> ChargingPlan:
    """Re-plan from ``now``: the past stays as it was, the rest is solved again.

    The slot containing ``now`` has begun and counts as past. Energy already
    delivered comes from ``measured_kwh`` where given, else from ``plan``
    (what it planned for the past). With a ``scenario_update`` (new or
    changed sessions, limits, prices on the same grid) the problem is rebuilt
    from it. Delivered energy is counted once: a scenario's OCPI Session
    ``kwh`` already reduces its need, so for such a session only the part of
    ``measured_kwh`` above that ``kwh`` is subtracted (the newer of two
    readings of the same meter wins); for an arrival estimate, all of it.

    Parameters
    ----------
    plan : ChargingPlan
        The plan being executed.
    now : datetime
        The current time (aware), inside the horizon.
    scenario_update : Scenario, optional
        The scenario as it is now.
    measured_kwh : mapping, optional
        Session id -> energy measured so far [kWh].
    method : str, optional
        Backend; the previous plan's when omitted.
    **options
        As for :func:`~fera_flex.scheduling.schedule.schedule`.

    Returns
    -------
    ChargingPlan
        A plan of the remaining problem: no power before the first free
        slot; needs reduced by what was delivered. The old plan's future is
        offered to the backend as a warm start.
    """
    grid = plan.problem.grid
    now_s = epoch_s(now, _WHERE, "now")
    if not grid.start_s <= now_s < grid.end_s:
        raise InputError(_WHERE, "now", now.isoformat(), "must lie inside the plan's horizon")
    first_free = (now_s - grid.start_s) // grid.step_s + 1
    if first_free >= grid.n:
        raise InputError(
            _WHERE, "now", now.isoformat(), "is in the last slot: nothing is left to plan"
        )
    if scenario_update is None:
        problem = plan.problem
        gained = problem.battery_gain_kwh(plan.charge_kw, plan.discharge_kw)
        delivered = gained[:, :first_free].sum(axis=1)
    else:
        problem = ChargingProblem.from_scenario(scenario_update)
        if problem.grid != grid:
            raise InputError(
                _WHERE,
                "scenario_update",
                scenario_update.name,
                "must keep the plan's horizon and slots",
            )
        delivered = np.zeros(problem.n_sessions)
    counted = _counted_kwh(problem, scenario_update)
    for session_id, energy in (measured_kwh or {}).items():
        if session_id not in problem.session_ids:
            raise InputError(_WHERE, "measured_kwh", session_id, "names no session of the problem")
        if not np.isfinite(energy) or energy < 0:
            raise InputError(
                _WHERE, f"measured_kwh[{session_id!r}]", energy, "must be a finite number >= 0"
            )
        row = problem.session_ids.index(session_id)
        delivered[row] = max(energy - counted[row], 0.0)
    remaining = remaining_problem(problem, int(first_free), delivered)
    return schedule(remaining, method or plan.backend, start_plan=plan, **options)


def _counted_kwh(problem: ChargingProblem, scenario: Scenario | None) -> np.ndarray:
    """Energy per session the problem's needs already count as delivered [kWh].

    Without a scenario update nothing (the plan's own past is subtracted);
    with one, each OCPI Session's ``kwh`` (``from_scenario`` subtracts it).
    """
    counted = np.zeros(problem.n_sessions)
    if scenario is None:
        return counted
    kwh = {session.id: session.kwh for session in scenario.sessions}
    for row, session_id in enumerate(problem.session_ids):
        counted[row] = kwh.get(session_id, 0.0)
    return counted
