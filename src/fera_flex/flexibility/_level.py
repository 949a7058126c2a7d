r"""Offering nodes of one level in one flow network, each question asked of all at once (private).

Nodes of which none is under another (a *level*: the feeders, the stations)
have disjoint subtrees. Their markets (each node's sessions, its limit cut
to its share of the limits above it, every need lowered to what the
baseline delivers where that falls short; see
:class:`~fera_flex.flexibility.offer._Market`) are put in one problem whose
limits above the level are lifted, and its flow network
(:class:`~fera_flex.scheduling.charging_network.ChargingNetwork`) carries
each node's load per slot on an arc into the sink, the node's *exit* for
that slot. The nodes' parts of the network meet only at the source and the
sink, so one max flow answers a question for every node at once, where one
node at a time took some forty small solves each (5,500 nodes at 10,000
sessions).

Every question starts from the baseline's flow, which is feasible, and asks
how far the exits can move, by Dinic's method
(:func:`fera_flex.network._augment.route`):

- ``b({t})``: the exits of the other slots give up their flow and the
  source gives more, all of which may leave only by slot ``t``'s exit;
- ``p({t})``: slot ``t``'s exit gives up its flow, which leaves by the
  other exits or goes back to the source;
- the widest box: for a g-polymatroid, the baseline raised by ``lam`` times
  each window slot's up room ``r`` is reached by a member of the set exactly
  when ``g(lam) = min_A [b(A) - base(A) - lam r(A)]`` over the window's slot
  sets ``A`` is 0 (Frank's theorem, see :mod:`fera_flex.flexibility.offers`).
  A max flow that tries to raise the window's exits by ``lam r`` leaves
  ``-g(lam)`` unsent, and the window slots whose exits can still be reached
  in its residual graph form a minimiser ``A``; Newton's step
  ``lam <- (b(A) - base(A)) / r(A) = lam + g(lam) / r(A)`` (Dinkelbach's
  method for the least ratio) comes down to the largest ``lam`` with
  ``g = 0`` in a few flows, exactly, where a bisection took 25. The down
  room likewise, with ``p`` and the cut's source side.

A node is accepted when what the flow leaves unsent is at most ``1e-9`` of
its needs (at least 1 kWh): the tolerance of the single-node oracles.
Only for sets that are g-polymatroids
(:func:`~fera_flex.flexibility.aggregate.exact_nodes`).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from fera_flex.network._augment import reaching, residual_csr, route
from fera_flex.network.mincost import FLOW_RTOL
from fera_flex.scheduling.charging_network import SINK, SOURCE, ChargingNetwork
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.standard_form import Stage, StageGoal

__all__ = ["ACCEPT_RTOL", "NEWTON_STEPS", "LevelNetwork", "widest_boxes_kw"]

ACCEPT_RTOL = 1e-9
"""Unsent energy, relative to a node's needs (at least 1 kWh), up to which a question passes."""

NEWTON_STEPS = 64
"""Newton steps after which a node still short gets no widening at all (never seen)."""


