"""``schedule(problem)``: solve a charging problem with a backend, safely.

Energy is handled lexicographically. The problem is first solved with every
need delivered exactly (stage HARD). If that is infeasible:

1. MAX_ENERGY: deliver the most energy possible (minimise total shortfall);
2. FAIR: with that total fixed, minimise the largest relative shortfall of
   any session, so shortfalls are shared in proportion to the needs;
3. ECONOMIC: with both fixed, minimise the economic objective.

Whatever the solver returns is then made safe: powers are clipped to their
bounds and any limit that solver tolerance pushed past is repaired by
scaling power down, so no plan exceeds a limit it was given. A solver
failure or time limit returns a safe plan (the best one found, or a plan
that does not charge) with a status that says so.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> plan = schedule(random_problem(20, seed=1, overload=1.5))
>>> plan.status.value, bool(plan.unmet_kwh.sum() > 0)
('partial', True)
"""

import time
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling._lp import EnergyStage, StandardLP, build_lp
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.plan import ChargingPlan, PlanStatus
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.solver import (
    LPSolution,
    SolverOptions,
    SolveStatus,
    get_backend,
)
from fera_flex.scheduling.verify import verify_power

__all__ = ["schedule"]

_STAGE_TOLERANCE = 1e-7
_REPAIR_PASSES = 8
_OBJECTIVE_KEYS = {f.name for f in fields(ObjectiveOptions)}
_SOLVER_KEYS = {f.name for f in fields(SolverOptions)}


def schedule(
    problem: ChargingProblem,
    method: str = "auto",
    *,
    objective: ObjectiveOptions | None = None,
    solver_options: SolverOptions | None = None,
    start_plan: ChargingPlan | None = None,
    **options: Any,
) -> ChargingPlan:
    """Plan every session's charging within every limit.

    Parameters
    ----------
    problem : ChargingProblem
        The problem.
    method : str
        ``"auto"`` (HiGHS), ``"highs"`` or ``"cvxpy"``.
    objective : ObjectiveOptions, optional
        Objective weights.
    solver_options : SolverOptions, optional
        Solver settings.
    start_plan : ChargingPlan, optional
        A previous plan on the same grid (sessions matched by id) offered to
        the backend as a warm start: HiGHS's MIP solver takes it as its first
        incumbent, cvxpy passes it to solvers that warm start.
    **options
        Shortcuts for fields of :class:`ObjectiveOptions` and
        :class:`SolverOptions` (e.g. ``time_limit_s=5``), and backend
        arguments (``extra_objective`` for cvxpy).

    Returns
    -------
    ChargingPlan

    Raises
    ------
    InputError
        For an unknown method or option.
    """
    started = time.perf_counter()
    if not isinstance(problem, ChargingProblem):
        raise InputError("schedule", "problem", type(problem).__name__, "must be a ChargingProblem")
    backend_name = "highs" if method == "auto" else method
    solve_lp = get_backend(backend_name)
    objective, solver_options, backend_args = _split_options(objective, solver_options, options)
    if backend_args and backend_name != "cvxpy":
        raise InputError(
            "schedule", "extra_objective", backend_name, "custom cvxpy terms need method='cvxpy'"
        )

    timings = {"build_lp": 0.0, "build": 0.0, "solve": 0.0}
    start_power = _start_power(problem, start_plan)

    def run(stage: EnergyStage, **bounds: Any) -> tuple[StandardLP, LPSolution]:
        tic = time.perf_counter()
        lp = build_lp(problem, objective, stage, **bounds)
        timings["build_lp"] += time.perf_counter() - tic
        solution = solve_lp(lp, solver_options, **backend_args)
        timings["build"] += solution.build_s
        timings["solve"] += solution.solve_s
        return lp, solution

    lp, solution = run(EnergyStage.HARD, start_power=start_power)
    status = PlanStatus.OPTIMAL
    if solution.status is SolveStatus.INFEASIBLE:
        status = PlanStatus.PARTIAL
        lp, solution = run(EnergyStage.MAX_ENERGY)
        if solution.status is SolveStatus.OPTIMAL:
            unmet = _relaxed(float(solution.objective))
            lp, solution = run(EnergyStage.FAIR, total_unmet_kwh=unmet)
            if solution.status is SolveStatus.OPTIMAL:
                worst = _relaxed(float(solution.x[lp.columns["fair"]][0]))
                lp, solution = run(
                    EnergyStage.ECONOMIC, total_unmet_kwh=unmet, max_relative_shortfall=worst
                )
    if solution.status is SolveStatus.TIME_LIMIT:
        status = PlanStatus.TIME_LIMIT
    elif solution.status is not SolveStatus.OPTIMAL:
        status = PlanStatus.FAILED
    charge, discharge = _unpack(problem, lp, solution)
    charge, discharge = _make_safe(problem, charge, discharge)
    plan = ChargingPlan(
        problem=problem,
        charge_kw=charge,
        discharge_kw=discharge,
        status=status,
        backend=backend_name,
        objective_eur=solution.objective if status is not PlanStatus.FAILED else float("nan"),
        node_price_eur_per_kwh=_node_prices(problem, lp, solution),
        timings_s=MappingProxyType({**timings, "total": time.perf_counter() - started}),
        message=solution.message,
    )
    return replace(plan, unmet_causes=MappingProxyType(_unmet_causes(plan)))


