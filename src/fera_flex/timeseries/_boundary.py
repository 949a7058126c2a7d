"""Checks and conversions at the public boundary of the profile algebra (private).

Every public function of :mod:`fera_flex.timeseries` passes its arguments
through these helpers before any kernel runs, so bad input surfaces as an
:class:`~fera_flex.errors.InputError` that names the function, the argument and
the value, never as a numba error.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np

from fera_flex import _time
from fera_flex.errors import InputError
from fera_flex.timeseries._kernels import MAX, MEAN, MIN, OPEN_END

__all__ = [
    "breakpoints_s",
    "check_range",
    "domain",
    "end_code",
    "finite_scalar",
    "finite_values",
    "is_scalar",
    "optional_fill",
    "resample_code",
    "time_s",
    "times_s",
]

_RESAMPLE_CODES = {"mean": MEAN, "min": MIN, "max": MAX}

MIN_EPOCH_S = _time.epoch_s(datetime(1, 1, 1, tzinfo=timezone.utc))
MAX_EPOCH_S = _time.epoch_s(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
"""Times must lie in the years 1 to 9999 (what a datetime can show); far from int64 overflow."""


def is_scalar(value: object) -> bool:
    """Whether ``value`` is a real number (bool excluded)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def finite_scalar(where: str, name: str, value: object) -> float:
    """Return ``value`` as a float after checking it is a finite real number."""
    if not is_scalar(value) or not math.isfinite(value):
        raise InputError(where, name, value, "must be a finite number")
    return float(value)


def optional_fill(where: str, fill: object) -> float | None:
    """Return ``fill`` as a float, or None when it is None."""
    return None if fill is None else finite_scalar(where, "fill", fill)


def check_range(where: str, name: str, t_s: np.ndarray, value: object) -> None:
    """Raise unless every time in ``t_s`` lies in the years 1 to 9999 [s]."""
    if t_s.size and (t_s.min() < MIN_EPOCH_S or t_s.max() > MAX_EPOCH_S):
        raise InputError(where, name, value, "must lie between the years 1 and 9999")


def time_s(where: str, name: str, value: object) -> int:
    """Epoch seconds of an aware datetime or of an int number of seconds [s]."""
    if isinstance(value, datetime):
        seconds = _time.epoch_s(value, where, name)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        seconds = int(value)
    else:
        raise InputError(where, name, value, "must be an aware datetime or int epoch seconds")
    check_range(where, name, np.array([seconds], dtype=object), value)
    return seconds


def times_s(where: str, name: str, value: object) -> np.ndarray:
    """Epoch seconds of a sequence of aware datetimes or of integers, as int64 [s]."""
    if isinstance(value, (list, tuple)) and any(isinstance(x, datetime) for x in value):
        return np.array([time_s(where, name, x) for x in value], dtype=np.int64)
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise InputError(where, name, value, "must hold int epoch seconds or aware datetimes")
    check_range(where, name, array, value)
    return array.astype(np.int64)


def breakpoints_s(where: str, t_s: object) -> np.ndarray:
    """Check breakpoints: a non-empty 1-D strictly increasing integer array [s]."""
    array = np.asarray(t_s)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise InputError(where, "t_s", t_s, "must be a 1-D array of int epoch seconds")
    if array.size == 0:
        raise InputError(where, "t_s", t_s, "must hold at least one breakpoint")
    check_range(where, "t_s", array, t_s)
    array = array.astype(np.int64)  # always a copy: the caller may keep it
    bad = np.flatnonzero(array[1:] <= array[:-1])
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(
            where,
            f"t_s[{i}]",
            int(array[i]),
            f"breakpoints must be strictly increasing (t_s[{i - 1}] = {int(array[i - 1])})",
        )
    return array


def finite_values(where: str, name: str, values: object, size: int) -> np.ndarray:
    """Check values: a 1-D array of ``size`` finite numbers, as float64."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(where, name, values, "must be an array of numbers") from None
    if array.ndim != 1 or array.size != size:
        raise InputError(where, name, values, f"must be 1-D with {size} values (one per period)")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        i = int(bad[0])
        raise InputError(where, f"{name}[{i}]", float(array[i]), "must be finite (no NaN/inf)")
    return array


def end_code(where: str, name: str, end: object, last_s: int) -> int:
    """Kernel end of a profile whose last breakpoint is ``last_s``: seconds or OPEN_END."""
    if end is None:
        return OPEN_END
    end_s = time_s(where, name, end)
    if end_s <= last_s:
        raise InputError(
            where, name, end, f"must be after the last breakpoint ({last_s} epoch seconds)"
        )
    return end_s


def domain(where: str, starts_s: np.ndarray, ends: np.ndarray, fill: float | None) -> tuple:
    """Where a combination of profiles is defined, as kernel bounds ``(lo, hi)`` [s].

    Without ``fill`` the intersection of the supports (an error if empty); with
    ``fill`` the smallest interval that contains every support.
    """
    if fill is not None:
        return int(starts_s.min()), int(ends.max())
    lo, hi = int(starts_s.max()), int(ends.min())
    if lo >= hi:
        raise InputError(
            where,
            "profiles",
            f"supports with latest start {lo} and earliest end {hi}",
            "do not overlap; pass fill= to combine them where any is defined",
        )
    return lo, hi


def resample_code(where: str, how: object) -> int:
    """Kernel code of a resampling statistic name."""
    try:
        return _RESAMPLE_CODES[how]
    except (KeyError, TypeError):
        raise InputError(where, "how", how, "must be 'mean', 'min' or 'max'") from None
