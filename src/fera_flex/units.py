"""Unit conversions at the boundary to OCPI, OCPP and other wire formats.

Inside fera_flex power is kW and energy kWh. Watts, watt-hours and amperes
appear only on the wire; this module is the one place that converts them.
Every function accepts a scalar or an array and returns the same kind.

AC power from current uses the line-to-neutral voltage (what OCPI's
``Connector.max_voltage`` holds for AC_3_PHASE):
``P [kW] = phases * V_ln [V] * I [A] * power_factor / 1000``.

Examples
--------
>>> from fera_flex import units
>>> units.kw_from_current_a(16.0, voltage_v=230.0, phases=3)
11.04
>>> units.current_a_from_kw(11.04, voltage_v=230.0, phases=3)
16.0
>>> units.wh_from_kwh(1.5)
1500.0
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError

__all__ = [
    "WH_PER_KWH",
    "W_PER_KW",
    "current_a_from_kw",
    "kw_from_current_a",
    "kw_from_w",
    "kwh_from_wh",
    "w_from_kw",
    "wh_from_kwh",
]

W_PER_KW = 1000.0
WH_PER_KWH = 1000.0

Quantity = TypeVar("Quantity", float, NDArray[np.float64])


def kw_from_w(power_w: Quantity) -> Quantity:
    """Convert power from W to kW.

    Parameters
    ----------
    power_w : float or ndarray
        Power [W].

    Returns
    -------
    float or ndarray
        Power [kW].
    """
    return _finite("units.kw_from_w", "power_w", power_w) / W_PER_KW


def w_from_kw(power_kw: Quantity) -> Quantity:
    """Convert power from kW to W.

    Parameters
    ----------
    power_kw : float or ndarray
        Power [kW].

    Returns
    -------
    float or ndarray
        Power [W].
    """
    return _finite("units.w_from_kw", "power_kw", power_kw) * W_PER_KW


def kwh_from_wh(energy_wh: Quantity) -> Quantity:
    """Convert energy from Wh to kWh.

    Parameters
    ----------
    energy_wh : float or ndarray
        Energy [Wh].

    Returns
    -------
    float or ndarray
        Energy [kWh].
    """
    return _finite("units.kwh_from_wh", "energy_wh", energy_wh) / WH_PER_KWH


def wh_from_kwh(energy_kwh: Quantity) -> Quantity:
    """Convert energy from kWh to Wh.

    Parameters
    ----------
    energy_kwh : float or ndarray
        Energy [kWh].

    Returns
    -------
    float or ndarray
        Energy [Wh].
    """
    return _finite("units.wh_from_kwh", "energy_kwh", energy_kwh) * WH_PER_KWH


def kw_from_current_a(
    current_a: Quantity,
    voltage_v: float,
    phases: int = 3,
    power_factor: float = 1.0,
) -> Quantity:
    """Convert a per-phase current to total power.

    Parameters
    ----------
    current_a : float or ndarray
        Current per phase [A].
    voltage_v : float
        Line-to-neutral voltage [V]; for DC the DC voltage.
    phases : int, default 3
        Number of phases carrying the current: 1, 2 or 3 (use 1 for DC).
    power_factor : float, default 1.0
        Power factor in (0, 1].

    Returns
    -------
    float or ndarray
        Total power over all phases [kW].
    """
    where = "units.kw_from_current_a"
    current = _finite(where, "current_a", current_a)
    scale = _ac_scale_kw_per_a(where, voltage_v, phases, power_factor)
    return current * scale


def current_a_from_kw(
    power_kw: Quantity,
    voltage_v: float,
    phases: int = 3,
    power_factor: float = 1.0,
) -> Quantity:
    """Convert total power to the per-phase current that carries it.

    Parameters
    ----------
    power_kw : float or ndarray
        Total power over all phases [kW].
    voltage_v : float
        Line-to-neutral voltage [V]; for DC the DC voltage.
    phases : int, default 3
        Number of phases: 1, 2 or 3 (use 1 for DC).
    power_factor : float, default 1.0
        Power factor in (0, 1].

    Returns
    -------
    float or ndarray
        Current per phase [A].
    """
    where = "units.current_a_from_kw"
    power = _finite(where, "power_kw", power_kw)
    scale = _ac_scale_kw_per_a(where, voltage_v, phases, power_factor)
    return power / scale


def exact_decimal(value: float) -> Fraction:
    """The decimal a float is written as, exactly (7.3 -> 73/10).

    >>> exact_decimal(7.3)
    Fraction(73, 10)
    """
    return Fraction(repr(float(value)))


def floor_tenth(value: float | Fraction) -> float:
    """The largest one-decimal number not above ``value`` (OCPI/OCPP limits carry one decimal).

    Floats are taken as the decimal they are written as, so ``floor_tenth(5037.0)``
    is 5037.0 and ``floor_tenth(5036.99999)`` is 5036.9.

    >>> floor_tenth(15.94), floor_tenth(16.0), floor_tenth(-0.05)
    (15.9, 16.0, -0.1)
    """
    exact = value if isinstance(value, Fraction) else exact_decimal(value)
    return math.floor(exact * 10) / 10


def limit_in_unit(
    limit: float, source: str, target: str, voltage_v: float, phases: int
) -> Fraction:
    """A charging limit converted exactly between ``W`` (total) and ``A`` (per phase).

    ``W = A * V * phases`` on the decimal values, with no detour through kW.

    Parameters
    ----------
    limit : float
        The limit in ``source`` units [W or A].
    source, target : {'W', 'A'}
        Units.
    voltage_v : float
        Line-to-neutral voltage [V].
    phases : int
        Phases the current flows on (1, 2 or 3).

    Returns
    -------
    Fraction
        The exact limit in ``target`` units (round it with :func:`floor_tenth`).

    Examples
    --------
    >>> float(limit_in_unit(7.3, "A", "W", 230, 3))
    5037.0
    """
    where = "units.limit_in_unit"
    for name, unit in (("source", source), ("target", target)):
        if unit not in ("W", "A"):
            raise InputError(where, name, unit, "must be 'W' or 'A'")
    value = exact_decimal(_finite(where, "limit", limit))
    if source == target:
        return value
    volts_phases = exact_decimal(voltage_v) * phases
    _ac_scale_kw_per_a(where, voltage_v, phases, 1.0)
    return value / volts_phases if target == "A" else value * volts_phases


def wire_limit(power_kw: float, unit: str, voltage_v: float = 230.0, phases: int = 3) -> float:
    """A power [kW] as an OCPI/OCPP limit in ``W`` or per-phase ``A``, rounded down to a tenth.

    Computed on the decimal value of ``power_kw`` (1.0069 kW is 1006.9 W, not
    1006.8), so the limit equals the power whenever the wire can carry it and
    is below it otherwise.

    >>> wire_limit(1.0069, "W"), wire_limit(11.04, "A", 230.0, 3)
    (1006.9, 16.0)
    """
    watts = exact_decimal(_finite("units.wire_limit", "power_kw", power_kw)) * int(W_PER_KW)
    return floor_tenth(
        limit_in_unit(float(watts), "W", unit, voltage_v, phases) if unit == "A" else watts
    )


def kw_from_wire(limit: float, unit: str, voltage_v: float = 230.0, phases: int = 3) -> float:
    """The power [kW] of an OCPI/OCPP limit in ``W`` or per-phase ``A``, on its decimal value.

    The inverse of :func:`wire_limit` for limits with one decimal: 4027.7 W is
    4.0277 kW (plain float division would give 4.027699999999999).

    >>> kw_from_wire(4027.7, "W"), kw_from_wire(16.0, "A", 230.0, 3)
    (4.0277, 11.04)
    """
    return float(limit_in_unit(limit, unit, "W", voltage_v, phases) / int(W_PER_KW))


def _ac_scale_kw_per_a(where: str, voltage_v: float, phases: int, power_factor: float) -> float:
    """Return kW per ampere per phase after checking the electrical parameters."""
    if (
        isinstance(phases, bool)
        or not isinstance(phases, (int, np.integer))
        or phases
        not in (
            1,
            2,
            3,
        )
    ):
        raise InputError(where, "phases", phases, "must be the integer 1, 2 or 3")
    if not _is_real(voltage_v) or not math.isfinite(voltage_v) or voltage_v <= 0:
        raise InputError(where, "voltage_v", voltage_v, "must be a finite number > 0")
    if not _is_real(power_factor) or not 0 < power_factor <= 1:
        raise InputError(where, "power_factor", power_factor, "must be in (0, 1]")
    return float(phases) * float(voltage_v) * float(power_factor) / W_PER_KW


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _finite(where: str, name: str, value: Quantity) -> Quantity:
    """Return ``value`` as float or float64 array, rejecting non-numbers and NaN/inf."""
    if _is_real(value):
        if not math.isfinite(value):
            raise InputError(where, name, value, "must be finite")
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise InputError(where, name, value, "must be a number or an array of numbers")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise InputError(where, name, value, "must contain only finite numbers")
    return array
