"""The solver-independent charging problem: plain arrays on a :class:`TimeGrid`.

Shapes: ``n`` sessions, ``m`` grid nodes, ``T`` slots. Per-session quantities
are ``(n, T)``, per-node ones ``(m, T)``; all arrays are float64 (or int64 /
bool), C-contiguous and read-only. Power is kW, energy kWh, time slots of
``grid.dt_h`` hours.

A session is plugged in during slots ``arrival_slot[i] <= t <
departure_slot[i]``; ``presence[i, t]`` is the fraction of slot ``t`` it is
plugged in (1 inside the window, less in a partial first or last slot, 0
outside). Its power ``p[i, t]`` is the power while plugged in, so the energy
of a slot is ``p * presence * dt_h``; limits hold for ``p`` itself, so they
hold at every instant of the slot.

Energy is a range per session: ``energy_min_kwh <= delivered <=
energy_max_kwh``. The minimum is the need (what the plan must deliver where
it can; a shortfall is *unmet*), the maximum what the battery may take; the
common case is a need with ``min == max`` (``energy_kwh=`` in
:meth:`ChargingProblem.from_arrays`).

Sessions with the same EVSE uid share that EVSE: their summed power stays
within ``evse_power_max_kw`` in every slot. Node target bands
(``node_target_min_kw`` / ``node_target_max_kw``) are soft: the optimiser
first delivers the energy, then keeps the net EV load through each node as
close to its band as it can, then minimises cost; they are how a dispatched
aggregate profile is followed.

Examples
--------
>>> from datetime import datetime, timezone
>>> from fera_flex.timeseries import TimeGrid
>>> grid = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 3600, 4)
>>> problem = ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[0, 1], departure_slot=[4, 3], energy_kwh=[20, 10],
...     power_max_kw=11.0, node_of_session=[1, 1], node_parent=[-1, 0],
...     node_capacity_kw=[50.0, 15.0], price_eur_per_kwh=[0.3, 0.2, 0.1, 0.4])
>>> problem.n_sessions, problem.n_nodes, problem.n_slots
(2, 2, 4)
>>> problem.max_deliverable_kwh().tolist()
[44.0, 22.0]
>>> problem.sessions_under(1).tolist(), problem.select([1]).n_sessions
([0, 1], 1)
"""

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.models.ocpi import ProfileType
from fera_flex.scheduling._problem_checks import (
    PROFILE_TYPES,
    check_tree,
    curve_lines,
    energy_range,
    evse_groups,
    profile_codes,
)
from fera_flex.scheduling._validate import as_array, per_row, per_slot_row, per_slot_vector
from fera_flex.timeseries import TimeGrid

__all__ = ["PROFILE_TYPES", "ChargingProblem", "surely_short"]

_WHERE = "ChargingProblem.from_arrays"


def _frozen(array: NDArray) -> NDArray:
    """A read-only C-contiguous copy (the caller's array is never frozen)."""
    array = np.array(array, order="C", copy=True)
    array.flags.writeable = False
    return array


def _sealed(array: NDArray) -> NDArray:
    """``array`` itself made read-only: for a value the problem has just computed (no copy)."""
    array.flags.writeable = False
    return array


_SLOTS = (
    "arrival_slot",
    "base_load_kw",
    "charge_efficiency",
    "curve_a_kw",
    "curve_b_per_h",
    "departure_slot",
    "discharge_efficiency",
    "discharge_max_kw",
    "emission_g_per_kwh",
    "energy_max_kwh",
    "energy_min_kwh",
    "evse_ids",
    "evse_of_session",
    "evse_power_max_kw",
    "evse_uids",
    "export_capacity_kw",
    "export_price_eur_per_kwh",
    "grid",
    "metadata",
    "node_capacity_kw",
    "node_ids",
    "node_of_session",
    "node_order",
    "node_parent",
    "node_target_max_kw",
    "node_target_min_kw",
    "node_voltage_v",
    "phase_current_max_a",
    "power_max_kw",
    "power_min_kw",
    "presence",
    "price_eur_per_kwh",
    "profile_type",
    "session_ids",
    "session_phases",
)


_SIGNALS = ("price_eur_per_kwh", "export_price_eur_per_kwh", "emission_g_per_kwh")
_SESSION_ARRAYS = (
    "arrival_slot",
    "departure_slot",
    "first_slot_fraction",
    "last_slot_fraction",
    "energy_min_kwh",
    "energy_max_kwh",
    "power_max_kw",
    "power_min_kw",
    "discharge_max_kw",
    "charge_efficiency",
    "discharge_efficiency",
    "node_of_session",
    "session_phases",
    *_SIGNALS,
)
"""The :meth:`ChargingProblem.from_arrays` arrays with a row per session (signals when 2-D)."""


_TARGET_FIELDS = frozenset({"node_target_min_kw", "node_target_max_kw"})


def _target_bands(where: str, low: Any, high: Any, m: int, n_slots: int):
    """Node target bands as (m, T) arrays, checked: ``low <= high`` (either may be infinite)."""
    target_min, target_max = (
        per_slot_row(where, name, value, m, n_slots, allow_inf=True)
        for name, value in (("node_target_min_kw", low), ("node_target_max_kw", high))
    )
    if (target_min > target_max).any():
        index = tuple(int(i) for i in np.argwhere(target_min > target_max)[0])
        raise InputError(
            where,
            f"node_target_max_kw{list(index)}",
            float(target_max[index]),
            f"is below node_target_min_kw{list(index)} = {float(target_min[index])}",
        )
    return target_min, target_max


