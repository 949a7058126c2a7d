"""NL-Flex (the Dutch OpenADR DER profile v1.0.0): reading baseline and FLEX events.

A Dutch DSO (through its Business Logic, BL) publishes for each resource
group (here: a grid node of a :class:`~fera_flex.ChargingProblem`, usually
the congestion point's) a **baseline event** carrying the group's
``ACTIVE_BASELINE`` and ``RESERVED_BASELINE`` [kW], open-ended from its
``createdDateTime``, and asking for the ``ACTIVE_FLEX_DELTA`` /
``RESERVED_FLEX_DELTA`` reports. It calls flexibility with a **FLEX event**
over a 24-hour window (``intervalPeriod`` of ``P1D``): each dispatch interval
(``PT2H``, ``PT4H`` or ``PT6H``, at most the group's ``MAX_DURATION``) caps the
group's total offtake at ``ACTIVE_BASELINE - FLEX``, and ``PT1H`` "adjacent
hours" with ``FLEX`` 0 directly before or after a dispatch hold it at the
baseline. ``FLEX`` may not exceed the group's ``ACTIVE_AVAILABLE_FLEX``.

:func:`read_baseline_event` and :func:`read_flex_event` check the profile's
rules on top of the OpenAPI schema and raise :class:`NlFlexRuleError` naming
the event, the field and the value;
:func:`~fera_flex.standards.openadr.limits.with_flex_dispatch` puts a
dispatch into a problem as node limits.

Sign and units: consumption (offtake) is positive; ``FLEX`` and the
available flex are positive reductions below the baseline [kW]; every
power carries at most two decimals.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> period = lambda h, d: {"start": f"2026-03-03T{h:02d}:00:00Z", "duration": d}
>>> flex = {"type": "FLEX", "values": [4.0]}
>>> event = {"id": "flex-1", "createdDateTime": "2026-03-02T10:00:00Z",
...     "modificationDateTime": "2026-03-02T10:00:00Z", "objectType": "EVENT",
...     "programID": "nl-flex", "targets": ["group-1"], "intervalPeriod": period(0, "P1D"),
...     "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR",
...                             "payloadType": "FLEX", "units": "KW"}],
...     "reportDescriptors": [{"payloadType": "ACK", "frequency": 0},
...                           {"payloadType": "DELIVERED_FLEX"}],
...     "intervals": [{"id": 0, "intervalPeriod": period(17, "PT2H"), "payloads": [flex]},
...                   {"id": 1, "intervalPeriod": period(19, "PT1H"),
...                    "payloads": [{"type": "FLEX", "values": [0]}]}]}
>>> dispatch = read_flex_event(event, max_duration=timedelta(hours=4), available_kw=5.0)
>>> [(i.start.hour, i.flex_kw, i.adjacent) for i in dispatch.intervals]
[(17, 4.0, False), (19, 0.0, True)]
>>> try:
...     read_flex_event(event, available_kw=3.5)
... except NlFlexRuleError as error:
...     print(error.field, error.value, error.reason)
intervals[0].payloads[FLEX] 4.0 exceeds the group's ACTIVE_AVAILABLE_FLEX of 3.5 kW
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from fera_flex.standards.openadr._rules import NlFlexRuleError, power_value, require
from fera_flex.standards.openadr.models import (
    INFINITE_DURATION,
    Event,
    TimedInterval,
    format_duration,
    parse_duration,
    resolve_intervals,
)
from fera_flex.standards.openadr.wire import MAX_BODY_BYTES, parse_event

__all__ = [
    "ADJACENT_HOUR",
    "DISPATCH_DURATIONS",
    "FlexDispatch",
    "FlexInterval",
    "NlFlexBaseline",
    "read_baseline_event",
    "read_flex_event",
]

DISPATCH_DURATIONS = (timedelta(hours=2), timedelta(hours=4), timedelta(hours=6))
"""The durations a FLEX dispatch interval may have (and the values of MAX_DURATION)."""

ADJACENT_HOUR = timedelta(hours=1)
"""An adjacent hour: FLEX 0 directly before or after a dispatch (not counted in MAX_DURATION)."""

EVENT_WINDOW = timedelta(days=1)
"""The duration of a FLEX event's own ``intervalPeriod``."""

