"""End-to-end tests of schedule(): known optima, energy stages, safety, wire output."""

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.objective import NodePeakCost, ObjectiveOptions
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from fera_flex.timeseries import TimeGrid

GRID = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 3600, 4)
ENERGY_TOL_KWH = 1e-6
OBJECTIVE_RTOL = 1e-6
SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "ocpp_schemas" / "v201"
BACKENDS = ["highs", "cvxpy"]


def two_sessions(**changes):
    args = dict(
        grid=GRID,
        arrival_slot=[0, 1],
        departure_slot=[4, 3],
        energy_kwh=[20.0, 10.0],
        power_max_kw=11.0,
        node_of_session=[1, 1],
        node_parent=[-1, 0],
        node_capacity_kw=[50.0, 15.0],
        price_eur_per_kwh=[0.3, 0.2, 0.1, 0.4],
        profile_type="CHEAP",
    )
    args.update(changes)
    return ChargingProblem.from_arrays(**args)


@pytest.mark.parametrize("method", BACKENDS)
def test_shared_feeder_known_optimum(method):
    plan = schedule(two_sessions(), method)
    assert plan.status is PlanStatus.OPTIMAL
    # both sessions fill the 15 kW feeder in the two cheapest slots (0.2 and 0.1 EUR/kWh)
    assert plan.cost_eur == pytest.approx(0.2 * 15 + 0.1 * 15, rel=1e-4)
    np.testing.assert_allclose(plan.delivered_kwh, [20.0, 10.0], atol=1e-6)
    assert plan.node_load_kw[1, [1, 2]] == pytest.approx([15.0, 15.0], rel=1e-4)
    assert verify_plan(plan.problem, plan, tolerance=0.0) == []


@pytest.mark.parametrize("method", BACKENDS)
def test_single_cheap_session_is_the_greedy_fill(method):
    price = np.array([0.30, 0.10, 0.25, 0.05, 0.20, 0.15])
    grid = TimeGrid(GRID.start, 3600, 6)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0],
        departure_slot=[6],
        energy_kwh=[25.0],
        power_max_kw=10.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=np.inf,
        price_eur_per_kwh=price,
    )
    plan = schedule(problem, method)
    greedy = np.zeros(6)
    remaining = 25.0
    for slot in np.argsort(price):
        greedy[slot] = min(10.0, remaining)
        remaining -= greedy[slot]
    np.testing.assert_allclose(plan.charge_kw[0], greedy, atol=1e-5)


