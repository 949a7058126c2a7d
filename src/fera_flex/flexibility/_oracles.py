"""The three ways :class:`~fera_flex.flexibility.aggregate.NodeFlexibility` answers (private).

Every oracle works in grid energy per slot [kWh] and has

- ``extreme(mask, maximise)``: ``b`` (most) or ``p`` (least) of the slot set;
- ``optimise(price)``: the energy profile of least ``price @ x`` in the set;
- ``within(lower, upper)``: whether some ``x`` of the set has
  ``lower <= x <= upper`` in every slot (bounds may be infinite): membership
  with ``lower = upper``, and the dominance tests of deliverable offers.

An empty set (needs that cannot all be met under the node's own limits)
raises :class:`EmptyFlexibilityError`.
"""

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from fera_flex._jit import jit
from fera_flex.errors import FeraFlexError
from fera_flex.network import min_cost_flow
from fera_flex.network._augment import residual_csr
from fera_flex.network.exit_priced import exit_priced_flow
from fera_flex.scheduling.backends.highs import solve_lp
from fera_flex.scheduling.charging_network import SINK, SOURCE, ChargingNetwork
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.solver import SolverOptions, SolveStatus
from fera_flex.scheduling.standard_form import Stage, StageGoal, build_lp

__all__ = ["BoxOracle", "EmptyFlexibilityError", "FlowOracle", "LPOracle"]


LP_DEVIATION_KWH = 1e-7
"""Deviation per slot [kWh] up to which the LP oracle counts a band as met (row tolerance)."""


class EmptyFlexibilityError(FeraFlexError):
    """The needs under a node cannot all be met within its own limits: its set is empty."""


class BoxOracle:
    """Closed form for sessions under no binding limit: grouped boxes and energy ranges.

    Parameters
    ----------
    box_kwh : ndarray (n, T)
        Most grid energy per session and slot (0 outside the stay).
    low_kwh, high_kwh : ndarray (n,)
        Each session's grid energy range.
    """

    def __init__(
        self, box_kwh: NDArray, low_kwh: NDArray, high_kwh: NDArray, problem: ChargingProblem
    ) -> None:
        self._problem = problem
        self._flow: FlowOracle | None = None
        boxes, group = _group_rows(box_kwh)
        self.groups = boxes  # (G, T)
        self._total = boxes.sum(axis=1)
        order = np.lexsort((high_kwh, group))
        self._offsets = np.searchsorted(group[order], np.arange(boxes.shape[0] + 1))
        self._high_sorted = high_kwh[order]
        self._high_prefix = _prefix(self._high_sorted)
        order = np.lexsort((low_kwh, group))
        self._low_sorted = low_kwh[order]
        self._low_prefix = _prefix(self._low_sorted)

    def extreme(self, mask: NDArray, maximise: bool) -> float:
        within = self.groups @ mask.astype(np.float64)
        return self._value(within, maximise)

    def _value(self, within: NDArray, maximise: bool) -> float:
        if maximise:  # sum over members of min(box(A), high)
            return float(_sum_min(self._offsets, self._high_sorted, self._high_prefix, within))
        outside = self._total - within  # sum of max(0, low - box(W \\ A))
        return float(_sum_excess(self._offsets, self._low_sorted, self._low_prefix, outside))

    def optimise(self, price: NDArray) -> NDArray[np.float64]:
        """The greedy on the lifted base polyhedron: slots by price, the extra element at 0."""
        n_slots = price.size
        order = np.argsort(price, kind="stable")
        x = np.zeros(n_slots)
        within = np.zeros(self.groups.shape[0])
        value = 0.0  # b*(S) of the slots taken so far
        lifted = False
        for slot in order:
            if not lifted and price[slot] >= 0:  # the extra element: now b*(S) = -p(T \ S)
                lifted = True
                value = -self._p_outside(within)
            within = within + self.groups[:, slot]
            new = -self._p_outside(within) if lifted else self._value(within, True)
            x[slot] = new - value
            value = new
        return x

    def _p_outside(self, within: NDArray) -> float:
        """``p`` of the complement of the slot set whose group boxes are ``within``."""
        return self._value(self._total - within, maximise=False)

    def within(self, lower: NDArray, upper: NDArray) -> bool:
        """Bounds on every slot at once: a feasibility flow (built on first use)."""
        if self._flow is None:
            self._flow = FlowOracle(self._problem)
        return self._flow.within(lower, upper)


