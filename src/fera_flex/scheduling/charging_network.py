"""A charging problem as a flow network: the structure the ``flow`` backend solves.

With V1G sessions, linear (or convex piecewise-linear REGULAR) costs, power
boxes, energy ranges and tree-shaped (laminar) node and EVSE limits, a
charging problem is a min-cost flow. Flow is grid energy [kWh]:

- source ``S`` -> hub ``N`` (the total need; its lower bound carries a
  stage's total-shortfall bound), ``N`` -> session ``i`` (the need part of
  the energy range, in grid kWh: ``need / efficiency``), ``S`` -> ``i`` (the
  rest of the range);
- ``i`` -> the first binding limit of its slot ``t`` (a shared EVSE, a node,
  or none: the sink ``Z``), one arc per cost segment, capacity
  ``segment_kw * hours``;
- each binding (EVSE or node, slot) -> the next binding limit above it, or
  ``Z``, capacity ``room_kw * dt_h``;
- ``Z`` -> ``S`` closes the circulation;
- a (node, slot) with a target band is a limit node whose limit arc is
  followed by a band node and three parallel arcs up to the next limit: the
  load up to the band's low end, within the band, and above it. The TRACK
  stage prices the first at -1 and the last at +1 per kWh (least total
  deviation); other stages leave them free, or fix them (``bands="hard"``).

Only limits that can bind (the sessions below could draw more than the
room) become network nodes; the others are merged into the next one up,
which keeps the network small and lets sessions under no binding limit at
all be solved apart, exactly, by a greedy fill (:mod:`fera_flex.scheduling.greedy`).

The structure is exact only where every arc into a limit node carries the
power of a full slot (a partial first or last slot has energy weight
``presence < 1``: a generalized flow) and where the stage's total shortfall
is a plain sum of the need arcs (one charge efficiency for the sessions in
the network); :attr:`ChargingNetwork.refusal` says when it is not.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> network = ChargingNetwork.of(random_problem(30, seed=1, overload=2.0), ObjectiveOptions())
>>> network.refusal is None, bool(network.in_network.any())
(True, True)
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fera_flex.scheduling.objective import (
    ChargeSegments,
    ObjectiveOptions,
    charge_segments,
    money_unit_eur_per_kwh,
)
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.standard_form import Stage, StageGoal, capped_energy_range

__all__ = ["ChargingNetwork", "binding_limits", "non_flow_feature", "non_flow_features"]

SOURCE, HUB, SINK = 0, 1, 2
_FIXED_NODES = 3


@dataclass(frozen=True)
class ChargingNetwork:
    """The flow network of a charging problem (stage-independent part).

    Attributes
    ----------
    n_nodes : int
        Network nodes: ``S``, ``N``, ``Z``, the sessions in the network, the
        binding (EVSE, slot) and (node, slot) limits.
    tail, head : ndarray of int (arcs,)
        Arc ends.
    upper : ndarray (arcs,)
        Stage-independent capacities [grid kWh] (need, range and total arcs
        are set per stage).
    economic_cost : ndarray (arcs,)
        Cost per grid kWh [money unit] of the economic stage.
    total_arc : int
        The ``S -> N`` arc.
    need_arcs, range_arcs : ndarray of int
        The ``N -> i`` and ``S -> i`` arc of every session in the network
        (rows of ``network_sessions``).
    pair_arcs : ndarray of int
        Arcs of the (session, slot) cost segments, with ``pair_session``,
        ``pair_slot`` and ``pair_hours`` (energy per kW [h]).
    limit_arcs : ndarray of int
        Arcs of binding node limits, at ``(limit_node, limit_slot)``.
    node_slot : ndarray of int (n_nodes,)
        The slot of every EVSE, node-limit and band node; -1 for ``S``,
        ``N``, ``Z`` and the sessions.
    band_under_arcs, band_over_arcs : ndarray of int
        Per (node, slot) with a target band: the arcs that carry the load
        up to the band's low end and above its high end (a third arc, the
        band itself, lies between them; all three follow the node's limit
        arc): a deviation of ``low - under + over`` [kWh].
    network_sessions : ndarray of int
        Sessions in the network; the others (``~in_network``) are under no
        binding limit and solved apart.
    need_kwh, range_kwh : ndarray (n,)
        Capped energy range of every session: its need, and the extra it may take.
    segments : ChargeSegments
        Cost segments of all sessions.
    unit_eur_per_kwh : float
        The money unit of the costs.
    refusal : str or None
        Why the network is not exact for the problem, or None.
    """

    n_nodes: int
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    upper: NDArray[np.float64]
    economic_cost: NDArray[np.float64]
    total_arc: int
    need_arcs: NDArray[np.int64]
    range_arcs: NDArray[np.int64]
    pair_arcs: NDArray[np.int64]
    pair_session: NDArray[np.int64]
    pair_slot: NDArray[np.int64]
    pair_hours: NDArray[np.float64]
    limit_arcs: NDArray[np.int64]
    limit_node: NDArray[np.int64]
    limit_slot: NDArray[np.int64]
    node_slot: NDArray[np.int64]
    band_under_arcs: NDArray[np.int64]
    band_over_arcs: NDArray[np.int64]
    network_sessions: NDArray[np.int64]
    in_network: NDArray[np.bool_]
    need_kwh: NDArray[np.float64]
    range_kwh: NDArray[np.float64]
    segments: ChargeSegments
    unit_eur_per_kwh: float
    refusal: str | None

    @cached_property
    def signature(self) -> int:
        """A hash of the arcs: equal for networks a basis can be carried between."""
        return _signature(self)

    def stage_arrays(self, problem: ChargingProblem, stage: Stage, hard_bands: bool = False):
        """Lower and upper bounds and costs of every arc for one stage; the cost scale.

        Every need fixed (``needs_met``) or bounded below by a largest relative
        shortfall, a total-shortfall bound on the ``S -> N`` arc, cost -1 per
        kWh on the need arcs (MAX_ENERGY), -1 and +1 on the band arcs below
        and above the target bands (TRACK) or the charging costs divided by
        the cost scale (ECONOMIC); the other goals have no arc costs. With
        ``hard_bands`` every node load stays within its target band.
        """
        sessions = self.network_sessions
        efficiency = problem.charge_efficiency[sessions]
        need = self.need_kwh[sessions] / efficiency
        lower = np.zeros(self.tail.size)
        upper = self.upper.copy()
        cost = np.zeros(self.tail.size)
        upper[self.need_arcs] = need
        upper[self.range_arcs] = self.range_kwh[sessions] / efficiency
        upper[self.total_arc] = need.sum()
        if stage.needs_met:
            lower[self.need_arcs] = need
        elif stage.max_relative_shortfall is not None:
            lower[self.need_arcs] = (1.0 - min(max(stage.max_relative_shortfall, 0.0), 1.0)) * need
        if stage.total_unmet_kwh is not None and sessions.size:
            least = (self.need_kwh[sessions].sum() - stage.total_unmet_kwh) / efficiency[0]
            lower[self.total_arc] = min(max(least, 0.0), upper[self.total_arc])
        if hard_bands:
            lower[self.band_under_arcs] = upper[self.band_under_arcs]
            upper[self.band_over_arcs] = 0.0
        scale = 1.0
        if stage.goal is StageGoal.TRACK:
            cost[self.band_under_arcs] = -1.0
            cost[self.band_over_arcs] = 1.0
        elif stage.goal is StageGoal.MAX_ENERGY:
            cost[self.need_arcs] = -efficiency
        elif stage.goal is StageGoal.ECONOMIC:
            scale = float(np.max(np.abs(self.economic_cost), initial=0.0))
            scale = scale if 0 < scale < np.inf else 1.0
            cost = self.economic_cost / scale
        return lower, upper, cost, scale

    @classmethod
    def of(
        cls, problem: ChargingProblem, options: ObjectiveOptions, measured: ArrayLike = ()
    ) -> "ChargingNetwork":
        """Build the network of a (V1G) problem; see the module documentation.

        Every (node, slot) ``measured`` (node indices: all their slots, or an
        (m, T) mask) is a limit node whether its limit binds or not, so its
        limit arc carries the node's load in the slot (the flexibility
        oracles fix, price or move them).
        """
        need, top = capped_energy_range(problem)
        unit = money_unit_eur_per_kwh(problem, options)
        segments = charge_segments(problem, options, unit, need)
        dt_h = problem.grid.dt_h
        node_binds, evse_binds = binding_limits(problem)
        banded = np.isfinite(problem.node_target_min_kw) | np.isfinite(problem.node_target_max_kw)
        node_binds |= banded
        measured = np.asarray(measured)
        node_binds[measured if measured.dtype == bool else measured.astype(np.int64)] = True
        shared = problem.evse_of_session >= 0
        ancestors = problem.ancestors()

        def first_binding(start_node, slot):
            """Nearest node at or above ``start_node`` binding at ``slot`` (-1: none)."""
            found = np.full(start_node.shape, -1, dtype=np.int64)
            if not node_binds.any():  # no limit binds (the greedy path): no pass per level
                return found
            for level in range(ancestors.shape[1]):
                candidate = ancestors[start_node, level]
                hit = (found < 0) & (candidate >= 0)
                hit[hit] = node_binds[candidate[hit], slot[hit]]
                found[hit] = candidate[hit]
            return found

        # limit nodes, numbered after the sessions
        limit_k, limit_t = np.nonzero(node_binds)
        evse_e, evse_t = np.nonzero(evse_binds)
        pair_i, pair_t = segments.session, segments.slot
        leaf = problem.node_of_session
        via_evse = np.zeros(pair_i.shape, dtype=bool)
        if evse_binds.any():
            pair_evse = np.where(shared[pair_i], problem.evse_of_session[pair_i], -1)
            via_evse = pair_evse >= 0
            via_evse[via_evse] = evse_binds[pair_evse[via_evse], pair_t[via_evse]]
        pair_node = first_binding(leaf[pair_i], pair_t)
        coupled = via_evse | (pair_node >= 0)
        in_network = np.zeros(problem.n_sessions, dtype=bool)
        in_network[pair_i[coupled]] = True
        network_sessions = np.flatnonzero(in_network)
        session_node = np.full(problem.n_sessions, -1, dtype=np.int64)
        session_node[network_sessions] = _FIXED_NODES + np.arange(network_sessions.size)
        first_evse = _FIXED_NODES + network_sessions.size
        evse_node = np.full(evse_binds.shape, -1, dtype=np.int64)
        evse_node[evse_e, evse_t] = first_evse + np.arange(evse_e.size)
        first_limit = first_evse + evse_e.size
        limit_of = np.full(node_binds.shape, -1, dtype=np.int64)
        limit_of[limit_k, limit_t] = first_limit + np.arange(limit_k.size)
        is_band = banded[limit_k, limit_t]
        first_band = first_limit + limit_k.size
        band_node = np.full(limit_k.shape, -1, dtype=np.int64)
        band_node[is_band] = first_band + np.arange(int(is_band.sum()))
        n_nodes = first_band + int(is_band.sum())

        def node_or_sink(node, slot):
            return np.where(node >= 0, limit_of[np.maximum(node, 0), slot], SINK)

        # arcs: total, need, range, pair segments, EVSE limits, node limits, circulation
        tails, heads, uppers, costs = [], [], [], []

        def arcs(tail, head, upper, cost=0.0) -> NDArray[np.int64]:
            first = sum(t.size for t in tails)
            tail = np.asarray(tail, dtype=np.int64)
            tails.append(tail)
            heads.append(np.broadcast_to(np.asarray(head, dtype=np.int64), tail.shape))
            uppers.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), tail.shape))
            costs.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), tail.shape))
            return first + np.arange(tail.size)

        nodes = session_node[network_sessions]
        total_arc = int(arcs([SOURCE], HUB, 0.0)[0])
        need_arcs = arcs(np.full(nodes.size, HUB), nodes, 0.0)
        range_arcs = arcs(np.full(nodes.size, SOURCE), nodes, 0.0)
        seg_pair, seg_kw, seg_cost = segments.pieces(in_network)
        hours = problem.slot_energy_h[pair_i[seg_pair], pair_t[seg_pair]]
        target = node_or_sink(pair_node[seg_pair], pair_t[seg_pair])
        evse_first = via_evse[seg_pair]
        if evse_first.any():
            target[evse_first] = evse_node[
                pair_evse[seg_pair][evse_first], pair_t[seg_pair][evse_first]
            ]
        pair_arcs = arcs(session_node[pair_i[seg_pair]], target, seg_kw * hours, seg_cost)
        evse_up = first_binding(_evse_nodes(problem)[evse_e], evse_t)
        arcs(
            evse_node[evse_e, evse_t],
            node_or_sink(evse_up, evse_t),
            problem.evse_power_max_kw[evse_e, evse_t] * dt_h,
        )
        parent = problem.node_parent[limit_k]
        up = np.full(limit_k.shape, -1, dtype=np.int64)
        has_parent = parent >= 0
        up[has_parent] = first_binding(parent[has_parent], limit_t[has_parent])
        above = node_or_sink(up, limit_t)
        room = np.maximum(problem.node_ev_max_kw[limit_k, limit_t], 0.0) * dt_h
        limit_arcs = arcs(limit_of[limit_k, limit_t], np.where(is_band, band_node, above), room)
        band_k, band_t = limit_k[is_band], limit_t[is_band]
        low = np.clip(problem.node_target_min_kw[band_k, band_t] * dt_h, 0.0, room[is_band])
        high = np.clip(problem.node_target_max_kw[band_k, band_t] * dt_h, low, room[is_band])
        band_tail, band_head = band_node[is_band], above[is_band]
        band_under_arcs = arcs(band_tail, band_head, low)
        arcs(band_tail, band_head, high - low)
        band_over_arcs = arcs(band_tail, band_head, room[is_band] - high)
        arcs([SINK], SOURCE, np.inf)

        refusal = None
        into_limit = target != SINK
        partial = into_limit & (hours < dt_h * (1 - 1e-12))
        if partial.any():
            j = int(np.flatnonzero(partial)[0])
            refusal = (
                f"session {problem.session_ids[pair_i[seg_pair[j]]]!r} is plugged in for part "
                f"of slot {int(pair_t[seg_pair[j]])} where a shared limit binds "
                "(unequal energy weights: a generalized flow)"
            )
        node_slot = np.full(n_nodes, -1, dtype=np.int64)
        node_slot[evse_node[evse_e, evse_t]] = evse_t
        node_slot[limit_of[limit_k, limit_t]] = limit_t
        node_slot[band_node[is_band]] = band_t
        efficiency = problem.charge_efficiency[network_sessions]
        if efficiency.size and np.ptp(efficiency) > 0:
            refusal = "charge efficiencies differ between sessions under a binding shared limit"
        return cls(
            n_nodes=n_nodes,
            tail=np.concatenate(tails),
            head=np.concatenate(heads),
            upper=np.concatenate(uppers),
            economic_cost=np.concatenate(costs),
            total_arc=total_arc,
            need_arcs=need_arcs,
            range_arcs=range_arcs,
            pair_arcs=pair_arcs,
            pair_session=pair_i[seg_pair],
            pair_slot=pair_t[seg_pair],
            pair_hours=hours,
            limit_arcs=limit_arcs,
            limit_node=limit_k,
            limit_slot=limit_t,
            node_slot=node_slot,
            band_under_arcs=band_under_arcs,
            band_over_arcs=band_over_arcs,
            network_sessions=network_sessions,
            in_network=in_network,
            need_kwh=need,
            range_kwh=np.maximum(top - need, 0.0),
            segments=segments,
            unit_eur_per_kwh=unit,
            refusal=refusal,
        )


def binding_limits(problem: ChargingProblem) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Where a limit can bind: (node, slot) (m, T) and (shared EVSE, slot).

    A limit can bind where the sessions below it could draw more than its
    room if each drew its own power limit.
    """
    power = problem.power_max_kw
    node_binds = problem.node_loads_kw(power) > problem.node_ev_max_kw
    evse_binds = np.zeros((len(problem.evse_ids), problem.n_slots), dtype=bool)
    if (problem.evse_of_session >= 0).any():
        evse_binds = problem.evse_loads_kw(power) > problem.evse_power_max_kw
    return node_binds, evse_binds


