"""The adapter that puts a standard-form LP solver behind the problem-level backend contract.

:class:`LPBackend` builds the stage's model with
:func:`~fera_flex.scheduling.standard_form.build_lp`, hands it to a
``solve_lp(lp, options, **backend_args) -> LPSolution`` function and reads
the solution back as a :class:`~fera_flex.scheduling.solver.StageResult`:
per-session power, the stage values (unmet, fair shortfall, deviation),
node import/export shadow prices and per-session energy prices from the row
duals, rescaled to EUR. Any exception from inside a solver becomes status
ERROR with the exception's text; only :class:`~fera_flex.errors.InputError`
(a bad option) reaches the caller.
"""

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.solver import (
    LPSolution,
    SolverOptions,
    SolveStatus,
    StageResult,
    in_eur,
)
from fera_flex.scheduling.standard_form import Stage, StageGoal, StandardLP, build_lp

__all__ = ["LPBackend"]


class LPBackend:
    """A backend solving each stage as one standard-form LP/MILP.

    Parameters
    ----------
    name : str
        Registry name.
    solve_lp : callable
        ``solve_lp(lp, options, **backend_args) -> LPSolution``.
    backend_args : tuple of str
        Names of the extra keyword arguments ``solve_lp`` takes.
    supports_lp : callable, optional
        ``supports_lp(problem, options) -> None | str``: a solver-specific
        refusal (e.g. a MILP for a solver without integer support).
    recheck : callable, optional
        ``recheck(options) -> tuple[SolverOptions, ...]``: the options for
        further tries, in turn, when a solve ends in a numerical failure
        (ERROR), or when the solver calls a MAX_ENERGY stage infeasible, which
        it cannot be (no charging at all is feasible): a presolve misled by
        extreme coefficients, for example. The first try that is neither
        gives the result (else the last).
    """

    def __init__(
        self,
        name: str,
        solve_lp: Callable[..., LPSolution],
        backend_args: tuple[str, ...] = (),
        supports_lp: Callable[[ChargingProblem, SolverOptions], str | None] | None = None,
        recheck: Callable[[SolverOptions], SolverOptions] | None = None,
    ) -> None:
        self.name = name
        self._recheck = recheck
        self._solve_lp = solve_lp
        self._backend_args = backend_args
        self._supports_lp = supports_lp

    def __repr__(self) -> str:
        return f"LPBackend({self.name!r})"

    def supports(
        self,
        problem: ChargingProblem,
        objective: ObjectiveOptions,
        options: SolverOptions,
        **backend_args: Any,
    ) -> str | None:
        """None when this backend can solve the problem, else why not."""
        unknown = sorted(set(backend_args) - set(self._backend_args))
        if unknown:
            return f"takes no {', '.join(unknown)}: custom cvxpy terms need method='cvxpy'"
        return None if self._supports_lp is None else self._supports_lp(problem, options)

    def solve(
        self,
        problem: ChargingProblem,
        stage: Stage,
        objective: ObjectiveOptions,
        options: SolverOptions,
        start_power=None,
        **backend_args: Any,
    ) -> StageResult:
        """Solve one stage (see :mod:`fera_flex.scheduling.solver`)."""
        started = time.perf_counter()
        lp = build_lp(problem, objective, stage, start_power=start_power)
        build_s = time.perf_counter() - started
        impossible = stage.goal is StageGoal.MAX_ENERGY and stage.total_unmet_kwh is None

        def doubtful(solution: LPSolution) -> bool:
            return solution.status is SolveStatus.ERROR or (
                impossible and solution.status is SolveStatus.INFEASIBLE
            )

        try:
            solution = self._solve_lp(lp, options, **backend_args)
            retries = iter(self._recheck(options) if self._recheck else ())
            while doubtful(solution) and (retry := next(retries, None)) is not None:
                solution = self._solve_lp(lp, retry, **backend_args)
        except InputError:
            raise
        except Exception as error:
            return StageResult(
                SolveStatus.ERROR,
                None,
                None,
                goal=stage.goal.value,
                build_s=build_s,
                solve_s=time.perf_counter() - started - build_s,
                message=f"{self.name} failed: {type(error).__name__}: {error}",
            )
        return _result(problem, lp, stage, solution, build_s)


def _result(
    problem: ChargingProblem, lp: StandardLP, stage: Stage, solution: LPSolution, build_s: float
) -> StageResult:
    timing = {
        "build_s": build_s + solution.build_s,
        "solve_s": solution.solve_s,
        "goal": stage.goal.value,
    }
    if solution.x is None:
        return StageResult(solution.status, None, None, message=solution.message, **timing)
    x = solution.x
    charge, discharge = lp.power(x, problem.n_sessions, problem.n_slots)
    dt_h = problem.grid.dt_h
    deviation = dt_h * (x[lp.columns["over"]].sum() + x[lp.columns["under"]].sum())
    economic = stage.goal is StageGoal.ECONOMIC
    objective = solution.objective * lp.cost_scale_eur if economic else solution.objective
    prices = {}
    if economic and solution.row_dual is not None and solution.status is SolveStatus.OPTIMAL:
        prices = _prices(problem, lp, solution.row_dual)
    return StageResult(
        solution.status,
        charge,
        discharge,
        objective=float(objective),
        total_unmet_kwh=float(x[lp.columns["unmet"]].sum()),
        max_relative_shortfall=_largest_relative(lp, x[lp.columns["unmet"]]),
        total_deviation_kwh=float(deviation),
        message=solution.message,
        **prices,
        **timing,
    )


def _largest_relative(lp: StandardLP, unmet_kwh: np.ndarray) -> float:
    """The largest shortfall relative to its session's (capped) need, the energy rows' floor."""
    need = lp.row_lo[lp.rows["energy"]]
    has = need > 0
    return float(np.max(unmet_kwh[has] / need[has], initial=0.0))


def _prices(problem: ChargingProblem, lp: StandardLP, row_dual: np.ndarray) -> dict[str, Any]:
    """Node import/export shadow prices and session energy prices [EUR/kWh] from row duals."""
    scale = lp.cost_scale_eur
    nodes, slots = lp.node_rows
    dual = in_eur(row_dual[lp.rows["node"]] / problem.grid.dt_h, scale)
    energy = in_eur(row_dual[lp.rows["energy"]], scale)
    import_price = np.zeros((problem.n_nodes, problem.n_slots))
    export_price = np.zeros_like(import_price)
    import_price[nodes, slots] = np.maximum(-dual, 0.0)
    export_price[nodes, slots] = np.maximum(dual, 0.0)
    return {
        "node_import_price_eur_per_kwh": import_price,
        "node_export_price_eur_per_kwh": export_price,
        "session_energy_price_eur_per_kwh": energy,
    }
