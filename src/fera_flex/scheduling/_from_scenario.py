"""Build a :class:`ChargingProblem` from a :class:`~fera_flex.models.scenario.Scenario`.

Per session (an OCPI Session with its ChargingPreferences, or a FERA
ArrivalEstimate; an estimate that names no EVSE goes to the most powerful
EVSE of its Location that no session or estimate planned before it occupies
during its stay; estimates that name their EVSE are planned first):

- window: plug-in time (Session start, or expected arrival) to departure
  (preferences, else ISO 15118 needs, else the Session's end or the expected
  departure, else the horizon end), clipped to the horizon; a partial first
  or last slot counts only for the time plugged in;
- energy need: preferences' ``energy_need`` minus the energy already charged
  (``Session.kwh``); else the ISO 15118 energy amount; else what the OEM
  curve's battery still holds; else the estimate's need; else as much as
  the session can take;
- power limit per slot: connector maximum, capped by the EV (ISO 15118
  needs, estimate) and by the limits already installed on the EVSE (their
  minimum over each slot);
- power curve: an OEM charging curve with a known state of charge, as
  maximum power against the energy gained since plug-in (the car tapers as
  it fills, see ``power_curves`` of ``ChargingProblem.from_arrays``);
- ProfileType from the preferences or estimate (REGULAR when none);
  discharge allowed per the preferences/estimate (at the same power);
- phases from the topology's ``evse_phases`` or the connector type.

Sessions on one EVSE share it: its rating (``evse_power_max_kw``) is its
strongest connector's power capped by the limits installed on it, per slot.

Per node: import/export capacity and phase current limits (their minimum
over each slot), and the building loads attached to it (their maximum over
each slot, load plus generation); a BuildingLoad's ``max_grid_load_kw`` and
``min_grid_load_kw`` tighten the node's import and export limits. Prices and
emissions are resampled (slot means) per session from the most specific
scope that has signals: its Location, else its nearest node, else global;
the signals of one scope each count where they apply (the scenario checked
that they do not overlap). With only a renewable share, GREEN uses the
non-renewable share (per mille) as the emission proxy.

Sessions that cannot be planned (no EVSE assigned, window outside the
horizon, EVSE removed, no EVSE free for an estimate) are listed in
``problem.metadata["skipped"]``.
"""

from collections.abc import Callable
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex import units
from fera_flex._time import epoch_s
from fera_flex.models import conversions, ocpi, ocpp
from fera_flex.models.composite import composite_schedule
from fera_flex.models.fera import (
    ArrivalEstimate,
    EmissionSignal,
    PriceSignal,
    ScopeKind,
    TimeSeries,
)
from fera_flex.models.fera.topology import GridNode, Phase
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.dispatch import with_dispatch
from fera_flex.timeseries import Profile, TimeGrid

__all__ = ["problem_from_scenario"]

_PHASES_OF_POWER_TYPE = {
    ocpi.PowerType.AC_1_PHASE: (True, False, False),
    ocpi.PowerType.AC_2_PHASE: (True, True, False),
    ocpi.PowerType.AC_2_PHASE_SPLIT: (True, True, False),
}
_PROMILLE = 1000.0
_STATION_PURPOSES = (
    ocpp.ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
    ocpp.ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
)


def _slot_values(
    value: float | TimeSeries | None, grid: TimeGrid, how: str, default: float
) -> NDArray:
    """Per-slot values of a constant or series (the scenario checked coverage)."""
    if value is None:
        return np.full(grid.n, default)
    if not isinstance(value, TimeSeries):
        return np.full(grid.n, float(value))
    return _resampled(*value.to_arrays(), grid, how)


def _resampled(
    starts: NDArray, ends: NDArray, values: NDArray, grid: TimeGrid, how: str
) -> NDArray:
    """Per-slot values of sorted, disjoint periods without a gap in the horizon."""
    inside = (ends > grid.start_s) & (starts < grid.end_s)
    profile = Profile(starts[inside], values[inside], end_s=int(ends[inside][-1]))
    return profile.resample(grid, how).values


def _stay_s(grid: TimeGrid, arrival: datetime, departure: datetime) -> tuple[int, int]:
    """A stay clipped to the horizon [epoch s]; empty (end <= start) when outside it."""
    return max(epoch_s(arrival), grid.start_s), min(epoch_s(departure), grid.end_s)


