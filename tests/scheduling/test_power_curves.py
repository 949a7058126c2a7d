"""OEM charging curves as battery-level constraints: a car tapers as it fills."""

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.safety import make_safe
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan, verify_power
from fera_flex.timeseries import TimeGrid
from tests.scheduling import independent

GRID = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 900, 16)
TAPER = ([0.0, 10.0, 20.0], [11.0, 11.0, 3.0])  # 11 kW up to 10 kWh, then down to 3 kW at 20


def fast_session(**changes):
    args = dict(
        grid=GRID,
        arrival_slot=[0],
        departure_slot=[16],
        energy_kwh=[20.0],
        power_max_kw=11.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=np.inf,
        price_eur_per_kwh=np.linspace(0.1, 0.4, 16),
        profile_type="FAST",
        power_curves={0: TAPER},
    )
    args.update(changes)
    return ChargingProblem.from_arrays(**args)


def taper_by_hand():
    """The fastest charging the curve allows, slot by slot, computed without the library."""
    power, level = [], 0.0
    for _ in range(16):
        # rising part flat at 11 kW; falling part p <= 19 - 0.8 * (level + p / 4) at the slot end
        p = min(11.0, (19.0 - 0.8 * level) / 1.2, (20.0 - level) * 4)
        power.append(max(p, 0.0))
        level += power[-1] / 4
    return np.array(power)


@pytest.mark.parametrize("method", ["highs", "cvxpy"])
def test_fast_charging_follows_the_taper(method):
    problem = fast_session()
    plan = schedule(problem, method)
    assert plan.status is PlanStatus.OPTIMAL
    np.testing.assert_allclose(plan.charge_kw[0], taper_by_hand(), atol=1e-5)
    assert verify_plan(problem, plan, tolerance=0.0) == []
    assert independent.violations(problem, plan.charge_kw, plan.discharge_kw) == []


def test_verify_and_safety_enforce_the_curve():
    problem = fast_session()
    flat_out = np.full((1, 16), 11.0)
    kinds = {v.kind for v in verify_power(problem, flat_out, 0 * flat_out)}
    assert "curve" in kinds
    assert any("power curve" in v for v in independent.violations(problem, flat_out, 0 * flat_out))
    charge, discharge = make_safe(problem, flat_out, 0 * flat_out)
    assert verify_power(problem, charge, discharge, tolerance=0.0) == []
    # the curve's limits until the energy maximum cuts the last slot (latest first)
    np.testing.assert_allclose(charge[0, :7], taper_by_hand()[:7], rtol=1e-9)
    assert charge.sum() / 4 <= 20.0


def test_curves_on_random_problems_stay_safe():
    problem = random_problem(20, n_slots=24, seed=4, v2g_share=0.3, profile_mix=True)
    curves = {i: ([0.0, 4.0, 12.0], [11.0, 11.0, 2.0]) for i in range(0, 20, 2)}
    problem = problem.replace(power_curves=curves)
    plan = schedule(problem)
    assert verify_plan(problem, plan, tolerance=0.0) == []
    assert problem.select([0, 1]).curve_a_kw.shape == (2, 2)


def test_a_curve_that_is_not_concave_is_its_lowest_power():
    problem = fast_session(power_curves={0: ([0.0, 5.0, 10.0], [11.0, 3.0, 3.0])})
    np.testing.assert_array_equal(problem.curve_a_kw, [[3.0]])
    plan = schedule(problem)
    assert plan.charge_kw.max() <= 3.0


@pytest.mark.parametrize(
    ("curves", "reason"),
    [
        ({5: TAPER}, "names no session"),
        ({0: ([1.0, 2.0], [3.0, 3.0])}, "energy must start at 0"),
        ({0: ([0.0, 2.0], [3.0])}, "two vectors"),
        ({0: "fast"}, "arrays"),
    ],
)
def test_bad_curves_are_named(curves, reason):
    with pytest.raises(InputError, match=reason) as info:
        fast_session(power_curves=curves)
    assert "power_curves" in info.value.field


def test_an_oem_curve_in_a_scenario_becomes_lines():
    path = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "office_depot.json"
    raw = json.loads(path.read_text())
    session_id = raw["sessions"][0]["id"]
    raw = copy.deepcopy(raw)
    raw["oem_curves"] = [
        {
            "id": "model-x",
            "battery_capacity_kwh": 60,
            "soc_percent": [0, 80, 100],
            "max_power_kw": [11, 11, 3.7],
            "state_of_charge_percent": 50,
            "session_ids": [session_id],
        }
    ]
    problem = ChargingProblem.from_scenario(Scenario.model_validate(raw))
    row = problem.session_ids.index(session_id)
    # 18 kWh from 50 % to 80 % at 11 kW, then down to 3.7 kW at 100 % (12 kWh later)
    np.testing.assert_allclose(problem.curve_a_kw[row], [11.0, 11.0 + 7.3 / 12 * 18], rtol=1e-12)
    np.testing.assert_allclose(problem.curve_b_per_h[row], [0.0, -7.3 / 12], rtol=1e-12)
    plan = schedule(problem)
    assert verify_plan(problem, plan, tolerance=0.0) == []


@st.composite
def concave_curves(draw):
    """A flat part, then a taper: (energy_kwh, power_kw) breakpoints of a concave curve."""
    flat_kw = draw(st.sampled_from([3.7, 7.4, 11.0, 22.0]))
    knee_kwh = draw(st.sampled_from([0.0, 2.0, 8.0]))
    full_kwh = knee_kwh + draw(st.sampled_from([1.0, 5.0, 20.0]))
    end_kw = draw(st.sampled_from([0.0, 1.4, 3.0])) * flat_kw / 22.0
    if knee_kwh == 0.0:
        return [0.0, full_kwh], [flat_kw, end_kw]
    return [0.0, knee_kwh, full_kwh], [flat_kw, flat_kw, end_kw]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 50), curves=st.lists(concave_curves(), min_size=1, max_size=6))
def test_random_curves_are_never_exceeded(seed, curves):
    problem = random_problem(6, n_slots=16, seed=seed, profile_mix=True, overload=1.3)
    problem = problem.replace(power_curves=dict(enumerate(curves)))
    plan = schedule(problem)
    assert plan.status in (PlanStatus.OPTIMAL, PlanStatus.PARTIAL)
    assert independent.violations(problem, plan.charge_kw, plan.discharge_kw) == []
    assert verify_plan(problem, plan, tolerance=0.0) == []
