"""A seeded synthetic scenario generator for tests and benchmarks.

Examples
--------
>>> scenario = generate(n_evses=12, n_sessions=20, n_feeders=3, depth=3, seed=1)
>>> len(scenario.sessions) + len(scenario.arrival_estimates), len(scenario.topology.nodes)
(20, 10)
"""

import math
from datetime import datetime, timezone

import numpy as np

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import _ocpi_json, _shapes
from fera_flex.scenarios._common import Demands, Horizon, Visit, check_count, draw_profile_type

__all__ = ["generate"]

_DEFAULT_START = datetime(2026, 3, 2, tzinfo=timezone.utc)
_EVSES_PER_STATION = 2
_PROFILE_WEIGHTS = {"CHEAP": 0.4, "REGULAR": 0.3, "GREEN": 0.2, "FAST": 0.1}


def generate(
    n_evses: int = 40,
    n_sessions: int | None = None,
    n_feeders: int = 2,
    depth: int = 3,
    *,
    seed: int = 0,
    start: datetime = _DEFAULT_START,
    step_s: int = 900,
    n_slots: int = 96,
    capacity_factor: float = 0.5,
    arrival_estimate_share: float = 0.0,
    discharge_share: float = 0.1,
) -> Scenario:
    """Generate a random but reproducible scenario.

    The tree has ``depth`` levels: a transformer (root); ``n_feeders``
    feeders (depth >= 2); for each further level above 3, two sub-feeders per
    node; and charging stations of two EVSEs each (depth >= 3). EVSEs are 11
    or 22 kW. Session ``k`` uses EVSE ``k mod n_evses``; when there are more
    sessions than EVSEs the horizon is split so that sessions on one EVSE
    follow each other, and the later ones are arrival estimates (one EVSE
    has one ACTIVE Session at a time). Every node's import and export capacity is
    ``capacity_factor`` times the EVSE power below it, so limits bind.

    Parameters
    ----------
    n_evses : int
        Number of EVSEs (>= 1).
    n_sessions : int, optional
        Number of charging sessions (>= 0); ``n_evses`` when omitted.
    n_feeders : int
        Feeders under the transformer (>= 1).
    depth : int
        Tree depth (>= 1).
    seed : int
        Seed of the random generator; equal seeds give equal scenarios.
    start : datetime
        Aware horizon start (whole seconds).
    step_s : int
        Slot length [s].
    n_slots : int
        Number of slots.
    capacity_factor : float
        Node capacity as a share of the EVSE power below it, in (0, 10].
    arrival_estimate_share : float
        Share of sessions given as FERA ArrivalEstimates instead of OCPI
        Sessions, in [0, 1].
    discharge_share : float
        Share of sessions that allow V2G discharge, in [0, 1].

    Returns
    -------
    Scenario
        A validated scenario.
    """
    where = "scenarios.generate"
    n_evses = check_count(where, "n_evses", n_evses, 1)
    n_sessions = n_evses if n_sessions is None else check_count(where, "n_sessions", n_sessions, 0)
    n_feeders = check_count(where, "n_feeders", n_feeders, 1)
    depth = check_count(where, "depth", depth, 1)
    for name, value, low, high in (
        ("capacity_factor", capacity_factor, 0.0, 10.0),
        ("arrival_estimate_share", arrival_estimate_share, 0.0, 1.0),
        ("discharge_share", discharge_share, 0.0, 1.0),
    ):
        if (
            not isinstance(value, (int, float))
            or not (low <= value <= high)
            or (name == "capacity_factor" and value == 0)
        ):
            raise InputError(where, name, value, f"must be a number in [{low}, {high}]")
    rng = np.random.default_rng(seed)
    horizon = Horizon(where, start, step_s, n_slots, utc_offset_h=1.0)
    evse_power_kw = {}
    evses = []
    for index in range(n_evses):
        uid = f"EVSE-{index:05d}"
        amperage = int(rng.choice([16, 32]))
        evses.append(_ocpi_json.ac_evse(uid, 3, amperage, horizon.start))
        evse_power_kw[uid] = 3 * 230 * amperage / 1000.0
    nodes = _tree(list(evse_power_kw), n_feeders, depth)
    _set_capacities(nodes, evse_power_kw, capacity_factor)
    location = _ocpi_json.location(
        "SYN-1",
        "Synthetic site",
        "Generatorstraat 1",
        "Utrecht",
        ("52.09073", "5.12142"),
        evses,
        horizon.start,
    )
    demands = _demands(
        rng,
        horizon,
        list(evse_power_kw),
        evse_power_kw,
        n_sessions,
        arrival_estimate_share,
        discharge_share,
    )
    return Scenario.model_validate(
        {
            "name": f"synthetic-{n_evses}-{n_sessions}-{n_feeders}-{depth}-seed{seed}",
            "description": "Synthetic scenario from fera_flex.scenarios.generate "
            "(uniform random windows).",
            "horizon": horizon.to_json(),
            "locations": [location],
            **demands.to_json(),
            "topology": {"nodes": nodes},
            "price_signals": [
                {
                    "id": "price",
                    "currency": "EUR",
                    "import_price_per_kwh": horizon.series(
                        _shapes.day_ahead_price(horizon.local_hours)
                    ),
                }
            ],
            "emission_signals": [
                {
                    "id": "co2",
                    "emission_g_per_kwh": horizon.series(
                        _shapes.grid_emissions(horizon.local_hours)
                    ),
                }
            ],
        }
    )


