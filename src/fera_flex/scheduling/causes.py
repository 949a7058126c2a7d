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

from collections.abc import Iterator, Mapping

import numpy as np
from numpy.typing import NDArray

from fera_flex.scheduling.verify import phase_currents_a

__all__ = ["UnmetCauses", "short_sessions", "unmet_causes"]

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


def short_sessions(plan) -> NDArray[np.int64]:
    """The sessions whose delivered energy falls short of their need (by over 1e-6 relative)."""
    need = plan.problem.energy_min_kwh
    return np.flatnonzero(plan.unmet_kwh > _UNMET_RTOL * np.maximum(1.0, need))


class UnmetCauses(Mapping):
    """A plan's :func:`unmet_causes`, worked out on first use.

    ``schedule()`` gives every plan one: the texts of a large fleet take time
    that most callers (aggregators, benchmarks) never use (about 0.2 s for the
    31,000 short sessions of 100,000 in ``benchmarks/flow.py``).

    Examples
    --------
    >>> from fera_flex.scenarios import random_problem
    >>> from fera_flex.scheduling.schedule import schedule
    >>> plan = schedule(random_problem(20, seed=1, overload=1.5))
    >>> isinstance(plan.unmet_causes, UnmetCauses), len(plan.unmet_causes) > 0
    (True, True)
    """

    def __init__(self, plan) -> None:
        self._plan = plan
        self._causes: dict[str, str] | None = None

    def _worked_out(self) -> dict[str, str]:
        if self._causes is None:
            self._causes, self._plan = unmet_causes(self._plan), None
        return self._causes

    def __getitem__(self, session_id: str) -> str:
        return self._worked_out()[session_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._worked_out())

    def __len__(self) -> int:
        return len(self._worked_out())

    def __repr__(self) -> str:
        return f"UnmetCauses({self._worked_out()!r})"


def unmet_causes(plan) -> dict[str, str]:
    """Session id -> the limits that keep its need from being met (see the module doc)."""
    problem = plan.problem
    need = problem.energy_min_kwh
    short = short_sessions(plan)
    if short.size == 0:
        return {}
    deliverable = problem.max_deliverable_kwh()
    node_tight = _tight(plan.node_load_kw, problem.node_capacity_kw)
    phase_tight = _phase_tight(problem, plan.power_kw)
    evse_tight = _tight(problem.evse_loads_kw(plan.charge_kw), problem.evse_power_max_kw)
    # what binds during each short session's stay, counted for all of them at once
    window = problem.presence[short] > 0
    path = problem.ancestors()[problem.node_of_session[short]]  # (s, levels), -1 past the root
    node_slots = np.zeros(path.shape, dtype=np.int64)
    phase_hit = np.zeros((*path.shape, 3), dtype=bool)
    for level in range(path.shape[1]):
        on = path[:, level] >= 0
        k = path[on, level]
        node_slots[on, level] = (node_tight[k] & window[on]).sum(axis=1)
        for phase in range(3):
            used = problem.session_phases[short[on], phase]
            phase_hit[on, level, phase] = used & (phase_tight[k, phase] & window[on]).any(axis=1)
    evse = problem.evse_of_session[short]
    evse_slots = np.zeros(short.size, dtype=np.int64)
    shared = evse >= 0
    evse_slots[shared] = (evse_tight[evse[shared]] & window[shared]).sum(axis=1)
    node_counts, path_rows = node_slots.tolist(), path.tolist()  # plain Python in the loop
    phase_rows = phase_hit.any(axis=(1, 2)).tolist()
    causes = {}
    for row, i in enumerate(short.tolist()):
        reasons = []
        if deliverable[i] < need[i] * (1 - _UNMET_RTOL):
            reasons.append(
                f"its own power limit, EVSE and stay allow at most {deliverable[i]:.6g} kWh "
                f"of the {need[i]:.6g} kWh needed"
            )
        if evse_slots[row]:
            name = problem.evse_ids[evse[row]]
            reasons.append(f"its EVSE {name} is shared and full ({evse_slots[row]} slots)")
        nodes = [
            f"{problem.node_ids[k]} ({count} slots)"
            for k, count in zip(path_rows[row], node_counts[row], strict=True)
            if count
        ]
        if nodes:
            reasons.append("grid limits bind during its stay: " + ", ".join(nodes))
        if phase_rows[row]:
            phases = ", ".join(
                f"{problem.node_ids[path[row, level]]}/L{phase + 1}"
                for level, phase in np.argwhere(phase_hit[row])
            )
            reasons.append("phase current limits bind during its stay: " + phases)
        if problem.power_min_kw[i] > 0:
            reasons.append(f"its minimum charging rate of {problem.power_min_kw[i]:.6g} kW")
        if not reasons:
            reasons.append("no limit binds: the shortfall is within the solver's tolerance")
        causes[problem.session_ids[i]] = "; ".join(reasons)
    return causes
