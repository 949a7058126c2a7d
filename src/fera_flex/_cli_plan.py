"""What ``fera-flex solve`` and ``dispatch`` write and print about a plan.

Files, in the output folder:

- ``ocpi_charging_profiles.json``: ``{session id: OCPI 2.2.1 ChargingProfile}``
  for every OCPI Session of the scenario that the plan covers;
- ``ocpp/<station>/evse-<evseId>.json``: the OCPP 2.0.1
  SetChargingProfileRequest payloads (TxProfile, transactionId = the Session
  id) of the ACTIVE Sessions on that EVSE, as a JSON array;
- ``plan_summary.json``: status, backend, totals, and one row per session
  and per grid node (times in UTC).

The OCPP **evseId** of an EVSE comes from the scenario: the ``evse_id`` of a
NotifyEVChargingNeedsRequest received for the session, else the EVSE's
position (from 1) in the ``evse_uids`` of the ``charging_station`` topology
node it is attached to (that node is the OCPP Charging Station), else its
position among the EVSEs of its OCPI Location (the Location is then taken as
the station). Arrival estimates are planned but get no profile (there is no
session or transaction yet); PENDING and RESERVATION Sessions get an OCPI
profile but no OCPP TxProfile (OCPP K01.FR.09: a TxProfile needs an active
transaction).
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np

from fera_flex._time import from_epoch_s
from fera_flex.models import ocpi
from fera_flex.models.fera import NodeKind
from fera_flex.models.scenario import Scenario
from fera_flex.plot import session_stays_s
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import PROFILE_TYPES

__all__ = [
    "EvseAddress",
    "ocpp_evse_addresses",
    "plan_summary",
    "plan_tables",
    "table",
    "write_plan",
]

_AT_LIMIT_RTOL = 1e-4
"""A node is at its limit in a slot when its load is within this fraction of it (>= 1e-4 kW)."""


@dataclass(frozen=True)
class EvseAddress:
    """Where an OCPI EVSE is in OCPP: its Charging Station and evseId, and how that was found."""

    station: str
    evse_id: int
    source: str


def ocpp_evse_addresses(scenario: Scenario) -> dict[str, EvseAddress]:
    """OCPI Session id -> the OCPP address of its EVSE (see the module documentation)."""
    by_evse: dict[str, EvseAddress] = {}
    for location in scenario.locations:
        for position, evse in enumerate(location.evses or (), start=1):
            node = scenario.topology.node_of_evse(evse.uid)
            if node.kind is NodeKind.CHARGING_STATION:
                folded = [uid.casefold() for uid in node.evse_uids]
                address = EvseAddress(
                    node.id,
                    folded.index(evse.uid.casefold()) + 1,
                    f"position in charging station node {node.id}",
                )
            else:
                address = EvseAddress(location.id, position, f"position in Location {location.id}")
            by_evse[evse.uid.casefold()] = address
    told = {needs.session_id: needs.request.evse_id for needs in scenario.ev_charging_needs}
    addresses = {}
    for session in scenario.sessions:
        address = by_evse[session.evse_uid.casefold()]
        if session.id in told:
            address = EvseAddress(address.station, told[session.id], "NotifyEVChargingNeeds")
        addresses[session.id] = address
    return addresses


def _iso(t_s: float) -> str:
    return from_epoch_s(round(t_s)).isoformat().replace("+00:00", "Z")


def _local(iso: str, zone: tzinfo) -> str:
    """A UTC time of the summary as local ``month-day hour:minute`` text."""
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%m-%d %H:%M")


def _currency(scenario: Scenario) -> str:
    return scenario.price_signals[0].currency if scenario.price_signals else "EUR"


def plan_summary(
    scenario: Scenario, plan: ChargingPlan, violations: list[Any], zone: tzinfo
) -> dict[str, Any]:
    """The plan as a JSON-ready dict: totals, one row per session and per node."""
    problem = plan.problem
    currency = _currency(scenario)
    ocpi_sessions = {session.id: session for session in scenario.sessions}
    addresses = ocpp_evse_addresses(scenario)
    start_s, end_s = session_stays_s(problem)
    hours = problem.slot_energy_h
    cost = (
        plan.charge_kw * hours * np.broadcast_to(problem.price_eur_per_kwh, hours.shape)
        - plan.discharge_kw * hours * np.broadcast_to(problem.export_price_eur_per_kwh, hours.shape)
    ).sum(axis=1)
    energy_price = plan.session_energy_price_eur_per_kwh
    sessions = []
    for i, session_id in enumerate(problem.session_ids):
        session = ocpi_sessions.get(session_id)
        address = addresses.get(session_id)
        if session is None:
            wire = "no profile: an arrival estimate has no session or transaction yet"
        elif session.status is not ocpi.SessionStatus.ACTIVE:
            wire = f"OCPI profile only: no OCPP TxProfile for a {session.status.value} session"
        else:
            wire = "OCPI profile and OCPP TxProfile"
        sessions.append(
            {
                "id": session_id,
                "source": "arrival_estimate" if session is None else "session",
                "evse_uid": problem.evse_uids[i],
                "station": None if address is None else address.station,
                "evse_id": None if address is None else address.evse_id,
                "evse_id_source": None if address is None else address.source,
                "profile_type": PROFILE_TYPES[problem.profile_type[i]].value,
                "plugged_in": _iso(start_s[i]),
                "departure": _iso(end_s[i]),
                "requested_kwh": float(problem.energy_kwh[i]),
                "delivered_kwh": float(plan.delivered_kwh[i]),
                "unmet_kwh": float(plan.unmet_kwh[i]),
                "unmet_cause": plan.unmet_causes.get(session_id),
                "cost": float(cost[i]),
                "energy_price_per_kwh": None if energy_price is None else float(energy_price[i]),
                "output": wire,
            }
        )
    return {
        "scenario": scenario.name,
        "time_zone": str(zone),
        "currency": currency,
        "horizon": {
            "start": _iso(problem.grid.start_s),
            "end": _iso(problem.grid.end_s),
            "step_s": problem.grid.step_s,
        },
        "plan": {
            "status": plan.status.value,
            "backend": plan.backend,
            "backend_reason": plan.backend_reason,
            "stages": list(plan.stages),
            "timings_s": dict(plan.timings_s),
            "message": plan.message,
            "requested_kwh": float(problem.energy_kwh.sum()),
            "delivered_kwh": float(plan.delivered_kwh.sum()),
            "unmet_kwh": float(plan.unmet_kwh.sum()),
            "cost": plan.cost_eur,
            "emissions_kg": plan.emissions_g / 1000.0,
            "violations": [str(v) for v in violations],
        },
        "skipped": list(problem.metadata.get("skipped", ())),
        "sessions": sessions,
        "nodes": _node_rows(scenario, plan),
    }


def _node_rows(scenario: Scenario, plan: ChargingPlan) -> list[dict[str, Any]]:
    problem = plan.problem
    kinds = {node.id: node.kind.value for node in scenario.topology.nodes}
    loads = plan.node_load_kw
    prices = plan.node_import_price_eur_per_kwh
    edges = problem.grid.edges_s
    rows = []
    for k in problem.node_order:
        load, limit = loads[k], problem.node_capacity_kw[k]
        peak = int(load.argmax())
        finite = np.isfinite(limit)
        safe = np.where(finite, limit, 0.0)
        at_limit = finite & (load >= safe - _AT_LIMIT_RTOL * np.maximum(1.0, np.abs(safe)))
        use = np.where(finite & (safe > 0), load / np.where(safe > 0, safe, 1.0), 0.0)
        shadow = None if prices is None else prices[k]
        top = None if shadow is None else int(shadow.argmax())
        rows.append(
            {
                "id": problem.node_ids[k],
                "kind": kinds.get(problem.node_ids[k]),
                "sessions": int(problem.sessions_under(k).size),
                "peak_kw": float(load[peak]),
                "peak_at": _iso(edges[peak]),
                "limit_at_peak_kw": float(limit[peak]) if finite[peak] else None,
                "utilisation": float(use.max()) if finite.any() else None,
                "slots_at_limit": int(at_limit.sum()),
                "shadow_price_max_per_kwh": None if shadow is None else float(shadow[top]),
                "shadow_price_at": None if shadow is None or shadow[top] <= 0 else _iso(edges[top]),
            }
        )
    return rows


def write_plan(
    directory: Path, scenario: Scenario, plan: ChargingPlan, summary: dict, unit: str = "W"
) -> list[Path]:
    """Write the OCPI profiles, the OCPP requests per EVSE and the summary; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    problem = plan.problem
    ocpi_ids = {session.id for session in scenario.sessions}
    profiles = {
        session_id: profile.model_dump(mode="json")
        for session_id, profile in plan.to_ocpi_profiles(unit).items()
        if session_id in ocpi_ids
    }
    written = [_dump(directory / "ocpi_charging_profiles.json", profiles)]
    active = {s.id for s in scenario.sessions if s.status is ocpi.SessionStatus.ACTIVE}
    rows = [i for i, session_id in enumerate(problem.session_ids) if session_id in active]
    if rows:
        addresses = ocpp_evse_addresses(scenario)
        sub = ChargingPlan(
            problem=problem.select(rows),
            charge_kw=plan.charge_kw[rows],
            discharge_kw=plan.discharge_kw[rows],
            status=plan.status,
            backend=plan.backend,
        )
        evse_ids = {session_id: addresses[session_id].evse_id for session_id in sub.session_ids}
        per_evse: dict[tuple[str, int], list[Any]] = {}
        for session_id, request in zip(
            sub.session_ids, sub.to_ocpp_requests(evse_ids, unit=unit), strict=True
        ):
            address = addresses[session_id]
            per_evse.setdefault((address.station, address.evse_id), []).append(
                request.model_dump(mode="json", by_alias=True)
            )
        for (station, evse_id), requests in sorted(per_evse.items()):
            path = directory / "ocpp" / _file_name(station) / f"evse-{evse_id}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(_dump(path, requests))
    written.append(_dump(directory / "plan_summary.json", summary))
    return written


