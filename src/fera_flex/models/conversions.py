"""Conversions between the dialects: OCPI, OCPP 2.0.1 and fera_flex's own objects.

The one place where OCPI and OCPP meet. Units change only through
:mod:`fera_flex.units`. Wherever a converted limit has to be rounded (OCPI and
OCPP limits carry at most one decimal), it is rounded **down**, so a converted
limit never exceeds the limit it came from.

- OCPI ChargingProfile <-> OCPP ChargingSchedule / ChargingProfile:
  ``start_date_time`` (absolute) <-> ``startSchedule`` and kind Absolute, no
  start <-> kind Relative; W or A with voltage and phase count; the OCPI
  profile without periods, or whose first period starts after 0 s, needs a
  ``fill_limit`` (OCPP needs a first period at 0 s); ``min_charging_rate``.
- OCPI ``energy_need`` [kWh] <-> OCPP ``energyAmount`` [Wh, integer].
- OCPP NotifyEVChargingNeedsRequest <-> :class:`SessionDemand`.
- OCPI CDR/Session charging periods <-> the measured power history
  (a :class:`~fera_flex.models.fera.TimeSeries` in kW).
- :class:`~fera_flex.timeseries.Profile` <-> FERA TimeSeries, OCPI
  ChargingProfile and OCPP ChargingSchedule (profiles are in kW).

Examples
--------
>>> from fera_flex.models import ocpi
>>> profile = ocpi.ChargingProfile.model_validate({
...     "charging_rate_unit": "W", "duration": 3600,
...     "charging_profile_period": [{"start_period": 0, "limit": 11000},
...                                 {"start_period": 1800, "limit": 7400}]})
>>> schedule = ocpi_to_ocpp_schedule(profile, unit="A", voltage_v=230, phases=3)
>>> [p.limit for p in schedule.charging_schedule_period]
[15.9, 10.7]
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from fera_flex import units
from fera_flex._time import epoch_s, from_epoch_s, require_aware
from fera_flex.errors import InputError
from fera_flex.models import ocpi, ocpp
from fera_flex.models.fera import Period, TimeSeries
from fera_flex.timeseries import Profile

__all__ = [
    "SessionDemand",
    "charging_needs_from_demand",
    "charging_periods_from_power",
    "demand_from_charging_needs",
    "energy_amount_wh",
    "energy_need_kwh",
    "ocpi_to_ocpp_profile",
    "ocpi_to_ocpp_schedule",
    "ocpp_to_ocpi_profile",
    "power_history_kw",
    "profile_from_ocpi",
    "profile_from_ocpp",
    "profile_from_series",
    "profile_to_ocpi",
    "series_from_profile",
]

Unit = Literal["W", "A"]
_OCPP_DEFAULT_PHASES = 3  # OCPP: numberPhases absent means 3
_PHASES_OF_TRANSFER = {
    ocpp.EnergyTransferMode.AC_SINGLE_PHASE: 1,
    ocpp.EnergyTransferMode.AC_TWO_PHASE: 2,
    ocpp.EnergyTransferMode.AC_THREE_PHASE: 3,
    ocpp.EnergyTransferMode.DC: 1,
}
_TRANSFER_OF_PHASES = {
    phases: mode
    for mode, phases in _PHASES_OF_TRANSFER.items()
    if mode is not ocpp.EnergyTransferMode.DC
}


def _convert_limit(limit: float, source: str, target: str, voltage_v: float, phases: int) -> float:
    if source == target:
        return limit
    return units.floor_tenth(units.limit_in_unit(limit, source, target, voltage_v, phases))


def _check_unit(where: str, unit: str | None) -> None:
    if unit not in (None, "W", "A"):
        raise InputError(where, "unit", unit, "must be 'W', 'A' or None (keep the profile's unit)")


def ocpi_to_ocpp_schedule(
    profile: ocpi.ChargingProfile,
    *,
    schedule_id: int = 1,
    unit: Unit | None = None,
    voltage_v: float = 230.0,
    phases: int = 3,
    fill_limit: float | None = None,
) -> ocpp.ChargingSchedule:
    """Convert an OCPI ChargingProfile to an OCPP 2.0.1 ChargingSchedule.

    Parameters
    ----------
    profile : ocpi.ChargingProfile
        The OCPI profile (absolute when it has ``start_date_time``).
    schedule_id : int
        ``id`` of the OCPP schedule.
    unit : {'W', 'A'}, optional
        Unit of the OCPP limits; the profile's own unit when omitted.
    voltage_v : float
        Line-to-neutral voltage for W <-> A [V].
    phases : int
        Phases used for W <-> A; written as ``numberPhases`` when the result
        is in A and ``phases`` is not 3.
    fill_limit : float, optional
        Limit (in the profile's unit) for the time before the first OCPI
        period, and for a profile without periods (OCPP needs a period at
        0 s). Typically the EVSE maximum.

    Returns
    -------
    ocpp.ChargingSchedule
        The schedule; limits converted and rounded down to one decimal.

    Raises
    ------
    InputError
        If a period at 0 s is needed and ``fill_limit`` is not given, if the
        start has sub-millisecond precision (OCPP carries milliseconds), or an
        argument is invalid.
    """
    where = "ocpi_to_ocpp_schedule"
    _check_unit(where, unit)
    source = profile.charging_rate_unit.value
    target = unit or source
    periods = [(p.start_period, p.limit) for p in profile.charging_profile_period or []]
    if not periods or periods[0][0] > 0:
        if fill_limit is None:
            reason = (
                "has no periods" if not periods else f"starts its first period at {periods[0][0]} s"
            )
            raise InputError(
                where,
                "fill_limit",
                None,
                f"the OCPI profile {reason}; OCPP needs a period at 0 s, so give the limit "
                "that holds before it (e.g. the EVSE maximum)",
            )
        periods.insert(0, (0, fill_limit))
    start = profile.start_date_time
    if start is not None and start.microsecond % 1000:
        raise InputError(
            where,
            "profile.start_date_time",
            start.isoformat(),
            "has sub-millisecond precision, which an OCPP dateTime cannot carry",
        )
    number_phases = phases if target == "A" and phases != _OCPP_DEFAULT_PHASES else None
    ocpp_periods = [
        ocpp.ChargingSchedulePeriod(
            start_period=start,
            limit=_convert_limit(limit, source, target, voltage_v, phases),
            number_phases=number_phases,
        )
        for start, limit in periods
    ]
    min_rate = profile.min_charging_rate
    return ocpp.ChargingSchedule(
        id=schedule_id,
        start_schedule=profile.start_date_time,
        duration=profile.duration,
        charging_rate_unit=target,
        charging_schedule_period=ocpp_periods,
        min_charging_rate=None
        if min_rate is None
        else _convert_limit(min_rate, source, target, voltage_v, phases),
    )


def ocpi_to_ocpp_profile(
    profile: ocpi.ChargingProfile,
    *,
    profile_id: int,
    stack_level: int = 0,
    purpose: ocpp.ChargingProfilePurpose = ocpp.ChargingProfilePurpose.TX_PROFILE,
    transaction_id: str | None = None,
    **schedule_options: object,
) -> ocpp.ChargingProfile:
    """Wrap :func:`ocpi_to_ocpp_schedule` in an OCPP ChargingProfile.

    OCPI profiles have no id, stack level, purpose or kind; the caller (the
    CPO side) supplies them. The kind is Absolute when the OCPI profile has a
    ``start_date_time``, else Relative. ``schedule_options`` go to
    :func:`ocpi_to_ocpp_schedule`.
    """
    schedule = ocpi_to_ocpp_schedule(profile, **schedule_options)
    kind = (
        ocpp.ChargingProfileKind.ABSOLUTE
        if profile.start_date_time is not None
        else ocpp.ChargingProfileKind.RELATIVE
    )
    return ocpp.ChargingProfile(
        id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        charging_schedule=[schedule],
        transaction_id=transaction_id,
    )


def ocpp_to_ocpi_profile(
    source: ocpp.ChargingSchedule | ocpp.ChargingProfile,
    *,
    unit: Unit | None = None,
    voltage_v: float = 230.0,
    schedule_index: int = 0,
) -> ocpi.ChargingProfile:
    """Convert an OCPP schedule (or one schedule of a profile) to an OCPI ChargingProfile.

    OCPI has no ``numberPhases``: in A the per-phase limits are kept as they
    are; converted to W each period uses its own ``numberPhases`` (absent
    means 3). A Recurring profile has no OCPI form.

    Parameters
    ----------
    source : ocpp.ChargingSchedule or ocpp.ChargingProfile
        What to convert.
    unit : {'W', 'A'}, optional
        Unit of the OCPI limits; the schedule's own when omitted.
    voltage_v : float
        Line-to-neutral voltage for W <-> A [V].
    schedule_index : int
        Which schedule of a profile to convert.

    Raises
    ------
    InputError
        For a Recurring profile, a missing schedule or an invalid argument.
    """
    where = "ocpp_to_ocpi_profile"
    _check_unit(where, unit)
    schedule = source
    if isinstance(source, ocpp.ChargingProfile):
        if source.charging_profile_kind is ocpp.ChargingProfileKind.RECURRING:
            raise InputError(where, "source", source.id, "a Recurring profile has no OCPI form")
        if not 0 <= schedule_index < len(source.charging_schedule):
            raise InputError(where, "schedule_index", schedule_index, "no such schedule")
        schedule = source.charging_schedule[schedule_index]
    source_unit = schedule.charging_rate_unit.value
    target = unit or source_unit

    def convert(limit: float, number_phases: int | None) -> float:
        return _convert_limit(
            limit, source_unit, target, voltage_v, number_phases or _OCPP_DEFAULT_PHASES
        )

    first_phases = schedule.charging_schedule_period[0].number_phases
    return ocpi.ChargingProfile(
        start_date_time=schedule.start_schedule,
        duration=schedule.duration,
        charging_rate_unit=target,
        min_charging_rate=None
        if schedule.min_charging_rate is None
        else convert(schedule.min_charging_rate, first_phases),
        charging_profile_period=[
            ocpi.ChargingProfilePeriod(
                start_period=p.start_period, limit=convert(p.limit, p.number_phases)
            )
            for p in schedule.charging_schedule_period
        ],
    )


def energy_amount_wh(energy_need_kwh: float) -> int:
    """OCPP ``energyAmount`` [Wh, integer] of an energy need [kWh], rounded to the nearest Wh.

    >>> energy_amount_wh(12.3456), energy_need_kwh(20001)
    (12346, 20.001)
    """
    if (
        not isinstance(energy_need_kwh, (int, float))
        or not math.isfinite(energy_need_kwh)
        or (energy_need_kwh < 0)
    ):
        raise InputError("energy_amount_wh", "energy_need_kwh", energy_need_kwh, "must be >= 0")
    return round(units.wh_from_kwh(float(energy_need_kwh)))


def energy_need_kwh(energy_amount_wh: int) -> float:
    """Energy need [kWh] of an OCPP ``energyAmount`` [Wh]."""
    if (
        isinstance(energy_amount_wh, bool)
        or not isinstance(energy_amount_wh, int)
        or (energy_amount_wh < 0)
    ):
        raise InputError(
            "energy_need_kwh", "energy_amount_wh", energy_amount_wh, "must be an int >= 0"
        )
    return units.kwh_from_wh(float(energy_amount_wh))


@dataclass(frozen=True)
class SessionDemand:
    """What an EV asks for, in fera_flex's units.

    Attributes
    ----------
    energy_need_kwh : float or None
        Energy requested [kWh].
    max_power_kw : float
        Most power the EV accepts [kW].
    min_power_kw : float
        Least power at which the EV charges, 0 when unknown [kW].
    phases : int
        Phases the EV charges on (1 for DC).
    departure_time : datetime or None
        Expected departure (aware).
    dc : bool
        Whether the EV charges with DC.
    state_of_charge_percent : float or None
        State of charge at the request [%].
    battery_capacity_kwh : float or None
        Battery capacity [kWh].
    """

    energy_need_kwh: float | None
    max_power_kw: float
    min_power_kw: float = 0.0
    phases: int = 3
    departure_time: datetime | None = None
    dc: bool = False
    state_of_charge_percent: float | None = None
    battery_capacity_kwh: float | None = None


def demand_from_charging_needs(
    request: ocpp.NotifyEVChargingNeedsRequest, voltage_v: float = 230.0
) -> SessionDemand:
    """Turn OCPP NotifyEVChargingNeeds into the session's demand.

    AC: power from ``evMaxCurrent``/``evMinCurrent`` per phase at the EVSE's
    line-to-neutral ``voltage_v`` and the phase count of the requested
    transfer mode. DC: ``evMaxPower`` when given, else ``evMaxCurrent`` x
    ``evMaxVoltage``.

    Raises
    ------
    InputError
        If the parameters for the requested transfer mode are missing.
    """
    needs = request.charging_needs
    mode = needs.requested_energy_transfer
    phases = _PHASES_OF_TRANSFER[mode]
    if mode is ocpp.EnergyTransferMode.DC:
        dc = needs.dc_charging_parameters
        if dc is None:
            raise InputError(
                "NotifyEVChargingNeedsRequest",
                "chargingNeeds.dcChargingParameters",
                None,
                "required for requestedEnergyTransfer DC",
            )
        max_w = (
            dc.ev_max_power
            if dc.ev_max_power is not None
            else dc.ev_max_current * dc.ev_max_voltage
        )
        return SessionDemand(
            energy_need_kwh=None if dc.energy_amount is None else energy_need_kwh(dc.energy_amount),
            max_power_kw=units.kw_from_w(float(max_w)),
            phases=1,
            departure_time=needs.departure_time,
            dc=True,
            state_of_charge_percent=None
            if dc.state_of_charge is None
            else float(dc.state_of_charge),
            battery_capacity_kwh=None
            if dc.ev_energy_capacity is None
            else units.kwh_from_wh(float(dc.ev_energy_capacity)),
        )
    ac = needs.ac_charging_parameters
    if ac is None:
        raise InputError(
            "NotifyEVChargingNeedsRequest",
            "chargingNeeds.acChargingParameters",
            None,
            f"required for requestedEnergyTransfer {mode.value}",
        )
    return SessionDemand(
        energy_need_kwh=energy_need_kwh(ac.energy_amount),
        max_power_kw=units.kw_from_current_a(float(ac.ev_max_current), voltage_v, phases),
        min_power_kw=units.kw_from_current_a(float(ac.ev_min_current), voltage_v, phases),
        phases=phases,
        departure_time=needs.departure_time,
    )


def charging_needs_from_demand(
    demand: SessionDemand, evse_id: int, voltage_v: float = 230.0, ev_max_voltage_v: int = 400
) -> ocpp.NotifyEVChargingNeedsRequest:
    """The NotifyEVChargingNeedsRequest that announces a demand (for tests and simulators).

    AC currents are rounded down to whole amperes (the wire type is an
    integer), so the announced maximum never exceeds the demand's.
    """
    departure = demand.departure_time
    energy_wh = None if demand.energy_need_kwh is None else energy_amount_wh(demand.energy_need_kwh)
    if demand.dc:
        params = {
            "ev_max_current": math.floor(units.w_from_kw(demand.max_power_kw) / ev_max_voltage_v),
            "ev_max_voltage": ev_max_voltage_v,
            "ev_max_power": math.floor(units.w_from_kw(demand.max_power_kw)),
            "energy_amount": energy_wh,
        }
        if demand.state_of_charge_percent is not None:
            params["state_of_charge"] = round(demand.state_of_charge_percent)
        if demand.battery_capacity_kwh is not None:
            params["ev_energy_capacity"] = round(units.wh_from_kwh(demand.battery_capacity_kwh))
        needs = ocpp.ChargingNeeds(
            dc_charging_parameters=ocpp.DCChargingParameters(**params),
            requested_energy_transfer=ocpp.EnergyTransferMode.DC,
            departure_time=departure,
        )
    else:
        if energy_wh is None:
            raise InputError(
                "charging_needs_from_demand", "energy_need_kwh", None, "AC needs an energy amount"
            )
        current = units.current_a_from_kw
        needs = ocpp.ChargingNeeds(
            ac_charging_parameters=ocpp.ACChargingParameters(
                energy_amount=energy_wh,
                ev_min_current=math.ceil(
                    round(current(demand.min_power_kw, voltage_v, demand.phases), 9)
                ),
                ev_max_current=math.floor(
                    round(current(demand.max_power_kw, voltage_v, demand.phases), 9)
                ),
                ev_max_voltage=ev_max_voltage_v,
            ),
            requested_energy_transfer=_TRANSFER_OF_PHASES[demand.phases],
            departure_time=departure,
        )
    return ocpp.NotifyEVChargingNeedsRequest(charging_needs=needs, evse_id=evse_id)


def power_history_kw(periods: list[ocpi.ChargingPeriod], end: datetime) -> TimeSeries:
    """The measured average power of each OCPI charging period [kW].

    Each period lasts until the next one starts; the last until ``end`` (the
    session's or CDR's end). Per period, in order of preference: the
    session-only POWER dimension (average kW); net energy
    (ENERGY, or ENERGY_IMPORT - ENERGY_EXPORT) [kWh] divided by the duration;
    0 kW for a period with only PARKING_TIME or RESERVATION_TIME.

    Raises
    ------
    InputError
        If a period is empty or reversed, or carries none of those dimensions.
    """
    where = "power_history_kw"
    require_aware(where, "end", end)
    if not periods:
        raise InputError(where, "periods", periods, "needs at least one charging period")
    starts = [p.start_date_time for p in periods] + [end]
    result = []
    for index, period in enumerate(periods):
        start, stop = starts[index], starts[index + 1]
        if stop <= start:
            raise InputError(
                where,
                f"periods[{index}].start_date_time",
                start.isoformat(),
                f"the period ends at {stop.isoformat()}, not after it starts",
            )
        hours = (stop - start).total_seconds() / 3600.0
        result.append(
            Period(start=start, end=stop, value=_average_power_kw(where, index, period, hours))
        )
    return TimeSeries(periods=result)


def _average_power_kw(where: str, index: int, period: ocpi.ChargingPeriod, hours: float) -> float:
    volumes: dict[ocpi.CdrDimensionType, float] = {d.type: d.volume for d in period.dimensions}
    kind = ocpi.CdrDimensionType
    if kind.POWER in volumes:
        return volumes[kind.POWER]
    if kind.ENERGY in volumes:
        return volumes[kind.ENERGY] / hours
    if kind.ENERGY_IMPORT in volumes or kind.ENERGY_EXPORT in volumes:
        return (volumes.get(kind.ENERGY_IMPORT, 0.0) - volumes.get(kind.ENERGY_EXPORT, 0.0)) / hours
    if kind.PARKING_TIME in volumes or kind.RESERVATION_TIME in volumes:
        return 0.0
    raise InputError(
        where,
        f"periods[{index}].dimensions",
        sorted(v.value for v in volumes),
        "no POWER, ENERGY, ENERGY_IMPORT/EXPORT or PARKING_TIME dimension to derive power from",
    )


def charging_periods_from_power(history: TimeSeries) -> list[ocpi.ChargingPeriod]:
    """OCPI charging periods with one ENERGY dimension [kWh] each, from a power history [kW].

    Gaps in the history become periods with 0 kWh. The inverse of
    :func:`power_history_kw` (up to float rounding) for gap-free histories.
    """
    starts, ends, power_kw = history.to_arrays()
    result = []
    for index, (start, end, power) in enumerate(zip(starts, ends, power_kw, strict=True)):
        energy = float(power) * (int(end) - int(start)) / 3600.0
        result.append(_energy_period(int(start), energy))
        if index + 1 < len(starts) and starts[index + 1] > end:
            result.append(_energy_period(int(end), 0.0))
    return result


def _energy_period(start_s: int, energy_kwh: float) -> ocpi.ChargingPeriod:
    return ocpi.ChargingPeriod(
        start_date_time=from_epoch_s(start_s),
        dimensions=[ocpi.CdrDimension(type="ENERGY", volume=energy_kwh)],
    )


def profile_from_series(series: TimeSeries) -> Profile:
    """The :class:`Profile` of a gap-free FERA TimeSeries (values keep their unit).

    Raises
    ------
    InputError
        If the series has a gap (a Profile is defined on one interval).
    """
    starts, ends, values = series.to_arrays()
    gaps = np.flatnonzero(starts[1:] != ends[:-1])
    if gaps.size:
        at = from_epoch_s(ends[gaps[0]]).isoformat()
        raise InputError("profile_from_series", "series", at, "has a gap here; a Profile cannot")
    return Profile(starts, values, end_s=int(ends[-1]))


def series_from_profile(profile: Profile) -> TimeSeries:
    """The FERA TimeSeries (periods form) of a profile with a finite end."""
    if profile.end_s is None:
        raise InputError("series_from_profile", "profile", profile, "is open-ended; give it an end")
    ends = np.append(profile.t_s[1:], profile.end_s)
    return TimeSeries(
        periods=[
            Period(start=from_epoch_s(start), end=from_epoch_s(end), value=float(value))
            for start, end, value in zip(profile.t_s, ends, profile.values, strict=True)
        ]
    )


def _kw(limits: np.ndarray, unit: str, voltage_v: float, phases: np.ndarray) -> np.ndarray:
    return np.array(
        [
            units.kw_from_wire(float(a), unit, voltage_v, int(k))
            for a, k in zip(limits, phases, strict=True)
        ]
    )


def _anchored(where: str, start: datetime | None, anchor: datetime | None) -> int:
    if start is not None:
        return epoch_s(start, where, "start")
    if anchor is None:
        raise InputError(where, "start", None, "a relative profile needs the start of charging")
    return epoch_s(require_aware(where, "start", anchor), where, "start")


def profile_from_ocpi(
    profile: ocpi.ChargingProfile,
    *,
    start: datetime | None = None,
    voltage_v: float = 230.0,
    phases: int = 3,
) -> Profile:
    """The power limits of an OCPI ChargingProfile as a Profile [kW].

    Parameters
    ----------
    profile : ocpi.ChargingProfile
        The profile; it must have at least one period starting at 0 s.
    start : datetime, optional
        Start of charging, required for a relative profile (no
        ``start_date_time``).
    voltage_v, phases : float, int
        For limits in A (per phase).

    Returns
    -------
    Profile
        Limits [kW]; open-ended unless the profile has a ``duration``.
    """
    where = "profile_from_ocpi"
    periods = profile.charging_profile_period or []
    if not periods or periods[0].start_period != 0:
        raise InputError(where, "profile", len(periods), "needs a first period at 0 s")
    t0 = _anchored(where, profile.start_date_time, start)
    offsets = np.array([p.start_period for p in periods], dtype=np.int64)
    limits = np.array([p.limit for p in periods])
    values = _kw(limits, profile.charging_rate_unit.value, voltage_v, np.full(limits.size, phases))
    end = None if profile.duration is None else t0 + profile.duration
    return Profile(t0 + offsets, values, end_s=end)


def profile_from_ocpp(
    schedule: ocpp.ChargingSchedule, *, start: datetime | None = None, voltage_v: float = 230.0
) -> Profile:
    """The power limits of an OCPP ChargingSchedule as a Profile [kW].

    Limits in A use each period's ``numberPhases`` (absent means 3).
    ``start`` anchors a schedule without ``startSchedule`` (Relative kind).
    """
    t0 = _anchored("profile_from_ocpp", schedule.start_schedule, start)
    periods = schedule.charging_schedule_period
    offsets = np.array([p.start_period for p in periods], dtype=np.int64)
    limits = np.array([p.limit for p in periods])
    phases = np.array([p.number_phases or _OCPP_DEFAULT_PHASES for p in periods])
    values = _kw(limits, schedule.charging_rate_unit.value, voltage_v, phases)
    end = None if schedule.duration is None else t0 + schedule.duration
    return Profile(t0 + offsets, values, end_s=end)


def profile_to_ocpi(
    profile: Profile, *, unit: Unit = "W", voltage_v: float = 230.0, phases: int = 3
) -> ocpi.ChargingProfile:
    """An absolute OCPI ChargingProfile whose limits never exceed the profile.

    Limits are rounded down to one decimal; negative values (discharge)
    become 0, which OCPI 2.2.1 can express. Equal neighbours are merged.
    """
    where = "profile_to_ocpi"
    if unit not in ("W", "A"):
        raise InputError(where, "unit", unit, "must be 'W' or 'A'")
    compact = profile.compress()
    t0 = int(compact.t_s[0])
    periods = []
    for offset, power_kw in zip(compact.t_s - t0, compact.values, strict=True):
        limit = units.wire_limit(max(float(power_kw), 0.0), unit, voltage_v, phases)
        if periods and periods[-1].limit == limit:
            continue
        periods.append(ocpi.ChargingProfilePeriod(start_period=int(offset), limit=limit))
    return ocpi.ChargingProfile(
        start_date_time=from_epoch_s(t0),
        duration=None if compact.end_s is None else int(compact.end_s - t0),
        charging_rate_unit=unit,
        charging_profile_period=periods,
    )
