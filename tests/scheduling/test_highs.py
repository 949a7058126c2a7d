"""The HiGHS backend against scipy's HiGHS (linprog / milp) as an independent reference."""

import dataclasses
import subprocess
import sys
from datetime import datetime, timezone

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from fera_flex.errors import InputError
from fera_flex.scenarios.arrays import random_problem
from fera_flex.scheduling.backends import highs as backend
from fera_flex.scheduling.backends.highs import (
    IPM_OPTIONS,
    KINKED_SIMPLEX_MAX_COLUMNS,
    SIMPLEX_MAX_COLUMNS,
    highs_options,
    solve_lp,
)
from fera_flex.scheduling.objective import NodePeakCost, ObjectiveOptions
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.solver import SolverOptions, SolveStatus
from fera_flex.scheduling.standard_form import Stage, StageGoal, StandardLP, build_lp
from fera_flex.timeseries import TimeGrid
from tests.scheduling.reference import reference

OBJECTIVE_RTOL = 1e-6  # relative to max(1, |objective|)
BOUND_ATOL = 1e-7  # row and column bounds
INTEGER_ATOL = 1e-6
EXACT_MIP = SolverOptions(mip_rel_gap=1e-9)
FORCED_IPM = SolverOptions(mip_rel_gap=EXACT_MIP.mip_rel_gap, extra=IPM_OPTIONS)
VERTEX = SolverOptions(extra={"solver": "ipm", "run_crossover": "on"})

VARIANTS = {
    "cheap": {},
    "profile_mix": {"profile_mix": True},
    "v2g": {"v2g_share": 0.5, "profile_mix": True},
    "min_rate": {"min_rate_share": 0.5},
    "phase_limits": {"phase_limits": True, "profile_mix": True},
}


def assert_feasible(lp: StandardLP, x: np.ndarray) -> None:
    assert np.all(x >= lp.col_lo - BOUND_ATOL) and np.all(x <= lp.col_hi + BOUND_ATOL)
    activity = lp.matrix @ x
    assert np.all(activity >= lp.row_lo - BOUND_ATOL)
    assert np.all(activity <= lp.row_hi + BOUND_ATOL)
    integer = x[lp.integrality]
    np.testing.assert_allclose(integer, np.round(integer), atol=INTEGER_ATOL)


def assert_matches_reference(lp: StandardLP, options: SolverOptions) -> None:
    solution = solve_lp(lp, options)
    status, expected = reference(lp)
    assert status == 0
    assert solution.status is SolveStatus.OPTIMAL, solution.message
    assert abs(solution.objective - expected) <= OBJECTIVE_RTOL * max(1.0, abs(expected))
    assert_feasible(lp, solution.x)
    assert (solution.row_dual is None) == lp.is_mip
    assert solution.build_s > 0 and solution.solve_s > 0


