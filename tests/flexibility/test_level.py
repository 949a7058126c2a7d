"""The level network answers every node's questions at once, as each node's own set does.

The reference is the single-node oracle of :func:`fera_flex.flexibility.aggregate`
on the node's market (its subtree, its share of the limits above, no need
above what the baseline delivers): other code, other networks.
"""

import numpy as np
import pytest

from fera_flex.flexibility._level import LevelNetwork
from fera_flex.flexibility.aggregate import exact_nodes
from fera_flex.flexibility.offer import _baseline, _market
from fera_flex.flexibility.offers import box_offer, flexibility_offers
from fera_flex.flexibility.sharing import upstream_shares_kw
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule


def offering(problem):
    return [k for k in range(problem.n_nodes) if problem.sessions_under(k).size]


def levels(problem):
    """The offering nodes grouped by depth: none of a group is under another."""
    nodes = np.array(offering(problem))
    depth = (problem.ancestors()[nodes] >= 0).sum(axis=1)
    return [nodes[depth == d] for d in np.unique(depth)]


@pytest.mark.parametrize("seed", range(6))
def test_slot_extremes_of_a_level_equal_each_nodes_own(seed):
    problem = random_problem(24, 12, seed=seed, overload=1.0 + 0.2 * (seed % 3))
    plan = schedule(problem)
    net_kw, load = _baseline(plan)
    shares = upstream_shares_kw(problem, load, offering(problem))
    for group in levels(problem):
        network = LevelNetwork(problem, net_kw, group, [shares[k] for k in group])
        least, most = network.slot_power_range_kw(3, 9)
        for row, node in enumerate(group.tolist()):
            flexibility = _market(problem, node, plan, (3, 9), shares[node]).flexibility
            own_least, own_most = flexibility.slot_power_range_kw(3, 9)
            np.testing.assert_allclose(least[row], own_least, atol=1e-7)
            np.testing.assert_allclose(most[row], own_most, atol=1e-7)


@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
@pytest.mark.parametrize("seed", range(8))
def test_the_widest_fraction_is_in_the_set_and_a_little_more_is_not(seed, up):
    problem = random_problem(20, 12, seed=seed, overload=1.0 + 0.3 * (seed % 2))
    plan = schedule(problem)
    net_kw, load = _baseline(plan)
    shares = upstream_shares_kw(problem, load, offering(problem))
    first, stop = 2, 8
    for group in levels(problem):
        network = LevelNetwork(problem, net_kw, group, [shares[k] for k in group])
        least, most = network.slot_power_range_kw(first, stop)
        baseline = load[group, first:stop]
        room = np.maximum(most - baseline, 0) if up else np.maximum(baseline - least, 0)
        fraction = network.widest_fraction(first, stop, room, up)
        for row, node in enumerate(group.tolist()):
            flexibility = _market(problem, node, plan, (first, stop), shares[node]).flexibility

            if room[row].sum() == 0:
                continue
            moved = (first, stop, baseline[row], room[row], up)
            assert reached(flexibility, *moved, fraction[row] * (1 - 1e-7)), (node, fraction[row])
            # more by 1e-5 kWh over the window: beyond the oracles' tolerance (1e-9 of the needs)
            more = fraction[row] + max(1e-4, 1e-5 / (room[row].sum() * problem.grid.dt_h))
            if more < 1:
                assert not reached(flexibility, *moved, more), (node, fraction[row])


def reached(flexibility, first, stop, baseline, room, up, scale):
    """Whether a member is at least (``up``) or at most the baseline moved by ``scale room``."""
    free = np.full(flexibility.grid.n, np.inf)
    bound = -free if up else free.copy()
    bound[first:stop] = baseline + (scale if up else -scale) * room
    return flexibility.within(bound, free) if up else flexibility.within(-free, bound)


@pytest.mark.parametrize("seed", range(4))
def test_box_offers_made_together_equal_those_made_one_by_one(seed):
    problem = random_problem(30, 16, seed=seed, overload=1.2)
    plan = schedule(problem)
    nodes = offering(problem)
    together = flexibility_offers(problem, plan, window=(4, 10))
    for node, offer in zip(nodes, together, strict=True):
        alone = box_offer(problem, node, plan, (4, 10), rivals=[k for k in nodes if k != node])
        np.testing.assert_allclose(offer.power_max_kw, alone.power_max_kw, atol=1e-6)
        np.testing.assert_allclose(offer.power_min_kw, alone.power_min_kw, atol=1e-6)
        assert offer.kept_up == pytest.approx(alone.kept_up, abs=1e-6)


def test_exact_nodes_flag_what_aggregate_flags():
    problem = random_problem(24, 12, seed=3, v2g_share=0.2)
    nodes = np.arange(problem.n_nodes)
    from fera_flex.flexibility import aggregate

    expected = [aggregate(problem, int(k)).exact for k in nodes]
    assert exact_nodes(problem, nodes).tolist() == expected
    assert not all(expected) and any(expected)  # some of each
