"""Make a solver's power arrays safe: within every limit exactly, whatever the solver's tolerance.

Backends solve the exact limits; their solutions may still exceed a limit
by a solver tolerance (about 1e-9 relative). :func:`make_safe` removes that
excess by lowering power, never raising it, so no repair can break a limit
that another repair fixed:

1. clip every power into its bounds and window; a session charging and
   discharging in the same slot keeps only the net of the two (it loses no
   battery energy that way); power below :data:`DUST_KW` (an interior point
   solver's residue) is 0; a charging power within :data:`MIN_RATE_RTOL`
   (or 1e-6 kW) below its minimum rate is raised to it, any other below it
   is 0;
2. shared EVSEs: where a rating is exceeded, scale their sessions' charging
   down;
3. nodes and phases, root first, level by level: scale the charging (import
   side) or discharging (export side) of the sessions under a node down by
   the factor that brings the node back within its room (a level's nodes
   have disjoint subtrees, so one pass per level). In steps 2 and 3 a
   session charging at or above its minimum rate keeps the rate: only the
   power above the rates is scaled, and where the rates alone exceed a
   limit, the sessions that cover the excess with the fewest kW are
   switched off there;
4. energy above a session's maximum is cut from its latest slots (which
   keeps every earlier battery level), down to the minimum rate where the
   slot is above it; a rounding-sized excess from the last charging slot
   alone, by exactly that much; then charging within each power curve,
   slot by slot;
5. a V2G battery level below 0 is fixed by discharging less, latest first;
6. charging still below its minimum rate (a power curve below the rate,
   or an energy cut through it) is switched off: no plan charges below a
   minimum rate, not even by a rounding.

Steps 5 and 6 can break what steps 3-4 fixed and the other way round, so
the steps repeat (at most :data:`PASSES` times); a V2G session still short
then stops discharging. Every step is linear in the size of the arrays and
changes :func:`make_safe`'s own arrays (made in step 1) in place: a new
array of every session and slot costs its page faults (about 0.1 s at
100,000 sessions x 96 slots).

Examples
--------
>>> import numpy as np
>>> from fera_flex.scenarios import random_problem
>>> from fera_flex.scheduling.verify import verify_power
>>> problem = random_problem(8, n_slots=12, seed=2)
>>> charge, discharge = make_safe(problem, 2 * problem.power_max_kw, 0 * problem.power_max_kw)
>>> verify_power(problem, charge, discharge, tolerance=0.0)
[]
"""

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling._cell_passes import clipped_power, last_charging_slot, scale_rows
from fera_flex.scheduling.problem import ChargingProblem

__all__ = ["DUST_KW", "MIN_RATE_RTOL", "PASSES", "make_safe"]

PASSES = 4
"""Repair passes before a V2G session that still breaks its battery level stops discharging."""

_SHAVE = 1.0 - 1e-12
"""Scaling factors are multiplied by this, so a scaled sum lands below its limit, not on it."""

DUST_KW = 1e-6
"""Power below this is an interior point solver's residue, not a plan: it becomes 0 [kW]."""

_SNAP_KW = 1e-6
"""A charging power this close below its minimum rate is raised to it [kW]."""

MIN_RATE_RTOL = 1e-9
"""A solver's charging power this close below its minimum rate, relative (or within
``_SNAP_KW``), is at the rate: the repair raises it to the rate, and a warm start keeps it
on. The plan itself charges at or above the rate exactly, or not at all."""