@pytest.mark.parametrize("method", BACKENDS)
def test_fast_charges_as_early_as_possible(method):
    plan = schedule(two_sessions(profile_type="FAST", node_capacity_kw=[50.0, 50.0]), method)
    np.testing.assert_allclose(plan.charge_kw[0], [11.0, 9.0, 0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(plan.charge_kw[1], [0.0, 10.0, 0.0, 0.0], atol=1e-5)


@pytest.mark.parametrize("method", BACKENDS)
def test_shortfall_is_shared_in_proportion_to_need(method):
    # a 10 kW node for one hour and two sessions that need 20 and 10 kWh in that hour
    problem = two_sessions(
        arrival_slot=[1, 1], departure_slot=[2, 2], node_capacity_kw=[50.0, 10.0]
    )
    plan = schedule(problem, method)
    assert plan.status is PlanStatus.PARTIAL
    assert plan.delivered_kwh.sum() == pytest.approx(10.0, rel=1e-5)
    # shares are relative to what each session could take alone: the node's 10 kWh each
    takeable = np.minimum(problem.energy_kwh, problem.max_deliverable_kwh())
    np.testing.assert_allclose(takeable, [10.0, 10.0])
    relative = (takeable - plan.delivered_kwh) / takeable
    assert relative[0] == pytest.approx(relative[1], abs=1e-5)
    assert "n1" in plan.unmet_causes["s0"]


@pytest.mark.parametrize("method", BACKENDS)
def test_own_power_limit_named_as_cause(method):
    plan = schedule(two_sessions(energy_kwh=[50.0, 10.0], node_capacity_kw=np.inf), method)
    assert plan.status is PlanStatus.PARTIAL
    assert "its own power limit" in plan.unmet_causes["s0"]
    assert "s1" not in plan.unmet_causes


@pytest.mark.parametrize("method", BACKENDS)
def test_node_shadow_price_where_the_limit_binds(method):
    plan = schedule(two_sessions(), method)
    prices = plan.node_import_price_eur_per_kwh
    assert prices is not None
    # relaxing the feeder at 02:00 (0.1 EUR/kWh) would move energy from 03:00/00:00
    assert prices[1, 2] > 0.01
    assert prices[1, 3] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", BACKENDS)
def test_peak_shaving_lowers_the_peak(method):
    problem = random_problem(30, seed=5)
    plain = schedule(problem, method)
    shaved = schedule(problem, method, node_peak_costs={"n0": NodePeakCost(eur_per_kw=5.0)})
    assert shaved.node_load_kw[0].max() < plain.node_load_kw[0].max() - 1.0
    assert verify_plan(problem, shaved, tolerance=0.0) == []


@pytest.mark.parametrize("method", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 25),
    seed=st.integers(0, 10_000),
    variant=st.sampled_from(
        [
            {},
            {"profile_mix": True},
            {"v2g_share": 0.4, "profile_mix": True},
            {"min_rate_share": 0.5},
            {"phase_limits": True},
            {"overload": 1.6},
            {"overload": 1.3, "v2g_share": 0.3},
        ]
    ),
)
def test_random_problems_are_safe_and_deliver_the_most(method, n, seed, variant):
    problem = random_problem(n, n_slots=24, seed=seed, **variant)
    plan = schedule(problem, method)
    assert plan.status in (PlanStatus.OPTIMAL, PlanStatus.PARTIAL)
    assert verify_plan(problem, plan, tolerance=0.0) == []
    assert (plan.delivered_kwh <= problem.energy_kwh + ENERGY_TOL_KWH).all()
    if "min_rate_share" in variant:
        return  # random_problem's feasibility certificate ignores minimum rates
    overload = variant.get("overload", 1.0)
    # random_problem scales a feasible plan's energy by `overload`: that much is deliverable
    assert plan.delivered_kwh.sum() >= problem.energy_kwh.sum() / overload - 1e-3
    if overload == 1.0:
        assert plan.status is PlanStatus.OPTIMAL


@pytest.mark.parametrize("method", BACKENDS)
def test_time_limit_returns_a_safe_plan(method):
    problem = random_problem(60, n_slots=96, seed=2, min_rate_share=1.0, profile_mix=True)
    plan = schedule(problem, method, time_limit_s=0.01)
    assert plan.status in (PlanStatus.TIME_LIMIT, PlanStatus.OPTIMAL, PlanStatus.FAILED)
    assert verify_plan(problem, plan, tolerance=0.0) == []


def test_bad_method_and_options_are_named():
    with pytest.raises(InputError) as info:
        schedule(two_sessions(), "gurobi")
    assert info.value.field == "method"
    with pytest.raises(InputError, match="regular_wieght"):
        schedule(two_sessions(), regular_wieght=0.2)
    with pytest.raises(InputError, match="method='cvxpy'"):
        schedule(two_sessions(), "highs", extra_objective=lambda view: 0)
    with pytest.raises(InputError) as info:
        schedule("problem")
    assert info.value.field == "problem"
    with pytest.raises(InputError) as info:
        schedule(two_sessions(), objective=ObjectiveOptions(regular_weight=-1))
    assert info.value.field == "regular_weight"


def _validator(name):
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("unit", ["W", "A"])
def test_wire_output_is_valid_and_never_exceeds_the_plan(unit):
    scenario = Scenario.load(
        Path(__file__).resolve().parents[2] / "examples/scenarios/residential_street.json"
    )
    problem = ChargingProblem.from_scenario(scenario)
    plan = schedule(problem)
    ocpi_profiles = plan.to_ocpi_profiles(unit)
    requests = plan.to_ocpp_requests({s: k + 1 for k, s in enumerate(plan.session_ids)}, unit=unit)
    validator = _validator("SetChargingProfileRequest")
    for index, (request, session_id) in enumerate(zip(requests, plan.session_ids, strict=True)):
        validator.validate(json.loads(request.model_dump_json()))
        schedule_ = request.charging_profile.charging_schedule[0]
        start_s = int(schedule_.start_schedule.timestamp())
        voltage = problem.node_voltage_v[problem.node_of_session[index]]
        phases = problem.session_phases[index].sum()
        for period in schedule_.charging_schedule_period:
            slot = problem.grid.index_of(start_s + period.start_period)
            limit_kw = (
                period.limit / 1000 if unit == "W" else period.limit * voltage * phases / 1000
            )
            assert limit_kw <= plan.charge_kw[index, slot] + 1e-12
            assert round(period.limit, 1) == period.limit
        assert ocpi_profiles[session_id].charging_rate_unit.value == unit
    with pytest.raises(InputError, match="evseId"):
        plan.to_ocpp_requests({})


@pytest.mark.parametrize(
    "problem",
    [
        random_problem(40, seed=11, profile_mix=True),
        random_problem(30, seed=12, v2g_share=0.3, profile_mix=True),
        random_problem(30, seed=13, overload=1.4),
        random_problem(30, seed=14, phase_limits=True),
        ChargingProblem.from_scenario(
            Scenario.load(
                Path(__file__).resolve().parents[2] / "examples/scenarios/office_depot.json"
            )
        ),
    ],
    ids=["mix", "v2g", "infeasible", "phases", "office"],
)
def test_backends_agree(problem):
    plans = {method: schedule(problem, method) for method in BACKENDS}
    highs, cvx = plans["highs"], plans["cvxpy"]
    assert highs.status is cvx.status
    assert cvx.objective_eur == pytest.approx(highs.objective_eur, rel=OBJECTIVE_RTOL)
    np.testing.assert_allclose(cvx.delivered_kwh.sum(), highs.delivered_kwh.sum(), rtol=1e-6)
    for plan in plans.values():
        assert verify_plan(problem, plan, tolerance=0.0) == []


def test_custom_cvxpy_term_through_schedule():
    import cvxpy as cp

    problem = random_problem(20, seed=9)
    plain = schedule(problem, "cvxpy", solver="CLARABEL")
    smooth = schedule(
        problem,
        "cvxpy",
        solver="CLARABEL",
        extra_objective=lambda view: 0.05 * cp.sum_squares(view.charge_kw),
    )
    assert smooth.status is PlanStatus.OPTIMAL
    assert verify_plan(problem, smooth, tolerance=0.0) == []
    assert (smooth.charge_kw**2).sum() < (plain.charge_kw**2).sum() - 1.0
    np.testing.assert_allclose(smooth.delivered_kwh, problem.energy_kwh, rtol=1e-6)


@pytest.mark.parametrize("local_share", [1.0, 0.1])
def test_fair_equal_shortfall_shortcut_matches_plain_fair(local_share, monkeypatch):
    """The equal-shortfall FAIR shortcut agrees with the FAIR LP, and is skipped when it fails."""
    import fera_flex.scheduling.schedule as schedule_module

    problem = random_problem(40, 96, seed=0)
    capacity = problem.node_capacity_kw.copy()
    capacity[0] = problem.power_max_kw.sum(axis=0) / 3
    capacity[1] *= local_share  # a starved branch: the equal fraction is then impossible
    problem = problem.replace(node_capacity_kw=capacity)
    fast = schedule(problem, method="highs")
    shortcut = ("max_energy", "fair", "economic")
    assert (fast.stages == shortcut) == (local_share == 1.0)  # one FAIR solve when it applies
    monkeypatch.setattr(schedule_module, "_uniform_fair", lambda *args: None)
    plain = schedule(problem, method="highs")
    assert plain.stages == shortcut
    assert fast.status == plain.status
    need = np.maximum(problem.energy_min_kwh, 1e-300)

    def largest(plan):
        return float(np.max(plan.unmet_kwh / need))

    assert largest(fast) == pytest.approx(largest(plain), abs=1e-6)
    assert fast.unmet_kwh.sum() == pytest.approx(plain.unmet_kwh.sum(), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(("above", "kept"), [(0.0, True), (5e-12, True), (1e-6, False)])
def test_the_equal_shortfall_shortcut_takes_a_plan_a_solver_tolerance_above_the_fraction(
    above, kept
):
    """A plan whose largest relative shortfall lands a rounding above the equal fraction ends
    the FAIR stage; before, 5e-12 above it (a network simplex on a mixed fleet of 1,000) sent
    the flow backend into a 32-solve bisection."""
    from fera_flex.scheduling.schedule import _uniform_fair
    from fera_flex.scheduling.solver import SolveStatus, StageResult

    need = np.array([10.0, 30.0])
    least, bound = 8.0, 8.2
    fraction = (bound + least) / 2 / need.sum()
    asked = []

    def run(stage, start, *_):
        asked.append(stage.max_relative_shortfall)
        power = np.zeros((2, 1))
        return StageResult(
            SolveStatus.OPTIMAL,
            power,
            power,
            total_unmet_kwh=8.1,
            max_relative_shortfall=fraction + above,
        )

    result = _uniform_fair(run, need, {"total_unmet_kwh": bound}, least)
    assert asked == [fraction]
    assert (result is not None) == kept
    if kept:
        assert result.goal == "fair" and result.objective == fraction + above