def _start_power(problem: ChargingProblem, plan: ChargingPlan | None):
    """A previous plan's charge and discharge power, rows matched to ``problem`` by session id."""
    if plan is None:
        return None
    if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
        raise InputError(
            "schedule", "start_plan", type(plan).__name__, "must be a ChargingPlan on the same grid"
        )
    charge = np.zeros((problem.n_sessions, problem.n_slots))
    discharge = np.zeros_like(charge)
    index = {session_id: row for row, session_id in enumerate(plan.session_ids)}
    for row, session_id in enumerate(problem.session_ids):
        if session_id in index:
            charge[row] = plan.charge_kw[index[session_id]]
            discharge[row] = plan.discharge_kw[index[session_id]]
    return charge * (problem.presence > 0), discharge * (problem.presence > 0)


def _split_options(objective, solver_options, options):
    objective = objective or ObjectiveOptions()
    solver_options = solver_options or SolverOptions()
    objective_args = {k: v for k, v in options.items() if k in _OBJECTIVE_KEYS}
    solver_args = {k: v for k, v in options.items() if k in _SOLVER_KEYS}
    backend_args = {k: v for k, v in options.items() if k == "extra_objective"}
    unknown = set(options) - set(objective_args) - set(solver_args) - set(backend_args)
    if unknown:
        known = sorted(_OBJECTIVE_KEYS | _SOLVER_KEYS | {"extra_objective"})
        raise InputError(
            "schedule", "options", sorted(unknown), f"unknown; known options are {known}"
        )
    return (
        replace(objective, **objective_args),
        replace(solver_options, **solver_args),
        backend_args,
    )


def _relaxed(value: float) -> float:
    """A stage optimum loosened by the stage tolerance, for the next stage's bound."""
    return value + _STAGE_TOLERANCE * max(1.0, abs(value))


def _unpack(
    problem: ChargingProblem, lp: StandardLP, solution: LPSolution
) -> tuple[NDArray, NDArray]:
    charge = np.zeros((problem.n_sessions, problem.n_slots))
    discharge = np.zeros_like(charge)
    if solution.x is not None:
        charge[lp.charge_pairs] = solution.x[lp.columns["charge"]]
        discharge[lp.discharge_pairs] = solution.x[lp.columns["discharge"]]
    return charge, discharge


def _make_safe(
    problem: ChargingProblem, charge: NDArray, discharge: NDArray
) -> tuple[NDArray, NDArray]:
    """Clip to bounds, snap near-minimum rates, scale power down where a limit is exceeded."""
    charge = np.clip(charge, 0.0, problem.power_max_kw)
    discharge = np.clip(discharge, 0.0, problem.discharge_max_kw)
    p_min = problem.power_min_kw[:, None]
    below = (charge > 0) & (charge < p_min)
    charge = np.where(
        below & (charge >= p_min - 1e-6), np.minimum(p_min, problem.power_max_kw), charge
    )
    charge = np.where((charge > 0) & (charge < p_min), 0.0, charge)
    for _ in range(_REPAIR_PASSES):
        violations = verify_power(problem, charge, discharge, tolerance=0.0)
        if not violations:
            break
        charge, discharge = _repair(problem, charge, discharge, violations)
    return charge, discharge


