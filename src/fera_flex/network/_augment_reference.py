"""Plain-Python twins of :mod:`fera_flex.network._augment` (private).

:func:`route` augments one shortest path at a time (Edmonds and Karp), found
by a fresh breadth-first search from every node with an excess;
:func:`labels` runs one reverse search per seed; :func:`reaching` is a
depth-first search over a set. Same contracts as the
kernels; slow, for the tests that compare the two. They read ``res`` only,
so ``rev`` is checked against it, not relied on.
"""

from collections import deque

import numpy as np


def route(start, to, mate, res, rev, excess, sink, tol):
    """Same contract as :func:`fera_flex.network._augment.route`."""
    sent, paths = 0.0, 0
    while True:
        sources = [v for v in range(len(excess)) if excess[v] > tol and v != sink]
        parent = dict.fromkeys(sources)
        queue = deque(sources)
        while queue and sink not in parent:
            v = queue.popleft()
            for k in range(start[v], start[v + 1]):
                if to[k] not in parent and res[k] > tol:
                    parent[int(to[k])] = (v, k)
                    queue.append(int(to[k]))
        if sink not in parent:
            return sent, paths
        path, v = [], sink
        while parent[v] is not None:
            v, k = parent[v]
            path.append(k)
        delta = min([excess[v]] + [res[k] for k in path])
        for k in path:
            res[k] -= delta
            res[mate[k]] += delta
            rev[mate[k]], rev[k] = res[k], res[mate[k]]
        excess[v] -= delta
        sent += delta
        paths += 1


def labels(start, to, mate, res, seed_node, seed_price, sink, tol):
    """:func:`fera_flex.network._augment.labels`, from the entries' own residuals ``res``."""
    label = np.full(len(start) - 1, np.nan)
    label[sink] = 0.0
    for s, price in zip(seed_node, seed_price, strict=True):
        if not np.isnan(label[s]):
            continue
        label[s] = price
        queue = deque([s])
        while queue:
            v = queue.popleft()
            for k in range(start[v], start[v + 1]):
                w = to[k]
                if np.isnan(label[w]) and res[mate[k]] > tol:
                    label[w] = price
                    queue.append(w)
    return label


def reaching(start, to, weight, seeds, tol):
    """Same contract as :func:`fera_flex.network._augment.reaching`."""
    seen = {int(s) for s in seeds}
    stack = list(seen)
    while stack:
        v = stack.pop()
        for k in range(start[v], start[v + 1]):
            if weight[k] > tol and int(to[k]) not in seen:
                seen.add(int(to[k]))
                stack.append(int(to[k]))
    mask = np.zeros(len(start) - 1, dtype=bool)
    mask[list(seen)] = True
    return mask
