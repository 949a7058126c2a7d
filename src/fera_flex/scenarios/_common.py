"""Pieces shared by the scenario builders: horizon, slot hours, series, preferences."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex._time import epoch_s, require_aware
from fera_flex.errors import InputError
from fera_flex.models.ocpi import format_datetime
from fera_flex.scenarios._ocpi_json import session

__all__ = ["PROFILE_TYPES", "Demands", "Horizon", "Visit", "check_count", "draw_profile_type"]

PROFILE_TYPES = ("CHEAP", "FAST", "GREEN", "REGULAR")


def check_count(where: str, name: str, value: Any, minimum: int) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(where, name, value, f"must be an integer >= {minimum}")
    return int(value)


class Horizon:
    """A planning horizon with the local hour of day of every slot."""

    def __init__(self, where: str, start: datetime, step_s: int, n_slots: int, utc_offset_h: float):
        require_aware(where, "start", start)
        epoch_s(start, where, "start")
        self.start = start
        self.step_s = check_count(where, "step_s", step_s, 1)
        self.n_slots = check_count(where, "n_slots", n_slots, 1)
        self.end = start + timedelta(seconds=self.step_s * self.n_slots)
        offsets_h = np.arange(self.n_slots) * self.step_s / 3600.0
        start_hour = start.hour + start.minute / 60.0 + start.second / 3600.0
        utc_start_hour = start_hour - start.utcoffset().total_seconds() / 3600.0
        self.local_hours: NDArray[np.float64] = (utc_start_hour + utc_offset_h + offsets_h) % 24.0

    def at(self, hours_after_start: float) -> datetime:
        """The instant a number of hours after the start, rounded to whole seconds."""
        return self.start + timedelta(seconds=round(hours_after_start * 3600.0))

    def to_json(self) -> dict[str, Any]:
        """The scenario ``horizon`` object."""
        return {
            "start": format_datetime(self.start),
            "end": format_datetime(self.end),
            "step_s": self.step_s,
        }

    def series(self, values: NDArray) -> dict[str, Any]:
        """A regular TimeSeries over the horizon, values rounded to 4 decimals."""
        return {
            "start": format_datetime(self.start),
            "step_s": self.step_s,
            "values": [round(float(v), 4) for v in values],
        }

    def local_hour_to_offset_h(self, local_hour: float) -> float:
        """Hours after the start at which the first occurrence of a local hour falls."""
        return float((local_hour - self.local_hours[0]) % 24.0)


def draw_profile_type(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One OCPI ProfileType drawn with the given weights."""
    names = list(weights)
    probabilities = np.array([weights[name] for name in names], dtype=float)
    return names[rng.choice(len(names), p=probabilities / probabilities.sum())]


@dataclass(frozen=True)
class Visit:
    """One EV's planned stay at an EVSE."""

    visit_id: str
    location_id: str
    evse_uid: str
    arrival: datetime
    departure: datetime
    energy_kwh: float
    profile_type: str
    discharge_allowed: bool = False


class Demands:
    """Collects OCPI Sessions with their preferences, and FERA arrival estimates."""

    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.preferences: dict[str, dict[str, Any]] = {}
        self.estimates: list[dict[str, Any]] = []

    def add_session(self, visit: Visit, token_uid: str) -> None:
        """Add the visit as an ACTIVE OCPI Session plus its ChargingPreferences."""
        self.sessions.append(
            session(visit.visit_id, visit.location_id, visit.evse_uid, visit.arrival, token_uid)
        )
        preferences = {
            "profile_type": visit.profile_type,
            "departure_time": format_datetime(visit.departure),
            "energy_need": visit.energy_kwh,
        }
        if visit.discharge_allowed:
            preferences["discharge_allowed"] = True
        self.preferences[visit.visit_id] = preferences

    def add_estimate(self, visit: Visit, **extra: Any) -> None:
        """Add the visit as a FERA ArrivalEstimate; datetimes in ``extra`` are formatted."""
        estimate = {
            "id": visit.visit_id,
            "location_id": visit.location_id,
            "evse_uid": visit.evse_uid,
            "expected_arrival": format_datetime(visit.arrival),
            "expected_departure": format_datetime(visit.departure),
            "energy_need_kwh": visit.energy_kwh,
            "profile_type": visit.profile_type,
        }
        if visit.discharge_allowed:
            estimate["discharge_allowed"] = True
        for key, value in extra.items():
            estimate[key] = format_datetime(value) if isinstance(value, datetime) else value
        self.estimates.append(estimate)

    def to_json(self) -> dict[str, Any]:
        """The scenario fields ``sessions``, ``charging_preferences``, ``arrival_estimates``."""
        return {
            "sessions": self.sessions,
            "charging_preferences": self.preferences,
            "arrival_estimates": self.estimates,
        }
