"""Checks of :meth:`ChargingProblem.from_arrays` arguments that build more than one array.

ProfileType codes, the node tree, energy ranges and shared-EVSE groups; each
raises :class:`~fera_flex.errors.InputError` naming the argument and element.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.models.ocpi import ProfileType
from fera_flex.scheduling._validate import as_array, per_row

__all__ = [
    "PROFILE_TYPES",
    "check_tree",
    "curve_lines",
    "energy_range",
    "evse_groups",
    "profile_codes",
]

PROFILE_TYPES: tuple[ProfileType, ...] = (
    ProfileType.CHEAP,
    ProfileType.FAST,
    ProfileType.GREEN,
    ProfileType.REGULAR,
)
"""The code of a ProfileType in ``ChargingProblem.profile_type`` is its index here."""

_WHERE = "ChargingProblem.from_arrays"


def profile_codes(value: Any, n: int) -> NDArray[np.int8]:
    items = [value] * n if isinstance(value, (str, ProfileType)) else list(value)
    if len(items) != n:
        raise InputError(
            _WHERE, "profile_type", f"{len(items)} values", f"must give 1 or {n} values"
        )
    codes = np.empty(n, dtype=np.int8)
    for index, item in enumerate(items):
        try:
            codes[index] = PROFILE_TYPES.index(ProfileType(item))
        except ValueError:
            raise InputError(
                _WHERE,
                f"profile_type[{index}]",
                item,
                "must be one of CHEAP, FAST, GREEN, REGULAR",
            ) from None
    return codes


def check_tree(node_parent: NDArray[np.int64]) -> NDArray[np.int64]:
    """Validate the parent array; return the nodes in an order with parents first."""
    m = node_parent.size
    if m == 0 or node_parent[0] != -1:
        raise InputError(
            _WHERE,
            "node_parent[0]",
            None if m == 0 else int(node_parent[0]),
            "node 0 is the root: must be -1",
        )
    others = node_parent[1:]
    bad = (others < 0) | (others >= m) | (others == np.arange(1, m))
    if bad.any():
        index = int(np.argmax(bad)) + 1
        raise InputError(
            _WHERE,
            f"node_parent[{index}]",
            int(node_parent[index]),
            f"must be a node index in [0, {m}) other than itself",
        )
    depth = np.full(m, -1, dtype=np.int64)
    depth[0] = 0
    for _ in range(m):
        unknown = depth < 0
        if not unknown.any():
            break
        parents_known = unknown & (depth[np.maximum(node_parent, 0)] >= 0)
        depth[parents_known] = depth[node_parent[parents_known]] + 1
    if (depth < 0).any():
        index = int(np.argmax(depth < 0))
        raise InputError(
            _WHERE, f"node_parent[{index}]", int(node_parent[index]), "the nodes form a cycle"
        )
    return np.argsort(depth, kind="stable")


def energy_range(energy_kwh, energy_min_kwh, energy_max_kwh, n) -> tuple[NDArray, NDArray]:
    """The (min, max) energy per session from a need or from both ends of a range."""
    if energy_kwh is not None:
        if energy_min_kwh is not None or energy_max_kwh is not None:
            raise InputError(
                _WHERE,
                "energy_kwh",
                "given with energy_min_kwh/energy_max_kwh",
                "give one or the other",
            )
        need = per_row(_WHERE, "energy_kwh", energy_kwh, n, low=0.0)
        return need, need
    if energy_min_kwh is None or energy_max_kwh is None:
        raise InputError(
            _WHERE, "energy_kwh", None, "give energy_kwh, or both energy_min_kwh and energy_max_kwh"
        )
    low = per_row(_WHERE, "energy_min_kwh", energy_min_kwh, n, low=0.0)
    high = per_row(_WHERE, "energy_max_kwh", energy_max_kwh, n, low=0.0, allow_inf=True)
    if (low > high).any():
        index = int(np.argmax(low > high))
        raise InputError(
            _WHERE,
            f"energy_max_kwh[{index}]",
            float(high[index]),
            f"is below energy_min_kwh[{index}] = {float(low[index])}",
        )
    return low, high


def evse_groups(
    evse_uids: tuple[str | None, ...],
    ratings: Mapping[str, Any] | None,
    power_max_kw: NDArray,
    node_of: NDArray,
) -> tuple[tuple[str, ...], NDArray[np.int64], NDArray[np.float64]]:
    """EVSE ids, each session's EVSE index (-1: none) and each EVSE's rating per slot [kW]."""
    n, n_slots = power_max_kw.shape
    ids = tuple(dict.fromkeys(uid for uid in evse_uids if uid is not None))
    position = {uid: k for k, uid in enumerate(ids)}
    of_session = np.array([position.get(uid, -1) for uid in evse_uids], dtype=np.int64)
    of_session = of_session.reshape(n)
    rating = np.zeros((len(ids), n_slots))
    on = of_session >= 0
    np.maximum.at(rating, of_session[on], power_max_kw[on])
    _, first_row = np.unique(of_session[on], return_index=True)
    first_node = node_of[on][first_row]
    moved = on & (first_node[np.maximum(of_session, 0)] != node_of) if ids else on
    if moved.any():
        index = int(np.argmax(moved))
        raise InputError(
            _WHERE,
            f"node_of_session[{index}]",
            int(node_of[index]),
            f"EVSE {evse_uids[index]!r} is at node {int(first_node[of_session[index]])}",
        )
    for uid, value in (ratings or {}).items():
        if uid not in position:
            raise InputError(_WHERE, "evse_power_max_kw", uid, "names no session's EVSE")
        name = f"evse_power_max_kw[{uid!r}]"
        given = as_array(_WHERE, name, value)
        if given.shape not in ((), (n_slots,)):
            raise InputError(
                _WHERE, name, f"shape {given.shape}", f"must be a number or ({n_slots},)"
            )
        if np.isnan(given).any() or (given < 0).any():
            raise InputError(_WHERE, name, value, "must be >= 0 (inf for none)")
        rating[position[uid]] = np.minimum(rating[position[uid]], given)
    return ids, of_session, rating


def curve_lines(
    curves: Mapping[Any, Any] | None, session_ids: tuple[str, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Power curves as lines ``p <= a + b * E`` per session, (n, K) arrays ``a`` [kW], ``b`` [1/h].

    ``curves`` maps a session (index or id) to ``(energy_kwh, power_kw)``:
    breakpoints of the most power the vehicle takes against the energy it
    has gained since plug-in, linear in between (the last piece continues).
    A concave curve (the usual shapes: flat then tapering, or rising, flat,
    tapering) is the minimum of its pieces' lines, exactly, and each piece
    becomes one line. A curve that is not concave cannot be a linear
    constraint; it is replaced by its lowest power, which is safe (below the
    curve everywhere). Unused lines are ``a = inf``.
    """
    n = len(session_ids)
    index = {session_id: row for row, session_id in enumerate(session_ids)}
    lines: dict[int, list[tuple[float, float]]] = {}
    for key, curve in (curves or {}).items():
        if isinstance(key, str) and key in index:
            row = index[key]
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < n:
            row = int(key)
        else:
            raise InputError(_WHERE, "power_curves", key, "names no session (index or id)")
        name = f"power_curves[{key!r}]"
        try:
            energy, power = (as_array(_WHERE, name, part) for part in curve)
        except (TypeError, ValueError):
            raise InputError(_WHERE, name, curve, "must be (energy_kwh, power_kw) arrays") from None
        if energy.ndim != 1 or energy.shape != power.shape or energy.size < 1:
            raise InputError(_WHERE, name, curve, "needs two vectors of one length >= 1")
        if not (np.isfinite(energy).all() and np.isfinite(power).all()):
            raise InputError(_WHERE, name, curve, "must be finite")
        if energy[0] != 0 or (np.diff(energy) <= 0).any() or (power < 0).any():
            raise InputError(
                _WHERE, name, curve, "energy must start at 0 and increase; power must be >= 0"
            )
        slopes = np.diff(power) / np.diff(energy)
        if energy.size == 1 or (np.diff(slopes) > 1e-12 * np.abs(slopes[1:])).any():
            lines[row] = [(float(power.min()), 0.0)]  # not concave: its lowest power, safely
        else:
            pieces = zip(energy[:-1], power[:-1], slopes, strict=True)
            lines[row] = [(float(p - b * e), float(b)) for e, p, b in pieces]
    count = max((len(v) for v in lines.values()), default=0)
    a = np.full((n, count), np.inf)
    b = np.zeros((n, count))
    for row, pieces in lines.items():
        a[row, : len(pieces)] = [piece[0] for piece in pieces]
        b[row, : len(pieces)] = [piece[1] for piece in pieces]
    return a, b
