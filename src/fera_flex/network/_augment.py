"""Augmenting-path kernels on a residual graph (numba, private).

The residual graph of arc flows ``0 <= flow <= cap`` is stored once per
network as a CSR list of *entries* per node (:func:`residual_csr`): every
arc ``a`` has a forward entry at ``tail[a]`` and a backward entry at
``head[a]``, each with the node it leads ``to``, its ``mate`` (the entry of
the other direction) and, per solve, its residual ``res`` (``cap - flow``
forward, ``flow`` backward) and its mate's residual ``rev`` (``rev[k] ==
res[mate[k]]``: the residual of the arc from ``to[k]`` back into the node).
Pushing ``delta`` along an entry takes it from the entry's residual and
gives it to its mate's, in both arrays. Everything a search reads about an
entry lies in the node's own stretch of the arrays, which keeps the
searches in cache: a congested cost stage of 3,000 charging sessions took
0.37 s of searching this way against 4.9 s reading the arc arrays at every
step. The searches backwards from the sink read ``rev[k]`` where they would
read ``res[mate[k]]`` in another node's stretch: with that and 32-bit heads
and distances, the 100,000-session congested instance of
``benchmarks/flow.py`` spent 6.9 s in :func:`route` instead of 10.4 s.

- :func:`route` sends the excess of the nodes that have one to ``sink`` by
  Dinic's method: a breadth-first search backwards from the sink gives the
  nodes their distance to it (in arcs), up to the nearest node with an
  excess, then a depth-first search with a cursor per node pushes flow
  along shortest paths only, until none is left; repeat until no node with
  an excess reaches the sink. Searching from the sink explores only what
  can still reach it, which after the cheap exits are full is a small part
  of the network. A caller closes an entry by setting its residual to 0.
- :func:`reaching` marks the nodes a search reaches from some seeds along
  the entries whose residual (or mate's residual) exceeds ``tol``: with
  ``res``, the nodes the seeds can send to; with ``rev``, the nodes that can
  send to the seeds (after a max flow: the two sides of a minimum cut).
- :func:`labels` gives every node the smallest seed price it can reach in
  the residual graph (one reverse breadth-first search per seed, seeds in
  increasing price, each node labelled once): the shortest-path distances
  to the sink of a network whose costs lie on the seeds' arcs only.

A residual counts when it exceeds ``tol``; an augmentation moves the
bottleneck amount exactly, so flow is conserved to rounding.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from fera_flex._jit import jit

__all__ = ["ResidualGraph", "labels", "reaching", "residual_csr", "route"]


def residual_csr(n_nodes: int, tail, head) -> "ResidualGraph":
    """The residual CSR of a network (see the module documentation)."""
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    head = np.ascontiguousarray(head, dtype=np.int64)
    start = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(
        np.bincount(tail, minlength=n_nodes) + np.bincount(head, minlength=n_nodes), out=start[1:]
    )
    return ResidualGraph(start, *_entries(start, tail, head))


@jit
def _entries(start, tail, head):
    """Entries in node order, arc by arc (a counting sort): ``to``, ``mate``, forward, backward."""
    m = tail.size
    fill = start[:-1].copy()
    to = np.empty(2 * m, np.int32)
    mate = np.empty(2 * m, np.int64)
    forward = np.empty(m, np.int64)
    backward = np.empty(m, np.int64)
    for a in range(m):
        k = fill[tail[a]]
        fill[tail[a]] += 1
        forward[a] = k
        to[k] = head[a]
    for a in range(m):
        k = fill[head[a]]
        fill[head[a]] += 1
        backward[a] = k
        to[k] = tail[a]
        mate[k] = forward[a]
        mate[forward[a]] = k
    return to, mate, forward, backward


class ResidualGraph:
    """A network's residual graph: entry arrays and each arc's two entries.

    ``start``, ``to`` and ``mate`` as in the module documentation;
    ``forward[a]`` and ``backward[a]`` are the entries of arc ``a``.
    """

    __slots__ = ("_lock", "_spare", "backward", "forward", "mate", "start", "to")

    def __init__(self, start, to, mate, forward, backward):
        self.start, self.to, self.mate = start, to, mate
        self.forward, self.backward = forward, backward
        self._spare: list[tuple[np.ndarray, np.ndarray]] = []
        self._lock = threading.Lock()

    @contextmanager
    def residuals(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """A solve's ``res`` and ``rev`` arrays, zeroed, reused by the next solve of this graph.

        At 100,000 charging sessions each is 80 MB: new ones for each of a
        schedule's stages cost their first touch every time. A solve running
        at the same time (another thread) gets arrays of its own.
        """
        with self._lock:
            pair = self._spare.pop() if self._spare else None
        if pair is None:
            pair = (np.zeros(self.to.size), np.zeros(self.to.size))
        else:
            pair[0].fill(0.0)
            pair[1].fill(0.0)
        try:
            yield pair
        finally:
            with self._lock:
                self._spare.append(pair)


@jit
def route(start, to, mate, res, rev, excess, sink, tol):
    """Send the excess of every node with ``excess > tol`` to ``sink``; in place.

    Parameters
    ----------
    start, to, mate : int arrays
        The residual CSR (:func:`residual_csr`; ``to`` is int32, the others int64).
    res, rev : float64 arrays (2 m,)
        Residual of every entry and of its mate (``rev == res[mate]``); updated.
    excess : float64 array (n,)
        Supply left at every node; decreased by what is sent.
    sink : int
    tol : float

    Returns
    -------
    sent : float
    paths : int
        Augmenting paths used.
    """
    n = start.size - 1
    dist = np.full(n, -1, np.int32)
    queue = np.empty(n, np.int64)
    cursor = np.empty(n, np.int64)
    path_entry = np.empty(n, np.int64)
    path_node = np.empty(n, np.int64)
    sent = 0.0
    paths = 0
    while True:
        # distances to the sink, searched backwards up to the nearest node with an excess
        dist[sink] = 0
        queue[0] = sink
        head_q, tail_q = 0, 1
        nearest = -1
        while head_q < tail_q:
            v = queue[head_q]
            head_q += 1
            if nearest >= 0 and dist[v] >= nearest:
                break
            for k in range(start[v], start[v + 1]):
                if not rev[k] > tol:  # no residual arc from to[k] into v (in v's stretch: first)
                    continue
                w = to[k]
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    queue[tail_q] = w
                    tail_q += 1
                    if nearest < 0 and excess[w] > tol:
                        nearest = dist[w]
        for q in range(tail_q):
            cursor[queue[q]] = start[queue[q]]
        for q in range(tail_q if nearest > 0 else 0):
            s = queue[q]
            if dist[s] != nearest:
                continue
            while excess[s] > tol:
                depth = 0
                u = s
                while u != sink:
                    k = cursor[u]
                    stop = start[u + 1]
                    while k < stop and not (res[k] > tol and dist[to[k]] == dist[u] - 1):
                        k += 1
                    cursor[u] = k
                    if k < stop:
                        path_entry[depth] = k
                        path_node[depth] = u
                        depth += 1
                        u = to[k]
                    elif depth == 0:
                        break
                    else:  # a dead end: no shortest path through u is left
                        dist[u] = -2
                        depth -= 1
                        u = path_node[depth]
                        cursor[u] += 1
                if u != sink:
                    break
                delta = excess[s]
                for j in range(depth):
                    delta = min(delta, res[path_entry[j]])
                for j in range(depth):
                    k = path_entry[j]
                    res[k] -= delta
                    res[mate[k]] += delta
                    rev[mate[k]] -= delta
                    rev[k] += delta
                excess[s] -= delta
                sent += delta
                paths += 1
        for q in range(tail_q):
            dist[queue[q]] = -1
        if nearest < 0:
            break
    return sent, paths


@jit
def reaching(start, to, weight, seeds, tol):
    """Nodes reached from ``seeds`` along entries ``k`` with ``weight[k] > tol``, (n,) bool.

    ``weight = res`` follows the residual arcs forwards (where the seeds can
    send), ``weight = rev`` backwards (which nodes can send to the seeds).
    """
    n = start.size - 1
    seen = np.zeros(n, np.bool_)
    queue = np.empty(n, np.int64)
    tail_q = 0
    for s in seeds:
        if not seen[s]:
            seen[s] = True
            queue[tail_q] = s
            tail_q += 1
    head_q = 0
    while head_q < tail_q:
        v = queue[head_q]
        head_q += 1
        for k in range(start[v], start[v + 1]):
            w = to[k]
            if weight[k] > tol and not seen[w]:
                seen[w] = True
                queue[tail_q] = w
                tail_q += 1
    return seen


@jit
def labels(start, to, mate, rev, seed_node, seed_price, sink, tol):
    """The smallest seed price each node reaches in the residual graph (NaN: none).

    ``rev`` as for :func:`route`; ``seed_price`` must be sorted increasingly.
    A node reaches a seed when a path of positive residuals that avoids
    ``sink`` leads from it to the seed node; the sink's own label is 0.
    """
    n = start.size - 1
    label = np.full(n, np.nan)
    label[sink] = 0.0
    queue = np.empty(n, np.int64)
    for j in range(seed_node.size):
        s = seed_node[j]
        if not np.isnan(label[s]):
            continue
        label[s] = seed_price[j]
        queue[0] = s
        head_q, tail_q = 0, 1
        while head_q < tail_q:
            v = queue[head_q]
            head_q += 1
            for k in range(start[v], start[v + 1]):
                w = to[k]
                if rev[k] > tol and np.isnan(label[w]):  # the residual arc w -> v
                    label[w] = seed_price[j]
                    queue[tail_q] = w
                    tail_q += 1
    return label
