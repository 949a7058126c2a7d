"""The cvxpy backend against scipy's HiGHS (linprog / milp) on seeded random problems."""

from dataclasses import replace

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp

from fera_flex.errors import InputError
from fera_flex.scenarios.arrays import random_problem
from fera_flex.scheduling.backends import cvxpy as backend
from fera_flex.scheduling.backends.cvxpy import CvxpyModel, LPExpressions, solve_lp
from fera_flex.scheduling.objective import NodePeakCost, ObjectiveOptions
from fera_flex.scheduling.solver import SolverOptions, SolveStatus
from fera_flex.scheduling.standard_form import Stage, StageGoal, build_lp
from tests.scheduling.reference import OPTIMAL, reference

OBJECTIVE_RTOL = 1e-6
ROW_ATOL = 1e-6  # kW / kWh: interior-point tolerance, far below the rows' safety margin
DUAL_ATOL = 1e-5  # EUR per unit of bound
EXACT_MIP = SolverOptions(mip_rel_gap=1e-9)

VARIANTS = {
    "cheap": {},
    "mix": {"profile_mix": True},
    "v2g": {"v2g_share": 0.4},
    "min_rate": {"min_rate_share": 0.4},
    "phases": {"phase_limits": True},
    "all": {"profile_mix": True, "v2g_share": 0.3, "min_rate_share": 0.3, "phase_limits": True},
}


def solved_reference(lp):
    """(solved, objective) of the scipy reference."""
    status, objective = reference(lp)
    return status == OPTIMAL, objective if status == OPTIMAL else None


STAGES = ("hard", "max_energy", "fair", "economic")


def stage_lp(problem, options, stage):
    """The LP of a stage, with the FAIR/ECONOMIC bounds taken from the reference solves."""
    if stage == "hard":
        return build_lp(problem, options, Stage(StageGoal.ECONOMIC, needs_met=True))
    bounds = {}
    if stage in ("fair", "economic"):
        _, unmet = solved_reference(build_lp(problem, options, Stage(StageGoal.MAX_ENERGY)))
        bounds["total_unmet_kwh"] = unmet + 1e-6
    if stage == "economic":
        fair = Stage(StageGoal.FAIR, **bounds)
        _, shortfall = solved_reference(build_lp(problem, options, fair))
        bounds["max_relative_shortfall"] = shortfall + 1e-6
    return build_lp(problem, options, Stage(StageGoal(stage), **bounds))


def assert_feasible(lp, x):
    assert np.all(x >= lp.col_lo) and np.all(x <= lp.col_hi)
    ax = lp.matrix @ x
    assert np.all(ax >= lp.row_lo - ROW_ATOL) and np.all(ax <= lp.row_hi + ROW_ATOL)


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_scipy(variant, seed, stage):
    problem = random_problem(
        12, 24, seed=seed, overload=1.0 if stage == "hard" else 1.3, **VARIANTS[variant]
    )
    options = ObjectiveOptions(node_peak_costs={0: NodePeakCost(0.5, 10.0)} if seed else {})
    lp = stage_lp(problem, options, stage)
    solved, expected = solved_reference(lp)
    solution = solve_lp(lp, EXACT_MIP)
    if not solved:
        assert solution.status is SolveStatus.INFEASIBLE
        return
    assert solution.status is SolveStatus.OPTIMAL, solution.message
    assert solution.objective == pytest.approx(expected, rel=OBJECTIVE_RTOL, abs=OBJECTIVE_RTOL)
    assert solution.objective == pytest.approx(lp.cost @ solution.x + lp.offset, rel=1e-12)
    assert_feasible(lp, solution.x)
    assert solution.build_s > 0 and solution.solve_s > 0
    if lp.is_mip:
        assert solution.row_dual is None
        on = solution.x[lp.integrality]
        np.testing.assert_array_equal(on, np.round(on))
    else:
        assert solution.row_dual.shape == (lp.n_rows,)


def test_feasible_hard_stage_is_compared():
    """The HARD cases above are not all infeasible: the comparison does run for them."""
    lp = build_lp(random_problem(12, 24, seed=0), ObjectiveOptions())
    assert solved_reference(lp)[0]


