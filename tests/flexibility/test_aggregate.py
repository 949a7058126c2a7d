"""The exact aggregate flexibility of a node against brute-force LPs written from the arrays."""

from datetime import UTC, datetime, timedelta
from itertools import combinations

import numpy as np
import pytest
from scipy.optimize import linprog

import fera_flex as ff
from fera_flex.errors import InputError
from fera_flex.flexibility import EmptyFlexibilityError, _oracles, aggregate
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule

ATOL = 1e-7


def small_problem(seed: int, n: int = 5, n_slots: int = 5, node_limits: bool = False):
    """Random V1G sessions on a root with two children; needs each deliverable on its own."""
    rng = np.random.default_rng(seed)
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=30), n_slots)
    arrival = rng.integers(0, n_slots - 1, n)
    departure = np.minimum(arrival + rng.integers(1, n_slots + 1, n), n_slots)
    power = rng.choice([3.7, 7.4, 11.0], n)
    own = power * (departure - arrival) * 0.5
    need = own * rng.uniform(0, 0.9, n)
    top = need + (own - need) * rng.uniform(0, 1, n) * (rng.random(n) < 0.5)
    capacity = np.full((3, n_slots), 1e4)
    if node_limits:
        capacity = rng.uniform(3.0, 25.0, (3, n_slots))
        capacity[0] = rng.uniform(10.0, 40.0, n_slots)
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=arrival,
        departure_slot=departure,
        energy_min_kwh=need,
        energy_max_kwh=top,
        power_max_kw=power,
        node_of_session=rng.integers(1, 3, n),
        node_parent=[-1, 0, 0],
        node_capacity_kw=capacity,
        price_eur_per_kwh=rng.uniform(0.1, 0.4, n_slots),
    )


def subtree_of(problem, node: int) -> np.ndarray:
    """Nodes at or below ``node`` (walking the parent array)."""
    inside = np.zeros(problem.n_nodes, dtype=bool)
    for k in range(problem.n_nodes):
        walk = k
        while walk >= 0 and walk != node:
            walk = problem.node_parent[walk]
        inside[k] = walk == node
    return inside


def own_max_kwh(problem, i: int, top: int) -> float:
    """The most energy session ``i`` could take alone, within every limit up to node ``top``."""
    power = problem.power_max_kw[i].copy()
    k = problem.node_of_session[i]
    while k >= 0:
        power = np.minimum(power, np.maximum(problem.node_capacity_kw[k], 0.0))
        k = -1 if k == top else problem.node_parent[k]
    return float(power.sum() * problem.grid.dt_h * problem.charge_efficiency[i])


def brute_force(problem, node: int, slot_cost, fixed_kwh=None):
    """min sum_t slot_cost[t] * x[t] over the node's grid energy per slot x, by one LP.

    Sessions under ``node`` within their power and energy ranges (each capped at what the
    session could take alone, as documented), every node limit at or below ``node``; with
    ``fixed_kwh`` the node's energy per slot is fixed to it where not NaN. None if infeasible.
    """
    dt_h = problem.grid.dt_h
    nodes = subtree_of(problem, node)
    members = np.flatnonzero(nodes[problem.node_of_session])
    pairs = [
        (i, t) for i in members for t in range(problem.n_slots) if problem.power_max_kw[i, t] > 0
    ]
    if not pairs:
        return (
            None if fixed_kwh is not None and np.any(fixed_kwh != 0) else np.zeros(problem.n_slots)
        )
    session = np.array([i for i, _ in pairs])
    slot = np.array([t for _, t in pairs])
    cost = slot_cost[slot] * dt_h
    upper_rows, upper = [], []
    for i in members:  # energy range: -E(i) <= -energy_min, E(i) <= energy_max
        row = np.where(session == i, dt_h * problem.charge_efficiency[i], 0.0)
        alone = own_max_kwh(problem, i, node)
        upper_rows += [row, -row]
        upper += [min(problem.energy_max_kwh[i], alone), -min(problem.energy_min_kwh[i], alone)]
    for k in np.flatnonzero(nodes):  # the load of the sessions below k within its capacity
        below = subtree_of(problem, k)[problem.node_of_session[session]]
        for t in range(problem.n_slots):
            row = (below & (slot == t)).astype(float)
            if row.any() and np.isfinite(problem.node_capacity_kw[k, t]):
                upper_rows.append(row)
                upper.append(problem.node_capacity_kw[k, t])
    equal = {}
    if fixed_kwh is not None:  # NaN: a free slot
        pinned = np.flatnonzero(~np.isnan(fixed_kwh))
        equal = {
            "A_eq": np.array([(slot == t) * dt_h for t in pinned], dtype=float),
            "b_eq": np.asarray(fixed_kwh, dtype=float)[pinned],
        }
    result = linprog(
        cost,
        A_ub=np.array(upper_rows),
        b_ub=np.array(upper),
        bounds=[(0.0, problem.power_max_kw[i, t]) for i, t in pairs],
        method="highs",
        **equal,
    )
    if result.status != 0:
        return None
    return np.bincount(slot, result.x * dt_h, problem.n_slots)


