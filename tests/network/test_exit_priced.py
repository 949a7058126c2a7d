"""Exit-priced min-cost flow against the network simplex and scipy's LP; kernels against twins."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.network import _augment, min_cost_flow
from fera_flex.network import _augment_reference as reference
from fera_flex.network.exit_priced import exit_priced_flow
from tests.network.test_min_cost_flow import lp_optimum

SOURCE, SINK, HUB = 0, 1, 2


def exit_priced_network(seed: int, integer: bool = True):
    """A random network whose costs are offset differences except on the arcs into the sink.

    A source, a hub with forced flow to some nodes (lower bounds covered by the
    source -> hub arc's own), random arcs among the inner nodes in both
    directions, exits into the sink at random prices, and the return arc.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 16))
    draw = rng.integers if integer else (lambda lo, hi, size=None: rng.uniform(lo, hi, size))
    inner = np.arange(3, n)
    tail, head, lower, upper = [], [], [], []

    def arc(u, v, lo, hi):
        tail.append(u), head.append(v), lower.append(float(lo)), upper.append(float(hi))

    forced = 0.0
    for v in inner:
        if rng.random() < 0.6:
            lo = float(draw(0, 3)) if rng.random() < 0.5 else 0.0
            forced += lo
            arc(HUB, v, lo, lo + float(draw(0, 4)))
        if rng.random() < 0.4:
            arc(SOURCE, v, 0.0, float(draw(0, 4)))
    arc(SOURCE, HUB, forced + (float(draw(0, 2)) if rng.random() < 0.5 else 0.0), forced + 6)
    for _ in range(int(rng.integers(0, 3 * n))):
        u, v = rng.choice(inner, 2)
        if u != v:
            arc(u, v, 0.0, float(draw(0, 6)) if rng.random() < 0.9 else np.inf)
    for v in inner:
        for _ in range(int(rng.integers(0, 3))):
            arc(v, SINK, 0.0, float(draw(0, 5)))
    arc(SINK, SOURCE, 0.0, np.inf)
    tail, head = np.array(tail), np.array(head)
    offset = np.asarray(draw(-5, 5, n), dtype=float)
    offset[[SOURCE, SINK]] = 0.0
    offset[HUB] = offset[HUB] if rng.random() < 0.5 else 0.0
    cost = offset[head] - offset[tail]
    exits = head == SINK
    cost[exits] = np.asarray(draw(-3, 8, int(exits.sum())), dtype=float) - offset[tail[exits]]
    cost[-1] = float(draw(-2, 2)) if rng.random() < 0.5 else 0.0
    return tail, head, np.array(lower), np.array(upper), cost, offset


def certify(solution, tail, head, lower, upper, cost, tol=1e-7):
    """Feasibility and the potentials' optimality certificate, checked from scratch."""
    n = solution.potential.size
    out = np.bincount(tail, solution.flow, n) - np.bincount(head, solution.flow, n)
    np.testing.assert_allclose(out, 0.0, atol=1e-9)
    assert (solution.flow >= lower - 1e-12).all() and (solution.flow <= upper + 1e-12).all()
    reduced = solution.reduced_cost(tail, head, cost)
    assert (reduced[solution.flow < upper - 1e-9] >= -tol).all()
    assert (reduced[solution.flow > lower + 1e-9] <= tol).all()


