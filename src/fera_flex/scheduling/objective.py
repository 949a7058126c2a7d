"""Objective terms and how they are scaled to one unit (EUR).

Every term is in euros, or in euro-equivalents scaled by the horizon's mean
absolute import price ``P`` [EUR/kWh] (1 when all prices are 0), so that the
terms of a mixed fleet are comparable. Per session, by its OCPI ProfileType,
the cost of charging 1 kWh in slot ``t`` is:

- CHEAP: the import price ``price[i, t]``.
- GREEN: the emission intensity converted to EUR: with an
  ``emission_price_eur_per_kg`` given, ``emission[i, t] / 1000 * that``;
  otherwise ``emission[i, t] * P / E`` with ``E`` the mean emission intensity
  (so GREEN cares about emissions as much as CHEAP cares about price), plus
  ``1e-3 * price`` to break ties.
- FAST: ``P * (t + 1) / T`` (strictly increasing, so the optimum delivers as
  early as it can), plus ``1e-3 * price``.
- REGULAR: the import price, plus a fairness term that is a separable convex
  cost per (session, slot): power above the session's flat rate (its need
  spread evenly over its stay, ``need / (stay_h * efficiency)``) costs
  ``regular_weight * P`` EUR/kWh more. It spreads charging over the stay
  instead of bunching it into the cheapest slots, and so shares scarce
  capacity evenly between sessions, while keeping the model a (convex-cost)
  flow problem: no coupling rows.

V2G discharge of 1 kWh in slot ``t`` earns the same per-kWh value with the
opposite sign (export price for CHEAP and REGULAR) minus
``degradation_eur_per_kwh``. Node peak costs (peak shaving, demand charges)
add ``eur_per_kw * max(0, peak_kw - free_kw)`` for each listed node.

Delivered energy is not traded against these terms: the solver first
delivers the most energy it can, then shares any shortfall fairly, then
minimises the cost above (see :mod:`fera_flex.scheduling.schedule`).

Examples
--------
>>> options = ObjectiveOptions(regular_weight=0.3)
>>> options.regular_weight
0.3
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling._cell_passes import charge_pairs
from fera_flex.scheduling.problem import PROFILE_TYPES, ChargingProblem

__all__ = [
    "ChargeSegments",
    "NodePeakCost",
    "ObjectiveOptions",
    "charge_costs",
    "charge_segments",
    "discharge_values",
    "money_unit_eur_per_kwh",
    "price_scale",
    "regular_above_flat_costs",
    "regular_flat_rate_kw",
]

CHEAP, FAST, GREEN, REGULAR = range(len(PROFILE_TYPES))
_TIE_BREAK = 1e-3


@dataclass(frozen=True)
class NodePeakCost:
    """A cost on a node's peak import over the horizon.

    Parameters
    ----------
    eur_per_kw : float
        Cost per kW of peak above ``free_kw`` [EUR/kW], >= 0.
    free_kw : float
        Peak that costs nothing (e.g. an already contracted capacity) [kW].
    """

    eur_per_kw: float
    free_kw: float = 0.0

    def __post_init__(self) -> None:
        for name in ("eur_per_kw", "free_kw"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise InputError("NodePeakCost", name, value, "must be a finite number >= 0")


@dataclass(frozen=True)
class ObjectiveOptions:
    """Weights of the objective terms (see the module documentation).

    Parameters
    ----------
    emission_price_eur_per_kg : float, optional
        Price of CO2 for GREEN sessions [EUR/kg]; normalised emissions when omitted.
    regular_weight : float
        Extra cost of REGULAR charging above the flat rate, as a fraction of
        the mean import price (dimensionless, >= 0).
    degradation_eur_per_kwh : float
        Battery wear cost of discharged energy [EUR/kWh], >= 0.
    node_peak_costs : mapping of node id or index to NodePeakCost
        Peak shaving and demand charges per node.
    """

    emission_price_eur_per_kg: float | None = None
    regular_weight: float = 0.2
    degradation_eur_per_kwh: float = 0.05
    node_peak_costs: Mapping[str | int, NodePeakCost] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        for name in ("regular_weight", "degradation_eur_per_kwh", "emission_price_eur_per_kg"):
            value = getattr(self, name)
            if value is None and name == "emission_price_eur_per_kg":
                continue
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise InputError("ObjectiveOptions", name, value, "must be a finite number >= 0")
        for key, cost in self.node_peak_costs.items():
            if not isinstance(cost, NodePeakCost):
                raise InputError(
                    "ObjectiveOptions", f"node_peak_costs[{key!r}]", cost, "must be a NodePeakCost"
                )

    def peak_costs_by_index(self, problem: ChargingProblem) -> dict[int, NodePeakCost]:
        """``node_peak_costs`` keyed by node index (ids resolved against the problem)."""
        result = {}
        for key, cost in self.node_peak_costs.items():
            if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
                index = int(key)
                if not 0 <= index < problem.n_nodes:
                    raise InputError(
                        "ObjectiveOptions", "node_peak_costs", key, "no such node index"
                    )
            elif key in problem.node_ids:
                index = problem.node_ids.index(key)
            else:
                raise InputError("ObjectiveOptions", "node_peak_costs", key, "no such node id")
            result[index] = cost
        return result


def money_unit_eur_per_kwh(problem: ChargingProblem, options: ObjectiveOptions) -> float:
    """The largest magnitude of a price or per-kWh cost in the problem [EUR/kWh] (1.0 if none).

    Cost terms are computed in multiples of it, so prices anywhere in the
    float range neither overflow nor underflow.
    """
    values = [
        float(np.max(np.abs(problem.price_eur_per_kwh), initial=0.0)),
        float(np.max(np.abs(problem.export_price_eur_per_kwh), initial=0.0)),
        options.degradation_eur_per_kwh,
    ]
    if options.emission_price_eur_per_kg is not None:
        emission = float(np.max(problem.emission_g_per_kwh, initial=0.0))
        values.append(emission / 1000.0 * options.emission_price_eur_per_kg)
    unit = max(values)
    return unit if 0 < unit < np.inf else 1.0


def price_scale(problem: ChargingProblem, unit_eur_per_kwh: float = 1.0) -> float:
    """The mean absolute import price ``P`` in multiples of ``unit_eur_per_kwh`` (1.0 if all 0)."""
    prices = problem.price_eur_per_kwh
    scale = float(np.mean(np.abs(prices) / unit_eur_per_kwh)) if prices.size else 0.0
    return scale if 0 < scale < np.inf else 1.0


def _per_kwh_table(problem, options: ObjectiveOptions, export: bool, unit: float):
    """Cost per kWh as a table and each session's row in it: ``table[row]`` is (n, T).

    With the price and emission signals global (shape (T,)) the table has
    one row per profile kind (CHEAP and REGULAR, GREEN, FAST), so no (n, T)
    array is made; with either signal per session it is the (n, T) costs.
    """
    n, n_slots = problem.n_sessions, problem.n_slots
    price = (problem.export_price_eur_per_kwh if export else problem.price_eur_per_kwh) / unit
    emission = problem.emission_g_per_kwh
    kind = problem.profile_type
    per_session = price.ndim == 2 or emission.ndim == 2
    if per_session:
        price = np.broadcast_to(price, (n, n_slots))
        emission = np.broadcast_to(emission, (n, n_slots))
    scale = price_scale(problem, unit)
    if options.emission_price_eur_per_kg is not None:
        green = emission * (options.emission_price_eur_per_kg / 1000.0 / unit)
    else:
        emissions = problem.emission_g_per_kwh
        mean_emission = float(np.mean(emissions)) if emissions.size else 0.0
        green = emission * (scale / mean_emission) if mean_emission > 0 else np.zeros(price.shape)
    fast = scale * (np.arange(n_slots) + 1.0) / n_slots
    green = green + _TIE_BREAK * price
    fast = fast + _TIE_BREAK * price
    if per_session:
        kind = kind[:, None]
        table = np.where(kind == GREEN, green, np.where(kind == FAST, fast, price))
        return table, np.arange(n)
    row = np.where(kind == GREEN, 1, np.where(kind == FAST, 2, 0))
    return np.stack([price, green, fast]), row


def _per_kwh(problem, options: ObjectiveOptions, export: bool, unit: float) -> NDArray:
    table, row = _per_kwh_table(problem, options, export, unit)
    return table[row]


def charge_costs(
    problem: ChargingProblem, options: ObjectiveOptions, unit_eur_per_kwh: float = 1.0
) -> NDArray[np.float64]:
    """Cost of charging 1 kWh per (session, slot) [``unit_eur_per_kwh``], shape (n, T)."""
    return np.ascontiguousarray(_per_kwh(problem, options, False, unit_eur_per_kwh))


def discharge_values(
    problem: ChargingProblem, options: ObjectiveOptions, unit_eur_per_kwh: float = 1.0
) -> NDArray[np.float64]:
    """Net value of discharging 1 kWh per (session, slot) [``unit_eur_per_kwh``], shape (n, T)."""
    return np.ascontiguousarray(
        _per_kwh(problem, options, True, unit_eur_per_kwh)
        - options.degradation_eur_per_kwh / unit_eur_per_kwh
    )


def regular_flat_rate_kw(problem: ChargingProblem, need_kwh: NDArray) -> NDArray[np.float64]:
    """Each session's flat rate: ``need_kwh`` spread evenly over its stay [kW], shape (n,)."""
    stay_h = problem.slot_energy_h.sum(axis=1) * problem.charge_efficiency
    return np.asarray(need_kwh, dtype=np.float64) / np.maximum(stay_h, 1e-12)