@pytest.mark.parametrize("options", [EXACT_MIP, FORCED_IPM], ids=["auto", "ipm"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("variant", VARIANTS)
def test_hard_stage_matches_scipy(variant, seed, options):
    problem = random_problem(8 + 5 * seed, n_slots=48, seed=seed, **VARIANTS[variant])
    assert_matches_reference(build_lp(problem, ObjectiveOptions()), options)


@pytest.mark.parametrize("options", [SolverOptions(), FORCED_IPM], ids=["auto", "ipm"])
@pytest.mark.parametrize("seed", range(2))
def test_node_peak_costs_match_scipy(seed, options):
    problem = random_problem(20, n_slots=48, seed=seed, profile_mix=True, v2g_share=0.3)
    costs = {0: NodePeakCost(eur_per_kw=0.5, free_kw=10.0), 1: NodePeakCost(eur_per_kw=0.2)}
    lp = build_lp(problem, ObjectiveOptions(node_peak_costs=costs))
    assert lp.offset != 0
    assert_matches_reference(lp, options)


@pytest.mark.parametrize("options", [EXACT_MIP, FORCED_IPM], ids=["auto", "ipm"])
@pytest.mark.parametrize("seed", range(4))
def test_energy_stages_match_scipy(seed, options):
    """The lexicographic stages of an infeasible problem, each bound taken from the reference."""
    problem = random_problem(
        15 + 5 * seed, n_slots=48, seed=seed, overload=1.5, v2g_share=0.2, profile_mix=True
    )
    objective = ObjectiveOptions()
    hard = build_lp(problem, objective, Stage(StageGoal.ECONOMIC, needs_met=True))
    assert reference(hard)[0] == 2
    assert solve_lp(hard, options).status is SolveStatus.INFEASIBLE

    max_energy = build_lp(problem, objective, Stage(StageGoal.MAX_ENERGY))
    assert_matches_reference(max_energy, options)
    unmet = reference(max_energy)[1] * (1 + 1e-7)
    assert unmet > 1.0
    fair = build_lp(problem, objective, Stage(StageGoal.FAIR, total_unmet_kwh=unmet))
    assert_matches_reference(fair, options)
    worst = reference(fair)[1] * (1 + 1e-7)
    economic = build_lp(
        problem,
        objective,
        Stage(StageGoal.ECONOMIC, total_unmet_kwh=unmet, max_relative_shortfall=worst),
    )
    assert_matches_reference(economic, options)


@pytest.mark.parametrize("seed", range(3))
def test_overload_hard_is_infeasible_at_ipm_size(seed):
    lp = build_lp(random_problem(150, seed=seed, overload=1.5), ObjectiveOptions())
    assert lp.n_cols >= SIMPLEX_MAX_COLUMNS
    solution = solve_lp(lp, SolverOptions())
    assert solution.status is SolveStatus.INFEASIBLE, solution.message
    assert solution.x is None and solution.row_dual is None and np.isnan(solution.objective)


def binding_node_row(lp: StandardLP, row_dual: np.ndarray) -> int:
    rows = np.arange(lp.rows["node"].start, lp.rows["node"].stop)
    return int(rows[np.argmin(row_dual[rows])])


def objective_slope(lp: StandardLP, row: int, step: float, side: str) -> tuple[float, float]:
    """Left and right difference quotients of the vertex optimum in a row's bound(s)."""
    values = []
    for sign in (-1.0, 0.0, 1.0):
        changed = {}
        for name in ("row_lo", "row_hi") if side == "both" else (side,):
            bound = getattr(lp, name).copy()
            bound[row] += sign * step
            changed[name] = bound
        values.append(solve_lp(dataclasses.replace(lp, **changed), VERTEX).objective)
    return (values[1] - values[0]) / step, (values[2] - values[1]) / step


@pytest.mark.parametrize("options", [SolverOptions(), FORCED_IPM], ids=["simplex", "ipm"])
@pytest.mark.parametrize("seed", range(2))
def test_row_duals_are_objective_slopes(seed, options):
    """row_dual = d objective / d active bound, checked by finite differences."""
    lp = build_lp(random_problem(25, n_slots=48, seed=seed, profile_mix=True), ObjectiveOptions())
    solution = solve_lp(lp, options)
    node_row = binding_node_row(lp, solution.row_dual)
    assert solution.row_dual[node_row] < -1e-4  # a binding import limit: more room, lower cost
    energy_row = lp.rows["energy"].start + int(np.argmax(lp.row_hi[lp.rows["energy"]]))
    assert solution.row_dual[energy_row] > 0  # more energy needed costs more
    step = 1e-4
    for row, side in ((node_row, "row_hi"), (energy_row, "both")):
        left, right = objective_slope(lp, row, step, side)
        slack = 1e-6 + 1e-4 * abs(solution.row_dual[row])
        assert min(left, right) - slack <= solution.row_dual[row] <= max(left, right) + slack


def test_inactive_rows_have_zero_dual():
    lp = build_lp(random_problem(120, seed=4, profile_mix=True), ObjectiveOptions())
    solution = solve_lp(lp, FORCED_IPM)  # the interior point path leaves noise on slack rows
    activity = lp.matrix @ solution.x
    slack = np.minimum(lp.row_hi - activity, activity - lp.row_lo)
    scale = np.maximum(1.0, np.minimum(np.abs(lp.row_hi), np.abs(lp.row_lo)))
    assert np.all(solution.row_dual[slack > 1e-3 * scale] == 0.0)
    upper_only = np.isinf(lp.row_lo) & np.isfinite(lp.row_hi)
    assert np.all(solution.row_dual[upper_only] <= 0.0)
    assert (solution.row_dual[lp.rows["node"]] < -1e-4).any()


def test_degenerate_rows_have_a_dual_between_the_one_sided_slopes():
    """Where the dual is not unique, IPM and crossover pick different, equally valid values.

    A feeder and its only parent have the same 10 kW limit: both rows bind
    together, so the price of the shared limit can be split between them in
    any proportion (raising one bound alone gains nothing).
    """
    grid = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 3600, 4)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 0, 0],
        departure_slot=[4, 4, 4],
        energy_kwh=[15.0, 10.0, 5.0],
        power_max_kw=11.0,
        node_of_session=[1, 1, 1],
        node_parent=[-1, 0],
        node_capacity_kw=[10.0, 10.0],
        price_eur_per_kwh=[0.3, 0.1, 0.2, 0.4],
        profile_type="CHEAP",
    )
    lp = build_lp(problem, ObjectiveOptions())
    interior, vertex = solve_lp(lp, FORCED_IPM), solve_lp(lp, VERTEX)
    rows = np.arange(lp.rows["node"].start, lp.rows["node"].stop)
    differ = rows[np.abs(interior.row_dual[rows] - vertex.row_dual[rows]) > 1e-6]
    assert differ.size > 0
    for row in differ[:4]:
        left, right = objective_slope(lp, row, 1e-3, "row_hi")
        assert left < right - 1e-4  # a kink: the one-sided slopes differ
        for dual in (interior.row_dual[row], vertex.row_dual[row]):
            assert left - 1e-6 <= dual <= right + 1e-6


