"""The scenario file: one site or fleet, everything the optimiser needs, in one JSON file.

A :class:`Scenario` holds the planning horizon, OCPI Locations (EVSEs,
connectors), OCPI Sessions with their ChargingPreferences, FERA arrival
estimates, the grid topology, price and emission signals, building loads,
OEM charging curves, limits already installed on EVSEs, ISO 15118 charging
needs, and flexibility offers and dispatches.

Cross-references are checked when a scenario is validated or loaded, and
every broken one is reported in the same error (see
:func:`reference_problems`). The format is documented in ``docs/scenario.md``.

Examples
--------
>>> from pathlib import Path
>>> import fera_flex
>>> examples = Path(fera_flex.__file__).parents[2] / "examples" / "scenarios"
>>> scenario = Scenario.load(examples / "residential_street.json")
>>> scenario.horizon.n_slots
96
"""

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex._time import epoch_s
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
    def load(cls, path: str | Path) -> Self:
        """Read and validate a scenario JSON file.

        Raises
        ------
        InputError
            If the file does not exist.
        pydantic.ValidationError
            If the content is invalid; all broken references are listed.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("Scenario.load", "path", str(path), "does not exist") from None
        return cls.model_validate_json(text)

    def save(self, path: str | Path) -> None:
        """Write the scenario as indented JSON."""
        Path(path).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

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
    for price in s.price_signals:
        named.append((f"PriceSignal {price.id!r} import_price_per_kwh", price.import_price_per_kwh))
        named.append((f"PriceSignal {price.id!r} export_price_per_kwh", price.export_price_per_kwh))
    for emission in s.emission_signals:
        named.append(
            (f"EmissionSignal {emission.id!r} emission_g_per_kwh", emission.emission_g_per_kwh)
        )
        named.append((f"EmissionSignal {emission.id!r} renewable_share", emission.renewable_share))
    for load in s.building_loads:
        named.append((f"BuildingLoad {load.id!r} load_kw", load.load_kw))
        named.append((f"BuildingLoad {load.id!r} generation_kw", load.generation_kw))
    return [(name, series) for name, series in named if isinstance(series, TimeSeries)]


def _coverage_problems(s: Scenario) -> list[str]:
    start_s, end_s = s.horizon.start_s, s.horizon.end_s
    return [
        f"{name} does not cover the horizon "
        f"{s.horizon.start.isoformat()} .. {s.horizon.end.isoformat()}"
        for name, series in _series_of(s)
        if not series.covers(start_s, end_s)
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
