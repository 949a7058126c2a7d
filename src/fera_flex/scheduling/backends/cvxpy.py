"""The cvxpy backend: the standard-form LP as one vectorised cvxpy model.

The model has one variable vector over all columns of the
:class:`~fera_flex.scheduling.standard_form.StandardLP` (split into a continuous and an
integer part when some columns are integer), column bounds as the variables'
``bounds``, and at most three row constraints: ``A_eq @ x == b`` for rows with
equal finite bounds, ``A_up @ x <= row_hi`` and ``A_lo @ x >= row_lo`` for the
finite sides of the other rows. The cost vector is a ``cp.Parameter``, so
:meth:`CvxpyModel.set_cost` followed by :meth:`CvxpyModel.solve` re-uses the
compiled problem (DPP) instead of compiling it again.

Solvers: any installed cvxpy solver by ``SolverOptions.solver``; HIGHS by
default, for LPs with ``HIGHS_LP_OPTIONS`` (HiGHS's interior point without
crossover; cvxpy's HiGHS default, dual simplex, is many times slower on this
LP, see ``shared/research/perf-limits.md``). ``SolverOptions.extra`` is passed
to ``cp.Problem.solve`` as keyword arguments (``canon_backend`` defaults to
``CANON_BACKEND``); for HIGHS, HiGHS options given there or in
``highs_options`` override the defaults (HiGHS's ``solver`` option only in
``highs_options``, since ``solver`` names the cvxpy solver).

Custom objective terms: ``extra_objective`` receives an :class:`LPExpressions`
(named cvxpy expressions of the columns) and returns a scalar cvxpy expression
that is added to the objective. The sum must be DCP for minimisation (convex),
e.g. ``cp.sum_squares(cp.diff(view.charge_kw))`` with a non-negative weight;
quadratic terms need a QP-capable solver (CLARABEL, OSQP, SCS, or HIGHS for
LPs without integer columns).

Examples
--------
>>> from fera_flex.scenarios.arrays import random_problem
>>> from fera_flex.scheduling.standard_form import build_lp
>>> from fera_flex.scheduling.objective import ObjectiveOptions
>>> from fera_flex.scheduling.solver import SolverOptions
>>> lp = build_lp(random_problem(20, n_slots=24, seed=3), ObjectiveOptions())
>>> model = CvxpyModel(lp)
>>> first = model.solve(SolverOptions())
>>> model.set_cost(2.0 * lp.cost)
>>> second = model.solve(SolverOptions())
>>> first.status.value, bool(abs(second.objective - 2.0 * first.objective) < 1e-6 * first.objective)
('optimal', True)
"""

import dataclasses
import functools
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import cvxpy as cp
import cvxpy.settings as cvxpy_settings
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling.backends.lp import LPBackend
from fera_flex.scheduling.solver import LPSolution, SolverOptions, SolveStatus
from fera_flex.scheduling.standard_form import StandardLP

__all__ = [
    "BACKEND",
    "DEFAULT_SOLVER",
    "HIGHS_LP_OPTIONS",
    "CvxpyModel",
    "LPExpressions",
    "solve_lp",
]

DEFAULT_SOLVER = "HIGHS"
"""The cvxpy solver used when ``SolverOptions.solver`` is None."""

HIGHS_LP_OPTIONS: dict[str, Any] = {"solver": "ipm", "run_crossover": "off"}
"""HiGHS options used for LPs without integer columns (MILPs keep HiGHS's defaults)."""

CANON_BACKEND = "COO"
"""cvxpy canonicalisation backend: with the cost as a Parameter, the default
``CPP`` backend takes seconds to compile what ``COO`` compiles in milliseconds."""

INACCURATE_TOLERANCE = 1e-3
"""Largest relative row or bound violation accepted from any solve (meant for
``optimal_inaccurate`` points and time-limited MILP incumbents); beyond it the
point is dropped (``x`` None) and the status becomes TIME_LIMIT when a time
limit was set, else ERROR."""

_TIME_LIMIT_OPTION = {
    "CLARABEL": "time_limit",
    "OSQP": "time_limit",
    "SCS": "time_limit_secs",
}