_BASELINE_TYPES = ("ACTIVE_BASELINE", "RESERVED_BASELINE")
_FLEX_DELTA_TYPES = ("ACTIVE_FLEX_DELTA", "RESERVED_FLEX_DELTA")


@dataclass(frozen=True)
class NlFlexBaseline:
    """A resource group's baseline, from a baseline event.

    Attributes
    ----------
    event_id, program_id : str
    targets : tuple of str
        The resource group(s) it applies to.
    valid_from : datetime
        The event's ``createdDateTime``: the baseline holds from then until superseded.
    active_kw, reserved_kw : float
        ``ACTIVE_BASELINE`` (dispatchable) and ``RESERVED_BASELINE`` [kW].
    """

    event_id: str
    program_id: str
    targets: tuple[str, ...]
    valid_from: datetime
    active_kw: float
    reserved_kw: float


@dataclass(frozen=True)
class FlexInterval:
    """One interval of a FLEX event: the offtake cap is the baseline minus ``flex_kw``.

    Attributes
    ----------
    id : int
    start, end : datetime
    flex_kw : float
        The called reduction below ``ACTIVE_BASELINE`` [kW], >= 0.
    adjacent : bool
        Whether it is an adjacent hour (``PT1H``, FLEX 0).
    randomize_start : timedelta
        How far the start may be shifted either way (the cap covers the shifts).
    """

    id: int
    start: datetime
    end: datetime
    flex_kw: float
    adjacent: bool
    randomize_start: timedelta = timedelta(0)


@dataclass(frozen=True)
class FlexDispatch:
    """A FLEX event: the resource group it calls and its intervals.

    Attributes
    ----------
    event_id, program_id, group : str
    window_start, window_end : datetime
        The event's 24-hour window.
    intervals : tuple of FlexInterval
        In the event's order (ids ascending).
    """

    event_id: str
    program_id: str
    group: str
    window_start: datetime
    window_end: datetime
    intervals: tuple[FlexInterval, ...]


def read_baseline_event(
    message: Event | str | bytes | dict, max_bytes: int = MAX_BODY_BYTES
) -> NlFlexBaseline:
    """The baseline of a resource group from an NL-Flex baseline event.

    Raises
    ------
    NlFlexRuleError
        For a rule of the profile's baseline event that the event breaks.
    """
    event = message if isinstance(message, Event) else parse_event(message, max_bytes)
    where = f"NL-Flex baseline event {event.id!r}"
    require(where, "targets", event.targets, bool(event.targets), "must name the resource group")
    require(
        where,
        "intervalPeriod",
        event.interval_period,
        event.interval_period is None,
        "must be absent: a baseline holds from createdDateTime until superseded",
    )
    _descriptors(where, event, _BASELINE_TYPES)
    for payload_type in _FLEX_DELTA_TYPES:
        found = [d for d in event.report_descriptors or () if d.payload_type == payload_type]
        require(
            where,
            "reportDescriptors",
            [d.payload_type for d in event.report_descriptors or ()],
            len(found) == 1,
            f"must ask for exactly one {payload_type} report",
        )
        descriptor = found[0]
        settings = (descriptor.report_intervals, descriptor.frequency, descriptor.repeat)
        require(
            where,
            f"reportDescriptors[{payload_type}]",
            settings,
            settings == ("OPEN_INTERVALS", 0, -1),
            "must set reportIntervals OPEN_INTERVALS, frequency 0 and repeat -1",
        )
    intervals = event.intervals or []
    require(where, "intervals", len(intervals), len(intervals) == 1, "must hold one interval")
    interval = intervals[0]
    require(where, "intervals[0].id", interval.id, interval.id == 0, "must be 0")
    require(
        where,
        "intervals[0].intervalPeriod",
        interval.interval_period,
        interval.interval_period is None,
        "must be absent",
    )
    values = _one_power_each(where, "intervals[0].payloads", interval.payloads, _BASELINE_TYPES)
    return NlFlexBaseline(
        event_id=event.id,
        program_id=event.program_id,
        targets=tuple(event.targets or ()),
        valid_from=event.created_date_time,
        active_kw=values["ACTIVE_BASELINE"],
        reserved_kw=values["RESERVED_BASELINE"],
    )


