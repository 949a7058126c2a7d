"""A second, independent reading of a ChargingProblem's limits, for tests.

Written from the documented semantics of ``ChargingProblem.from_arrays`` and
``shared/DESIGN.md`` only. It shares no code with ``fera_flex.scheduling``: it
reads the problem's public arrays and computes node loads, subtrees, phase
currents, EVSE sharing and battery levels itself.

- :func:`violations` lists every limit that a pair of power arrays breaks.
- :func:`max_total_energy_kwh` is an LP (scipy's HiGHS) for the most energy
  all sessions together can take (V1G, no minimum rates).

Rules (``i`` a session, ``t`` a slot, ``k`` a node):

- ``0 <= charge[i, t] <= power_max_kw[i, t]`` and
  ``0 <= discharge[i, t] <= discharge_max_kw[i, t]``; both 0 where
  ``presence[i, t] == 0``.
- ``charge[i, t]`` is 0 or at least ``power_min_kw[i]``.
- Energy into the battery in a slot:
  ``(charge * charge_efficiency - discharge / discharge_efficiency) * presence * dt_h``;
  its sum over the horizon is at most ``energy_max_kwh[i]`` (the need when the
  range is one value), its running sum never below 0.
- Net EV load through node ``k`` (sessions attached to ``k`` or to any node
  below it, charge minus discharge) within
  ``[min(-export_capacity - base, 0), max(node_capacity - base, 0)]`` where
  ``base`` is ``base_load_kw`` summed over ``k``'s subtree (a node whose own
  non-EV load already breaks its limit is not charged against the plan,
  but the EVs may not add to it).
- Per phase, where ``phase_current_max_a`` is finite: a session's current on
  each of its phases is ``net kW / (phases it uses) * 1000 / V`` and the
  non-EV load is spread evenly over three phases, with ``V`` the voltage of the
  node whose limit is checked; the same room rule as for power.
- Sessions sharing an EVSE (equal non-None ``evse_uids``) share its rating:
  the sum of their charge per slot is at most ``evse_power_max_kw[uid]`` when
  given, else the largest ``power_max_kw[i, t]`` among them.

Comparisons allow ``tol`` plus the rounding error of the float sums involved
(a few ulps of the magnitudes summed), so a plan is only flagged when it is
beyond a limit by more than float arithmetic can explain.
"""

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

__all__ = ["delivered_kwh", "evse_groups", "max_total_energy_kwh", "subtrees", "violations"]

_EPS = float(np.finfo(np.float64).eps)
_W_PER_KW = 1000.0


def _rounding(scale, terms) -> np.ndarray:
    """Bound on the float error of a sum of ``terms`` numbers whose magnitudes sum to ``scale``."""
    scale = np.where(np.isfinite(scale), scale, 0.0)
    return (np.asarray(terms, dtype=np.float64) + 2.0) * _EPS * scale


def _allowance(tol, load_mag, load_terms, room_computed, room_mag, room_terms) -> np.ndarray:
    """``tol`` plus the rounding of a load sum and, where the room is not clamped to 0, of the
    room (a limit minus the subtree's base load)."""
    room = np.where(room_computed, _rounding(room_mag, room_terms), 0.0)
    return tol + _rounding(load_mag, load_terms) + room


