"""Why a session's need is not met: the limits that bind during its stay, by name.

For each session whose delivered energy falls short of its need (by more
than 1e-6 relative), the causes are, in this order, every one that applies:

- its own limits: power limit, shared EVSE rating and node room over its
  stay allow less than the need (``max_deliverable_kwh``);
- its shared EVSE is at its rating in some slot of its stay;
- a node above it is at its import limit in some slot of its stay;
- a phase current limit of a node above it is reached in some slot;
- its minimum charging rate (on/off charging leaves energy unusable);
- otherwise, no limit is found binding: the shortfall is within the
  solver's tolerance or comes from the stages' tolerance.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> from fera_flex.scheduling.schedule import schedule
>>> plan = schedule(random_problem(20, seed=1, overload=1.5))
>>> all("grid limits bind" in cause for cause in plan.unmet_causes.values())
True
"""

import numpy as np
from numpy.typing import NDArray

from fera_flex.scheduling.verify import phase_currents_a

__all__ = ["unmet_causes"]

_UNMET_RTOL = 1e-6
_TIGHT_RTOL = 1e-4


def _tight(load: NDArray, limit: NDArray) -> NDArray[np.bool_]:
    """Where a load is within ``_TIGHT_RTOL`` (relative, >= 1e-4 absolute) of a finite limit."""
    finite = np.isfinite(limit)
    safe = np.where(finite, limit, 0.0)
    return finite & (load >= safe - _TIGHT_RTOL * np.maximum(1.0, np.abs(safe)))


def _phase_tight(problem, net_kw: NDArray) -> NDArray[np.bool_]:
    """(m, 3, T): where a phase current of a node is at its limit."""
    limit = problem.phase_current_max_a
    tight = np.zeros((problem.n_nodes, 3, problem.n_slots), dtype=bool)
    if not np.isfinite(limit).any():
        return tight
    currents, base_a = phase_currents_a(problem, net_kw)
    for phase, amps in enumerate(currents):
        tight[:, phase] = _tight(amps + base_a, limit)
    return tight


def unmet_causes(plan) -> dict[str, str]:
    """Session id -> the limits that keep its need from being met (see the module doc)."""
    problem = plan.problem
    need = problem.energy_min_kwh
    short = np.flatnonzero(plan.unmet_kwh > _UNMET_RTOL * np.maximum(1.0, need))
    if short.size == 0:
        return {}
    deliverable = problem.max_deliverable_kwh()
    node_tight = _tight(plan.node_load_kw, problem.node_capacity_kw)
    phase_tight = _phase_tight(problem, plan.power_kw)
    evse_tight = _tight(problem.evse_loads_kw(plan.charge_kw), problem.evse_power_max_kw)
    ancestors = problem.ancestors()
    causes = {}
    for i in short:
        window = problem.presence[i] > 0
        reasons = []
        if deliverable[i] < need[i] * (1 - _UNMET_RTOL):
            reasons.append(
                f"its own power limit, EVSE and stay allow at most {deliverable[i]:.6g} kWh "
                f"of the {need[i]:.6g} kWh needed"
            )
        evse = problem.evse_of_session[i]
        if evse >= 0 and (evse_tight[evse] & window).any():
            slots = int((evse_tight[evse] & window).sum())
            reasons.append(f"its EVSE {problem.evse_ids[evse]} is shared and full ({slots} slots)")
        path = [k for k in ancestors[problem.node_of_session[i]] if k >= 0]
        nodes = [
            f"{problem.node_ids[k]} ({int((node_tight[k] & window).sum())} slots)"
            for k in path
            if (node_tight[k] & window).any()
        ]
        if nodes:
            reasons.append("grid limits bind during its stay: " + ", ".join(nodes))
        phases = [
            f"{problem.node_ids[k]}/L{phase + 1}"
            for k in path
            for phase in range(3)
            if problem.session_phases[i, phase] and (phase_tight[k, phase] & window).any()
        ]
        if phases:
            reasons.append("phase current limits bind during its stay: " + ", ".join(phases))
        if problem.power_min_kw[i] > 0:
            reasons.append(f"its minimum charging rate of {problem.power_min_kw[i]:.6g} kW")
        if not reasons:
            reasons.append("no limit binds: the shortfall is within the solver's tolerance")
        causes[problem.session_ids[i]] = "; ".join(reasons)
    return causes