def _tree(evse_uids: list[str], n_feeders: int, depth: int) -> list[dict]:
    nodes = [{"id": "root", "kind": "transformer", "evse_uids": []}]
    level = nodes[:]
    if depth >= 2:
        level = [
            {"id": f"feeder-{i}", "kind": "feeder", "parent": "root", "evse_uids": []}
            for i in range(n_feeders)
        ]
        nodes += level
    for _ in range(max(depth - 3, 0)):
        level = [
            {"id": f"{parent['id']}.{k}", "kind": "feeder", "parent": parent["id"], "evse_uids": []}
            for parent in level
            for k in range(2)
        ]
        nodes += level
    if depth >= 3:
        n_stations = math.ceil(len(evse_uids) / _EVSES_PER_STATION)
        stations = [
            {
                "id": f"station-{s:05d}",
                "kind": "charging_station",
                "parent": level[s % len(level)]["id"],
                "evse_uids": [],
            }
            for s in range(n_stations)
        ]
        nodes += stations
        level = stations
    for index, uid in enumerate(evse_uids):
        holder = level[index // _EVSES_PER_STATION] if depth >= 3 else level[index % len(level)]
        holder["evse_uids"].append(uid)
    return nodes


def _set_capacities(nodes: list[dict], evse_power_kw: dict[str, float], factor: float) -> None:
    below = {node["id"]: sum(evse_power_kw[u] for u in node["evse_uids"]) for node in nodes}
    for node in reversed(nodes):  # children come after parents
        parent = node.get("parent")
        if parent is not None:
            below[parent] += below[node["id"]]
    for node in nodes:
        capacity = round(max(below[node["id"]] * factor, 1.0), 3)
        node["import_capacity_kw"] = capacity
        node["export_capacity_kw"] = capacity


def _demands(rng, horizon, uids, evse_power_kw, n_sessions, estimate_share, discharge_share):
    rounds = max(math.ceil(n_sessions / len(uids)), 1)
    span_h = horizon.n_slots * horizon.step_s / 3600.0 / rounds
    demands = Demands()
    for k in range(n_sessions):
        uid = uids[k % len(uids)]
        arrival_h = (k // len(uids)) * span_h + rng.uniform(0.0, 0.4) * span_h
        stay_h = max(rng.uniform(0.3, 0.6) * span_h, horizon.step_s / 3600.0)
        visit = Visit(
            visit_id=f"S-{k:06d}",
            location_id="SYN-1",
            evse_uid=uid,
            arrival=horizon.at(arrival_h),
            departure=horizon.at(arrival_h + stay_h),
            energy_kwh=round(rng.uniform(0.2, 0.9) * evse_power_kw[uid] * stay_h, 3),
            profile_type=draw_profile_type(rng, _PROFILE_WEIGHTS),
            discharge_allowed=bool(rng.random() < discharge_share),
        )
        # an EVSE's later visits have not begun: estimates, not a second ACTIVE Session on it
        if rng.random() < estimate_share or k >= len(uids):
            demands.add_estimate(visit)
        else:
            demands.add_session(visit, token_uid=f"T{k:06d}")
    return demands
