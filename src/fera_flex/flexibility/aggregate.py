r"""The exact aggregate flexibility of the EVs under one grid node.

For V1G sessions with full slots, power boxes and energy ranges, the set of
aggregate load profiles a node's EVs can draw is a generalized polymatroid
``Q(p, b) = {x : p(A) <= x(A) <= b(A) for every slot set A}``, with ``x(A)``
the grid energy drawn in the slots ``A`` [kWh] and ``b`` / ``p`` the most /
least energy the EVs can take in them while every session gets its energy
range. Per session (box ``u`` in kWh per slot over its stay ``W``, energy
range ``[lo, hi]`` in grid kWh) ``b_i(A) = min(u_i(A), hi_i)`` and
``p_i(A) = max(0, lo_i - u_i(W_i \ A))``, and the aggregate is their sum
(a Minkowski sum of g-polymatroids).

:class:`NodeFlexibility` answers ``b(slots)``, ``p(slots)``,
``optimise(price)`` (the greedy: one sort, ``T + 1`` evaluations),
``contains(profile)`` and ``envelope()``:

- **closed form** when no limit inside the node's subtree can bind:
  sessions with the same box are one group, each with its sorted energy
  ranges and their prefix sums, so an evaluation costs ``O(groups * log)``
  after one pass over the sessions, not ``O(N)``;
- **flow oracle** when a node or shared-EVSE limit inside the subtree can
  bind: the set is the projection of the subtree's flow polytope onto the
  node's load per slot (still a g-polymatroid), and ``b``/``p``/``optimise``
  are min-cost flows, ``contains`` a feasibility flow, all exact
  (:class:`~fera_flex.scheduling.charging_network.ChargingNetwork` with the
  node's slots as measured arcs);
- **LP** otherwise (V2G, minimum rates, phase limits, power curves, partial
  slots, unequal charge efficiencies under a binding limit): the same
  questions as LPs of the standard form, solved by HiGHS; ``exact`` is then
  False and ``reason`` names the feature, because the set is no longer a
  g-polymatroid (the greedy does not apply and ``b``/``p`` describe only its
  outer shape).

Energy needs are capped at what each session could take on its own, as the
scheduler does. Limits above the node, which other nodes share, are not part
of the node's set (``upstream_limits`` says whether any could bind).

Examples
--------
The issue's counterexample: 4 one-hour slots, 2 kW boxes, sessions needing
0, 6 and 1 kWh (the last one plugged in from slot 1):

>>> from datetime import datetime, timedelta, timezone
>>> import fera_flex as ff
>>> grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), timedelta(hours=1), 4)
>>> problem = ff.ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[0, 0, 1], departure_slot=[4, 4, 4],
...     energy_kwh=[0.0, 6.0, 1.0], power_max_kw=2.0, node_of_session=[0, 0, 0],
...     node_parent=[-1], node_capacity_kw=100.0, price_eur_per_kwh=0.3)
>>> flexibility = aggregate(problem, 0)
>>> flexibility.exact, flexibility.b([0, 3]), flexibility.p([0, 3])
(True, 5.0, 2.0)
>>> envelope = flexibility.envelope()
>>> envelope.power_min_kw.tolist(), envelope.power_max_kw.tolist()
([0.0, 0.0, 0.0, 0.0], [2.0, 3.0, 3.0, 3.0])
>>> flexibility.contains([1.0, 3.0, 3.0, 0.0])  # within the envelope, yet not deliverable
False
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fera_flex.errors import InputError
from fera_flex.flexibility._oracles import BoxOracle, FlowOracle, LPOracle
from fera_flex.scheduling.charging_network import binding_limits, non_flow_features
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.standard_form import capped_energy_range
from fera_flex.timeseries import TimeGrid

__all__ = ["FlexibilityEnvelope", "NodeFlexibility", "aggregate", "exact_nodes"]


@dataclass(frozen=True)
class FlexibilityEnvelope:
    """Per-slot power bounds and cumulative-energy bounds of a node: an OUTER bound.

    Every feasible load profile of the node lies within these bounds, but not
    every profile within them is feasible (see the module example): the
    envelope is informational, never an offer.

    Attributes
    ----------
    node_id : str
    grid : TimeGrid
    power_min_kw, power_max_kw : ndarray (T,)
        Least and most power per slot [kW]: ``p({t})`` and ``b({t})`` over the slot length.
    energy_min_kwh, energy_max_kwh : ndarray (T,)
        Least and most energy from the start of the horizon to the end of
        each slot [kWh]: ``p`` and ``b`` of the slots up to it.
    """

    node_id: str
    grid: TimeGrid
    power_min_kw: NDArray[np.float64]
    power_max_kw: NDArray[np.float64]
    energy_min_kwh: NDArray[np.float64]
    energy_max_kwh: NDArray[np.float64]


class NodeFlexibility:
    """The set of feasible aggregate load profiles of one node (see the module documentation).

    Attributes
    ----------
    node_id : str
    grid : TimeGrid
    n_sessions : int
        Sessions under the node.
    exact : bool
        Whether ``b``/``p``/``optimise``/``contains`` describe the set exactly
        as a g-polymatroid (False: LP answers for a set of another shape).
    reason : str or None
        Why it is not exact, or None.
    method : str
        ``"closed form"``, ``"flow"`` or ``"lp"``.
    upstream_limits : bool
        Whether a limit above the node (shared with other nodes) could bind:
        the node's set ignores it.
    """

    def __init__(self, problem: ChargingProblem, node: int | str) -> None:
        index = problem.node_index(node)
        self.node_id = problem.node_ids[index]
        self.grid = problem.grid
        sub = problem.subtree(index)
        self.n_sessions = sub.n_sessions
        self._dt_h = problem.grid.dt_h
        self.upstream_limits = _upstream_binds(problem, index)
        self.reason = _lp_feature(sub)
        self.exact = self.reason is None
        if not self.exact:
            self._oracle = LPOracle(sub)
            self.method = "lp"
        elif _limits_can_bind(sub):
            self._oracle = FlowOracle(sub)
            self.method = "flow"
        else:
            need, top = capped_energy_range(sub)
            efficiency = sub.charge_efficiency
            self._oracle = BoxOracle(
                sub.power_max_kw * self._dt_h, need / efficiency, top / efficiency, sub
            )
            self.method = "closed form"

    def __repr__(self) -> str:
        return (
            f"NodeFlexibility({self.node_id!r}, {self.n_sessions} sessions, {self.method}"
            + ("" if self.exact else f", not exact: {self.reason}")
            + ")"
        )

    def b(self, slots: Any) -> float:
        """The most grid energy the node's EVs can draw in ``slots`` [kWh]."""
        return self._oracle.extreme(self._mask(slots), maximise=True)

    def p(self, slots: Any) -> float:
        """The least grid energy the node's EVs must draw in ``slots`` [kWh]."""
        return self._oracle.extreme(self._mask(slots), maximise=False)

    def optimise(self, price_eur_per_kwh: ArrayLike) -> NDArray[np.float64]:
        """The node's load profile [kW] (T,) of least ``price @ energy`` in the set.

        With the closed form it is the g-polymatroid greedy (one sort, ``T + 1``
        evaluations); otherwise one min-cost flow or LP.
        """
        price = np.asarray(price_eur_per_kwh, dtype=np.float64)
        if price.shape != (self.grid.n,) or not np.isfinite(price).all():
            raise InputError(
                "NodeFlexibility.optimise",
                "price_eur_per_kwh",
                price.shape,
                f"must be {self.grid.n} finite prices",
            )
        return self._oracle.optimise(price) / self._dt_h

    def contains(self, profile_kw: ArrayLike, tol_kw: float = 1e-9) -> bool:
        """Whether the node's EVs can draw exactly ``profile_kw`` (T,) [kW] (to ``tol_kw``)."""
        profile = np.asarray(profile_kw, dtype=np.float64)
        if profile.shape != (self.grid.n,) or not np.isfinite(profile).all():
            raise InputError(
                "NodeFlexibility.contains",
                "profile_kw",
                profile.shape,
                f"must be {self.grid.n} finite powers",
            )
        energy, tol = profile * self._dt_h, tol_kw * self._dt_h
        return self._oracle.within(energy - tol, energy + tol)

    def within(self, lower_kw: ArrayLike, upper_kw: ArrayLike) -> bool:
        """Whether some profile of the set lies between two per-slot bounds [kW] (may be +-inf)."""
        n_slots = self.grid.n
        bounds = []
        for name, values in (("lower_kw", lower_kw), ("upper_kw", upper_kw)):
            array = np.broadcast_to(np.asarray(values, dtype=np.float64), (n_slots,))
            if np.isnan(array).any():
                raise InputError("NodeFlexibility.within", name, array.tolist(), "must not be NaN")
            bounds.append(array * self._dt_h)
        return self._oracle.within(*bounds)

    def slot_power_range_kw(self, first: int = 0, stop: int | None = None):
        """Least and most power of each slot ``first <= t < stop`` on its own [kW], twice (W,).

        ``p({t})`` and ``b({t})`` over the slot length.
        """
        slots = range(first, self.grid.n if stop is None else stop)
        least = np.array([self.p([t]) for t in slots], dtype=np.float64) / self._dt_h
        most = np.array([self.b([t]) for t in slots], dtype=np.float64) / self._dt_h
        return least, most

    def envelope(self) -> FlexibilityEnvelope:
        """The per-slot and cumulative bounds of the set (an outer bound)."""
        prefix = np.tri(self.grid.n, dtype=bool)
        least, most = self.slot_power_range_kw()
        return FlexibilityEnvelope(
            node_id=self.node_id,
            grid=self.grid,
            power_min_kw=least,
            power_max_kw=most,
            energy_min_kwh=np.array([self.p(row) for row in prefix]),
            energy_max_kwh=np.array([self.b(row) for row in prefix]),
        )

    def _mask(self, slots: Any) -> NDArray[np.bool_]:
        """A slot set (indices or a boolean mask) as a boolean mask (T,)."""
        n_slots = self.grid.n
        array = np.asarray(slots)
        if array.dtype == bool and array.shape == (n_slots,):
            return array
        if array.size == 0:
            return np.zeros(n_slots, dtype=bool)
        if not np.issubdtype(array.dtype, np.integer) or array.ndim != 1:
            raise InputError("NodeFlexibility", "slots", slots, "must be slot indices or a mask")
        if array.min() < 0 or array.max() >= n_slots:
            raise InputError(
                "NodeFlexibility", "slots", slots, f"indices must be in [0, {n_slots})"
            )
        mask = np.zeros(n_slots, dtype=bool)
        mask[array] = True
        return mask