@pytest.mark.parametrize("node_limits", [False, True], ids=["boxes", "node-limits"])
@pytest.mark.parametrize("seed", range(12))
def test_b_and_p_equal_the_lp_over_every_slot_set(seed, node_limits):
    problem = small_problem(seed, node_limits=node_limits)
    for node in (0, 1):
        flexibility = aggregate(problem, node)
        assert flexibility.exact
        assert flexibility.method in (("flow", "closed form") if node_limits else ("closed form",))
        check = brute_force(problem, node, np.zeros(problem.n_slots))
        if check is None:
            with pytest.raises(EmptyFlexibilityError):
                flexibility.b([0])
            continue
        for size in range(problem.n_slots + 1):
            for slots in combinations(range(problem.n_slots), size):
                mask = np.isin(np.arange(problem.n_slots), slots)
                most = brute_force(problem, node, -mask.astype(float))
                least = brute_force(problem, node, mask.astype(float))
                assert flexibility.b(list(slots)) == pytest.approx(most[mask].sum(), abs=ATOL)
                assert flexibility.p(list(slots)) == pytest.approx(least[mask].sum(), abs=ATOL)


@pytest.mark.parametrize("node_limits", [False, True], ids=["boxes", "node-limits"])
@pytest.mark.parametrize("seed", range(20))
def test_greedy_optimum_equals_the_lp(seed, node_limits):
    problem = small_problem(seed, n=8, n_slots=6, node_limits=node_limits)
    price = np.random.default_rng(seed).normal(0.2, 0.3, problem.n_slots)  # some negative
    flexibility = aggregate(problem, 0)
    expected = brute_force(problem, 0, price)
    if expected is None:
        return
    profile_kw = flexibility.optimise(price)
    dt_h = problem.grid.dt_h
    assert price @ profile_kw * dt_h == pytest.approx(price @ expected, abs=ATOL)
    assert flexibility.contains(profile_kw, tol_kw=1e-7)


@pytest.mark.parametrize("node_limits", [False, True], ids=["boxes", "node-limits"])
@pytest.mark.parametrize("seed", range(15))
def test_contains_agrees_with_an_lp_feasibility_check(seed, node_limits):
    problem = small_problem(seed, n=6, n_slots=5, node_limits=node_limits)
    flexibility = aggregate(problem, 0)
    if brute_force(problem, 0, np.zeros(problem.n_slots)) is None:
        return
    rng = np.random.default_rng(seed)
    envelope = flexibility.envelope()
    for _ in range(6):
        # points of the envelope: some feasible, some not
        profile = rng.uniform(envelope.power_min_kw, envelope.power_max_kw)
        dt_h = problem.grid.dt_h
        feasible = brute_force(problem, 0, np.zeros(problem.n_slots), profile * dt_h) is not None
        assert flexibility.contains(profile, tol_kw=1e-9) == feasible