def test_lps_with_regular_kinks_use_simplex_up_to_a_size():
    kinked = build_lp(random_problem(150, seed=0, profile_mix=True), ObjectiveOptions())
    assert kinked.above_flat_pairs.size and kinked.n_cols < KINKED_SIMPLEX_MAX_COLUMNS
    assert highs_options(kinked, SolverOptions())["solver"] == "simplex"
    large = dataclasses.replace(kinked, cost=np.zeros(KINKED_SIMPLEX_MAX_COLUMNS))
    assert highs_options(large, SolverOptions())["solver"] == "ipm"


def test_method_chosen_by_size():
    small = build_lp(random_problem(10, n_slots=24, seed=0), ObjectiveOptions())
    large = build_lp(random_problem(150, seed=0), ObjectiveOptions())
    mip = build_lp(random_problem(10, n_slots=24, seed=0, min_rate_share=1.0), ObjectiveOptions())
    assert small.n_cols < SIMPLEX_MAX_COLUMNS <= large.n_cols
    options = SolverOptions(time_limit_s=3, mip_rel_gap=0.01)
    assert highs_options(small, options) == {
        "output_flag": False,
        "small_matrix_value": 1e-12,
        "solver": "simplex",
        "time_limit": 3.0,
    }
    assert highs_options(large, options) == {
        "output_flag": False,
        "small_matrix_value": 1e-12,
        **IPM_OPTIONS,
        "time_limit": 3.0,
    }
    assert highs_options(mip, options) == {
        "output_flag": False,
        "small_matrix_value": 1e-12,
        "mip_rel_gap": 0.01,
        "time_limit": 3.0,
    }
    override = SolverOptions(extra={"solver": "simplex", "presolve": "off"})
    assert highs_options(large, override)["solver"] == "simplex"
    solution = solve_lp(small, SolverOptions(extra={"solver": "ipm", "presolve": "off"}))
    assert solution.status is SolveStatus.OPTIMAL


def _check_limited(lp, solution):
    """Whatever a time limit interrupts: a clear status, and any point returned is feasible.

    Which outcome occurs depends on the machine's speed, so each is checked, not required.
    """
    assert solution.status in (SolveStatus.TIME_LIMIT, SolveStatus.OPTIMAL), solution.message
    if solution.status is SolveStatus.TIME_LIMIT:
        assert "Time limit" in solution.message
        assert solution.row_dual is None
    if solution.x is None:
        assert solution.status is SolveStatus.TIME_LIMIT and np.isnan(solution.objective)
    else:
        assert_feasible(lp, solution.x)
        assert solution.objective == pytest.approx(lp.cost @ solution.x + lp.offset)


@pytest.mark.parametrize(("n", "time_limit_s"), [(300, 0.05), (60, 2.0)])
def test_milp_time_limit(n, time_limit_s):
    """On this machine: no incumbent after 0.05 s at N=300; an incumbent (first found after
    about 0.7 s, optimality proven after about 6 s) at N=60 after 2 s."""
    lp = build_lp(random_problem(n, seed=1, min_rate_share=1.0), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(time_limit_s=time_limit_s, mip_rel_gap=0.0))
    _check_limited(lp, solution)
    assert solution.solve_s < time_limit_s + 5.0


