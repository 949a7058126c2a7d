"""A plain-Python network simplex, the twin of :mod:`fera_flex.network._simplex` (private).

Same method (big-M artificial start, strongly feasible trees by
Cunningham's leaving rule), written for clarity: the tree is a set of arcs,
potentials and the cycle come from a fresh breadth-first search of the tree
at every pivot, and the entering arc is the most violated one over all arcs
(Dantzig). Quadratic and slow; the tests compare the kernel with it on
small random networks.
"""

from collections import deque

import numpy as np

from fera_flex.network._simplex import _LOWER, _TREE, _UPPER, INFEASIBLE, OPTIMAL, UNBOUNDED


def network_simplex(
    tail,
    head,
    cap,
    cost,
    supply,
    big_m,
    cost_tol,
    flow_tol,
    max_pivots=None,
    start_tree=None,
    start_state=None,
):
    """Same contract as the kernel; the pivot limit and the warm start are ignored.

    Returns
    -------
    (status, flow, potential, pivots)
    """
    n, m = len(supply), len(tail)
    root = n
    src, dst = list(tail), list(head)
    upper, price = list(cap), list(cost)
    flow = [0.0] * m
    tree = set()
    for v in range(n):
        if supply[v] >= 0:
            src.append(v), dst.append(root), flow.append(float(supply[v]))
        else:
            src.append(root), dst.append(v), flow.append(float(-supply[v]))
        upper.append(np.inf), price.append(big_m)
        tree.add(m + v)
    pivots = 0
    while True:
        parent, parent_arc, potential = _tree_search(n, src, dst, price, tree)
        entering, best = -1, cost_tol
        for a in range(m):
            if a in tree or upper[a] <= 0:
                continue
            reduced = price[a] + potential[src[a]] - potential[dst[a]]
            violation = -reduced if flow[a] <= 0 else reduced  # at lower / at upper
            if violation > best:
                entering, best = a, violation
        if entering < 0:
            break
        pivots += 1
        at_lower = flow[entering] <= 0
        first, second = (
            (src[entering], dst[entering]) if at_lower else (dst[entering], src[entering])
        )
        up_first = _path_to_root(first, parent)
        up_second = _path_to_root(second, parent)
        apex = next(v for v in up_first if v in set(up_second))
        # cycle in orientation from the apex: apex -> first (down), entering, second -> apex (up)
        down = list(reversed(up_first[: up_first.index(apex)]))
        up = up_second[: up_second.index(apex)]
        cycle = [(parent_arc[v], dst[parent_arc[v]] == v) for v in down]
        cycle.append((entering, at_lower))
        cycle += [(parent_arc[v], src[parent_arc[v]] == v) for v in up]
        residuals = [
            np.inf
            if forward and upper[a] == np.inf
            else (upper[a] - flow[a] if forward else flow[a])
            for a, forward in cycle
        ]
        delta = min(residuals)
        if delta == np.inf:
            return UNBOUNDED, np.full(m, np.nan), np.zeros(n), pivots, *_basis(n, m, tree, flow, {})
        leave = max(k for k, r in enumerate(residuals) if r <= delta)
        if delta < flow_tol:
            delta = 0.0
        for a, forward in cycle:
            flow[a] += delta if forward else -delta
        leaving, forward = cycle[leave]
        flow[leaving] = upper[leaving] if forward else 0.0
        if leaving != entering:
            tree.discard(leaving)
            tree.add(entering)
    status = OPTIMAL
    if any(flow[a] > flow_tol for a in range(m, m + n)):
        status = INFEASIBLE
    potentials = np.array([potential[v] for v in range(n)])
    return status, np.array(flow[:m]), potentials, pivots, *_basis(n, m, tree, flow, parent_arc)


def _basis(n, m, tree, flow, parent_arc):
    """Each node's tree arc (-1: artificial) and each arc's state, as the kernel returns them."""
    tree_arc = np.array([parent_arc.get(v, -1) for v in range(n)], dtype=np.int64)
    tree_arc[tree_arc >= m] = -1
    state = np.array(
        [_TREE if a in tree else (_UPPER if flow[a] > 0 else _LOWER) for a in range(m)],
        dtype=np.int8,
    )
    return tree_arc, state


def _tree_search(n, src, dst, price, tree):
    """Parents, parent arcs and potentials (0 at the root) of the tree, by breadth-first search."""
    neighbours = {v: [] for v in range(n + 1)}
    for a in tree:
        neighbours[src[a]].append(a)
        neighbours[dst[a]].append(a)
    parent = {n: -1}
    parent_arc = {}
    potential = {n: 0.0}
    queue = deque([n])
    while queue:
        v = queue.popleft()
        for a in neighbours[v]:
            w = dst[a] if src[a] == v else src[a]
            if w in parent:
                continue
            parent[w], parent_arc[w] = v, a
            # reduced cost 0 on tree arcs: price + potential[src] - potential[dst] = 0
            potential[w] = potential[v] + price[a] if src[a] == v else potential[v] - price[a]
            queue.append(w)
    return parent, parent_arc, potential


def _path_to_root(v, parent):
    path = [v]
    while parent[path[-1]] != -1:
        path.append(parent[path[-1]])
    return path
