"""Min-cost flow when costs are paid only on the way into the sink: augmenting paths, exactly.

The problem is the one of :func:`fera_flex.network.min_cost_flow` posed as a
circulation through one *return arc* ``sink -> source``, with this cost
structure: there are node offsets ``offset`` such that every arc's reduced
cost ``r = cost + offset[tail] - offset[head]`` is 0, except on the arcs into
the sink (*exits*, ``r`` is the exit's *price*) and on the return arc. A
charging network with one price per slot for every session has it: an arc
into slot ``t`` costs ``price[t]``, one out of it ``-price[t]``, so every
path from the source to the sink costs the price of the slot it leaves by.

Then the cost of a path is the price of its exit, and successive shortest
paths need no shortest-path search:

1. the supply that the lower bounds force (shifted away as node excesses)
   is sent to the sink with the exits opened one price at a time, cheapest
   first, each time until no augmenting path is left (Dinic's method,
   :func:`fera_flex.network._augment.route`); the zero flow has no cycle, so
   every augmentation is along a shortest path and the result is a
   min-cost flow for that supply;
2. more flow is sent from the source along exits whose price plus the
   return arc's is negative, again cheapest first (a further source of
   successive shortest paths);
3. the potentials are the shortest distances to the sink in the final
   residual graph: every node's distance is the price of the cheapest exit
   it can still reach (:func:`fera_flex.network._augment.labels`), so the
   reduced costs certify optimality as the network simplex's do.

The work is that of a max flow per distinct exit price, against a network
simplex whose pivots each walk a spanning tree: at 10,000 charging sessions
the difference is one to two orders of magnitude (``benchmarks/flow.py``).
Arcs whose bounds are equal may carry any cost (their flow is fixed). Other
cost structures are refused (:func:`exit_priced_flow` returns None).

Examples
--------
Two units forced from the source 0 to node 1, then over two slots (nodes 2
and 3, capacities 1 and 5) into the sink 4 at prices 2 and 3; arc 5 is the
return arc and the offsets are all 0 (the arc costs are the prices):

>>> import numpy as np
>>> solution = exit_priced_flow(
...     tail=[0, 1, 1, 2, 3, 4], head=[1, 2, 3, 4, 4, 0], lower=[2, 0, 0, 0, 0, 0],
...     upper=[2, 1, 5, 5, 5, np.inf], cost=[0, 0, 0, 2, 3, 0], offset=np.zeros(5),
...     source=0, sink=4)
>>> solution.status, solution.flow.tolist(), solution.objective
('optimal', [2.0, 1.0, 1.0, 1.0, 1.0, 2.0], 5.0)
>>> solution.potential.tolist()  # minus each node's price of one more unit out
[0.0, -3.0, -2.0, -3.0, 0.0]
"""

import numpy as np
from numpy.typing import ArrayLike

from fera_flex._jit import jit
from fera_flex.network import _augment
from fera_flex.network.mincost import COST_RTOL, FLOW_RTOL, FlowSolution

__all__ = ["exit_priced_flow", "is_exit_priced"]

_NO_BASIS = (np.zeros(0, np.int64), np.zeros(0, np.int8))


def is_exit_priced(tail, head, cost, offset, free) -> bool:
    """Whether ``offset`` makes the reduced cost of every ``free`` arc 0 (to the cost tolerance).

    ``free`` marks the arcs that are neither exits, nor the return arc, nor
    fixed by their bounds: those whose cost an exit-priced flow needs to be
    an offset difference.
    """
    cost = np.asarray(cost, dtype=np.float64)
    return _priced(cost + offset[tail] - offset[head], free, _cost_tolerance(cost))


def _priced(reduced, free, tolerance: float) -> bool:
    """Whether every ``free`` arc's ``reduced`` cost is 0 to ``tolerance``."""
    largest = np.max(np.abs(reduced), where=free, initial=0.0)
    return bool(largest <= tolerance)  # a NaN is not 0: its max is NaN


def _cost_tolerance(cost, rtol: float = COST_RTOL) -> float:
    largest = max(float(np.max(cost, initial=0.0)), -float(np.min(cost, initial=0.0)))
    return rtol * max(largest, 1e-300)


