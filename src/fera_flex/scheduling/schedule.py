"""``schedule(problem)``: solve a charging problem with a backend, safely, in one pass.

validate -> choose the backend -> for each energy stage, ``backend.solve`` ->
make safe -> verify once more -> the plan with its causes.

Energy is handled lexicographically, on needs capped at what each session
could take on its own (so an absurd need costs only its own shortfall):

1. Every need delivered (``needs_met``), at least cost. Skipped when a cheap
   necessary condition already shows it is infeasible (some node or shared
   EVSE cannot carry the needs of the sessions under it even at full room).
2. Otherwise MAX_ENERGY (least total shortfall), then FAIR (with that total,
   the least largest relative shortfall, so shortfalls are shared in
   proportion to the needs), then ECONOMIC with both fixed. FAIR first tries
   the equal fraction ``total / sum(needs)`` (a lower bound on its optimum)
   as a bound in a MAX_ENERGY-type solve, much faster than the FAIR LP, and
   solves the FAIR LP only when that fails (see :func:`_uniform_fair`).

With node target bands (a dispatch to follow) a TRACK stage (least total
deviation from the bands) comes after the energy stages and before cost.
Each later stage keeps the earlier optima up to a tolerance of
:data:`STAGE_TOLERANCE` relative.

The solution is then made safe (:mod:`fera_flex.scheduling.safety`) and
checked once more by :func:`~fera_flex.scheduling.verify.verify_power`; if
anything still broke a limit the plan would not charge at all (status
FAILED). A time limit returns the best safe plan found with status
TIME_LIMIT; a failure of the first solve one that does not charge (FAILED);
a failure of a later, refining stage the previous stage's plan, with a
message that says so.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> plan = schedule(random_problem(20, seed=1, overload=1.5))
>>> plan.status.value, bool(plan.unmet_kwh.sum() > 0), plan.stages
('partial', True, ('max_energy', 'fair', 'economic'))
"""

import time
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling.causes import UnmetCauses, short_sessions
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.plan import ChargingPlan, PlanStatus
from fera_flex.scheduling.problem import ChargingProblem, surely_short
from fera_flex.scheduling.safety import make_safe
from fera_flex.scheduling.solver import SolverOptions, SolveStatus, StageResult, choose_backend
from fera_flex.scheduling.standard_form import Stage, StageGoal, capped_energy_range
from fera_flex.scheduling.verify import verify_power

__all__ = ["STAGE_TOLERANCE", "schedule"]

STAGE_TOLERANCE = 1e-7
"""Relative slack with which a stage's optimum bounds the later stages."""

FEASIBILITY_SLACK = 1e-7
"""Absolute slack per summed term of a stage bound (a solver's row feasibility tolerance)."""

SHORTFALL_SLACK = 1e-9
"""How far above the equal fraction asked for a plan's largest relative shortfall may be and
still end the FAIR stage (:func:`_uniform_fair`): the solvers meet the need rows to their
tolerance, not to the last bit, and the flow backend's FAIR bisection stops this close."""

