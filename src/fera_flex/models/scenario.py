"""The scenario file: one site or fleet, everything the optimiser needs, in one JSON file.

A :class:`Scenario` holds the planning horizon, OCPI Locations (EVSEs,
connectors), OCPI Sessions with their ChargingPreferences, FERA arrival
estimates, the grid topology, price and emission signals, building loads,
OEM charging curves, limits already installed on EVSEs, ISO 15118 charging
needs, and flexibility offers and dispatches.

Cross-references are checked when a scenario is validated or loaded, and
every broken one is reported in the same error (see
:func:`reference_problems`); so are two ACTIVE Sessions at once on one EVSE,
signals of one scope that overlap in time, and price signals in more than
one currency. The format is documented in ``docs/scenario.md``.

Examples
--------
>>> from pathlib import Path
>>> import fera_flex
>>> examples = Path(fera_flex.__file__).parents[2] / "examples" / "scenarios"
>>> scenario = Scenario.load(examples / "residential_street.json")
>>> scenario.horizon.n_slots
96
"""

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from fera_flex._time import epoch_s, from_epoch_s
from fera_flex.errors import InputError, OcpiRuleError
from fera_flex.models import ocpi, ocpp
from fera_flex.models._scalars import require_order
from fera_flex.models.fera import (
    ArrivalEstimate,
    BuildingLoad,
    EmissionSignal,
    FlexibilityDispatch,
    FlexibilityOffer,
    GridTopology,
    OemChargingCurve,
    PriceSignal,
    ScopeKind,
    SignalScope,
    TimeSeries,
)
from fera_flex.models.fera._base import FeraModel, Identifier, Timestamp

__all__ = [
    "EvChargingNeeds",
    "EvseLimit",
    "Horizon",
    "Scenario",
    "reference_problems",
    "session_reference_problems",
]

_NA = "#NA"
_OPEN_END = datetime.max.replace(tzinfo=timezone.utc)


class Horizon(FeraModel):
    """The planning horizon: ``[start, end)`` in slots of ``step_s`` seconds.

    ``end - start`` must be a whole number of slots.
    """

    start: Timestamp
    end: Timestamp
    step_s: Annotated[int, Field(gt=0, strict=True)]

    @model_validator(mode="after")
    def _whole_slots(self) -> Self:
        span_s = epoch_s(self.end, "Horizon", "end") - epoch_s(self.start, "Horizon", "start")
        require_order("start", self.start, "end", self.end)
        if span_s % self.step_s:
            raise ValueError(
                f"end - start ({span_s} s) is not a whole number of step_s ({self.step_s} s) slots"
            )
        return self

    @property
    def n_slots(self) -> int:
        """Number of slots."""
        return (self.end_s - self.start_s) // self.step_s

    @property
    def start_s(self) -> int:
        """Start [epoch s]."""
        return epoch_s(self.start)

    @property
    def end_s(self) -> int:
        """End [epoch s]."""
        return epoch_s(self.end)


class EvseLimit(FeraModel):
    """Charging profiles already installed on an EVSE, which any plan must respect.

    ``ocpp_profiles`` are stacked by the OCPP 2.0.1 composite-schedule rules;
    an ``ocpi_profile`` is a limit received through OCPI.
    """

    evse_uid: Identifier
    ocpp_profiles: list[ocpp.ChargingProfile] = Field(default_factory=list)
    ocpi_profile: ocpi.ChargingProfile | None = None

    @model_validator(mode="after")
    def _some_profile(self) -> Self:
        if not self.ocpp_profiles and self.ocpi_profile is None:
            raise ValueError(f"EVSE limit for {self.evse_uid!r} holds no profile")
        return self


class EvChargingNeeds(FeraModel):
    """An ISO 15118 EV's charging needs (OCPP NotifyEVChargingNeeds) for a Session."""

    session_id: Identifier
    request: ocpp.NotifyEVChargingNeedsRequest