def test_envelope_holds_every_plan_and_is_only_an_outer_bound():
    problem = random_problem(60, 24, seed=4)
    for node in range(3):
        flexibility = aggregate(problem, node)
        envelope = flexibility.envelope()
        members = problem.sessions_under(node)
        for price_seed in range(3):
            price = np.random.default_rng(price_seed).uniform(0.1, 0.5, problem.n_slots)
            plan = schedule(problem.replace(price_eur_per_kwh=price), method="highs")
            load = plan.charge_kw[members].sum(axis=0)
            assert (load >= envelope.power_min_kw - 1e-6).all()
            assert (load <= envelope.power_max_kw + 1e-6).all()
            energy = np.cumsum(load) * problem.grid.dt_h
            assert (energy >= envelope.energy_min_kwh - 1e-6).all()
            assert (energy <= envelope.energy_max_kwh + 1e-6).all()


def test_the_issue_counterexample():
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(hours=1), 4)
    problem = ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 0, 1],
        departure_slot=[4, 4, 4],
        energy_kwh=[0.0, 6.0, 1.0],
        power_max_kw=2.0,
        node_of_session=[0, 0, 0],
        node_parent=[-1],
        node_capacity_kw=100.0,
        price_eur_per_kwh=0.3,
    )
    flexibility = aggregate(problem, 0)
    envelope = flexibility.envelope()
    x = np.array([1.0, 3.0, 3.0, 0.0])
    assert (envelope.power_min_kw <= x).all() and (x <= envelope.power_max_kw).all()
    energy = np.cumsum(x)
    assert (envelope.energy_min_kwh <= energy).all() and (energy <= envelope.energy_max_kwh).all()
    assert not flexibility.contains(x)
    assert flexibility.p([0, 3]) == pytest.approx(2.0)  # why: the 6 kWh session needs 2 there


@pytest.mark.parametrize(
    ("options", "feature"),
    [
        ({"v2g_share": 0.5}, "V2G"),
        ({"phase_limits": True}, "per-phase"),
        ({"min_rate_share": 0.5}, "minimum"),
    ],
)
def test_non_exact_cases_are_flagged_and_answered_by_lp(options, feature):
    problem = random_problem(12, 12, seed=3, **options)
    flexibility = aggregate(problem, 0)
    assert not flexibility.exact and feature in flexibility.reason and flexibility.method == "lp"
    most, least = flexibility.b(np.arange(12)), flexibility.p(np.arange(12))
    assert least <= most + 1e-9


def test_partial_slots_are_flagged():
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=30), 4)
    problem = ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 1],
        departure_slot=[4, 4],
        first_slot_fraction=[0.5, 1.0],
        energy_kwh=[2.0, 3.0],
        power_max_kw=7.4,
        node_of_session=[0, 0],
        node_parent=[-1],
        node_capacity_kw=100.0,
        price_eur_per_kwh=0.3,
    )
    flexibility = aggregate(problem, 0)
    assert not flexibility.exact and "partial-slot" in flexibility.reason


def test_grouping_makes_the_closed_form_independent_of_n():
    rng = np.random.default_rng(1)
    n, n_slots = 20_000, 24
    arrival = rng.integers(0, n_slots - 1, n)
    departure = np.minimum(arrival + rng.integers(1, 12, n), n_slots)
    power = rng.choice([3.7, 7.4, 11.0, 22.0], n)
    problem = ff.ChargingProblem.from_arrays(
        grid=ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(hours=1), n_slots),
        arrival_slot=arrival,
        departure_slot=departure,
        energy_kwh=power * (departure - arrival) * rng.uniform(0, 1, n),
        power_max_kw=power,
        node_of_session=np.zeros(n, dtype=int),
        node_parent=[-1],
        node_capacity_kw=1e9,
        price_eur_per_kwh=0.3,
    )
    flexibility = aggregate(problem, 0)
    assert flexibility.method == "closed form"
    assert flexibility._oracle.groups.shape[0] <= 4 * n_slots * (n_slots + 1) // 2
    # the grouped sums equal the per-session formulas
    box = problem.power_max_kw * problem.grid.dt_h
    need = problem.energy_min_kwh
    for mask in (np.arange(n_slots) % 3 == 0, np.arange(n_slots) < 7):
        most = np.minimum(box[:, mask].sum(axis=1), problem.energy_max_kwh).sum()
        least = np.maximum(need - box[:, ~mask].sum(axis=1), 0.0).sum()
        assert flexibility.b(mask) == pytest.approx(most, rel=1e-12)
        assert flexibility.p(mask) == pytest.approx(least, rel=1e-12, abs=1e-9)


