"""Backend agreement with a solver that is not HiGHS: Clarabel (interior point, conic) via cvxpy.

The HiGHS backend, cvxpy's default solver and scipy's reference are all HiGHS;
here the same seeded problems are solved by HiGHS and by Clarabel, and both
plans are checked by ``tests.scheduling.independent`` (no code shared with the
scheduler) against every limit and against an independent maximum of energy.
"""

import cvxpy as cp
import numpy as np
import pytest

from fera_flex.scenarios import random_problem
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.schedule import schedule
from tests.scheduling import independent

# Clarabel stops at relative duality gap and feasibility residuals of 1e-8 (its defaults), and
# schedule() chains up to four LPs whose optima are passed on relaxed by 1e-7 relative, so
# two correct backends can differ by a few 1e-8 relative; measured differences on these problems
# are below 1e-9. 1e-6 is met with ample room and still catches any modelling difference (one
# kWh moved to a dearer slot changes the objective by ~1e-3 relative here).
DELIVERED_RTOL = 1e-6
OBJECTIVE_RTOL = 1e-6
VIOLATION_TOL = 1e-9
ENERGY_RTOL = 1e-5  # the scheduler's documented safety margin (1e-6) plus stage tolerances

CASES = [
    # (sessions, slots, seed, overload, other random_problem options)
    (20, 24, 1, 1.0, {}),
    (40, 48, 2, 1.5, {}),
    (60, 48, 3, 1.0, {"profile_mix": True}),
    (30, 24, 4, 1.5, {"profile_mix": True}),
    (50, 48, 5, 1.5, {"profile_mix": True}),
    (25, 36, 6, 1.0, {}),
    (30, 24, 7, 1.5, {"profile_mix": True, "v2g_share": 0.3}),
    (30, 24, 10, 1.0, {"v2g_share": 0.5}),
    (40, 48, 8, 1.0, {"phase_limits": True}),
    (40, 48, 9, 1.5, {"phase_limits": True}),
]
IDS = [
    "-".join([f"n{n}", f"T{t}", f"seed{s}", f"overload{o}", *sorted(options)])
    for n, t, s, o, options in CASES
]


def test_clarabel_is_installed():
    # Clarabel ships with cvxpy; without it this file would test nothing, so fail, do not skip
    assert "CLARABEL" in cp.installed_solvers()


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def solved(request):
    n, n_slots, seed, overload, options = request.param
    problem = random_problem(n, n_slots, seed=seed, overload=overload, **options)
    highs = schedule(problem, method="highs")
    clarabel = schedule(problem, method="cvxpy", solver="CLARABEL")
    return problem, overload, highs, clarabel


def test_status(solved):
    _, overload, highs, clarabel = solved
    expected = PlanStatus.OPTIMAL if overload <= 1.0 else PlanStatus.PARTIAL
    assert highs.status is expected, highs.message
    assert clarabel.status is expected, clarabel.message


def test_delivered_total_agrees(solved):
    _, _, highs, clarabel = solved
    np.testing.assert_allclose(
        clarabel.delivered_kwh.sum(), highs.delivered_kwh.sum(), rtol=DELIVERED_RTOL
    )


def test_objective_agrees(solved):
    _, _, highs, clarabel = solved
    assert np.isfinite(highs.objective_eur)
    np.testing.assert_allclose(clarabel.objective_eur, highs.objective_eur, rtol=OBJECTIVE_RTOL)


@pytest.mark.parametrize("backend", ["highs", "clarabel"])
def test_within_every_limit(solved, backend):
    problem, _, highs, clarabel = solved
    plan = highs if backend == "highs" else clarabel
    found = independent.violations(problem, plan.charge_kw, plan.discharge_kw, tol=VIOLATION_TOL)
    assert found == [], found[:10]


@pytest.mark.parametrize("backend", ["highs", "clarabel"])
def test_delivers_the_independent_maximum(solved, backend):
    problem, overload, highs, clarabel = solved
    plan = highs if backend == "highs" else clarabel
    if overload <= 1.0:  # feasible by construction: every need met
        np.testing.assert_allclose(
            plan.delivered_kwh, problem.energy_kwh, rtol=ENERGY_RTOL, atol=ENERGY_RTOL
        )
    if (problem.discharge_max_kw > 0).any():
        return  # with V2G the independent LP does not apply; the need check above still does
    best = independent.max_total_energy_kwh(problem)
    assert plan.delivered_kwh.sum() >= best - ENERGY_RTOL * max(1.0, best)
    assert plan.delivered_kwh.sum() <= best + ENERGY_RTOL * max(1.0, best)
