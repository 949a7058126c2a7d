"""The OCPP 2.0.1 composite schedule: the limit all installed charging profiles leave an EVSE.

A charging station combines its charging profiles into one *composite
schedule* and reports it in GetCompositeScheduleResponse (use case K08).
:func:`composite_schedule` computes that schedule from the profiles a CSMS or
an SCSP knows to be installed, by the rules of
``reference/ocpp-composite-schedule.md`` (the "note"; sections cited below):

1. Each profile defines periods on the time axis (note section 4): an
   ``Absolute`` schedule counts from ``startSchedule``, a ``Relative`` one
   from the start of the transaction, a ``Recurring`` one restarts at
   ``startSchedule + n`` days or weeks (``n >= 0``); the next
   ``startPeriod`` ends a period, ``duration`` ends the schedule, and an
   occurrence never runs into the next one. A profile competes only where it
   is valid, ``validFrom <= t < validTo`` (section 5), and a ``TxProfile``
   only from the start of its transaction (section 1). ``TxDefaultProfile``
   applies with or without a transaction: without one the result is what an
   EV plugged in at ``start`` would get.
2. Within one purpose, at every instant, the profile with the highest
   ``stackLevel`` *that has a period there* prevails; where it has none the
   next lower one does (section 2).
3. ``TxProfile`` overrules ``TxDefaultProfile`` wherever it has a period
   (section 3.2); the composite is the minimum of that,
   ``ChargingStationMaxProfile`` and ``ChargingStationExternalConstraints``
   (section 3.3).

Scope (sections 1 and 3.4). For ``evse_id > 0`` the profiles installed on
that EVSE and on evseId 0 take part: a ``TxDefaultProfile`` or an
``ExternalConstraints`` profile on evseId 0 applies to the EVSE too and stacks
with the EVSE's own ones by ``stackLevel``; at an equal ``stackLevel`` the
EVSE-specific profile replaces the station-wide one (OCPP 1.6: it is replaced
"only for that specific connector"). The station-wide limits bound the EVSE as
they are; they are not shared out among EVSEs. For ``evse_id = 0`` (the grid
connection) only ``ChargingStationMaxProfile`` and
``ChargingStationExternalConstraints`` apply: a ``TxDefaultProfile`` on
evseId 0 limits each EVSE on its own, not the connection.

Units (section 3.5). Limits in W are total power, limits in A current per
phase. At every instant the phase count in use is the smallest
``numberPhases`` of the prevailing periods (``phases`` where a period has
none, or where no profile applies), written as ``numberPhases`` unless it is
3 (K01.FR.49). An A limit allows ``limit * voltage_v * phase count`` W and a
W limit ``limit / (voltage_v * phase count)`` A. The conversion is exact:
limits and the voltage are taken at their decimal value (7.3, not the nearest
binary float), so 7.3 A x 230 V x 3 is 5037 W, not 5036.9 W.

Rounding. OCPP limits have at most one decimal; every composite limit is
rounded *down* to one decimal, so it never exceeds a limit it came from.

Where no profile applies. Neither OCPP nor :class:`~fera_flex.timeseries.Profile`
can express "no limit", so such instants take ``default_limit`` (for example
the EVSE's rating; EVerest libocpp uses 48 A or 33120 W). Without
``default_limit`` they are an error: the function never invents a limit.

Examples
--------
>>> from datetime import datetime, timezone
>>> from fera_flex.models import ocpp
>>> station_max = ocpp.ChargingProfile.model_validate({
...     "id": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
...     "chargingProfileKind": "Absolute",
...     "chargingSchedule": [{"id": 1, "startSchedule": "2024-03-01T08:00:00Z",
...                           "chargingRateUnit": "W",
...                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}],
... })
>>> tx_default = ocpp.ChargingProfile.model_validate({
...     "id": 2, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
...     "chargingProfileKind": "Relative",
...     "chargingSchedule": [{"id": 2, "chargingRateUnit": "A", "duration": 7200,
...                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0},
...                                                      {"startPeriod": 3600, "limit": 10.0}]}],
... })
>>> t0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
>>> result = composite_schedule(
...     [tx_default], evse_id=1, start=t0, duration_s=3 * 3600, transaction_start=t0,
...     station_profiles=[station_max],
... )
>>> [(p.start_period, p.limit) for p in result.schedule.charging_schedule_period]
[(0, 11000.0), (3600, 6900.0), (7200, 11000.0)]
>>> result.profile.values
array([11000.,  6900., 11000.])
>>> result.to_response().status
<GenericStatus.ACCEPTED: 'Accepted'>
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from itertools import combinations

import numpy as np

from fera_flex import _time, units
from fera_flex.errors import InputError
from fera_flex.models import ocpp
from fera_flex.models._profile_periods import ProfilePeriods, schedule_periods
from fera_flex.timeseries import Profile

__all__ = ["CompositeResult", "InstalledProfiles", "composite_schedule"]

_WHERE = "composite_schedule"
_INT32_MAX = 2**31 - 1
_OCPP_DEFAULT_PHASES = 3
"""What an absent ``numberPhases`` means (K01.FR.49)."""
_Purpose = ocpp.ChargingProfilePurpose
_TX = _Purpose.TX_PROFILE
_TX_DEFAULT = _Purpose.TX_DEFAULT_PROFILE
_STATION_MAX = _Purpose.CHARGING_STATION_MAX_PROFILE
_EXTERNAL = _Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
_MESSAGES = (ocpp.SetChargingProfileRequest, ocpp.ReportChargingProfilesRequest)

InstalledProfiles = Iterable[
    ocpp.ChargingProfile | ocpp.SetChargingProfileRequest | ocpp.ReportChargingProfilesRequest
]
"""Charging profiles, bare or in the message that installed or reported them."""


@dataclass(frozen=True, slots=True)
class CompositeResult:
    """A composite schedule as a profile and as the OCPP object.

    Attributes
    ----------
    profile : Profile
        The composite limit on ``[start, start + duration_s)`` [W] or [A] (the
        requested unit, not kW), equal neighbours merged.
    schedule : ocpp.CompositeSchedule
        The same limits as OCPP ``CompositeScheduleType``: first
        ``startPeriod`` 0, equal neighbours (limit and ``numberPhases``)
        merged.
    """

    profile: Profile
    schedule: ocpp.CompositeSchedule

    def to_response(self) -> ocpp.GetCompositeScheduleResponse:
        """The GetCompositeScheduleResponse that reports :attr:`schedule`.

        Returns
        -------
        ocpp.GetCompositeScheduleResponse
            Status ``Accepted`` with the schedule.
        """
        return ocpp.GetCompositeScheduleResponse(
            status=ocpp.GenericStatus.ACCEPTED, schedule=self.schedule
        )


@dataclass(frozen=True, slots=True)
class _Installed:
    """A charging profile, where it is installed, and how to name it in errors."""

    profile: ocpp.ChargingProfile
    station_wide: bool
    label: str


@dataclass(frozen=True, slots=True)
class _Prevailing:
    """The prevailing period of one purpose at each breakpoint.

    ``limit`` is in the period's unit (``amperes``); ``number_phases`` is 0
    where absent; both are meaningless where ``defined`` is False.
    """

    defined: np.ndarray
    limit: np.ndarray
    amperes: np.ndarray
    number_phases: np.ndarray


def composite_schedule(
    profiles: InstalledProfiles = (),
    *,
    evse_id: int,
    start: datetime,
    duration_s: int,
    charging_rate_unit: ocpp.ChargingRateUnit | str = ocpp.ChargingRateUnit.W,
    transaction_start: datetime | None = None,
    station_profiles: Iterable[ocpp.ChargingProfile] = (),
    voltage_v: float = 230.0,
    phases: int = 3,
    default_limit: float | None = None,
) -> CompositeResult:
    """The composite schedule of an EVSE, or of the grid connection, over a window.

    Parameters
    ----------
    profiles : iterable
        The profiles installed on ``evse_id``: bare ``ChargingProfile`` objects,
        or ``SetChargingProfileRequest`` / ``ReportChargingProfilesRequest``
        messages, whose ``evseId`` must be ``evse_id`` or 0 (0 means
        station-wide).
    evse_id : int
        The EVSE, >= 1; 0 for the grid connection of the whole station.
    start : datetime
        Start of the window (aware, whole seconds); the schedule's ``scheduleStart``.
    duration_s : int
        Length of the window [s], > 0.
    charging_rate_unit : {'W', 'A'}, default 'W'
        Unit of the result.
    transaction_start : datetime, optional
        Start of the transaction on the EVSE (aware, whole seconds). Needed
        with a ``TxProfile``, which applies only from then on. ``Relative``
        profiles count from it; without it they count from ``start`` (as for
        an EV plugged in at ``start``).
    station_profiles : iterable of ChargingProfile
        Bare profiles installed on evseId 0.
    voltage_v : float, default 230.0
        Line-to-neutral voltage [V] for converting between A and W.
    phases : int, default 3
        Phases the EVSE supplies, 1..3: the phase count of periods without
        ``numberPhases``.
    default_limit : float, optional
        Limit where no profile applies [W] or [A] (``charging_rate_unit``),
        >= 0; rounded down to one decimal.

    Returns
    -------
    CompositeResult
        The composite as a :class:`~fera_flex.timeseries.Profile` and as an
        ``ocpp.CompositeSchedule``.

    Raises
    ------
    InputError
        On a bad argument, a profile for another EVSE or a set of profiles no
        station would hold (see Notes), or an instant without any applicable
        profile when ``default_limit`` is None.

    Notes
    -----
    A station rejects some profile sets; they are errors here, naming the
    profile: a ``TxProfile`` on evseId 0 (K01.FR.16) or without
    ``transaction_start``; ``TxProfile`` objects for different transactions
    (one transaction per EVSE); a ``ChargingStationMaxProfile`` not on evseId 0
    (K01.FR.03); other than one ``chargingSchedule`` (K01.FR.30); two profiles
    with the same ``id`` (an id replaces, K01.FR.05); two of one purpose,
    installation and ``stackLevel`` with overlapping validity (K01.FR.39);
    ``numberPhases`` above ``phases`` (K01.FR.45). ``phaseToUse`` and
    ``minChargingRate`` are not carried into the composite.
    """
    unit = _rate_unit(charging_rate_unit)
    evse_id = _evse_id(evse_id)
    start_s = _time.epoch_s(start, _WHERE, "start")
    duration_s = _duration_s(duration_s)
    tx_start_s = (
        None
        if transaction_start is None
        else _time.epoch_s(transaction_start, _WHERE, "transaction_start")
    )
    voltage = _voltage(voltage_v)
    phases = _phases(phases)
    default = _default_limit(default_limit)
    installed = _installed(profiles, station_profiles, evse_id)
    _check_installed(installed, tx_start_s, phases)

    lo_s, hi_s = start_s, start_s + duration_s
    anchor_s = start_s if tx_start_s is None else tx_start_s
    expanded = {
        purpose: [
            (item, _expand(item, lo_s, hi_s, anchor_s, tx_start_s))
            for item in installed
            if item.profile.charging_profile_purpose is purpose
        ]
        for purpose in _applicable_purposes(evse_id)
    }
    t_s = _breakpoints(lo_s, hi_s, [p for pairs in expanded.values() for _, p in pairs])
    prevailing = {purpose: _stack(pairs, t_s) for purpose, pairs in expanded.items()}
    if evse_id == 0:
        components = [prevailing[_STATION_MAX], prevailing[_EXTERNAL]]
    else:
        transaction = _overrule(prevailing[_TX], prevailing[_TX_DEFAULT])
        components = [transaction, prevailing[_STATION_MAX], prevailing[_EXTERNAL]]
    limits, number_phases = _combine(components, t_s, hi_s, unit, voltage, phases, default)
    return _result(evse_id, start_s, duration_s, unit, t_s, limits, number_phases)


# ---------------------------------------------------------------------- arguments


def _rate_unit(value: object) -> ocpp.ChargingRateUnit:
    try:
        return ocpp.ChargingRateUnit(value)
    except ValueError:
        raise InputError(_WHERE, "charging_rate_unit", value, "must be 'W' or 'A'") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _evse_id(value: object) -> int:
    if not _is_int(value) or not 0 <= value <= _INT32_MAX:
        raise InputError(_WHERE, "evse_id", value, "must be an integer >= 0 (0: whole station)")
    return int(value)


def _duration_s(value: object) -> int:
    if not _is_int(value) or not 0 < value <= _INT32_MAX:
        raise InputError(
            _WHERE, "duration_s", value, f"must be an integer number of seconds in 1..{_INT32_MAX}"
        )
    return int(value)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _voltage(value: object) -> float:
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise InputError(_WHERE, "voltage_v", value, "must be a finite number > 0")
    return float(value)


def _phases(value: object) -> int:
    if not _is_int(value) or value not in (1, 2, 3):
        raise InputError(_WHERE, "phases", value, "must be the integer 1, 2 or 3")
    return int(value)


def _default_limit(value: object) -> Fraction | None:
    if value is None:
        return None
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise InputError(_WHERE, "default_limit", value, "must be None or a finite number >= 0")
    return units.exact_decimal(value)


# ---------------------------------------------------------------------- installed profiles


def _installed(profiles: object, station_profiles: object, evse_id: int) -> list[_Installed]:
    """Every profile with its installation (EVSE-specific or station-wide) and label."""
    result = []
    for i, item in enumerate(_items("profiles", profiles)):
        label = f"profiles[{i}]"
        if isinstance(item, ocpp.ChargingProfile):
            result.append(_Installed(item, evse_id == 0, label))
            continue
        if not isinstance(item, _MESSAGES):
            raise InputError(
                _WHERE,
                label,
                item,
                "must be a ChargingProfile, SetChargingProfileRequest or "
                "ReportChargingProfilesRequest",
            )
        if item.evse_id not in (evse_id, 0):
            raise InputError(
                _WHERE,
                f"{label}.evseId",
                item.evse_id,
                f"is a profile for another EVSE: the composite is for evse_id = {evse_id}; "
                "pass only profiles installed on it or on evseId 0",
            )
        if isinstance(item, ocpp.SetChargingProfileRequest):
            result.append(_Installed(item.charging_profile, item.evse_id == 0, label))
        else:
            result.extend(
                _Installed(profile, item.evse_id == 0, f"{label}.chargingProfile[{j}]")
                for j, profile in enumerate(item.charging_profile)
            )
    for i, item in enumerate(_items("station_profiles", station_profiles)):
        if not isinstance(item, ocpp.ChargingProfile):
            raise InputError(_WHERE, f"station_profiles[{i}]", item, "must be a ChargingProfile")
        result.append(_Installed(item, True, f"station_profiles[{i}]"))
    return result


def _items(name: str, value: object) -> list[object]:
    """The items of an iterable argument; a single model (itself iterable) is refused."""
    if isinstance(value, ocpp.OcppModel | str) or not isinstance(value, Iterable):
        raise InputError(_WHERE, name, value, "must be an iterable (list, tuple) of profiles")
    return list(value)


def _check_installed(installed: list[_Installed], tx_start_s: int | None, phases: int) -> None:
    """Refuse profile sets that no charging station would hold."""
    transactions = set()
    for item in installed:
        profile, label = item.profile, item.label
        purpose = profile.charging_profile_purpose
        if len(profile.charging_schedule) != 1:
            raise InputError(
                _WHERE,
                f"{label}.chargingSchedule",
                profile.charging_schedule,
                "must hold exactly one schedule (K01.FR.30); with ISO 15118 pass the one "
                "the EV selected",
            )
        if purpose is _TX and item.station_wide:
            raise InputError(
                _WHERE,
                label,
                profile.id,
                "is a TxProfile installed on evseId 0; a TxProfile is for one EVSE (K01.FR.16)",
            )
        if purpose is _STATION_MAX and not item.station_wide:
            raise InputError(
                _WHERE,
                label,
                profile.id,
                "is a ChargingStationMaxProfile, which is installed on evseId 0 only "
                "(K01.FR.03): pass it in station_profiles",
            )
        if purpose is _TX:
            if tx_start_s is None:
                raise InputError(
                    _WHERE,
                    "transaction_start",
                    None,
                    f"{label} is a TxProfile: give the start of its transaction",
                )
            transactions.add(profile.transaction_id)
        for k, period in enumerate(profile.charging_schedule[0].charging_schedule_period):
            if period.number_phases is not None and period.number_phases > phases:
                raise InputError(
                    _WHERE,
                    f"{label}.chargingSchedule[0].chargingSchedulePeriod[{k}].numberPhases",
                    period.number_phases,
                    f"exceeds the {phases} phase(s) the EVSE supplies (phases) (K01.FR.45)",
                )
    named = transactions - {None}
    if len(named) > 1:
        raise InputError(
            _WHERE,
            "profiles",
            sorted(named),
            "hold TxProfiles for different transactions; an EVSE has one transaction",
        )
    for a, b in combinations(installed, 2):
        _check_pair(a, b)


def _check_pair(a: _Installed, b: _Installed) -> None:
    """Two installed profiles must not be ambiguous where both are valid."""
    pa, pb = a.profile, b.profile
    if pa.id == pb.id:
        raise InputError(
            _WHERE, f"{b.label}.id", pb.id, f"is also the id of {a.label}; an id is unique"
        )
    same_slot = (
        pa.charging_profile_purpose is pb.charging_profile_purpose
        and pa.stack_level == pb.stack_level
        and a.station_wide == b.station_wide
    )
    if same_slot and _validity_overlaps(pa, pb):
        raise InputError(
            _WHERE,
            f"{b.label}.stackLevel",
            pb.stack_level,
            f"is also the stackLevel of {a.label}, of the same purpose, installation and "
            "overlapping validity; a station rejects such a profile (K01.FR.39)",
        )


def _validity_overlaps(a: ocpp.ChargingProfile, b: ocpp.ChargingProfile) -> bool:
    a_before_b = a.valid_to is not None and b.valid_from is not None and a.valid_to <= b.valid_from
    b_before_a = b.valid_to is not None and a.valid_from is not None and b.valid_to <= a.valid_from
    return not (a_before_b or b_before_a)


def _applicable_purposes(evse_id: int) -> tuple[ocpp.ChargingProfilePurpose, ...]:
    if evse_id == 0:
        return (_STATION_MAX, _EXTERNAL)
    return (_TX, _TX_DEFAULT, _STATION_MAX, _EXTERNAL)


# ---------------------------------------------------------------------- periods and stacking


def _expand(
    item: _Installed, lo_s: int, hi_s: int, anchor_s: int, tx_start_s: int | None
) -> ProfilePeriods:
    """The profile's periods where it competes: window, validity and transaction."""
    profile, label = item.profile, item.label
    schedule = profile.charging_schedule[0]
    if profile.valid_from is not None:
        lo_s = max(lo_s, _time.epoch_s(profile.valid_from, _WHERE, f"{label}.validFrom"))
    if profile.valid_to is not None:
        hi_s = min(hi_s, _time.epoch_s(profile.valid_to, _WHERE, f"{label}.validTo"))
    if profile.charging_profile_purpose is _TX:
        lo_s = max(lo_s, tx_start_s)
    start_schedule_s = (
        None
        if schedule.start_schedule is None
        else _time.epoch_s(
            schedule.start_schedule, _WHERE, f"{label}.chargingSchedule[0].startSchedule"
        )
    )
    return schedule_periods(
        schedule,
        profile.charging_profile_kind,
        profile.recurrency_kind,
        start_schedule_s=start_schedule_s,
        relative_anchor_s=anchor_s,
        lo_s=lo_s,
        hi_s=hi_s,
    )


