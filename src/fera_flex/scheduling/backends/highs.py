"""The HiGHS backend: the standard-form LP handed to highspy as whole arrays.

:func:`solve_lp` loads a :class:`~fera_flex.scheduling.standard_form.StandardLP` with
four array calls (``addRows`` with the row bounds, ``addCols`` with costs,
bounds and the CSC matrix, ``changeObjectiveOffset``,
``changeColsIntegrality``), runs HiGHS without console output and maps the
result to an :class:`~fera_flex.scheduling.solver.LPSolution`. Filling a
``highspy.HighsLp`` and calling ``passModel`` gives the same model but its
matrix setters convert element by element: 11.8 ms against 1.6 ms at
N = 1,000 x 96, 119 ms against 19 ms at N = 10,000 x 96 (profile mix).

Method
------
LPs with fewer than :data:`SIMPLEX_MAX_COLUMNS` columns go to HiGHS's dual
simplex, larger ones to its interior point solver IPX without crossover
(:data:`IPM_OPTIONS`), except LPs with REGULAR above-flat-rate columns and
fewer than :data:`KINKED_SIMPLEX_MAX_COLUMNS` columns, which dual simplex
solves faster: the kinks at the flat rates slow IPX down (profile mix, stage
HARD, seed 0, this machine: N = 500 / 1,000 / 1,500 / 2,000 / 3,000 x 96
took 0.52 / 2.0 / 3.6 / 5.5 / 6.5 s with IPX and 0.21 / 0.53 / 1.5 / 2.9 /
13.3 s with dual simplex; an all-CHEAP fleet at N = 1,000 takes 0.33 s with
IPX and 10.9 s with dual simplex). MILPs (some integer column) go to HiGHS's branch and
cut with ``mip_rel_gap`` from the options. ``SolverOptions.extra``
overrides any HiGHS option by name (``{"solver": "simplex"}``,
``{"run_crossover": "on"}``, ...). ``threads`` is left to HiGHS (automatic:
2 on a 2-core machine; a MILP with 300 sessions, half with a minimum rate,
took 3.0 / 2.8 / 2.9 s with 1 / 2 / automatic threads, and the LP solvers
are serial). HiGHS fixes the thread count of its process-wide
scheduler at the first solve: a later ``extra={"threads": k}`` with another
``k`` ends with status ERROR.

Measured with HiGHS 1.16.0 on a shared 2-core VM, ``random_problem(N, T,
profile_mix=...)`` at stage HARD, each method forced through ``extra``;
time of ``run()`` [ms], CHEAP fleet | profile mix. Small models: median
over seeds 0-2 of the median of 5 runs::

    N    T  columns   simplex  IPM  IPM+crossover | simplex  IPM  IPM+crossover
    10   96    210       1.4   2.1      2.7       |    1.5   2.8     3.1
    30   96    680       6.6   5.2      6.7       |    5.4   9.3    10.7
    50   96   1170      17.6   8.6     11.8       |   12.7  18.2    20.0
    70   96   1660      35.4  11.1     15.3       |   20.5  29.4    31.3
    100  96   2300      77.0  15.2     24.2       |   31.3  40.4    44.2
    200  96   4700       346  32.8     64.9       |    114   109     120
    10  288    570       3.1   4.5      5.4       |    4.3   7.6     8.3
    20  288   1450       9.7   8.7     12.0       |   17.1  23.2    25.1
    100 288   6700       110  46.7      101       |    226   177     196

Large models, seed 0, one process per case, median of 3 runs (1 run from
N = 3,000) [s]; ``-`` not run (simplex: 14-34 s already at N = 1,000)::

    N      T  columns   simplex    IPM  IPM+crossover | simplex   IPM  IPM+crossover
    300    96    6.8k      1.13  0.104     0.132      |   0.368  0.349    0.321
    1000   96     23k      14.8  0.193     0.552      |    2.88   1.22     1.32
    3000   96     69k         -  0.650      3.12      |       -   5.77     6.96
    10000  96    234k         -   3.08      40.6      |       -   54.2     67.3
    1000  288     69k      13.6  0.619      2.65      |    33.8   5.44     6.54
    10000 288    696k         -   15.3         -      |       -   >600        -

IPM without crossover is the fastest or within noise of it from about
1,000 columns; below, dual simplex is faster by a few milliseconds on the
mixed fleet and returns a vertex (each session at a bound in all but a few
slots) with basic duals. The threshold minimises the worst ratio to the
fastest method over the table (1.4x, at most 9 ms). On the mixed fleet at
N = 1,000 and 3,000 x 96, nothing else helped: presolve off +20 %,
``ipm_optimality_tolerance`` 1e-6 -2 to -9 % (and 1e-7 relative objective
error), two threads no change; for simplex primal 12x, PAMI 4x, presolve off
2.5x slower than dual, scaling no change; PDLP and HiPDLP 0.8-1.25x the IPM
time with row violations up to 3e-3.

Accuracy without crossover: the objective is within 1e-8 relative of the
vertex optimum, rows hold within 4e-9, and the solution is interior (power
spread over equally cheap slots). IPX's duals equal the vertex duals to
about 1e-8 on rows where the dual is unique; where the LP is degenerate
(the row's limit is met but more room would not help) every value between
the left and right derivative of the objective is a valid dual, and IPX
returns one strictly inside that range while simplex returns an end.

Results
-------
Column values are clipped into their bounds (HiGHS may leave them outside
by its feasibility tolerance, 1e-7); row activities are not changed (the
plan is made safe afterwards, :mod:`fera_flex.scheduling.safety`). ``row_dual`` is HiGHS's row dual,
which already has the contract's sign (the change of the optimal objective
per unit increase of the active bound), for LPs solved to optimality only.
It is set to 0 on rows not within 1e-3 (relative) of a bound and to the
sign of the bound the row is at (IPX leaves about 1e-7 on inactive rows). A
time limit returns HiGHS's best feasible solution (a MILP's incumbent) or
``x=None``. Infeasible and "unbounded or infeasible" map to INFEASIBLE
(every model here is bounded); other HiGHS outcomes to ERROR, with HiGHS's
status text as the message and no exception. A NaN (or infinite cost or
coefficient) is reported as ERROR without calling HiGHS, which loops
forever on a NaN cost and calls a NaN coefficient infeasible.

``build_s`` covers creating the solver, setting the options and loading
the model; ``solve_s`` is ``run()``.

The solver object is ``highspy._Highs``, the compiled class that
``highspy.Highs`` extends: the Python subclass installs its callbacks in
its constructor, before any option can be set, and so makes HiGHS print its
banner once per process whatever ``output_flag`` says.

Examples
--------
>>> from fera_flex.scenarios.arrays import random_problem
>>> from fera_flex.scheduling.standard_form import build_lp
>>> from fera_flex.scheduling.objective import ObjectiveOptions
>>> from fera_flex.scheduling.solver import SolverOptions
>>> lp = build_lp(random_problem(20, n_slots=24, seed=3), ObjectiveOptions())
>>> solution = solve_lp(lp, SolverOptions())
>>> solution.status.value, solution.x.shape == lp.cost.shape
('optimal', True)
"""

