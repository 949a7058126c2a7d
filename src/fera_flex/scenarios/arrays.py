"""Seeded random :class:`ChargingProblem` instances straight from arrays (tests, benchmarks).

The instance shape follows ``shared/research/perf-limits.md``: arrivals
around 08:00 and 13:00 plus uniform ones, stays of about six hours, power
limits of 7-22 kW, a three-level tree (root, feeders, charging stations of
two EVSEs) whose limits bind, and a time-of-use price. Energy needs are
feasible by construction unless ``overload`` > 1.

Examples
--------
>>> problem = random_problem(50, n_slots=96, seed=1)
>>> problem.n_sessions, problem.n_nodes
(50, 28)
"""

from datetime import datetime, timezone

import numpy as np

from fera_flex.errors import InputError
from fera_flex.models.ocpi import ProfileType
from fera_flex.scenarios._common import check_count
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.timeseries import TimeGrid

__all__ = ["random_problem"]

_START = datetime(2026, 3, 2, tzinfo=timezone.utc)
_PROFILE_TYPES = [ProfileType.CHEAP, ProfileType.FAST, ProfileType.GREEN, ProfileType.REGULAR]


def random_problem(
    n_sessions: int,
    n_slots: int = 96,
    *,
    seed: int = 0,
    n_feeders: int | None = None,
    profile_mix: bool = False,
    v2g_share: float = 0.0,
    min_rate_share: float = 0.0,
    phase_limits: bool = False,
    overload: float = 1.0,
) -> ChargingProblem:
    """A random problem with binding root, feeder and station limits.

    Parameters
    ----------
    n_sessions : int
        Number of sessions (one per EVSE), >= 1.
    n_slots : int
        Slots in one day (96 = 15 min, 288 = 5 min), >= 4.
    seed : int
        Seed; equal seeds give equal problems.
    n_feeders : int, optional
        Feeders under the root; about one per 20 sessions when omitted.
    profile_mix : bool
        Draw CHEAP/FAST/GREEN/REGULAR per session (else all CHEAP).
    v2g_share, min_rate_share : float
        Shares of sessions that may discharge / have a 6 A x 3 minimum rate.
    phase_limits : bool
        Single-phase sessions spread over L1-L3 and per-phase current limits.
    overload : float
        Multiplies every energy need; > 1 makes some needs infeasible.

    Returns
    -------
    ChargingProblem
    """
    where = "scenarios.random_problem"
    n = check_count(where, "n_sessions", n_sessions, 1)
    n_slots = check_count(where, "n_slots", n_slots, 4)
    for name, value in (("v2g_share", v2g_share), ("min_rate_share", min_rate_share)):
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise InputError(where, name, value, "must be in [0, 1]")
    if not isinstance(overload, (int, float)) or not overload > 0:
        raise InputError(where, "overload", overload, "must be > 0")
    rng = np.random.default_rng([20240601, n, n_slots, seed])
    slots_per_hour = n_slots / 24.0
    kind = rng.random(n)
    centre = np.where(kind < 0.6, 8.0, 13.0) * slots_per_hour
    spread = np.where(kind < 0.6, 1.5, 2.0) * slots_per_hour
    arrival = np.where(kind < 0.85, rng.normal(centre, spread), rng.uniform(0, n_slots, n))
    arrival = np.clip(np.round(arrival), 0, n_slots - 4).astype(np.int64)
    stay = np.clip(rng.gamma(4.0, 1.5 * slots_per_hour, n), slots_per_hour, 16 * slots_per_hour)
    departure = np.minimum(arrival + np.maximum(np.round(stay), 1), n_slots).astype(np.int64)
    power_max = np.round(rng.uniform(7.0, 22.0, n), 1)
    if phase_limits:  # single-phase sessions: at most 32 A at 230 V
        power_max = np.minimum(power_max, 7.3)
    window = (np.arange(n_slots) >= arrival[:, None]) & (np.arange(n_slots) < departure[:, None])

    n_stations = (n + 1) // 2
    n_feeders = (
        max(1, n // 20) if n_feeders is None else check_count(where, "n_feeders", n_feeders, 1)
    )
    station_of = np.arange(n) // 2
    node_parent = np.concatenate(
        [[-1], np.zeros(n_feeders, np.int64), 1 + np.arange(n_stations) % n_feeders]
    ).astype(np.int64)
    node_of_session = 1 + n_feeders + station_of
    present_kw = window * power_max[:, None]
    station_kw = np.zeros((n_stations, n_slots))
    np.add.at(station_kw, station_of, present_kw)
    feeder_kw = np.zeros((n_feeders, n_slots))
    np.add.at(feeder_kw, np.arange(n_stations) % n_feeders, station_kw)
    daily = 1.0 + 0.15 * np.sin(
        2 * np.pi * (np.arange(n_slots) - 20 * slots_per_hour / 4) / n_slots
    )
    capacity = np.vstack(
        [
            np.floor(4.0 * 0.4 * daily * present_kw.sum(axis=0)) / 4.0 + 1.0,
            np.repeat(np.floor(0.6 * feeder_kw.max(axis=1))[:, None] + 1.0, n_slots, axis=1),
            np.repeat(np.floor(0.75 * station_kw.max(axis=1))[:, None] + 1.0, n_slots, axis=1),
        ]
    )
    feasible_plan = _feasible_plan(rng, window, power_max, capacity, node_parent, node_of_session)
    feasible = feasible_plan.sum(axis=1) * 24.0 / n_slots
    hour = np.arange(n_slots) / slots_per_hour
    price = 0.20 + 0.12 * ((hour >= 17) & (hour < 21)) + 0.05 * ((hour >= 7) & (hour < 10))
    price = np.round(price - 0.06 * ((hour >= 11) & (hour < 15)) + rng.uniform(0, 0.02, n_slots), 4)
    emission = np.round(
        300 - 120 * np.exp(-0.5 * ((hour - 13) / 2.5) ** 2) + rng.uniform(0, 20, n_slots)
    )
    phases, phase_limit_a = True, np.inf
    if phase_limits:
        phases = np.zeros((n, 3), dtype=bool)
        phases[np.arange(n), np.arange(n) % 3] = True
        phase_limit_a = _phase_limits_a(feasible_plan, phases, node_parent, node_of_session)
    return ChargingProblem.from_arrays(
        grid=TimeGrid(_START, round(86_400 / n_slots), n_slots),
        arrival_slot=arrival,
        departure_slot=departure,
        energy_kwh=np.floor(feasible * overload * 1000) / 1000,
        power_max_kw=power_max,
        node_of_session=node_of_session,
        node_parent=node_parent,
        node_capacity_kw=capacity,
        price_eur_per_kwh=price,
        profile_type=[_PROFILE_TYPES[k] for k in rng.integers(0, 4, n)] if profile_mix else "CHEAP",
        power_min_kw=np.where(rng.random(n) < min_rate_share, 3 * 6 * 230 / 1000, 0.0),
        discharge_max_kw=np.where(rng.random(n) < v2g_share, power_max, 0.0)[:, None] * window,
        emission_g_per_kwh=emission,
        session_phases=phases,
        phase_current_max_a=phase_limit_a,
    )


def _feasible_plan(rng, window, power_max, capacity, node_parent, node_of_session):
    """A random power plan [kW] scaled into every node limit."""
    plan = window * power_max[:, None] * rng.uniform(0.3, 1.0, window.shape)
    ancestors = [node_of_session]
    while (node_parent[ancestors[-1]] >= 0).any():
        ancestors.append(np.maximum(node_parent[ancestors[-1]], 0))
    for level in ancestors:
        load = np.zeros(capacity.shape)
        np.add.at(load, level, plan)
        scale = np.minimum(1.0, 0.98 * capacity / np.maximum(load, 1e-12))
        plan *= scale[level]
    return plan


def _phase_limits_a(plan, phases, node_parent, node_of_session):
    """Per-feeder phase limits [A] just above the feasible plan's peak phase current."""
    n_nodes = node_parent.size
    amps = np.zeros((n_nodes, 3))
    feeder = node_parent[node_of_session]  # stations hang under feeders
    for phase in range(3):
        per_feeder = np.zeros((n_nodes, plan.shape[1]))
        on = phases[:, phase]
        np.add.at(per_feeder, feeder[on], plan[on] * 1000.0 / 230.0)
        amps[:, phase] = per_feeder.max(axis=1)
    limit = np.ceil(1.02 * amps.max(axis=1)) + 1.0
    return np.where(node_parent == 0, limit, np.inf)
