"""Passes over every (session, slot) cell of a plan's power, fused (numba, private).

At 100,000 sessions x 96 slots an (n, T) array is 77 MB, and a numpy
expression per step makes one for each intermediate result: on fresh memory
each costs tens of milliseconds before any arithmetic. These kernels read
the arrays once and make nothing larger than their result.

**Checks.** :func:`fera_flex.scheduling.verify.verify_power` checks every (session, slot)
cell of a plan against the session's own limits. A plan usually breaks none,
so it first asks :func:`cell_checks` which kinds break anywhere. Only a
kind found there gets its mask (:func:`cell_mask`) and its violations
listed. :func:`cell_mask` is also the kernel's reference: the kernel finds a
kind exactly where its mask has a True (tests compare the two).

**Repair.** :func:`fera_flex.scheduling.safety.make_safe` starts from
:func:`clipped_power` (a solver's power within ``[0, upper]``, dust set to 0)
cuts a rounding excess from each session's :func:`last_charging_slot` and
scales an over-full group's sessions down in place (:func:`scale_rows`);
each has a numpy twin (``*_reference``) that tests compare it with.

**Pairs.** :func:`charge_pairs` lists the (session, slot) cells that can
charge with their cost segments, for the flow backend and the standard
form, in one pass over the power limits; :func:`summed_power` turns the
segments' power back into (n, T).

Examples
--------
>>> import numpy as np
>>> p = np.array([[1.0, 2.0]])
>>> d = np.zeros((1, 2))
>>> limits = dict(presence=np.ones((1, 2)), p_max=np.full((1, 2), 1.5),
...               d_max=np.zeros((1, 2)), p_min=np.zeros(1), tolerance=1e-9)
>>> found = cell_checks(p, d, **limits)
>>> [kind for kind, hit in zip(CELL_KINDS, found) if hit]
['power_max']
>>> cell_mask("power_max", p, d, **limits).tolist()
[[False, True]]
"""

import numpy as np
from numpy.typing import NDArray

from fera_flex._jit import jit

__all__ = [
    "CELL_KINDS",
    "cell_checks",
    "cell_mask",
    "charge_pairs",
    "charge_pairs_reference",
    "clipped_power",
    "clipped_power_reference",
    "last_charging_slot",
    "last_charging_slot_reference",
    "scale_rows",
    "scale_rows_reference",
    "summed_power",
    "summed_power_reference",
]

CELL_KINDS = ("negative", "outside_window", "power_max", "discharge_max", "min_rate", "discharging")
"""What :func:`cell_checks` reports, in its order: the violation kinds of one cell, and
``discharging`` (some discharge power is not 0; no violation in itself)."""


def cell_checks(
    p: NDArray,
    d: NDArray,
    presence: NDArray,
    p_max: NDArray,
    d_max: NDArray,
    p_min: NDArray,
    tolerance: float,
) -> NDArray[np.bool_]:
    """Which of :data:`CELL_KINDS` hold in some cell, (6,) bools.

    Parameters
    ----------
    p, d : ndarray (n, T)
        Charge and discharge power [kW].
    presence : ndarray (n, T)
        The problem's presence fractions (0: not plugged in).
    p_max, d_max : ndarray (n, T)
        Power limits [kW].
    p_min : ndarray (n,)
        Minimum charging rates [kW].
    tolerance : float
        Absolute slack of the limit checks [kW].
    """
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (p, d, presence, p_max, d_max)]
    rates = np.ascontiguousarray(p_min, dtype=np.float64)
    return _scan(*arrays, rates, float(tolerance))


def cell_mask(
    kind: str,
    p: NDArray,
    d: NDArray,
    presence: NDArray,
    p_max: NDArray,
    d_max: NDArray,
    p_min: NDArray,
    tolerance: float,
) -> NDArray[np.bool_]:
    """Where ``kind`` (one of :data:`CELL_KINDS`) holds, (n, T) bools (same arguments)."""
    if kind == "negative":
        return (p < 0) | (d < 0)
    if kind == "outside_window":
        return (presence == 0) & ((p != 0) | (d != 0))
    if kind == "power_max":
        return p - p_max > tolerance
    if kind == "discharge_max":
        return d - d_max > tolerance
    if kind == "min_rate":
        return (p > tolerance) & (p_min[:, None] - p > tolerance)
    if kind == "discharging":
        return d != 0
    raise ValueError(f"unknown cell check {kind!r}")