def _breakpoints(lo_s: int, hi_s: int, periods: list[ProfilePeriods]) -> np.ndarray:
    """Every instant in ``[lo_s, hi_s)`` where some period starts or ends, and ``lo_s``."""
    edges = [np.array([lo_s], dtype=np.int64)]
    edges += [p.start_s for p in periods] + [p.end_s for p in periods]
    t_s = np.unique(np.concatenate(edges))
    return t_s[t_s < hi_s]


def _stack(pairs: list[tuple[_Installed, ProfilePeriods]], t_s: np.ndarray) -> _Prevailing:
    """Highest stackLevel with a period wins; at a tie the EVSE-specific profile."""
    result = _Prevailing(
        defined=np.zeros(t_s.size, dtype=bool),
        limit=np.zeros(t_s.size),
        amperes=np.zeros(t_s.size, dtype=bool),
        number_phases=np.zeros(t_s.size, dtype=np.int64),
    )
    ranked = sorted(pairs, key=lambda pair: (-pair[0].profile.stack_level, pair[0].station_wide))
    for _, periods in ranked:
        index = periods.index_at(t_s)
        take = (index >= 0) & ~result.defined
        result.limit[take] = periods.limit[index[take]]
        result.number_phases[take] = periods.number_phases[index[take]]
        result.amperes[take] = periods.amperes
        result.defined[take] = True
    return result


