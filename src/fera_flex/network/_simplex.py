"""Primal network simplex for min-cost flow on float data (numba kernel, private).

The problem: ``min cost @ x`` over arc flows ``0 <= x <= cap`` with flow
conservation ``out(v) - in(v) = supply(v)`` at every node (lower bounds are
shifted away by the caller, see :func:`fera_flex.network.solve`).

Method
------
The textbook primal network simplex (Ahuja, Magnanti and Orlin, *Network
Flows*, ch. 11) on a spanning tree rooted at an artificial node with one
artificial arc per node (cost ``big_m``, infinite capacity: a one-phase
"big-M" start), kept **strongly feasible** (Cunningham's rule: the leaving
arc is the last blocking arc of the cycle met from its apex), which
excludes cycling. The tree is stored as parent pointers, the arc to the
parent, subtree sizes and a preorder thread (``next_node``/``prev_node``
with each subtree's last node), so that

- the cycle's apex is found by walking up from both ends of the entering
  arc, moving the smaller subtree (an ancestor's subtree is larger);
- a pivot cuts the subtree below the leaving arc out of the thread,
  re-roots it at the entering arc's end, rebuilds its thread and sizes by
  one depth-first pass, and recomputes its potentials **from the tree**
  (not by adding a shift), so potentials never drift.

The cost of a pivot is the cycle's length plus the moved subtree's size.
Entering arcs are chosen by block pricing (scan a block of
:data:`BLOCK_FACTOR` ``* sqrt(arcs)`` arcs, take the most violated one), the
scheme of LEMON and of most network simplex codes: far fewer scans than
Dantzig's full pricing and far fewer pivots than first-eligible.

Floats: an arc is optimal when its reduced cost is within ``cost_tol`` of
optimality; a blocking amount below ``flow_tol`` counts as 0 (a degenerate
pivot); the leaving arc's flow is set exactly to its bound. After the last
pivot the tree arcs' flows are recomputed from the supplies and the
non-tree flows (one pass in reverse preorder), so conservation holds to
rounding, not to the accumulated error of many updates.
"""

import numpy as np

from fera_flex._jit import jit

__all__ = ["INFEASIBLE", "ITERATION_LIMIT", "OPTIMAL", "UNBOUNDED", "network_simplex"]

OPTIMAL, INFEASIBLE, ITERATION_LIMIT, UNBOUNDED = 0, 1, 2, 3

_TREE, _LOWER, _UPPER = 0, 1, -1

BLOCK_FACTOR = 0.25
"""Pricing block size as a multiple of ``sqrt(arcs)``.

Measured on ``schedule(random_problem(3000, seed=1, overload=3.0), method="flow")``
(three stages, 107k arcs, 2 cores): factor 0.25 / 0.5 / 1 / 4 took 2.5 / 4.4 /
6.0 / 12.7 s in the network simplex; 0.1 and below were slower again (more
pivots). At 10,000 sessions 0.25 halves the time of 1 (81 s against 156 s)."""