def test_kernels_match_their_formula():
    rng = np.random.default_rng(0)
    offsets = np.array([0, 3, 3, 7])
    values = np.concatenate([np.sort(rng.uniform(0, 5, 3)), np.sort(rng.uniform(0, 5, 4))])
    prefix = np.r_[0.0, np.cumsum(values)]
    cap = rng.uniform(0, 5, 3)
    group = np.repeat(np.arange(3), np.diff(offsets))
    assert _oracles._sum_min(offsets, values, prefix, cap) == pytest.approx(
        np.minimum(values, cap[group]).sum()
    )
    assert _oracles._sum_excess(offsets, values, prefix, cap) == pytest.approx(
        np.maximum(values - cap[group], 0).sum()
    )


def test_bad_arguments_are_named():
    flexibility = aggregate(small_problem(0), 0)
    with pytest.raises(InputError, match="slots"):
        flexibility.b([9])
    with pytest.raises(InputError, match="price_eur_per_kwh"):
        flexibility.optimise([0.1])
    with pytest.raises(InputError, match="profile_kw"):
        flexibility.contains([np.nan] * 5)
    with pytest.raises(InputError):
        aggregate(small_problem(0), "no such node")


def test_contains_accepts_the_sets_own_optimum_on_a_large_fleet():
    # the whole fleet's need (about 1e5 kWh here) must not set the oracle's flow tolerance
    problem = random_problem(2000, 24, seed=2)
    flexibility = aggregate(problem, 0)
    assert flexibility.method == "flow"
    profile = flexibility.optimise(np.linspace(0.4, 0.1, 24))
    assert flexibility.contains(profile, tol_kw=1e-6)
    shifted = profile.copy()
    shifted[3] += 1.0  # one kW more in one slot, none less elsewhere: too much energy
    assert not flexibility.contains(shifted, tol_kw=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_within_by_paths_agrees_with_an_lp(seed):
    """The split-exit flow answers every membership question as HiGHS's LP of the set does
    (the network simplex, the fallback for close calls, is stricter on boundary points: it
    counts a flow 1e-11 kWh short as infeasible)."""
    problem = random_problem(40, 12, seed=seed, overload=1.5)
    rng = np.random.default_rng(seed)
    problem = problem.replace(
        energy_min_kwh=problem.energy_min_kwh * rng.uniform(0.3, 1.0, problem.n_sessions),
        energy_max_kwh=problem.energy_max_kwh,
    )
    oracle = _oracles.FlowOracle(problem)
    lp = _oracles.LPOracle(problem)
    everything = np.full(problem.n_slots, -np.inf), np.full(problem.n_slots, np.inf)
    try:
        oracle.optimise(np.zeros(problem.n_slots))
    except EmptyFlexibilityError:  # needs that cannot all be met: nothing is within
        assert not oracle.within(*everything)
        return
    answers = []
    for _ in range(10):
        centre = oracle.optimise(rng.normal(0.2, 0.3, problem.n_slots)) * rng.uniform(0.8, 1.25)
        width = rng.uniform(0.0, 0.2, problem.n_slots) * centre.max()
        lower, upper = centre - width, centre + width
        lower[rng.random(problem.n_slots) < 0.3] = -np.inf
        assert oracle._within_by_paths(np.maximum(lower, 0.0), upper) is not None  # by paths
        answers.append(oracle.within(lower, upper))
        assert answers[-1] == lp.within(lower, upper), (lower, upper)
    assert any(answers) and not all(answers)  # both kinds of answer were asked for
