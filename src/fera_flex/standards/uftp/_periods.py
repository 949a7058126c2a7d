"""Periods and ISPs: a congestion point's local days cut into Imbalance Settlement Periods.

A UFTP **Period** is a local date in the market's time zone; its ISPs are
numbered from 1 at local midnight, each ``ISP-Duration`` long, so a day has
96 ISPs of 15 minutes, 92 on the day clocks go forward and 100 on the day
they go back (the numbering runs in elapsed time). A slot of the problem's
grid may hold several whole ISPs (a 1-h slot is four 15-min ISPs) but no
fraction of one, and the grid's slots must start on ISP boundaries.

Examples
--------
>>> from datetime import date
>>> from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
>>> amsterdam = ZoneInfo("Europe/Amsterdam")
>>> [period(date(2026, 3, day), amsterdam, 900).n_isps for day in (28, 29, 30)]
[96, 92, 96]
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from fera_flex.errors import InputError
from fera_flex.timeseries import TimeGrid

__all__ = [
    "Period",
    "isp_seconds",
    "isp_slots",
    "isps_per_slot",
    "period",
    "period_of_slots",
    "period_windows",
    "time_zone_of",
]

_MINUTES = re.compile(r"PT([1-9][0-9]*)M")
_ZONE = re.compile(r"(Africa|America|Australia|Europe|Pacific)/[a-zA-Z0-9_/]{3,}")


def time_zone_of(name: str, where: str, field: str = "time_zone") -> ZoneInfo:
    """An IANA time zone that the UFTP schema admits (``Europe/Amsterdam``)."""
    if not isinstance(name, str) or not _ZONE.fullmatch(name):
        raise InputError(
            where,
            field,
            name,
            "must be an IANA zone of Africa, America, Australia, Europe or Pacific",
        )
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise InputError(where, field, name, "is not in the IANA time zone database") from None


def isp_seconds(duration: str, where: str, field: str) -> int:
    """Seconds of an ISP-Duration (ISO 8601 in whole minutes only, e.g. ``PT15M``)."""
    match = _MINUTES.fullmatch(duration) if isinstance(duration, str) else None
    if match is None:
        raise InputError(where, field, duration, "must be an ISO 8601 duration in minutes (PT15M)")
    return int(match.group(1)) * 60


@dataclass(frozen=True)
class Period:
    """One local day and its ISPs.

    Attributes
    ----------
    day : date
    start_s, stop_s : int
        Local midnight at its start and end [s since the epoch].
    isp_s : int
        ISP duration [s].
    """

    day: date
    start_s: int
    stop_s: int
    isp_s: int

    @property
    def n_isps(self) -> int:
        """ISPs in the period (92, 96 or 100 for 15-minute ISPs in most of Europe)."""
        return (self.stop_s - self.start_s) // self.isp_s


def _midnight_s(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def period(day: date, zone: ZoneInfo, isp_s: int) -> Period:
    """The period of a local date."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InputError("UFTP period", "day", day, "must be a date (the local day)")
    start_s, stop_s = _midnight_s(day, zone), _midnight_s(day + timedelta(days=1), zone)
    if (stop_s - start_s) % isp_s:
        raise InputError(
            "UFTP period", "ISP-Duration", f"{isp_s} s", f"does not divide the day {day} in {zone}"
        )
    return Period(day, start_s, stop_s, isp_s)


def _day_of(t_s: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(t_s, zone).date()


def isps_per_slot(grid: TimeGrid, isp_s: int, where: str) -> int:
    """How many ISPs one slot of the grid holds (the step must be a whole number of ISPs)."""
    if grid.step_s % isp_s:
        raise InputError(
            where,
            "grid step",
            f"{grid.step_s} s",
            f"must be a whole multiple of the ISP duration ({isp_s} s)",
        )
    return grid.step_s // isp_s


def isp_slots(grid: TimeGrid, found: Period, where: str) -> np.ndarray:
    """The grid slot of each ISP of a period, (n_isps,) int, -1 outside the horizon."""
    isps_per_slot(grid, found.isp_s, where)
    offset = found.start_s + found.isp_s * np.arange(found.n_isps) - grid.start_s
    if offset[0] % found.isp_s:
        raise InputError(
            where, "grid start", grid.start.isoformat(), "slots must start on ISP boundaries"
        )
    slot = offset // grid.step_s
    return np.where((offset >= 0) & (slot < grid.n), slot, -1)


def period_of_slots(
    grid: TimeGrid, first: int, stop: int, zone: ZoneInfo, isp_s: int, where: str
) -> tuple[Period, int, int]:
    """The period of slots ``first..stop-1``, the ISP number of slot ``first``, ISPs per slot.

    Raises
    ------
    InputError
        When the slots are not on ISP boundaries or do not lie in one period
        (they cross local midnight): a UFTP message covers one period.
    """
    per_slot = isps_per_slot(grid, isp_s, where)
    start_s = grid.start_s + first * grid.step_s
    stop_s = grid.start_s + stop * grid.step_s
    found = period(_day_of(start_s, zone), zone, isp_s)
    if (start_s - found.start_s) % isp_s:
        raise InputError(
            where,
            "grid start",
            grid.start.isoformat(),
            f"slots must start on ISP boundaries ({isp_s} s)",
        )
    if stop_s > found.stop_s:
        inside = (found.stop_s - grid.start_s) // grid.step_s
        raise InputError(
            where,
            "window",
            (first, stop),
            f"crosses the end of period {found.day} ({zone.key}) after slot {inside - 1}: "
            "a UFTP message covers one period; make one offer per period "
            "(see period_windows)",
        )
    return found, (start_s - found.start_s) // isp_s + 1, per_slot


def period_windows(grid: TimeGrid, time_zone: str) -> list[tuple[date, tuple[int, int]]]:
    """The slots of a grid per local day: ``(day, (first_slot, stop_slot))``, in order.

    A slot that crosses local midnight belongs to no day (no UFTP message
    can carry it). Use the windows with ``options_offer(..., window=...)``
    to make one FlexOffer per period.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> grid = TimeGrid(datetime(2026, 3, 2, 11, tzinfo=timezone.utc), 900, 96)
    >>> period_windows(grid, "Europe/Amsterdam")
    [(datetime.date(2026, 3, 2), (0, 48)), (datetime.date(2026, 3, 3), (48, 96))]
    """
    zone = time_zone_of(time_zone, "period_windows")
    windows: list[tuple[date, tuple[int, int]]] = []
    for slot in range(grid.n):
        start_s = grid.start_s + slot * grid.step_s
        day = _day_of(start_s, zone)
        if start_s + grid.step_s > _midnight_s(day + timedelta(days=1), zone):
            continue
        if windows and windows[-1][0] == day and windows[-1][1][1] == slot:
            windows[-1] = (day, (windows[-1][1][0], slot + 1))
        else:
            windows.append((day, (slot, slot + 1)))
    return windows