@jit
def network_simplex(
    tail, head, cap, cost, supply, big_m, cost_tol, flow_tol, max_pivots, start_tree, start_state
):
    """Solve a min-cost flow; return (status, flow, potential, pivots).

    Parameters
    ----------
    tail, head : int64 arrays (m,)
        Arc ends (``0 <= tail, head < n``, ``n = supply.size``).
    cap : float64 array (m,)
        Capacities, ``>= 0`` (``inf`` allowed).
    cost : float64 array (m,)
        Costs per unit of flow.
    supply : float64 array (n,)
        Net supply per node (positive: a source), summing to 0.
    big_m : float
        Cost of the artificial arcs; larger than the cost of any simple path.
    cost_tol, flow_tol : float
        Reduced-cost and flow tolerances (see the module documentation).
    max_pivots : int
        Pivot limit (status ``ITERATION_LIMIT`` when reached).
    start_tree, start_state : int64 array (n,) and int8 array (m,)
        Ignored when empty; else a previous optimum's basis (see ``tree_arc``
        and ``state`` below) to start from, a warm start. A start that is not
        a spanning tree, or whose tree flows break a bound under the new
        data, is dropped for the usual cold start.

    Returns
    -------
    status : int
        ``OPTIMAL``, ``INFEASIBLE`` (an artificial arc keeps flow), ``ITERATION_LIMIT``
        or ``UNBOUNDED`` (a negative cycle of infinite capacity; feasibility unknown).
    flow : float64 array (m,)
    potential : float64 array (n,)
        Node potentials with ``cost + potential[tail] - potential[head] = 0``
        on tree arcs (the artificial root's potential is 0).
    pivots : int
    tree_arc : int64 array (n,)
        The final tree arc of every node to its parent (-1: its artificial arc).
    state : int8 array (m,)
        The final state of every arc (``_TREE``, ``_LOWER`` or ``_UPPER``).
    """
    n = supply.size
    m = tail.size
    root = n
    n_arcs = m + n
    src = np.empty(n_arcs, np.int64)
    dst = np.empty(n_arcs, np.int64)
    upper = np.empty(n_arcs)
    price = np.empty(n_arcs)
    flow = np.zeros(n_arcs)
    state = np.empty(n_arcs, np.int8)
    src[:m] = tail
    dst[:m] = head
    upper[:m] = cap
    price[:m] = cost

    # the spanning tree: parent, arc to the parent, subtree size, last descendant, preorder thread
    tree = np.empty((6, n + 1), np.int64)
    parent, parc, size = tree[0], tree[1], tree[2]
    last, next_node, prev_node = tree[3], tree[4], tree[5]
    potential = np.zeros(n + 1)
    order = np.empty(n + 1, np.int64)
    for v in range(n):  # artificial arcs: node -> root until a start says otherwise
        a = m + v
        src[a], dst[a] = v, root
        upper[a] = np.inf
        price[a] = big_m
    warm = start_tree.size == n and start_state.size == m
    if warm:
        arcs = (src, dst, upper, price, flow, state)
        warm = _warm_start(
            n, m, supply, start_tree, start_state, arcs, tree, potential, order, flow_tol
        )
    if not warm:
        _cold_start(n, m, supply, src, dst, upper, price, flow, state, tree, potential, big_m)

    # scratch: the path re-rooted by a pivot, and a preorder of the whole tree
    scratch = np.empty((6, n + 1), np.int64)

    block = max(int(BLOCK_FACTOR * np.sqrt(m)), 16)
    cursor = 0
    pivots = 0
    status = OPTIMAL
    while True:
        # block pricing: the most violated arc of the first block that has one
        entering = -1
        best = cost_tol
        scanned = 0
        while scanned < m:
            stop = min(scanned + block, m)
            while scanned < stop:
                a = cursor
                cursor += 1
                if cursor == m:
                    cursor = 0
                scanned += 1
                if state[a] == _TREE or upper[a] <= 0.0:
                    continue
                violation = -state[a] * (price[a] + potential[src[a]] - potential[dst[a]])
                if violation > best:
                    best = violation
                    entering = a
            if entering >= 0:
                break
        if entering < 0:
            # potentials exactly from the tree (shifts accumulate rounding), then price again
            if _exact_potentials(root, next_node, parent, parc, src, price, potential):
                continue
            break
        if pivots >= max_pivots:
            status = ITERATION_LIMIT
            break
        pivots += 1

        if state[entering] == _LOWER:
            first, second = src[entering], dst[entering]
        else:
            first, second = dst[entering], src[entering]
        i, j = first, second
        while i != j:
            if size[i] <= size[j]:
                i = parent[i]
            else:
                j = parent[j]
        apex = i

        # ratio test, Cunningham's rule: order apex -> first, entering, second -> apex
        delta = upper[entering]
        leave_node = -1  # -1: the entering arc itself
        leave_upper = state[entering] == _LOWER
        v = first
        while v != apex:
            a = parc[v]
            forward = dst[a] == v
            residual = upper[a] - flow[a] if forward else flow[a]
            if residual < delta:
                delta, leave_node, leave_upper = residual, v, forward
            v = parent[v]
        v = second
        while v != apex:
            a = parc[v]
            forward = src[a] == v
            residual = upper[a] - flow[a] if forward else flow[a]
            if residual <= delta:
                delta, leave_node, leave_upper = residual, v, forward
            v = parent[v]
        if delta < flow_tol:
            delta = 0.0
        if delta == np.inf:
            status = UNBOUNDED
            break

        if delta > 0.0:
            if state[entering] == _LOWER:
                flow[entering] += delta
            else:
                flow[entering] -= delta
            v = first
            while v != apex:
                a = parc[v]
                if dst[a] == v:
                    flow[a] += delta
                else:
                    flow[a] -= delta
                v = parent[v]
            v = second
            while v != apex:
                a = parc[v]
                if src[a] == v:
                    flow[a] += delta
                else:
                    flow[a] -= delta
                v = parent[v]

        if leave_node < 0:
            state[entering] = _UPPER if leave_upper else _LOWER
            flow[entering] = upper[entering] if leave_upper else 0.0
            continue
        leaving = parc[leave_node]
        state[leaving] = _UPPER if leave_upper else _LOWER
        flow[leaving] = upper[leaving] if leave_upper else 0.0
        state[entering] = _TREE

        # the moved subtree is the one below the leaving arc; inside: x, outside: y
        w = leave_node
        v = first
        inside_first = False
        while True:
            if v == w:
                inside_first = True
                break
            if v == apex:
                break
            v = parent[v]
        x = first if inside_first else second
        y = second if inside_first else first

        count = size[w]
        _cut(w, apex, parent, size, last, next_node, prev_node)
        end = _reroot(x, w, y, entering, scratch, parent, parc, size, last, next_node, prev_node)
        _link(x, y, end, count, apex, parent, size, last, next_node, prev_node)
        # shift the moved subtree's potentials so that the entering arc's reduced cost is 0
        reduced = price[entering] + potential[src[entering]] - potential[dst[entering]]
        shift = reduced if x == dst[entering] else -reduced
        if 2 * count <= n + 1:
            v = x
            for _ in range(count):
                potential[v] += shift
                v = next_node[v]
        else:  # potentials matter up to a constant: shift the smaller rest of the tree back
            v = next_node[end]
            while v != x:
                potential[v] -= shift
                v = next_node[v]

    # tree flows from the supplies and the non-tree flows, deepest nodes first
    if status != UNBOUNDED:
        balance = supply.copy()
        for a in range(m):
            if state[a] != _TREE:
                balance[src[a]] -= flow[a]
                balance[dst[a]] += flow[a]
        # preorder from the root; its reverse visits children before parents
        v = next_node[root]
        count = 0
        while v != root:
            order[count] = v
            count += 1
            v = next_node[v]
        for k in range(count - 1, -1, -1):
            v = order[k]
            a = parc[v]
            # v's subtree must send balance[v] out through a
            if src[a] == v:
                flow[a] = balance[v]
            else:
                flow[a] = -balance[v]
            p = parent[v]
            if p != root:
                balance[p] += balance[v]
        for a in range(m, n_arcs):
            if status == OPTIMAL and abs(flow[a]) > flow_tol:
                status = INFEASIBLE
        for a in range(m):
            if flow[a] < 0.0:
                flow[a] = 0.0
            elif flow[a] > upper[a]:
                flow[a] = upper[a]
    tree_arc = np.where(parc[:n] < m, parc[:n], -1)
    return status, flow[:m].copy(), potential[:n].copy(), pivots, tree_arc, state[:m].copy()


