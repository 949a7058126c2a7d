"""Node target bands: how a dispatched aggregate is followed (soft, after energy, before cost)."""

from datetime import datetime, timezone

import numpy as np
import pytest

from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from fera_flex.timeseries import TimeGrid
from tests.scheduling import independent

GRID = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 3600, 4)


def site(**changes):
    args = dict(
        grid=GRID,
        arrival_slot=[0, 0],
        departure_slot=[4, 4],
        energy_kwh=[10.0, 10.0],
        power_max_kw=11.0,
        node_of_session=[1, 1],
        node_parent=[-1, 0],
        node_capacity_kw=[40.0, 30.0],
        price_eur_per_kwh=[0.1, 0.2, 0.3, 0.4],
        profile_type="CHEAP",
    )
    args.update(changes)
    return ChargingProblem.from_arrays(**args)


def band(low, high):
    lo = np.full((2, 4), -np.inf)
    hi = np.full((2, 4), np.inf)
    lo[1], hi[1] = low, high
    return {"node_target_min_kw": lo, "node_target_max_kw": hi}


@pytest.mark.parametrize("method", ["highs", "cvxpy"])
def test_a_feasible_target_is_followed_exactly(method):
    target = [5.0, 5.0, 5.0, 5.0]  # 20 kWh spread flat, against the price's wish
    problem = site(**band(target, target))
    plan = schedule(problem, method)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.stages == ("track", "economic")
    np.testing.assert_allclose(plan.node_load_kw[1], target, atol=1e-6)
    np.testing.assert_allclose(plan.delivered_kwh, [10.0, 10.0], atol=1e-6)
    assert verify_plan(problem, plan, tolerance=0.0) == []


@pytest.mark.parametrize("method", ["highs", "cvxpy"])
def test_an_impossible_target_gives_the_closest_plan(method):
    # 25 kW asked in slot 0 where the feeder allows 30 but the EVs only 22; 0 kW afterwards
    problem = site(**band([25.0, 0.0, 0.0, 0.0], [25.0, 0.0, 0.0, 0.0]))
    plan = schedule(problem, method)
    # energy first: 20 kWh need at most 22 in slot 0, so the deviation is 5 kW there only
    np.testing.assert_allclose(plan.delivered_kwh, [10.0, 10.0], atol=1e-6)
    np.testing.assert_allclose(plan.node_load_kw[1], [20.0, 0.0, 0.0, 0.0], atol=1e-6)
    assert independent.violations(problem, plan.charge_kw, plan.discharge_kw) == []


def test_energy_comes_before_the_target():
    problem = site(**band([0.0] * 4, [0.0] * 4))  # "do not charge" against two needs
    plan = schedule(problem)
    np.testing.assert_allclose(plan.delivered_kwh, [10.0, 10.0], atol=1e-6)
    # the deviation is spent in the cheapest slots
    assert plan.node_load_kw[1, 0] == pytest.approx(20.0, abs=1e-6)


def test_a_lower_band_edge_is_a_floor():
    problem = site(
        energy_kwh=None,
        energy_min_kwh=[0.0, 0.0],
        energy_max_kwh=[20.0, 20.0],
        **band([0, 0, 0, 12.0], np.inf),
    )
    plan = schedule(problem)
    assert plan.node_load_kw[1, 3] >= 12.0 - 1e-6
    assert plan.delivered_kwh.sum() == pytest.approx(12.0, abs=1e-6)  # no more than the floor


@pytest.mark.parametrize("method", ["highs", "cvxpy"])
def test_an_energy_range_is_the_need_at_least_and_the_room_at_most(method):
    ranged = {"energy_kwh": None, "energy_min_kwh": [5.0, 0.0], "energy_max_kwh": [15.0, 8.0]}
    paid = schedule(site(**ranged), method)  # positive prices: only the needs
    np.testing.assert_allclose(paid.delivered_kwh, [5.0, 0.0], atol=1e-6)
    negative = site(**ranged, price_eur_per_kwh=[-0.1, 0.2, 0.3, 0.4])  # paid to charge
    plan = schedule(negative, method)
    np.testing.assert_allclose(plan.delivered_kwh, [11.0, 8.0], atol=1e-6)  # 11 kW for 1 h
    assert plan.status is PlanStatus.OPTIMAL and plan.unmet_causes == {}
