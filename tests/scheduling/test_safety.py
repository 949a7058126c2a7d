"""make_safe: every limit kept exactly, and a session at its minimum rate keeps the rate.

Limits are checked by ``tests.scheduling.independent`` (no code shared with
``fera_flex.scheduling``) with no slack at all.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.scenarios import random_problem
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.safety import make_safe
from tests.scheduling import independent
from tests.scheduling.test_hostile import one_node


def sessions(n: int, **changes) -> ChargingProblem:
    """``n`` sessions over the whole 2 h grid of ``test_hostile.one_node``."""
    return one_node(
        arrival_slot=[0] * n, departure_slot=[8] * n, node_of_session=[0] * n, **changes
    )


def on_one_node(capacity_kw, power_kw, p_min_kw, evse_uids=None) -> ChargingProblem:
    """Sessions with room for any energy on one node of ``capacity_kw``."""
    n = len(power_kw)
    return sessions(
        n,
        energy_kwh=[1e7] * n,
        power_max_kw=power_kw,
        power_min_kw=p_min_kw,
        node_capacity_kw=capacity_kw,
        evse_uids=evse_uids,
    )


def safe(problem, charge_kw):
    charge = np.repeat(np.asarray(charge_kw, dtype=float)[:, None], problem.n_slots, axis=1)
    charge, discharge = make_safe(problem, charge, np.zeros_like(charge))
    assert independent.violations(problem, charge, discharge, tol=0.0) == []
    return charge[:, 0]


def test_a_session_at_its_minimum_rate_keeps_it_when_others_can_give():
    # 6 + 5 kW on a 10 kW node: scaling both by 10/11 would take the first below its 6 kW
    # minimum (and so switch it off); the second gives the whole excess instead
    problem = on_one_node(10.0, [11.0, 11.0], [6.0, 0.0])
    charge = safe(problem, [6.0, 5.0])
    assert charge[0] == 6.0
    assert 4.0 * (1 - 1e-9) <= charge[1] <= 4.0


def test_minimum_rates_that_cannot_all_fit_switch_off_the_fewest_kw():
    # floors 6 + 6 + 1.5 = 13.5 kW on 12.5 kW: the 1.5 kW session alone covers the excess
    problem = on_one_node(12.5, [11.0, 11.0, 11.0], [6.0, 6.0, 1.5])
    np.testing.assert_array_equal(safe(problem, [6.0, 6.0, 1.5]), [6.0, 6.0, 0.0])
    # floors 6 + 6 + 1.5 on 6.5 kW: no single one covers 7 kW, so a largest goes first (the
    # last of equals); then the 1.5 kW session covers the 1 kW left, and 6 of 6.5 kW stay in use
    problem = on_one_node(6.5, [11.0, 11.0, 11.0], [6.0, 6.0, 1.5])
    np.testing.assert_array_equal(safe(problem, [6.0, 6.0, 1.5]), [6.0, 0.0, 0.0])


def test_a_rate_exactly_at_the_limit_stays_when_a_tiny_one_covers_the_rest():
    # found by hypothesis: 1e6 kW at its 1e6 kW minimum on a node of exactly 1e6 kW, next to
    # a 1e-9 kW session at its own minimum; the sum rounds to 1e6 + 1.00000008e-9
    problem = on_one_node(1e6, [1e6, 1e6], [1e6, 1e-9])
    np.testing.assert_array_equal(safe(problem, [1e6, 1e-9]), [1e6, 0.0])


def test_a_shared_evse_takes_its_excess_from_the_unrated_session():
    problem = on_one_node(np.inf, [11.0, 11.0], [6.0, 0.0], evse_uids=["NL*FER*E1"] * 2)
    charge = safe(problem, [6.0, 6.0])
    assert charge[0] == 6.0 and charge[1] <= 5.0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**16),
    st.floats(0.0, 2.0),
    st.sampled_from([0.5, 0.9, 1.5]),
    st.sampled_from([0.0, 1.38, 4.14, 6.0]),
)
def test_every_repaired_power_is_within_limits_and_at_or_above_its_rate(
    seed, stretch, overload, p_min_kw
):
    """Power up to twice the ratings, on trees whose limits bind: within every limit exactly
    (no slack), and every charging power 0 or at least its minimum rate."""
    problem = random_problem(12, n_slots=16, seed=seed % 97, overload=overload)
    problem = problem.replace(power_min_kw=np.minimum(p_min_kw, problem.power_max_kw.max(axis=1)))
    rng = np.random.default_rng(seed)
    charge = problem.power_max_kw * rng.uniform(0.0, stretch, problem.power_max_kw.shape)
    charge, discharge = make_safe(problem, charge, np.zeros_like(charge))
    assert independent.violations(problem, charge, discharge, tol=0.0) == []
    p_min = problem.power_min_kw[:, None]
    assert ((charge == 0.0) | (charge >= p_min)).all()


@pytest.mark.parametrize("p_min_kw", [6.0, 1e6])
def test_a_power_a_rounding_below_its_rate_is_raised_to_it(p_min_kw):
    problem = on_one_node(np.inf, [p_min_kw], [p_min_kw])
    assert safe(problem, [p_min_kw * (1 - 1e-12)])[0] == p_min_kw
    assert safe(problem, [p_min_kw * (1 - 1e-6)])[0] == 0.0


def test_a_rounding_above_the_maximum_comes_out_of_the_last_slot_only():
    # 3 kWh over 8 quarter hours in slots of 1.5 kW: the sum lands on either side of 3.0
    problem = sessions(
        40, energy_kwh=np.linspace(1.0, 3.0, 40), charge_efficiency=0.93, node_capacity_kw=np.inf
    )
    per_kw = problem.slot_energy_h * problem.charge_efficiency[:, None]
    charge = problem.energy_max_kwh[:, None] / per_kw.sum(axis=1, keepdims=True)
    charge = (
        np.repeat(charge, 8, axis=1) * (1 + np.random.default_rng(1).uniform(0, 4e-16, 40))[:, None]
    )
    over = problem.delivered_kwh(charge, 0 * charge) > problem.energy_max_kwh
    assert over.sum() >= 5  # the case at hand: some sums round above their maximum
    safe_charge, _ = make_safe(problem, charge, 0 * charge)
    delivered = problem.delivered_kwh(safe_charge, 0 * charge)
    assert (delivered <= problem.energy_max_kwh).all()
    np.testing.assert_allclose(delivered, problem.energy_max_kwh, rtol=1e-15)
    np.testing.assert_array_equal(safe_charge[:, :-1], charge[:, :-1])  # earlier slots kept


def test_a_rate_switched_off_by_an_energy_cut_stops_the_discharge_it_fed():
    """Found by hypothesis: a V2G session with no energy to gain charges 4.14 kW (its minimum
    rate) and discharges it all later; a rounding above its maximum (0 kWh) cut the charge
    below the rate, which switched it off after the battery check: the plan was FAILED."""
    problem = sessions(
        1,
        energy_kwh=[0.0],
        power_max_kw=22.0,
        power_min_kw=[4.14],
        discharge_max_kw=[3.7],
        charge_efficiency=0.5,
        node_capacity_kw=np.inf,
    )
    charge = np.zeros((1, 8))
    discharge = np.zeros((1, 8))
    charge[0, 2] = 4.14
    stored = 4.14 * 0.25 * 0.5
    discharge[0, 5] = 0.22
    discharge[0, 7] = (stored - 0.22 * 0.25) / 0.25
    for nudge in (0.0, 1e-15, 4e-15):  # the sum on either side of 0 kWh
        discharge_nudged = discharge.copy()
        discharge_nudged[0, 7] -= nudge
        safe_charge, safe_discharge = make_safe(problem, charge, discharge_nudged)
        assert independent.violations(problem, safe_charge, safe_discharge, tol=0.0) == []
        assert safe_charge[0, 2] in (0.0, 4.14)