def _window(grid: TimeGrid, start_s: int, end_s: int) -> tuple[int, int, float, float] | None:
    if end_s <= start_s:
        return None
    first = (start_s - grid.start_s) // grid.step_s
    last = (end_s - 1 - grid.start_s) // grid.step_s
    first_fraction = (grid.start_s + (first + 1) * grid.step_s - start_s) / grid.step_s
    last_fraction = (end_s - grid.start_s - last * grid.step_s) / grid.step_s
    return int(first), int(last) + 1, float(first_fraction), float(last_fraction)


class _Builder:
    """Collects per-session rows while walking sessions and estimates."""

    def __init__(self, scenario: Scenario, grid: TimeGrid) -> None:
        self.scenario = scenario
        self.grid = grid
        self.order = scenario.topology.ordered()
        self.node_index = {node.id: index for index, node in enumerate(self.order)}
        self.evses = scenario.evses()
        self.locations = {location.id.casefold(): location for location in scenario.locations}
        self.rows: list[dict[str, Any]] = []
        self.skipped: list[str] = []
        self.limits = {limit.evse_uid.casefold(): limit for limit in scenario.evse_limits}
        self.needs = {n.session_id.casefold(): n.request for n in scenario.ev_charging_needs}
        self.curves = {sid.casefold(): c for c in scenario.oem_curves for sid in c.session_ids}

    def add(
        self,
        session_id: str,
        location_id: str,
        evse_uid: str,
        connector_id: str | None,
        arrival: datetime,
        departure: datetime | None,
        energy_kwh: float | None,
        vehicle_max_kw: float | None,
        profile_type: ocpi.ProfileType,
        discharge: bool,
    ) -> None:
        key = evse_uid.casefold()
        if evse_uid == "#NA" or key not in self.evses:
            self.skipped.append(f"{session_id}: no EVSE assigned")
            return
        location, evse = self.evses[key]
        if evse.status is ocpi.Status.REMOVED:
            self.skipped.append(f"{session_id}: EVSE {evse_uid} is REMOVED")
            return
        connector = (
            evse.connector(connector_id)
            if connector_id
            else max(evse.connectors, key=lambda c: c.max_power_kw)
        )
        demand = None
        if session_id.casefold() in self.needs:
            node = self.scenario.topology.node_of_evse(evse_uid)
            demand = conversions.demand_from_charging_needs(
                self.needs[session_id.casefold()], node.voltage_v
            )
            departure = departure or demand.departure_time
            if energy_kwh is None:
                energy_kwh = demand.energy_need_kwh
        stay_s = _stay_s(self.grid, arrival, departure or self.grid.end)
        window = _window(self.grid, *stay_s)
        if window is None:
            self.skipped.append(f"{session_id}: its stay lies outside the horizon")
            return
        power_kw = np.full(self.grid.n, connector.max_power_kw)
        caps = [vehicle_max_kw, None if demand is None else demand.max_power_kw]
        curve = self.curves.get(session_id.casefold())
        power_curve = None
        if curve is not None and curve.state_of_charge_percent is not None:
            power_curve = curve.energy_breakpoints_kwh(curve.state_of_charge_percent)
            if energy_kwh is None:
                energy_kwh = (
                    (100.0 - curve.state_of_charge_percent) / 100.0 * curve.battery_capacity_kwh
                )
        for cap in caps:
            if cap is not None:
                power_kw = np.minimum(power_kw, cap)
        power_kw = np.minimum(power_kw, self._installed_limit_kw(evse_uid, connector, arrival))
        node = self.scenario.topology.node_of_evse(evse_uid)
        self.rows.append(
            {
                "session_id": session_id,
                "evse_uid": evse.uid,
                "location_id": location.id,
                "node": self.node_index[node.id],
                "window": window,
                "stay_s": stay_s,
                "arrival": arrival,
                "energy_kwh": energy_kwh,
                "power_max_kw": power_kw,
                "power_min_kw": 0.0
                if demand is None
                else min(demand.min_power_kw, float(power_kw.max())),
                "profile_type": profile_type,
                "discharge": discharge,
                "phases": self._phases(node, evse.uid, connector),
                "power_curve": power_curve,
            }
        )

    def evse_ratings_kw(self) -> dict[str, NDArray]:
        """The rating per slot of every EVSE a planned session uses [kW], by uid.

        Its strongest connector's power, capped by the limits installed on the
        EVSE (in each slot, the loosest of those computed for its sessions'
        plug-in times, so that the rating never cuts a session's own limit).
        """
        arrivals: dict[str, list[datetime]] = {}
        for row in self.rows:
            arrivals.setdefault(row["evse_uid"], []).append(row["arrival"])
        ratings = {}
        for uid, times in arrivals.items():
            _, evse = self.evses[uid.casefold()]
            strongest = max(evse.connectors, key=lambda c: c.max_power_kw)
            installed = [self._installed_limit_kw(uid, strongest, time) for time in times]
            ratings[uid] = np.minimum(strongest.max_power_kw, np.max(installed, axis=0))
        return ratings

    def free_evse(self, estimate: ArrivalEstimate) -> str | None:
        """The EVSE for an estimate that names none, or None when it cannot be placed.

        The most powerful EVSE of its Location (the first of equals) that no
        session planned so far occupies during the estimate's stay; when there
        is none, the estimate is listed as skipped with the reason.
        """
        location = self.locations[estimate.location_id.casefold()]
        start_s, end_s = _stay_s(self.grid, estimate.expected_arrival, estimate.expected_departure)
        busy = {
            row["evse_uid"].casefold()
            for row in self.rows
            if row["stay_s"][0] < end_s and start_s < row["stay_s"][1]
        }
        in_service = [e for e in location.evses or () if e.status is not ocpi.Status.REMOVED]
        free = [evse for evse in in_service if evse.uid.casefold() not in busy]
        if free:
            return max(free, key=lambda evse: evse.max_power_kw).uid
        if in_service:
            reason = (
                f"no EVSE at Location {location.id} is free from "
                f"{ocpi.format_datetime(estimate.expected_arrival)} to "
                f"{ocpi.format_datetime(estimate.expected_departure)}"
            )
        else:
            reason = f"Location {location.id} has no EVSE in service"
        self.skipped.append(f"{estimate.id}: unplaced: {reason}")
        return None

    def _installed_limit_kw(
        self, evse_uid: str, connector: ocpi.Connector, arrival: datetime
    ) -> NDArray:
        """The minimum over each slot of the limits already installed on the EVSE [kW]."""
        limit = self.limits.get(evse_uid.casefold())
        result = np.full(self.grid.n, np.inf)
        if limit is None:
            return result
        voltage_v, phases = float(connector.max_voltage), connector.phases
        profiles = []
        if limit.ocpi_profile is not None:
            profiles.append(
                conversions.profile_from_ocpi(
                    limit.ocpi_profile, start=arrival, voltage_v=voltage_v, phases=phases
                )
            )
        if limit.ocpp_profiles:
            station = [
                p for p in limit.ocpp_profiles if p.charging_profile_purpose in _STATION_PURPOSES
            ]
            own = [
                p
                for p in limit.ocpp_profiles
                if p.charging_profile_purpose not in _STATION_PURPOSES
            ]
            composite = composite_schedule(
                own,
                station_profiles=station,
                evse_id=1,
                start=self.grid.start,
                duration_s=self.grid.end_s - self.grid.start_s,
                charging_rate_unit="W",
                transaction_start=arrival,
                voltage_v=voltage_v,
                phases=phases,
                default_limit=units.w_from_kw(connector.max_power_kw),
            )
            profiles.append(composite.profile * (1.0 / units.W_PER_KW))
        for profile in profiles:
            covered = profile.resample(self.grid, "min", fill=connector.max_power_kw)
            result = np.minimum(result, covered.values)
        return result

    @staticmethod
    def _phases(
        node: GridNode, evse_uid: str, connector: ocpi.Connector
    ) -> tuple[bool, bool, bool]:
        wired = {uid.casefold(): phases for uid, phases in (node.evse_phases or {}).items()}
        if evse_uid.casefold() in wired:
            phases = set(wired[evse_uid.casefold()])
            return tuple(phase in phases for phase in (Phase.L1, Phase.L2, Phase.L3))
        return _PHASES_OF_POWER_TYPE.get(connector.power_type, (True, True, True))