@jit
def _cold_start(n, m, supply, src, dst, upper, price, flow, state, tree, potential, big_m):
    """Every real arc at its lower bound, every node on its artificial arc to the root."""
    root = n
    parent, parc, size = tree[0], tree[1], tree[2]
    last, next_node, prev_node = tree[3], tree[4], tree[5]
    for a in range(m):
        state[a] = _LOWER
        flow[a] = 0.0
    for v in range(n):
        a = m + v
        if supply[v] >= 0.0:
            src[a], dst[a] = v, root
            flow[a] = supply[v]
            potential[v] = -big_m
        else:
            src[a], dst[a] = root, v
            flow[a] = -supply[v]
            potential[v] = big_m
        state[a] = _TREE
        parent[v] = root
        parc[v] = a
        size[v] = 1
        last[v] = v
        next_node[v] = v + 1
        prev_node[v] = v - 1
    parent[root] = -1
    parc[root] = -1
    size[root] = n + 1
    last[root] = n - 1 if n > 0 else root
    if n > 0:
        next_node[root] = 0
        prev_node[0] = root
        next_node[n - 1] = root
        prev_node[root] = n - 1
    else:
        next_node[root] = root
        prev_node[root] = root


@jit
def _warm_start(n, m, supply, start_tree, start_state, arcs, tree, potential, order, flow_tol):
    """The tree and bounds of a previous basis; False (nothing usable) if it is not one."""
    root = n
    src, dst, upper, price, flow, state = arcs
    parent, parc, size = tree[0], tree[1], tree[2]
    last, next_node, prev_node = tree[3], tree[4], tree[5]
    for a in range(m):
        state[a] = start_state[a]
        flow[a] = 0.0
        if state[a] == _UPPER:
            if not np.isfinite(upper[a]):
                return False
            flow[a] = upper[a]
    tree_arcs = 0
    for a in range(m):
        if state[a] == _TREE:
            tree_arcs += 1
    for v in range(n):
        a = start_tree[v]
        if a < 0:
            parent[v], parc[v] = root, m + v
            state[m + v] = _TREE
        else:
            if a >= m or state[a] != _TREE or (src[a] != v and dst[a] != v):
                return False
            tree_arcs -= 1
            parent[v] = dst[a] if src[a] == v else src[a]
            parc[v] = a
            state[m + v] = _LOWER
    if tree_arcs != 0:  # a tree arc no node hangs from
        return False
    parent[root], parc[root] = -1, -1
    # preorder from the root by explicit children lists; a cycle leaves nodes unvisited
    first_child = np.full(n + 1, -1, np.int64)
    sibling = np.full(n + 1, -1, np.int64)
    for v in range(n):
        sibling[v] = first_child[parent[v]]
        first_child[parent[v]] = v
    stack = np.empty(n + 1, np.int64)
    top, filled = 0, 0
    stack[0] = root
    while top >= 0:
        v = stack[top]
        top -= 1
        order[filled] = v
        filled += 1
        if filled > n + 1:
            return False
        c = first_child[v]
        while c >= 0:
            top += 1
            stack[top] = c
            c = sibling[c]
    if filled != n + 1:
        return False
    position = stack
    for k in range(n + 1):
        size[order[k]] = 1
        position[order[k]] = k
    for k in range(n, 0, -1):
        size[parent[order[k]]] += size[order[k]]
    for k in range(n + 1):
        v = order[k]
        last[v] = order[position[v] + size[v] - 1]
        next_node[v] = order[(k + 1) % (n + 1)]
        prev_node[order[(k + 1) % (n + 1)]] = v
    # tree flows from the supplies and the non-tree flows, deepest nodes first
    balance = supply.copy()
    for a in range(m):
        if state[a] != _TREE:
            balance[src[a]] -= flow[a]
            balance[dst[a]] += flow[a]
    for k in range(n, 0, -1):
        v = order[k]
        a = parc[v]
        if a >= m:  # the artificial arc points the way its flow goes
            if balance[v] >= 0.0:
                src[a], dst[a], flow[a] = v, root, balance[v]
            else:
                src[a], dst[a], flow[a] = root, v, -balance[v]
        else:
            value = balance[v] if src[a] == v else -balance[v]
            if value < -flow_tol or value > upper[a] + flow_tol:
                return False
            flow[a] = min(max(value, 0.0), upper[a])
        if parent[v] != root:
            balance[parent[v]] += balance[v]
    potential[root] = 0.0
    for k in range(1, n + 1):
        v = order[k]
        a = parc[v]
        if src[a] == v:
            potential[v] = potential[dst[a]] - price[a]
        else:
            potential[v] = potential[src[a]] + price[a]
    return True