import dataclasses
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling.backends.lp import LPBackend
from fera_flex.scheduling.solver import LPSolution, SolverOptions, SolveStatus
from fera_flex.scheduling.standard_form import StandardLP

__all__ = [
    "BACKEND",
    "IPM_OPTIONS",
    "KINKED_SIMPLEX_MAX_COLUMNS",
    "RECHECK_OPTIONS",
    "SIMPLEX_MAX_COLUMNS",
    "highs_options",
    "solve_lp",
]

KINKED_SIMPLEX_MAX_COLUMNS = 75_000
"""LPs with REGULAR above-flat columns use dual simplex below this many columns."""

SIMPLEX_MAX_COLUMNS = 1_000
"""LPs with fewer columns use dual simplex, larger ones :data:`IPM_OPTIONS`."""

IPM_OPTIONS: Mapping[str, Any] = MappingProxyType({"solver": "ipm", "run_crossover": "off"})
"""HiGHS options for LPs with at least :data:`SIMPLEX_MAX_COLUMNS` columns."""

_SIMPLEX_OPTIONS: Mapping[str, Any] = MappingProxyType({"solver": "simplex"})

_SOLVER = highspy._Highs
"""The solver class (see the module documentation for why not ``highspy.Highs``)."""

_ACTIVE_TOLERANCE = 1e-3
"""A row is at a bound when within this (relative to max(1, |bound|)); others get dual 0.

Generous on purpose: an interior point solution sits a solver tolerance
inside a binding bound, and its dual there is real."""

_ERROR = highspy.HighsStatus.kError
_MODEL = highspy.HighsModelStatus
_STATUS = {
    _MODEL.kOptimal: SolveStatus.OPTIMAL,
    _MODEL.kInfeasible: SolveStatus.INFEASIBLE,
    _MODEL.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
    _MODEL.kTimeLimit: SolveStatus.TIME_LIMIT,
}