_OBJECTIVE_KEYS = {f.name for f in fields(ObjectiveOptions)}
_SOLVER_KEYS = {f.name for f in fields(SolverOptions)}
_BACKEND_KEYS = {"extra_objective"}


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
        ``"auto"`` (the best backend that supports the problem), ``"highs"``
        or ``"cvxpy"``.
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
        Its ``backend_reason`` says which backend ran and why, ``stages``
        which stages were solved.

    Raises
    ------
    InputError
        For an unknown method or option, or a backend that cannot solve the problem.
    """
    started = time.perf_counter()
    if not isinstance(problem, ChargingProblem):
        raise InputError("schedule", "problem", type(problem).__name__, "must be a ChargingProblem")
    if not isinstance(method, str):
        raise InputError("schedule", "method", method, "must be a backend name")
    objective, solver_options, backend_args = _split_options(objective, solver_options, options)
    backend, reason = choose_backend(method, problem, objective, solver_options, **backend_args)
    start_power = _start_power(problem, start_plan)

    timings = {"build": 0.0, "solve": 0.0}
    solved: list[str] = []

    def run(stage: Stage, start=None, label: str | None = None) -> StageResult:
        result = backend.solve(problem, stage, objective, solver_options, start, **backend_args)
        timings["build"] += result.build_s
        timings["solve"] += result.solve_s
        solved.append(label or stage.goal.value)
        return result

    status, result, best = _run_stages(problem, run, start_power)
    tic = time.perf_counter()
    zero = np.zeros((problem.n_sessions, problem.n_slots))
    charge, discharge = (best.charge_kw, best.discharge_kw) if best is not None else (zero, zero)
    charge, discharge = make_safe(problem, charge, discharge)
    timings["safety"] = time.perf_counter() - tic
    tic = time.perf_counter()
    message = result.message
    broken = verify_power(problem, charge, discharge)
    if broken:
        charge, discharge, status = zero, zero.copy(), PlanStatus.FAILED
        message += (
            f"; safety repair left {len(broken)} violations (first: {broken[0]}): no charging"
        )
    timings["verify"] = time.perf_counter() - tic
    economic = result.status is SolveStatus.OPTIMAL and result.goal == StageGoal.ECONOMIC.value
    plan = ChargingPlan(
        problem=problem,
        charge_kw=charge,
        discharge_kw=discharge,
        status=status,
        backend=backend.name,
        objective_eur=result.objective if economic and status is not PlanStatus.FAILED else np.nan,
        node_import_price_eur_per_kwh=result.node_import_price_eur_per_kwh,
        node_export_price_eur_per_kwh=result.node_export_price_eur_per_kwh,
        session_energy_price_eur_per_kwh=result.session_energy_price_eur_per_kwh,
        message=message,
        backend_reason=reason,
        stages=tuple(solved),
    )
    tic = time.perf_counter()
    if status in (PlanStatus.OPTIMAL, PlanStatus.PARTIAL):  # as delivered, whatever the path
        status = PlanStatus.PARTIAL if short_sessions(plan).size else PlanStatus.OPTIMAL
    timings["causes"] = time.perf_counter() - tic  # the texts are worked out on first use
    timings["total"] = time.perf_counter() - started
    return replace(
        plan,
        status=status,
        unmet_causes=UnmetCauses(plan),
        timings_s=MappingProxyType(timings),
    )


def _run_stages(problem: ChargingProblem, run, start_power):
    """Solve the stages in order; the status, the result that speaks for the plan, its power."""
    targets = int(
        (np.isfinite(problem.node_target_min_kw) | np.isfinite(problem.node_target_max_kw)).sum()
    )
    tracking = targets > 0
    need, _ = capped_energy_range(problem)
    capped = bool((need < problem.energy_min_kwh * (1 - 1e-9) - 1e-12).any())
    results: list[StageResult] = []
    bounds: dict[str, float] = {}

    def step(goal: StageGoal, needs_met: bool = False, start=None) -> bool:
        results.append(run(Stage(goal, needs_met, **bounds), start))
        return results[-1].status is SolveStatus.OPTIMAL

    feasible = False
    if not surely_short(problem, need):
        first = StageGoal.TRACK if tracking else StageGoal.ECONOMIC
        feasible = step(first, needs_met=True, start=start_power)
        if not feasible and results[-1].status is not SolveStatus.INFEASIBLE:
            return _outcome(results, PlanStatus.OPTIMAL)
        if feasible and tracking:
            bounds["total_deviation_kwh"] = _relaxed(results[-1].total_deviation_kwh, targets)
            step(StageGoal.ECONOMIC, needs_met=True)
    if feasible:
        return _outcome(results, PlanStatus.PARTIAL if capped else PlanStatus.OPTIMAL)
    goals = [StageGoal.MAX_ENERGY, StageGoal.FAIR] + ([StageGoal.TRACK] if tracking else [])
    least_unmet = 0.0
    for goal in [*goals, StageGoal.ECONOMIC]:
        uniform = _uniform_fair(run, need, bounds, least_unmet) if goal is StageGoal.FAIR else None
        if uniform is not None:
            results.append(uniform)
        elif not step(goal):
            break
        if goal is StageGoal.MAX_ENERGY:
            least_unmet = results[-1].total_unmet_kwh
            bounds["total_unmet_kwh"] = _relaxed(least_unmet, problem.n_sessions)
        elif goal is StageGoal.FAIR:
            bounds["max_relative_shortfall"] = _relaxed(results[-1].max_relative_shortfall)
        elif goal is StageGoal.TRACK:
            bounds["total_deviation_kwh"] = _relaxed(results[-1].total_deviation_kwh, targets)
    return _outcome(results, PlanStatus.PARTIAL)


def _uniform_fair(
    run, need_kwh: NDArray, bounds: dict[str, float], least_unmet_kwh: float
) -> StageResult | None:
    """The FAIR stage's result when every session can be short by the same fraction, else None.

    Every plan within the total shortfall bound has a total of at least the
    MAX_ENERGY optimum ``U``, so its largest relative shortfall is at least
    ``f0 = U / sum(need)``. A MAX_ENERGY solve with each shortfall bounded by
    ``f = (U + (bound - U) / 2) / sum(need)`` (a fast LP: no ``f`` column) that
    succeeds gives a plan within the total bound (its total is at most
    ``f * sum(need)``) whose largest relative shortfall is at most ``f``: the
    FAIR optimum to within ``f - f0``, half the slack of the total bound per
    unit of need. When that solve fails the plain FAIR stage runs.
    """
    total_bound = bounds.get("total_unmet_kwh")
    weights = need_kwh[need_kwh > 0]
    if total_bound is None or weights.size == 0:
        return None
    total_need = float(weights.sum())
    fraction = (total_bound + least_unmet_kwh) / 2 / total_need
    if not (np.isfinite(fraction) and 0.0 <= fraction < 1.0):
        return None
    stage = Stage(
        StageGoal.MAX_ENERGY, total_unmet_kwh=total_bound, max_relative_shortfall=fraction
    )
    result = run(stage, None, StageGoal.FAIR.value)
    if result.status is not SolveStatus.OPTIMAL or result.charge_kw is None:
        return None
    largest = result.max_relative_shortfall
    if not (result.total_unmet_kwh <= total_bound and largest <= fraction + SHORTFALL_SLACK):
        return None
    return replace(
        result,
        goal=StageGoal.FAIR.value,
        objective=largest,
        message=f"{result.message} (FAIR: equal relative shortfall {fraction:.9g} for all)",
    )


def _outcome(results: list[StageResult], solved_status: PlanStatus):
    """The plan status, the result that speaks for the plan, and the result whose power it uses.

    When a refining stage (after the first optimal one) fails, the plan keeps
    the last optimal stage's power, whose energy outcome the failed stage
    was only refining; the message says so. A time limit is reported as such.
    """
    last = results[-1]
    optimal = [r for r in results if r.status is SolveStatus.OPTIMAL and r.charge_kw is not None]
    if last.status is SolveStatus.OPTIMAL:
        return solved_status, last, last
    if last.status is SolveStatus.TIME_LIMIT:
        with_power = [r for r in results if r.charge_kw is not None]
        return PlanStatus.TIME_LIMIT, last, with_power[-1] if with_power else None
    if not optimal:
        return PlanStatus.FAILED, last, None
    kept = replace(
        optimal[-1],
        message=f"{optimal[-1].message}; a later stage failed ({last.message}): "
        "its optimum is not refined further",
    )
    return solved_status, kept, kept


def _relaxed(value: float, rows: int = 0) -> float:
    """A stage optimum loosened for the later stages' bound.

    By :data:`STAGE_TOLERANCE` relative, plus the solver's feasibility
    tolerance for each of the ``rows`` terms the bound sums.
    """
    return value + STAGE_TOLERANCE * max(1.0, abs(value)) + FEASIBILITY_SLACK * rows


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
    backend_args = {k: v for k, v in options.items() if k in _BACKEND_KEYS}
    unknown = set(options) - set(objective_args) - set(solver_args) - set(backend_args)
    if unknown:
        known = sorted(_OBJECTIVE_KEYS | _SOLVER_KEYS | _BACKEND_KEYS)
        raise InputError(
            "schedule", "options", sorted(unknown), f"unknown; known options are {known}"
        )
    return (
        replace(objective, **objective_args),
        replace(solver_options, **solver_args),
        backend_args,
    )