@jit
def _scan(p, d, presence, p_max, d_max, p_min, tolerance):
    found = np.zeros(6, dtype=np.bool_)
    n, n_slots = p.shape
    for i in range(n):
        rate = p_min[i]
        for t in range(n_slots):
            charge, discharge = p[i, t], d[i, t]
            if charge < 0 or discharge < 0:
                found[0] = True
            if presence[i, t] == 0 and (charge != 0 or discharge != 0):
                found[1] = True
            if charge - p_max[i, t] > tolerance:
                found[2] = True
            if discharge - d_max[i, t] > tolerance:
                found[3] = True
            if charge > tolerance and rate - charge > tolerance:
                found[4] = True
            if discharge != 0:
                found[5] = True
    return found


def clipped_power(power_kw: NDArray, upper_kw: NDArray, dust_kw: float) -> NDArray[np.float64]:
    """A new array: ``power_kw`` within ``[0, upper_kw]``, values below ``dust_kw`` set to 0.

    Both (n, T) [kW]; NaN stays NaN (as numpy's ``maximum`` / ``minimum``).
    """
    power = np.ascontiguousarray(power_kw, dtype=np.float64)
    upper = np.ascontiguousarray(upper_kw, dtype=np.float64)
    return _clip(power, upper, float(dust_kw))


def clipped_power_reference(power_kw, upper_kw, dust_kw) -> NDArray[np.float64]:
    """:func:`clipped_power` in numpy."""
    power = np.minimum(np.maximum(np.asarray(power_kw, dtype=np.float64), 0.0), upper_kw)
    power[power < dust_kw] = 0.0
    return power


@jit
def _clip(power, upper, dust):
    out = np.empty_like(power)
    n, n_slots = power.shape
    for i in range(n):
        for t in range(n_slots):
            x, cap = power[i, t], upper[i, t]
            if x != x or cap != cap:  # NaN in, NaN out
                out[i, t] = np.nan
                continue
            x = min(max(x, 0.0), cap)
            out[i, t] = 0.0 if x < dust else x
    return out


def last_charging_slot(charge_kw: NDArray, p_min_kw: NDArray, rows: NDArray) -> NDArray[np.int64]:
    """The last slot in which each of ``rows`` charges above its floor, (k,) (-1: none).

    A session's floor in a slot is its minimum rate ``p_min_kw`` where it
    charges at or above the rate, else 0 (``safety._floor``): the last slot
    whose power could come down without breaking the rate.
    """
    charge = np.ascontiguousarray(charge_kw, dtype=np.float64)
    rates = np.ascontiguousarray(p_min_kw, dtype=np.float64)
    return _last(charge, rates, np.ascontiguousarray(rows, dtype=np.int64))


def last_charging_slot_reference(charge_kw, p_min_kw, rows) -> NDArray[np.int64]:
    """:func:`last_charging_slot` in numpy."""
    charge = np.asarray(charge_kw, dtype=np.float64)[rows]
    rate = np.asarray(p_min_kw, dtype=np.float64)[rows, None]
    above = charge > np.where(charge >= rate, rate, 0.0)
    last = charge.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    return np.where(above.any(axis=1), last, -1)


@jit
def _last(charge, rates, rows):
    found = np.full(rows.size, -1, dtype=np.int64)
    for k in range(rows.size):
        i = rows[k]
        rate = rates[i]
        for t in range(charge.shape[1] - 1, -1, -1):
            x = charge[i, t]
            if x > (rate if x >= rate else 0.0):
                found[k] = t
                break
    return found


def scale_rows(power_kw: NDArray, rows: NDArray, group: NDArray, share: NDArray) -> None:
    """``power_kw[rows[j], t] *= share[group[j], t]`` for every j and t, in place.

    ``power_kw`` (n, T) C-contiguous float64, ``share`` (G, T): the repair of
    an over-full group's sessions without the (k, T) gathers of a numpy
    ``power[rows] *= share[group]``.
    """
    if not (power_kw.flags.c_contiguous and power_kw.dtype == np.float64):
        raise ValueError("scale_rows needs a C-contiguous float64 array to change in place")
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    group = np.ascontiguousarray(group, dtype=np.int64)
    _scale(power_kw, rows, group, np.ascontiguousarray(share, dtype=np.float64))


def scale_rows_reference(power_kw, rows, group, share) -> None:
    """:func:`scale_rows` in numpy."""
    power_kw[rows] *= share[group]


@jit
def _scale(power, rows, group, share):
    for j in range(rows.size):
        i, g = rows[j], group[j]
        for t in range(power.shape[1]):
            power[i, t] *= share[g, t]


