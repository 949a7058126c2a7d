"""Two realistic Dutch sites: an office/depot and a residential street.

The distributions are stated in each scenario's ``description``. Sourced
figures: EVnetNL's 2015 statistics for its Dutch public charge points
(weekday sessions most often started around 08:51 and ended around 17:12;
8.4 kWh per session on average). Figures marked "assumption" are
engineering assumptions for 2026 vehicles, not measurements.
"""

from datetime import datetime, timezone

import numpy as np

from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import _ocpi_json, _shapes
from fera_flex.scenarios._common import Demands, Horizon, Visit, draw_profile_type

__all__ = ["office_depot", "residential_street"]

_DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday; CET (UTC+1)
_CET_H = 1.0

OFFICE_DESCRIPTION = (
    "Office/depot site in Utrecht on a spring weekday. 630 kVA transformer (import limit 450 kW, "
    "assumption: contracted capacity below rating) with two feeders of 160 kW each, ten dual-EVSE"
    " charging stations per feeder (22 kW station connection), 40 EVSEs of 11 kW (3x16 A) and 22 "
    "kW (3x32 A). Arrivals: normal around 08:45 local (sd 45 min, clipped 06:30-11:30), after "
    "EVnetNL 2015 (most weekday sessions started around 08:51); stays normal around 8.5 h (sd 1 "
    "h, clipped 3-11 h), matching the EVnetNL 17:12 end peak. Energy need: lognormal, median 14 "
    "kWh (assumption: a 2x35 km commute at 0.18 kWh/km plus margin; EVnetNL measured 8.4 kWh per "
    "public session in 2015, with smaller batteries). Preferences: CHEAP 40 %, REGULAR 30 %, "
    "GREEN 20 %, FAST 10 % (assumption). Four visitors are given as arrival estimates. Building: "
    "60 kW night, 180 kW office hours, 150 kWp PV (clear-sky shape). Prices and emissions: "
    "illustrative hourly shapes of a Dutch spring day (not market data)."
)

STREET_DESCRIPTION = (
    "Residential street in Amersfoort, one LV feeder (import limit 160 kW, cut to 70 kW from "
    "17:00 to 21:00 local for DSO congestion management; export limit 100 kW) with 20 houses on "
    "3x25 A connections (17.25 kW). Each house has one home charger: 7.4 kW single-phase (32 A, "
    "wired to L1, L2 or L3 in rotation) or 11 kW three-phase. Household load: after-diversity "
    "mean 0.75 kW per house with an evening peak near 19:00 (assumption, typical Dutch profile "
    "shape). Arrivals: normal around 18:00 local (sd 1 h, clipped 15:30-23:00); departures next "
    "morning normal around 07:30 (sd 45 min, clipped 06:00-09:30) (assumption: commuter pattern)."
    " Energy need: lognormal, median 11 kWh (assumption: 35 km/day at 0.18 kWh/km, charging every"
    " one to two days). Preferences: CHEAP 60 %, GREEN 20 %, REGULAR 15 %, FAST 5 %; 15 % allow "
    "V2G discharge (assumption). Three late arrivals are given as arrival estimates. Prices and "
    "emissions: illustrative hourly shapes (not market data)."
)


def _clipped_normal(
    rng: np.random.Generator, mean: float, sd: float, low: float, high: float
) -> float:
    return float(np.clip(rng.normal(mean, sd), low, high))


def _signals(horizon: Horizon) -> dict:
    return {
        "price_signals": [
            {
                "id": "day-ahead-nl",
                "currency": "EUR",
                "import_price_per_kwh": horizon.series(
                    _shapes.day_ahead_price(horizon.local_hours)
                ),
                "export_price_per_kwh": horizon.series(
                    0.6 * _shapes.day_ahead_price(horizon.local_hours)
                ),
            }
        ],
        "emission_signals": [
            {
                "id": "grid-co2-nl",
                "emission_g_per_kwh": horizon.series(_shapes.grid_emissions(horizon.local_hours)),
            }
        ],
    }


