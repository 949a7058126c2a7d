"""The ``flow`` backend against HiGHS, checked by the independent reading of the limits."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fera_flex as ff
from fera_flex.errors import InputError
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.greedy import fill_cheapest
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.standard_form import capped_energy_range
from tests.scheduling import independent

# both backends pass stage optima on relaxed by 1e-7 relative; 1e-6 catches any model difference
OBJECTIVE_RTOL = 1e-6
ENERGY_RTOL = 1e-7
SHORTFALL_ATOL = 1e-6

SEEDED = [
    (n, n_slots, seed, overload, mix)
    for seed, (n, n_slots, overload, mix) in enumerate(
        [
            (20, 24, 1.0, False),
            (40, 48, 1.5, False),
            (60, 48, 2.5, False),
            (30, 24, 3.0, True),
            (50, 48, 1.5, True),
            (25, 36, 4.0, False),
            (80, 96, 2.0, True),
            (15, 12, 6.0, True),
        ]
    )
]


def assert_same(problem, flow_plan, highs_plan):
    assert flow_plan.backend == "flow"
    assert flow_plan.status == highs_plan.status
    total = highs_plan.delivered_kwh.sum()
    assert flow_plan.delivered_kwh.sum() == pytest.approx(total, rel=ENERGY_RTOL, abs=1e-6)
    need, _ = capped_energy_range(problem)  # the needs the stages share out

    def largest(plan):
        has = need > 0
        short = np.maximum(need - plan.delivered_kwh, 0)[has] / need[has]
        return float(short.max(initial=0.0))

    assert largest(flow_plan) == pytest.approx(largest(highs_plan), abs=SHORTFALL_ATOL)
    if np.isfinite(highs_plan.objective_eur):
        assert flow_plan.objective_eur == pytest.approx(
            highs_plan.objective_eur, rel=OBJECTIVE_RTOL, abs=1e-9
        )
    assert independent.violations(problem, flow_plan.charge_kw, flow_plan.discharge_kw) == []


@pytest.mark.parametrize(("n", "n_slots", "seed", "overload", "mix"), SEEDED)
def test_flow_matches_highs_on_seeded_problems(n, n_slots, seed, overload, mix):
    problem = random_problem(n, n_slots, seed=seed, overload=overload, profile_mix=mix)
    flow_plan = schedule(problem, method="flow")
    highs_plan = schedule(problem, method="highs")
    assert_same(problem, flow_plan, highs_plan)
    if overload > 1.5:
        assert flow_plan.stages[:2] == ("max_energy", "fair")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 25),
    n_slots=st.integers(1, 24),
    seed=st.integers(0, 10_000),
    overload=st.floats(0.5, 8.0),
    mix=st.booleans(),
)
def test_flow_matches_highs_on_random_problems(n, n_slots, seed, overload, mix):
    problem = random_problem(n, max(n_slots, 4), seed=seed, overload=overload, profile_mix=mix)
    assert_same(problem, schedule(problem, method="flow"), schedule(problem, method="highs"))


def _problem(n_slots=8, capacity=15.0, needs=(5.0, 3.0), price=None, windows=None, power=11.0):
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=15), n_slots)
    n = len(needs)
    windows = windows or [(0, n_slots)] * n
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), (n_slots,)).reshape(1, n_slots)
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[w[0] for w in windows],
        departure_slot=[w[1] for w in windows],
        energy_kwh=list(needs),
        power_max_kw=power,
        node_of_session=[0] * n,
        node_parent=[-1],
        node_capacity_kw=cap,
        price_eur_per_kwh=np.full(n_slots, 0.3) if price is None else price,
    )


@pytest.mark.parametrize(
    "problem",
    [
        _problem(capacity=np.r_[15.0, 15.0, 15.0, 0.0, 15.0, 15.0, 15.0, 15.0]),  # a 0 kW slot
        _problem(capacity=0.0),  # every session infeasible
        _problem(n_slots=1, needs=(5.0, 3.0)),  # one slot
        _problem(capacity=12.0, needs=(1e9, 3.0)),  # an absurd need
        _problem(capacity=12.0, price=np.full(8, 0.25)),  # identical prices everywhere
        _problem(capacity=12.0, windows=[(0, 8), (3, 4)], power=[11.0, 0.0]),  # no power
        _problem(needs=()),  # no sessions
    ],
    ids=[
        "zero-slot",
        "all-infeasible",
        "one-slot",
        "absurd-need",
        "flat-price",
        "zero-power",
        "none",
    ],
)
def test_degenerate_cases_agree(problem):
    flow_plan = schedule(problem, method="flow")
    highs_plan = schedule(problem, method="highs")
    assert_same(problem, flow_plan, highs_plan)


def test_shared_evse_is_a_limit_node():
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=15), 8)
    problem = ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 0, 2],
        departure_slot=[8, 8, 8],
        energy_kwh=[20.0, 20.0, 5.0],
        power_max_kw=11.0,
        node_of_session=[0, 0, 0],
        node_parent=[-1],
        node_capacity_kw=np.full((1, 8), 40.0),
        price_eur_per_kwh=np.linspace(0.2, 0.4, 8),
        evse_uids=["A", "A", None],
    )
    flow_plan = schedule(problem, method="flow")
    assert_same(problem, flow_plan, schedule(problem, method="highs"))
    assert (flow_plan.charge_kw[:2].sum(axis=0) <= 11.0 + 1e-12).all()


def uncoupled_problem(n: int, seed: int, mix: bool = False) -> ff.ChargingProblem:
    """Sessions on one node whose limit never binds, with partial first and last slots."""
    rng = np.random.default_rng(seed)
    n_slots = 96
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=15), n_slots)
    arrival = rng.integers(0, 80, n)
    departure = np.minimum(arrival + rng.integers(2, 40, n), n_slots)
    power = rng.uniform(3.7, 22.0, n)
    hours = (departure - arrival) * 0.25
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=arrival,
        departure_slot=departure,
        first_slot_fraction=rng.uniform(0.2, 1.0, n),
        last_slot_fraction=rng.uniform(0.2, 1.0, n),
        energy_kwh=power * hours * rng.uniform(0.1, 1.2, n),
        power_max_kw=power,
        charge_efficiency=rng.uniform(0.85, 1.0, n),
        node_of_session=np.zeros(n, dtype=int),
        node_parent=[-1],
        node_capacity_kw=np.full((1, n_slots), power.sum() + 1.0),
        price_eur_per_kwh=0.25
        + 0.1 * np.sin(np.arange(n_slots) / 8)
        + rng.uniform(0, 0.02, n_slots),
        profile_type=rng.choice(["CHEAP", "FAST", "GREEN", "REGULAR"], n) if mix else "CHEAP",
    )


@pytest.mark.parametrize("mix", [False, True], ids=["cheap", "mix"])
def test_uncoupled_problem_is_the_greedy_path_of_auto(mix):
    problem = uncoupled_problem(300, seed=3, mix=mix)
    plan = schedule(problem)
    assert plan.backend == "flow" and plan.backend_reason.startswith("flow:")
    assert_same(problem, plan, schedule(problem, method="highs"))


@pytest.mark.parametrize("overload", [1.0, 3.0], ids=["feasible", "congested"])
def test_auto_takes_flow_for_coupled_problems_and_says_why(overload):
    problem = random_problem(30, seed=1, overload=overload)  # a tree whose limits bind
    plan = schedule(problem)
    assert plan.backend == "flow"
    assert plan.backend_reason == "flow: the fastest backend that supports the problem"
    assert_same(problem, plan, schedule(problem, method="highs"))


@pytest.mark.parametrize(
    ("options", "feature"),
    [
        ({"v2g_share": 0.5}, "V2G"),
        ({"phase_limits": True}, "per-phase"),
    ],
)
def test_explicit_flow_names_the_unsupported_feature(options, feature):
    problem = random_problem(10, 24, seed=2, **options)
    with pytest.raises(InputError, match=feature):
        schedule(problem, method="flow")
    assert feature in schedule(problem).backend_reason


def test_shadow_prices_are_valid_duals():
    problem = random_problem(40, 48, seed=5, overload=1.0)
    plan = schedule(problem, method="flow")
    assert plan.status is PlanStatus.OPTIMAL
    price = plan.node_import_price_eur_per_kwh
    assert (price >= 0).all() and price.max() > 0
    # complementary slackness: a node-slot has a price only where its room is used up
    load = problem.node_loads_kw(plan.charge_kw)
    priced = price > 1e-9
    np.testing.assert_allclose(load[priced], problem.node_ev_max_kw[priced], rtol=1e-9, atol=1e-9)
    # a subgradient: one more kWh of room saves at most the price
    k, t = np.unravel_index(np.argmax(price), price.shape)
    more_kwh = 0.01
    capacity = problem.node_capacity_kw.copy()
    capacity[k, t] += more_kwh / problem.grid.dt_h
    roomier = schedule(problem.replace(node_capacity_kw=capacity), method="flow")
    saving = plan.objective_eur - roomier.objective_eur
    assert -1e-9 <= saving <= price[k, t] * more_kwh * (1 + 1e-6) + 1e-9
    assert saving > 0  # the dearest node-slot limit does bind in this problem


def _fill_by_loop(session, cost, width, need, top):
    take = np.zeros_like(cost)
    for i in range(need.size):
        rows = sorted(np.flatnonzero(session == i), key=lambda j: cost[j])
        left_need, left_top = need[i], top[i]
        for j in rows:
            amount = min(width[j], left_top if cost[j] < 0 else max(left_need, 0.0))
            amount = max(min(amount, left_top), 0.0)
            take[j] = amount
            left_need -= amount
            left_top -= amount
    return take


@pytest.mark.parametrize("seed", range(20))
def test_fill_cheapest_matches_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    n, s = 6, 40
    session = rng.integers(0, n, s)
    cost = rng.normal(0.5, 1.0, s)
    if seed % 2:  # ties, which both take in input order
        cost = np.round(cost, 0)
    width = rng.uniform(0, 3, s)
    capacity = np.bincount(session, width, n)
    need = capacity * rng.uniform(0, 1, n)
    top = need + (capacity - need) * rng.uniform(0, 1, n)
    take, marginal = fill_cheapest(session, cost, width, need, top)
    expected = _fill_by_loop(session, cost, width, need, top)
    np.testing.assert_allclose(take, expected, atol=1e-12)
    used = (expected > 0) & (cost >= 0)
    dearest = np.zeros(n)
    np.maximum.at(dearest, session[used], cost[used])
    np.testing.assert_array_equal(marginal, dearest)


def test_single_price_stages_go_by_augmenting_paths_and_a_mixed_fleet_by_the_simplex():
    single = schedule(random_problem(60, 48, seed=7, overload=2.0), method="flow")
    assert single.message.startswith("augmenting paths: optimal")
    mixed = random_problem(60, 48, seed=7, overload=2.0, profile_mix=True)
    assert schedule(mixed, method="flow").message.startswith("network simplex: optimal")


def test_a_replan_warm_starts_to_the_same_plan():
    from fera_flex.scheduling.backends.flow import BACKEND

    # a mixed fleet: its cost stage runs on the network simplex, which keeps a basis
    problem = random_problem(60, 48, seed=7, overload=1.0, profile_mix=True)
    factor = np.random.default_rng(2).uniform(0.9, 1.1, problem.n_slots)
    updated = problem.replace(price_eur_per_kwh=problem.price_eur_per_kwh * factor)
    BACKEND.clear_warm_starts()
    cold = schedule(updated, method="flow")
    schedule(problem, method="flow")  # leaves its basis behind
    warm = schedule(updated, method="flow")
    assert warm.objective_eur == pytest.approx(cold.objective_eur, rel=1e-9)
    assert int(warm.message.split(", ")[1].split()[0]) < int(cold.message.split(", ")[1].split()[0])
    assert independent.violations(updated, warm.charge_kw, warm.discharge_kw) == []


def test_session_energy_prices_are_subgradients():
    problem = random_problem(40, 48, seed=5, overload=1.0)
    plan = schedule(problem, method="flow")
    assert plan.status is PlanStatus.OPTIMAL
    price = plan.session_energy_price_eur_per_kwh
    need = problem.energy_min_kwh
    own = problem.max_deliverable_kwh()
    candidates = np.flatnonzero((price > 0) & (need + 0.05 < own) & (need > 0.05))
    assert candidates.size
    for i in candidates[:3]:
        for step in (0.01, -0.01):
            changed = need.copy()
            changed[i] += step
            other = schedule(problem.replace(energy_kwh=changed), method="flow")
            if other.status is not PlanStatus.OPTIMAL:
                continue
            # V(need + step) >= V(need) + price * step for a subgradient of the cost in the need
            assert other.objective_eur >= plan.objective_eur + price[i] * step - 1e-9


def _dispatched(seed: int, scale: float, overload: float = 1.0):
    """A random problem following a dispatch at its root: a member of the set, scaled."""
    from fera_flex.flexibility import aggregate
    from fera_flex.scheduling.dispatch import with_dispatch

    problem = random_problem(25, 24, seed=seed, overload=overload)
    free = problem if overload <= 1.0 else random_problem(25, 24, seed=seed)
    wanted = aggregate(free, 0).optimise(np.linspace(0.4, 0.1, 24)) * scale
    window = np.full(24, np.nan)
    window[6:14] = wanted[6:14]  # a dispatch covers part of the horizon
    targets = {problem.node_ids[0]: np.where(np.isnan(window), 0.0, window)}
    banded = with_dispatch(problem, targets)
    low = np.where(np.isnan(window), -np.inf, banded.node_target_min_kw[0])
    high = np.where(np.isnan(window), np.inf, banded.node_target_max_kw[0])
    low_all = np.full_like(banded.node_target_min_kw, -np.inf)
    high_all = np.full_like(low_all, np.inf)
    low_all[0], high_all[0] = low, high
    return problem.replace(node_target_min_kw=low_all, node_target_max_kw=high_all)


def _deviation_kwh(plan):
    from fera_flex.flexibility import dispatch_deviation_kw

    return float(np.abs(dispatch_deviation_kw(plan)).sum() * plan.problem.grid.dt_h)


@pytest.mark.parametrize(
    ("seed", "scale", "overload"),
    [(0, 1.0, 1.0), (1, 1.0, 1.0), (2, 1.4, 1.0), (3, 0.6, 1.0), (4, 1.0, 2.5)],
    ids=["member", "member-2", "above the set", "below the set", "congested"],
)
def test_flow_follows_target_bands_like_highs(seed, scale, overload):
    """A TRACK stage (least total deviation), then cost: the same optimum as the LP."""
    problem = _dispatched(seed, scale, overload)
    flow_plan = schedule(problem, method="flow")
    highs_plan = schedule(problem, method="highs")
    assert "track" in flow_plan.stages
    # the cost stage keeps the least deviation to STAGE_TOLERANCE (1e-7 relative)
    least = _deviation_kwh(flow_plan)
    assert least == pytest.approx(_deviation_kwh(highs_plan), rel=2e-7, abs=1e-5)
    assert_same(problem, flow_plan, highs_plan)
    if scale == 1.0 and overload == 1.0:
        assert _deviation_kwh(flow_plan) < 1e-7  # a member of the set is followed exactly


def assert_follows_like_highs(problem, method: str) -> None:
    """A cold flow plan of TRACK then cost, by ``method``, at the LP's optimum."""
    from fera_flex.scheduling.backends.flow import BACKEND

    BACKEND.clear_warm_starts()
    plan = schedule(problem, method="flow")
    assert plan.stages[-2:] == ("track", "economic")
    assert plan.message.startswith(f"{method}: optimal")
    highs_plan = schedule(problem, method="highs")
    assert _deviation_kwh(plan) == pytest.approx(_deviation_kwh(highs_plan), rel=2e-7, abs=1e-5)
    assert_same(problem, plan, highs_plan)


