"""``fera-flex demo``: load an OCPI site folder and print a readable summary.

The folder holds ``locations.json`` (array of Locations), ``sessions.json``
(array of Sessions) and ``charging_preferences.json`` (object: Session id to
ChargingPreferences). Every reference between them is checked and all broken
ones are reported together.
"""

import json
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError

from fera_flex.errors import FeraFlexError, InputError, OcpiRuleError
from fera_flex.models import ocpi

__all__ = ["OcpiSite", "load_site", "run_demo"]

_LOCATIONS = TypeAdapter(list[ocpi.Location])
_SESSIONS = TypeAdapter(list[ocpi.Session])
_PREFERENCES = TypeAdapter(dict[str, ocpi.ChargingPreferences])


class OcpiSite:
    """Locations, Sessions and ChargingPreferences read from one folder, cross-checked."""

    def __init__(
        self,
        locations: list[ocpi.Location],
        sessions: list[ocpi.Session],
        preferences: dict[str, ocpi.ChargingPreferences],
    ) -> None:
        self.locations = locations
        self.sessions = sessions
        self.preferences = preferences
        problems = self._broken_references()
        if problems:
            raise InputError("OcpiSite", "references", len(problems), "; ".join(problems))

    def _broken_references(self) -> list[str]:
        by_id = {location.id.casefold(): location for location in self.locations}
        session_ids = {session.id.casefold(): session for session in self.sessions}
        problems = []
        for session in self.sessions:
            location = by_id.get(session.location_id.casefold())
            if location is None:
                problems.append(
                    f"Session {session.id}: unknown location_id {session.location_id!r}"
                )
                continue
            try:
                location.evse(session.evse_uid).connector(session.connector_id)
            except KeyError as err:
                problems.append(f"Session {session.id}: {err.args[0]}")
        for session_id, prefs in self.preferences.items():
            session = session_ids.get(session_id.casefold())
            if session is None:
                problems.append(f"ChargingPreferences for unknown Session {session_id!r}")
                continue
            try:
                ocpi.check_preferences_for_session(prefs, session)
            except OcpiRuleError as err:
                problems.append(f"Session {session_id}: {err}")
        return problems


def load_site(folder: str | Path) -> OcpiSite:
    """Read and validate an OCPI site folder.

    Parameters
    ----------
    folder : str or Path
        Folder with ``locations.json``, ``sessions.json`` and, optionally,
        ``charging_preferences.json``.

    Returns
    -------
    OcpiSite
        The validated, cross-checked objects.

    Raises
    ------
    InputError
        If a file is missing or not JSON, or references are broken.
    pydantic.ValidationError
        If an object is invalid (its error list names the field).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("load_site", "folder", str(folder), "is not a folder")
    locations = _LOCATIONS.validate_python(_read_json(folder / "locations.json"))
    sessions = _SESSIONS.validate_python(_read_json(folder / "sessions.json"))
    prefs_path = folder / "charging_preferences.json"
    preferences = (
        _PREFERENCES.validate_python(_read_json(prefs_path)) if prefs_path.exists() else {}
    )
    return OcpiSite(locations, sessions, preferences)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("load_site", "file", str(path), "does not exist") from None
    except ValueError as err:
        raise InputError("load_site", "file", str(path), f"is not valid JSON: {err}") from None


def _hhmm(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ")


def summarise(site: OcpiSite) -> list[str]:
    """The lines of a human-readable summary of a site."""
    lines = []
    for location in site.locations:
        evses = location.evses or []
        lines.append(
            f"Location {location.id} '{location.name or location.address}', {location.city} "
            f"{location.country} ({location.time_zone}): {len(evses)} EVSE(s), "
            f"{sum(e.max_power_kw for e in evses):.1f} kW installed"
        )
        for evse in evses:
            smart = (
                "smart"
                if ocpi.Capability.CHARGING_PROFILE_CAPABLE in (evse.capabilities or [])
                else "-"
            )
            lines.append(
                f"  EVSE {evse.evse_id or evse.uid:<14} {evse.status.value:<10} {smart:<5}"
            )
            for connector in evse.connectors:
                lines.append(
                    f"    connector {connector.id}: {connector.standard.value} "
                    f"{connector.power_type.value}, {connector.max_voltage} V x "
                    f"{connector.max_amperage} A -> {connector.max_power_kw:.1f} kW"
                )
    lines.append(f"Sessions: {len(site.sessions)}")
    for session in site.sessions:
        limit_kw = next(
            loc.evse(session.evse_uid).connector(session.connector_id).max_power_kw
            for loc in site.locations
            if ocpi.ci_equal(loc.id, session.location_id)
        )
        prefs = site.preferences.get(session.id)
        wish = "no charging preferences"
        if prefs is not None:
            need = f"{prefs.energy_need:.1f} kWh" if prefs.energy_need is not None else "? kWh"
            by = f" by {_hhmm(prefs.departure_time)}" if prefs.departure_time else ""
            v2g = ", V2G allowed" if prefs.allows_discharge else ""
            wish = f"{prefs.profile_type.value}: {need}{by}{v2g}"
        lines.append(
            f"  {session.id} {session.status.value} at {session.location_id}/{session.evse_uid} "
            f"(max {limit_kw:.1f} kW) since {_hhmm(session.start_date_time)}, "
            f"{session.kwh:.1f} kWh so far; {wish}"
        )
    return lines


def run_demo(folder: str | Path, out: TextIO) -> int:
    """Load ``folder`` and print its summary; return the exit code.

    Parameters
    ----------
    folder : str or Path
        An OCPI site folder (see :func:`load_site`).
    out : text stream
        Where the summary is written.

    Returns
    -------
    int
        0 on success, 1 when the data is invalid (the error is printed).
    """
    try:
        site = load_site(folder)
    except (FeraFlexError, ValidationError) as err:
        print(f"error: {err}", file=out)
        return 1
    print("\n".join(summarise(site)), file=out)
    return 0
