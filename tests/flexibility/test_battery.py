"""Battery offers: every trajectory within both bands is deliverable, checked independently."""

from pathlib import Path

import numpy as np
import pytest

import fera_flex as ff
from fera_flex.flexibility import battery_offer, box_offer, dispatch_deviation_kw
from fera_flex.flexibility.offers import flexibility_offers
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from tests.flexibility.test_aggregate import brute_force, small_problem
from tests.flexibility.test_offers import activations, follow
from tests.scheduling import independent

SCENARIOS = Path(__file__).parents[2] / "examples" / "scenarios"


def deviation_bound_kw(problem, n_targeted):
    """What a followed dispatch may miss: its track stage's slack, all in one slot.

    ``schedule`` passes the least deviation on to the cost stage loosened by
    1e-7 (STAGE_TOLERANCE, at a deviation of 0) plus 1e-7 kWh per targeted
    slot (FEASIBILITY_SLACK), and the track stage's own optimum is a
    solver's 0 (to 1e-9 kWh).
    """
    return (1e-7 * (n_targeted + 1) + 1e-9) / problem.grid.dt_h


def trajectories(offer, rng, count=2):
    """Profiles within a battery offer's power and energy bands, stepping slot by slot.

    Each step takes what the power band and the next energy bound leave: the
    most, the least, alternately, or a random point; the bands promise that
    this range is never empty.
    """
    dt_h = offer.grid.dt_h
    modes = ["most", "least", "alternate"] + ["random"] * count
    for mode in modes:
        energy, profile = 0.0, []
        for k in range(offer.baseline_kw.size):
            low = max(offer.power_min_kw[k], (offer.energy_min_kwh[k] - energy) / dt_h)
            high = min(offer.power_max_kw[k], (offer.energy_max_kwh[k] - energy) / dt_h)
            assert low <= high + 1e-9, f"stuck at slot {k} ({mode})"
            high = max(low, high)
            pick = {
                "most": high,
                "least": low,
                "alternate": low if k % 2 else high,
                "random": rng.uniform(low, high),
            }[mode]
            energy += pick * dt_h
            profile.append(pick)
        yield np.array(profile)


def scenario_problem(name):
    scenario = Scenario.model_validate_json((SCENARIOS / f"{name}.json").read_text())
    return ff.ChargingProblem.from_scenario(scenario)


def assert_delivered(problem, offer, profile):
    followed = follow(problem, offer, profile)
    bound = deviation_bound_kw(problem, offer.baseline_kw.size)
    assert np.abs(dispatch_deviation_kw(followed)).max() <= bound
    assert verify_plan(followed.problem, followed) == []
    assert independent.violations(problem, followed.charge_kw, followed.discharge_kw) == []


@pytest.mark.parametrize("seed", range(3))
def test_battery_trajectories_are_delivered_within_every_limit(seed):
    problem = random_problem(30, 24, seed=seed)
    plan = schedule(problem)
    offer = battery_offer(problem, 0, plan, window=(6, 14))
    assert offer.shape == "battery" and offer.kept_up + offer.kept_down > 0
    for profile in trajectories(offer, np.random.default_rng(seed)):
        assert_delivered(problem, offer, profile)


@pytest.mark.parametrize("node_limits", [False, True], ids=["boxes", "node-limits"])
@pytest.mark.parametrize("seed", range(6))
def test_battery_trajectories_are_in_the_set_by_an_independent_lp(seed, node_limits):
    problem = small_problem(seed, n=6, n_slots=6, node_limits=node_limits)
    if brute_force(problem, 0, np.zeros(problem.n_slots)) is None:
        return
    offer = battery_offer(problem, 0, window=(1, 5))
    dt_h = problem.grid.dt_h
    for profile in trajectories(offer, np.random.default_rng(seed)):
        fixed = np.full(problem.n_slots, np.nan)  # the window pinned, the other slots free
        fixed[1:5] = profile * dt_h
        assert brute_force(problem, 0, np.zeros(problem.n_slots), fixed) is not None, profile


def test_the_baseline_is_inside_both_bands():
    problem = random_problem(25, 24, seed=7)
    plan = schedule(problem)
    offer = battery_offer(problem, 0, plan, window=(4, 20))
    cumulative = np.cumsum(offer.baseline_kw) * problem.grid.dt_h
    assert (offer.power_min_kw <= offer.baseline_kw + 1e-9).all()
    assert (offer.baseline_kw <= offer.power_max_kw + 1e-9).all()
    assert (offer.energy_min_kwh <= cumulative + 1e-9).all()
    assert (cumulative <= offer.energy_max_kwh + 1e-9).all()


@pytest.mark.parametrize("name", ["office_depot", "residential_street"])
def test_battery_and_box_of_the_bundled_sites_are_delivered(name):
    """Both sites are LP sets (partial slots, the street phase limits): the witness proves them."""
    problem = scenario_problem(name)
    plan = schedule(problem)
    assert not ff.aggregate(problem, 0).exact
    battery = battery_offer(problem, 0, plan, window=(32, 40))
    assert battery.kept_up > 0.5
    rng = np.random.default_rng(1)
    for profile in trajectories(battery, rng, count=1):
        assert_delivered(problem, battery, profile)
    box = box_offer(problem, 0, plan, window=(32, 40))
    assert box.kept_up > 0.1  # down: the office's baseline charging; the street's is V2G only
    assert box.kept_down > 0.5 or name == "residential_street"
    for profile in list(activations(box, rng, 1))[:3]:
        assert_delivered(problem, box, profile)


def test_sessions_that_cannot_follow_the_rule_keep_the_battery_at_the_baseline():
    """Minimum charging rates make the set a MILP: nothing participates, the offer is a point."""
    problem = random_problem(10, 16, seed=4)
    problem = problem.replace(power_min_kw=np.full(problem.n_sessions, 1.0))
    offer = battery_offer(problem, 0, window=(4, 8))
    np.testing.assert_array_equal(offer.power_min_kw, offer.baseline_kw)
    np.testing.assert_array_equal(offer.power_max_kw, offer.baseline_kw)
    np.testing.assert_array_equal(offer.energy_min_kwh, offer.energy_max_kwh)


def test_battery_offers_of_every_node_carry_their_bands_to_fera():
    problem = random_problem(20, 16, seed=5)
    offers = flexibility_offers(problem, shape="battery", window=(2, 10))
    fera = offers[0].to_fera("battery-1")
    assert fera.shape == "battery" and len(fera.energy_max_kwh) == 8
    np.testing.assert_allclose(fera.energy_min_kwh, offers[0].energy_min_kwh)