def test_a_dispatch_at_the_root_of_one_price_runs_every_stage_by_paths():
    """Bands on exits: TRACK, then deviation-weighted cost, each one exit-priced flow."""
    problem = _dispatched(0, 1.4)
    assert np.all(problem.profile_type == problem.profile_type[0])  # one price per slot
    assert_follows_like_highs(problem, "augmenting paths")


def test_a_dispatch_inside_the_network_runs_track_and_cost_on_the_simplex():
    """TRACK's face fixes flows inside the network, so the cost stage needs TRACK's basis."""
    from fera_flex.scheduling.charging_network import SINK, ChargingNetwork

    problem = random_problem(25, 24, seed=0, overload=2.0)
    load = problem.node_loads_kw(schedule(problem, method="highs").charge_kw)[1]
    low = np.full(problem.node_capacity_kw.shape, -np.inf)
    high = np.full(problem.node_capacity_kw.shape, np.inf)
    low[1, 6:14], high[1, 6:14] = 0.7 * load[6:14], 0.8 * load[6:14]
    problem = problem.replace(node_target_min_kw=low, node_target_max_kw=high)
    network = ChargingNetwork.of(problem, ObjectiveOptions())
    assert (network.head[network.band_under_arcs] != SINK).any()  # a band below a limit
    assert_follows_like_highs(problem, "network simplex")