class LevelNetwork:
    """The markets of some offering nodes of which none is under another, as one flow network.

    Parameters
    ----------
    problem : ChargingProblem
    net_kw : ndarray (n, T)
        The baseline's power per session [kW] (V1G: its charge).
    nodes : ndarray of int (k,)
        The offering nodes, none under another, each with an exact set.
    limit_kw : sequence of ndarray (T,) or None
        Each node's EV limit cut to its share of the limits above it
        (:func:`~fera_flex.flexibility.sharing.upstream_share_kw`), or None.
    """

    def __init__(self, problem: ChargingProblem, net_kw: NDArray, nodes: NDArray, limit_kw) -> None:
        self.nodes = np.asarray(nodes, dtype=np.int64)
        self.dt_h = problem.grid.dt_h
        market = _market_problem(problem, net_kw, self.nodes, limit_kw)
        # a node's (node, slot) is measured where some session under it can draw
        present = market.problem.node_power_max_kw > 0
        measured = np.zeros(present.shape, dtype=bool)
        measured[self.nodes] = present[self.nodes]
        network = ChargingNetwork.of(market.problem, ObjectiveOptions(), measured=measured)
        stage = Stage(StageGoal.ECONOMIC, needs_met=True)
        lower, upper, _, _ = network.stage_arrays(market.problem, stage)
        lower[network.total_arc], upper[network.total_arc] = 0.0, np.inf
        position = np.full(problem.n_nodes, -1, dtype=np.int64)
        position[self.nodes] = np.arange(self.nodes.size)
        on = position[network.limit_node] >= 0
        # the exits: arc, node row and slot of each measured (node, slot)
        self._exit = network.limit_arcs[on]
        self._row = position[network.limit_node[on]]
        self._slot = network.limit_slot[on]
        self._root = network.tail[self._exit]
        self._graph = residual_csr(network.n_nodes, network.tail, network.head)
        flow = _baseline_flow(network, market.net_kw * market.problem.slot_energy_h, lower, upper)
        self._base_res, self._base_rev = self._residuals(flow, lower, upper)
        self._x = flow[self._exit]  # the baseline's energy through every exit [kWh]
        finite = upper[np.isfinite(upper)]
        self._tol = FLOW_RTOL * max(float(finite.max(initial=0.0)), 1e-300)
        self._big = float(upper[network.pair_arcs].sum())  # more than any node can draw
        component = position[market.owner[network.network_sessions]]
        need = np.bincount(component, lower[network.need_arcs], self.nodes.size)
        self._accept = ACCEPT_RTOL * np.maximum(need, 1.0)
        self._back = int(np.flatnonzero((network.tail == SINK) & (network.head == SOURCE))[0])

    def _residuals(self, flow, lower, upper):
        graph = self._graph
        res = np.zeros(graph.to.size)
        res[graph.forward] = np.maximum(upper - flow, 0.0)
        res[graph.backward] = np.maximum(flow - lower, 0.0)
        return res, res[graph.mate]

    def _fresh(self):
        """The baseline's residuals, copies to route in, and no excess anywhere."""
        n_nodes = self._graph.start.size - 1
        return self._base_res.copy(), self._base_rev.copy(), np.zeros(n_nodes)

    def _set(self, res, rev, arcs, values, backward=False):
        """Set the forward (or backward) residual of ``arcs``, with their mates' ``rev``."""
        graph = self._graph
        entries, mates = (
            (graph.backward, graph.forward) if backward else (graph.forward, graph.backward)
        )
        res[entries[arcs]] = values
        rev[mates[arcs]] = values

    def _route(self, res, rev, excess):
        graph = self._graph
        route(graph.start, graph.to, graph.mate, res, rev, excess, SINK, self._tol)

    def slot_power_range_kw(self, first: int, stop: int) -> tuple[NDArray, NDArray]:
        """Least and most power [kW] (k, W) of each node in each slot ``first <= t < stop``.

        The slots' questions are independent: they run on up to one thread
        per core (the kernel releases the GIL).
        """
        least = np.zeros((self.nodes.size, stop - first))
        most = np.zeros_like(least)
        with ThreadPoolExecutor(max_workers=min(stop - first, _cores())) as pool:
            for t, (rows, low, high) in zip(
                range(first, stop), pool.map(self._slot_extremes, range(first, stop)), strict=True
            ):
                least[rows, t - first], most[rows, t - first] = low, high
        return least / self.dt_h, most / self.dt_h

    def _slot_extremes(self, t: int) -> tuple[NDArray, NDArray, NDArray]:
        """The nodes with an exit at ``t``, and their ``p({t})`` and ``b({t})`` [kWh]."""
        graph = self._graph
        at, others = self._slot == t, self._slot != t
        # b({t}): the other exits give up their flow, the source gives more, all leave by t
        res, rev, excess = self._fresh()
        self._set(res, rev, self._exit[others], 0.0)
        excess[self._root[others]] = self._x[others]
        excess[SOURCE] = self._big
        self._set(res, rev, self._back, 0.0, backward=True)  # no less energy in all
        self._route(res, rev, excess)
        most = res[graph.backward[self._exit[at]]]
        # p({t}): slot t's exit gives up its flow, which leaves by the others or goes back
        res, rev, excess = self._fresh()
        self._set(res, rev, self._exit[at], 0.0)
        excess[self._root[at]] = self._x[at]
        self._route(res, rev, excess)
        return self._row[at], excess[self._root[at]], most

    def widest_fraction(self, first: int, stop: int, room_kw: NDArray, up: bool) -> NDArray:
        """The largest ``lam`` in [0, 1] per node (k,) with the baseline moved by ``lam room_kw``.

        ``room_kw`` (k, W): each window slot's room up (``up``) or down (0
        where the node has no session); the moved profile must be reachable
        by a member of the set on the window (at least it going up, at most it
        going down), the other slots free.
        """
        room = np.asarray(room_kw, dtype=np.float64) * self.dt_h
        fraction = np.ones(self.nodes.size)
        active = room.sum(axis=1) > 0
        for _ in range(NEWTON_STEPS):
            if not active.any():
                return fraction
            short, side = self._short(first, stop, fraction[:, None] * room, active, up)
            failing = active & (short > self._accept)
            if not failing.any():
                return fraction
            in_cut = (room * side).sum(axis=1)
            step = np.divide(short, in_cut, out=np.full(short.shape, np.inf), where=in_cut > 0)
            fraction[failing] = np.maximum(fraction[failing] - step[failing], 0.0)
            active = failing
        fraction[active] = 0.0  # no convergence: the baseline alone is sure
        return fraction

    def _short(self, first, stop, move_kwh, active, up):
        """What a max flow moving the window's exits by ``move_kwh`` leaves unmoved, per node (k,).

        Only the ``active`` nodes' exits move; also returns which window
        slots lie on the minimum cut's side of the unmoved energy (k, W).
        """
        graph = self._graph
        mine = active[self._row]
        window = (self._slot >= first) & (self._slot < stop)
        inside, outside = mine & window, mine & ~window
        cell = (self._row[inside], self._slot[inside] - first)
        res, rev, excess = self._fresh()
        self._set(res, rev, self._exit, 0.0)  # no exit takes more, except as opened below
        if up:  # the window's exits take the move; the others and the source give it
            self._set(res, rev, self._exit[inside], move_kwh[cell])
            excess[self._root[outside]] = self._x[outside]
            excess[SOURCE] = self._big
            self._set(res, rev, self._back, 0.0, backward=True)
        else:  # the window's exits give the move up, to the other exits or back to the source
            self._set(
                res, rev, self._exit[outside], self._base_res[graph.forward[self._exit[outside]]]
            )
            excess[self._root[inside]] = move_kwh[cell]
        self._route(res, rev, excess)
        if up:
            left = res[graph.forward[self._exit[inside]]]
            reached = reaching(graph.start, graph.to, rev, np.array([SINK]), self._tol)
        else:
            left = excess[self._root[inside]]
            holding = np.flatnonzero(excess > self._tol)
            reached = reaching(graph.start, graph.to, res, holding, self._tol)
        side = np.zeros(move_kwh.shape, dtype=bool)
        side[cell] = reached[self._root[inside]]
        return np.bincount(self._row[inside], left, self.nodes.size), side