class Scenario(FeraModel):
    """One site or fleet in one JSON file (see the module documentation)."""

    name: Identifier
    description: str = ""
    horizon: Horizon
    locations: list[ocpi.Location]
    sessions: list[ocpi.Session] = Field(default_factory=list)
    charging_preferences: dict[str, ocpi.ChargingPreferences] = Field(default_factory=dict)
    arrival_estimates: list[ArrivalEstimate] = Field(default_factory=list)
    topology: GridTopology
    price_signals: list[PriceSignal] = Field(default_factory=list)
    emission_signals: list[EmissionSignal] = Field(default_factory=list)
    building_loads: list[BuildingLoad] = Field(default_factory=list)
    oem_curves: list[OemChargingCurve] = Field(default_factory=list)
    evse_limits: list[EvseLimit] = Field(default_factory=list)
    ev_charging_needs: list[EvChargingNeeds] = Field(default_factory=list)
    flexibility_offers: list[FlexibilityOffer] = Field(default_factory=list)
    flexibility_dispatches: list[FlexibilityDispatch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems = reference_problems(self)
        if problems:
            numbered = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, start=1))
            raise ValueError(f"{len(problems)} inconsistent reference(s): {numbered}")
        return self

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read and validate a scenario JSON file.

        Raises
        ------
        InputError
            If ``path`` is not a str or path, or names no readable UTF-8 file
            (it does not exist, is a directory, cannot be read).
        pydantic.ValidationError
            If the content is not JSON (``json_invalid``, with line and
            column) or not a valid scenario; all broken references are listed.
        """
        path = _file_path("Scenario.load", path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("Scenario.load", "path", str(path), "does not exist") from None
        except IsADirectoryError:
            raise InputError(
                "Scenario.load", "path", str(path), "is a directory, not a scenario file"
            ) from None
        except OSError as err:
            raise InputError(
                "Scenario.load", "path", str(path), f"cannot be read: {err.strerror}"
            ) from None
        except UnicodeDecodeError as err:
            raise InputError(
                "Scenario.load", "path", str(path), f"is not UTF-8 text ({err.reason})"
            ) from None
        return cls.model_validate_json(text)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the scenario as indented JSON."""
        path = _file_path("Scenario.save", path)
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    def evses(self) -> dict[str, tuple[ocpi.Location, ocpi.EVSE]]:
        """Every EVSE by case-folded uid, with its Location."""
        return {
            evse.uid.casefold(): (location, evse)
            for location in self.locations
            for evse in location.evses or ()
        }

    def preferences_for(self, session_id: str) -> ocpi.ChargingPreferences | None:
        """The ChargingPreferences sent for a session, if any (id compared case-insensitively)."""
        folded = session_id.casefold()
        return next(
            (p for key, p in self.charging_preferences.items() if key.casefold() == folded), None
        )


def _file_path(where: str, path: object) -> Path:
    """``path`` as a :class:`~pathlib.Path`, or an InputError naming its type."""
    try:
        return Path(path)
    except TypeError:
        raise InputError(
            where, "path", path, f"must be a str or os.PathLike, not {type(path).__name__}"
        ) from None


def reference_problems(scenario: Scenario) -> list[str]:
    """Every broken cross-reference of a scenario, each naming the objects involved.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its parts are already valid on their own).

    Returns
    -------
    list of str
        One message per problem; empty when the scenario is consistent.
    """
    problems: list[str] = []
    problems += _duplicate_ids(scenario)
    problems += _session_problems(scenario)
    problems += _topology_problems(scenario)
    problems += _coverage_problems(scenario)
    problems += _signal_problems(scenario.price_signals, scenario.horizon)
    problems += _signal_problems(scenario.emission_signals, scenario.horizon)
    problems += _currency_problems(scenario.price_signals)
    problems += _other_reference_problems(scenario)
    return problems