def test_auto_takes_flow_to_follow_a_dispatch():
    assert schedule(_dispatched(0, 1.0)).backend == "flow"


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 33, 96, 192, 250])
def test_the_greedy_sort_is_a_stable_argsort(length):
    from fera_flex.scheduling.greedy import _sort_by

    rng = np.random.default_rng(length)
    key = np.round(rng.normal(0, 2, 300), 0)  # many ties
    rows = rng.permutation(300)[:length].astype(np.int64)
    expected = rows[np.argsort(key[rows], kind="stable")]
    _sort_by(rows, key, np.empty(length, dtype=np.int64))
    np.testing.assert_array_equal(rows, expected)


def test_fill_cheapest_on_long_stays_matches_a_plain_loop():
    rng = np.random.default_rng(5)
    n, s = 4, 600  # about 150 segments a session: the sort merges runs
    session = rng.integers(0, n, s)
    cost = np.round(rng.normal(0.5, 1.0, s), 1)
    width = rng.uniform(0, 3, s)
    capacity = np.bincount(session, width, n)
    need = capacity * rng.uniform(0, 1, n)
    top = need + (capacity - need) * rng.uniform(0, 1, n)
    take, _ = fill_cheapest(session, cost, width, need, top)
    np.testing.assert_allclose(take, _fill_by_loop(session, cost, width, need, top), atol=1e-12)
