"""Quick start: OCPI Locations, Sessions and ChargingPreferences in, OCPI ChargingProfiles out.

Run it from anywhere::

    .venv/bin/python examples/quickstart.py            # print the plan and the profiles
    .venv/bin/python examples/quickstart.py -o out     # also write the SetChargingProfile bodies

The OCPI objects are the bundled site in ``examples/ocpi_site/`` (as a CPO
sends them: an array of Locations, an array of Sessions, the eMSP's
ChargingPreferences per Session id), a snapshot taken at 09:00 UTC on
2026-03-02. OCPI knows nothing of the grid or of prices, so the SCSP adds
what fera_flex needs beyond it: the planning horizon (the next 24 hours in
quarter hours), the grid (the depot's 50 kW grid connection and the
house's 3x25 A connection, under one portfolio root) and an hourly
day-ahead price. The plan meets every need it can within every limit;
each session's plan becomes an OCPI 2.2.1 ChargingProfile, sent in the
body of ``PUT {sessions endpoint}/{session_id}/charging_profile``
(``SetChargingProfile``).

The home session S-2001 was to leave at 07:30 UTC, before the horizon
starts, so there is nothing left to plan for it: it is listed as skipped,
with the reason.
"""

import argparse
import json
from pathlib import Path

from pydantic import TypeAdapter

import fera_flex as ff
from fera_flex.models import ocpi
from fera_flex.models.fera import GridTopology, PriceSignal
from fera_flex.models.scenario import Horizon

SITE = Path(__file__).resolve().parent / "ocpi_site"
NOW = "2026-03-02T09:00:00Z"
DEPOT_CONNECTION_KW = 50.0
HOME_CONNECTION_KW = 17.25  # 3 x 25 A x 230 V
HOURLY_PRICE_EUR_PER_KWH = [  # 09:00 UTC onwards, illustrative (not market data)
    0.24, 0.21, 0.17, 0.14, 0.13, 0.15, 0.19, 0.26, 0.34, 0.38, 0.36, 0.31,
    0.27, 0.24, 0.22, 0.21, 0.20, 0.19, 0.19, 0.20, 0.22, 0.26, 0.29, 0.27,
]  # fmt: skip
RESPONSE_URL = "https://scsp.example.com/ocpi/2.2.1/chargingprofiles/{session_id}"


def read_site(folder: Path = SITE):
    """The OCPI objects of a site folder, validated field by field."""
    locations = TypeAdapter(list[ocpi.Location]).validate_json(
        (folder / "locations.json").read_bytes()
    )
    sessions = TypeAdapter(list[ocpi.Session]).validate_json(
        (folder / "sessions.json").read_bytes()
    )
    preferences = TypeAdapter(dict[str, ocpi.ChargingPreferences]).validate_json(
        (folder / "charging_preferences.json").read_bytes()
    )
    return locations, sessions, preferences


def site_scenario() -> ff.Scenario:
    """The OCPI objects plus what the SCSP knows beyond OCPI: horizon, grid and prices."""
    locations, sessions, preferences = read_site()
    depot, home = locations
    topology = GridTopology.model_validate(
        {
            "nodes": [
                {"id": "portfolio", "kind": "other"},
                {
                    "id": "depot-connection",
                    "kind": "building_connection",
                    "parent": "portfolio",
                    "import_capacity_kw": DEPOT_CONNECTION_KW,
                    "evse_uids": [evse.uid for evse in depot.evses],
                },
                {
                    "id": "home-connection",
                    "kind": "building_connection",
                    "parent": "portfolio",
                    "import_capacity_kw": HOME_CONNECTION_KW,
                    "evse_uids": [evse.uid for evse in home.evses],
                },
            ]
        }
    )
    price = PriceSignal.model_validate(
        {
            "id": "day-ahead",
            "currency": "EUR",
            "import_price_per_kwh": {
                "start": NOW,
                "step_s": 3600,
                "values": HOURLY_PRICE_EUR_PER_KWH,
            },
        }
    )
    return ff.Scenario(
        name="ocpi-site-quickstart",
        horizon=Horizon(start=NOW, end="2026-03-03T09:00:00Z", step_s=900),
        locations=locations,
        sessions=sessions,
        charging_preferences=preferences,
        topology=topology,
        price_signals=[price],
    )


def profile_text(profile: ocpi.ChargingProfile) -> str:
    """An OCPI ChargingProfile as ``HH:MM limit`` steps (UTC, kW)."""
    start = profile.start_date_time
    steps = []
    for period in profile.charging_profile_period:
        at = start.timestamp() + period.start_period
        hhmm = f"{int(at // 3600 % 24):02d}:{int(at // 60 % 60):02d}"
        steps.append(f"{hhmm} {period.limit / 1000:.1f}")
    return ", ".join(steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, help="folder for the SetChargingProfile bodies"
    )
    args = parser.parse_args(argv)

    scenario = site_scenario()
    problem = ff.ChargingProblem.from_scenario(scenario)
    plan = ff.schedule(problem)
    violations = ff.verify_plan(problem, plan)  # independent of the solver
    print(
        f"plan: {plan.status.value} ({plan.backend}), {plan.delivered_kwh.sum():.1f} of "
        f"{problem.energy_kwh.sum():.1f} kWh, {plan.cost_eur:.2f} EUR, "
        f"limit violations: {len(violations)}"
    )
    for skipped in problem.metadata["skipped"]:
        print(f"skipped {skipped}")
    profiles = plan.to_ocpi_profiles()  # {session id: OCPI ChargingProfile}, limits in W
    for i, session_id in enumerate(plan.session_ids):
        kind = scenario.preferences_for(session_id).profile_type.value
        print(
            f"{session_id} {kind:<7} {plan.delivered_kwh[i]:5.1f} of {problem.energy_kwh[i]:5.1f}"
            f" kWh; profile (UTC, kW): {profile_text(profiles[session_id])}"
        )
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        for session_id, profile in profiles.items():
            body = ocpi.SetChargingProfile(
                charging_profile=profile, response_url=RESPONSE_URL.format(session_id=session_id)
            )
            path = args.output / f"{session_id}.json"
            path.write_text(json.dumps(body.model_dump(mode="json"), indent=2) + "\n")
        print(f"wrote {len(profiles)} SetChargingProfile bodies to {args.output}")
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