def _duplicates(kind: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for value in ids:
        if value.casefold() in seen:
            repeated.append(f"{kind} id {value!r} is used twice")
        seen.add(value.casefold())
    return repeated


def _duplicate_ids(s: Scenario) -> list[str]:
    return (
        _duplicates("Location", [loc.id for loc in s.locations])
        + _duplicates("EVSE", [evse.uid for loc in s.locations for evse in loc.evses or ()])
        + _duplicates("Session", [session.id for session in s.sessions])
        + _duplicates("ArrivalEstimate", [a.id for a in s.arrival_estimates])
        + _duplicates("signal", [sig.id for sig in [*s.price_signals, *s.emission_signals]])
        + _duplicates("BuildingLoad", [b.id for b in s.building_loads])
        + _duplicates("FlexibilityOffer", [o.id for o in s.flexibility_offers])
    )


def session_reference_problems(
    locations: list[ocpi.Location],
    sessions: list[ocpi.Session],
    preferences: dict[str, ocpi.ChargingPreferences],
) -> list[str]:
    """Broken references between OCPI Sessions, their Locations and their ChargingPreferences.

    A session at an unknown Location, EVSE or connector (``#NA`` allowed);
    two ACTIVE sessions on one EVSE whose stays overlap (a stay runs from
    ``start_date_time`` to ``end_date_time``, open-ended without one);
    preferences for an unknown session, or whose departure is not after the
    session start. Ids compare case-insensitively.

    Returns
    -------
    list of str
        One message per problem.
    """
    by_id = {loc.id.casefold(): loc for loc in locations}
    by_session = {session.id.casefold(): session for session in sessions}
    problems = []
    for session in sessions:
        location = by_id.get(session.location_id.casefold())
        if location is None:
            problems.append(
                f"Session {session.id!r} is at unknown location {session.location_id!r}"
            )
        elif session.evse_uid != _NA:
            owner = f"Session {session.id!r}"
            problems += _evse_reference(owner, location, session.evse_uid, session.connector_id)
    problems += _concurrent_active_sessions(sessions)
    for key, prefs in preferences.items():
        session = by_session.get(key.casefold())
        if session is None:
            problems.append(f"charging_preferences names unknown Session {key!r}")
            continue
        try:
            ocpi.check_preferences_for_session(prefs, session)
        except OcpiRuleError as err:
            problems.append(f"charging_preferences[{key!r}]: {err}")
    return problems


def _concurrent_active_sessions(sessions: list[ocpi.Session]) -> list[str]:
    """ACTIVE sessions whose stays overlap on one EVSE.

    Each such session is named once, with an earlier one still there when it starts.
    """
    by_evse: dict[tuple[str, str], list[ocpi.Session]] = {}
    for session in sessions:
        if session.status is ocpi.SessionStatus.ACTIVE and session.evse_uid != _NA:
            key = (session.location_id.casefold(), session.evse_uid.casefold())
            by_evse.setdefault(key, []).append(session)
    problems = []
    for group in by_evse.values():
        group.sort(key=lambda session: session.start_date_time)
        running = group[0]
        for session in group[1:]:
            if session.start_date_time < _stay_end(running):
                until = min(_stay_end(running), _stay_end(session))
                problems.append(
                    f"Sessions {running.id!r} and {session.id!r} are both ACTIVE on EVSE "
                    f"{session.evse_uid!r} from {session.start_date_time.isoformat()} "
                    + ("on (no end_date_time)" if until == _OPEN_END else f"to {until.isoformat()}")
                )
            running = max(running, session, key=_stay_end)
    return problems


def _stay_end(session: ocpi.Session) -> datetime:
    return session.end_date_time or _OPEN_END


def _session_problems(s: Scenario) -> list[str]:
    problems = session_reference_problems(s.locations, s.sessions, s.charging_preferences)
    locations = {loc.id.casefold(): loc for loc in s.locations}
    for estimate in s.arrival_estimates:
        location = locations.get(estimate.location_id.casefold())
        if location is None:
            problems.append(
                f"ArrivalEstimate {estimate.id!r} is at unknown location {estimate.location_id!r}"
            )
        elif estimate.evse_uid is not None:
            owner = f"ArrivalEstimate {estimate.id!r}"
            problems += _evse_reference(owner, location, estimate.evse_uid, None)
    return problems


def _evse_reference(
    owner: str, location: ocpi.Location, evse_uid: str, connector_id: str | None
) -> list[str]:
    try:
        evse = location.evse(evse_uid)
    except KeyError:
        return [f"{owner} is on EVSE {evse_uid!r}, which Location {location.id!r} does not have"]
    if connector_id is not None and connector_id != _NA:
        try:
            evse.connector(connector_id)
        except KeyError:
            return [
                f"{owner} is on connector {connector_id!r}, which EVSE {evse_uid!r} does not have"
            ]
    return []


def _topology_problems(s: Scenario) -> list[str]:
    problems = []
    evses = s.evses()
    in_topology = set()
    for node in s.topology.nodes:
        for uid in node.evse_uids:
            in_topology.add(uid.casefold())
            if uid.casefold() not in evses:
                problems.append(f"grid node {node.id!r} lists EVSE {uid!r}, which no Location has")
    for uid, (location, evse) in evses.items():
        if uid not in in_topology and evse.status is not ocpi.Status.REMOVED:
            problems.append(
                f"EVSE {evse.uid!r} of Location {location.id!r} is missing from the grid topology"
            )
    return problems


def _series_of(s: Scenario) -> list[tuple[str, TimeSeries]]:
    named: list[tuple[str, TimeSeries | float | None]] = []
    for node in s.topology.nodes:
        for field in ("import_capacity_kw", "export_capacity_kw", "phase_current_limit_a"):
            named.append((f"grid node {node.id!r} {field}", getattr(node, field)))
    for load in s.building_loads:
        named.append((f"BuildingLoad {load.id!r} load_kw", load.load_kw))
        named.append((f"BuildingLoad {load.id!r} generation_kw", load.generation_kw))
    return [(name, series) for name, series in named if isinstance(series, TimeSeries)]


def _coverage_problems(s: Scenario) -> list[str]:
    start_s, end_s = s.horizon.start_s, s.horizon.end_s
    return [
        f"{name} does not cover the horizon {_horizon_text(s.horizon)}"
        for name, series in _series_of(s)
        if not series.covers(start_s, end_s)
    ]


def _signal_problems(
    signals: list[PriceSignal] | list[EmissionSignal], horizon: Horizon
) -> list[str]:
    """Signals of one scope that overlap in time or leave a gap; series missing where needed.

    A signal applies where its defining series is defined (see
    :meth:`~fera_flex.models.fera.PriceSignal.intervals_s`); the signals of
    one scope must not overlap and together must cover the horizon, and each
    signal's other series must be defined wherever it applies in the horizon.
    """
    by_scope: dict[tuple[ScopeKind, str], list[PriceSignal | EmissionSignal]] = {}
    for signal in signals:
        by_scope.setdefault(signal.scope.key, []).append(signal)
    problems = []
    for group in by_scope.values():
        problems += _overlap_problems(group)
        problems += _signal_coverage_problems(group, horizon)
    return problems


def _overlap_problems(group: list[PriceSignal | EmissionSignal]) -> list[str]:
    problems = []
    for index, first in enumerate(group):
        for second in group[index + 1 :]:
            overlap = _overlap_s(first.intervals_s(), second.intervals_s())
            if overlap is not None:
                problems.append(
                    f"{type(first).__name__}s {first.id!r} and {second.id!r} of "
                    f"{_scope_text(first.scope)} overlap in time between "
                    f"{from_epoch_s(overlap[0]).isoformat()} and "
                    f"{from_epoch_s(overlap[1]).isoformat()}"
                )
    return problems


def _overlap_s(
    first: tuple[NDArray, NDArray], second: tuple[NDArray, NDArray]
) -> tuple[int, int] | None:
    """Earliest start and latest end [epoch s] of the times two interval sets share."""
    (first_starts, first_ends), (second_starts, second_ends) = first, second
    low = np.maximum(first_starts[:, None], second_starts[None, :])
    high = np.minimum(first_ends[:, None], second_ends[None, :])
    shared = low < high
    if not shared.any():
        return None
    return int(low[shared].min()), int(high[shared].max())


def _signal_coverage_problems(
    group: list[PriceSignal | EmissionSignal], horizon: Horizon
) -> list[str]:
    problems = []
    intervals = sorted(pair for signal in group for pair in zip(*signal.intervals_s(), strict=True))
    if not _covers(intervals, horizon.start_s, horizon.end_s):
        if len(group) == 1:
            named = f"{type(group[0]).__name__} {group[0].id!r} {group[0].defining_field} does"
        else:
            ids = ", ".join(repr(signal.id) for signal in group)
            named = f"{type(group[0]).__name__}s {ids} of {_scope_text(group[0].scope)} together do"
        problems.append(f"{named} not cover the horizon {_horizon_text(horizon)}")
    for signal in group:
        problems += _other_series_problems(signal, horizon)
    return problems


def _other_series_problems(signal: PriceSignal | EmissionSignal, horizon: Horizon) -> list[str]:
    """A signal's series other than the defining one, missing where the signal applies."""
    applies = [
        (max(int(start), horizon.start_s), min(int(end), horizon.end_s))
        for start, end in zip(*signal.intervals_s(), strict=True)
    ]
    return [
        f"{type(signal).__name__} {signal.id!r} {field} is not defined wherever "
        f"{signal.defining_field} is within the horizon {_horizon_text(horizon)}"
        for field in type(signal).model_fields
        if field != signal.defining_field
        and isinstance(series := getattr(signal, field), TimeSeries)
        and not all(series.covers(start, end) for start, end in applies if start < end)
    ]


def _covers(intervals: list[tuple[int, int]], start_s: int, end_s: int) -> bool:
    """Whether sorted ``[start, end)`` intervals [epoch s] leave no gap in ``[start_s, end_s)``."""
    reached = start_s
    for start, end in intervals:
        if start > reached:
            break
        reached = max(reached, int(end))
    return reached >= end_s


def _scope_text(scope: SignalScope) -> str:
    return "scope global" if scope.id is None else f"scope {scope.kind.value} {scope.id!r}"


def _horizon_text(horizon: Horizon) -> str:
    return f"{horizon.start.isoformat()} .. {horizon.end.isoformat()}"


def _currency_problems(signals: list[PriceSignal]) -> list[str]:
    """More than one currency among the price signals (a problem prices in one)."""
    by_currency: dict[str, list[str]] = {}
    for signal in signals:
        by_currency.setdefault(signal.currency, []).append(repr(signal.id))
    if len(by_currency) < 2:
        return []
    listed = "; ".join(f"{currency}: {', '.join(ids)}" for currency, ids in by_currency.items())
    return [
        f"PriceSignals use {len(by_currency)} currencies ({listed}); "
        "one scenario must price in one currency"
    ]


def _other_reference_problems(s: Scenario) -> list[str]:
    node_ids = {node.id for node in s.topology.nodes}
    location_ids = {loc.id.casefold() for loc in s.locations}
    session_ids = {session.id.casefold() for session in s.sessions}
    evses = s.evses()
    offer_ids = {offer.id for offer in s.flexibility_offers}
    problems = []
    for signal in [*s.price_signals, *s.emission_signals]:
        scope = signal.scope
        if scope.kind is ScopeKind.NODE and scope.id not in node_ids:
            problems.append(f"signal {signal.id!r} is scoped to unknown grid node {scope.id!r}")
        if scope.kind is ScopeKind.LOCATION and scope.id.casefold() not in location_ids:
            problems.append(f"signal {signal.id!r} is scoped to unknown Location {scope.id!r}")
    for load in s.building_loads:
        if load.node_id not in node_ids:
            problems.append(f"BuildingLoad {load.id!r} is at unknown grid node {load.node_id!r}")
    for curve in s.oem_curves:
        for session_id in curve.session_ids:
            if session_id.casefold() not in session_ids:
                problems.append(
                    f"OemChargingCurve {curve.id!r} names unknown Session {session_id!r}"
                )
    for limit in s.evse_limits:
        if limit.evse_uid.casefold() not in evses:
            problems.append(f"EvseLimit names unknown EVSE {limit.evse_uid!r}")
    for needs in s.ev_charging_needs:
        if needs.session_id.casefold() not in session_ids:
            problems.append(f"EvChargingNeeds names unknown Session {needs.session_id!r}")
    for item in [*s.flexibility_offers, *s.flexibility_dispatches]:
        if item.node_id not in node_ids:
            problems.append(
                f"{type(item).__name__} {item.id!r} is for unknown grid node {item.node_id!r}"
            )
    for dispatch in s.flexibility_dispatches:
        if dispatch.offer_id is not None and dispatch.offer_id not in offer_ids:
            problems.append(
                f"FlexibilityDispatch {dispatch.id!r} names unknown offer {dispatch.offer_id!r}"
            )
    return problems