@pytest.mark.parametrize("solver", ["HIGHS", "CLARABEL"])
def test_overloaded_hard_stage_is_infeasible(solver):
    lp = build_lp(random_problem(20, 24, seed=2, overload=1.5), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(solver=solver))
    assert solution.status is SolveStatus.INFEASIBLE
    assert solution.x is None and solution.row_dual is None
    assert np.isnan(solution.objective)


def test_clarabel_is_selectable_by_lowercase_name():
    lp = build_lp(random_problem(30, 48, seed=4, profile_mix=True), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(solver="clarabel"))
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.message.startswith("CLARABEL: optimal")
    assert solution.objective == pytest.approx(solved_reference(lp)[1], rel=OBJECTIVE_RTOL)


def test_unknown_solver_is_named_with_the_installed_ones():
    lp = build_lp(random_problem(5, 8, seed=0), ObjectiveOptions())
    with pytest.raises(InputError, match=r"no_such_solver.*not installed") as error:
        solve_lp(lp, SolverOptions(solver="no_such_solver"))
    assert "HIGHS" in str(error.value) and "CLARABEL" in str(error.value)


def test_solver_error_is_a_status_not_an_exception():
    """CLARABEL cannot solve a MILP: cvxpy's SolverError becomes ERROR with its message."""
    lp = build_lp(random_problem(10, 24, seed=0, min_rate_share=0.5), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(solver="CLARABEL"))
    assert solution.status is SolveStatus.ERROR
    assert solution.x is None and "CLARABEL" in solution.message


def test_time_limit_gives_time_limit_status():
    lp = build_lp(random_problem(100, 96, seed=0), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(time_limit_s=1e-4))
    assert solution.status is SolveStatus.TIME_LIMIT
    assert solution.x is None  # the interrupted interior point is not feasible


def test_solver_arguments():
    lp_options = SolverOptions(time_limit_s=5, extra={"highs_options": {"solver": "simplex"}})
    name, kwargs, notes = backend._solver_call(lp_options, is_mip=False)
    assert name == "HIGHS" and not notes
    assert kwargs == {
        "canon_backend": "COO",
        "highs_options": {
            "solver": "simplex",
            "run_crossover": "off",
            "small_matrix_value": 1e-12,
            "time_limit": 5.0,
        },
    }
    top_level = SolverOptions(extra={"run_crossover": "on", "canon_backend": "CPP"})
    _, kwargs, _ = backend._solver_call(top_level, is_mip=False)
    assert kwargs == {
        "run_crossover": "on",
        "canon_backend": "CPP",
        "highs_options": {"solver": "ipm", "small_matrix_value": 1e-12},
    }
    _, kwargs, _ = backend._solver_call(SolverOptions(mip_rel_gap=0.01), is_mip=True)
    assert kwargs["highs_options"] == {"mip_rel_gap": 0.01, "small_matrix_value": 1e-12}
    _, kwargs, _ = backend._solver_call(SolverOptions(solver="scs", time_limit_s=2), False)
    assert kwargs == {"canon_backend": "COO", "time_limit_secs": 2.0}
    _, kwargs, _ = backend._solver_call(SolverOptions(solver="scipy", time_limit_s=2), True)
    assert kwargs["scipy_options"] == {"mip_rel_gap": 1e-4, "time_limit": 2.0}
    with pytest.raises(InputError, match=r"SolverOptions\.solver"):
        backend._solver_call(SolverOptions(extra={"solver": "simplex"}), is_mip=False)


def test_top_level_highs_option_overrides_the_default():
    lp = build_lp(random_problem(30, 24, seed=1), ObjectiveOptions())
    solution = solve_lp(lp, SolverOptions(extra={"run_crossover": "on", "warm_start": False}))
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(solved_reference(lp)[1], rel=OBJECTIVE_RTOL)


def test_unmapped_time_limit_is_noted(monkeypatch):
    monkeypatch.setattr(cp, "installed_solvers", lambda: ["HIGHS", "GLPK"])
    _, kwargs, notes = backend._solver_call(SolverOptions(solver="GLPK", time_limit_s=1), False)
    assert kwargs == {"canon_backend": "COO"} and notes == ["time_limit_s is not passed to GLPK"]