class FlowOracle:
    """Min-cost flows on the subtree's network, the root's arc per slot measured."""

    def __init__(self, problem: ChargingProblem) -> None:
        network = ChargingNetwork.of(problem, ObjectiveOptions(), measured=[0])
        self._network = network
        every_need = Stage(StageGoal.ECONOMIC, needs_met=True)
        self._lower, self._upper, _, _ = network.stage_arrays(problem, every_need)
        # the fixed need arcs already fix the total: leave the total arc free, so that its
        # bound (the fleet's whole need) does not set the flow tolerance (1e-12 of the largest)
        self._lower[network.total_arc], self._upper[network.total_arc] = 0.0, np.inf
        root = network.limit_node == 0
        self._root_arcs = np.full(problem.n_slots, -1, dtype=np.int64)
        self._root_arcs[network.limit_slot[root]] = network.limit_arcs[root]
        self._node_id = problem.node_ids[0]
        self._last = None
        # costs on the root's arcs into the sink only: b, p and optimise are exit-priced
        # flows (fera_flex.network.exit_priced), the total forced by the fixed needs
        self._implied_lower = self._lower.copy()
        self._implied_lower[network.total_arc] = self._lower[network.need_arcs].sum()
        self._graph = residual_csr(network.n_nodes, network.tail, network.head)
        self._split = None  # the network with each root arc split in two (``within``)

    def _solve(self, root_cost, lower=None, upper=None):
        cost = np.zeros(self._network.tail.size)
        cost[self._root_arcs] = root_cost
        lower = self._lower if lower is None else lower
        upper = self._upper if upper is None else upper
        network = self._network
        if lower is self._lower and upper is self._upper:
            solution = self._by_paths(
                network.tail, network.head, lower, upper, cost, self._implied_lower, self._graph
            )
            if solution is not None:
                return solution
        supply = np.zeros(network.n_nodes)
        solution = min_cost_flow(
            network.tail, network.head, lower, upper, cost, supply, warm_start=self._last
        )
        if solution.status == "optimal":  # the next question starts from this basis
            self._last = solution
        return solution

    def _by_paths(self, tail, head, lower, upper, cost, implied, graph):
        """An exit-priced flow from the source to the sink (None: not one)."""
        offset = np.zeros(self._network.n_nodes)
        return exit_priced_flow(
            tail, head, lower, upper, cost, offset, SOURCE, SINK, implied_lower=implied, graph=graph
        )

    def _checked(self, solution):
        if solution.status == "infeasible":
            raise EmptyFlexibilityError(
                f"node {self._node_id!r}: the needs under it cannot all be met within its limits"
            )
        if solution.status != "optimal":
            raise FeraFlexError(f"node {self._node_id!r}: flow oracle ended {solution.status}")
        return solution

    def extreme(self, mask: NDArray, maximise: bool) -> float:
        sign = -1.0 if maximise else 1.0
        solution = self._checked(self._solve(sign * mask.astype(np.float64)))
        return float(solution.flow[self._root_arcs][mask].sum())

    def optimise(self, price: NDArray) -> NDArray[np.float64]:
        return self._checked(self._solve(price)).flow[self._root_arcs]

    def within(self, lower: NDArray, upper: NDArray) -> bool:
        low = np.maximum(lower, 0.0)
        high = np.minimum(upper, self._upper[self._root_arcs])
        if (low > high).any():
            return False
        found = self._within_by_paths(low, high)
        if found is not None:
            return found
        arc_lower, arc_upper = self._lower.copy(), self._upper.copy()
        arc_lower[self._root_arcs], arc_upper[self._root_arcs] = low, high
        return self._solve(0.0, arc_lower, arc_upper).status == "optimal"

    def _within_by_paths(self, low: NDArray, high: NDArray) -> bool | None:
        """``within`` as one exit-priced flow (None: not one, use the simplex).

        Each root arc into the sink is split in two exits: up to ``low`` at
        price -1, the rest up to ``high`` at 0. The flow of least cost fills
        the first parts as far as the set allows, so the bounds hold for some
        member exactly when it fills them all; a close call (within 1e3 times
        1e-9 of the total need) is left to the network simplex.
        """
        network = self._network
        if self._split is None:
            tail = np.concatenate([network.tail, network.tail[self._root_arcs]])
            head = np.concatenate([network.head, network.head[self._root_arcs]])
            graph = residual_csr(network.n_nodes, tail, head)
            self._split = (tail, head, np.arange(network.tail.size, tail.size), graph)
        tail, head, first_parts, graph = self._split
        lower = np.concatenate([self._lower, np.zeros(first_parts.size)])
        implied = np.concatenate([self._implied_lower, np.zeros(first_parts.size)])
        upper = np.concatenate([self._upper, low])
        upper[self._root_arcs] = high - low
        cost = np.zeros(tail.size)
        cost[first_parts] = -1.0
        solution = self._by_paths(tail, head, lower, upper, cost, implied, graph)
        if solution is None:
            return None
        if solution.status != "optimal":  # short by more than the paths' tolerance
            return False
        # the paths route to 1e-9 of the largest capacity, which can be far above the energy
        # at stake (a root room of 5,000 kWh, needs of 40): a close call goes to the simplex
        close = 1e-9 * max(1.0, float(implied[network.total_arc]))
        flow = solution.flow
        unrouted = np.abs(
            np.bincount(head, flow, network.n_nodes) - np.bincount(tail, flow, network.n_nodes)
        )
        short = float(np.max(low - flow[first_parts], initial=0.0))
        if unrouted.max(initial=0.0) <= close and short <= close:
            return True
        if short > 1e3 * close:
            return False
        return None