def _walk_sessions(scenario: Scenario, builder: _Builder) -> None:
    for session in scenario.sessions:
        if session.status in (ocpi.SessionStatus.COMPLETED, ocpi.SessionStatus.INVALID):
            builder.skipped.append(f"{session.id}: status {session.status.value}")
            continue
        prefs = scenario.preferences_for(session.id)
        need = (
            None
            if prefs is None or prefs.energy_need is None
            else max(prefs.energy_need - session.kwh, 0.0)
        )
        departure = (
            prefs.departure_time if prefs and prefs.departure_time else session.end_date_time
        )
        builder.add(
            session.id,
            session.location_id,
            session.evse_uid,
            session.connector_id,
            session.start_date_time,
            departure,
            need,
            None,
            prefs.profile_type if prefs else ocpi.ProfileType.REGULAR,
            bool(prefs and prefs.allows_discharge),
        )
    # estimates on a given EVSE first: those without one go to an EVSE left free
    for estimate in sorted(scenario.arrival_estimates, key=lambda e: e.evse_uid is None):
        evse_uid = estimate.evse_uid or builder.free_evse(estimate)
        if evse_uid is None:
            continue
        builder.add(
            estimate.id,
            estimate.location_id,
            evse_uid,
            None,
            estimate.expected_arrival,
            estimate.expected_departure,
            estimate.energy_need_kwh,
            estimate.max_power_kw,
            estimate.profile_type,
            estimate.discharge_allowed,
        )


