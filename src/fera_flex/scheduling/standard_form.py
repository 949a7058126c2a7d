"""The reference formulation of one energy stage as a sparse LP/MILP in standard form.

``min cost @ x + offset  s.t.  row_lo <= A @ x <= row_hi,  col_lo <= x <= col_hi``,
with ``x[j]`` integer where ``integrality[j]``. The LP backends (``highs``,
``cvxpy``) solve this same model, so they agree by construction and differ
only in how they solve it; :class:`~fera_flex.scheduling.backends.lp.LPBackend`
builds it, hands it to a solver and reads the result back.

Columns (blocks, in order):

- ``charge`` p[i, t] >= 0 for every plugged-in (session, slot) pair with a
  positive power limit (for REGULAR sessions: the part up to the flat rate);
- ``charge_above_flat``: the part above the flat rate of REGULAR pairs, at a
  higher cost, so REGULAR's fairness is a separable convex cost per pair;
- ``discharge`` d[i, t] for V2G pairs;
- ``unmet`` u[i] per session; ``fair`` f, the largest relative shortfall;
- ``over`` / ``under`` deviations of node loads from their target bands;
- ``node_peak`` q[k] for nodes with a peak cost; ``on`` y[i, t] binaries for
  minimum rates; ``state`` s[i, t] battery energy gained since arrival (V2G).

Rows: ``energy`` (one per session: delivered + unmet within the energy
range); ``evse`` (shared EVSEs: the summed charging power within the rating);
``node`` (per node and slot where a limit can bind: the net EV load through
the node within ``[node_ev_min_kw, node_ev_max_kw]``); ``phase_L1..3`` (per
node, phase and slot with a current limit); ``target`` (node load minus
``over`` plus ``under`` within the target band); ``total_unmet`` and
``total_deviation`` (the bounds carried from earlier stages), ``fair`` (FAIR
stage only: ``u <= f * need``; later stages bound ``u`` by the fixed ``f``); ``node_peak``,
``min_rate_*`` and ``state`` rows that define their columns; ``curve`` (power
within each line of a power curve, against the battery level).

Limits are posed exactly (no safety margin: the plan is made safe after the
solve, see :mod:`fera_flex.scheduling.safety`), so a limit of 0 kW is simply
a slot without charging. Energy needs are capped at what each session could
take on its own (:meth:`ChargingProblem.max_deliverable_kwh`), so one absurd
need cannot distort the stage bounds of everyone else. The economic cost is
divided by ``cost_scale_eur`` (its largest coefficient) so that prices of any
magnitude give well-scaled models; the economic objective in EUR is
``cost_scale_eur * (cost @ x + offset)``.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> lp = build_lp(random_problem(5, n_slots=8, seed=0), ObjectiveOptions())
>>> lp.n_cols == lp.cost.size, sorted(lp.rows)[:2]
(True, ['energy', 'fair'])
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fera_flex.scheduling.objective import (
    ObjectiveOptions,
    charge_segments,
    discharge_values,
    money_unit_eur_per_kwh,
)
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.safety import MIN_RATE_RTOL

__all__ = ["FAIR_TIEBREAK", "Stage", "StageGoal", "StandardLP", "build_lp", "capped_energy_range"]

FAIR_TIEBREAK = 1e-6
"""Weight of the mean relative shortfall in the FAIR stage's objective (next to the largest).