class LPOracle:
    """The same questions as LPs/MILPs of the standard form (every need met), by HiGHS."""

    def __init__(self, problem: ChargingProblem) -> None:
        self._problem = problem
        self._options = ObjectiveOptions()
        self._lp = build_lp(problem, self._options, Stage(StageGoal.ECONOMIC, needs_met=True))
        lp = self._lp
        charge_slot = lp.charge_pairs[1]
        # slot and sign of every power column in the root's load
        self._slot = np.full(lp.n_cols, -1, dtype=np.int64)
        self._sign = np.zeros(lp.n_cols)
        for name, slots, sign in (
            ("charge", charge_slot, 1.0),
            ("charge_above_flat", charge_slot[lp.above_flat_pairs], 1.0),
            ("discharge", lp.discharge_pairs[1], -1.0),
        ):
            cols = np.arange(lp.n_cols)[lp.columns[name]]
            self._slot[cols] = slots
            self._sign[cols] = sign

    def _solve(self, slot_cost: NDArray):
        """Least ``slot_cost @ x`` with x the root's grid energy per slot; x."""
        lp = self._lp
        dt_h = self._problem.grid.dt_h
        on = self._slot >= 0
        cost = np.zeros(lp.n_cols)
        cost[on] = slot_cost[self._slot[on]] * self._sign[on] * dt_h
        solution = solve_lp(replace(lp, cost=cost, offset=0.0), SolverOptions())
        if solution.status is SolveStatus.INFEASIBLE:
            raise EmptyFlexibilityError(
                f"node {self._problem.node_ids[0]!r}: the needs under it cannot all be met"
            )
        if solution.status is not SolveStatus.OPTIMAL:
            raise FeraFlexError(f"LP oracle ended {solution.status.value}: {solution.message}")
        x = np.zeros(self._problem.n_slots)
        np.add.at(x, self._slot[on], solution.x[on] * self._sign[on] * dt_h)
        return x

    def extreme(self, mask: NDArray, maximise: bool) -> float:
        sign = -1.0 if maximise else 1.0
        return float(self._solve(sign * mask.astype(np.float64))[mask].sum())

    def optimise(self, price: NDArray) -> NDArray[np.float64]:
        return self._solve(price)

    def within(self, lower: NDArray, upper: NDArray) -> bool:
        """Whether the least deviation from the band (a TRACK stage at the root) is 0."""
        problem = self._problem
        dt_h = problem.grid.dt_h
        low = np.full((problem.n_nodes, problem.n_slots), -np.inf)
        high = np.full_like(low, np.inf)
        low[0], high[0] = lower / dt_h, upper / dt_h
        banded = problem.replace(node_target_min_kw=low, node_target_max_kw=high)
        lp = build_lp(banded, self._options, Stage(StageGoal.TRACK, needs_met=True))
        solution = solve_lp(lp, SolverOptions())
        if solution.status is not SolveStatus.OPTIMAL:
            return False
        return bool(solution.objective <= LP_DEVIATION_KWH * problem.n_slots)


@jit
def _sum_min(offsets, values, prefix, cap):
    """Per group g: sum over its sorted values v of min(cap[g], v); summed over groups."""
    total = 0.0
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        c = cap[g]
        k = lo + np.searchsorted(values[lo:hi], c)  # values below c count whole
        below = prefix[k] - prefix[lo]
        total += below + c * (hi - k)
    return total


@jit
def _sum_excess(offsets, values, prefix, floor):
    """Per group g: sum over its sorted values v of max(0, v - floor[g]); summed over groups."""
    total = 0.0
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        f = floor[g]
        k = lo + np.searchsorted(values[lo:hi], f, side="right")
        above = prefix[hi] - prefix[k]
        total += above - f * (hi - k)
    return total


def _group_rows(rows: NDArray) -> tuple[NDArray, NDArray[np.int64]]:
    """Distinct rows and each row's group: by two random projections, checked exactly.

    Sorting 1-D keys is far faster than ``np.unique(axis=0)`` (0.1 s against
    4.9 s for 100,000 x 96); should two distinct rows share both keys, the
    check finds it and the exact (slow) grouping runs instead.
    """
    weights = np.random.default_rng(20261202).uniform(0.5, 1.5, (rows.shape[1], 2))
    keys = rows @ weights
    _, first, group = np.unique(
        keys[:, 0] + 1j * keys[:, 1], return_index=True, return_inverse=True
    )
    group = group.ravel()
    boxes = rows[first]
    if not np.array_equal(boxes[group], rows):
        boxes, group = np.unique(rows, axis=0, return_inverse=True)
    return boxes, group.ravel()


def _prefix(values: NDArray) -> NDArray[np.float64]:
    """``prefix[j]``: the sum of ``values[:j]`` (differences give any group's partial sums)."""
    prefix = np.zeros(values.size + 1)
    np.cumsum(values, out=prefix[1:])
    return prefix