def _flipped(lp, rows):
    """The same LP with ``rows`` negated (upper limits become lower limits)."""
    sign = np.ones(lp.n_rows)
    sign[rows] = -1.0
    lo = np.where(sign > 0, lp.row_lo, -lp.row_hi)
    hi = np.where(sign > 0, lp.row_hi, -lp.row_lo)
    return replace(lp, matrix=(sp.diags(sign) @ lp.matrix).tocsc(), row_lo=lo, row_hi=hi)


def _value_with_bound_shift(lp, row, side, step):
    lo, hi = lp.row_lo.copy(), lp.row_hi.copy()
    if side in ("lo", "both"):
        lo[row] += step
    if side in ("hi", "both"):
        hi[row] += step
    solved, value = solved_reference(replace(lp, row_lo=lo, row_hi=hi))
    assert solved
    return value


@pytest.mark.parametrize("solver", ["HIGHS", "CLARABEL"])
def test_row_duals_by_finite_difference(solver):
    """row_dual is d objective / d active bound for =, <=, >= and two-sided rows."""
    base = build_lp(random_problem(16, 24, seed=7), ObjectiveOptions())
    node = np.arange(base.rows["node"].start, base.rows["node"].stop)
    lp = _flipped(base, node[::2])  # half the node limits become >= rows
    lo = lp.row_lo.copy()
    lo[node[1::4]] = -1e4  # some <= rows get a finite, inactive lower side
    lp = replace(lp, row_lo=lo)
    solution = solve_lp(lp, SolverOptions(solver=solver))
    assert solution.status is SolveStatus.OPTIMAL
    ax = lp.matrix @ solution.x
    dual = solution.row_dual
    equal = lp.row_lo == lp.row_hi
    checks = []
    for rows in (np.flatnonzero(equal), node[::2], node[3::4], node[1::4]):  # =, >=, <=, both
        checks.extend(rows[np.argsort(-np.abs(dual[rows]))[:4]])  # most binding rows
        checks.extend(rows[np.abs(dual[rows]) < 1e-8][:2])  # rows that do not bind
    assert (np.abs(dual[node]) > 1e-3).sum() >= 4  # the node limits bind
    step = 1e-3
    for row in checks:
        if equal[row]:
            side = "both"
        elif not np.isfinite(lp.row_lo[row]):
            side = "hi"
        elif not np.isfinite(lp.row_hi[row]):
            side = "lo"
        else:
            side = "hi" if abs(ax[row] - lp.row_hi[row]) < abs(ax[row] - lp.row_lo[row]) else "lo"
        left = (solution.objective - _value_with_bound_shift(lp, row, side, -step)) / step
        right = (_value_with_bound_shift(lp, row, side, step) - solution.objective) / step
        assert left - DUAL_ATOL <= dual[row] <= right + DUAL_ATOL, (row, side, left, right)


def test_new_cost_resolves_like_a_fresh_model():
    lp = build_lp(random_problem(40, 48, seed=5, profile_mix=True), ObjectiveOptions())
    model = CvxpyModel(lp)
    first = model.solve()
    new_cost = lp.cost * np.random.default_rng(0).uniform(0.5, 1.5, lp.n_cols)
    model.set_cost(new_cost)
    second = model.solve()
    fresh = solve_lp(replace(lp, cost=new_cost))
    # timings are not asserted (shared machine); the report's measurement: second.build_s,
    # without recompilation, is a small fraction of first.build_s
    assert second.status is fresh.status is SolveStatus.OPTIMAL
    assert second.objective == pytest.approx(fresh.objective, rel=OBJECTIVE_RTOL)
    assert second.objective == pytest.approx(
        solved_reference(replace(lp, cost=new_cost))[1], rel=1e-6
    )
    assert second.objective == pytest.approx(new_cost @ second.x + lp.offset, rel=1e-12)
    assert first.objective == pytest.approx(solved_reference(lp)[1], rel=OBJECTIVE_RTOL)
    assert_feasible(lp, second.x)