def non_flow_feature(problem: ChargingProblem) -> str | None:
    """The first feature of a problem that no flow network can pose, or None."""
    present = (
        name
        for name, sessions, nodes in non_flow_features(problem)
        if sessions.any() or nodes.any()
    )
    return next(present, None)


def non_flow_features(problem: ChargingProblem) -> list[tuple[str, NDArray, NDArray]]:
    """Each feature no flow network can pose: its name, the sessions (n,) and nodes (m,) with it."""
    no_session = np.zeros(problem.n_sessions, dtype=bool)
    no_node = np.zeros(problem.n_nodes, dtype=bool)
    return [
        ("V2G discharge", (problem.discharge_max_kw > 0).any(axis=1), no_node),
        ("minimum charging rates (a MILP)", problem.power_min_kw > 0, no_node),
        (
            "per-phase current limits",
            no_session,
            np.isfinite(problem.phase_current_max_a).any(axis=1),
        ),
        ("power curves (battery-level rows)", np.isfinite(problem.curve_a_kw).any(axis=1), no_node),
        ("node lower bounds above 0 kW", no_session, (problem.node_ev_min_kw > 0).any(axis=1)),
    ]


def _signature(network: "ChargingNetwork") -> int:
    return hash((network.n_nodes, network.tail.tobytes(), network.head.tobytes()))


def _evse_nodes(problem: ChargingProblem) -> NDArray[np.int64]:
    """The node of every shared EVSE (the node of its sessions, which share it)."""
    shared = np.flatnonzero(problem.evse_of_session >= 0)
    node = np.zeros(len(problem.evse_ids), dtype=np.int64)
    node[problem.evse_of_session[shared]] = problem.node_of_session[shared]
    return node