def widest_boxes_kw(
    problem: ChargingProblem,
    net_kw: NDArray,
    load_kw: NDArray,
    nodes: NDArray,
    limit_kw,
    first: int,
    stop: int,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Rooms and the widest deliverable box of exact-set nodes over a window, level by level.

    Parameters
    ----------
    problem : ChargingProblem
    net_kw : ndarray (n, T)
        The baseline's power per session [kW].
    load_kw : ndarray (m, T)
        The baseline's load through every node [kW].
    nodes : ndarray of int (k,)
        Nodes with exact sets (nested ones are put in different levels).
    limit_kw : sequence of ndarray (T,) or None
        Each node's EV limit cut to its share of the limits above it.
    first, stop : int
        The window.

    Returns
    -------
    room_up_kw, room_down_kw, up_kw, down_kw : ndarray (k, W)
        Each window slot's own room up and down around the baseline
        (``b({t})`` and ``p({t})`` against it), and the box's widths up and down.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    depth = (problem.ancestors()[nodes] >= 0).sum(axis=1)
    rooms = np.zeros((4, nodes.size, stop - first))
    for level in np.unique(depth):
        rows = np.flatnonzero(depth == level)
        network = LevelNetwork(problem, net_kw, nodes[rows], [limit_kw[r] for r in rows])
        least, most = network.slot_power_range_kw(first, stop)
        baseline = load_kw[nodes[rows], first:stop]
        up, down = np.maximum(most - baseline, 0.0), np.maximum(baseline - least, 0.0)
        rooms[0, rows], rooms[1, rows] = up, down
        rooms[2, rows] = network.widest_fraction(first, stop, up, up=True)[:, None] * up
        rooms[3, rows] = network.widest_fraction(first, stop, down, up=False)[:, None] * down
    return rooms[0], rooms[1], rooms[2], rooms[3]


def _cores() -> int:
    """The cores this process may run on (Linux: its affinity; elsewhere all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


class _LevelMarket:
    """The level's problem: its sessions' ``owner`` node (n,) and baseline power (n, T)."""

    def __init__(self, problem, owner, net_kw):
        self.problem, self.owner, self.net_kw = problem, owner, net_kw


def _market_problem(problem: ChargingProblem, net_kw, nodes, limit_kw) -> _LevelMarket:
    """The sessions under ``nodes``, the limits above lifted, the nodes' cut, short needs lowered.

    Target bands are dropped too: the sets ignore them (they are aims, not limits).
    """
    ancestors = problem.ancestors()
    is_node = np.zeros(problem.n_nodes, dtype=bool)
    is_node[nodes] = True
    chain = ancestors[problem.node_of_session]
    hit = np.where(chain >= 0, is_node[np.maximum(chain, 0)], False)
    rows = np.flatnonzero(hit.any(axis=1))
    owner = chain[rows, np.argmax(hit[rows], axis=1)]
    capacity = problem.node_capacity_kw.copy()
    above = ancestors[nodes, 1:]
    capacity[above[above >= 0]] = np.inf
    for node, limit in zip(nodes.tolist(), limit_kw, strict=True):
        if limit is not None:
            capacity[node] = np.minimum(capacity[node], problem.node_base_load_kw[node] + limit)
    delivered = problem.delivered_kwh(net_kw, 0.0, rows)
    free = np.full(problem.node_capacity_kw.shape, np.inf)
    market = problem.select(rows).replace(
        node_capacity_kw=capacity,
        node_target_min_kw=-free,
        node_target_max_kw=free,
        energy_min_kwh=np.minimum(problem.energy_min_kwh[rows], delivered),
        energy_max_kwh=problem.energy_max_kwh[rows],
    )
    return _LevelMarket(market, owner, net_kw[rows])


def _baseline_flow(network: ChargingNetwork, energy_kwh: NDArray, lower, upper) -> NDArray:
    """The flow of every arc [kWh] when each session draws ``energy_kwh`` (n, T) of the grid.

    A (session, slot)'s energy fills its cost segments in order; each
    limit's arc carries what flows into it (one pass per level of limits).
    """
    flow = np.zeros(network.tail.size)
    pairs = network.pair_arcs
    key = network.pair_session * energy_kwh.shape[1] + network.pair_slot
    order = np.argsort(key, kind="stable")
    capacity = upper[pairs][order]
    sorted_key = key[order]
    before = np.cumsum(capacity) - capacity
    group_start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group_of = np.cumsum(np.r_[False, sorted_key[1:] != sorted_key[:-1]])
    before -= before[group_start][group_of]
    wanted = energy_kwh.ravel()[sorted_key]
    flow[pairs[order]] = np.clip(wanted - before, 0.0, capacity)
    sessions = network.network_sessions
    drawn = np.bincount(network.pair_session, flow[pairs], energy_kwh.shape[0])[sessions]
    flow[network.need_arcs] = lower[network.need_arcs]
    flow[network.range_arcs] = np.clip(
        drawn - lower[network.need_arcs], 0.0, upper[network.range_arcs]
    )
    flow[network.total_arc] = lower[network.need_arcs].sum()
    limit = network.node_slot[network.tail] >= 0  # out of an EVSE or a node limit
    n_nodes = network.n_nodes
    for _ in range(n_nodes):
        inflow = np.bincount(network.head, flow, n_nodes)
        carried = np.minimum(inflow[network.tail[limit]], upper[limit])
        if np.array_equal(carried, flow[limit]):
            break
        flow[limit] = carried
    into_sink = network.head == SINK
    flow[(network.tail == SINK) & (network.head == SOURCE)] = flow[into_sink].sum()
    return flow