def _finite(array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    return np.where(np.isfinite(array), np.abs(array), 0.0)


def subtrees(node_parent) -> np.ndarray:
    """``member[k, j]``: node ``j`` is ``k`` or below ``k`` (walking ``node_parent`` up)."""
    parent = np.asarray(node_parent, dtype=np.int64)
    m = parent.size
    member = np.zeros((m, m), dtype=bool)
    for j in range(m):
        node, steps = j, 0
        while node >= 0:
            member[node, j] = True
            node = int(parent[node])
            steps += 1
            if steps > m:
                raise ValueError(f"node_parent has a cycle through node {j}")
    return member


def delivered_kwh(problem, charge_kw, discharge_kw) -> np.ndarray:
    """Energy into each battery over the horizon [kWh], shape (n,)."""
    return _gained(problem, np.asarray(charge_kw), np.asarray(discharge_kw)).sum(axis=1)


def _gained(problem, charge, discharge) -> np.ndarray:
    hours = np.asarray(problem.presence) * float(problem.grid.dt_h)
    return (
        charge * np.asarray(problem.charge_efficiency)[:, None]
        - discharge / np.asarray(problem.discharge_efficiency)[:, None]
    ) * hours


def _session_evse_uids(problem) -> list:
    n = len(problem.session_ids)
    uids = getattr(problem, "evse_uids", None)
    if uids is not None:
        return list(uids)
    evse_ids = getattr(problem, "evse_ids", None)
    evse_of = getattr(problem, "evse_of_session", None)
    if evse_ids is not None and evse_of is not None:
        return [evse_ids[int(e)] if int(e) >= 0 else None for e in np.asarray(evse_of)]
    return [None] * n


def _explicit_rating(problem, uid, n_slots):
    """The EVSE rating given to from_arrays for ``uid`` [kW] per slot, or None."""
    given = getattr(problem, "evse_power_max_kw", None)
    if given is None:
        return None
    if isinstance(given, Mapping):
        value = given.get(uid)
    else:
        known = getattr(problem, "evse_ids", None)
        evse_ids = [] if known is None else list(known)
        if uid not in evse_ids:
            return None
        value = np.asarray(given, dtype=np.float64)[evse_ids.index(uid)]
    if value is None:
        return None
    value = np.broadcast_to(np.asarray(value, dtype=np.float64), (n_slots,)).copy()
    if np.isnan(value).all():
        return None
    return np.where(np.isnan(value), np.inf, value)


def evse_groups(problem) -> list[tuple[object, np.ndarray, np.ndarray]]:
    """``(uid, session indices, rating per slot [kW])`` for every EVSE with a shared rating.

    An EVSE appears when two or more sessions are on it, or when the problem
    states its rating explicitly.
    """
    power_max = np.asarray(problem.power_max_kw, dtype=np.float64)
    n_slots = power_max.shape[1]
    by_uid: dict[object, list[int]] = {}
    for i, uid in enumerate(_session_evse_uids(problem)):
        if uid is not None:
            by_uid.setdefault(uid, []).append(i)
    groups = []
    for uid, rows in by_uid.items():
        rows = np.asarray(rows, dtype=np.int64)
        rating = _explicit_rating(problem, uid, n_slots)
        if rating is None:
            if rows.size < 2:
                continue
            rating = power_max[rows].max(axis=0)
        groups.append((uid, rows, rating))
    return groups


def _flag(found, label, names, bad, value, limit) -> None:
    for index in np.argwhere(bad):
        key = tuple(int(v) for v in index)
        where = names[key[0]]
        at = f" slot {key[-1]}" if len(key) > 1 else ""
        found.append(f"{label} at {where}{at}: {float(value[key])!r} beyond {float(limit[key])!r}")


def violations(problem, charge_kw, discharge_kw, tol: float = 1e-9) -> list[str]:
    """Every limit of ``problem`` that per-session power arrays break, as readable strings.

    Parameters
    ----------
    problem : ChargingProblem
        The problem (only its public arrays are read).
    charge_kw, discharge_kw : array, shape (n, T)
        Charging and discharging power per session and slot [kW].
    tol : float
        Absolute slack [kW, kWh or A] on top of float rounding of the sums.

    Returns
    -------
    list of str
        Empty when every limit holds.
    """
    power_max = np.asarray(problem.power_max_kw, dtype=np.float64)
    n, n_slots = power_max.shape
    charge = np.asarray(charge_kw, dtype=np.float64)
    discharge = np.asarray(discharge_kw, dtype=np.float64)
    found: list[str] = []
    for name, array in (("charge_kw", charge), ("discharge_kw", discharge)):
        if array.shape != (n, n_slots):
            return [f"{name} has shape {array.shape}, expected {(n, n_slots)}"]
        if not np.isfinite(array).all():
            index = tuple(int(v) for v in np.argwhere(~np.isfinite(array))[0])
            return [f"{name}{list(index)} is {array[index]!r}"]
    sessions = list(problem.session_ids)
    nodes = list(problem.node_ids)
    zero = np.zeros((n, n_slots))
    presence = np.asarray(problem.presence, dtype=np.float64)
    discharge_max = np.asarray(problem.discharge_max_kw, dtype=np.float64)

    # per-session power boxes
    _flag(found, "negative charge", sessions, charge < -tol, charge, zero)
    _flag(found, "negative discharge", sessions, discharge < -tol, discharge, zero)
    outside = presence == 0
    _flag(found, "charge while unplugged", sessions, outside & (charge > tol), charge, zero)
    _flag(
        found, "discharge while unplugged", sessions, outside & (discharge > tol), discharge, zero
    )
    _flag(found, "charge above power_max", sessions, charge > power_max + tol, charge, power_max)
    _flag(
        found,
        "discharge above discharge_max",
        sessions,
        discharge > discharge_max + tol,
        discharge,
        discharge_max,
    )
    p_min = np.broadcast_to(
        np.asarray(problem.power_min_kw, dtype=np.float64)[:, None], charge.shape
    )
    _flag(
        found,
        "charge below the minimum rate",
        sessions,
        (charge > tol) & (charge < p_min - tol),
        charge,
        p_min,
    )

    # energy: total at most the most it may take, running battery level never below 0
    gained = _gained(problem, charge, discharge)
    magnitude = np.abs(_gained(problem, np.abs(charge), -np.abs(discharge)))
    most = np.asarray(problem.energy_max_kwh, dtype=np.float64)
    total = gained.sum(axis=1)
    allow = tol + _rounding(magnitude.sum(axis=1) + np.where(np.isfinite(most), most, 0.0), n_slots)
    _flag(found, "energy above the most", sessions, total > most + allow, total, most)
    level = np.cumsum(gained, axis=1)
    allow = tol + _rounding(np.cumsum(magnitude, axis=1), np.arange(1, n_slots + 1))
    _flag(found, "battery below empty", sessions, level < -allow, level, zero)

    # power curves: each line a + b * level, at the slot's start (rising) or end (falling)
    lines_a = np.asarray(getattr(problem, "curve_a_kw", np.zeros((len(sessions), 0))))
    lines_b = np.asarray(getattr(problem, "curve_b_per_h", np.zeros((len(sessions), 0))))
    for k in range(lines_a.shape[1]):
        a, b = lines_a[:, k, None], lines_b[:, k, None]
        used = np.isfinite(a) & np.ones_like(charge, dtype=bool)
        at = np.where(b < 0, level, level - gained)
        cap = np.where(used, np.where(used, a, 0.0) + b * at, np.inf)
        allow = tol + _rounding(np.abs(cap) + np.abs(charge), 3)
        _flag(found, "charge above the power curve", sessions, charge > cap + allow, charge, cap)

    # node limits through each subtree
    member = subtrees(problem.node_parent)
    node_of = np.asarray(problem.node_of_session, dtype=np.int64)
    under = member[:, node_of]  # (m, n): session i is attached at or below node k
    base = np.asarray(problem.base_load_kw, dtype=np.float64)
    base_sub = member.astype(np.float64) @ base
    base_mag = member.astype(np.float64) @ np.abs(base)
    net = charge - discharge
    net_mag = np.abs(charge) + np.abs(discharge)
    ev = under.astype(np.float64) @ net
    ev_mag = under.astype(np.float64) @ net_mag
    n_ev = 2 * under.sum(axis=1)[:, None] + 1  # terms in the EV sum
    n_base = member.sum(axis=1)[:, None] + 1  # terms in the room (limit minus subtree base)
    capacity = np.asarray(problem.node_capacity_kw, dtype=np.float64)
    export = np.asarray(problem.export_capacity_kw, dtype=np.float64)
    room_up = np.maximum(capacity - base_sub, 0.0)
    room_down = np.minimum(-export - base_sub, 0.0)
    allow = _allowance(tol, ev_mag, n_ev, room_up > 0, base_mag + _finite(capacity), n_base)
    _flag(found, "node import", nodes, ev > room_up + allow, ev, room_up)
    allow = _allowance(tol, ev_mag, n_ev, room_down < 0, base_mag + _finite(export), n_base)
    _flag(found, "node export", nodes, ev < room_down - allow, ev, room_down)

    # phase currents
    limit = np.asarray(problem.phase_current_max_a, dtype=np.float64)
    if np.isfinite(limit).any():
        volts = np.asarray(problem.node_voltage_v, dtype=np.float64)[:, None]
        phases = np.asarray(problem.session_phases, dtype=bool)
        count = phases.sum(axis=1)[:, None].astype(np.float64)
        base_amps = base_sub * _W_PER_KW / (3.0 * volts)
        base_amps_mag = base_mag * _W_PER_KW / (3.0 * volts)
        up = np.maximum(limit - base_amps, 0.0)
        down = np.minimum(-limit - base_amps, 0.0)
        for phase in range(3):
            on = (under & phases[:, phase][None, :]).astype(np.float64)
            amps = on @ (net / count) * _W_PER_KW / volts
            amps_mag = on @ (net_mag / count) * _W_PER_KW / volts
            room_mag = base_amps_mag + _finite(limit)
            names = [f"{node} phase L{phase + 1}" for node in nodes]
            allow = _allowance(tol, amps_mag, n_ev + 3, up > 0, room_mag, n_base + 3)
            _flag(found, "phase current", names, amps > up + allow, amps, up)
            allow = _allowance(tol, amps_mag, n_ev + 3, down < 0, room_mag, n_base + 3)
            _flag(found, "phase current (export)", names, amps < down - allow, amps, down)

    # shared EVSE ratings
    for uid, rows, rating in evse_groups(problem):
        drawn = charge[rows].sum(axis=0)
        allow = tol + _rounding(np.abs(charge[rows]).sum(axis=0), rows.size)
        bad = drawn > rating + allow
        for t in np.flatnonzero(bad):
            found.append(
                f"EVSE {uid!r} shared by sessions {rows.tolist()} slot {int(t)}: "
                f"{float(drawn[t])!r} beyond {float(rating[t])!r}"
            )
    return found


def max_total_energy_kwh(problem) -> float:
    """The most energy all sessions together can take [kWh] (an LP, scipy's HiGHS).

    Maximises the total energy into the batteries subject to the power boxes,
    each session's need, node import limits after the subtree's base load,
    per-phase current limits and shared EVSE ratings (the rules of
    :func:`violations`). The LP's point is then scaled into every limit
    exactly (every row is a packing row, so scaling power down keeps all
    others), so the value returned is delivered by a plan that breaks no
    limit: a plan that delivers less is not delivering the most possible.

    Only for problems without minimum rates or V2G (raises ``ValueError``).
    """
    if (np.asarray(problem.power_min_kw) > 0).any():
        raise ValueError("max_total_energy_kwh: minimum rates make it a MILP")
    if (np.asarray(problem.discharge_max_kw) > 0).any():
        raise ValueError("max_total_energy_kwh: V2G is not modelled")
    power_max = np.asarray(problem.power_max_kw, dtype=np.float64)
    n, n_slots = power_max.shape
    presence = np.asarray(problem.presence, dtype=np.float64)
    weight = presence * float(problem.grid.dt_h) * np.asarray(problem.charge_efficiency)[:, None]
    rows_i, rows_t = np.nonzero((power_max > 0) & (presence > 0))
    if rows_i.size == 0:
        return 0.0
    k = rows_i.size
    w = weight[rows_i, rows_t]
    upper = power_max[rows_i, rows_t]
    blocks, rhs = [], []

    def add(matrix_rows: list[np.ndarray], bounds: list[float]) -> None:
        for row, bound in zip(matrix_rows, bounds, strict=True):
            if np.isfinite(bound) and row.any():
                blocks.append(row)
                rhs.append(max(float(bound), 0.0))

    # each session at most its need (capped at what its box allows, for numerics)
    need = np.minimum(
        np.asarray(problem.energy_kwh, dtype=np.float64), (weight * power_max).sum(axis=1)
    )
    add([np.where(rows_i == i, w, 0.0) for i in range(n)], list(need))
    # nodes and phases
    member = subtrees(problem.node_parent)
    node_of = np.asarray(problem.node_of_session, dtype=np.int64)
    under = member[:, node_of]
    base_sub = member.astype(np.float64) @ np.asarray(problem.base_load_kw, dtype=np.float64)
    room = np.maximum(np.asarray(problem.node_capacity_kw, dtype=np.float64) - base_sub, 0.0)
    limit = np.asarray(problem.phase_current_max_a, dtype=np.float64)
    volts = np.asarray(problem.node_voltage_v, dtype=np.float64)
    phases = np.asarray(problem.session_phases, dtype=bool)
    count = phases.sum(axis=1).astype(np.float64)
    for node in range(member.shape[0]):
        for t in range(n_slots):
            in_slot = rows_t == t
            add([(under[node, rows_i] & in_slot).astype(np.float64)], [room[node, t]])
            if np.isfinite(limit[node, t]):
                base_amps = base_sub[node, t] * _W_PER_KW / (3.0 * volts[node])
                for phase in range(3):
                    on = under[node, rows_i] & in_slot & phases[rows_i, phase]
                    amps_per_kw = _W_PER_KW / (volts[node] * count[rows_i])
                    add([np.where(on, amps_per_kw, 0.0)], [limit[node, t] - base_amps])
    # shared EVSEs
    for _, members, rating in evse_groups(problem):
        for t in range(n_slots):
            add([(np.isin(rows_i, members) & (rows_t == t)).astype(np.float64)], [rating[t]])

    # Solve in scaled units (each column over its power box, each row and the objective over
    # their largest coefficient), with tight tolerances: the instances mix 1e-9 and 1e6, and
    # HiGHS's default tolerances would otherwise drop the gain of a column worth 1e-3 kWh.
    matrix = np.array(blocks) if blocks else np.zeros((0, k))
    bound = np.array(rhs)
    scaled = matrix * upper[None, :]
    row_scale = np.abs(scaled).max(axis=1) if blocks else np.ones(0)
    gain = w * upper
    result = linprog(
        -gain / gain.max(),
        A_ub=sp.csr_matrix(scaled / row_scale[:, None]) if blocks else None,
        b_ub=bound / row_scale if blocks else None,
        bounds=(0.0, 1.0),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if result.status != 0:
        raise RuntimeError(f"max_total_energy_kwh: linprog failed: {result.message}")
    result.x = result.x * upper
    x = np.clip(result.x, 0.0, upper)
    if blocks:  # scale into every row exactly (all coefficients >= 0)
        for _ in range(50):
            load = matrix @ x
            over = load > bound
            if not over.any():
                break
            for r in np.flatnonzero(over):
                factor = bound[r] / load[r] * (1.0 - 4.0 * _EPS) if load[r] > 0 else 0.0
                x = np.where(matrix[r] > 0, x * min(factor, 1.0), x)
        else:
            raise RuntimeError("max_total_energy_kwh: could not scale the LP point into its rows")
    return float(w @ x)
