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
"""

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.models.ocpi import ProfileType
from fera_flex.scheduling._validate import as_array, per_row, per_slot_row, per_slot_vector
from fera_flex.timeseries import TimeGrid

__all__ = ["PROFILE_TYPES", "ChargingProblem"]

PROFILE_TYPES: tuple[ProfileType, ...] = (
    ProfileType.CHEAP,
    ProfileType.FAST,
    ProfileType.GREEN,
    ProfileType.REGULAR,
)
"""The code of a ProfileType in ``ChargingProblem.profile_type`` is its index here."""

_WHERE = "ChargingProblem.from_arrays"


def _frozen(array: NDArray) -> NDArray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def _profile_codes(value: Any, n: int) -> NDArray[np.int8]:
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


def _check_tree(node_parent: NDArray[np.int64]) -> NDArray[np.int64]:
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


class ChargingProblem:
    """Sessions, their limits and preferences, grid limits and signals, as arrays.

    Build it with :meth:`from_arrays` (benchmarks, tests) or
    :meth:`from_scenario` (the models). Attributes are documented in
    :meth:`from_arrays`; all are read-only.
    """

    __slots__ = (
        "arrival_slot",
        "base_load_kw",
        "charge_efficiency",
        "departure_slot",
        "discharge_efficiency",
        "discharge_max_kw",
        "emission_g_per_kwh",
        "energy_kwh",
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

    @classmethod
    def from_arrays(
        cls,
        *,
        grid: TimeGrid,
        arrival_slot: Any,
        departure_slot: Any,
        energy_kwh: Any,
        power_max_kw: Any,
        node_of_session: Any,
        node_parent: Any,
        node_capacity_kw: Any,
        price_eur_per_kwh: Any,
        profile_type: Any = ProfileType.CHEAP,
        power_min_kw: Any = 0.0,
        discharge_max_kw: Any = 0.0,
        charge_efficiency: Any = 1.0,
        discharge_efficiency: Any = 1.0,
        export_price_eur_per_kwh: Any = None,
        emission_g_per_kwh: Any = 0.0,
        base_load_kw: Any = 0.0,
        export_capacity_kw: Any = np.inf,
        first_slot_fraction: Any = 1.0,
        last_slot_fraction: Any = 1.0,
        session_phases: Any = True,
        phase_current_max_a: Any = np.inf,
        node_voltage_v: Any = 230.0,
        session_ids: Sequence[str] | None = None,
        evse_uids: Sequence[str | None] | None = None,
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
        energy_kwh : array, shape (n,)
            Energy each session needs [kWh], >= 0.
        power_max_kw : float or array, shape (n,) or (n, T)
            Maximum charging power [kW], >= 0 (EVSE, connector, vehicle and
            installed limits combined).
        node_of_session : array of int, shape (n,)
            Grid node each session's EVSE is attached to.
        node_parent : array of int, shape (m,)
            Parent of each node; node 0 is the root with parent -1.
        node_capacity_kw : float or array, shape (m,) or (m, T)
            Import limit of each node [kW], >= 0; ``inf`` for none.
        price_eur_per_kwh : array, shape (T,) or (n, T)
            Import price [EUR/kWh], global or per session.
        profile_type : ProfileType or str, or a sequence of them
            One OCPI ProfileType for all sessions or one per session.
        power_min_kw : float or array, shape (n,)
            Minimum charging rate when charging [kW], 0 for none.
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
        first_slot_fraction, last_slot_fraction : float or array, shape (n,)
            Fraction of the first and last slot the session is plugged in, in (0, 1].
        session_phases : bool or array, shape (n, 3)
            Phases (L1, L2, L3) each session draws current on; ``True`` for all three.
        phase_current_max_a : float or array, shape (m,) or (m, T)
            Per-phase current limit of each node [A]; ``inf`` for none.
        node_voltage_v : float or array, shape (m,)
            Line-to-neutral voltage of each node [V].
        session_ids, evse_uids, node_ids : sequences of str, optional
            Ids for reports and wire output; generated when omitted.

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
        order = _check_tree(parent)
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
        problem = cls.__new__(cls)
        values = {
            "grid": grid,
            "arrival_slot": arrival,
            "departure_slot": departure,
            "presence": presence,
            "energy_kwh": per_row(_WHERE, "energy_kwh", energy_kwh, n, low=0.0),
            "power_max_kw": per_slot_row(_WHERE, "power_max_kw", power_max_kw, n, n_slots, low=0.0)
            * window,
            "power_min_kw": per_row(_WHERE, "power_min_kw", power_min_kw, n, low=0.0),
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
            "profile_type": _profile_codes(profile_type, n),
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
            "base_load_kw": per_slot_row(_WHERE, "base_load_kw", base_load_kw, m, n_slots),
            "price_eur_per_kwh": per_slot_vector(
                _WHERE, "price_eur_per_kwh", price_eur_per_kwh, n, n_slots
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
            "evse_uids": tuple(evse_uids) if evse_uids is not None else (None,) * n,
            "node_ids": cls._ids("node_ids", node_ids, m, "n"),
            "metadata": MappingProxyType({}),
        }
        values["export_price_eur_per_kwh"] = (
            values["price_eur_per_kwh"]
            if export_price_eur_per_kwh is None
            else per_slot_vector(
                _WHERE, "export_price_eur_per_kwh", export_price_eur_per_kwh, n, n_slots
            )
        )
        if len(values["evse_uids"]) != n:
            raise InputError(_WHERE, "evse_uids", len(values["evse_uids"]), f"must give {n} values")
        for name, value in values.items():
            object.__setattr__(
                problem, name, _frozen(value) if isinstance(value, np.ndarray) else value
            )
        return problem

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
    def _ids(name: str, ids: Sequence[str] | None, count: int, prefix: str) -> tuple[str, ...]:
        if ids is None:
            return tuple(f"{prefix}{index}" for index in range(count))
        ids = tuple(str(i) for i in ids)
        if len(ids) != count:
            raise InputError(_WHERE, name, len(ids), f"must give {count} ids")
        if len(set(ids)) != count:
            raise InputError(_WHERE, name, "duplicates", "ids must be unique")
        return ids

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ChargingProblem is immutable: cannot set {name!r}")

    def __repr__(self) -> str:
        return (
            f"ChargingProblem({self.n_sessions} sessions, {self.n_nodes} nodes, "
            f"{self.n_slots} slots of {self.grid.step_s} s)"
        )

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
    def slot_energy_h(self) -> NDArray[np.float64]:
        """Hours of plugged-in time per (session, slot): ``presence * dt_h`` [h], shape (n, T)."""
        return self.presence * self.grid.dt_h

    def price_matrix(self) -> NDArray[np.float64]:
        """Import price per (session, slot) [EUR/kWh], shape (n, T) (a broadcast view)."""
        return np.broadcast_to(self.price_eur_per_kwh, (self.n_sessions, self.n_slots))

    def max_deliverable_kwh(self) -> NDArray[np.float64]:
        """Energy each session could take with no grid limit [kWh], shape (n,)."""
        return (self.power_max_kw * self.slot_energy_h).sum(axis=1) * self.charge_efficiency

    def ancestors(self) -> NDArray[np.int64]:
        """Ancestors: row ``k`` is node ``k``, its parent, ..., the root, then -1."""
        m = self.n_nodes
        chain = [np.arange(m)]
        while (chain[-1] >= 0).any():
            current = chain[-1]
            chain.append(np.where(current >= 0, self.node_parent[np.maximum(current, 0)], -1))
        return np.stack(chain[:-1], axis=1)

    def subtree_sum(self, per_node: Any) -> NDArray[np.float64]:
        """Sum a per-node array ``(m, ...)`` over each node's subtree (itself and descendants)."""
        total = np.array(per_node, dtype=np.float64, copy=True)
        for node in self.node_order[::-1]:
            parent = self.node_parent[node]
            if parent >= 0:
                total[parent] += total[node]
        return total

    def node_loads_kw(self, net_kw: Any) -> NDArray[np.float64]:
        """Net EV load through every node per slot [kW], (m, T), from per-session power (n, T)."""
        direct = np.zeros((self.n_nodes, self.n_slots))
        np.add.at(direct, self.node_of_session, np.asarray(net_kw, dtype=np.float64))
        return self.subtree_sum(direct)