def test_new_cost_is_checked():
    model = CvxpyModel(build_lp(random_problem(5, 8, seed=0), ObjectiveOptions()))
    with pytest.raises(InputError, match="shape"):
        model.set_cost(np.zeros(3))
    cost = np.zeros(model.lp.n_cols)
    cost[2] = np.nan
    with pytest.raises(InputError, match=r"cost\[2\]"):
        model.set_cost(cost)


def test_linear_extra_objective_equals_a_changed_cost():
    lp = build_lp(random_problem(20, 24, seed=3, v2g_share=0.3), ObjectiveOptions())
    weight = np.random.default_rng(1).uniform(0.0, 0.2, lp.columns["charge"].stop)
    model = CvxpyModel(lp, lambda view: weight @ view.charge_kw)
    solution = model.solve()
    cost = lp.cost.copy()
    cost[lp.columns["charge"]] += weight
    expected = solved_reference(replace(lp, cost=cost))[1]
    assert model.problem.value == pytest.approx(expected, rel=OBJECTIVE_RTOL)
    charge = solution.x[lp.columns["charge"]]
    assert solution.objective == pytest.approx(expected - weight @ charge, rel=OBJECTIVE_RTOL)


def _session_differences(lp):
    """(pairs - sessions, pairs) matrix of p[i, t + 1] - p[i, t] along each session's window."""
    session, slot = lp.charge_pairs
    follows = np.flatnonzero((session[1:] == session[:-1]) & (slot[1:] == slot[:-1] + 1))
    rows = np.arange(follows.size)
    return sp.csr_array(
        (
            np.r_[-np.ones(follows.size), np.ones(follows.size)],
            (np.r_[rows, rows], np.r_[follows, follows + 1]),
        ),
        shape=(follows.size, session.size),
    )


def test_quadratic_smoothing_term():
    lp = build_lp(random_problem(20, 24, seed=6), ObjectiveOptions())
    difference = _session_differences(lp)
    views = []

    def smoothing(view: LPExpressions):
        views.append(view)
        return 0.05 * cp.sum_squares(difference @ view.charge_kw)

    values = {}
    for solver in ("CLARABEL", "HIGHS"):
        model = CvxpyModel(lp, smoothing)
        solution = model.solve(SolverOptions(solver=solver))
        assert solution.status is SolveStatus.OPTIMAL, solution.message
        assert_feasible(lp, solution.x)
        values[solver] = model.problem.value
        node_rows = lp.matrix[lp.rows["node"]]
        np.testing.assert_allclose(views[-1].node_net_kw.value, node_rows @ solution.x, atol=1e-6)
    assert values["CLARABEL"] == pytest.approx(values["HIGHS"], rel=OBJECTIVE_RTOL)
    plain = solve_lp(lp)
    charge = lp.columns["charge"]
    smooth_penalty = 0.05 * np.sum((difference @ solution.x[charge]) ** 2)
    plain_penalty = 0.05 * np.sum((difference @ plain.x[charge]) ** 2)
    assert smooth_penalty < plain_penalty
    assert values["HIGHS"] <= plain.objective + plain_penalty + 1e-6
    assert solution.objective >= plain.objective - 1e-6


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        (lambda view: -cp.sum_squares(view.charge_kw), "not convex"),
        (lambda view: view.charge_kw, "scalar"),
        (lambda view: 1.0, "scalar"),
    ],
)
def test_invalid_extra_objective(term, reason):
    lp = build_lp(random_problem(5, 8, seed=0), ObjectiveOptions())
    with pytest.raises(InputError, match=reason):
        CvxpyModel(lp, term)


def test_extra_objective_on_a_milp_and_named_blocks():
    lp = build_lp(
        random_problem(10, 24, seed=0, min_rate_share=0.5),
        ObjectiveOptions(),
        Stage(StageGoal.MAX_ENERGY),
    )

    def term(view):
        with pytest.raises(InputError, match="choose from"):
            view.block("no_such_block")
        return 0.01 * cp.sum(view.block("unmet"))

    solution = solve_lp(lp, EXACT_MIP, extra_objective=term)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(solved_reference(lp)[1], rel=OBJECTIVE_RTOL)