@pytest.mark.parametrize("integer", [True, False], ids=["integer", "float"])
@pytest.mark.parametrize("seed", range(150))
def test_matches_the_network_simplex_and_scipy(seed, integer):
    tail, head, lower, upper, cost, offset = exit_priced_network(seed, integer)
    solution = exit_priced_flow(tail, head, lower, upper, cost, offset, SOURCE, SINK)
    assert solution is not None
    supply = np.zeros(offset.size)
    status, objective = lp_optimum(tail, head, lower, upper, cost, supply)
    simplex = min_cost_flow(tail, head, lower, upper, cost, supply)
    if status != "optimal":
        assert status == "infeasible" and solution.status == "infeasible"
        return
    assert solution.status == simplex.status == "optimal"
    assert solution.objective == pytest.approx(objective, abs=1e-7)
    assert solution.objective == pytest.approx(simplex.objective, abs=1e-7)
    certify(solution, tail, head, lower, upper, cost)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_potentials_certify_every_optimum(seed):
    tail, head, lower, upper, cost, offset = exit_priced_network(seed, integer=False)
    solution = exit_priced_flow(tail, head, lower, upper, cost, offset, SOURCE, SINK)
    if solution.status == "optimal":
        certify(solution, tail, head, lower, upper, cost)


def test_refuses_costs_that_are_not_exit_priced():
    tail, head, lower, upper, cost, offset = exit_priced_network(3)
    inner = np.flatnonzero((head != SINK) & (upper > lower))[0]
    cost = cost.copy()
    cost[inner] += 1.0
    assert exit_priced_flow(tail, head, lower, upper, cost, offset, SOURCE, SINK) is None
    no_return = slice(0, -1)
    assert (
        exit_priced_flow(
            tail[no_return],
            head[no_return],
            lower[no_return],
            upper[no_return],
            cost[no_return],
            offset,
            SOURCE,
            SINK,
        )
        is None
    )


def test_forced_flow_beyond_the_exits_is_infeasible():
    # 3 units forced into node 3, whose only exit carries 2
    tail, head = np.array([0, 2, 3, 1]), np.array([2, 3, 1, 0])
    lower, upper = np.array([3.0, 3.0, 0.0, 0.0]), np.array([3.0, 3.0, 2.0, np.inf])
    solution = exit_priced_flow(tail, head, lower, upper, np.zeros(4), np.zeros(4), SOURCE, SINK)
    assert solution.status == "infeasible"


def _residual_state(seed):
    """A random residual graph with excesses, as the solver hands it to the kernel."""
    tail, head, lower, upper, _, offset = exit_priced_network(seed, integer=False)
    n = offset.size
    graph = _augment.residual_csr(n, tail, head)
    cap = np.where(np.isfinite(upper), upper - lower, 1e6)
    cap[-1] = 0.0
    res = np.zeros(2 * tail.size)
    res[graph.forward] = cap
    excess = np.zeros(n)
    rng = np.random.default_rng(seed)
    excess[3:] = rng.uniform(0, 3, n - 3) * (rng.random(n - 3) < 0.5)
    return graph, res, excess, tail, head


@pytest.mark.parametrize("seed", range(80))
def test_route_kernel_matches_its_twin(seed):
    graph, res, excess, _, _ = _residual_state(seed)
    arrays = (graph.start, graph.to, graph.mate)
    kernel_res, kernel_excess, kernel_rev = res.copy(), excess.copy(), res[graph.mate]
    twin_res, twin_excess, twin_rev = res.copy(), excess.copy(), res[graph.mate]
    sent, _ = _augment.route(*arrays, kernel_res, kernel_rev, kernel_excess, SINK, 1e-12)
    twin_sent, _ = reference.route(*arrays, twin_res, twin_rev, twin_excess, SINK, 1e-12)
    # both keep each entry's mate residual with it, exactly
    np.testing.assert_array_equal(kernel_rev, kernel_res[graph.mate])
    np.testing.assert_array_equal(twin_rev, twin_res[graph.mate])
    # the most that can be sent is unique, and neither leaves an augmenting path
    assert sent == pytest.approx(twin_sent, abs=1e-9)
    assert kernel_excess.sum() == pytest.approx(twin_excess.sum(), abs=1e-9)
    np.testing.assert_allclose(kernel_res + kernel_res[graph.mate], res + res[graph.mate])
    again, _ = _augment.route(*arrays, kernel_res, kernel_rev, kernel_excess, SINK, 1e-12)
    assert again == pytest.approx(0.0, abs=1e-9)
    # the same prices reach the same nodes in the same residual graph
    rng = np.random.default_rng(seed)
    seed_node = rng.integers(0, graph.start.size - 1, 4)
    seed_price = np.sort(rng.normal(size=4))
    kernel = _augment.labels(*arrays, kernel_rev, seed_node, seed_price, SINK, 1e-12)
    twin = reference.labels(*arrays, kernel_res, seed_node, seed_price, SINK, 1e-12)
    np.testing.assert_array_equal(kernel, twin)
    # the two sides of the cut the flow left: where the seeds send to, and who sends to them
    for weight in (kernel_res, kernel_rev):
        found = _augment.reaching(graph.start, graph.to, weight, seed_node, 1e-12)
        twin_found = reference.reaching(graph.start, graph.to, weight, seed_node, 1e-12)
        np.testing.assert_array_equal(found, twin_found)
    # after a max flow no node with an excess left can send to the sink
    holding = np.flatnonzero(kernel_excess > 1e-12)
    assert not _augment.reaching(graph.start, graph.to, kernel_res, holding, 1e-12)[SINK]