def regular_above_flat_costs(
    problem: ChargingProblem, options: ObjectiveOptions, unit_eur_per_kwh: float = 1.0
) -> NDArray[np.float64]:
    """Extra cost of REGULAR charging above the flat rate [``unit_eur_per_kwh``], 0 for others."""
    weight = options.regular_weight * price_scale(problem, unit_eur_per_kwh)
    return np.where(problem.profile_type == REGULAR, weight, 0.0)


@dataclass(frozen=True)
class ChargeSegments:
    """The charging cost of every (session, slot) pair as a convex piecewise-linear function.

    One segment per pair up to its power limit, except for REGULAR pairs
    whose limit is above the session's flat rate: a first segment up to the
    flat rate and a dearer one above it.

    Attributes
    ----------
    session, slot : ndarray of int (P,)
        The pairs with a positive power limit.
    first_cost, above_cost : ndarray (P,) and (S,)
        Cost per kWh drawn [money unit] of the first segment of each pair and
        of the above-flat segment of the ``split`` pairs.
    first_hi_kw, above_hi_kw : ndarray (P,) and (S,)
        Widths of the segments [kW].
    split : ndarray of int (S,)
        Indices into the pairs of those with an above-flat segment.
    """

    session: NDArray[np.int64]
    slot: NDArray[np.int64]
    first_cost: NDArray[np.float64]
    first_hi_kw: NDArray[np.float64]
    split: NDArray[np.int64]
    above_cost: NDArray[np.float64]
    above_hi_kw: NDArray[np.float64]

    def pieces(self, sessions: NDArray[np.bool_]):
        """Every segment of the given sessions (a mask (n,)) as one list.

        Returns
        -------
        pair : ndarray of int
            The pair (index into ``session``/``slot``) of each segment.
        width_kw, cost : ndarray
            Its width [kW] and cost per kWh drawn [money unit].
        """
        if sessions.all():  # every segment (the greedy path): no search, no gathers
            every = np.arange(self.session.size)
            return (
                np.concatenate([every, self.split]),
                np.concatenate([self.first_hi_kw, self.above_hi_kw]),
                np.concatenate([self.first_cost, self.above_cost]),
            )
        first = np.flatnonzero(sessions[self.session])
        above = np.flatnonzero(sessions[self.session[self.split]])
        return (
            np.concatenate([first, self.split[above]]),
            np.concatenate([self.first_hi_kw[first], self.above_hi_kw[above]]),
            np.concatenate([self.first_cost[first], self.above_cost[above]]),
        )


def charge_segments(
    problem: ChargingProblem, options: ObjectiveOptions, unit_eur_per_kwh: float, need_kwh: NDArray
) -> ChargeSegments:
    """The cost segments of every charging pair, REGULAR flat rates from ``need_kwh`` (n,)."""
    table, row = _per_kwh_table(problem, options, False, unit_eur_per_kwh)
    extra = regular_above_flat_costs(problem, options, unit_eur_per_kwh)
    flat_kw = regular_flat_rate_kw(problem, need_kwh)
    return ChargeSegments(*charge_pairs(problem.power_max_kw, table, row, extra, flat_kw))
