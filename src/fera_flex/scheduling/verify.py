"""Independent check of a charging plan against every limit of its problem.

This module does not use the LP formulation or any backend: it recomputes
node loads and currents from the plan's power arrays and compares them with
the problem's limits. A node whose non-EV load alone exceeds its limit is not
counted against the plan unless the EVs add to the overload (charging there,
or discharging past an export limit).

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> import numpy as np
>>> problem = random_problem(10, seed=3)
>>> zero = np.zeros((problem.n_sessions, problem.n_slots))
>>> verify_power(problem, zero, zero)
[]
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling._cell_passes import CELL_KINDS, cell_checks, cell_mask
from fera_flex.scheduling.problem import ChargingProblem

__all__ = [
    "DEFAULT_TOLERANCE",
    "Violation",
    "curve_limit_kw",
    "phase_currents_a",
    "verify_plan",
    "verify_power",
]

DEFAULT_TOLERANCE = 1e-9
"""Absolute tolerance for float rounding in sums [kW, A or kWh]."""


_W_PER_KW = 1000.0


@dataclass(frozen=True)
class Violation:
    """One broken limit.

    Attributes
    ----------
    kind : str
        ``power_max``, ``discharge_max``, ``negative``, ``outside_window``,
        ``min_rate``, ``energy``, ``battery``, ``curve``, ``evse``, ``node_import``,
        ``node_export`` or ``phase_current``.
    where : str
        The session, EVSE or node id (with ``/L1``.. for a phase current).
    slot : int
        The slot index (-1 for whole-session checks).
    value : float
        The planned quantity [kW, kWh or A].
    limit : float
        The limit it breaks.
    index : int
        Row of the session, EVSE or node in the problem's arrays.
    phase : int
        0, 1, 2 for L1-L3 (phase currents), else -1.
    """

    kind: str
    where: str
    slot: int
    value: float
    limit: float
    index: int = -1
    phase: int = -1

    def __str__(self) -> str:
        at = "" if self.slot < 0 else f" in slot {self.slot}"
        return f"{self.kind} at {self.where}{at}: {self.value:.9g} beyond {self.limit:.9g}"


def verify_plan(
    problem: ChargingProblem, plan, tolerance: float = DEFAULT_TOLERANCE
) -> list[Violation]:
    """Every limit a plan breaks (empty when it respects them all).

    Parameters
    ----------
    problem : ChargingProblem
        The problem the plan is for.
    plan : ChargingPlan
        The plan (its ``charge_kw`` and ``discharge_kw`` arrays are checked).
    tolerance : float
        Absolute slack for float rounding.

    Returns
    -------
    list of Violation
    """
    return verify_power(problem, plan.charge_kw, plan.discharge_kw, tolerance)


def _collect(kind: str, names, mask: NDArray, value, limit: NDArray, phase: int = -1):
    """The violations where ``mask`` holds.

    ``value`` is an array, or a callable that makes it only when something is
    found (the usual plan breaks nothing).
    """
    if not mask.any():
        return []
    if callable(value):
        value = value()
    found = []
    for index in np.argwhere(mask):
        row, slot = (int(index[0]), int(index[1])) if index.size == 2 else (int(index[0]), -1)
        at = tuple(index)
        found.append(
            Violation(
                kind, names[row], slot, float(value[at]), float(limit[at]), index=row, phase=phase
            )
        )
    return found


def verify_power(
    problem: ChargingProblem,
    charge_kw: NDArray,
    discharge_kw: NDArray,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[Violation]:
    """Every limit that per-session charge and discharge power arrays break.

    Parameters
    ----------
    problem : ChargingProblem
        The problem.
    charge_kw, discharge_kw : ndarray, shape (n, T)
        Charging and discharging power per session and slot [kW], both >= 0.
    tolerance : float
        Absolute slack for float rounding.

    Returns
    -------
    list of Violation
    """
    sessions = problem.session_ids
    p, d = np.asarray(charge_kw, dtype=np.float64), np.asarray(discharge_kw, dtype=np.float64)
    shape = (problem.n_sessions, problem.n_slots)
    for name, array in (("charge_kw", p), ("discharge_kw", d)):
        if array.shape != shape:
            raise InputError(
                "verify_power",
                name,
                f"shape {array.shape}",
                f"must be {shape}, the problem's (sessions, slots): a plan of another problem?",
            )
    found: list[Violation] = []
    zeros = np.zeros(shape)
    p_max, d_max = problem.power_max_kw, problem.discharge_max_kw
    cells = (p, d, problem.presence, p_max, d_max, problem.power_min_kw, tolerance)
    hits = dict(zip(CELL_KINDS, cell_checks(*cells), strict=True))
    values = {
        "negative": (lambda: np.minimum(p, d), zeros),
        "outside_window": (lambda: p + d, zeros),
        "power_max": (p, p_max),
        "discharge_max": (d, d_max),
        "min_rate": (p, np.broadcast_to(problem.power_min_kw[:, None], shape)),
    }
    for kind, (value, limit) in values.items():
        if hits[kind]:  # the mask of a kind found somewhere (a plan usually breaks none)
            found += _collect(kind, sessions, cell_mask(kind, *cells), value, limit)
    delivered = problem.delivered_kwh(p, d)
    most = problem.energy_max_kwh
    found += _collect("energy", sessions, delivered > most + tolerance, delivered, most)
    if hits["discharging"] or hits["negative"]:  # else no battery level can fall
        gained = problem.battery_gain_kwh(p, d)
        state = np.cumsum(gained, axis=1, out=gained)
        found += _collect("battery", sessions, state < -tolerance, state, zeros)
    if np.isfinite(problem.curve_a_kw).any():  # else every curve limit is inf
        curve_kw = curve_limit_kw(problem, p, d)
        found += _collect("curve", sessions, p - curve_kw > tolerance, p, curve_kw)
    evse_load = problem.evse_loads_kw(p)
    found += _collect(
        "evse",
        problem.evse_ids,
        evse_load > problem.evse_power_max_kw + tolerance,
        evse_load,
        problem.evse_power_max_kw,
    )
    net = np.subtract(p, d) if hits["discharging"] else p
    found += _node_violations(problem, net, tolerance)
    found += _phase_violations(problem, net, tolerance)
    return found


def curve_limit_kw(problem: ChargingProblem, charge_kw: NDArray, discharge_kw: NDArray) -> NDArray:
    """The power-curve limit of every (session, slot) at the plan's battery levels [kW], (n, T).

    Each line ``a + b * level`` is taken at the level at the start of the
    slot for a rising line and at its end for a falling one (``inf`` without
    a curve).
    """
    limit = np.full(np.shape(charge_kw), np.inf)
    if not np.isfinite(problem.curve_a_kw).any():
        return limit
    gained = problem.battery_gain_kwh(charge_kw, discharge_kw)
    end = np.cumsum(gained, axis=1)
    start = end - gained
    for k in range(problem.curve_a_kw.shape[1]):
        a, b = problem.curve_a_kw[:, k, None], problem.curve_b_per_h[:, k, None]
        with np.errstate(invalid="ignore"):  # inf + 0 * level
            line = a + b * np.where(b < 0, end, start)
        limit = np.minimum(limit, np.where(np.isfinite(a), line, np.inf))
    return limit


def _node_violations(
    problem: ChargingProblem, net_kw: NDArray, tolerance: float
) -> list[Violation]:
    ev = problem.node_loads_kw(net_kw)
    base = problem.subtree_sum(problem.base_load_kw)
    room_up = np.maximum(problem.node_capacity_kw - base, 0.0)
    room_down = np.minimum(-problem.export_capacity_kw - base, 0.0)
    nodes = problem.node_ids
    return _collect(
        "node_import", nodes, ev > room_up + tolerance, ev + base, problem.node_capacity_kw
    ) + _collect(
        "node_export", nodes, ev < room_down - tolerance, ev + base, -problem.export_capacity_kw
    )


def phase_currents_a(problem: ChargingProblem, net_kw: NDArray) -> tuple[NDArray, NDArray]:
    """EV current per phase through every node [A], (3, m, T), and the non-EV current [A], (m, T).

    Each session's net power is split evenly over the phases it uses; the
    non-EV load of a node's subtree over all three.
    """
    volts = problem.node_voltage_v[:, None]
    base_a = problem.node_base_load_kw * _W_PER_KW / (3.0 * volts)
    per_phase_kw = np.asarray(net_kw) / problem.session_phases.sum(axis=1)[:, None]
    ev_a = np.stack(
        [
            problem.node_loads_kw(per_phase_kw * problem.session_phases[:, phase, None])
            * _W_PER_KW
            / volts
            for phase in range(3)
        ]
    )
    return ev_a, base_a


def _phase_violations(
    problem: ChargingProblem, net_kw: NDArray, tolerance: float
) -> list[Violation]:
    limit = problem.phase_current_max_a
    if not np.isfinite(limit).any():
        return []
    found = []
    currents, base_amps = phase_currents_a(problem, net_kw)
    room_up = np.maximum(limit - base_amps, 0.0)
    room_down = np.minimum(-limit - base_amps, 0.0)
    for phase, amps in enumerate(currents):
        names = [f"{node}/L{phase + 1}" for node in problem.node_ids]
        bad = (amps > room_up + tolerance) | (amps < room_down - tolerance)
        found += _collect("phase_current", names, bad, amps + base_amps, limit, phase)
    return found
