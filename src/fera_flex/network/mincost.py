"""Min-cost flow with lower and upper arc bounds, solved by the network simplex kernel.

``min cost @ x  s.t.  lower <= x <= upper,  out(v) - in(v) = supply(v)``.

Lower bounds are shifted away (``x = lower + y``), the kernel
(:mod:`fera_flex.network._simplex`) solves for ``y``, and the flows come back
on the original bounds. Tolerances are relative to the data: reduced costs
within ``1e-9`` of the largest cost magnitude count as optimal, and flow
amounts below ``1e-12`` of the largest finite bound or supply count as 0.

Examples
--------
Two units from node 0 to node 2, over a cheap arc of capacity 1 and a dear one:

>>> import numpy as np
>>> solution = min_cost_flow(
...     tail=[0, 0, 1], head=[1, 2, 2], lower=[0, 0, 0], upper=[1, 5, 5],
...     cost=[1.0, 5.0, 1.0], supply=[2.0, 0.0, -2.0])
>>> solution.status, solution.flow.tolist(), solution.objective
('optimal', [1.0, 1.0, 1.0], 7.0)
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fera_flex.errors import InputError
from fera_flex.network import _simplex

__all__ = ["COST_RTOL", "FLOW_RTOL", "FlowSolution", "min_cost_flow"]

COST_RTOL = 1e-9
"""Reduced-cost tolerance, relative to the largest cost magnitude."""

FLOW_RTOL = 1e-12
"""Flow tolerance, relative to the largest finite bound or supply."""

_STATUS = {
    _simplex.OPTIMAL: "optimal",
    _simplex.INFEASIBLE: "infeasible",
    _simplex.ITERATION_LIMIT: "iteration_limit",
    _simplex.UNBOUNDED: "unbounded",
}


@dataclass(frozen=True)
class FlowSolution:
    """A min-cost flow result.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"infeasible"``, ``"iteration_limit"`` or ``"unbounded"``.
    flow : ndarray (m,)
        Arc flows within their bounds.
    potential : ndarray (n,)
        Node potentials: ``cost + potential[tail] - potential[head]`` is the
        reduced cost of an arc, 0 on basic arcs, >= 0 (within tolerance) on
        arcs at their lower bound and <= 0 on arcs at their upper bound.
    objective : float
        ``cost @ flow``.
    pivots : int
        Simplex pivots.
    basis : (ndarray (n,), ndarray (m,))
        The final spanning tree (each node's tree arc, -1 for its artificial
        arc) and every arc's state: a warm start for a re-solve of the same
        network with other costs or bounds.
    """

    status: str
    flow: NDArray[np.float64]
    potential: NDArray[np.float64]
    objective: float
    pivots: int
    basis: tuple[NDArray[np.int64], NDArray[np.int8]]

    def reduced_cost(self, tail, head, cost) -> NDArray[np.float64]:
        """Reduced cost of every arc under the solution's potentials."""
        return np.asarray(cost) + self.potential[tail] - self.potential[head]


def min_cost_flow(
    tail: ArrayLike,
    head: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    cost: ArrayLike,
    supply: ArrayLike,
    *,
    max_pivots: int | None = None,
    warm_start: "FlowSolution | None" = None,
    _kernel=_simplex.network_simplex,
) -> FlowSolution:
    """Solve a min-cost flow problem exactly (to the tolerances of the module).

    Parameters
    ----------
    tail, head : array of int (m,)
        Arc ends, node indices ``0 <= v < n``.
    lower, upper : array of float (m,)
        Arc bounds, ``lower`` finite, ``lower <= upper`` (``upper`` may be ``inf``).
    cost : array of float (m,)
        Finite cost per unit of flow.
    supply : array of float (n,)
        Net supply per node, finite, summing to 0 (within rounding).
    max_pivots : int, optional
        Pivot limit; by default ``50 * (n + m) + 1000``.
    warm_start : FlowSolution, optional
        A solve of the same network (other costs or bounds) whose final basis
        is the start; dropped for a cold start when it does not fit.

    Returns
    -------
    FlowSolution

    Raises
    ------
    InputError
        Naming the argument of any malformed input.
    """
    where = "min_cost_flow"
    supply = _floats(where, "supply", supply)
    n = supply.size
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    head = np.ascontiguousarray(head, dtype=np.int64)
    lower = _floats(where, "lower", lower)
    upper = np.ascontiguousarray(upper, dtype=np.float64)
    cost = _floats(where, "cost", cost)
    m = tail.size
    for name, array in (("head", head), ("lower", lower), ("upper", upper), ("cost", cost)):
        if array.shape != (m,):
            raise InputError(where, name, array.shape, f"must have the shape of tail, ({m},)")
    for name, ends in (("tail", tail), ("head", head)):
        if m and (ends.min() < 0 or ends.max() >= n):
            raise InputError(where, name, int(ends.min()), f"node indices must be in [0, {n})")
    if np.isnan(upper).any() or (upper < lower).any():
        bad = int(np.flatnonzero(np.isnan(upper) | (upper < lower))[0])
        raise InputError(
            where, f"upper[{bad}]", float(upper[bad]), f"must be >= lower {lower[bad]}"
        )
    scale = max(
        float(np.max(np.abs(lower), initial=0.0)),
        float(np.max(np.abs(upper[np.isfinite(upper)]), initial=0.0)),
        float(np.max(np.abs(supply), initial=0.0)),
        1e-300,
    )
    if abs(float(supply.sum())) > 1e-9 * scale * max(n, 1):
        raise InputError(where, "supply", float(supply.sum()), "must sum to 0")

    shifted = supply.copy()
    np.subtract.at(shifted, tail, lower)
    np.add.at(shifted, head, lower)
    cost_scale = max(float(np.max(np.abs(cost), initial=0.0)), 1e-300)
    big_m = (n + 2) * cost_scale + 1.0
    tree, state = np.zeros(0, np.int64), np.zeros(0, np.int8)
    if warm_start is not None:
        tree, state = warm_start.basis
        if tree.shape != (n,) or state.shape != (m,):
            raise InputError(
                where, "warm_start", "another network", f"must have {n} nodes, {m} arcs"
            )
    limit = 50 * (n + m) + 1000 if max_pivots is None else int(max_pivots)
    status, flow, potential, pivots, tree, state = _kernel(
        tail,
        head,
        upper - lower,
        cost,
        shifted,
        big_m,
        COST_RTOL * cost_scale,
        FLOW_RTOL * scale,
        limit,
        tree,
        state,
    )
    flow = flow + lower
    if status == _simplex.UNBOUNDED:
        flow = np.full(m, np.nan)
    return FlowSolution(
        status=_STATUS[int(status)],
        flow=flow,
        potential=potential,
        objective=float(cost @ flow),
        pivots=int(pivots),
        basis=(tree, state),
    )


def _floats(where: str, name: str, values: ArrayLike) -> NDArray[np.float64]:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.isfinite(array).all():
        raise InputError(
            where, name, values if array.size < 8 else array.shape, "must be finite, 1-D"
        )
    return array
