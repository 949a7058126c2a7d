"""``fera-flex demo``: load example data, schedule it, offer and dispatch its flexibility.

Each path is a scenario JSON file (see ``docs/scenario.md``) or an OCPI site
folder holding ``locations.json`` (array of Locations), ``sessions.json``
(array of Sessions) and ``charging_preferences.json`` (object: Session id to
ChargingPreferences). Every reference is checked and all broken ones are
reported together. Each scenario is planned and verified, its root node's
flexibility around the peak is offered and dispatched
(:func:`flexibility_demo`), and, given a folder, the offer, the dispatch,
the OCPP requests that deliver it and pictures are written there.
"""

import io
import json
import re
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import TypeAdapter, ValidationError

from fera_flex._time import from_epoch_s
from fera_flex.errors import FeraFlexError, InputError
from fera_flex.models import ocpi
from fera_flex.models.scenario import Scenario, session_reference_problems

__all__ = [
    "OcpiSite",
    "bundled_examples",
    "flexibility_demo",
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


def summarise_plan(scenario: Scenario, problem: Any = None, plan: Any = None) -> list[str]:
    """Describe the plan of a scenario (scheduled and verified here unless given)."""
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule
    from fera_flex.scheduling.verify import verify_plan

    problem = ChargingProblem.from_scenario(scenario) if problem is None else problem
    plan = schedule(problem) if plan is None else plan
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
    if plan.session_ids:
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


def flexibility_demo(
    scenario: Scenario, problem: Any, plan: Any, folder: Path | None = None
) -> list[str]:
    """Offer the root node's flexibility around its peak, dispatch it, and describe both.

    The offer is the root's deliverable box over the two hours around its
    planned peak; the dispatch activates all of its downward room (or, when
    it has none, its upward room). With a ``folder``, the offer, the
    dispatch, the OCPI/OCPP profiles that deliver it and three pictures are
    written there.
    """
    from fera_flex._cli_offers import OFFER_FORMATS, offer_id
    from fera_flex._cli_plan import plan_summary, write_plan
    from fera_flex.flexibility import box_offer, disaggregate, dispatch_deviation_kw
    from fera_flex.models.fera import FlexibilityDispatch
    from fera_flex.plot import scenario_time_zone
    from fera_flex.scheduling.verify import verify_plan

    if problem.n_sessions == 0:
        return ["  no sessions: no flexibility to offer"]
    zone = scenario_time_zone(scenario)
    root = int(problem.node_order[0])
    n_slots = problem.n_slots
    width = min(n_slots, max(1, round(2 * 3600 / problem.grid.step_s)))
    peak = int(plan.node_load_kw[root].argmax())
    first = min(max(peak - width // 2, 0), n_slots - width)
    offer = box_offer(problem, root, plan, window=(first, first + width))
    identifier = offer_id(scenario, offer)
    down = bool((offer.power_min_kw < offer.baseline_kw - 1e-9).any())
    target = offer.power_min_kw if down else offer.power_max_kw
    dispatch = FlexibilityDispatch(
        id=f"{scenario.name}/demo-dispatch",
        node_id=offer.node_id,
        offer_id=identifier,
        start=offer.grid.start,
        step_s=offer.grid.step_s,
        power_kw=target.tolist(),
    )
    followed = disaggregate(problem, dispatch)
    gap_kw = float(np.abs(dispatch_deviation_kw(followed)).max())
    violations = verify_plan(followed.problem, followed)
    dt_h = problem.grid.dt_h
    span = f"{offer.grid.start.astimezone(zone):%H:%M}-{offer.grid.end.astimezone(zone):%H:%M}"
    lines = [
        f"  offer (box, deliverable) for {offer.node_id!r} {span} ({zone}): baseline "
        f"{offer.baseline_kw.sum() * dt_h:.1f} kWh, room down to {offer.power_min_kw.min():.1f} "
        f"and up to {offer.power_max_kw.max():.1f} kW; keeps {100 * offer.kept_down:.0f}% of "
        f"the exact room down and {100 * offer.kept_up:.0f}% up",
        f"  dispatch ({'down' if down else 'up'}): {offer.node_id!r} draws "
        f"{target.sum() * dt_h:.1f} kWh in the window instead of "
        f"{offer.baseline_kw.sum() * dt_h:.1f}; followed within {gap_kw:.1g} kW, "
        f"{followed.delivered_kwh.sum():.1f} kWh delivered in all, "
        f"limit violations: {len(violations)}",
    ]
    if folder is None:
        return lines
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", scenario.name)
    native = OFFER_FORMATS["native"]
    (folder / f"{stem}-offer.json").write_text(
        native.write([(identifier, offer)], scenario), encoding="utf-8"
    )
    dispatch_path = folder / f"{stem}-dispatch.json"
    dispatch_path.write_text(dispatch.model_dump_json(indent=2) + "\n", encoding="utf-8")
    summary = plan_summary(scenario, followed, violations, zone)
    written = write_plan(folder / f"{stem}-dispatched", scenario, followed, summary)
    requests = sum(
        len(json.loads(path.read_text(encoding="utf-8")))
        for path in written
        if path.parent.parent.name == "ocpp"
    )
    pictures = _demo_pictures(plan, offer, dispatch, followed, folder / stem, zone)
    lines += [
        f"  wrote {folder / (stem + '-offer.json')}, {dispatch_path.name} and the "
        f"{requests} OCPP SetChargingProfileRequests that deliver it "
        f"({folder / (stem + '-dispatched')})",
        "  pictures: " + ", ".join(str(path) for path in pictures),
    ]
    return lines


def _demo_pictures(plan, offer, dispatch, followed, stem: Path, zone) -> list[Path]:
    from fera_flex.plot import flexibility_band, session_gantt, site_plan

    paths = [Path(f"{stem}-{name}.png") for name in ("site", "sessions", "flexibility")]
    site_plan(plan, tz=zone, path=paths[0])
    session_gantt(plan, tz=zone, path=paths[1])
    flexibility_band(
        plan,
        offer.node_id,
        offer=offer,
        dispatch=dispatch,
        followed=followed,
        tz=zone,
        path=paths[2],
    )
    return paths


def bundled_examples() -> list[Path]:
    """The example site folder and scenarios shipped in the repository's ``examples``.

    Raises
    ------
    InputError
        When fera_flex runs from an installation without them.
    """
    examples = Path(__file__).resolve().parents[2] / "examples"
    site, scenarios = examples / "ocpi_site", examples / "scenarios"
    if not site.is_dir() or not scenarios.is_dir():
        raise InputError(
            "fera-flex demo", "paths", str(examples), "no bundled examples here: name the files"
        )
    return [site, *sorted(scenarios.glob("*.json"))]


def run_demo(
    paths: list[str | Path],
    out: TextIO,
    folder: Path | None = None,
    progress: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Load each path and print its summary; for a scenario also an offer and a dispatch.

    Parameters
    ----------
    paths : list of str or Path
        Scenario JSON files and/or OCPI site folders (see :func:`load_site`).
    out : text stream
        Where the summaries are written.
    folder : Path, optional
        Where the offers, dispatches, profiles and pictures are written (see
        :func:`flexibility_demo`); nothing is written without it.
    progress : text stream, optional
        Where a progress bar is drawn (when it is a terminal).
    err : text stream, optional
        Where errors are written; ``out`` when omitted.

    Returns
    -------
    int
        0 on success, 1 when some data is invalid (the error is printed).
    """
    from fera_flex._cli_progress import Progress
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule

    err = out if err is None else err
    paths = [Path(path) for path in paths]
    status = 0
    with Progress(len(paths), "demo", progress if progress is not None else io.StringIO()) as bar:
        for path in paths:
            bar.advance(path.name)
            try:
                if path.is_file():
                    scenario = Scenario.load(path)
                    problem = ChargingProblem.from_scenario(scenario)
                    plan = schedule(problem)
                    lines = summarise_scenario(scenario) + summarise_plan(scenario, problem, plan)
                    lines += flexibility_demo(scenario, problem, plan, folder)
                else:
                    lines = summarise(load_site(path))
            except (FeraFlexError, ValidationError) as error:
                print(f"error in {path}: {error}", file=err)
                status = 1
                continue
            print("\n".join(lines), file=out)
            print(file=out)
    return status
