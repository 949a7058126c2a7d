"""Headroom of a limit above several offering nodes, shared between them.

A node's exact set (:func:`~fera_flex.flexibility.aggregate`) covers its own
subtree; a limit above it is shared with every other node under that limit.
For offers to be deliverable **jointly** (any combination of activations
across nodes at once), each upstream limit's headroom is allocated before
the offers are made, by this rule:

- the headroom of an upstream node ``u`` in a slot is its EV limit minus the
  baseline EV load through it (never below 0); sessions under ``u`` but under
  no offering node keep their baseline power in the guarantee;
- it is split between the offering nodes under ``u`` in proportion to each
  one's own room in that slot: the smaller of its EV limit and its sessions'
  summed power limits, less its baseline load (equal parts when none has
  room);
- an offering node's limit becomes its baseline load plus its share, at
  each upstream node (the smallest wins), and never above its own limit.

The offering nodes' loads then add up to at most each upstream limit in
every slot, whatever each one does within its offer. Offers of nested nodes
(one under the other) are alternatives, not combinable: the guarantee holds
for any set of offering nodes of which none is under another. Only import
capacities are shared; phase-current limits and target bands above a node
are not (an offer under such a limit says so through
``NodeFlexibility.upstream_limits``).

Examples
--------
Two feeders of 11 kW each under a 15 kW transformer, one 11 kW car per
feeder, nothing planned: each feeder may offer 7.5 kW.

>>> from datetime import datetime, timedelta, timezone
>>> import numpy as np
>>> import fera_flex as ff
>>> grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), timedelta(hours=1), 2)
>>> problem = ff.ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[0, 0], departure_slot=[2, 2], energy_kwh=[0.0, 0.0],
...     power_max_kw=11.0, node_of_session=[1, 2], node_parent=[-1, 0, 0],
...     node_capacity_kw=[15.0, 11.0, 11.0], price_eur_per_kwh=0.3)
>>> upstream_share_kw(problem, np.zeros((3, 2)), 1, rivals=[2]).tolist()
[7.5, 7.5]
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from fera_flex.scheduling.problem import ChargingProblem

__all__ = ["upstream_share_kw", "upstream_shares_kw"]


def upstream_share_kw(
    problem: ChargingProblem,
    load_kw: NDArray[np.float64],
    node: int,
    rivals: Sequence[int] = (),
) -> NDArray[np.float64] | None:
    """``node``'s EV limit per slot [kW] (T,) cut to its share of every upstream limit's headroom.

    Parameters
    ----------
    problem : ChargingProblem
    load_kw : ndarray (m, T)
        Baseline EV load through every node [kW].
    node : int
        The offering node.
    rivals : sequence of int
        The other offering nodes (nested ones are left out of the split).

    Returns
    -------
    ndarray (T,) or None
        The node's limit (never above its own ``node_ev_max_kw``), or None
        when no limit above it can bind.
    """
    offering = [int(node), *np.asarray(rivals, dtype=np.int64).tolist()]
    return upstream_shares_kw(problem, load_kw, offering)[int(node)]


def upstream_shares_kw(
    problem: ChargingProblem, load_kw: NDArray, offering: Sequence[int]
) -> dict[int, NDArray[np.float64] | None]:
    """Every offering node's limit (see :func:`upstream_share_kw`), or None without one above.

    One pass over the tree for the whole set (the offers of
    :func:`~fera_flex.flexibility.flexibility_offers`), not one per node, whose
    sums over the rivals under each limit made 5,500 nodes quadratic.

    Notes
    -----
    For a node ``x`` under an upstream node ``u``, the rivals that share
    ``u`` are the offering nodes under ``u`` other than ``x``, its offering
    descendants and its offering ancestors below ``u`` (nested ones): their
    rooms sum to ``S[u] - room[x] - S[x] - A``, where ``S[k]`` sums the
    rooms of the offering nodes strictly under ``k`` and ``A`` those of
    ``x``'s offering ancestors below ``u``; likewise for their count.
    """
    ancestors = problem.ancestors()
    ev_max = problem.node_ev_max_kw
    nodes = np.unique(np.asarray(offering, dtype=np.int64))
    offers = np.zeros(problem.n_nodes, dtype=bool)
    offers[nodes] = True
    room = np.zeros(ev_max.shape)
    room[nodes] = _own_room(problem, load_kw, nodes)
    below_kw = np.zeros(ev_max.shape)  # S: the rooms of the offering nodes strictly under
    below_n = np.zeros(problem.n_nodes)
    for level in range(1, ancestors.shape[1]):
        above = ancestors[nodes, level]
        on = above >= 0
        np.add.at(below_kw, above[on], room[nodes[on]])
        np.add.at(below_n, above[on], 1.0)
    limited = np.isfinite(ev_max).any(axis=1)
    headroom = np.maximum(ev_max - load_kw, 0.0)
    shares: dict[int, NDArray[np.float64] | None] = {}
    for x in nodes.tolist():
        cap, bound = ev_max[x].copy(), False
        nested_kw, nested_n = np.zeros(ev_max.shape[1]), 0.0  # offering ancestors below u
        for u in ancestors[x, 1:].tolist():
            if u < 0:
                break
            if limited[u]:
                bound = True
                total = below_kw[u] - below_kw[x] - nested_kw  # x and its rivals under u
                count = below_n[u] - below_n[x] - nested_n
                with np.errstate(divide="ignore", invalid="ignore"):
                    fraction = np.where(total > 0, room[x] / total, 1.0 / count)
                    share = np.where(np.isinf(headroom[u]), np.inf, fraction * headroom[u])
                cap = np.minimum(cap, load_kw[x] + share)
            if offers[u]:
                nested_kw, nested_n = nested_kw + room[u], nested_n + 1.0
        shares[x] = cap if bound else None
    return shares


def _own_room(problem: ChargingProblem, load_kw: NDArray, nodes: NDArray) -> NDArray[np.float64]:
    """Some nodes' own room per slot [kW] (k, T): min(EV limit, summed power limits) - load."""
    most = np.minimum(problem.node_ev_max_kw[nodes], problem.node_power_max_kw[nodes])
    return np.maximum(most - load_kw[nodes], 0.0)