def highs_options(lp: StandardLP, options: SolverOptions) -> dict[str, Any]:
    """The HiGHS options :func:`solve_lp` sets for a model.

    Parameters
    ----------
    lp : StandardLP
        The model (its size and integrality choose the method).
    options : SolverOptions
        Time limit, MIP gap and ``extra`` HiGHS options, which override the
        chosen ones.

    Returns
    -------
    dict
        HiGHS option name -> value, in the order they are set.
    """
    # coefficients down to 1e-12 are real here (a slot a session is plugged in for a moment)
    chosen: dict[str, Any] = {"output_flag": False, "small_matrix_value": 1e-12}
    if lp.is_mip:
        chosen["mip_rel_gap"] = float(options.mip_rel_gap)
    elif lp.n_cols < SIMPLEX_MAX_COLUMNS or (
        lp.above_flat_pairs.size and lp.n_cols < KINKED_SIMPLEX_MAX_COLUMNS
    ):
        chosen.update(_SIMPLEX_OPTIONS)
    else:
        chosen.update(IPM_OPTIONS)
    if options.time_limit_s is not None:
        chosen["time_limit"] = float(options.time_limit_s)
    chosen.update(options.extra)
    return chosen


def _set_start(highs: Any, start: np.ndarray) -> None:
    """Offer a start point: the MIP solver uses it as its first incumbent if it is feasible.

    HiGHS's LP solvers do not use a primal point (IPX cannot be warm-started
    at all), so for an LP this changes nothing.
    """
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(start, dtype=np.float64)
    solution.value_valid = True
    highs.setSolution(solution)


def solve_lp(lp: StandardLP, options: SolverOptions) -> LPSolution:
    """Solve a standard-form LP or MILP with HiGHS.

    Parameters
    ----------
    lp : StandardLP
        The model.
    options : SolverOptions
        Time limit [s], relative MIP gap and ``extra`` HiGHS options by name.

    Returns
    -------
    LPSolution
        Status, column values clipped into their bounds, row duals (LPs
        solved to optimality), objective, build and solve times [s] and
        HiGHS's model status text.

    Raises
    ------
    InputError
        For an ``extra`` option HiGHS does not know or whose value it rejects.
    """
    started = time.perf_counter()
    highs = _SOLVER()
    for name, value in highs_options(lp, options).items():
        _set_option(highs, name, value)
    build_s = solve_s = 0.0
    invalid = _invalid_arrays(lp)
    if invalid:  # HiGHS loops forever on a NaN cost and calls a NaN coefficient infeasible
        return _failure(f"not passed to HiGHS: NaN or infinite values in {invalid}", 0.0, 0.0)
    try:
        accepted = _pass_model(highs, lp)
        if accepted and lp.start is not None:
            _set_start(highs, lp.start)
        build_s = time.perf_counter() - started
        if not accepted:
            return _failure("HiGHS rejected the model", build_s, solve_s)
        started = time.perf_counter()
        ran = highs.run()
        solve_s = time.perf_counter() - started
    except (RuntimeError, MemoryError) as error:  # how highspy reports a C++ exception
        return _failure(f"HiGHS failed: {error}", build_s, solve_s)
    if ran == _ERROR:
        status_text = highs.modelStatusToString(highs.getModelStatus())
        return _failure(f"HiGHS run failed (model status: {status_text})", build_s, solve_s)
    return _solution(highs, lp, build_s, solve_s)


def _set_option(highs: Any, name: str, value: Any) -> None:
    """Set one HiGHS option; an unknown name or rejected value is an InputError."""
    try:
        accepted = highs.setOptionValue(name, value) != _ERROR
    except TypeError:  # a value of no type HiGHS options have (list, dict, ...)
        accepted = False
    if accepted:
        return
    known, kind = highs.getOptionType(name)
    reason = (
        "HiGHS has no option of this name"
        if known == _ERROR
        else f"HiGHS rejects this value for its {kind.name[1:].lower()} option"
    )
    raise InputError("SolverOptions", f"extra[{name!r}]", value, reason)


def _invalid_arrays(lp: StandardLP) -> list[str]:
    """Names of the arrays with values HiGHS cannot take (bounds may be infinite)."""
    finite = {"cost": lp.cost, "matrix": lp.matrix.data}
    not_nan = {"col_lo": lp.col_lo, "col_hi": lp.col_hi, "row_lo": lp.row_lo, "row_hi": lp.row_hi}
    return [name for name, values in finite.items() if not np.isfinite(values).all()] + [
        name for name, values in not_nan.items() if np.isnan(values).any()
    ]


def _pass_model(highs: Any, lp: StandardLP) -> bool:
    """Load the model from its arrays; whether HiGHS accepted every call.

    Rows go in with their bounds only, then the columns with their CSC
    entries, the objective offset and the integer columns: every call takes
    whole numpy arrays.
    """
    no_index = np.zeros(0, dtype=np.int32)
    matrix = lp.matrix
    statuses = [
        highs.addRows(
            lp.n_rows,
            _highs_bounds(lp.row_lo),
            _highs_bounds(lp.row_hi),
            0,
            no_index,
            no_index,
            np.zeros(0),
        ),
        highs.addCols(
            lp.n_cols,
            lp.cost,
            _highs_bounds(lp.col_lo),
            _highs_bounds(lp.col_hi),
            matrix.nnz,
            matrix.indptr[:-1],
            matrix.indices,
            matrix.data,
        ),
        highs.changeObjectiveOffset(lp.offset),
    ]
    if lp.is_mip:
        integer = np.flatnonzero(lp.integrality).astype(np.int32)
        kind = np.full(integer.size, highspy.HighsVarType.kInteger.value, dtype=np.uint8)
        statuses.append(highs.changeColsIntegrality(integer.size, integer, kind))
    return _ERROR not in statuses