def _overrule(tx: _Prevailing, tx_default: _Prevailing) -> _Prevailing:
    """TxProfile where it has a period, TxDefaultProfile elsewhere (note section 3.2)."""
    use_tx = tx.defined
    return _Prevailing(
        defined=use_tx | tx_default.defined,
        limit=np.where(use_tx, tx.limit, tx_default.limit),
        amperes=np.where(use_tx, tx.amperes, tx_default.amperes),
        number_phases=np.where(use_tx, tx.number_phases, tx_default.number_phases),
    )


# ---------------------------------------------------------------------- combination


def _combine(
    components: list[_Prevailing],
    t_s: np.ndarray,
    hi_s: int,
    unit: ocpp.ChargingRateUnit,
    voltage_v: float,
    phases: int,
    default: Fraction | None,
) -> tuple[list[float], list[int | None]]:
    """Minimum of the components in ``unit``, rounded down, and the phase count in use.

    The phase count is None where it is 3 (an absent ``numberPhases`` means 3).
    """
    limits: list[float] = []
    number_phases: list[int | None] = []
    for i in range(t_s.size):
        present = [c for c in components if c.defined[i]]
        if not present:
            if default is None:
                end_s = hi_s if i + 1 == t_s.size else int(t_s[i + 1])
                raise InputError(
                    _WHERE,
                    "default_limit",
                    None,
                    f"no charging profile applies from {_time.from_epoch_s(t_s[i]).isoformat()} "
                    f"to {_time.from_epoch_s(end_s).isoformat()}: pass the limit that holds "
                    "where none does (e.g. the EVSE's rating)",
                )
            value, in_use = default, phases
        else:
            in_use = min(
                [phases, *(int(c.number_phases[i]) for c in present if c.number_phases[i])]
            )
            value = min(
                units.limit_in_unit(
                    float(c.limit[i]), "A" if c.amperes[i] else "W", unit.value, voltage_v, in_use
                )
                for c in present
            )
        limits.append(units.floor_tenth(value))
        number_phases.append(None if in_use == _OCPP_DEFAULT_PHASES else in_use)
    return limits, number_phases


# ---------------------------------------------------------------------- output


def _result(
    evse_id: int,
    start_s: int,
    duration_s: int,
    unit: ocpp.ChargingRateUnit,
    t_s: np.ndarray,
    limits: list[float],
    number_phases: list[int | None],
) -> CompositeResult:
    keep = [
        i
        for i in range(t_s.size)
        if i == 0 or (limits[i], number_phases[i]) != (limits[i - 1], number_phases[i - 1])
    ]
    periods = [
        ocpp.ChargingSchedulePeriod(
            start_period=int(t_s[i]) - start_s, limit=limits[i], number_phases=number_phases[i]
        )
        for i in keep
    ]
    schedule = ocpp.CompositeSchedule(
        evse_id=evse_id,
        duration=duration_s,
        schedule_start=_time.from_epoch_s(start_s),
        charging_rate_unit=unit,
        charging_schedule_period=periods,
    )
    profile = Profile(t_s[keep], [limits[i] for i in keep], end_s=start_s + duration_s)
    return CompositeResult(profile=profile.compress(), schedule=schedule)