@jit
def _exact_potentials(root, next_node, parent, parc, src, price, potential):
    """Recompute every potential from the tree (the root at 0); whether any moved."""
    moved = potential[root] != 0.0
    potential[root] = 0.0
    v = next_node[root]
    while v != root:
        a = parc[v]
        p = parent[v]
        exact = potential[p] - price[a] if src[a] == v else potential[p] + price[a]
        if exact != potential[v]:
            moved = moved or abs(exact - potential[v]) > 1e-12 * (1.0 + abs(exact))
            potential[v] = exact
        v = next_node[v]
    return moved


@jit
def _cut(w, apex, parent, size, last, next_node, prev_node):
    """Take the subtree of ``w`` (below ``apex``) out of the thread; sizes below the apex."""
    before = prev_node[w]
    end = last[w]
    after = next_node[end]
    next_node[before] = after
    prev_node[after] = before
    count = size[w]
    q = parent[w]
    while q != apex:
        size[q] -= count
        q = parent[q]
    q = parent[w]
    while q >= 0 and last[q] == end:
        last[q] = before
        q = parent[q]


@jit
def _reroot(x, w, y, entering, scratch, parent, parc, size, last, next_node, prev_node):
    """Re-root the cut subtree of ``w`` at ``x``, hung from ``y`` by ``entering``.

    The new preorder is the old one cut into pieces along the path
    ``x = v0, v1, ..., vk = w``: the subtree of ``x``, then for each ``vj``
    the part of its old segment before and the part after the subtree of
    ``v(j-1)``. O(k) pointer changes; returns the new last node.
    """
    path = scratch[0]
    path_size = scratch[1]
    cut_before = scratch[2]
    cut_after = scratch[3]
    piece_end = scratch[4]
    has_after = scratch[5]
    k = 0
    v = x
    path[0] = x
    while v != w:
        v = parent[v]
        k += 1
        path[k] = v
    # read every boundary first: relinking one piece may touch the next one's ends
    for j in range(k + 1):
        path_size[j] = size[path[j]]
    for j in range(1, k + 1):
        child = path[j - 1]
        cut_before[j] = prev_node[child]  # end of vj's piece before the child's subtree
        cut_after[j] = next_node[last[child]]  # start of its piece after it, if any
        has_after[j] = last[child] != last[path[j]]
        piece_end[j] = last[path[j]]
    end = last[x]
    for j in range(1, k + 1):
        vj = path[j]
        next_node[end] = vj
        prev_node[vj] = end
        if has_after[j]:
            next_node[cut_before[j]] = cut_after[j]
            prev_node[cut_after[j]] = cut_before[j]
            end = piece_end[j]
        else:
            end = cut_before[j]
    # sizes: vj keeps its old subtree minus v(j-1)'s, plus v(j+1)'s new one
    below = 0
    for j in range(k, 0, -1):
        below += path_size[j] - path_size[j - 1]
        size[path[j]] = below
    size[x] = path_size[k]
    for j in range(k + 1):
        last[path[j]] = end
    # reverse the parent pointers along the path; x hangs from y
    above, above_arc, v = y, entering, x
    while True:
        up, up_arc = parent[v], parc[v]
        parent[v], parc[v] = above, above_arc
        if v == w:
            break
        above, above_arc, v = v, up_arc, up
    return end


@jit
def _link(x, y, end, count, apex, parent, size, last, next_node, prev_node):
    """Insert the subtree of ``x`` (thread ``x .. end``) as the first child of ``y``."""
    after = next_node[y]
    next_node[y] = x
    prev_node[x] = y
    next_node[end] = after
    prev_node[after] = end
    q = y
    while q != apex:
        size[q] += count
        q = parent[q]
    q = y
    while q >= 0 and last[q] == y:
        last[q] = end
        q = parent[q]
