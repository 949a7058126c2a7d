"""The network simplex against scipy's LP and against its plain-Python twin."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fera_flex.errors import InputError
from fera_flex.network import _simplex_reference as reference
from fera_flex.network import min_cost_flow

OBJECTIVE_ATOL = 1e-7


def random_network(seed: int, integer: bool = True):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 14))
    m = int(rng.integers(1, 45))
    tail, head = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = tail != head
    tail, head = tail[keep], head[keep]
    m = tail.size
    draw = rng.integers if integer else (lambda lo, hi, size: rng.uniform(lo, hi, size))
    lower = np.where(rng.random(m) < 0.2, draw(0, 3, m), 0.0).astype(float)
    upper = lower + draw(0, 10, m)
    upper = np.where(rng.random(m) < 0.1, np.inf, upper)
    cost = np.asarray(draw(-5, 10, m), dtype=float)
    supply = np.asarray(draw(-5, 6, n), dtype=float)
    supply[-1] -= supply.sum()
    return tail, head, lower, upper, cost, supply


def lp_optimum(tail, head, lower, upper, cost, supply):
    """(status, objective) by scipy's LP: 'optimal', 'infeasible' or 'unbounded'."""
    n, m = supply.size, tail.size
    columns = np.r_[np.arange(m), np.arange(m)]
    incidence = sp.coo_matrix(
        (np.r_[np.ones(m), -np.ones(m)], (np.r_[tail, head], columns)), (n, m)
    )
    bounds = [(lo, None if np.isinf(hi) else hi) for lo, hi in zip(lower, upper, strict=True)]
    result = linprog(cost, A_eq=incidence, b_eq=supply, bounds=bounds, method="highs")
    return {0: "optimal", 2: "infeasible", 3: "unbounded"}[result.status], result.fun


def check_flow(solution, tail, head, lower, upper, supply):
    n = supply.size
    out = np.bincount(tail, solution.flow, n) - np.bincount(head, solution.flow, n)
    np.testing.assert_allclose(out, supply, atol=1e-9)
    assert (solution.flow >= lower).all() and (solution.flow <= upper).all()


@pytest.mark.parametrize("integer", [True, False], ids=["integer", "float"])
@pytest.mark.parametrize("seed", range(120))
def test_matches_scipy_and_the_reference(seed, integer):
    tail, head, lower, upper, cost, supply = random_network(seed, integer)
    if tail.size == 0:
        return
    status, objective = lp_optimum(tail, head, lower, upper, cost, supply)
    kernel = min_cost_flow(tail, head, lower, upper, cost, supply)
    twin = min_cost_flow(tail, head, lower, upper, cost, supply, _kernel=reference.network_simplex)
    if status != "optimal":  # a negative infinite cycle may be found before infeasibility
        assert {kernel.status, twin.status} <= {status, "unbounded"}
        return
    assert kernel.status == twin.status == status
    if status == "optimal":
        assert kernel.objective == pytest.approx(objective, abs=OBJECTIVE_ATOL)
        assert twin.objective == pytest.approx(objective, abs=OBJECTIVE_ATOL)
        check_flow(kernel, tail, head, lower, upper, supply)
        # optimality certificate from the potentials: no arc could improve
        reduced = kernel.reduced_cost(tail, head, cost)
        assert (reduced[kernel.flow < upper - 1e-9] >= -1e-7).all()
        assert (reduced[kernel.flow > lower + 1e-9] <= 1e-7).all()


# capacities and supplies on a grid (as real data is, in 0.1 kW or Wh): scipy's absolute
# tolerance of 1e-7 and our relative one then agree on what is feasible
QUARTERS = st.integers(-20, 20).map(lambda k: k / 4)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    QUARTERS.filter(lambda v: v >= 0),
                    st.floats(-3, 3),
                ),
                min_size=1,
                max_size=20,
            ),
            st.lists(QUARTERS, min_size=n, max_size=n),
        )
    )
)
def test_laws_on_hypothesis_networks(data):
    _, arcs, supply = data
    arcs = [a for a in arcs if a[0] != a[1]]
    if not arcs:
        return
    tail, head, width, cost = (np.array(column) for column in zip(*arcs, strict=True))
    supply = np.array(supply)
    supply[-1] = -supply[:-1].sum()
    lower = np.zeros(tail.size)
    status, objective = lp_optimum(tail, head, lower, width, cost, supply)
    solution = min_cost_flow(tail, head, lower, width, cost, supply)
    assert solution.status == status
    if status == "optimal":
        assert solution.objective == pytest.approx(objective, abs=1e-6)
        check_flow(solution, tail, head, lower, width, supply)


def test_warm_start_reaches_the_same_optimum():
    for seed in range(60):
        tail, head, lower, upper, cost, supply = random_network(seed, integer=False)
        if tail.size == 0:
            continue
        first = min_cost_flow(tail, head, lower, upper, cost, supply)
        if first.status != "optimal":
            continue
        rng = np.random.default_rng(seed)
        changed = cost * rng.uniform(0.5, 1.5, cost.size)
        cold = min_cost_flow(tail, head, lower, upper, changed, supply)
        warm = min_cost_flow(tail, head, lower, upper, changed, supply, warm_start=first)
        assert warm.status == cold.status
        if cold.status == "optimal":
            assert warm.objective == pytest.approx(cold.objective, abs=1e-7)
            check_flow(warm, tail, head, lower, upper, supply)
            # the same costs again: the start is already optimal
            again = min_cost_flow(tail, head, lower, upper, changed, supply, warm_start=warm)
            assert again.pivots == 0 and again.objective == pytest.approx(warm.objective)
        # other bounds: a start whose tree flows break them falls back to a cold start
        tighter = np.minimum(upper, lower + rng.uniform(0, 5, upper.size))
        fresh = min_cost_flow(tail, head, lower, tighter, cost, supply)
        reused = min_cost_flow(tail, head, lower, tighter, cost, supply, warm_start=first)
        assert reused.status == fresh.status
        if fresh.status == "optimal":
            assert reused.objective == pytest.approx(fresh.objective, abs=1e-7)


def test_statuses():
    # 2 units to send over an arc of capacity 1: infeasible
    assert min_cost_flow([0], [1], [0], [1], [1.0], [2.0, -2.0]).status == "infeasible"
    # a negative cycle of infinite capacity: unbounded
    solution = min_cost_flow([0, 1], [1, 0], [0, 0], [np.inf, np.inf], [-1.0, 0.0], [0.0, 0.0])
    assert solution.status == "unbounded"
    assert min_cost_flow([0], [1], [0], [1], [1.0], [1.0, -1.0], max_pivots=0).status == (
        "iteration_limit"
    )


def test_no_arcs_and_zero_supply():
    solution = min_cost_flow([], [], [], [], [], [0.0, 0.0])
    assert solution.status == "optimal" and solution.flow.size == 0


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"supply": [1.0, 0.0]}, "supply"),
        ({"head": [5]}, "head"),
        ({"upper": [-1.0]}, "upper[0]"),
        ({"cost": [np.nan]}, "cost"),
        ({"lower": [0.0, 1.0]}, "lower"),
    ],
)
def test_bad_input_names_the_argument(kwargs, named):
    arguments = {
        "tail": [0],
        "head": [1],
        "lower": [0.0],
        "upper": [1.0],
        "cost": [1.0],
        "supply": [1.0, -1.0],
    }
    arguments.update(kwargs)
    with pytest.raises(InputError, match=named.replace("[", r"\[").replace("]", r"\]")):
        min_cost_flow(**arguments)