def aggregate(problem: ChargingProblem, node: int | str) -> NodeFlexibility:
    """The exact aggregate flexibility of the EVs under ``node`` (index or id).

    Raises
    ------
    InputError
        For an unknown node.
    """
    if not isinstance(problem, ChargingProblem):
        raise InputError(
            "aggregate", "problem", type(problem).__name__, "must be a ChargingProblem"
        )
    return NodeFlexibility(problem, node)


def exact_nodes(problem: ChargingProblem, nodes: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each node's set is a g-polymatroid (``aggregate(problem, node).exact``), (k,)."""
    inexact = np.zeros(problem.n_nodes, dtype=bool)  # a feature somewhere in the subtree
    ancestors = problem.ancestors()
    for _, sessions, own in _inexact_features(problem):
        above = np.concatenate([ancestors[problem.node_of_session[sessions]], ancestors[own]])
        inexact[above[above >= 0]] = True
    return ~inexact[nodes]


def _lp_feature(problem: ChargingProblem) -> str | None:
    """The first feature that takes the set outside the g-polymatroids, or None."""
    for feature, sessions, nodes in _inexact_features(problem):
        if sessions.any() or nodes.any():
            return f"{feature}: not a g-polymatroid"
    return None


def _inexact_features(problem: ChargingProblem) -> list[tuple[str, NDArray, NDArray]]:
    """What takes a set outside the g-polymatroids: (feature, sessions (n,), nodes (m,))."""
    partial = ((problem.power_max_kw > 0) & (problem.presence < 1)).any(axis=1)
    return [
        *non_flow_features(problem),
        (
            "partial-slot presence (a slot's energy weight below 1: not the node's kW x slot)",
            partial,
            np.zeros(problem.n_nodes, dtype=bool),
        ),
    ]


def _limits_can_bind(problem: ChargingProblem) -> bool:
    node_binds, evse_binds = binding_limits(problem)
    return bool(node_binds.any() or evse_binds.any())


def _upstream_binds(problem: ChargingProblem, node: int) -> bool:
    above = problem.ancestors()[node, 1:]
    return bool(binding_limits(problem)[0][above[above >= 0]].any())