def _repair(problem, charge, discharge, violations):
    """Scale or trim the power behind each violation just enough (tolerance-size corrections).

    Limits are repaired by lowering power, so a repair never breaks another
    limit; a slot pushed below its session's minimum rate is switched off.
    """
    charge, discharge = charge.copy(), discharge.copy()
    session_index = {s: i for i, s in enumerate(problem.session_ids)}
    ancestors = problem.ancestors()[problem.node_of_session]
    for violation in violations:
        if violation.kind == "energy":
            _trim_energy(
                problem, charge, session_index[violation.where], violation.value - violation.limit
            )
        elif violation.kind in ("node_import", "phase_current"):
            node = problem.node_ids.index(violation.where.split("/")[0])
            under = (ancestors == node).any(axis=1)
            excess = violation.value - violation.limit
            load = charge[under, violation.slot].sum()
            if load > 0:
                charge[under, violation.slot] *= max(0.0, 1.0 - excess / load * (1 + 1e-9) - 1e-12)
        elif violation.kind == "battery":
            _fill_battery(
                problem, discharge, session_index[violation.where], violation.slot, -violation.value
            )
        elif violation.kind == "node_export":
            node = problem.node_ids.index(violation.where)
            rows = np.flatnonzero((ancestors == node).any(axis=1))
            excess = violation.limit - violation.value
            load = discharge[rows, violation.slot].sum()
            if load > 0:
                discharge[rows, violation.slot] *= max(
                    0.0, 1.0 - excess / load * (1 + 1e-9) - 1e-12
                )
    p_min = problem.power_min_kw[:, None]
    charge = np.where((charge > 0) & (charge < p_min), 0.0, charge)
    return charge, discharge


def _trim_energy(problem: ChargingProblem, charge: NDArray, i: int, excess_kwh: float) -> None:
    """Remove ``excess_kwh`` from session ``i``, latest slots first, keeping its minimum rate.

    Cutting the latest slots first leaves the battery level of every earlier
    slot unchanged.
    """
    hours = problem.slot_energy_h[i] * problem.charge_efficiency[i]
    for slot in np.flatnonzero(charge[i] > 0)[::-1]:
        if excess_kwh <= 0:
            break
        floor = problem.power_min_kw[i] if charge[i, slot] >= problem.power_min_kw[i] else 0.0
        cut = min(excess_kwh / hours[slot] * (1 + 1e-12), charge[i, slot] - floor)
        charge[i, slot] -= cut
        excess_kwh -= cut * hours[slot]


def _fill_battery(
    problem: ChargingProblem, discharge: NDArray, i: int, slot: int, deficit_kwh: float
) -> None:
    """Discharge ``deficit_kwh`` less (battery side) at or before ``slot``, latest first."""
    hours = problem.slot_energy_h[i] / problem.discharge_efficiency[i]
    for t in range(slot, -1, -1):
        if deficit_kwh <= 0:
            break
        if discharge[i, t] > 0 and hours[t] > 0:
            cut = min(deficit_kwh / hours[t] * (1 + 1e-9) + 1e-15, discharge[i, t])
            discharge[i, t] -= cut
            deficit_kwh -= cut * hours[t]


def _node_prices(problem: ChargingProblem, lp: StandardLP, solution: LPSolution) -> NDArray | None:
    if solution.row_dual is None or solution.status is not SolveStatus.OPTIMAL:
        return None
    prices = np.zeros((problem.n_nodes, problem.n_slots))
    nodes, slots = lp.node_rows
    dual = solution.row_dual[lp.rows["node"]]
    prices[nodes, slots] = -dual / problem.grid.dt_h
    return prices


def _unmet_causes(plan: ChargingPlan) -> dict[str, str]:
    problem = plan.problem
    unmet = plan.unmet_kwh
    tolerance = 1e-6 * np.maximum(1.0, problem.energy_kwh)
    if not (unmet > tolerance).any():
        return {}
    deliverable = problem.max_deliverable_kwh()
    load = plan.node_load_kw
    capacity = problem.node_capacity_kw
    finite = np.isfinite(capacity)
    margin = 1e-4 * np.maximum(1.0, np.where(finite, capacity, 0.0))
    tight = finite & (load >= np.where(finite, capacity, 0.0) - margin)
    ancestors = problem.ancestors()
    causes = {}
    for i in np.flatnonzero(unmet > tolerance):
        reasons = []
        if deliverable[i] < problem.energy_kwh[i] - tolerance[i]:
            reasons.append(
                f"its own power limit and stay allow at most {deliverable[i]:.3f} kWh "
                f"of the {problem.energy_kwh[i]:.3f} kWh needed"
            )
        window = problem.presence[i] > 0
        binding = [
            f"{problem.node_ids[k]} ({int((tight[k] & window).sum())} slots)"
            for k in ancestors[problem.node_of_session[i]]
            if k >= 0 and (tight[k] & window).any()
        ]
        if binding:
            reasons.append("grid limits bind during its stay: " + ", ".join(binding))
        if not reasons:
            reasons.append("shared limits (phase currents or minimum rates) leave no room")
        causes[problem.session_ids[i]] = "; ".join(reasons)
    return causes
