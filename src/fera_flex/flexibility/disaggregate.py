"""An activated flexibility profile per node turned back into per-session charging.

:func:`disaggregate` puts the dispatch into the problem as node target bands
(:func:`fera_flex.scheduling.dispatch.with_dispatch`) and schedules it: the
plan follows the dispatch as closely as the limits and needs allow (least
total deviation first, then the sessions' own objectives), so a dispatch
outside the feasible set gives the closest feasible plan, never an
exception. :func:`dispatch_deviation_kw` is how far the plan's node loads
are from the dispatch. A feasible dispatch is realised to the stage
tolerance of ``schedule()`` (the least deviation is passed on to the cost
stage with 1e-7 kWh of slack per targeted slot).

Examples
--------
>>> import numpy as np
>>> from fera_flex.flexibility import aggregate
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(20, n_slots=16, seed=2)
>>> wanted = aggregate(problem, 0).optimise(np.linspace(0.4, 0.1, 16))  # a feasible node load
>>> plan = disaggregate(problem, {0: wanted})
>>> plan.stages, float(np.abs(dispatch_deviation_kw(plan)).max()) < 1e-5
(('track', 'economic'), True)
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.scheduling.dispatch import band_deviation_kw, with_dispatch
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule

__all__ = ["disaggregate", "dispatch_deviation_kw"]


def disaggregate(problem: ChargingProblem, dispatch: Any, **options: Any) -> ChargingPlan:
    """Per-session power that realises a dispatch (see :mod:`fera_flex.scheduling.dispatch`).

    Parameters
    ----------
    problem : ChargingProblem
    dispatch : FlexibilityDispatch, list of them, or mapping node -> Profile or values
        The activated node loads [kW] in the slots they name.
    **options
        Passed to :func:`~fera_flex.schedule` (``method``, objective and solver options).

    Returns
    -------
    ChargingPlan
        A plan of ``problem`` with the dispatch as its target bands
        (``plan.problem``); it passes ``verify_plan`` like any plan.
    """
    return schedule(with_dispatch(problem, dispatch), **options)


def dispatch_deviation_kw(plan: ChargingPlan) -> NDArray[np.float64]:
    """Node load minus its target band per (node, slot) [kW]; 0 inside the band or without one."""
    return band_deviation_kw(plan.problem, plan.charge_kw - plan.discharge_kw)