_STATUS = {
    cvxpy_settings.OPTIMAL: SolveStatus.OPTIMAL,
    cvxpy_settings.OPTIMAL_INACCURATE: SolveStatus.OPTIMAL,
    cvxpy_settings.INFEASIBLE: SolveStatus.INFEASIBLE,
    cvxpy_settings.INFEASIBLE_INACCURATE: SolveStatus.INFEASIBLE,
    cvxpy_settings.INFEASIBLE_OR_UNBOUNDED: SolveStatus.INFEASIBLE,
    cvxpy_settings.USER_LIMIT: SolveStatus.TIME_LIMIT,
}
"""cvxpy status -> SolveStatus; anything else (unbounded, solver_error) is ERROR."""

_WHERE = "backends.cvxpy"


@dataclass(frozen=True)
class LPExpressions:
    """Named cvxpy expressions of a StandardLP's columns, for custom objective terms.

    Attributes
    ----------
    lp : StandardLP
        The model (for ``charge_pairs``, ``node_rows`` and the column blocks).
    x : cvxpy.Expression
        All columns, shape ``(lp.n_cols,)``.
    charge_kw : cvxpy.Expression
        Charging power per ``lp.charge_pairs`` entry [kW].
    discharge_kw : cvxpy.Expression
        Discharge power per ``lp.discharge_pairs`` entry [kW].
    node_net_kw : cvxpy.Expression
        Net EV load through each ``lp.node_rows`` entry (node, slot) [kW]:
        the ``node`` rows of the matrix times ``x``.
    """

    lp: StandardLP
    x: cp.Expression
    charge_kw: cp.Expression
    discharge_kw: cp.Expression
    node_net_kw: cp.Expression

    def block(self, name: str) -> cp.Expression:
        """The columns of one named block of ``lp.columns`` (e.g. ``"unmet"``)."""
        if name not in self.lp.columns:
            raise InputError(
                "LPExpressions.block", "name", name, f"choose from {sorted(self.lp.columns)}"
            )
        return self.x[self.lp.columns[name]]


