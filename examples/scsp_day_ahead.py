"""An SCSP's day-ahead plan of a depot: prices, a DSO's feeder limit, a mixed fleet.

Run it from anywhere::

    .venv/bin/python examples/scsp_day_ahead.py            # print the plan
    .venv/bin/python examples/scsp_day_ahead.py -o out     # also write profiles, OSCP messages

The site is the bundled ``examples/scenarios/office_depot.json``: 40 EVSEs on
two 160 kW feeders under a 450 kW transformer, an office with PV behind the
same transformer, an hourly day-ahead price and grid emissions, and 40 cars
whose drivers chose CHEAP, GREEN, REGULAR or FAST charging (four of them
expected visitors, FERA arrival estimates).

The DSO, as OSCP 2.0 Capacity Provider, cuts feeder A to 90 kW from 11:00 to
14:00 UTC with an ``UpdateGroupCapacityForecast``. The SCSP (the Flexibility
Provider) plans the day within it, shows what each ProfileType got (the
price it paid against the average price during its stays, its emissions,
how soon its cars were full) and what the feeder cut costs (the shadow
price of feeder A's limit), checks that it can comply (no
``GroupCapacityComplianceError``), and asks with an
``AdjustGroupCapacityForecast`` for the capacity its plan without the cut
would need.

With ``-o DIR`` it writes ``ocpi_charging_profiles.json`` (one OCPI 2.2.1
ChargingProfile per OCPI Session; the visitors have no Session yet),
``oscp_update.json`` (the DSO's forecast as received) and
``oscp_adjust.json``.
"""

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

import fera_flex as ff
from fera_flex.scheduling.problem import PROFILE_TYPES
from fera_flex.standards import oscp

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "office_depot.json"
FEEDER = "feeder-A"
FEEDER_KW = 160.0
CUT_KW = 90.0
CUT_UTC_HOURS = (11, 14)


def dso_forecast(day: datetime) -> oscp.UpdateGroupCapacityForecast:
    """The DSO's day-ahead capacity of feeder A: three blocks, the cut in the middle."""
    cut_start, cut_end = (day + timedelta(hours=h) for h in CUT_UTC_HOURS)
    blocks = [
        (day, cut_start, FEEDER_KW),
        (cut_start, cut_end, CUT_KW),
        (cut_end, day + timedelta(days=1), FEEDER_KW),
    ]
    return oscp.UpdateGroupCapacityForecast.model_validate_json(
        json.dumps(
            {
                "group_id": FEEDER,
                "type": "CONSUMPTION",
                "forecasted_blocks": [
                    {
                        "capacity": capacity,
                        "phase": "ALL",
                        "unit": "KW",
                        "start_time": start.isoformat().replace("+00:00", "Z"),
                        "end_time": end.isoformat().replace("+00:00", "Z"),
                    }
                    for start, end, capacity in blocks
                ],
            }
        )
    )


def by_profile_type(problem: ff.ChargingProblem, plan: ff.ChargingPlan) -> list[str]:
    """One line per ProfileType: kWh, EUR, price paid against its stays' mean, CO2, time to full."""
    hours = problem.slot_energy_h  # plugged-in hours per session and slot
    drawn_kwh = plan.charge_kw * hours
    price = problem.price_matrix()
    emission = np.broadcast_to(problem.emission_g_per_kwh, hours.shape)
    edges_h = problem.grid.edges_s / 3600.0
    lines = [
        f"{'type':<8} {'cars':>4} {'kWh':>7} {'EUR':>7} {'EUR/kWh':>8} {'stay mean':>9}"
        f" {'g/kWh':>6} {'full after h':>12}"
    ]
    for code, kind in enumerate(PROFILE_TYPES):
        rows = np.flatnonzero(problem.profile_type == code)
        if rows.size == 0:
            continue
        kwh = drawn_kwh[rows].sum()
        eur = (drawn_kwh[rows] * price[rows]).sum()
        stay_mean = (hours[rows] * price[rows]).sum() / hours[rows].sum()
        grams = (drawn_kwh[rows] * emission[rows]).sum()
        full_after = [
            edges_h[np.flatnonzero(plan.charge_kw[i] > 1e-6).max() + 1]
            - edges_h[problem.arrival_slot[i]]
            for i in rows
            if (plan.charge_kw[i] > 1e-6).any()
        ]
        lines.append(
            f"{kind.value:<8} {rows.size:>4} {kwh:>7.1f} {eur:>7.2f} {eur / kwh:>8.3f}"
            f" {stay_mean:>9.3f} {grams / kwh:>6.0f} {np.mean(full_after):>12.1f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="folder for the profiles and messages")
    args = parser.parse_args(argv)

    scenario = ff.Scenario.load(SCENARIO)
    day = scenario.horizon.start
    own = ff.ChargingProblem.from_scenario(scenario)  # the site's own limits
    forecast = dso_forecast(day)
    problem = oscp.with_forecast(own, forecast)  # feeder A lowered to the DSO's blocks
    plan = ff.schedule(problem)
    violations = ff.verify_plan(problem, plan)
    print(
        f"{scenario.name}: {problem.n_sessions} sessions, plan {plan.status.value} "
        f"({plan.backend}), {plan.delivered_kwh.sum():.1f} of {problem.energy_kwh.sum():.1f} kWh,"
        f" {plan.cost_eur:.2f} EUR, limit violations: {len(violations)}"
    )
    print("\n".join(by_profile_type(problem, plan)))

    k = problem.node_index(FEEDER)
    first, stop = (4 * h for h in CUT_UTC_HOURS)  # quarter-hour slots of the cut
    free = ff.schedule(own)  # what the sessions would do without the cut
    shadow = plan.node_import_price_eur_per_kwh
    print(
        f"{FEEDER}: peak {plan.node_load_kw[k].max():.1f} kW; during the cut "
        f"{plan.node_load_kw[k, first:stop].max():.1f} kW (limit {CUT_KW:.0f}), without it "
        f"{free.node_load_kw[k, first:stop].max():.1f} kW; the cut costs "
        f"{plan.cost_eur - free.cost_eur:.2f} EUR"
        + ("" if shadow is None else f", shadow price up to {shadow[k].max():.3f} EUR/kWh")
    )
    error = oscp.compliance_error(problem, forecast, plan=plan)
    print("OSCP: the plan complies with the forecast" if error is None else error.message)
    adjust = oscp.adjust_forecast(free, FEEDER)
    asked = max(
        block.capacity
        for block in adjust.forecasted_blocks
        if block.start_time < day + timedelta(hours=CUT_UTC_HOURS[1])
        and block.end_time > day + timedelta(hours=CUT_UTC_HOURS[0])
    )
    print(
        f"OSCP AdjustGroupCapacityForecast: {len(adjust.forecasted_blocks)} blocks, "
        f"up to {asked:.1f} kW asked during the cut"
    )

    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        sessions = {session.id for session in scenario.sessions}
        profiles = {
            session_id: profile.model_dump(mode="json")
            for session_id, profile in plan.to_ocpi_profiles().items()
            if session_id in sessions
        }
        files = {
            "ocpi_charging_profiles.json": profiles,
            "oscp_update.json": forecast.model_dump(mode="json"),
            "oscp_adjust.json": adjust.model_dump(mode="json"),
        }
        for name, data in files.items():
            (args.output / name).write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {', '.join(files)} to {args.output}")
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
