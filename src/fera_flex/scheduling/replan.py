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
from fera_flex.scheduling.problem import PROFILE_TYPES, ChargingProblem
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
    last = problem.departure_slot[keep] - 1

    def rows(array):
        return array[keep] if array.ndim == 2 and array.shape[0] == problem.n_sessions else array

    return ChargingProblem.from_arrays(
        grid=problem.grid,
        arrival_slot=arrival,
        departure_slot=problem.departure_slot[keep],
        first_slot_fraction=problem.presence[keep, arrival],
        last_slot_fraction=problem.presence[keep, last],
        energy_kwh=np.maximum(problem.energy_kwh[keep] - delivered[keep], 0.0),
        power_max_kw=problem.power_max_kw[keep],
        power_min_kw=problem.power_min_kw[keep],
        discharge_max_kw=problem.discharge_max_kw[keep],
        charge_efficiency=problem.charge_efficiency[keep],
        discharge_efficiency=problem.discharge_efficiency[keep],
        profile_type=[PROFILE_TYPES[code] for code in problem.profile_type[keep]],
        node_of_session=problem.node_of_session[keep],
        node_parent=problem.node_parent,
        node_capacity_kw=problem.node_capacity_kw,
        export_capacity_kw=problem.export_capacity_kw,
        base_load_kw=problem.base_load_kw,
        price_eur_per_kwh=rows(problem.price_eur_per_kwh),
        export_price_eur_per_kwh=rows(problem.export_price_eur_per_kwh),
        emission_g_per_kwh=rows(problem.emission_g_per_kwh),
        session_phases=problem.session_phases[keep],
        phase_current_max_a=problem.phase_current_max_a,
        node_voltage_v=problem.node_voltage_v,
        session_ids=[problem.session_ids[i] for i in keep],
        evse_uids=[problem.evse_uids[i] for i in keep],
        node_ids=problem.node_ids,
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
    from it; its OCPI Sessions' ``kwh`` already counts delivered energy, so
    only ``measured_kwh`` is subtracted then.

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
        planned = (
            plan.charge_kw[:, :first_free] * problem.charge_efficiency[:, None]
            - plan.discharge_kw[:, :first_free] / problem.discharge_efficiency[:, None]
        )
        delivered = (planned * problem.slot_energy_h[:, :first_free]).sum(axis=1)
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
    for session_id, energy in (measured_kwh or {}).items():
        if session_id not in problem.session_ids:
            raise InputError(_WHERE, "measured_kwh", session_id, "names no session of the problem")
        if not np.isfinite(energy) or energy < 0:
            raise InputError(
                _WHERE, f"measured_kwh[{session_id!r}]", energy, "must be a finite number >= 0"
            )
        delivered[problem.session_ids.index(session_id)] = energy
    remaining = remaining_problem(problem, int(first_free), delivered)
    return schedule(remaining, method or plan.backend, start_plan=plan, **options)