def charge_pairs(
    p_max_kw: NDArray, table: NDArray, row: NDArray, extra: NDArray, flat_kw: NDArray
) -> tuple[NDArray, ...]:
    """The charging pairs and their cost segments (the fields of ``objective.ChargeSegments``).

    Parameters
    ----------
    p_max_kw : ndarray (n, T)
        Power limits [kW]; a pair is a cell above 0.
    table, row : ndarray (R, T) and (n,)
        Cost per kWh of the first segment: ``table[row[i], t]``.
    extra, flat_kw : ndarray (n,)
        Extra cost above the flat rate (0: none) and the flat rate [kW].

    Returns
    -------
    session, slot, first_cost, first_hi_kw, split, above_cost, above_hi_kw : ndarray
        In row-major order of the cells; ``split`` indexes the pairs whose
        limit is above a positive-extra session's flat rate.
    """
    return _pairs(
        np.ascontiguousarray(p_max_kw, dtype=np.float64),
        np.ascontiguousarray(table, dtype=np.float64),
        np.ascontiguousarray(row, dtype=np.int64),
        np.ascontiguousarray(extra, dtype=np.float64),
        np.ascontiguousarray(flat_kw, dtype=np.float64),
    )


def charge_pairs_reference(p_max_kw, table, row, extra, flat_kw) -> tuple[NDArray, ...]:
    """:func:`charge_pairs` in numpy."""
    session, slot = np.nonzero(p_max_kw > 0)
    first_cost = table[row[session], slot]
    p_max = p_max_kw[session, slot]
    split = np.flatnonzero((extra[session] > 0) & (p_max > flat_kw[session]))
    first_hi = p_max.copy()
    first_hi[split] = flat_kw[session[split]]
    above_cost = first_cost[split] + extra[session[split]]
    return session, slot, first_cost, first_hi, split, above_cost, p_max[split] - first_hi[split]


@jit
def _pairs(p_max_kw, table, row, extra, flat_kw):
    n, n_slots = p_max_kw.shape
    count, count_split = 0, 0
    for i in range(n):
        for t in range(n_slots):
            if p_max_kw[i, t] > 0:
                count += 1
                if extra[i] > 0 and p_max_kw[i, t] > flat_kw[i]:
                    count_split += 1
    session = np.empty(count, np.int64)
    slot = np.empty(count, np.int64)
    first_cost = np.empty(count)
    first_hi = np.empty(count)
    split = np.empty(count_split, np.int64)
    above_cost = np.empty(count_split)
    above_hi = np.empty(count_split)
    k, s = 0, 0
    for i in range(n):
        r = row[i]
        for t in range(n_slots):
            limit = p_max_kw[i, t]
            if not limit > 0:
                continue
            session[k], slot[k] = i, t
            cost = table[r, t]
            first_cost[k] = cost
            first_hi[k] = limit
            if extra[i] > 0 and limit > flat_kw[i]:
                first_hi[k] = flat_kw[i]
                split[s] = k
                above_cost[s] = cost + extra[i]
                above_hi[s] = limit - flat_kw[i]
                s += 1
            k += 1
    return session, slot, first_cost, first_hi, split, above_cost, above_hi


def summed_power(
    shape: tuple[int, int], cell: NDArray, power_kw: NDArray, p_max_kw: NDArray
) -> NDArray[np.float64]:
    """Segment power summed into its (session, slot) cells, (n, T) [kW], at most ``p_max_kw``.

    ``cell`` are flat cell indices (``session * T + slot``), ``power_kw`` the
    power of each segment; cells sum in input order. The flow backend's
    plan from its arc flows, without the (n, T) passes of a ``bincount``,
    reshape and ``minimum``.
    """
    cell = np.ascontiguousarray(cell, dtype=np.int64)
    power = np.ascontiguousarray(power_kw, dtype=np.float64)
    p_max = np.ascontiguousarray(p_max_kw, dtype=np.float64)
    out = np.zeros(shape)  # calloc: pages no cell touches cost nothing (numba's zeros writes them)
    _summed(out.ravel(), cell, power, p_max.ravel())
    return out


def summed_power_reference(shape, cell, power_kw, p_max_kw) -> NDArray[np.float64]:
    """:func:`summed_power` in numpy."""
    charge = np.bincount(cell, power_kw, minlength=shape[0] * shape[1])
    charge = charge.astype(np.float64, copy=False).reshape(shape)  # (no cells: integers)
    return np.minimum(charge, p_max_kw, out=charge)


@jit
def _summed(out, cell, power, p_max):
    for k in range(cell.size):
        out[cell[k]] += power[k]
    for k in range(cell.size):
        c = cell[k]
        if p_max[c] < out[c]:  # NaN stays NaN, as numpy's minimum
            out[c] = p_max[c]