@pytest.mark.parametrize("seed", range(40))
def test_implied_lower_bounds_give_the_optimum_and_duals_of_the_given_bounds(seed):
    tail, head, lower, upper, cost, offset = exit_priced_network(seed)
    total = np.flatnonzero((tail == SOURCE) & (head == HUB))[0]
    loose = lower.copy()
    loose[total] = 0.0  # the hub must now receive its forced flow: not exit-priced as posed
    assert exit_priced_flow(tail, head, loose, upper, cost, offset, SOURCE, SINK) is None or (
        loose[tail == HUB].sum() == 0
    )
    implied = loose.copy()
    implied[total] = min(loose[tail == HUB].sum(), upper[total])
    solution = exit_priced_flow(
        tail, head, loose, upper, cost, offset, SOURCE, SINK, implied_lower=implied
    )
    status, objective = lp_optimum(tail, head, loose, upper, cost, np.zeros(offset.size))
    assert solution.status == status
    if status == "optimal":
        assert solution.objective == pytest.approx(objective, abs=1e-7)
        certify(solution, tail, head, loose, upper, cost)


@pytest.mark.parametrize("seed", range(60))
def test_the_arc_set_up_kernel_equals_its_numpy_twin(seed):
    """Exit-priced networks, and ones that are not: a cost on an inner arc, no return arc,
    a node that must receive flow, a NaN cost."""
    from fera_flex.network.exit_priced import _arcs, _arcs_reference
    from fera_flex.network.mincost import COST_RTOL, FLOW_RTOL

    tail, head, lower, upper, cost, offset = exit_priced_network(seed, integer=seed % 2 == 0)
    tail, head = tail.astype(np.int64), head.astype(np.int64)
    lower, upper, cost = (np.asarray(a, dtype=np.float64).copy() for a in (lower, upper, cost))
    case = seed % 5
    if case == 1:
        inner = np.flatnonzero((head != SINK) & (upper > lower))
        cost[inner[0]] += 1.0
    elif case == 2:
        tail, head, lower, upper, cost = (a[:-1] for a in (tail, head, lower, upper, cost))
    elif case == 3:
        total = np.flatnonzero((tail == SOURCE) & (head == HUB))[0]
        lower[total] = 0.0
    elif case == 4 and seed % 10 == 9:
        cost[0] = np.nan
    implied = lower.copy()
    arguments = (tail, head, lower, upper, cost, np.asarray(offset, dtype=np.float64), implied)
    kernel = _arcs(*arguments, SOURCE, SINK, FLOW_RTOL, COST_RTOL)
    twin = _arcs_reference(*arguments, SOURCE, SINK, FLOW_RTOL, COST_RTOL)
    assert kernel[0] == twin[0]
    if twin[0]:
        for got, expected in zip(kernel[1:], twin[1:], strict=True):
            np.testing.assert_array_equal(got, expected)