It picks one of the many solutions with the least largest shortfall, which
roughly halves an interior point solver's time on this stage; the stage's
optimum moves by at most this much (a relative shortfall, dimensionless)."""

_W_PER_KW = 1000.0


class StageGoal(Enum):
    """What one energy stage minimises (see :mod:`fera_flex.scheduling.schedule`)."""

    MAX_ENERGY = "max_energy"  # total shortfall [kWh]
    FAIR = "fair"  # the largest relative shortfall
    TRACK = "track"  # total deviation from node target bands [kWh]
    ECONOMIC = "economic"  # the economic objective [EUR / cost_scale_eur]


@dataclass(frozen=True)
class Stage:
    """One stage of the lexicographic solve: a goal and the bounds earlier stages fixed.

    Attributes
    ----------
    goal : StageGoal
        What the stage minimises.
    needs_met : bool
        Every (capped) need delivered exactly: no unmet energy at all.
    total_unmet_kwh : float, optional
        Upper bound on the total shortfall [kWh].
    max_relative_shortfall : float, optional
        Upper bound on every session's relative shortfall.
    total_deviation_kwh : float, optional
        Upper bound on the total deviation from node target bands [kWh].
    """

    goal: StageGoal
    needs_met: bool = False
    total_unmet_kwh: float | None = None
    max_relative_shortfall: float | None = None
    total_deviation_kwh: float | None = None


@dataclass(frozen=True)
class StandardLP:
    """A sparse LP/MILP in standard form plus the maps back to the problem.

    ``charge_pairs`` and ``discharge_pairs`` are the (session, slot) of each
    ``charge`` and ``discharge`` column, ``above_flat_pairs`` the row into
    ``charge_pairs`` of each ``charge_above_flat`` column; ``node_rows`` and
    ``target_rows`` the (node, slot) of each ``node`` and ``target`` row.
    """

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
    above_flat_pairs: NDArray[np.int64]
    discharge_pairs: tuple[NDArray[np.int64], NDArray[np.int64]]
    node_rows: tuple[NDArray[np.int64], NDArray[np.int64]]
    target_rows: tuple[NDArray[np.int64], NDArray[np.int64]]
    cost_scale_eur: float = 1.0
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

    def power(self, x: NDArray[np.float64], n_sessions: int, n_slots: int):
        """Charge and discharge power (n, T) [kW] of a column vector."""
        charge = np.zeros((n_sessions, n_slots))
        discharge = np.zeros_like(charge)
        values = x[self.columns["charge"]].copy()
        np.add.at(values, self.above_flat_pairs, x[self.columns["charge_above_flat"]])
        charge[self.charge_pairs] = values
        discharge[self.discharge_pairs] = x[self.columns["discharge"]]
        return charge, discharge


class _Builder:
    """Accumulates column blocks and COO row blocks."""

    def __init__(self, start_power: tuple[NDArray, NDArray] | None) -> None:
        self.start_power = start_power
        self.with_start = start_power is not None
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
        if self.with_start:
            self.start.append(
                np.broadcast_to(
                    np.asarray(0.0 if start is None else start, dtype=np.float64), cost.shape
                )
            )
        first = self.n_cols
        self.cost.append(cost)
        self.col_lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), cost.shape))
        self.col_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), cost.shape))
        self.integer.append(np.full(cost.shape, integer))
        self.n_cols += cost.size
        self.columns[name] = slice(first, self.n_cols)
        return first

    def add_rows(self, name: str, lo, hi) -> int:
        lo = np.asarray(lo, dtype=np.float64)
        first = self.n_rows
        self.row_lo.append(lo)
        self.row_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), lo.shape))
        self.n_rows += lo.size
        self.rows[name] = slice(first, self.n_rows)
        return first

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
            start=cat(self.start, np.float64) if self.with_start else None,
            **maps,
        )


def capped_energy_range(problem: ChargingProblem) -> tuple[NDArray, NDArray]:
    """Each session's energy range [kWh] capped at what it could take on its own, (n,) twice."""
    own = problem.max_deliverable_kwh()
    return np.minimum(problem.energy_min_kwh, own), np.minimum(problem.energy_max_kwh, own)


def _clean_start(problem: ChargingProblem, charge: NDArray, discharge: NDArray):
    """A previous plan's power within this problem's bounds and minimum rates."""
    charge = np.clip(np.asarray(charge, dtype=np.float64), 0.0, problem.power_max_kw)
    charge = np.where(charge < problem.power_min_kw[:, None] * (1 - MIN_RATE_RTOL), 0.0, charge)
    discharge = np.clip(np.asarray(discharge, dtype=np.float64), 0.0, problem.discharge_max_kw)
    return charge, discharge