def _signal_rows(
    scenario: Scenario, grid: TimeGrid, rows, order
) -> tuple[NDArray, NDArray, NDArray]:
    """Import price, export price and emission per session and slot."""
    parents = {node.id: node.parent for node in order}
    prices = _scope_values(
        scenario.price_signals, grid, lambda s: s.import_price_per_kwh.to_arrays()
    )
    exports = _scope_values(
        scenario.price_signals,
        grid,
        lambda s: (s.export_price_per_kwh or s.import_price_per_kwh).to_arrays(),
    )
    emissions = _scope_values(scenario.emission_signals, grid, _emission_or_proxy)
    n = len(rows)
    price, export, emission = (np.zeros((n, grid.n)) for _ in range(3))
    for index, row in enumerate(rows):
        keys = _scope_keys(row["location_id"], order[row["node"]].id, parents)
        for values, target in ((prices, price), (exports, export), (emissions, emission)):
            key = next((key for key in keys if key in values), None)
            if key is not None:
                target[index] = values[key]
    return price, export, emission


def _scope_keys(
    location_id: str, node_id: str | None, parents: dict[str, str | None]
) -> list[tuple[ScopeKind, str]]:
    """The scope keys of a session, most specific first: Location, nodes up the tree, global."""
    keys = [(ScopeKind.LOCATION, location_id.casefold())]
    while node_id is not None:
        keys.append((ScopeKind.NODE, node_id.casefold()))
        node_id = parents[node_id]
    return [*keys, (ScopeKind.GLOBAL, "")]


def _emission_or_proxy(signal: EmissionSignal) -> tuple[NDArray, NDArray, NDArray]:
    """Emissions [gCO2/kWh], else the non-renewable share [per mille], as period arrays."""
    if signal.emission_g_per_kwh is not None:
        return signal.emission_g_per_kwh.to_arrays()
    starts, ends, share = signal.renewable_share.to_arrays()
    return starts, ends, (1.0 - share) * _PROMILLE


def _scope_values(
    signals: list[PriceSignal] | list[EmissionSignal],
    grid: TimeGrid,
    arrays_of: Callable[[Any], tuple[NDArray, NDArray, NDArray]],
) -> dict[tuple[ScopeKind, str], NDArray]:
    """Slot means per scope key of one quantity (``arrays_of`` a signal: its periods).

    Each signal of a scope counts where it applies (:meth:`PriceSignal.intervals_s`);
    the scenario checked that they do not overlap and together cover the horizon.
    """
    pieces: dict[tuple[ScopeKind, str], list[tuple[NDArray, NDArray, NDArray]]] = {}
    for signal in signals:
        clipped = _clipped(*arrays_of(signal), *signal.intervals_s())
        pieces.setdefault(signal.scope.key, []).append(clipped)
    result = {}
    for key, parts in pieces.items():
        starts, ends, values = (np.concatenate(column) for column in zip(*parts, strict=True))
        order = np.argsort(starts, kind="stable")
        result[key] = _resampled(starts[order], ends[order], values[order], grid, "mean")
    return result