def read_flex_event(
    message: Event | str | bytes | dict,
    *,
    max_duration: timedelta | None = None,
    available_kw: float | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> FlexDispatch:
    """The dispatch of an NL-Flex FLEX event, with every rule of the profile checked.

    Parameters
    ----------
    message : Event, or a body (JSON text, bytes, mapping)
    max_duration : timedelta, optional
        The group's ``MAX_DURATION``: no dispatch interval may be longer.
    available_kw : float, optional
        The group's ``ACTIVE_AVAILABLE_FLEX`` [kW]: no FLEX value may exceed it.

    Raises
    ------
    NlFlexRuleError
        Naming the interval and the value that break a rule (a ``PT3H``
        dispatch, FLEX above ``available_kw``, overlapping intervals, ...).
    """
    event = message if isinstance(message, Event) else parse_event(message, max_bytes)
    where = f"NL-Flex FLEX event {event.id!r}"
    _descriptors(where, event, ("FLEX",))
    kinds = sorted(d.payload_type for d in event.report_descriptors or ())
    require(
        where,
        "reportDescriptors",
        kinds,
        kinds == ["ACK", "DELIVERED_FLEX"],
        "must ask for exactly one ACK and one DELIVERED_FLEX report",
    )
    for descriptor in event.report_descriptors or ():
        settings = (descriptor.report_intervals, descriptor.frequency, descriptor.repeat)
        if descriptor.payload_type == "ACK":
            ok, rule = descriptor.frequency == 0, "ACK: frequency 0"
        else:
            ok = settings == ("INTERVALS", -1, 1)
            rule = "DELIVERED_FLEX: reportIntervals INTERVALS, frequency -1, repeat 1"
        field = f"reportDescriptors[{descriptor.payload_type}]"
        require(where, field, settings, ok, f"must set {rule}")
    targets = event.targets or []
    require(where, "targets", targets, len(targets) == 1, "must name exactly one resource group")
    period = event.interval_period
    require(where, "intervalPeriod", period, period is not None, "must be given (the 24-h window)")
    window = parse_duration(period.duration or "PT0S", where, "intervalPeriod.duration")
    require(
        where,
        "intervalPeriod",
        period.model_dump(mode="json"),
        period.start is not None and window == EVENT_WINDOW,
        "must start the window and last P1D",
    )
    if event.duration is not None:  # an event duration may cut the intervals short, not loop them
        span = parse_duration(event.duration, where, "duration")
        ok = span is not None and span <= EVENT_WINDOW
        require(where, "duration", event.duration, ok, "must not repeat the intervals past P1D")
    intervals = event.intervals or []
    require(where, "intervals", intervals, bool(intervals), "must hold at least one interval")
    timed = resolve_intervals(intervals, period, where)
    parsed = [
        _flex_interval(where, k, item, period.start, period.start + window, max_duration)
        for k, item in enumerate(timed)
    ]
    for k, (item, flex) in enumerate(zip(timed, parsed, strict=True)):
        ascending = item.id == 0 if k == 0 else item.id > parsed[k - 1].id
        require(where, f"intervals[{k}].id", item.id, ascending, "must ascend from 0, unique")
        if available_kw is not None and flex.flex_kw > available_kw:
            raise NlFlexRuleError(
                where,
                f"intervals[{k}].payloads[FLEX]",
                flex.flex_kw,
                f"exceeds the group's ACTIVE_AVAILABLE_FLEX of {available_kw} kW",
            )
    chronological = sorted(parsed, key=lambda interval: interval.start)
    for first, second in pairwise(chronological):
        if second.start < first.end:
            raise NlFlexRuleError(
                where,
                f"intervals[id={second.id}].intervalPeriod.start",
                second.start.isoformat(),
                f"overlaps interval id={first.id}",
            )
    dispatches = [(i.start, i.end) for i in parsed if not i.adjacent]
    for flex in parsed:
        if flex.adjacent and not any(s == flex.end or e == flex.start for s, e in dispatches):
            raise NlFlexRuleError(
                where,
                f"intervals[id={flex.id}]",
                flex.start.isoformat(),
                "an adjacent hour must directly precede or follow a dispatch interval",
            )
    return FlexDispatch(
        event_id=event.id,
        program_id=event.program_id,
        group=targets[0],
        window_start=period.start,
        window_end=period.start + window,
        intervals=tuple(parsed),
    )


def _flex_interval(
    where: str,
    k: int,
    item: TimedInterval,
    window_start: datetime,
    window_end: datetime,
    max_duration: timedelta | None,
) -> FlexInterval:
    label = f"intervals[{k}]"
    require(where, f"{label}.intervalPeriod", None, item.own_period, "must be given")
    duration = item.duration
    adjacent = duration == ADJACENT_HOUR
    require(
        where,
        f"{label}.intervalPeriod.duration",
        _text(duration),
        adjacent or duration in DISPATCH_DURATIONS,
        "a dispatch lasts PT2H, PT4H or PT6H, an adjacent hour PT1H",
    )
    if not adjacent and max_duration is not None and duration > max_duration:
        raise NlFlexRuleError(
            where,
            f"{label}.intervalPeriod.duration",
            _text(duration),
            f"exceeds the group's MAX_DURATION of {_text(max_duration)}",
        )
    end = item.start + duration
    require(
        where,
        f"{label}.intervalPeriod.start",
        item.start.isoformat(),
        window_start <= item.start and end <= window_end,
        "must lie inside the event's window",
    )
    flex_kw = _one_power_each(where, f"{label}.payloads", item.payloads, ("FLEX",))["FLEX"]
    require(where, f"{label}.payloads[FLEX]", flex_kw, flex_kw >= 0, "must be >= 0")
    if adjacent:
        require(where, f"{label}.payloads[FLEX]", flex_kw, flex_kw == 0, "must be 0 (adjacent)")
    return FlexInterval(item.id, item.start, end, flex_kw, adjacent, item.randomize_start)


def _descriptors(where: str, event: Event, payload_types: tuple[str, ...]) -> None:
    descriptors = event.payload_descriptors or []
    declared = sorted(d.payload_type for d in descriptors)
    require(
        where,
        "payloadDescriptors",
        declared,
        declared == sorted(payload_types),
        f"must declare exactly {list(payload_types)}",
    )
    units = [d.units for d in descriptors]
    require(where, "payloadDescriptors.units", units, set(units) == {"KW"}, "must all be 'KW'")


def _one_power_each(where: str, field: str, payloads: list, types: tuple[str, ...]) -> dict:
    carried = sorted(payload.type for payload in payloads)
    require(where, field, carried, carried == sorted(types), f"must carry exactly {list(types)}")
    values = {}
    for payload in payloads:
        value = power_value(payload.values[0]) if len(payload.values) == 1 else None
        require(
            where,
            f"{field}[{payload.type}]",
            payload.values,
            value is not None,
            "must be one number of kW with at most two decimals",
        )
        values[payload.type] = value
    return values


def _text(duration: timedelta | None) -> str:
    if duration is None:
        return INFINITE_DURATION
    whole = duration.total_seconds() == int(duration.total_seconds()) and duration >= timedelta(0)
    return format_duration(duration) if whole else str(duration)