def build_lp(
    problem: ChargingProblem,
    options: ObjectiveOptions,
    stage: Stage = Stage(StageGoal.ECONOMIC, needs_met=True),
    start_power: tuple[NDArray, NDArray] | None = None,
) -> StandardLP:
    """Build the standard-form LP of one stage of a problem.

    Parameters
    ----------
    problem : ChargingProblem
        The problem.
    options : ObjectiveOptions
        Objective weights.
    stage : Stage
        The goal and the bounds carried from earlier stages; by default
        every need met at least cost.
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
    economic = stage.goal is StageGoal.ECONOMIC
    unit = money_unit_eur_per_kwh(problem, options)
    need_lo, need_hi = capped_energy_range(problem)
    segments = charge_segments(problem, options, unit, need_lo)
    charge_i, charge_t, split = segments.session, segments.slot, segments.split
    discharge_i, discharge_t = np.nonzero(problem.discharge_max_kw > 0)
    w_charge = hours[charge_i, charge_t]
    w_discharge = hours[discharge_i, discharge_t]
    cost_p = w_charge * segments.first_cost
    cost_d = -w_discharge * discharge_values(problem, options, unit)[discharge_i, discharge_t]
    segment_hi = segments.first_hi_kw
    cost_above = w_charge[split] * segments.above_cost
    scale = max(
        float(np.max(np.abs(cost_p), initial=0.0)),
        float(np.max(np.abs(cost_d), initial=0.0)),
        float(np.max(np.abs(cost_above), initial=0.0)),
    )
    scale = scale if np.isfinite(scale) and scale > 0 and np.isfinite(1.0 / scale) else 1.0
    weight = 1.0 / scale if economic else 0.0

    start_p = start_a = start_d = start_u = None
    if start_power is not None:
        start_all = start_power[0][charge_i, charge_t]
        start_p = np.minimum(start_all, segment_hi)
        start_a = (start_all - start_p)[split]
        start_d = start_power[1][discharge_i, discharge_t]
        start_u = np.maximum(need_lo - problem.delivered_kwh(*start_power), 0.0)
    above_hi = segments.above_hi_kw
    d_max = problem.discharge_max_kw[discharge_i, discharge_t]
    p0 = b.add_columns("charge", weight * cost_p, 0.0, segment_hi, start=start_p)
    a0 = b.add_columns("charge_above_flat", weight * cost_above, 0.0, above_hi, start=start_a)
    d0 = b.add_columns("discharge", weight * cost_d, 0.0, d_max, start=start_d)
    # every charging column (both segments of a split pair) with its pair, session and slot
    p_cols = np.concatenate([p0 + np.arange(charge_i.size), a0 + np.arange(split.size)])
    p_pair = np.concatenate([np.arange(charge_i.size), split])
    p_hi = np.concatenate([segment_hi, above_hi])
    p_i, p_t = charge_i[p_pair], charge_t[p_pair]
    d_cols = d0 + np.arange(discharge_i.size)

    # energy rows: delivered to the battery + unmet within the (capped) energy range
    e0 = b.add_rows("energy", need_lo, need_hi)
    b.add_entries(e0 + p_i, p_cols, hours[p_i, p_t] * problem.charge_efficiency[p_i])
    b.add_entries(
        e0 + discharge_i, d_cols, -w_discharge / problem.discharge_efficiency[discharge_i]
    )
    u_hi = np.zeros(n) if stage.needs_met else need_lo
    if stage.max_relative_shortfall is not None and not stage.needs_met:
        u_hi = need_lo * min(1.0, max(stage.max_relative_shortfall, 0.0))
    if start_u is not None:
        start_u = np.minimum(start_u, u_hi)
    u_cost = np.zeros(n)
    if stage.goal is StageGoal.MAX_ENERGY:
        u_cost[:] = 1.0
    elif stage.goal is StageGoal.FAIR:  # the sum of relative shortfalls breaks ties
        u_cost = np.where(need_lo > 0, FAIR_TIEBREAK / max(n, 1) / np.maximum(need_lo, 1e-300), 0.0)
    u0 = b.add_columns("unmet", u_cost, 0.0, u_hi, start=start_u)
    b.add_entries(e0 + np.arange(n), u0 + np.arange(n), 1.0)
    unmet_hi = np.inf if stage.total_unmet_kwh is None else stage.total_unmet_kwh
    if u_hi.sum() <= unmet_hi:  # implied by the shortfalls' own bounds: no dense row
        unmet_hi = np.inf
    r0 = b.add_rows("total_unmet", [-np.inf], [unmet_hi])
    b.add_entries(np.full(n, r0), u0 + np.arange(n), 1.0)
    worst = None
    if start_u is not None:
        worst = float(np.max(start_u / np.maximum(need_lo, 1e-12), initial=0.0))
    fair_hi = np.inf if stage.max_relative_shortfall is None else stage.max_relative_shortfall
    f0 = b.add_columns(
        "fair", [1.0 if stage.goal is StageGoal.FAIR else 0.0], 0.0, fair_hi, start=worst
    )
    # the FAIR stage's rows u <= f * need; later stages bound u by the fixed f directly
    has_need = np.flatnonzero(need_lo > 0) if stage.goal is StageGoal.FAIR else np.zeros(0, int)
    r0 = b.add_rows("fair", np.full(has_need.size, -np.inf), 0.0)
    rows = r0 + np.arange(has_need.size)
    b.add_entries(rows, u0 + has_need, 1.0)
    b.add_entries(rows, f0, -need_lo[has_need])

    flows = (
        _Flow.of(problem, p_i, p_t, p_cols, p_hi, 1.0),
        _Flow.of(problem, discharge_i, discharge_t, d_cols, d_max, -1.0),
    )
    _add_evse_rows(b, problem, flows[0])
    node_rows = _add_limit_rows(b, problem, flows)
    target_rows = _add_target_rows(b, problem, flows, stage)
    offset = 0.0
    if economic:
        offset = _add_node_peaks(b, problem, options, flows, weight / unit)
    _add_min_rates(b, problem, charge_i, charge_t, p_cols, p_pair)
    _add_battery_states(b, problem, p_i, p_t, p_cols, discharge_i, discharge_t, d_cols)
    return b.finish(
        offset,
        charge_pairs=(charge_i, charge_t),
        above_flat_pairs=split,
        discharge_pairs=(discharge_i, discharge_t),
        node_rows=node_rows,
        target_rows=target_rows,
        cost_scale_eur=scale * unit,
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
        """The paths of columns ``cols`` (session, slot, upper bound ``cap_kw`` each)."""
        ancestors = problem.ancestors()[problem.node_of_session[sessions]]
        pair, level = np.nonzero(ancestors >= 0)
        return cls(
            sessions[pair], ancestors[pair, level], slots[pair], cols[pair], cap_kw[pair], sign
        )

    def total(self, shape, weights=1.0, on=None) -> NDArray[np.float64]:
        """Sum of ``weights * cap_kw`` per (node, slot) over the entries ``on``."""
        on = slice(None) if on is None else on
        total = np.zeros(shape)
        np.add.at(total, (self.node[on], self.slot[on]), weights * self.cap_kw[on])
        return total


def _add_evse_rows(b, problem, charge: _Flow) -> None:
    """Shared EVSEs: summed charging power within the rating where it could bind."""
    leaf = charge.node == problem.node_of_session[charge.session]  # each column once
    session, slot, cols = charge.session[leaf], charge.slot[leaf], charge.cols[leaf]
    evse = problem.evse_of_session[session]
    on = evse >= 0
    if not on.any():
        return
    shape = (len(problem.evse_ids), problem.n_slots)
    most = np.zeros(shape)
    np.add.at(most, (evse[on], slot[on]), charge.cap_kw[leaf][on])
    e_idx, t_idx = np.nonzero(most > problem.evse_power_max_kw)
    r0 = b.add_rows("evse", np.full(e_idx.size, -np.inf), problem.evse_power_max_kw[e_idx, t_idx])
    row_of = np.full(shape, -1, dtype=np.int64)
    row_of[e_idx, t_idx] = r0 + np.arange(e_idx.size)
    rows = np.where(on, row_of[np.maximum(evse, 0), slot], -1)
    keep = rows >= 0
    b.add_entries(rows[keep], cols[keep], 1.0)


def _add_limit_rows(b, problem, flows: tuple[_Flow, _Flow]):
    """Add node (and phase) limit rows; return the (node, slot) of each node row."""
    charge, discharge = flows
    shape = (problem.n_nodes, problem.n_slots)
    max_up, max_down = charge.total(shape), discharge.total(shape)
    upper, lower = problem.node_ev_max_kw, problem.node_ev_min_kw
    needed = (max_up > upper) | (-max_down < lower)
    row_of = np.full(shape, -1, dtype=np.int64)
    k_idx, t_idx = np.nonzero(needed)
    r0 = b.add_rows("node", lower[k_idx, t_idx], upper[k_idx, t_idx])
    row_of[k_idx, t_idx] = r0 + np.arange(k_idx.size)
    for flow in flows:
        rows = row_of[flow.node, flow.slot]
        keep = rows >= 0
        b.add_entries(rows[keep], flow.cols[keep], flow.sign)
    _add_phase_rows(b, problem, flows)
    return k_idx, t_idx


def _add_phase_rows(b, problem, flows: tuple[_Flow, _Flow]) -> None:
    limit = problem.phase_current_max_a
    if not np.isfinite(limit).any():
        return
    shape = (problem.n_nodes, problem.n_slots)
    volts = problem.node_voltage_v
    phases_used = problem.session_phases.sum(axis=1)
    base_amps = problem.node_base_load_kw * _W_PER_KW / (3.0 * volts[:, None])
    upper = np.maximum(limit - base_amps, 0.0)
    lower = np.minimum(-limit - base_amps, 0.0)
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
        needed = np.isfinite(limit) & ((bounds[0] > upper) | (-bounds[1] < lower))
        k_idx, t_idx = np.nonzero(needed)
        r0 = b.add_rows(f"phase_L{phase + 1}", lower[k_idx, t_idx], upper[k_idx, t_idx])
        row_of[k_idx, phase, t_idx] = r0 + np.arange(k_idx.size)
    for phase, flow, on, amps_per_kw in entries:
        rows = row_of[flow.node[on], phase, flow.slot[on]]
        keep = rows >= 0
        b.add_entries(rows[keep], flow.cols[on][keep], flow.sign * amps_per_kw[keep])


def _add_target_rows(b, problem, flows: tuple[_Flow, _Flow], stage: Stage):
    """Target bands: node load - over + under within the band; deviation in kWh."""
    low, high = problem.node_target_min_kw, problem.node_target_max_kw
    k_idx, t_idx = np.nonzero(np.isfinite(low) | np.isfinite(high))
    r0 = b.add_rows("target", low[k_idx, t_idx], high[k_idx, t_idx])
    dt_h = problem.grid.dt_h
    track = 1.0 if stage.goal is StageGoal.TRACK else 0.0
    count = k_idx.size
    o0 = b.add_columns("over", np.full(count, track * dt_h), 0.0, np.inf)
    v0 = b.add_columns("under", np.full(count, track * dt_h), 0.0, np.inf)
    rows = r0 + np.arange(count)
    b.add_entries(rows, o0 + np.arange(count), -1.0)
    b.add_entries(rows, v0 + np.arange(count), 1.0)
    row_of = np.full((problem.n_nodes, problem.n_slots), -1, dtype=np.int64)
    row_of[k_idx, t_idx] = rows
    for flow in flows:
        target = row_of[flow.node, flow.slot]
        keep = target >= 0
        b.add_entries(target[keep], flow.cols[keep], flow.sign)
    deviation_hi = np.inf if stage.total_deviation_kwh is None else stage.total_deviation_kwh
    d0 = b.add_rows("total_deviation", [-np.inf], [deviation_hi])
    b.add_entries(np.full(count, d0), o0 + np.arange(count), dt_h)
    b.add_entries(np.full(count, d0), v0 + np.arange(count), dt_h)
    return k_idx, t_idx


def _add_node_peaks(b, problem, options, flows: tuple[_Flow, _Flow], weight: float) -> float:
    costs = options.peak_costs_by_index(problem)
    if not costs:
        return 0.0
    nodes = np.array(sorted(costs), dtype=np.int64)
    eur = np.array([costs[k].eur_per_kw for k in nodes]) * weight
    free = np.array([costs[k].free_kw for k in nodes])
    base = problem.node_base_load_kw[nodes]
    peaks = None
    if b.with_start:
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


def _add_min_rates(b, problem, charge_i, charge_t, p_cols, p_pair) -> None:
    """On/off binaries: p <= p_max * y and p >= p_min * y over both segments of a pair."""
    pairs = np.flatnonzero(problem.power_min_kw[charge_i] > 0)
    if pairs.size == 0:
        return
    on = None
    if b.with_start:
        on = (b.start_power[0][charge_i[pairs], charge_t[pairs]] > 0).astype(np.float64)
    y0 = b.add_columns("on", np.zeros(pairs.size), 0.0, 1.0, integer=True, start=on)
    y_of_pair = np.full(charge_i.size, -1, dtype=np.int64)
    y_of_pair[pairs] = y0 + np.arange(pairs.size)
    p_max = problem.power_max_kw[charge_i[pairs], charge_t[pairs]]
    p_min = problem.power_min_kw[charge_i[pairs]]
    row_of_pair = np.full(charge_i.size, -1, dtype=np.int64)
    row_of_pair[pairs] = np.arange(pairs.size)
    segment = row_of_pair[p_pair]
    keep = segment >= 0
    for name, lo, hi, y_coef in (
        ("min_rate_upper", np.full(pairs.size, -np.inf), 0.0, -p_max),
        ("min_rate_lower", np.zeros(pairs.size), np.inf, -p_min),
    ):
        r0 = b.add_rows(name, lo, hi)
        b.add_entries(r0 + segment[keep], p_cols[keep], 1.0)
        b.add_entries(r0 + np.arange(pairs.size), y_of_pair[pairs], y_coef)


def _add_battery_states(b, problem, p_i, p_t, p_cols, discharge_i, discharge_t, d_cols) -> None:
    """s[i, t] = s[i, t-1] + energy into the battery in slot t, s >= 0.

    For V2G sessions (the battery never goes below its level at plug-in) and
    sessions with a power curve (whose limit depends on the level).
    """
    v2g = (problem.discharge_max_kw > 0).any(axis=1)
    curved = np.isfinite(problem.curve_a_kw).any(axis=1)
    tracked = np.flatnonzero(v2g | curved)
    if tracked.size == 0:
        return
    first = problem.arrival_slot[tracked]
    length = problem.departure_slot[tracked] - first
    session = np.repeat(tracked, length)
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]])
    slot = np.repeat(first, length) + np.arange(length.sum()) - np.repeat(offsets, length)
    level = None
    if b.with_start:
        level = np.cumsum(problem.battery_gain_kwh(*b.start_power), axis=1)[session, slot]
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
        (p_i, p_t, p_cols, -1.0, problem.charge_efficiency),
        (discharge_i, discharge_t, d_cols, 1.0, 1.0 / problem.discharge_efficiency),
    ):
        where = index[sessions, slots]
        keep = where >= 0
        coef = sign * hours[sessions[keep], slots[keep]] * efficiency[sessions[keep]]
        b.add_entries(r0 + where[keep], cols[keep], coef)
    if curved.any():
        _add_curve_rows(b, problem, p_i, p_t, p_cols, np.where(index >= 0, s0 + index, -1))


def _add_curve_rows(b, problem, p_i, p_t, p_cols, state_col) -> None:
    """Power curves: p[i, t] <= a_k + b_k * level, per line k.

    The level is the battery energy gained since plug-in: at the start of the
    slot for a rising line (b >= 0), at its end for a falling one, so the
    limit holds at every instant of the slot.
    """
    a_kw, b_per_h = problem.curve_a_kw, problem.curve_b_per_h
    session, line = np.nonzero(np.isfinite(a_kw))
    first, stop = problem.arrival_slot[session], problem.departure_slot[session]
    length = stop - first
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]])
    combo = np.repeat(np.arange(session.size), length)
    slot = np.repeat(first, length) + np.arange(length.sum()) - np.repeat(offsets, length)
    i, k = session[combo], line[combo]
    slope = b_per_h[i, k]
    r0 = b.add_rows("curve", np.full(combo.size, -np.inf), a_kw[i, k])
    rows = r0 + np.arange(combo.size)
    row_of = np.full((problem.n_sessions, problem.n_slots, a_kw.shape[1]), -1, dtype=np.int64)
    row_of[i, slot, k] = rows
    # every charging column of (i, t) enters the rows of its session's lines at slot t
    targets = row_of[p_i, p_t]  # (columns, K)
    column, which = np.nonzero(targets >= 0)
    b.add_entries(targets[column, which], p_cols[column], 1.0)
    level_slot = np.where(slope < 0, slot, slot - 1)
    has_level = level_slot >= first[combo]
    level_cols = state_col[i[has_level], level_slot[has_level]]
    b.add_entries(rows[has_level], level_cols, -slope[has_level])