def make_safe(
    problem: ChargingProblem, charge_kw: NDArray, discharge_kw: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Charge and discharge power (n, T) [kW] within every limit of ``problem``.

    Parameters
    ----------
    problem : ChargingProblem
        The problem.
    charge_kw, discharge_kw : ndarray, shape (n, T)
        A solver's power, possibly a tolerance beyond some limit.

    Returns
    -------
    (ndarray, ndarray)
        New arrays; lowered where needed, never raised except for step 1's snap.

    Raises
    ------
    InputError
        For arrays of another shape than the problem's (sessions, slots).
    """
    shape = (problem.n_sessions, problem.n_slots)
    for name, array in (("charge_kw", charge_kw), ("discharge_kw", discharge_kw)):
        if np.shape(array) != shape:
            raise InputError("make_safe", name, f"shape {np.shape(array)}", f"must be {shape}")
    v2g = (problem.discharge_max_kw > 0).any(axis=1)
    if v2g.any():  # (n, T) passes only where a session can discharge at all
        charge = clipped_power(charge_kw, problem.power_max_kw, 0.0)
        discharge = clipped_power(discharge_kw, problem.discharge_max_kw, 0.0)
        both = np.minimum(charge, discharge)  # charging and discharging at once: only the net
        charge, discharge = charge - both, discharge - both
        discharge[discharge < DUST_KW] = 0.0
        charge[charge < DUST_KW] = 0.0
    else:
        charge = clipped_power(charge_kw, problem.power_max_kw, DUST_KW)
        discharge = np.zeros(charge.shape)  # calloc: untouched pages cost nothing
    rated = problem.power_min_kw > 0
    p_min = np.broadcast_to(problem.power_min_kw[:, None], charge.shape)
    if rated.any():
        near = (charge < p_min) & (charge >= p_min * (1.0 - MIN_RATE_RTOL) - _SNAP_KW)
        charge = np.where(near, np.minimum(p_min, problem.power_max_kw), charge)
        charge = np.where(charge < p_min, 0.0, charge)
    for attempt in range(PASSES + 1):
        _within_limits(problem, charge, discharge)
        short = _battery_short(problem, charge, discharge) & v2g if v2g.any() else v2g
        if not short.any():
            break
        if attempt < PASSES:
            _fill_batteries(problem, charge, discharge, short)
    while short.any():  # short after every pass: those sessions stop discharging (terminates:
        discharge[short] = 0.0  # a session without discharge
        _within_limits(problem, charge, discharge)  # is never short)
        short = _battery_short(problem, charge, discharge) & v2g
    return charge, discharge


def _within_limits(problem: ChargingProblem, charge: NDArray, discharge: NDArray):
    """Steps 2-4 and 6, in place: EVSE ratings, rooms, energy maxima, curves, minimum rates."""
    _within_evses(problem, charge)
    _within_rooms(problem, charge, discharge)
    _within_energy(problem, charge, discharge)
    _within_curves(problem, charge, discharge)
    if (problem.power_min_kw > 0).any():  # step 6, before the battery levels are checked
        np.putmask(charge, charge < problem.power_min_kw[:, None], 0.0)


def _over(limit: NDArray, load: NDArray) -> NDArray[np.bool_]:
    """Where a load must come down: at or above its shaved limit, and positive.

    A load exactly at its limit comes down too: the same sum computed in
    another unit (A instead of kW) or order may round to just above it.
    """
    return (load > limit * _SHAVE) & (load > 0)


def _floor(charge: NDArray, p_min: NDArray) -> NDArray[np.float64]:
    """Each charging power's floor: its minimum rate where it charges at or above it, else 0.

    ``p_min`` broadcasts against ``charge`` (a column of rates for rows of power).
    """
    return np.where(charge >= p_min, p_min, 0.0)


def _lower_into(
    power: NDArray,
    limit: NDArray,
    load: NDArray,
    member: NDArray,
    group_load,
    p_min: NDArray | None = None,
    weight: NDArray | None = None,
) -> None:
    """Lower ``power`` in place so that every group's load is within its limit.

    Parameters
    ----------
    power : ndarray, shape (n, T)
        Per-session power [kW], changed in place.
    limit, load : ndarray, shape (G, T)
        Each group's limit and its load ``group_load(power)`` [kW].
    member : ndarray of int, shape (n,)
        Each session's group, -1 for none.
    group_load : callable
        ``group_load(per_session (n, T)) -> (G, T)``, the group sums (weighted).
    p_min : ndarray, shape (n,), optional
        Each session's minimum rate, when some session has one. A session at
        or above its rate keeps the rate (its floor, :func:`_floor`) while
        others can give: in an over-full group only the power above the floors
        is scaled down, by one factor per group and slot, so no session is
        pushed below its minimum rate by others' excess. Where the floors
        alone exceed the limit, rated sessions are switched off there
        (:func:`_switch_off`); floors within the limit but above its shaved
        value stay (lowering them would break a minimum rate).
    weight : ndarray, shape (n,), optional
        Each session's share of its power in its group's load (phases).
    """
    over = _over(limit, load)
    if not over.any():
        return
    floor = None if p_min is None else _floor(power, p_min[:, None])
    cut = over.any(axis=1)
    rows = np.flatnonzero((member >= 0) & cut[np.maximum(member, 0)])
    group = member[rows]
    target = np.maximum(limit, 0.0) * _SHAVE
    base = 0.0 if floor is None else group_load(floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(over, np.clip((target - base) / (load - base), 0.0, 1.0), 1.0)
    share = np.nan_to_num(share, nan=0.0)  # no power above the floors: nothing to scale
    if floor is None:
        scale_rows(power, rows, group, share)
        return
    lowest, before = floor[rows], power[rows]
    # never above the power before (floor + (p - floor) rounds to p plus an ulp at times)
    power[rows] = np.minimum(before, lowest + (before - lowest) * share[group])
    stuck = over & (base > limit)  # floors between the shaved and the exact limit may stay
    if stuck.any():
        _switch_off(power, floor, weight, rows, group, stuck, limit)


def _switch_off(power, floor, weight, rows, group, stuck, limit) -> None:
    """Switch rated sessions off in each (group, slot) whose floors exceed the exact limit.

    Where one session's floor covers the excess, the smallest such goes,
    otherwise the largest, until the floors left are within the limit (the
    fewest kW and sessions lost). Only hostile inputs get here (minimum rates
    that cannot all fit under a limit), so it loops in Python.
    """
    for g, t in zip(*np.nonzero(stuck), strict=True):
        members = rows[group == g]
        members = members[floor[members, t] > 0]
        kw = floor[members, t] * (1.0 if weight is None else weight[members])
        order = np.argsort(kw, kind="stable")
        members, kw = list(members[order]), list(kw[order])
        while members and (excess := (total := float(np.sum(kw))) - limit[g, t]) > 0:
            # the excess is rounded to the total's precision: a floor that close to it covers
            # it (the loop checks the sum that is left)
            slack = 4.0 * np.finfo(np.float64).eps * total
            covering = [k for k, value in enumerate(kw) if value >= excess - slack]
            k = covering[0] if covering else len(kw) - 1
            power[members.pop(k), t] = 0.0
            kw.pop(k)


def _rates(problem: ChargingProblem) -> NDArray | None:
    """The sessions' minimum rates [kW], (n,); None when no session has one."""
    return problem.power_min_kw if (problem.power_min_kw > 0).any() else None


def _within_evses(problem: ChargingProblem, charge: NDArray) -> None:
    """Charging on each shared EVSE within its rating, in place (step 2)."""
    if not (problem.evse_of_session >= 0).any():
        return
    load = problem.evse_loads_kw(charge)
    _lower_into(
        charge,
        problem.evse_power_max_kw,
        load,
        problem.evse_of_session,
        problem.evse_loads_kw,
        _rates(problem),
    )


def _rooms(problem: ChargingProblem):
    """(weight per session (n,) or None, room up (m, T), room down (m, T)): total, each phase.

    The load of node k is ``sum over sessions under k of weight * net power``
    (weight None: 1 for every session), in kW for the total and in
    kW-equivalents of phase current for a phase.
    """
    yield None, problem.node_ev_max_kw, problem.node_ev_min_kw
    if not np.isfinite(problem.phase_current_max_a).any():
        return
    up, down = problem.node_phase_room_kw()
    phases = problem.session_phases
    for phase in range(3):
        yield phases[:, phase] / phases.sum(axis=1), up, down


def _within_rooms(problem: ChargingProblem, charge: NDArray, discharge: NDArray) -> None:
    """Lower power under each node into its room, root first (step 3), in place.

    Only the sessions under a node that is over its room are touched: power
    already within every room (the usual case) costs one node-load sum per
    level.
    """
    ancestors = problem.ancestors()
    depth = (ancestors >= 0).sum(axis=1) - 1
    leaf = problem.node_of_session
    discharging = bool(discharge.any())
    p_min = _rates(problem)
    for weight, room_up, room_down in _rooms(problem):
        on = np.ones(leaf.shape, dtype=bool) if weight is None else weight > 0
        for level in range(int(depth.max()) + 1):
            # each session's ancestor at this level (-1 above its own node)
            steps = depth[leaf] - level
            above = np.where(steps >= 0, ancestors[leaf, np.maximum(steps, 0)], -1)
            if not (on & (above >= 0)).any():
                continue
            nodes = np.flatnonzero(depth == level)
            position = np.full(problem.n_nodes, -1, dtype=np.int64)
            position[nodes] = np.arange(nodes.size)
            member = np.where(on & (above >= 0), position[np.maximum(above, 0)], -1)

            def load(power, weight=weight, nodes=nodes):
                weighted = power if weight is None else weight[:, None] * power
                return problem.node_loads_kw(weighted)[nodes]

            fed = load(discharge) if discharging else 0.0
            _lower_into(charge, room_up[nodes] + fed, load(charge), member, load, p_min, weight)
            if discharging:
                _lower_into(discharge, load(charge) - room_down[nodes], fed, member, load)


def _within_energy(problem: ChargingProblem, charge: NDArray, discharge: NDArray) -> None:
    """Cut energy above each session's maximum from its latest slots, in place (step 4).

    An excess a rounding makes (a solver's or a greedy fill's sum landing an
    ulp above the need: about half the sessions of a plan) comes out of the
    last slot the session charges in, by the excess itself and then, where
    the sum still rounds above, by a few ulps (:func:`_cut_rounding`), so a
    plan at its maximum keeps it to the last digit; larger excesses go
    through the general cut (:func:`_cut_latest`).
    """
    most = problem.energy_max_kwh
    excess = problem.delivered_kwh(charge, discharge) - most
    over = np.flatnonzero(excess > 0)
    if over.size == 0:
        return
    rest = _cut_rounding(problem, charge, discharge, over, excess[over])
    if rest.size:
        excess = problem.delivered_kwh(charge, discharge, rest) - most[rest]
        rest, excess = rest[excess > 0], excess[excess > 0]
    if rest.size:
        charge[rest] = _cut_latest(problem, charge[rest], rest, excess)


_ROUNDING_PASSES = 4
"""Tries of :func:`_cut_rounding` (each one ulp further down) before the general cut."""


def _cut_rounding(problem, charge, discharge, over, excess) -> NDArray[np.int64]:
    """Cut each over session's excess from the last slot it charges in, in place.

    Only where that slot (above its minimum rate) holds the excess; the rest
    of ``over`` is returned, and so is a session whose sum still rounds above
    its maximum after :data:`_ROUNDING_PASSES` ulp steps down.
    """
    found = last_charging_slot(charge, problem.power_min_kw, over)
    on, last = found >= 0, np.maximum(found, 0)
    per_kw = problem.slot_energy_h[over, last] * problem.charge_efficiency[over]
    at = charge[over, last]
    low = _floor(at, problem.power_min_kw[over])
    with np.errstate(divide="ignore", invalid="ignore"):
        fits = on & (per_kw > 0) & ((at - low) * per_kw >= excess)
        lowered = np.maximum(np.minimum(at - excess / per_kw, at), low)
    cells, slots = over[fits], last[fits]
    charge[cells, slots] = lowered[fits]
    most = problem.energy_max_kwh
    for _ in range(_ROUNDING_PASSES):
        still = problem.delivered_kwh(charge, discharge, cells) > most[cells]
        cells, slots = cells[still], slots[still]
        if cells.size == 0:
            break
        at = charge[cells, slots]
        charge[cells, slots] = np.maximum(
            np.nextafter(at, -np.inf), _floor(at, problem.power_min_kw[cells])
        )
    # the cells nudged last may be within now: the caller checks the returned rows again
    return np.concatenate([over[~fits], cells])


def _cut_latest(problem, rows, over, excess) -> NDArray[np.float64]:
    """The rows ``over`` with their excess cut from their latest slots.

    First down to the minimum rate, then by switching slots off.
    """
    most = problem.energy_max_kwh
    per_kw = problem.slot_energy_h[over] * problem.charge_efficiency[over, None]
    # a little more than the excess, so the sum lands below the maximum after rounding
    wanted = excess * (1.0 + 1e-9) + 1e-12 * np.maximum(1.0, most[over])
    for floor in (_floor(rows, problem.power_min_kw[over, None]), np.zeros_like(rows)):
        cuttable = np.maximum(rows - floor, 0.0) * per_kw
        later = np.cumsum(cuttable[:, ::-1], axis=1)[:, ::-1] - cuttable  # cuttable after a slot
        cut = np.clip(wanted[:, None] - later, 0.0, cuttable)
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = np.maximum(np.where(cut > 0, rows - cut / per_kw, rows), floor)
        wanted = wanted - cut.sum(axis=1)
        if (wanted <= 0).all():
            break
    return rows


def _within_curves(problem: ChargingProblem, charge: NDArray, discharge: NDArray) -> None:
    """Charging within each power curve at the levels it leads to, slot by slot, in place (4b).

    A falling line is met at the end of the slot: ``p <= a + b * (level + p *
    h * eta - discharge)`` gives ``p <= (a + b * (level - discharge)) / (1 - b * h * eta)``.
    """
    rows = np.flatnonzero(np.isfinite(problem.curve_a_kw).any(axis=1))
    if rows.size == 0:
        return
    a, b = problem.curve_a_kw[rows], problem.curve_b_per_h[rows]
    per_kw_in = problem.slot_energy_h[rows] * problem.charge_efficiency[rows, None]
    out = discharge[rows] * problem.slot_energy_h[rows] / problem.discharge_efficiency[rows, None]
    level = np.zeros(rows.size)
    for t in range(problem.n_slots):
        h = per_kw_in[:, t, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            rising = a + b * level[:, None]
            falling = (a + b * (level[:, None] - out[:, t, None])) / (1.0 - b * h)
        caps = np.where(np.isfinite(a), np.where(b < 0, falling, rising), np.inf)
        cap = np.maximum(caps.min(axis=1), 0.0)
        over = charge[rows, t] > cap * _SHAVE
        charge[rows[over], t] = cap[over] * _SHAVE
        level += charge[rows, t] * per_kw_in[:, t] - out[:, t]


def _battery_short(problem: ChargingProblem, charge: NDArray, discharge: NDArray) -> NDArray:
    """Sessions whose battery level falls below 0 somewhere."""
    return (np.cumsum(problem.battery_gain_kwh(charge, discharge), axis=1) < 0).any(axis=1)


def _fill_batteries(problem, charge, discharge, short) -> None:
    """Discharge less, latest first before each deficit, so levels stay >= 0 (step 5), in place."""
    hours = problem.slot_energy_h
    for i in np.flatnonzero(short):
        per_kw_out = hours[i] / problem.discharge_efficiency[i]
        for _ in range(problem.n_slots):
            gained = hours[i] * charge[i] * problem.charge_efficiency[i] - discharge[i] * per_kw_out
            level = np.cumsum(gained)
            if not (level < 0).any():
                break
            slot = int(np.argmax(level < 0))
            deficit = -level[slot] * (1.0 + 1e-9) + 1e-15
            for t in range(slot, -1, -1):
                if deficit <= 0:
                    break
                if discharge[i, t] > 0 and per_kw_out[t] > 0:
                    cut = min(deficit / per_kw_out[t], discharge[i, t])
                    discharge[i, t] -= cut
                    deficit -= cut * per_kw_out[t]