@jit
def _arcs(tail, head, lower, upper, cost, offset, implied, source, sink, flow_rtol, cost_rtol):
    """The arcs as the solve needs them, or ``(False, ...)`` when the flow is not exit-priced.

    Returns ``(ok, back, reduced, forced, cap, exits, tol, scale, cost_tol, excess)``:
    the return arc, the reduced costs, the lower bounds the flow is solved
    with (``implied`` where higher), the capacities above them, the exits,
    the flow and cost tolerances, and every node's forced excess. One pass
    (two for the excess) instead of some forty numpy calls: the flexibility
    oracles solve tens of thousands of small networks. :func:`_arcs_reference`
    is its numpy twin.
    """
    n, m = offset.size, tail.size
    back, returns = -1, 0
    scale, largest, nan_cost = 0.0, 0.0, False
    for a in range(m):
        if tail[a] == sink and head[a] == source:
            back, returns = a, returns + 1
        if np.isfinite(upper[a]):
            scale = max(scale, upper[a] - lower[a])
        c = cost[a]
        if c != c:
            nan_cost = True
        else:
            largest = max(largest, c, -c)
    empty = np.zeros(0)
    no = (False, -1, empty, empty, empty, np.zeros(0, np.bool_), 0.0, 0.0, 0.0, empty)
    if nan_cost or returns != 1 or lower[back] != 0.0 or upper[back] != np.inf:
        return no  # (a NaN cost makes the cost tolerance NaN: no arc is priced)
    scale = max(scale, 1e-300)
    tol = flow_rtol * scale
    cost_tol = cost_rtol * max(largest, 1e-300)
    reduced, forced, cap = np.empty(m), np.empty(m), np.empty(m)
    exits = np.zeros(m, np.bool_)
    inflow, outflow = np.zeros(n), np.zeros(n)
    for a in range(m):
        r = cost[a] + offset[tail[a]] - offset[head[a]]
        reduced[a] = r
        f = max(lower[a], implied[a])
        forced[a] = f
        fixed = a == back or upper[a] - lower[a] <= tol
        c = 0.0 if a == back else upper[a] - f
        cap[a] = c
        exits[a] = head[a] == sink and c > tol
        if not (fixed or exits[a]) and not abs(r) <= cost_tol:  # a free arc with a cost
            return no
        if head[a] == source and not fixed:
            return no
        if f != 0.0:
            inflow[head[a]] += f
            outflow[tail[a]] += f
    excess = inflow - outflow
    excess[source] = excess[sink] = 0.0
    for v in range(n):
        if excess[v] < -tol * max(n, 1):
            return no
    return (True, back, reduced, forced, cap, exits, tol, scale, cost_tol, np.maximum(excess, 0.0))


def _arcs_reference(
    tail, head, lower, upper, cost, offset, implied, source, sink, flow_rtol, cost_rtol
):
    """:func:`_arcs` in numpy."""
    n = offset.size
    empty = np.zeros(0)
    no = (False, -1, empty, empty, empty, np.zeros(0, bool), 0.0, 0.0, 0.0, empty)
    back = np.flatnonzero((tail == sink) & (head == source))
    if back.size != 1 or lower[back[0]] != 0.0 or upper[back[0]] != np.inf:
        return no
    back = int(back[0])
    reduced = cost + offset[tail] - offset[head]
    forced = np.maximum(lower, implied)
    # flows are measured against the capacities; a bound that only fixes a flow (a total
    # forced through one arc) does not set the scale
    finite = np.isfinite(upper)
    scale = max(float(np.max(upper - lower, where=finite, initial=0.0)), 1e-300)
    tol = flow_rtol * scale
    fixed = upper - lower <= tol
    fixed[back] = True
    cap = upper - forced
    cap[back] = 0.0  # the return arc carries the flow value; it is no path's part
    exits = (head == sink) & (cap > tol)
    free = ~(fixed | exits)
    cost_tol = _cost_tolerance(cost, cost_rtol)
    if not _priced(reduced, free, cost_tol) or np.any((head == source) & ~fixed):
        return no
    pushed = np.flatnonzero(forced)  # the arcs that carry forced flow (the need arcs, mostly)
    excess = np.bincount(head[pushed], forced[pushed], n) - np.bincount(
        tail[pushed], forced[pushed], n
    )
    excess[source] = excess[sink] = 0.0
    if np.any(excess < -tol * max(n, 1)):
        return no
    return (True, back, reduced, forced, cap, exits, tol, scale, cost_tol, np.maximum(excess, 0.0))