def office_depot(seed: int = 7) -> Scenario:
    """The office/depot scenario (see ``OFFICE_DESCRIPTION``).

    Parameters
    ----------
    seed : int
        Seed of the session draws.

    Returns
    -------
    Scenario
        A validated scenario over one day in 15-minute slots.
    """
    rng = np.random.default_rng(seed)
    horizon = Horizon("scenarios.office_depot", _DAY, 900, 96, _CET_H)
    evses, nodes, power_kw = [], [], {}
    nodes.append(
        {
            "id": "trafo",
            "kind": "transformer",
            "import_capacity_kw": 450.0,
            "export_capacity_kw": 200.0,
        }
    )
    nodes.append({"id": "office", "kind": "building_connection", "parent": "trafo"})
    for feeder in ("A", "B"):
        nodes.append(
            {
                "id": f"feeder-{feeder}",
                "kind": "feeder",
                "parent": "trafo",
                "import_capacity_kw": 160.0,
            }
        )
        for station in range(10):
            station_id = f"CS-{feeder}{station:02d}"
            uids = [f"{station_id}-{side}" for side in ("L", "R")]
            amperage = 32 if station % 2 else 16
            for uid in uids:
                evses.append(_ocpi_json.ac_evse(uid, 3, amperage, _DAY))
                power_kw[uid] = 3 * 230 * amperage / 1000.0
            nodes.append(
                {
                    "id": station_id,
                    "kind": "charging_station",
                    "parent": f"feeder-{feeder}",
                    "import_capacity_kw": 22.0,
                    "evse_uids": uids,
                }
            )
    location = _ocpi_json.location(
        "DEPOT-UTR",
        "Depot Lage Weide",
        "Cartesiusweg 90",
        "Utrecht",
        ("52.10343", "5.08190"),
        evses,
        _DAY,
    )
    weights = {"CHEAP": 0.4, "REGULAR": 0.3, "GREEN": 0.2, "FAST": 0.1}
    demands = Demands()
    for index, uid in enumerate(power_kw):
        arrival_h = horizon.local_hour_to_offset_h(_clipped_normal(rng, 8.75, 0.75, 6.5, 11.5))
        stay_h = _clipped_normal(rng, 8.5, 1.0, 3.0, 11.0)
        visitor = index >= len(power_kw) - 4
        visit = Visit(
            visit_id=f"VISIT-{index:02d}" if visitor else f"S-{index + 1001}",
            location_id="DEPOT-UTR",
            evse_uid=uid,
            arrival=horizon.at(arrival_h),
            departure=horizon.at(arrival_h + stay_h),
            energy_kwh=round(float(rng.lognormal(np.log(14.0), 0.45)), 1),
            profile_type=draw_profile_type(rng, weights),
        )
        if visitor:
            demands.add_estimate(
                visit,
                earliest_arrival=horizon.at(arrival_h - 0.5),
                latest_arrival=horizon.at(arrival_h + 1.0),
                probability=0.8,
            )
        else:
            demands.add_session(visit, token_uid=f"04F1{index:06d}")
    building = {
        "id": "office-building",
        "node_id": "office",
        "load_kw": horizon.series(_shapes.office_load_kw(horizon.local_hours, 60.0, 180.0)),
        "generation_kw": horizon.series(_shapes.pv_generation_kw(horizon.local_hours, 150.0)),
    }
    return Scenario.model_validate(
        {
            "name": "office-depot-utrecht",
            "description": OFFICE_DESCRIPTION,
            "horizon": horizon.to_json(),
            "locations": [location],
            **demands.to_json(),
            "topology": {"nodes": nodes},
            "building_loads": [building],
            **_signals(horizon),
        }
    )


def residential_street(seed: int = 11) -> Scenario:
    """The residential street scenario (see ``STREET_DESCRIPTION``).

    Parameters
    ----------
    seed : int
        Seed of the session draws.

    Returns
    -------
    Scenario
        A validated scenario from noon to noon in 15-minute slots.
    """
    rng = np.random.default_rng(seed)
    start = _DAY.replace(hour=11)  # 12:00 local
    horizon = Horizon("scenarios.residential_street", start, 900, 96, _CET_H)
    evening = (horizon.local_hours >= 17.0) & (horizon.local_hours < 21.0)
    feeder_cap = np.where(evening, 70.0, 160.0)
    nodes = [
        {
            "id": "lv-feeder",
            "kind": "feeder",
            "import_capacity_kw": horizon.series(feeder_cap),
            "export_capacity_kw": 100.0,
        }
    ]
    locations, loads, demands = [], [], Demands()
    weights = {"CHEAP": 0.6, "GREEN": 0.2, "REGULAR": 0.15, "FAST": 0.05}
    phases = ("L1", "L2", "L3")
    for house in range(20):
        uid = f"HOME-{house + 1:02d}"
        three_phase = house % 4 == 3
        evse = _ocpi_json.ac_evse(
            uid, 3 if three_phase else 1, 16 if three_phase else 32, horizon.start
        )
        location_id = f"HOME-AMF-{house + 1:02d}"
        address = f"Zonnebloemstraat {2 * house + 1}"
        locations.append(
            _ocpi_json.location(
                location_id,
                None,
                address,
                "Amersfoort",
                ("52.15617", f"5.{38763 + 7 * house:05d}"),
                [evse],
                horizon.start,
                parking_type="ON_DRIVEWAY",
            )
        )
        node_id = f"house-{house + 1:02d}"
        nodes.append(
            {
                "id": node_id,
                "kind": "building_connection",
                "parent": "lv-feeder",
                "import_capacity_kw": 17.25,
                "export_capacity_kw": 17.25,
                "phase_current_limit_a": 25.0,
                "evse_uids": [uid],
                "evse_phases": {uid: list(phases) if three_phase else [phases[house % 3]]},
            }
        )
        loads.append(
            {
                "id": f"household-{house + 1:02d}",
                "node_id": node_id,
                "load_kw": horizon.series(_shapes.household_load_kw(horizon.local_hours, 0.75)),
            }
        )
        arrival_h = horizon.local_hour_to_offset_h(_clipped_normal(rng, 18.0, 1.0, 15.5, 23.0))
        departure_h = horizon.local_hour_to_offset_h(_clipped_normal(rng, 7.5, 0.75, 6.0, 9.5))
        late = house >= 17
        visit = Visit(
            visit_id=f"LATE-{house + 1:02d}" if late else f"H-{house + 1:02d}",
            location_id=location_id,
            evse_uid=uid,
            arrival=horizon.at(arrival_h),
            departure=horizon.at(departure_h),
            energy_kwh=round(float(rng.lognormal(np.log(11.0), 0.5)), 1),
            profile_type=draw_profile_type(rng, weights),
            discharge_allowed=bool(rng.random() < 0.15),
        )
        if late:
            demands.add_estimate(visit, latest_departure=horizon.at(departure_h + 1.0))
        else:
            demands.add_session(visit, token_uid=f"04A1{house:06d}")
    return Scenario.model_validate(
        {
            "name": "residential-street-amersfoort",
            "description": STREET_DESCRIPTION,
            "horizon": horizon.to_json(),
            "locations": locations,
            **demands.to_json(),
            "topology": {"nodes": nodes},
            "building_loads": loads,
            **_signals(horizon),
        }
    )