class CvxpyModel:
    """A compiled-once cvxpy model of a StandardLP whose cost can be changed.

    Parameters
    ----------
    lp : StandardLP
        The model to solve.
    extra_objective : callable, optional
        ``extra_objective(view: LPExpressions) -> cvxpy.Expression``: a scalar
        term added to the objective; the objective must stay convex (DCP).

    Attributes
    ----------
    lp : StandardLP
        The model (its ``cost`` is the cost at construction, see :meth:`set_cost`).
    problem : cvxpy.Problem
        The cvxpy problem; ``problem.value`` includes the extra objective term.
    build_s : float
        Time to construct the cvxpy problem [s] (compilation happens on the
        first :meth:`solve` per solver and is reported there).

    Raises
    ------
    InputError
        When ``extra_objective`` does not return a scalar expression, or the
        objective with it is not DCP.
    """

    def __init__(
        self,
        lp: StandardLP,
        extra_objective: Callable[[LPExpressions], cp.Expression] | None = None,
    ) -> None:
        start = perf_counter()
        self.lp = lp
        integer = lp.integrality
        # (variable, its column indices, its cost parameter) per column group
        self._parts = []
        for cols, is_integer in (
            (np.flatnonzero(~integer), False),
            (np.flatnonzero(integer), True),
        ):
            if cols.size:
                variable = cp.Variable(
                    cols.size,
                    integer=is_integer,
                    bounds=[lp.col_lo[cols], lp.col_hi[cols]],
                    name="x_integer" if is_integer else "x",
                )
                self._parts.append((variable, cols, cp.Parameter(cols.size, name="cost")))
        self.set_cost(lp.cost)
        matrix = lp.matrix.tocsr()
        equal = lp.row_lo == lp.row_hi
        self._row_sets = {
            "equal": np.flatnonzero(equal),
            "upper": np.flatnonzero(~equal & np.isfinite(lp.row_hi)),
            "lower": np.flatnonzero(~equal & np.isfinite(lp.row_lo)),
        }
        self._constraints = {}
        for kind, rows in self._row_sets.items():
            if rows.size == 0:
                continue
            lhs = self._times(matrix[rows])
            if kind == "equal":
                self._constraints[kind] = lhs == lp.row_lo[rows]
            elif kind == "upper":
                self._constraints[kind] = lhs <= lp.row_hi[rows]
            else:
                self._constraints[kind] = lhs >= lp.row_lo[rows]
        objective = sum(cost @ variable for variable, _, cost in self._parts) + lp.offset
        if extra_objective is not None:
            objective = objective + self._extra_term(extra_objective, matrix)
        self.problem = cp.Problem(cp.Minimize(objective), list(self._constraints.values()))
        if extra_objective is not None and not self.problem.is_dcp():
            raise InputError(
                _WHERE, "extra_objective", extra_objective, "the objective is not convex (DCP)"
            )
        if lp.start is not None:  # used by solvers that warm start (cvxpy's warm_start=True)
            for variable, cols, _ in self._parts:
                variable.value = lp.start[cols]
        self.build_s = perf_counter() - start

    def _times(self, matrix: sp.csr_matrix) -> cp.Expression:
        """``matrix @ x`` over all columns."""
        if len(self._parts) == 1:
            variable, _, _ = self._parts[0]
            return matrix @ variable
        return sum(matrix[:, cols] @ variable for variable, cols, _ in self._parts)

    def _extra_term(self, extra_objective: Callable, matrix: sp.csr_matrix) -> cp.Expression:
        lp = self.lp
        n = lp.n_cols
        if len(self._parts) == 1:
            x = self._parts[0][0]
        else:
            x = sum(
                sp.csc_array(
                    (np.ones(cols.size), (cols, np.arange(cols.size))), shape=(n, cols.size)
                )
                @ variable
                for variable, cols, _ in self._parts
            )
        view = LPExpressions(
            lp=lp,
            x=x,
            charge_kw=x[lp.columns["charge"]],
            discharge_kw=x[lp.columns["discharge"]],
            node_net_kw=self._times(matrix[lp.rows["node"]]),
        )
        term = extra_objective(view)
        if not isinstance(term, cp.Expression) or not term.is_scalar():
            raise InputError(
                _WHERE, "extra_objective", term, "must return a scalar cvxpy expression"
            )
        return term

    def set_cost(self, cost: NDArray[np.float64]) -> None:
        """Replace the cost vector; the next :meth:`solve` re-uses the compiled problem.

        Parameters
        ----------
        cost : array, shape (lp.n_cols,)
            Cost per column, finite.

        Raises
        ------
        InputError
            For a wrong shape or a non-finite entry.
        """
        cost = np.asarray(cost, dtype=np.float64)
        if cost.shape != (self.lp.n_cols,):
            raise InputError(
                "CvxpyModel.set_cost", "cost", f"shape {cost.shape}", f"must be ({self.lp.n_cols},)"
            )
        if not np.isfinite(cost).all():
            index = int(np.argmax(~np.isfinite(cost)))
            raise InputError("CvxpyModel.set_cost", f"cost[{index}]", cost[index], "must be finite")
        self._cost = cost.copy()
        for _, cols, parameter in self._parts:
            parameter.value = cost[cols]

    def solve(self, options: SolverOptions | None = None) -> LPSolution:
        """Solve with the current cost.

        Parameters
        ----------
        options : SolverOptions, optional
            Solver name, time limit, MIP gap and solver keyword arguments.

        Returns
        -------
        LPSolution
            ``objective`` is ``cost @ x + offset`` without the extra objective
            term; ``x`` is clipped into the column bounds (integer columns
            rounded) so that a solver tolerance never crosses a bound.
            cvxpy's ``optimal_inaccurate`` counts as OPTIMAL and ``user_limit``
            as TIME_LIMIT; ``message`` has cvxpy's status and the point's
            largest relative violation of a row or bound, and a point that
            violates one by more than ``INACCURATE_TOLERANCE`` is dropped. A
            ``cp.SolverError`` (solver failure, or a problem class the solver
            cannot handle) gives ERROR.
            ``build_s`` is this call's compilation time (short once the
            problem was compiled for the solver), ``solve_s`` the rest of
            ``cp.Problem.solve`` (solver, data conversion, unpacking).

        Raises
        ------
        InputError
            For a solver name that is not an installed cvxpy solver.
        """
        options = SolverOptions() if options is None else options
        name, kwargs, notes = _solver_call(options, self.lp.is_mip)
        start = perf_counter()
        try:
            with warnings.catch_warnings():
                # the status and the message below say so
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                self.problem.solve(solver=name, **kwargs)
        except (cp.SolverError, ValueError, ArithmeticError) as error:
            # cvxpy raises ValueError ("Cannot unpack invalid solution") on some solver outputs
            return LPSolution(
                status=SolveStatus.ERROR,
                x=None,
                row_dual=None,
                objective=float("nan"),
                build_s=0.0,
                solve_s=perf_counter() - start,
                message="; ".join([f"{name}: {error}", *notes]),
            )
        wall_s = perf_counter() - start
        compile_s = min(self.problem.compilation_time or 0.0, wall_s)
        cvxpy_status = self.problem.status
        notes.insert(0, f"{name}: {cvxpy_status}")
        status = _STATUS.get(cvxpy_status, SolveStatus.ERROR)
        x = self._values()
        if x is not None:
            violation = self._max_violation(x)
            notes.append(f"largest relative violation of a row or bound {violation:.1e}")
            if violation > INACCURATE_TOLERANCE:
                x = None
                if status is SolveStatus.OPTIMAL:
                    limited = options.time_limit_s is not None
                    status = SolveStatus.TIME_LIMIT if limited else SolveStatus.ERROR
        row_dual = (
            self._row_duals()
            if status is SolveStatus.OPTIMAL and x is not None and not self.lp.is_mip
            else None
        )
        if x is not None:
            x = np.clip(x, self.lp.col_lo, self.lp.col_hi)
        return LPSolution(
            status=status,
            x=x,
            row_dual=row_dual,
            objective=float(self._cost @ x + self.lp.offset) if x is not None else float("nan"),
            build_s=compile_s,
            solve_s=wall_s - compile_s,
            message="; ".join(notes),
        )

    def _values(self) -> NDArray[np.float64] | None:
        """The solver's column values (integer columns rounded), None without a solution."""
        x = np.empty(self.lp.n_cols)
        for variable, cols, _ in self._parts:
            if variable.value is None:
                return None
            x[cols] = np.rint(variable.value) if variable.attributes["integer"] else variable.value
        return x

    def _max_violation(self, x: NDArray[np.float64]) -> float:
        """Largest violation of a row or column bound, relative to max(1, |bound|)."""
        lp = self.lp
        violation = 0.0
        for value, lo, hi in ((lp.matrix @ x, lp.row_lo, lp.row_hi), (x, lp.col_lo, lp.col_hi)):
            with np.errstate(invalid="ignore"):
                excess = np.maximum(
                    np.where(np.isfinite(lo), (lo - value) / np.maximum(1.0, np.abs(lo)), 0.0),
                    np.where(np.isfinite(hi), (value - hi) / np.maximum(1.0, np.abs(hi)), 0.0),
                )
            violation = max(violation, float(excess.max(initial=0.0)))
        return violation

    def _row_duals(self) -> NDArray[np.float64] | None:
        """Row duals in the contract convention from cvxpy's multipliers."""
        row_dual = np.zeros(self.lp.n_rows)
        # cvxpy's Lagrangian is f + dual * (lhs - rhs) for ==, <=, and f + dual * (rhs - lhs) for >=
        for kind, sign in (("equal", -1.0), ("upper", -1.0), ("lower", 1.0)):
            if kind not in self._constraints:
                continue
            dual = self._constraints[kind].dual_value
            if dual is None:
                return None
            row_dual[self._row_sets[kind]] += sign * np.asarray(dual, dtype=np.float64)
        return row_dual