def exit_priced_flow(
    tail: ArrayLike,
    head: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    cost: ArrayLike,
    offset: ArrayLike,
    source: int,
    sink: int,
    *,
    implied_lower: ArrayLike | None = None,
    graph: _augment.ResidualGraph | None = None,
) -> FlowSolution | None:
    """Solve an exit-priced min-cost circulation (see the module); None when it is not one.

    Parameters
    ----------
    tail, head, lower, upper, cost : arrays (m,)
        As for :func:`fera_flex.network.min_cost_flow`, with every node's
        supply 0; exactly one arc runs ``sink -> source`` (the return arc,
        lower bound 0, upper bound ``inf``).
    offset : array (n,)
        Node offsets making the reduced costs 0 off the exits and the return arc.
    source, sink : int
    implied_lower : array (m,), optional
        Lower bounds that ``lower`` implies, at least ``lower``: a total
        arc's bound raised to the sum of the forced flows through it, which
        spares a node that must receive flow. The flow is solved with them;
        the potentials answer to ``lower``.
    graph : ResidualGraph, optional
        :func:`fera_flex.network._augment.residual_csr` of ``tail`` and
        ``head``, when the caller keeps it between solves.

    Returns
    -------
    FlowSolution or None
        ``pivots`` counts augmenting paths; there is no basis to warm-start
        from. None when the costs are not exit-priced by ``offset``, a lower
        bound forces flow into a node other than the sink, an arc enters the
        source, or the return arc is missing.
    """
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    head = np.ascontiguousarray(head, dtype=np.int64)
    lower = np.ascontiguousarray(lower, dtype=np.float64)
    upper = np.ascontiguousarray(upper, dtype=np.float64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    implied = lower if implied_lower is None else np.ascontiguousarray(implied_lower, np.float64)
    n, m = offset.size, tail.size
    arcs = _arcs(
        tail, head, lower, upper, cost, offset, implied, source, sink, FLOW_RTOL, COST_RTOL
    )
    if not arcs[0]:
        return None
    _, back, reduced, forced, cap, exits, tol, scale, cost_tol, excess = arcs

    graph = graph or _augment.residual_csr(n, tail, head)
    forward, backward = graph.forward, graph.backward
    with graph.residuals() as (res, rev):  # rev: the mates' residuals (the kernels')

        def put(arcs, values, direction=forward, mates=backward):
            """Set the residuals of ``arcs``' entries in ``direction`` (and their mates' rev)."""
            res[direction[arcs]] = values
            rev[mates[arcs]] = values

        every = slice(None)
        put(every, np.where(exits, 0.0, cap))  # exits open one price at a time
        exit_arcs = np.flatnonzero(exits)
        exit_price = reduced[exit_arcs]
        # the exits by price, cheapest first (group g: a slice of by_price)
        by_price = np.argsort(exit_price, kind="stable")
        ordered = exit_price[by_price]
        cuts = np.flatnonzero(np.diff(ordered)) + 1
        bounds = np.concatenate([[0], cuts, [ordered.size]]) if ordered.size else np.zeros(1, int)
        prices = ordered[bounds[:-1]]

        def group(g):
            return exit_arcs[by_price[bounds[g] : bounds[g + 1]]]

        def open_exits(arcs):
            put(arcs, cap[arcs] - res[backward[arcs]])

        def send():
            return _augment.route(graph.start, graph.to, graph.mate, res, rev, excess, sink, tol)[1]

        paths = 0
        for g in range(prices.size):  # 1. the forced supply, cheapest exits first
            if excess.sum() <= tol:
                break
            open_exits(group(g))
            paths += send()
        if excess.sum() > max(1e-9 * scale, tol * n):
            flow = forced + res[backward]
            return FlowSolution("infeasible", flow, np.zeros(n), np.nan, paths, _NO_BASIS)
        put(exit_arcs, 0.0)
        bound = float(cap[exit_arcs].sum())
        profitable = np.flatnonzero(prices + reduced[back] < -cost_tol)
        if profitable.size and not np.isfinite(bound):
            return FlowSolution(
                "unbounded", np.full(m, np.nan), np.zeros(n), np.nan, paths, _NO_BASIS
            )
        for g in profitable:  # 2. profitable extra flow, cheapest exits first
            open_exits(group(g))
            excess[source] = bound
            paths += send()
        open_exits(exit_arcs)
        raised = np.flatnonzero(forced != lower)  # the residual graph of the given bounds
        gained = res[backward[raised]] + forced[raised] - lower[raised]
        put(raised, gained, backward, forward)
        into_sink = np.flatnonzero(head == sink)
        put(back, float((lower[into_sink] + res[backward[into_sink]]).sum()), backward, forward)
        put(back, np.inf)
        seed_node, seed_price = _seeds(
            tail, res, graph, exit_arcs, exit_price, back, source, reduced, tol
        )
        label = _augment.labels(
            graph.start, graph.to, graph.mate, rev, seed_node, seed_price, sink, tol
        )
        highest = max(float(np.nanmax(label, initial=0.0)), -float(reduced[back]))
        potential = offset - offset[sink] - np.where(np.isnan(label), highest, label)
        flow = lower + res[backward]
        return FlowSolution("optimal", flow, potential, float(cost @ flow), int(paths), _NO_BASIS)


def _seeds(tail, res, graph, exit_arcs, exit_price, back, source, reduced, tol):
    """Where a unit can still leave, at what price, cheapest first: open exits and the source.

    The shortest distance of a node to the sink is the price of the first
    seed it reaches; the potentials are minus those distances (shifted by the
    offsets), and a node that reaches none gets the highest price, which
    keeps every reduced cost of the residual graph non-negative.
    """
    open_exit = res[graph.forward[exit_arcs]] > tol
    seed_node = [tail[exit_arcs[open_exit]]]
    seed_price = [exit_price[open_exit]]
    if res[graph.backward[back]] > tol:  # the source can send less, at minus the return price
        seed_node.append(np.array([source]))
        seed_price.append(np.array([-reduced[back]]))
    seed_node, seed_price = np.concatenate(seed_node), np.concatenate(seed_price)
    order = np.argsort(seed_price, kind="stable")
    return seed_node[order], seed_price[order]
