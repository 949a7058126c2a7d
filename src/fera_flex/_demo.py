"""``fera-flex demo``: load example data, schedule it and print a readable summary.

Each path is a scenario JSON file (see ``docs/scenario.md``) or an OCPI site
folder holding ``locations.json`` (array of Locations), ``sessions.json``
(array of Sessions) and ``charging_preferences.json`` (object: Session id to
ChargingPreferences). Every reference is checked and all broken ones are
reported together.
"""

import json
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError

from fera_flex._time import from_epoch_s
from fera_flex.errors import FeraFlexError, InputError
from fera_flex.models import ocpi
from fera_flex.models.scenario import Scenario, session_reference_problems

__all__ = [
    "OcpiSite",
    "load_site",
    "run_demo",
    "summarise",
    "summarise_plan",
    "summarise_scenario",
]

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
        problems = session_reference_problems(locations, sessions, preferences)
        if problems:
            raise InputError("OcpiSite", "references", len(problems), "; ".join(problems))


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


def summarise_scenario(scenario: Scenario) -> list[str]:
    """The lines of a human-readable summary of a scenario."""
    horizon = scenario.horizon
    evses = scenario.evses()
    installed_kw = sum(evse.max_power_kw for _, evse in evses.values())
    lines = [
        f"Scenario {scenario.name}: {horizon.start.isoformat()} .. {horizon.end.isoformat()}, "
        f"{horizon.n_slots} slots of {horizon.step_s // 60} min",
        f"  {len(scenario.locations)} location(s), {len(evses)} EVSEs, "
        f"{installed_kw:.0f} kW installed",
    ]
    needs: dict[str, list[float]] = {}
    for session in scenario.sessions:
        prefs = scenario.preferences_for(session.id)
        kind = prefs.profile_type.value if prefs else "none"
        needs.setdefault(kind, []).append(prefs.energy_need or 0.0 if prefs else 0.0)
    for estimate in scenario.arrival_estimates:
        needs.setdefault(estimate.profile_type.value, []).append(estimate.energy_need_kwh)
    mix = ", ".join(f"{kind} {len(v)} ({sum(v):.0f} kWh)" for kind, v in sorted(needs.items()))
    lines.append(
        f"  {len(scenario.sessions)} sessions + {len(scenario.arrival_estimates)} arrival "
        f"estimates: {mix}"
    )
    kinds: dict[str, int] = {}
    for node in scenario.topology.nodes:
        kinds[node.kind.value] = kinds.get(node.kind.value, 0) + 1
    root = scenario.topology.root
    lines.append(
        f"  grid: {len(scenario.topology.nodes)} nodes ("
        + ", ".join(f"{n} {k}" for k, n in kinds.items())
        + f"); root {root.id!r} import limit {_capacity_text(root.import_capacity_kw)}"
    )
    for signal in scenario.price_signals:
        _, _, prices = signal.import_price_per_kwh.to_arrays()
        lines.append(
            f"  price {signal.id}: {prices.min():.2f}..{prices.max():.2f} {signal.currency}/kWh"
        )
    for load in scenario.building_loads[:3]:
        _, _, load_kw = load.load_kw.to_arrays()
        lines.append(f"  building load {load.id} at {load.node_id}: peak {load_kw.max():.1f} kW")
    if len(scenario.building_loads) > 3:
        lines.append(f"  ... and {len(scenario.building_loads) - 3} more building loads")
    return lines


def summarise_plan(scenario: Scenario) -> list[str]:
    """Schedule a scenario, verify the plan, and describe the result."""
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule
    from fera_flex.scheduling.verify import verify_plan

    problem = ChargingProblem.from_scenario(scenario)
    plan = schedule(problem)
    violations = verify_plan(problem, plan)
    root = problem.node_order[0]
    load = plan.node_load_kw[root]
    peak_slot = int(load.argmax())
    peak_time = from_epoch_s(problem.grid.edges_s[peak_slot])
    lines = [
        f"  plan ({plan.backend}, {plan.timings_s['total'] * 1000:.0f} ms): "
        f"status {plan.status.value}, {plan.delivered_kwh.sum():.1f} of "
        f"{problem.energy_kwh.sum():.1f} kWh delivered, "
        f"energy cost {plan.cost_eur:.2f} EUR, {plan.emissions_g / 1000:.1f} kg CO2",
        f"  root {problem.node_ids[root]!r}: peak {load.max():.1f} kW at {peak_time:%H:%M}Z "
        f"(limit then {problem.node_capacity_kw[root, peak_slot]:.0f} kW); "
        f"limit violations: {len(violations)}",
    ]
    for session_id, cause in list(plan.unmet_causes.items())[:3]:
        lines.append(f"  unmet {session_id}: {cause}")
    first = plan.session_ids[0]
    profile = plan.to_ocpi_profiles()[first]
    lines.append(f"  OCPI ChargingProfile for {first}: {profile.model_dump_json()[:160]}...")
    return lines


def _capacity_text(capacity: object) -> str:
    if capacity is None:
        return "none"
    if isinstance(capacity, float):
        return f"{capacity:.0f} kW"
    _, _, values = capacity.to_arrays()
    return f"{values.min():.0f}..{values.max():.0f} kW over time"


def run_demo(paths: list[str | Path], out: TextIO) -> int:
    """Load each path and print its summary; return the exit code.

    Parameters
    ----------
    paths : list of str or Path
        Scenario JSON files and/or OCPI site folders (see :func:`load_site`).
    out : text stream
        Where the summaries are written.

    Returns
    -------
    int
        0 on success, 1 when some data is invalid (the error is printed).
    """
    status = 0
    for path in map(Path, paths):
        try:
            if path.is_file():
                scenario = Scenario.load(path)
                lines = summarise_scenario(scenario) + summarise_plan(scenario)
            else:
                lines = summarise(load_site(path))
        except (FeraFlexError, ValidationError) as err:
            print(f"error in {path}: {err}", file=out)
            status = 1
            continue
        print("\n".join(lines), file=out)
        print(file=out)
    return status