def test_lp_time_limit_returns_without_raising():
    lp = build_lp(random_problem(300, seed=1, profile_mix=True), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(time_limit_s=0.01))
    _check_limited(lp, solution)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"no_such_option": 1}, "no option of this name"),
        ({"solver": "no_such_solver"}, "string option"),
        ({"time_limit": -1.0}, "double option"),
        ({"threads": 1.5}, "int option"),
        ({"presolve": ["on"]}, "string option"),
    ],
)
def test_invalid_extra_option_is_input_error(extra, reason):
    lp = build_lp(random_problem(5, n_slots=8, seed=0), ObjectiveOptions())
    name = next(iter(extra))
    with pytest.raises(InputError, match=reason) as raised:
        solve_lp(lp, SolverOptions(extra=extra))
    assert raised.value.field == f"extra[{name!r}]"


def empty_lp(row_lo: list[float], row_hi: list[float]) -> StandardLP:
    return StandardLP(
        cost=np.zeros(0),
        matrix=sp.csc_matrix((len(row_lo), 0)),
        row_lo=np.array(row_lo),
        row_hi=np.array(row_hi),
        col_lo=np.zeros(0),
        col_hi=np.zeros(0),
        integrality=np.zeros(0, dtype=bool),
        offset=2.5,
        columns={},
        rows={},
        charge_pairs=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        above_flat_pairs=np.zeros(0, np.int64),
        discharge_pairs=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        node_rows=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        target_rows=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
    )


def test_model_without_columns():
    feasible = solve_lp(empty_lp([-np.inf, 0.0], [1.0, 0.0]), SolverOptions())
    assert feasible.status is SolveStatus.OPTIMAL and feasible.objective == 2.5
    assert feasible.x.shape == (0,) and np.array_equal(feasible.row_dual, [0.0, 0.0])
    assert solve_lp(empty_lp([1.0], [2.0]), SolverOptions()).status is SolveStatus.INFEASIBLE


class RaisingHighs(highspy._Highs):
    def run(self):
        raise RuntimeError("simulated HiGHS failure")


class FailingHighs(highspy._Highs):
    def run(self):
        return highspy.HighsStatus.kError


@pytest.mark.parametrize(
    ("solver", "text"),
    [(RaisingHighs, "simulated HiGHS failure"), (FailingHighs, "HiGHS run failed")],
)
def test_solver_failure_becomes_error(monkeypatch, solver, text):
    monkeypatch.setattr(backend, "_SOLVER", solver)
    lp = build_lp(random_problem(5, n_slots=8, seed=0), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions())
    assert solution.status is SolveStatus.ERROR and solution.x is None
    assert text in solution.message


def test_no_console_output_in_a_fresh_process():
    code = (
        "from fera_flex.scenarios.arrays import random_problem\n"
        "from fera_flex.scheduling.standard_form import build_lp\n"
        "from fera_flex.scheduling.objective import ObjectiveOptions\n"
        "from fera_flex.scheduling.solver import SolverOptions\n"
        "from fera_flex.scheduling.backends.highs import solve_lp\n"
        "for n, share in ((5, 0.0), (150, 0.0), (5, 1.0)):\n"
        "    lp = build_lp(random_problem(n, seed=0, min_rate_share=share), ObjectiveOptions())\n"
        "    assert solve_lp(lp, SolverOptions()).status.value == 'optimal'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout == "" and result.stderr == ""


@pytest.mark.parametrize("field", ["cost", "matrix", "col_hi", "row_lo"])
def test_nan_in_the_model_is_an_error_not_a_hang(field):
    lp = build_lp(random_problem(5, n_slots=8, seed=0), ObjectiveOptions())
    if field == "matrix":
        values = lp.matrix.copy()
        values.data[0] = np.nan
    else:
        values = getattr(lp, field).copy()
        values[0] = np.nan
    solution = solve_lp(dataclasses.replace(lp, **{field: values}), SolverOptions())
    assert solution.status is SolveStatus.ERROR and solution.x is None
    assert field in solution.message


def test_model_highs_rejects_is_an_error():
    lp = build_lp(random_problem(5, n_slots=8, seed=0), ObjectiveOptions())
    taller = sp.vstack([lp.matrix, sp.csr_matrix(np.ones((1, lp.n_cols)))]).tocsc()
    solution = solve_lp(dataclasses.replace(lp, matrix=taller), SolverOptions())
    assert solution.status is SolveStatus.ERROR and "rejected" in solution.message