def _clipped(
    starts: NDArray, ends: NDArray, values: NDArray, keep_starts: NDArray, keep_ends: NDArray
) -> tuple[NDArray, NDArray, NDArray]:
    """The parts of periods that lie in the intervals ``[keep_starts, keep_ends)``."""
    low = np.maximum(starts[:, None], keep_starts[None, :])
    high = np.minimum(ends[:, None], keep_ends[None, :])
    inside = low < high
    return low[inside], high[inside], np.broadcast_to(values[:, None], low.shape)[inside]


def _node_arrays(scenario: Scenario, grid: TimeGrid, order: list[GridNode]) -> dict[str, NDArray]:
    index = {node.id: k for k, node in enumerate(order)}
    m = len(order)
    capacity = np.vstack([_slot_values(n.import_capacity_kw, grid, "min", np.inf) for n in order])
    export = np.vstack([_slot_values(n.export_capacity_kw, grid, "min", np.inf) for n in order])
    phase = np.vstack([_slot_values(n.phase_current_limit_a, grid, "min", np.inf) for n in order])
    base = np.zeros((m, grid.n))
    for load in scenario.building_loads:
        k = index[load.node_id]
        base[k] += _slot_values(load.load_kw, grid, "max", 0.0)
        base[k] += _slot_values(load.generation_kw, grid, "max", 0.0)
        if load.max_grid_load_kw is not None:
            capacity[k] = np.minimum(capacity[k], load.max_grid_load_kw)
        if load.min_grid_load_kw is not None and load.min_grid_load_kw <= 0:
            export[k] = np.minimum(export[k], -load.min_grid_load_kw)
    return {
        "node_capacity_kw": capacity,
        "export_capacity_kw": export,
        "phase_current_max_a": phase,
        "base_load_kw": base,
        "node_voltage_v": np.array([node.voltage_v for node in order]),
    }


def problem_from_scenario(scenario: Scenario, problem_class: type) -> Any:
    """The ChargingProblem of a scenario (see the module documentation)."""
    horizon = scenario.horizon
    grid = TimeGrid(horizon.start, horizon.step_s, horizon.n_slots)
    builder = _Builder(scenario, grid)
    _walk_sessions(scenario, builder)
    rows, order = builder.rows, builder.order
    windows = np.array([row["window"] for row in rows], dtype=object).reshape(-1, 4)
    arrival, departure = windows[:, 0].astype(np.int64), windows[:, 1].astype(np.int64)
    first_fraction, last_fraction = windows[:, 2].astype(float), windows[:, 3].astype(float)
    power = np.array([row["power_max_kw"] for row in rows]).reshape(len(rows), grid.n)
    presence = problem_class._presence(arrival, departure, grid.n, first_fraction, last_fraction)
    takeable_kwh = (presence * power).sum(axis=1) * grid.dt_h
    energy = np.array(
        [
            takeable_kwh[k] if row["energy_kwh"] is None else row["energy_kwh"]
            for k, row in enumerate(rows)
        ]
    )
    price, export_price, emission = _signal_rows(scenario, grid, rows, order)
    problem = problem_class.from_arrays(
        grid=grid,
        arrival_slot=arrival,
        departure_slot=departure,
        first_slot_fraction=first_fraction,
        last_slot_fraction=last_fraction,
        energy_kwh=energy,
        power_max_kw=power,
        power_min_kw=np.array([row["power_min_kw"] for row in rows]),
        discharge_max_kw=power * np.array([row["discharge"] for row in rows], dtype=float)[:, None],
        node_of_session=np.array([row["node"] for row in rows], dtype=np.int64),
        node_parent=scenario.topology.parent_indices(),
        price_eur_per_kwh=price,
        export_price_eur_per_kwh=export_price,
        emission_g_per_kwh=emission,
        profile_type=[row["profile_type"] for row in rows],
        session_phases=np.array([row["phases"] for row in rows], dtype=bool).reshape(len(rows), 3),
        session_ids=[row["session_id"] for row in rows],
        evse_uids=[row["evse_uid"] for row in rows],
        evse_power_max_kw=builder.evse_ratings_kw(),
        node_ids=[node.id for node in order],
        **_node_arrays(scenario, grid, order),
        power_curves={
            row["session_id"]: row["power_curve"] for row in rows if row["power_curve"] is not None
        },
    )
    if scenario.flexibility_dispatches:  # activated flexibility: followed as node target bands
        problem = with_dispatch(problem, scenario.flexibility_dispatches)
    object.__setattr__(problem, "metadata", MappingProxyType({"skipped": tuple(builder.skipped)}))
    return problem