@functools.cache
def _absorb_highs_banner() -> None:
    """Let HiGHS print its once-per-process banner into /dev/null, not the user's stdout.

    cvxpy creates ``highspy.Highs`` objects, whose first construction in a
    process prints a banner before any option can switch output off; a
    library prints nothing, so that first construction happens here with
    file descriptor 1 pointed at /dev/null.
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solver_call(options: SolverOptions, is_mip: bool) -> tuple[str, dict[str, Any], list[str]]:
    """The cvxpy solver name, ``Problem.solve`` keyword arguments, and notes for the message.

    For HIGHS, a HiGHS option given at the top level of ``extra`` replaces the
    default of the same name (cvxpy merges top-level options and
    ``highs_options`` and rejects a name given in both).
    """
    name = (options.solver or DEFAULT_SOLVER).upper()
    installed = cp.installed_solvers()
    if name not in installed:
        raise InputError(
            _WHERE, "SolverOptions.solver", options.solver, f"not installed; installed: {installed}"
        )
    kwargs = dict(options.extra)
    if "solver" in kwargs:
        raise InputError(
            _WHERE,
            "SolverOptions.extra['solver']",
            kwargs["solver"],
            "name the cvxpy solver in SolverOptions.solver (HiGHS's method: highs_options)",
        )
    kwargs.setdefault("canon_backend", CANON_BACKEND)
    notes = []
    limit = options.time_limit_s
    if name == "HIGHS":
        _absorb_highs_banner()
        highs = {"mip_rel_gap": options.mip_rel_gap} if is_mip else dict(HIGHS_LP_OPTIONS)
        highs["small_matrix_value"] = 1e-12  # as the highs backend: tiny coefficients are real
        if limit is not None:
            highs["time_limit"] = float(limit)
        for key in kwargs:
            highs.pop(key, None)
        highs.update(kwargs.pop("highs_options", {}))
        kwargs["highs_options"] = highs
    elif name == "SCIPY":
        scipy_options = {"mip_rel_gap": options.mip_rel_gap} if is_mip else {}
        if limit is not None:
            scipy_options["time_limit"] = float(limit)
        scipy_options.update(kwargs.pop("scipy_options", {}))
        kwargs["scipy_options"] = scipy_options
    elif limit is not None:
        if name in _TIME_LIMIT_OPTION:
            kwargs.setdefault(_TIME_LIMIT_OPTION[name], float(limit))
        else:
            notes.append(f"time_limit_s is not passed to {name}")
    return name, kwargs, notes


def solve_lp(
    lp: StandardLP,
    options: SolverOptions | None = None,
    extra_objective: Callable[[LPExpressions], cp.Expression] | None = None,
) -> LPSolution:
    """Solve a StandardLP with cvxpy (the backend contract of :mod:`..solver`).

    Parameters
    ----------
    lp : StandardLP
        The model.
    options : SolverOptions, optional
        Solver name (a cvxpy solver, HIGHS by default), time limit, MIP gap,
        and solver keyword arguments in ``extra``.
    extra_objective : callable, optional
        A convex term added to the objective, see :class:`CvxpyModel`.

    Returns
    -------
    LPSolution
        ``build_s`` covers constructing and compiling the cvxpy problem.

    Raises
    ------
    InputError
        For a solver that is not installed, or an invalid ``extra_objective``.
    """
    model = CvxpyModel(lp, extra_objective)
    solution = model.solve(options)
    return LPSolution(
        status=solution.status,
        x=solution.x,
        row_dual=solution.row_dual,
        objective=solution.objective,
        build_s=model.build_s + solution.build_s,
        solve_s=solution.solve_s,
        message=solution.message,
    )


_MIP_SOLVERS = frozenset({"HIGHS", "SCIPY", "SCIP", "GLPK_MI", "CBC", "GUROBI", "CPLEX", "XPRESS"})


def _supports(problem, options: SolverOptions) -> str | None:
    """Refuse a minimum-rate MILP for a cvxpy solver without integer variables."""
    name = (options.solver or DEFAULT_SOLVER).upper()
    if (problem.power_min_kw > 0).any() and name not in _MIP_SOLVERS:
        return f"minimum charging rates make a MILP, which cvxpy's {name} cannot solve"
    return None


def _careful(options: SolverOptions) -> tuple[SolverOptions, ...]:
    """For HiGHS, the highs backend's further tries (see LPBackend); none for other solvers."""
    if (options.solver or DEFAULT_SOLVER).upper() != "HIGHS":
        return ()
    from fera_flex.scheduling.backends.highs import RECHECK_OPTIONS

    return tuple(
        dataclasses.replace(
            options,
            extra={
                **options.extra,
                "highs_options": {**options.extra.get("highs_options", {}), **retry},
            },
        )
        for retry in RECHECK_OPTIONS
    )


BACKEND = LPBackend(
    "cvxpy",
    solve_lp,
    backend_args=("extra_objective",),
    supports_lp=_supports,
    recheck=_careful,
)
"""The problem-level cvxpy backend (``schedule(problem, method="cvxpy")``)."""
