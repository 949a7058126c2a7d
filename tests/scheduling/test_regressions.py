"""Regressions of the scheduler hardening issue: each reproduces a reported failure exactly."""

import multiprocessing
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.safety import make_safe
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.standard_form import Stage, StageGoal, build_lp
from fera_flex.scheduling.verify import verify_plan
from tests.scheduling.reference import reference
from tests.scheduling.test_hostile import one_node

BACKENDS = ["highs", "cvxpy"]


@pytest.mark.parametrize("method", BACKENDS)
@pytest.mark.parametrize("need", [1e6, 1e9, 1e12])
def test_an_absurd_need_costs_only_its_own_shortfall_and_names_it(method, need):
    """Delivery is also checked (highs) in test_hostile; here both backends and the cause."""
    problem = one_node(
        arrival_slot=[0, 0], departure_slot=[8, 8], energy_kwh=[need, 3.0], node_of_session=[0, 0]
    )
    plan = schedule(problem, method)
    assert plan.status is PlanStatus.PARTIAL
    # alone, session 0 takes 11 kW for 2 h; the 15 kW node has room for both
    np.testing.assert_allclose(plan.delivered_kwh, [22.0, 3.0], rtol=1e-6)
    assert list(plan.unmet_causes) == ["s0"]
    assert "its own power limit" in plan.unmet_causes["s0"]
    assert "phase" not in plan.unmet_causes["s0"]


def test_cvxpy_with_a_need_of_1e8_gives_a_plan_not_an_exception():
    problem = one_node(energy_kwh=[1e8])
    plan = schedule(problem, "cvxpy")
    assert plan.status is PlanStatus.PARTIAL
    assert verify_plan(problem, plan, tolerance=0.0) == []
    assert plan.delivered_kwh[0] == pytest.approx(22.0, rel=1e-6)


def test_caller_arrays_stay_writeable():
    prices = np.full(8, 0.3)
    capacity = np.full((1, 8), 15.0)
    problem = one_node(price_eur_per_kwh=prices, node_capacity_kw=capacity)
    prices[0] = 1.0
    capacity[0, 0] = 0.0
    assert problem.price_eur_per_kwh[0] == 0.3 and problem.node_capacity_kw[0, 0] == 15.0
    with pytest.raises(ValueError, match="read-only"):
        problem.price_eur_per_kwh[0] = 2.0


def test_no_sessions_no_warning():
    problem = one_node(
        arrival_slot=[], departure_slot=[], energy_kwh=[], node_of_session=[], power_max_kw=[]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = schedule(problem)
    assert plan.status is PlanStatus.OPTIMAL and plan.charge_kw.shape == (0, 8)


def test_bad_inputs_are_named():
    plan = schedule(one_node())
    other = random_problem(3, n_slots=8, seed=0)
    with pytest.raises(InputError, match="another problem") as info:
        verify_plan(other, plan)
    assert info.value.field == "charge_kw"
    with pytest.raises(InputError, match="must be an integer") as info:
        one_node(arrival_slot=[0, 2.5], departure_slot=[8, 8], energy_kwh=[1, 1])
    assert info.value.field == "arrival_slot[1]"
    with pytest.raises(InputError, match="could never charge") as info:
        one_node(power_min_kw=12.0)
    assert info.value.field == "power_min_kw[0]"
    with pytest.raises(InputError) as info:
        plan.to_ocpp_requests({"s0": "EVSE-1"})
    assert info.value.field == "evse_ids['s0']"
    with pytest.raises(InputError, match="sequence") as info:
        plan.problem.select("s0")
    with pytest.raises(InputError, match="no such session id"):
        plan.problem.select(["s9"])
    with pytest.raises(InputError, match="no such node"):
        plan.problem.subtree("feeder-9")
    with pytest.raises(InputError, match="unknown") as info:
        plan.problem.replace(energy=3.0)
    with pytest.raises(InputError) as info:
        make_safe(plan.problem, np.zeros((2, 8)), np.zeros((1, 8)))
    assert info.value.field == "charge_kw"


def test_cvxpy_prints_nothing(capfd):
    schedule(random_problem(5, n_slots=8, seed=4), "cvxpy")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_exact_limits_cost_nothing():
    """The plan is the exact optimum (to 1e-9), not the optimum of shrunk limits."""
    problem = random_problem(12, n_slots=24, seed=5)
    plan = schedule(problem)
    status, objective = reference(
        build_lp(problem, ObjectiveOptions(), Stage(StageGoal.ECONOMIC, True))
    )
    assert status == 0
    lp = build_lp(problem, ObjectiveOptions())
    assert plan.objective_eur == pytest.approx(objective * lp.cost_scale_eur, rel=1e-9)
    assert verify_plan(problem, plan, tolerance=0.0) == []


def _echo(obj):
    return obj


def test_problems_and_plans_travel():
    problem = random_problem(6, n_slots=12, seed=1, v2g_share=0.5).replace(
        evse_uids=["A", "A", "B", None, None, None]
    )
    plan = schedule(problem)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        problem_back, plan_back = pool.submit(_echo, (problem, plan)).result()
    for copied in (pickle.loads(pickle.dumps(problem)), problem_back):
        assert copied == problem
        assert not copied.power_max_kw.flags.writeable
    for copied in (pickle.loads(pickle.dumps(plan)), plan_back):
        assert copied.problem == problem
        np.testing.assert_array_equal(copied.charge_kw, plan.charge_kw)
        assert dict(copied.unmet_causes) == dict(plan.unmet_causes)
        assert copied.status is plan.status and copied.stages == plan.stages


def test_no_solver_dust_in_plans():
    """An interior point solution's residue (far below a watt) is not planned power."""
    plan = schedule(random_problem(300, seed=1, profile_mix=True))
    power = np.concatenate([plan.charge_kw.ravel(), plan.discharge_kw.ravel()])
    assert not ((power > 0) & (power < 1e-6)).any()


def test_unmet_causes_are_worked_out_on_first_use_and_travel():
    from fera_flex.scheduling.causes import UnmetCauses, unmet_causes

    plan = schedule(random_problem(20, seed=1, overload=1.5))
    assert isinstance(plan.unmet_causes, UnmetCauses)
    assert plan.status is PlanStatus.PARTIAL
    eager = unmet_causes(plan)
    assert eager and dict(plan.unmet_causes) == eager
    assert set(plan.unmet_causes) == {
        plan.session_ids[i]
        for i in np.flatnonzero(plan.unmet_kwh > 1e-6 * np.maximum(1.0, plan.problem.energy_kwh))
    }
    travelled = pickle.loads(pickle.dumps(plan))
    assert dict(travelled.unmet_causes) == eager