def _file_name(text: str) -> str:
    """A file-system-safe name for an id."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "_"


def _dump(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Rows as aligned text columns (numbers right-aligned)."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    numeric = [all(_is_number(row[k]) for row in rows) and rows for k in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if num else str(c).ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *map(line, rows)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def plan_tables(summary: dict[str, Any], zone: tzinfo, max_rows: int) -> list[str]:
    """The summary as text: totals, sessions (short ones first), nodes (fullest first)."""
    plan, currency = summary["plan"], summary["currency"]
    lines = [
        f"Plan for {summary['scenario']}: status {plan['status']} ({plan['backend']}), "
        f"{plan['delivered_kwh']:.1f} of {plan['requested_kwh']:.1f} kWh delivered, "
        f"unmet {plan['unmet_kwh']:.1f} kWh, cost {plan['cost']:.2f} {currency}, "
        f"{plan['emissions_kg']:.1f} kg CO2, limit violations: {len(plan['violations'])}",
        f"  backend: {plan['backend_reason']}",
    ]
    lines += [f"  skipped {text}" for text in summary["skipped"]]
    lines += [f"  VIOLATION {text}" for text in plan["violations"]]
    sessions = sorted(
        summary["sessions"], key=lambda row: (row["unmet_cause"] is None, row["plugged_in"])
    )
    lines += ["", f"Sessions (times in {zone}):"]
    rows = [
        [
            row["id"],
            row["profile_type"],
            "-" if row["station"] is None else f"{row['station']}/{row['evse_id']}",
            _local(row["plugged_in"], zone),
            _local(row["departure"], zone),
            _number(row["requested_kwh"]),
            _number(row["delivered_kwh"]),
            _number(row["unmet_kwh"]),
            _number(row["cost"], 2),
            row["unmet_cause"] or "-",
        ]
        for row in sessions[:max_rows]
    ]
    lines += table(
        [
            "session",
            "type",
            "station/evse",
            "plugged in",
            "departs",
            "req kWh",
            "got kWh",
            "unmet",
            f"cost {currency}",
            "why unmet",
        ],
        rows,
    )
    if len(sessions) > max_rows:
        lines.append(f"... and {len(sessions) - max_rows} more sessions (see plan_summary.json)")
    nodes = sorted(summary["nodes"], key=lambda row: -(row["utilisation"] or 0.0))
    lines += ["", "Grid nodes (fullest first):"]
    rows = [
        [
            row["id"],
            row["kind"] or "-",
            str(row["sessions"]),
            _number(row["peak_kw"]),
            _local(row["peak_at"], zone),
            _number(row["limit_at_peak_kw"]),
            "-" if row["utilisation"] is None else f"{100 * row['utilisation']:.0f}%",
            str(row["slots_at_limit"]),
            _number(row["shadow_price_max_per_kwh"], 4),
        ]
        for row in nodes[:max_rows]
    ]
    lines += table(
        [
            "node",
            "kind",
            "sessions",
            "peak kW",
            "peak at",
            "limit kW",
            "use",
            "slots at limit",
            f"shadow {currency}/kWh",
        ],
        rows,
    )
    if len(nodes) > max_rows:
        lines.append(f"... and {len(nodes) - max_rows} more nodes (see plan_summary.json)")
    return lines
