"""The reference formulation as one sparse LP/MILP in standard form.

``min cost @ x + offset  s.t.  row_lo <= A @ x <= row_hi,  col_lo <= x <= col_hi``,
with ``x[j]`` integer where ``integrality[j]``. Every backend solves this same
model, so they agree by construction and differ only in how they solve it.

Columns (blocks, in order): ``charge`` p[i, t] >= 0 for every plugged-in
(session, slot) pair with a positive power limit; ``discharge`` d[i, t] for
V2G pairs; ``unmet`` u[i] (soft energy stages only); ``fair`` f, the largest
relative shortfall (fair stage); ``regular_peak`` z[i] for REGULAR sessions;
``node_peak`` q[k] for nodes with a peak cost; ``on`` y[i, t] binaries for
sessions with a minimum rate; ``state`` s[i, t] battery energy gained since
arrival for V2G sessions.

Rows: ``energy`` (one per session: delivered = need - unmet); ``node``
(per node and slot where a limit can bind: the net EV load through the node
within [export limit, import limit] after the non-EV load of its subtree);
``phase`` (per node, phase and slot with a current limit); ``regular_peak``,
``node_peak``, ``min_rate``, ``state`` rows that define the auxiliary columns;
and the stage rows of the lexicographic energy stages.

A node whose non-EV load alone exceeds its limit is not made worse: EVs may
not add load there (or must discharge if they can). Row bounds are tightened
by ``SAFETY_MARGIN`` so that a solver's tolerance never carries a solution
past a real limit.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fera_flex.scheduling.objective import (
    REGULAR,
    ObjectiveOptions,
    charge_costs,
    discharge_values,
    regular_peak_costs,
)
from fera_flex.scheduling.problem import ChargingProblem

__all__ = ["SAFETY_MARGIN", "EnergyStage", "StandardLP", "build_lp"]

SAFETY_MARGIN = 1e-6
"""Relative (and absolute, in kW or A) tightening of limit rows."""

_W_PER_KW = 1000.0


class EnergyStage(Enum):
    """How the energy rows are posed (see :mod:`fera_flex.scheduling.schedule`)."""

    HARD = "hard"  # deliver every need exactly; economic objective
    MAX_ENERGY = "max_energy"  # minimise total shortfall
    FAIR = "fair"  # total shortfall fixed; minimise the largest relative shortfall
    ECONOMIC = "economic"  # both fixed; economic objective


@dataclass(frozen=True)
class StandardLP:
    """A sparse LP/MILP in standard form plus the maps back to the problem."""

    cost: NDArray[np.float64]
    matrix: sp.csc_matrix
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    integrality: NDArray[np.bool_]
    offset: float
    columns: Mapping[str, slice]
    rows: Mapping[str, slice]
    charge_pairs: tuple[NDArray[np.int64], NDArray[np.int64]]
    discharge_pairs: tuple[NDArray[np.int64], NDArray[np.int64]]
    node_rows: tuple[NDArray[np.int64], NDArray[np.int64]]
    start: NDArray[np.float64] | None = None

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return self.cost.size

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.row_lo.size

    @property
    def is_mip(self) -> bool:
        """Whether some column is integer."""
        return bool(self.integrality.any())


class _Builder:
    """Accumulates column blocks and COO row blocks."""

    def __init__(self, start_power: tuple[NDArray, NDArray] | None = None) -> None:
        self.start_power = start_power
        self.start: list[NDArray] = []
        self.cost: list[NDArray] = []
        self.col_lo: list[NDArray] = []
        self.col_hi: list[NDArray] = []
        self.integer: list[NDArray] = []
        self.columns: dict[str, slice] = {}
        self.n_cols = 0
        self.entries: list[tuple[NDArray, NDArray, NDArray]] = []
        self.row_lo: list[NDArray] = []
        self.row_hi: list[NDArray] = []
        self.rows: dict[str, slice] = {}
        self.n_rows = 0

    def add_columns(self, name: str, cost, lo, hi, integer: bool = False, start=None) -> int:
        """Add a block of columns; ``start`` is their start value when building a start point."""
        cost = np.asarray(cost, dtype=np.float64)
        if self.start_power is not None:
            self.start.append(
                np.broadcast_to(
                    np.asarray(0.0 if start is None else start, dtype=np.float64), cost.shape
                )
            )
        start = self.n_cols
        self.cost.append(cost)
        self.col_lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), cost.shape))
        self.col_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), cost.shape))
        self.integer.append(np.full(cost.shape, integer))
        self.n_cols += cost.size
        self.columns[name] = slice(start, self.n_cols)
        return start

    def add_rows(self, name: str, lo, hi) -> int:
        lo = np.asarray(lo, dtype=np.float64)
        start = self.n_rows
        self.row_lo.append(lo)
        self.row_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), lo.shape))
        self.n_rows += lo.size
        self.rows[name] = slice(start, self.n_rows)
        return start

    def add_entries(self, rows, cols, values) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.entries.append(
            (
                rows,
                np.broadcast_to(np.asarray(cols, dtype=np.int64), rows.shape),
                np.broadcast_to(np.asarray(values, dtype=np.float64), rows.shape),
            )
        )

    def finish(self, offset: float, **maps) -> StandardLP:
        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        if self.entries:
            rows, cols, values = (np.concatenate(part) for part in zip(*self.entries, strict=True))
        else:
            rows = cols = np.zeros(0, np.int64)
            values = np.zeros(0)
        matrix = sp.csc_matrix((values, (rows, cols)), shape=(self.n_rows, self.n_cols))
        return StandardLP(
            cost=cat(self.cost, np.float64),
            matrix=matrix,
            row_lo=cat(self.row_lo, np.float64),
            row_hi=cat(self.row_hi, np.float64),
            col_lo=cat(self.col_lo, np.float64),
            col_hi=cat(self.col_hi, np.float64),
            integrality=cat(self.integer, np.bool_),
            offset=offset,
            columns=MappingProxyType(dict(self.columns)),
            rows=MappingProxyType(dict(self.rows)),
            start=None if self.start_power is None else cat(self.start, np.float64),
            **maps,
        )


def _shrink(bound: NDArray) -> NDArray:
    """Tighten upper bounds (or loosen lower bounds) towards zero by the safety margin."""
    finite = np.isfinite(bound)
    margin = SAFETY_MARGIN * np.maximum(1.0, np.abs(np.where(finite, bound, 0.0)))
    return np.where(finite, bound - margin, bound)


def _gained(problem: ChargingProblem, charge: NDArray, discharge: NDArray) -> NDArray:
    """Energy into each battery per slot [kWh], (n, T)."""
    per_kw = (
        charge * problem.charge_efficiency[:, None]
        - discharge / problem.discharge_efficiency[:, None]
    )
    return per_kw * problem.slot_energy_h


def _clean_start(problem: ChargingProblem, charge: NDArray, discharge: NDArray):
    """A previous plan's power within this problem's bounds and minimum rates."""
    charge = np.clip(np.asarray(charge, dtype=np.float64), 0.0, problem.power_max_kw)
    charge = np.where(charge < problem.power_min_kw[:, None], 0.0, charge)
    discharge = np.clip(np.asarray(discharge, dtype=np.float64), 0.0, problem.discharge_max_kw)
    return charge, discharge


def _limit_bounds(upper, lower, max_up, max_down):
    """Row bounds on the net EV quantity that never make an overloaded node worse."""
    upper_eff = np.where(upper >= 0, _shrink(upper), np.maximum(upper, -max_down))
    lower_eff = np.minimum(-_shrink(-lower), 0.0)
    return np.minimum(lower_eff, upper_eff), upper_eff


def build_lp(
    problem: ChargingProblem,
    options: ObjectiveOptions,
    stage: EnergyStage = EnergyStage.HARD,
    total_unmet_kwh: float | None = None,
    max_relative_shortfall: float | None = None,
    start_power: tuple[NDArray, NDArray] | None = None,
) -> StandardLP:
    """Build the standard-form LP of a problem for one energy stage.

    Parameters
    ----------
    problem : ChargingProblem
        The problem.
    options : ObjectiveOptions
        Objective weights.
    stage : EnergyStage
        How energy is posed: exact delivery, or one of the lexicographic stages.
    total_unmet_kwh : float, optional
        Upper bound on the total shortfall [kWh] (FAIR and ECONOMIC stages).
    max_relative_shortfall : float, optional
        Upper bound on every session's relative shortfall (ECONOMIC stage).
    start_power : (ndarray, ndarray), optional
        Charge and discharge power (n, T) [kW] of a previous plan; the LP then
        carries a consistent start point (``StandardLP.start``) for warm starts.

    Returns
    -------
    StandardLP
    """
    if start_power is not None:
        start_power = _clean_start(problem, *start_power)
    b = _Builder(start_power)
    n = problem.n_sessions
    hours = problem.slot_energy_h
    economic = stage in (EnergyStage.HARD, EnergyStage.ECONOMIC)
    charge_i, charge_t = np.nonzero(problem.power_max_kw > 0)
    discharge_i, discharge_t = np.nonzero(problem.discharge_max_kw > 0)
    w_charge = hours[charge_i, charge_t]
    w_discharge = hours[discharge_i, discharge_t]

    cost_p = (
        w_charge * charge_costs(problem, options)[charge_i, charge_t] if economic else 0 * w_charge
    )
    start_p = start_d = start_u = None
    if start_power is not None:
        start_p = start_power[0][charge_i, charge_t]
        start_d = start_power[1][discharge_i, discharge_t]
        start_u = np.maximum(problem.energy_kwh - _gained(problem, *start_power).sum(axis=1), 0.0)
    p0 = b.add_columns(
        "charge", cost_p, 0.0, problem.power_max_kw[charge_i, charge_t], start=start_p
    )
    value_d = discharge_values(problem, options)[discharge_i, discharge_t]
    cost_d = -w_discharge * value_d if economic else 0 * w_discharge
    d0 = b.add_columns(
        "discharge", cost_d, 0.0, problem.discharge_max_kw[discharge_i, discharge_t], start=start_d
    )
    p_cols = p0 + np.arange(charge_i.size)
    d_cols = d0 + np.arange(discharge_i.size)

    # energy rows: delivered to the battery (+ unmet) = need
    need = problem.energy_kwh
    e0 = b.add_rows("energy", need, need)
    b.add_entries(e0 + charge_i, p_cols, w_charge * problem.charge_efficiency[charge_i])
    b.add_entries(
        e0 + discharge_i, d_cols, -w_discharge / problem.discharge_efficiency[discharge_i]
    )
    if stage is not EnergyStage.HARD:
        unmet_cost = np.ones(n) if stage is EnergyStage.MAX_ENERGY else np.zeros(n)
        u0 = b.add_columns("unmet", unmet_cost, 0.0, need, start=start_u)
        b.add_entries(e0 + np.arange(n), u0 + np.arange(n), 1.0)
        if stage is not EnergyStage.MAX_ENERGY:
            r0 = b.add_rows("total_unmet", [-np.inf], [total_unmet_kwh])
            b.add_entries(np.full(n, r0), u0 + np.arange(n), 1.0)
            fair_hi = np.inf if max_relative_shortfall is None else max_relative_shortfall
            worst = None
            if start_u is not None:
                worst = float(np.max(start_u / np.maximum(need, 1e-12), initial=0.0))
            f0 = b.add_columns(
                "fair", [1.0 if stage is EnergyStage.FAIR else 0.0], 0.0, fair_hi, start=worst
            )
            has_need = np.flatnonzero(need > 0)
            r0 = b.add_rows("fair", np.full(has_need.size, -np.inf), 0.0)
            rows = r0 + np.arange(has_need.size)
            b.add_entries(rows, u0 + has_need, 1.0)
            b.add_entries(rows, f0, -need[has_need])

    flows = (
        _Flow.of(problem, charge_i, charge_t, p_cols, problem.power_max_kw, 1.0),
        _Flow.of(problem, discharge_i, discharge_t, d_cols, problem.discharge_max_kw, -1.0),
    )
    node_rows = _add_limit_rows(b, problem, flows)
    offset = 0.0
    if economic:
        _add_regular_peaks(b, problem, options, charge_i, p_cols)
        offset = _add_node_peaks(b, problem, options, flows)
    _add_min_rates(b, problem, charge_i, charge_t, p_cols)
    _add_battery_states(b, problem, charge_i, charge_t, p_cols, discharge_i, discharge_t, d_cols)
    return b.finish(
        offset,
        charge_pairs=(charge_i, charge_t),
        discharge_pairs=(discharge_i, discharge_t),
        node_rows=node_rows,
    )


@dataclass(frozen=True)
class _Flow:
    """The load paths of one power direction: each column repeated for every node above it."""

    session: NDArray[np.int64]
    node: NDArray[np.int64]
    slot: NDArray[np.int64]
    cols: NDArray[np.int64]
    cap_kw: NDArray[np.float64]
    sign: float

    @classmethod
    def of(cls, problem, sessions, slots, cols, cap_kw, sign) -> "_Flow":
        ancestors = problem.ancestors()[problem.node_of_session[sessions]]
        pair, level = np.nonzero(ancestors >= 0)
        slot = slots[pair]
        return cls(
            sessions[pair],
            ancestors[pair, level],
            slot,
            cols[pair],
            cap_kw[sessions[pair], slot],
            sign,
        )

    def total(self, shape, weights=1.0, on=None) -> NDArray[np.float64]:
        """Sum of ``weights * cap_kw`` per (node, slot) over the entries ``on``."""
        on = slice(None) if on is None else on
        total = np.zeros(shape)
        np.add.at(total, (self.node[on], self.slot[on]), weights * self.cap_kw[on])
        return total


def _add_limit_rows(b, problem, flows: tuple[_Flow, _Flow]):
    """Add node (and phase) limit rows; return the (node, slot) of each node row."""
    charge, discharge = flows
    shape = (problem.n_nodes, problem.n_slots)
    base = problem.subtree_sum(problem.base_load_kw)
    max_up, max_down = charge.total(shape), discharge.total(shape)
    lower, upper = _limit_bounds(
        problem.node_capacity_kw - base, -problem.export_capacity_kw - base, max_up, max_down
    )
    needed = (max_up > upper) | (-max_down < lower)
    row_of = np.full(shape, -1, dtype=np.int64)
    k_idx, t_idx = np.nonzero(needed)
    r0 = b.add_rows("node", lower[k_idx, t_idx], upper[k_idx, t_idx])
    row_of[k_idx, t_idx] = r0 + np.arange(k_idx.size)
    for flow in flows:
        rows = row_of[flow.node, flow.slot]
        keep = rows >= 0
        b.add_entries(rows[keep], flow.cols[keep], flow.sign)
    _add_phase_rows(b, problem, base, flows)
    return k_idx, t_idx


def _add_phase_rows(b, problem, base, flows: tuple[_Flow, _Flow]) -> None:
    limit = problem.phase_current_max_a
    if not np.isfinite(limit).any():
        return
    shape = (problem.n_nodes, problem.n_slots)
    volts = problem.node_voltage_v
    phases_used = problem.session_phases.sum(axis=1)
    base_amps = base * _W_PER_KW / (3.0 * volts[:, None])
    row_of = np.full((problem.n_nodes, 3, problem.n_slots), -1, dtype=np.int64)
    entries = []
    for phase in range(3):
        bounds = []
        for flow in flows:
            on = problem.session_phases[flow.session, phase] & np.isfinite(
                limit[flow.node, flow.slot]
            )
            amps_per_kw = _W_PER_KW / (volts[flow.node[on]] * phases_used[flow.session[on]])
            bounds.append(flow.total(shape, amps_per_kw, on))
            entries.append((phase, flow, on, amps_per_kw))
        lower, upper = _limit_bounds(limit - base_amps, -limit - base_amps, bounds[0], bounds[1])
        needed = np.isfinite(limit) & ((bounds[0] > upper) | (-bounds[1] < lower))
        k_idx, t_idx = np.nonzero(needed)
        r0 = b.add_rows(f"phase_L{phase + 1}", lower[k_idx, t_idx], upper[k_idx, t_idx])
        row_of[k_idx, phase, t_idx] = r0 + np.arange(k_idx.size)
    for phase, flow, on, amps_per_kw in entries:
        rows = row_of[flow.node[on], phase, flow.slot[on]]
        keep = rows >= 0
        b.add_entries(rows[keep], flow.cols[on][keep], flow.sign * amps_per_kw[keep])


def _add_regular_peaks(b, problem, options, charge_i, p_cols) -> None:
    weights = regular_peak_costs(problem, options)
    regular = np.flatnonzero(problem.profile_type == REGULAR)
    if regular.size == 0:
        return
    peaks = None if b.start_power is None else b.start_power[0][regular].max(axis=1)
    z0 = b.add_columns("regular_peak", weights[regular], 0.0, np.inf, start=peaks)
    z_col = np.full(problem.n_sessions, -1, dtype=np.int64)
    z_col[regular] = z0 + np.arange(regular.size)
    pairs = np.flatnonzero(problem.profile_type[charge_i] == REGULAR)
    r0 = b.add_rows("regular_peak", np.full(pairs.size, -np.inf), 0.0)
    rows = r0 + np.arange(pairs.size)
    b.add_entries(rows, p_cols[pairs], 1.0)
    b.add_entries(rows, z_col[charge_i[pairs]], -1.0)


def _add_node_peaks(b, problem, options, flows: tuple[_Flow, _Flow]) -> float:
    costs = options.peak_costs_by_index(problem)
    if not costs:
        return 0.0
    nodes = np.array(sorted(costs), dtype=np.int64)
    eur = np.array([costs[k].eur_per_kw for k in nodes])
    free = np.array([costs[k].free_kw for k in nodes])
    base = problem.subtree_sum(problem.base_load_kw)[nodes]
    peaks = None
    if b.start_power is not None:
        load = problem.node_loads_kw(b.start_power[0] - b.start_power[1])[nodes] + base
        peaks = np.maximum(free, load.max(axis=1))
    q0 = b.add_columns("node_peak", eur, free, np.inf, start=peaks)
    n_slots = problem.n_slots
    r0 = b.add_rows("node_peak", np.full(nodes.size * n_slots, -np.inf), (-base).ravel())
    position = np.full(problem.n_nodes, -1, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    for flow in flows:
        keep = position[flow.node] >= 0
        rows = r0 + position[flow.node[keep]] * n_slots + flow.slot[keep]
        b.add_entries(rows, flow.cols[keep], flow.sign)
    rows = r0 + np.arange(nodes.size * n_slots)
    b.add_entries(rows, q0 + np.repeat(np.arange(nodes.size), n_slots), -1.0)
    return -float(eur @ free)


def _add_min_rates(b, problem, charge_i, charge_t, p_cols) -> None:
    pairs = np.flatnonzero(problem.power_min_kw[charge_i] > 0)
    if pairs.size == 0:
        return
    on = None
    if b.start_power is not None:
        on = (b.start_power[0][charge_i[pairs], charge_t[pairs]] > 0).astype(np.float64)
    y0 = b.add_columns("on", np.zeros(pairs.size), 0.0, 1.0, integer=True, start=on)
    y_cols = y0 + np.arange(pairs.size)
    p_max = problem.power_max_kw[charge_i[pairs], charge_t[pairs]]
    p_min = problem.power_min_kw[charge_i[pairs]]
    r0 = b.add_rows("min_rate_upper", np.full(pairs.size, -np.inf), 0.0)
    b.add_entries(r0 + np.arange(pairs.size), p_cols[pairs], 1.0)
    b.add_entries(r0 + np.arange(pairs.size), y_cols, -p_max)
    r1 = b.add_rows("min_rate_lower", np.zeros(pairs.size), np.inf)
    b.add_entries(r1 + np.arange(pairs.size), p_cols[pairs], 1.0)
    b.add_entries(r1 + np.arange(pairs.size), y_cols, -p_min)


def _add_battery_states(
    b, problem, charge_i, charge_t, p_cols, discharge_i, discharge_t, d_cols
) -> None:
    """s[i, t] = s[i, t-1] + energy into the battery in slot t, s >= 0, for V2G sessions."""
    v2g = np.flatnonzero((problem.discharge_max_kw > 0).any(axis=1))
    if v2g.size == 0:
        return
    first = problem.arrival_slot[v2g]
    length = problem.departure_slot[v2g] - first
    session = np.repeat(v2g, length)
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]])
    slot = np.repeat(first, length) + np.arange(length.sum()) - np.repeat(offsets, length)
    level = None
    if b.start_power is not None:
        level = np.cumsum(_gained(problem, *b.start_power), axis=1)[session, slot]
    s0 = b.add_columns("state", np.zeros(session.size), 0.0, np.inf, start=level)
    r0 = b.add_rows("state", np.zeros(session.size), 0.0)
    index = np.full((problem.n_sessions, problem.n_slots), -1, dtype=np.int64)
    index[session, slot] = np.arange(session.size)
    rows = r0 + np.arange(session.size)
    b.add_entries(rows, s0 + np.arange(session.size), 1.0)
    previous = np.flatnonzero(slot != np.repeat(first, length))
    b.add_entries(rows[previous], s0 + previous - 1, -1.0)
    hours = problem.slot_energy_h
    for sessions, slots, cols, sign, efficiency in (
        (charge_i, charge_t, p_cols, -1.0, problem.charge_efficiency),
        (discharge_i, discharge_t, d_cols, 1.0, 1.0 / problem.discharge_efficiency),
    ):
        where = index[sessions, slots]
        keep = where >= 0
        coef = sign * hours[sessions[keep], slots[keep]] * efficiency[sessions[keep]]
        b.add_entries(r0 + where[keep], cols[keep], coef)