def _highs_bounds(bound: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bounds with +-inf (and anything beyond) as HiGHS's infinity."""
    return np.clip(bound, -highspy.kHighsInf, highspy.kHighsInf)


def _solution(highs: Any, lp: StandardLP, build_s: float, solve_s: float) -> LPSolution:
    """Map HiGHS's model status and solution to an LPSolution."""
    model_status = highs.getModelStatus()
    message = highs.modelStatusToString(model_status)
    if model_status == _MODEL.kModelEmpty:
        return _empty(lp, build_s, solve_s, message)
    status = _STATUS.get(model_status, SolveStatus.ERROR)
    info = highs.getInfo()
    if lp.is_mip and status in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT):
        message += f" (MIP gap {info.mip_gap:.3g})"
    feasible = info.primal_solution_status == highspy.kSolutionStatusFeasible
    if not (status is SolveStatus.OPTIMAL or (status is SolveStatus.TIME_LIMIT and feasible)):
        return LPSolution(status, None, None, float("nan"), build_s, solve_s, message)
    solution = highs.getSolution()
    x = np.clip(np.fromiter(solution.col_value, np.float64, lp.n_cols), lp.col_lo, lp.col_hi)
    row_dual = None
    if status is SolveStatus.OPTIMAL and not lp.is_mip and solution.dual_valid:
        row_dual = _active_duals(lp, x, np.fromiter(solution.row_dual, np.float64, lp.n_rows))
    objective = float(lp.cost @ x + lp.offset)
    return LPSolution(status, x, row_dual, objective, build_s, solve_s, message)


def _active_duals(
    lp: StandardLP, x: NDArray[np.float64], row_dual: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Row duals kept only on the side of a bound the row is at, 0 elsewhere.

    An interior point solution without crossover leaves duals of about 1e-7
    on rows that do not bind, and either method may leave a dual of the
    wrong sign within its dual tolerance; the contract has 0 and one sign.
    """
    activity = lp.matrix @ x
    at_upper, at_lower = (
        np.isfinite(bound)
        & (np.abs(activity - bound) <= _ACTIVE_TOLERANCE * np.maximum(1.0, np.abs(bound)))
        for bound in (lp.row_hi, lp.row_lo)
    )
    return np.where(at_upper, np.minimum(row_dual, 0.0), 0.0) + np.where(
        at_lower, np.maximum(row_dual, 0.0), 0.0
    )


def _empty(lp: StandardLP, build_s: float, solve_s: float, message: str) -> LPSolution:
    """A model without columns: optimal when every row admits 0, else infeasible."""
    if np.all(lp.row_lo <= 0.0) and np.all(lp.row_hi >= 0.0):
        duals = np.zeros(lp.n_rows)
        return LPSolution(
            SolveStatus.OPTIMAL, np.zeros(0), duals, lp.offset, build_s, solve_s, message
        )
    return LPSolution(SolveStatus.INFEASIBLE, None, None, float("nan"), build_s, solve_s, message)


def _failure(message: str, build_s: float, solve_s: float) -> LPSolution:
    return LPSolution(SolveStatus.ERROR, None, None, float("nan"), build_s, solve_s, message)


RECHECK_OPTIONS: tuple[Mapping[str, Any], ...] = (
    MappingProxyType({"presolve": "off", "mip_feasibility_tolerance": 1e-9}),
    MappingProxyType({"presolve": "off"}),
    MappingProxyType({"solver": "simplex"}),
    MappingProxyType({"presolve": "off", "solver": "simplex"}),
    # HiGHS's own default: coefficients below 1e-9 dropped (the safety repair then removes
    # the tolerance-sized excess this can leave)
    MappingProxyType({"small_matrix_value": 1e-9}),
)
"""HiGHS options for the further tries, in turn, of a stage that failed numerically or
cannot be infeasible (see LPBackend). On extreme coefficients (1e-15 next to 5e5) each
of them but the fourth has been seen to succeed where the ones before it failed (tests in
``tests/scheduling/test_hostile.py``)."""


def _careful(options: SolverOptions) -> tuple[SolverOptions, ...]:
    return tuple(
        dataclasses.replace(options, extra={**options.extra, **retry}) for retry in RECHECK_OPTIONS
    )


BACKEND = LPBackend("highs", solve_lp, recheck=_careful)
"""The problem-level HiGHS backend (``schedule(problem, method="highs")``)."""