def _restore(state: dict[str, Any]) -> "ChargingProblem":
    """Rebuild a problem from its attributes (the pickle path: no re-validation)."""
    problem = ChargingProblem.__new__(ChargingProblem)
    state = {**state, "metadata": MappingProxyType(dict(state["metadata"]))}
    for name, value in state.items():
        object.__setattr__(
            problem, name, _frozen(value) if isinstance(value, np.ndarray) else value
        )
    return problem


class ChargingProblem:
    """Sessions, their limits and preferences, grid limits and signals, as arrays.

    Build it with :meth:`from_arrays` (benchmarks, tests) or
    :meth:`from_scenario` (the models); derive others with :meth:`replace`,
    :meth:`select` and :meth:`subtree`. Attributes are documented in
    :meth:`from_arrays`; all are read-only. Problems pickle.
    """

    __slots__ = (*_SLOTS, "_derived")

    @classmethod
    def from_arrays(
        cls,
        *,
        grid: TimeGrid,
        arrival_slot: Any,
        departure_slot: Any,
        power_max_kw: Any,
        node_of_session: Any,
        node_parent: Any,
        node_capacity_kw: Any,
        price_eur_per_kwh: Any,
        energy_kwh: Any = None,
        energy_min_kwh: Any = None,
        energy_max_kwh: Any = None,
        profile_type: Any = ProfileType.REGULAR,
        power_min_kw: Any = 0.0,
        discharge_max_kw: Any = 0.0,
        charge_efficiency: Any = 1.0,
        discharge_efficiency: Any = 1.0,
        export_price_eur_per_kwh: Any = None,
        emission_g_per_kwh: Any = 0.0,
        base_load_kw: Any = 0.0,
        export_capacity_kw: Any = np.inf,
        node_target_min_kw: Any = -np.inf,
        node_target_max_kw: Any = np.inf,
        first_slot_fraction: Any = 1.0,
        last_slot_fraction: Any = 1.0,
        session_phases: Any = True,
        phase_current_max_a: Any = np.inf,
        node_voltage_v: Any = 230.0,
        session_ids: Sequence[str] | None = None,
        evse_uids: Sequence[str | None] | None = None,
        evse_power_max_kw: Mapping[str, Any] | None = None,
        power_curves: Mapping[Any, Any] | None = None,
        power_curve_lines: tuple[Any, Any] | None = None,
        node_ids: Sequence[str] | None = None,
    ) -> "ChargingProblem":
        """Build a problem from arrays, checking every argument.

        Parameters
        ----------
        grid : TimeGrid
            The horizon: ``T`` slots of ``grid.dt_h`` hours.
        arrival_slot, departure_slot : array of int, shape (n,)
            First slot and one past the last slot each session is plugged in;
            ``0 <= arrival < departure <= T``.
        power_max_kw : float or array, shape (n,) or (n, T)
            Maximum charging power [kW], >= 0 (connector, vehicle and
            installed limits combined).
        node_of_session : array of int, shape (n,)
            Grid node each session's EVSE is attached to.
        node_parent : array of int, shape (m,)
            Parent of each node; node 0 is the root with parent -1.
        node_capacity_kw : float or array, shape (m,) or (m, T)
            Import limit of each node [kW], >= 0; ``inf`` for none.
        price_eur_per_kwh : array, shape (T,) or (n, T)
            Import price [EUR/kWh], global or per session.
        energy_kwh : float or array, shape (n,), optional
            Energy each session needs [kWh], >= 0: the range ``[need, need]``.
        energy_min_kwh, energy_max_kwh : float or array, shape (n,), optional
            Instead of ``energy_kwh``: the least (the need) and the most
            energy each session may receive [kWh]; ``energy_max_kwh`` may be
            ``inf`` (as much as it can take).
        profile_type : ProfileType or str, or a sequence of them
            One OCPI ProfileType for all sessions or one per session; REGULAR
            (OCPI's default) when omitted.
        power_min_kw : float or array, shape (n,)
            Minimum charging rate when charging [kW], 0 for none; at most the
            session's largest ``power_max_kw``.
        discharge_max_kw : float or array, shape (n,) or (n, T)
            Maximum V2G discharge power [kW]; 0 where discharge is not allowed.
        charge_efficiency, discharge_efficiency : float or array, shape (n,)
            Grid-to-battery and battery-to-grid efficiencies in (0, 1].
        export_price_eur_per_kwh : array, shape (T,) or (n, T), optional
            Price paid for discharged energy [EUR/kWh]; the import price when omitted.
        emission_g_per_kwh : float or array, shape (T,) or (n, T)
            Grid emission intensity [gCO2/kWh], >= 0.
        base_load_kw : float or array, shape (m,) or (m, T)
            Non-EV load directly at each node [kW] (generation negative).
        export_capacity_kw : float or array, shape (m,) or (m, T)
            Export limit of each node [kW], >= 0; ``inf`` for none.
        node_target_min_kw, node_target_max_kw : float or array, shape (m,) or (m, T)
            Target band for the net EV load through each node [kW]
            (``-inf`` / ``inf`` for none; equal ends for an exact target).
            Soft: deviations are minimised after energy, before cost.
        first_slot_fraction, last_slot_fraction : float or array, shape (n,)
            Fraction of the first and last slot the session is plugged in, in (0, 1].
        session_phases : bool or array, shape (n, 3)
            Phases (L1, L2, L3) each session draws current on; ``True`` for all three.
        phase_current_max_a : float or array, shape (m,) or (m, T)
            Per-phase current limit of each node [A]; ``inf`` for none.
        node_voltage_v : float or array, shape (m,)
            Line-to-neutral voltage of each node [V].
        session_ids, node_ids : sequences of str, optional
            Unique ids for reports and wire output; generated when omitted.
        evse_uids : sequence of str or None, optional
            EVSE of each session; sessions with the same uid share that EVSE
            (and must be at the same node).
        evse_power_max_kw : mapping of str to float or array (T,), optional
            Rating of shared EVSEs by uid [kW]; an EVSE not listed is rated
            at the largest ``power_max_kw`` of its sessions in each slot.
        power_curves : mapping of session (index or id) to (energy_kwh, power_kw), optional
            OEM charging curves: the most power the vehicle takes [kW] against
            the energy it has gained since plug-in [kWh] (breakpoints, linear
            in between), so a car tapers as it fills. Stored as lines
            ``p <= curve_a_kw + curve_b_per_h * E`` (shape (n, K)); see
            :func:`fera_flex.scheduling._problem_checks.curve_lines`.
        power_curve_lines : (array, array), shape (n, K) each, optional
            Instead of ``power_curves``: the lines ``(curve_a_kw,
            curve_b_per_h)`` themselves (``a = inf`` for none), e.g. of
            another problem.

        Returns
        -------
        ChargingProblem

        Raises
        ------
        InputError
            Naming the argument (and element) that is invalid.
        """
        if not isinstance(grid, TimeGrid):
            raise InputError(_WHERE, "grid", grid, "must be a fera_flex.timeseries.TimeGrid")
        n_slots = grid.n
        arrival = as_array(_WHERE, "arrival_slot", arrival_slot, np.int64)
        if arrival.ndim != 1:
            raise InputError(_WHERE, "arrival_slot", f"shape {arrival.shape}", "must be a vector")
        n = arrival.size
        departure = per_row(_WHERE, "departure_slot", departure_slot, n, dtype=np.int64)
        for name, array, low, high in (
            ("arrival_slot", arrival, 0, n_slots - 1),
            ("departure_slot", departure, 1, n_slots),
        ):
            bad = (array < low) | (array > high)
            if bad.any():
                index = int(np.argmax(bad))
                raise InputError(
                    _WHERE, f"{name}[{index}]", int(array[index]), f"must be in [{low}, {high}]"
                )
        empty = departure <= arrival
        if empty.any():
            index = int(np.argmax(empty))
            raise InputError(
                _WHERE,
                f"departure_slot[{index}]",
                int(departure[index]),
                f"the window is empty or negative: arrival_slot is {int(arrival[index])}",
            )
        parent = as_array(_WHERE, "node_parent", node_parent, np.int64)
        if parent.ndim != 1:
            raise InputError(_WHERE, "node_parent", f"shape {parent.shape}", "must be a vector")
        order = check_tree(parent)
        m = parent.size
        node_of = per_row(_WHERE, "node_of_session", node_of_session, n, dtype=np.int64)
        bad = (node_of < 0) | (node_of >= m)
        if bad.any():
            index = int(np.argmax(bad))
            raise InputError(
                _WHERE,
                f"node_of_session[{index}]",
                int(node_of[index]),
                f"must be a node index in [0, {m})",
            )
        presence = cls._presence(
            arrival, departure, n_slots, first_slot_fraction, last_slot_fraction
        )
        window = presence > 0
        power_max = per_slot_row(_WHERE, "power_max_kw", power_max_kw, n, n_slots, low=0.0) * window
        power_min = per_row(_WHERE, "power_min_kw", power_min_kw, n, low=0.0)
        too_high = power_min > power_max.max(axis=1, initial=0.0)
        if too_high.any():
            index = int(np.argmax(too_high))
            raise InputError(
                _WHERE,
                f"power_min_kw[{index}]",
                float(power_min[index]),
                f"exceeds the session's largest power_max_kw, "
                f"{float(power_max[index].max(initial=0.0))} kW: it could never charge",
            )
        uids = tuple(evse_uids) if evse_uids is not None else (None,) * n
        if len(uids) != n:
            raise InputError(_WHERE, "evse_uids", len(uids), f"must give {n} values")
        evse_ids, evse_of, evse_rating = evse_groups(uids, evse_power_max_kw, power_max, node_of)
        energy_min, energy_max = energy_range(energy_kwh, energy_min_kwh, energy_max_kwh, n)
        target_min, target_max = _target_bands(
            _WHERE, node_target_min_kw, node_target_max_kw, m, n_slots
        )
        price = per_slot_vector(_WHERE, "price_eur_per_kwh", price_eur_per_kwh, n, n_slots)
        values = {
            "grid": grid,
            "arrival_slot": arrival,
            "departure_slot": departure,
            "presence": presence,
            "energy_min_kwh": energy_min,
            "energy_max_kwh": energy_max,
            "power_max_kw": power_max,
            "power_min_kw": power_min,
            "discharge_max_kw": per_slot_row(
                _WHERE, "discharge_max_kw", discharge_max_kw, n, n_slots, low=0.0
            )
            * window,
            "charge_efficiency": per_row(
                _WHERE, "charge_efficiency", charge_efficiency, n, low=1e-6, high=1.0
            ),
            "discharge_efficiency": per_row(
                _WHERE, "discharge_efficiency", discharge_efficiency, n, low=1e-6, high=1.0
            ),
            "profile_type": profile_codes(profile_type, n),
            "node_of_session": node_of,
            "node_parent": parent,
            "node_order": order,
            "node_capacity_kw": per_slot_row(
                _WHERE, "node_capacity_kw", node_capacity_kw, m, n_slots, low=0.0, allow_inf=True
            ),
            "export_capacity_kw": per_slot_row(
                _WHERE,
                "export_capacity_kw",
                export_capacity_kw,
                m,
                n_slots,
                low=0.0,
                allow_inf=True,
            ),
            "node_target_min_kw": target_min,
            "node_target_max_kw": target_max,
            "base_load_kw": per_slot_row(_WHERE, "base_load_kw", base_load_kw, m, n_slots),
            "price_eur_per_kwh": price,
            "export_price_eur_per_kwh": price
            if export_price_eur_per_kwh is None
            else per_slot_vector(
                _WHERE, "export_price_eur_per_kwh", export_price_eur_per_kwh, n, n_slots
            ),
            "emission_g_per_kwh": per_slot_vector(
                _WHERE, "emission_g_per_kwh", emission_g_per_kwh, n, n_slots, low=0.0
            ),
            "phase_current_max_a": per_slot_row(
                _WHERE,
                "phase_current_max_a",
                phase_current_max_a,
                m,
                n_slots,
                low=0.0,
                allow_inf=True,
            ),
            "node_voltage_v": per_row(_WHERE, "node_voltage_v", node_voltage_v, m, low=1.0),
            "session_phases": cls._phases(session_phases, n),
            "session_ids": cls._ids("session_ids", session_ids, n, "s"),
            "evse_uids": uids,
            "evse_ids": evse_ids,
            "evse_of_session": evse_of,
            "evse_power_max_kw": evse_rating,
            "node_ids": cls._ids("node_ids", node_ids, m, "n"),
            "metadata": MappingProxyType({}),
        }
        if power_curve_lines is None:
            lines = curve_lines(power_curves, values["session_ids"])
        elif power_curves is not None:
            raise InputError(_WHERE, "power_curves", "and power_curve_lines", "give one of them")
        else:
            lines = cls._lines(power_curve_lines, n)
        values["curve_a_kw"], values["curve_b_per_h"] = lines
        return _restore(values)

    @classmethod
    def from_scenario(cls, scenario: Any) -> "ChargingProblem":
        """Build the problem of a :class:`~fera_flex.models.scenario.Scenario`.

        See :mod:`fera_flex.scheduling._from_scenario` for how each session's
        window, need and limits and each node's limits are derived; sessions
        that cannot be planned are listed in ``metadata["skipped"]``.
        """
        from fera_flex.models.scenario import Scenario
        from fera_flex.scheduling._from_scenario import problem_from_scenario

        if not isinstance(scenario, Scenario):
            raise InputError(
                "ChargingProblem.from_scenario",
                "scenario",
                type(scenario).__name__,
                "must be a Scenario",
            )
        return problem_from_scenario(scenario, cls)

    @staticmethod
    def _presence(
        arrival, departure, n_slots, first_fraction, last_fraction
    ) -> NDArray[np.float64]:
        n = arrival.size
        first = per_row(_WHERE, "first_slot_fraction", first_fraction, n, low=0.0, high=1.0)
        last = per_row(_WHERE, "last_slot_fraction", last_fraction, n, low=0.0, high=1.0)
        for name, array in (("first_slot_fraction", first), ("last_slot_fraction", last)):
            if (array == 0).any():
                index = int(np.argmax(array == 0))
                raise InputError(
                    _WHERE, f"{name}[{index}]", 0.0, "must be > 0 (drop the slot instead)"
                )
        slots = np.arange(n_slots)
        presence = ((slots >= arrival[:, None]) & (slots < departure[:, None])).astype(np.float64)
        rows = np.arange(n)
        presence[rows, arrival] = first
        single = departure - arrival == 1
        presence[rows, departure - 1] = np.where(single, np.minimum(first, last), last)
        return presence

    @staticmethod
    def _phases(value: Any, n: int) -> NDArray[np.bool_]:
        array = as_array(_WHERE, "session_phases", value, np.bool_)
        if array.ndim == 0:
            array = np.full((n, 3), bool(array))
        if array.shape != (n, 3):
            raise InputError(
                _WHERE, "session_phases", f"shape {array.shape}", f"must have shape ({n}, 3)"
            )
        none = ~array.any(axis=1)
        if none.any():
            index = int(np.argmax(none))
            raise InputError(
                _WHERE,
                f"session_phases[{index}]",
                array[index].tolist(),
                "needs at least one phase",
            )
        return array

    @staticmethod
    def _lines(value: Any, n: int) -> tuple[NDArray, NDArray]:
        name = "power_curve_lines"
        try:
            a, b = (as_array(_WHERE, name, part) for part in value)
        except (TypeError, ValueError):
            raise InputError(_WHERE, name, value, "must be two (n, K) arrays") from None
        if a.ndim != 2 or a.shape != b.shape or a.shape[0] != n:
            raise InputError(_WHERE, name, f"shapes {a.shape}, {b.shape}", f"must be ({n}, K)")
        if np.isnan(a).any() or (a < 0).any() or not np.isfinite(b).all():
            raise InputError(_WHERE, name, value, "a must be >= 0 (inf for none), b finite")
        return a, b

    @staticmethod
    def _ids(name: str, ids: Sequence[str] | None, count: int, prefix: str) -> tuple[str, ...]:
        if ids is None:
            return tuple(f"{prefix}{index}" for index in range(count))
        if isinstance(ids, str):
            raise InputError(_WHERE, name, ids, "must be a sequence of ids, not one string")
        ids = tuple(str(i) for i in ids)
        if len(ids) != count:
            raise InputError(_WHERE, name, len(ids), f"must give {count} ids")
        if len(set(ids)) != count:
            raise InputError(_WHERE, name, "duplicates", "ids must be unique")
        return ids

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ChargingProblem is immutable: cannot set {name!r}")

    def __reduce__(self):
        state = {name: getattr(self, name) for name in _SLOTS}
        state["metadata"] = dict(self.metadata)  # a mappingproxy does not pickle
        return _restore, (state,)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChargingProblem):
            return NotImplemented
        for name in _SLOTS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, np.ndarray):
                if mine.shape != theirs.shape or not np.array_equal(mine, theirs, equal_nan=True):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = None  # mutable-looking arrays inside: equal problems need not hash alike

    def __repr__(self) -> str:
        return (
            f"ChargingProblem({self.n_sessions} sessions, {self.n_nodes} nodes, "
            f"{self.n_slots} slots of {self.grid.step_s} s)"
        )

    # -- derived problems ---------------------------------------------------------------------

    def _arguments(self) -> dict[str, Any]:
        """The :meth:`from_arrays` arguments that rebuild this problem."""
        rows = np.arange(self.n_sessions)
        return {
            "grid": self.grid,
            "arrival_slot": self.arrival_slot,
            "departure_slot": self.departure_slot,
            "first_slot_fraction": self.presence[rows, self.arrival_slot],
            "last_slot_fraction": self.presence[rows, self.departure_slot - 1],
            "energy_min_kwh": self.energy_min_kwh,
            "energy_max_kwh": self.energy_max_kwh,
            "power_max_kw": self.power_max_kw,
            "power_min_kw": self.power_min_kw,
            "discharge_max_kw": self.discharge_max_kw,
            "charge_efficiency": self.charge_efficiency,
            "discharge_efficiency": self.discharge_efficiency,
            "profile_type": [PROFILE_TYPES[code] for code in self.profile_type],
            "node_of_session": self.node_of_session,
            "node_parent": self.node_parent,
            "node_capacity_kw": self.node_capacity_kw,
            "export_capacity_kw": self.export_capacity_kw,
            "node_target_min_kw": self.node_target_min_kw,
            "node_target_max_kw": self.node_target_max_kw,
            "base_load_kw": self.base_load_kw,
            "price_eur_per_kwh": self.price_eur_per_kwh,
            "export_price_eur_per_kwh": self.export_price_eur_per_kwh,
            "emission_g_per_kwh": self.emission_g_per_kwh,
            "session_phases": self.session_phases,
            "phase_current_max_a": self.phase_current_max_a,
            "node_voltage_v": self.node_voltage_v,
            "session_ids": self.session_ids,
            "evse_uids": self.evse_uids,
            "evse_power_max_kw": dict(zip(self.evse_ids, self.evse_power_max_kw, strict=True)),
            "power_curve_lines": (self.curve_a_kw, self.curve_b_per_h),
            "node_ids": self.node_ids,
        }

    def _rebuilt(self, arguments: dict[str, Any]) -> "ChargingProblem":
        """A problem from :meth:`from_arrays` arguments, keeping this one's metadata."""
        problem = ChargingProblem.from_arrays(**arguments)
        object.__setattr__(problem, "metadata", self.metadata)
        return problem

    def replace(self, **fields: Any) -> "ChargingProblem":
        """A copy with some :meth:`from_arrays` arguments replaced, validated anew.

        ``energy_kwh=`` replaces both ends of the energy range. Metadata is kept.

        Raises
        ------
        InputError
            For an unknown field or an invalid value.
        """
        if fields and set(fields) <= _TARGET_FIELDS:  # a dispatch to follow: nothing else new
            return self._with_targets(
                fields.get("node_target_min_kw", self.node_target_min_kw),
                fields.get("node_target_max_kw", self.node_target_max_kw),
            )
        arguments = self._arguments()
        known = set(arguments) | {"energy_kwh", "power_curves"}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InputError(
                "ChargingProblem.replace", "fields", unknown, f"unknown; known: {sorted(known)}"
            )
        if "energy_kwh" in fields:
            del arguments["energy_min_kwh"], arguments["energy_max_kwh"]
        if "evse_uids" in fields and "evse_power_max_kw" not in fields:
            del arguments["evse_power_max_kw"]
        if "power_curves" in fields:
            del arguments["power_curve_lines"]
        arguments.update(fields)
        return self._rebuilt(arguments)

    def _with_targets(self, low: Any, high: Any) -> "ChargingProblem":
        """A copy with new node target bands, which alone are validated.

        Every other array is shared (all are read-only); values derived from
        the arrays are computed anew.
        """
        where = "ChargingProblem.replace"
        low, high = _target_bands(where, low, high, self.n_nodes, self.n_slots)
        problem = ChargingProblem.__new__(ChargingProblem)
        for name in _SLOTS:
            object.__setattr__(problem, name, getattr(self, name))
        object.__setattr__(problem, "node_target_min_kw", _frozen(low))
        object.__setattr__(problem, "node_target_max_kw", _frozen(high))
        return problem

    def select(self, sessions: Any) -> "ChargingProblem":
        """The problem with only some sessions (same grid, nodes and limits).

        Parameters
        ----------
        sessions : array of int or bool, or sequence of session ids
            Rows to keep, in the order given (a boolean mask keeps row order).

        Returns
        -------
        ChargingProblem
        """
        return self._rebuilt(self._selected_arguments(self._session_rows(sessions)))

    def _selected_arguments(self, rows: NDArray[np.int64]) -> dict[str, Any]:
        """:meth:`from_arrays` arguments of the problem with only the sessions ``rows``."""
        arguments = self._arguments()
        for name in _SESSION_ARRAYS:
            value = arguments[name]
            if value.ndim == 2 or name not in _SIGNALS:
                arguments[name] = value[rows]
        for name in ("profile_type", "session_ids", "evse_uids"):
            arguments[name] = [arguments[name][i] for i in rows]
        arguments["power_curve_lines"] = tuple(a[rows] for a in arguments["power_curve_lines"])
        kept = {self.evse_uids[i] for i in rows}
        arguments["evse_power_max_kw"] = {
            uid: rating for uid, rating in arguments["evse_power_max_kw"].items() if uid in kept
        }
        return arguments

    def _session_rows(self, sessions: Any) -> NDArray[np.int64]:
        where = "ChargingProblem.select"
        if isinstance(sessions, str) or np.ndim(sessions) != 1:
            raise InputError(where, "sessions", sessions, "must be a sequence or 1-d array")
        items = list(sessions) if not isinstance(sessions, np.ndarray) else sessions
        if isinstance(items, np.ndarray) and items.dtype == np.bool_:
            if items.shape != (self.n_sessions,):
                raise InputError(where, "sessions", f"shape {items.shape}", "mask of wrong shape")
            return np.flatnonzero(items)
        if isinstance(items, np.ndarray) and items.dtype.kind in "iu":  # indices: checked at once
            outside = (items < 0) | (items >= self.n_sessions)
            if outside.any():
                item = items[np.argmax(outside)]
                raise InputError(where, "sessions", item, "no such session index")
            return items.astype(np.int64)
        rows = []
        index = {session_id: row for row, session_id in enumerate(self.session_ids)}
        for item in items:
            if isinstance(item, str):
                if item not in index:
                    raise InputError(where, "sessions", item, "no such session id")
                rows.append(index[item])
            elif isinstance(item, (int, np.integer)) and 0 <= item < self.n_sessions:
                rows.append(int(item))
            else:
                raise InputError(where, "sessions", item, "no such session index")
        return np.asarray(rows, dtype=np.int64)

    def node_index(self, node: int | str) -> int:
        """The index of a node given by index or id.

        Raises
        ------
        InputError
            For an unknown node.
        """
        if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
            if 0 <= node < self.n_nodes:
                return int(node)
        elif isinstance(node, str):
            found = self._node_positions().get(node)
            if found is not None:
                return found
        raise InputError("ChargingProblem", "node", node, "no such node index or id")

    def node_indices(self, nodes: Any) -> NDArray[np.int64]:
        """:meth:`node_index` of each of ``nodes`` (an integer array is checked at once).

        Raises
        ------
        InputError
            For the first unknown node.
        """
        array = np.asarray(nodes)
        if array.dtype.kind not in "iu":  # ids, or a mix: one by one
            return np.array([self.node_index(node) for node in nodes], dtype=np.int64)
        outside = (array < 0) | (array >= self.n_nodes)
        if outside.any():
            self.node_index(int(array[outside][0]))  # raises, naming it
        return array.astype(np.int64)

    def _node_positions(self) -> dict[str, int]:
        """Node id -> index (computed once)."""
        return self._derived_value(
            "node_positions", lambda: {node_id: k for k, node_id in enumerate(self.node_ids)}
        )

    def subtree_nodes(self, node: int | str) -> NDArray[np.int64]:
        """Indices of a node and all its descendants, parents before children (``node`` first)."""
        inside = (self.ancestors() == self.node_index(node)).any(axis=1)
        return self.node_order[inside[self.node_order]]

    def sessions_under(self, node: int | str) -> NDArray[np.int64]:
        """Indices of the sessions attached to a node or any of its descendants."""
        k = self.node_index(node)
        return np.flatnonzero((self.ancestors()[self.node_of_session] == k).any(axis=1))

    def subtree(self, node: int | str) -> "ChargingProblem":
        """The problem of one node's subtree: its nodes (re-indexed, ``node`` first) and sessions.

        Limits above ``node`` are not part of it. The root's subtree, when it
        keeps every node in its place, is the problem itself.
        """
        nodes = self.subtree_nodes(node)
        if np.array_equal(nodes, np.arange(self.n_nodes)):
            return self
        position = np.full(self.n_nodes, -1, dtype=np.int64)
        position[nodes] = np.arange(nodes.size)
        parent = position[np.maximum(self.node_parent[nodes], 0)]
        parent[0] = -1
        arguments = self._selected_arguments(self.sessions_under(node))  # one validation, not two
        for name in (
            "node_capacity_kw",
            "export_capacity_kw",
            "node_target_min_kw",
            "node_target_max_kw",
            "base_load_kw",
            "phase_current_max_a",
            "node_voltage_v",
        ):
            arguments[name] = arguments[name][nodes]
        arguments["node_parent"] = parent
        arguments["node_of_session"] = position[arguments["node_of_session"]]
        arguments["node_ids"] = [self.node_ids[k] for k in nodes]
        return self._rebuilt(arguments)

    # -- sizes and derived arrays ---------------------------------------------------------------

    @property
    def n_sessions(self) -> int:
        """Number of sessions ``n``."""
        return len(self.session_ids)

    @property
    def n_nodes(self) -> int:
        """Number of grid nodes ``m``."""
        return len(self.node_ids)

    @property
    def n_slots(self) -> int:
        """Number of slots ``T``."""
        return self.grid.n

    @property
    def energy_kwh(self) -> NDArray[np.float64]:
        """The need of each session: ``energy_min_kwh`` [kWh], shape (n,)."""
        return self.energy_min_kwh

    def _derived_value(self, name: str, compute) -> Any:
        """A value derived from the (immutable) arrays, computed once per problem."""
        try:
            derived = object.__getattribute__(self, "_derived")
        except AttributeError:  # a new or unpickled problem
            derived = {}
            object.__setattr__(self, "_derived", derived)
        if name not in derived:
            derived[name] = compute()
        return derived[name]

    @property
    def slot_energy_h(self) -> NDArray[np.float64]:
        """Hours of plugged-in time per (session, slot): ``presence * dt_h`` [h], shape (n, T)."""
        return self._derived_value("slot_energy_h", lambda: _sealed(self.presence * self.grid.dt_h))

    @property
    def node_base_load_kw(self) -> NDArray[np.float64]:
        """Non-EV load through each node (its subtree's base load) [kW], shape (m, T)."""
        return self._derived_value(
            "node_base_load_kw", lambda: _frozen(self.subtree_sum(self.base_load_kw))
        )

    @property
    def node_power_max_kw(self) -> NDArray[np.float64]:
        """The sessions' summed power limits through each node [kW], (m, T) (computed once)."""
        return self._derived_value(
            "node_power_max_kw", lambda: _frozen(self.node_loads_kw(self.power_max_kw))
        )

    @property
    def node_ev_max_kw(self) -> NDArray[np.float64]:
        """Most net EV load each node admits: ``max(capacity - base load, 0)`` [kW], (m, T).

        A node whose non-EV load alone reaches its limit admits no EV load
        (0), not a negative one: the EVs are not asked to undo an overload
        they did not cause.
        """
        return self._derived_value(
            "node_ev_max_kw",
            lambda: _frozen(np.maximum(self.node_capacity_kw - self.node_base_load_kw, 0.0)),
        )

    @property
    def node_ev_min_kw(self) -> NDArray[np.float64]:
        """Least net EV load each node admits: ``min(-export - base load, 0)`` [kW], (m, T)."""
        return self._derived_value(
            "node_ev_min_kw",
            lambda: _frozen(np.minimum(-self.export_capacity_kw - self.node_base_load_kw, 0.0)),
        )

    def price_matrix(self) -> NDArray[np.float64]:
        """Import price per (session, slot) [EUR/kWh], shape (n, T) (a broadcast view)."""
        return np.broadcast_to(self.price_eur_per_kwh, (self.n_sessions, self.n_slots))

    def own_power_max_kw(self) -> NDArray[np.float64]:
        """Most power each session could draw alone [kW], (n, T) (computed once, read-only).

        Its own limit, its EVSE's rating, and the EV room and phase-current
        room of every node above it, as if no other session were plugged in.
        """
        return self._derived_value("own_power_max_kw", self._own_power_max_kw)

    def _own_power_max_kw(self) -> NDArray[np.float64]:
        """:meth:`own_power_max_kw`, read-only: ``power_max_kw`` itself when nothing lowers it."""
        power = self.power_max_kw
        shared = self.evse_of_session >= 0
        if shared.any():
            power = power.copy()
            power[shared] = np.minimum(
                power[shared], self.evse_power_max_kw[self.evse_of_session[shared]]
            )
        highest = float(power.max(initial=0.0))
        node_room = self._path_minimum(self.node_ev_max_kw)
        if (node_room < highest).any():  # (n, T) work only where some room could cap
            power = np.minimum(power, node_room[self.node_of_session])
        if np.isfinite(self.phase_current_max_a).any():  # else no phase room to cap
            phase_room = self._path_minimum(self.node_phase_room_kw()[0])
            if (phase_room < highest).any():  # one phase's room; sessions use up to three
                phases = self.session_phases.sum(axis=1)[:, None]
                power = np.minimum(power, phases * phase_room[self.node_of_session])
        return power if power is self.power_max_kw else _sealed(power)

    def _path_minimum(self, per_node: NDArray) -> NDArray[np.float64]:
        """(m, T): the minimum of a per-node array over each node and its ancestors."""
        ancestors = self.ancestors()
        smallest = np.full((self.n_nodes, self.n_slots), np.inf)
        for level in range(ancestors.shape[1]):
            above = ancestors[:, level]
            on = above >= 0
            smallest[on] = np.minimum(smallest[on], per_node[above[on]])
        return smallest

    def node_phase_room_kw(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each node's per-phase current room, as the kW one phase carries [kW], (m, T) twice.

        The most and least net EV power per phase: ``max(limit - base, 0)``
        and ``min(-limit - base, 0)`` in A (the non-EV load spread over three
        phases) times the node's voltage; ``+-inf`` without a limit. A
        session on ``k`` phases draws ``1 / k`` of its power on each.
        """
        limit = self.phase_current_max_a
        volts = self.node_voltage_v[:, None]
        base_a = self.node_base_load_kw * 1000.0 / (3.0 * volts)
        with np.errstate(invalid="ignore"):  # an infinite limit minus the base
            up = np.maximum(limit - base_a, 0.0) * volts / 1000.0
            down = np.minimum(-limit - base_a, 0.0) * volts / 1000.0
        return up, down

    def _v2g(self) -> bool:
        """Whether any session may discharge (computed once)."""
        return self._derived_value("v2g", lambda: bool((self.discharge_max_kw > 0).any()))

    def battery_gain_kwh(
        self, charge_kw: Any, discharge_kw: Any, rows: NDArray | None = None
    ) -> NDArray[np.float64]:
        """Energy into each battery per slot [kWh], (n, T), from charge and discharge power [kW].

        ``slot_energy_h * (charge * charge_efficiency - discharge / discharge_efficiency)``;
        with ``rows`` (session indices) the power arrays are (n, T) still and
        only those sessions' rows are made, (k, T).
        """
        charge, hours, efficiency = self._charging_rows(charge_kw, rows)
        gained = hours * charge
        gained *= efficiency[:, None]
        if self._v2g():  # V1G problems have no discharge to subtract
            discharge = np.asarray(discharge_kw, dtype=np.float64)
            out = self.discharge_efficiency
            if rows is not None:
                discharge, out = np.broadcast_to(discharge, self.presence.shape)[rows], out[rows]
            gained -= hours * discharge / out[:, None]
        return gained

    def delivered_kwh(
        self, charge_kw: Any, discharge_kw: Any, rows: NDArray | None = None
    ) -> NDArray[np.float64]:
        """Energy into each battery over the horizon [kWh], (n,): :meth:`battery_gain_kwh` summed.

        The one sum that plans, the safety repair and ``verify_plan`` all use,
        so that a need met or a maximum kept to the last bit agrees everywhere.
        Without discharge, row dot products: no (n, T) array is made. With
        ``rows`` (session indices), only those sessions' sums, (k,): each row
        is summed alone, so they equal the same entries of the full sum bit
        for bit.
        """
        if self._v2g():
            return self.battery_gain_kwh(charge_kw, discharge_kw, rows).sum(axis=1)
        charge, hours, efficiency = self._charging_rows(charge_kw, rows)
        return np.einsum("ij,ij->i", hours, charge) * efficiency

    def _charging_rows(self, charge_kw: Any, rows: NDArray | None):
        """Charge power, slot hours and charge efficiencies of the sessions ``rows`` (None: all)."""
        charge = np.asarray(charge_kw, dtype=np.float64)
        hours, efficiency = self.slot_energy_h, self.charge_efficiency
        if rows is None:
            return charge, hours, efficiency
        return charge[rows], hours[rows], efficiency[rows]

    def max_deliverable_kwh(self) -> NDArray[np.float64]:
        """Energy each session could take alone (see :meth:`own_power_max_kw`) [kWh], (n,).

        Computed once; read-only.
        """
        return self._derived_value(
            "max_deliverable_kwh",
            lambda: _sealed(
                np.einsum("ij,ij->i", self.own_power_max_kw(), self.slot_energy_h)
                * self.charge_efficiency
            ),
        )

    def ancestors(self) -> NDArray[np.int64]:
        """Ancestors: row ``k`` is node ``k``, its parent, ..., the root, then -1 (read-only)."""

        def chain_of_parents():
            chain = [np.arange(self.n_nodes)]
            while (chain[-1] >= 0).any():
                current = chain[-1]
                chain.append(np.where(current >= 0, self.node_parent[np.maximum(current, 0)], -1))
            return _frozen(np.stack(chain[:-1], axis=1))

        return self._derived_value("ancestors", chain_of_parents)

    def nodes_with_sessions(self) -> NDArray[np.int64]:
        """Indices of the nodes with a session attached to them or below them, in index order."""
        chain = self.ancestors()[self.node_of_session]
        under = np.zeros(self.n_nodes, dtype=bool)
        under[chain[chain >= 0]] = True
        return np.flatnonzero(under)

    def subtree_sum(self, per_node: Any) -> NDArray[np.float64]:
        """Sum a per-node array ``(m, ...)`` over each node's subtree (itself and descendants)."""
        total = np.array(per_node, dtype=np.float64, copy=True)
        for node in self.node_order[::-1]:
            parent = self.node_parent[node]
            if parent >= 0:
                total[parent] += total[node]
        return total

    def node_loads_kw(self, net_kw: Any) -> NDArray[np.float64]:
        """Net EV load through every node per slot [kW], (m, T), from per-session power (n, T).

        Any per-session array ``(n, ...)`` is summed the same way into ``(m, ...)``.
        """
        return np.asarray(self._through() @ np.asarray(net_kw, dtype=np.float64))

    def _through(self) -> sp.csr_matrix:
        """The (m, n) 0/1 matrix of which sessions each node's load sums (computed once)."""

        def build():
            ancestors = self.ancestors()[self.node_of_session]
            session, level = np.nonzero(ancestors >= 0)
            return sp.csr_matrix(
                (np.ones(session.size), (ancestors[session, level], session)),
                shape=(self.n_nodes, self.n_sessions),
            )

        return self._derived_value("through", build)

    def evse_loads_kw(self, charge_kw: Any) -> NDArray[np.float64]:
        """Summed charging power on every shared EVSE per slot [kW], (E, T)."""
        on = self.evse_of_session >= 0
        loads = np.zeros((len(self.evse_ids), self.n_slots))
        np.add.at(loads, self.evse_of_session[on], np.asarray(charge_kw, dtype=np.float64)[on])
        return loads


def surely_short(problem: ChargingProblem, need_kwh: NDArray) -> bool:
    """A necessary condition for delivering every (capped) need fails.

    Per node (and shared EVSE): the needs of the sessions under it exceed the
    energy its room could carry if the sessions drew all they can in every
    slot. Cheap (linear), and exact enough to skip a doomed first solve.
    """
    dt_h = problem.grid.dt_h
    power = problem.own_power_max_kw()
    room = np.minimum(problem.node_loads_kw(power), problem.node_ev_max_kw)
    carried = room.sum(axis=1) * dt_h
    needed = problem.node_loads_kw(need_kwh[:, None])[:, 0]
    if (needed > carried * (1 + 1e-9) + 1e-9).any():
        return True
    shared = problem.evse_of_session >= 0
    if not shared.any():
        return False
    evse_room = np.minimum(problem.evse_loads_kw(power), problem.evse_power_max_kw)
    evse_need = np.zeros(len(problem.evse_ids))
    np.add.at(evse_need, problem.evse_of_session[shared], need_kwh[shared])
    return bool((evse_need > evse_room.sum(axis=1) * dt_h * (1 + 1e-9) + 1e-9).any())
