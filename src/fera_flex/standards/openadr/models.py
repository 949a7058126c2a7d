"""OpenADR 3.1.0 objects as pydantic v2 models: the parts of events and reports fera_flex uses.

Field for field these follow the ``components/schemas`` of the OpenADR 3.1.0
OpenAPI document (``event`` = ``objectMetadata`` + ``eventRequest``,
``report`` = ``objectMetadata`` + ``reportRequest`` + ``clientID``, and their
``interval``, ``intervalPeriod``, ``valuesMap``, ``point``,
``eventPayloadDescriptor``, ``reportPayloadDescriptor`` and
``reportDescriptor``), with the same required fields, string lengths,
patterns (``objectID``, ``duration``) and integer ranges. 3.1.0 specifics:
keys are camelCase (``programID``, ``eventID``, ``clientID`` as the document
spells them; snake_case in Python), ``targets`` are plain strings (3.0.x used
``{type, values}`` objects), and an interval inherits what it does not define
of its ``intervalPeriod`` (:func:`resolve_intervals`).

Datetimes are RFC 3339 strings with a UTC offset (``2026-03-02T11:00:00Z``);
a bare date, a missing offset or a number is rejected. Durations are the
ISO 8601 strings of the document's ``duration`` pattern (``PT2H``, ``P1D``);
:func:`parse_duration` reads them, :func:`format_duration` writes them.
Unknown fields are kept and written back; absent optional fields stay absent.

Examples
--------
>>> interval = Interval.model_validate(
...     {"id": 0, "intervalPeriod": {"start": "2026-03-02T12:00:00+01:00", "duration": "PT2H"},
...      "payloads": [{"type": "FLEX", "values": [12.5]}]})
>>> timed = resolve_intervals([interval], None)[0]
>>> timed.start.isoformat(), timed.end.isoformat(), timed.payloads[0].values
('2026-03-02T11:00:00+00:00', '2026-03-02T13:00:00+00:00', [12.5])
>>> parse_duration("PT2H"), format_duration(parse_duration("P1DT30M"))
(datetime.timedelta(seconds=7200), 'P1DT30M')
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from fera_flex.errors import InputError
from fera_flex.models._wire import WireModel

__all__ = [
    "Event",
    "EventPayloadDescriptor",
    "Interval",
    "IntervalPeriod",
    "Point",
    "Report",
    "ReportDescriptor",
    "ReportPayloadDescriptor",
    "ReportResource",
    "TimedInterval",
    "ValuesMap",
    "format_duration",
    "parse_duration",
    "resolve_intervals",
]

DURATION_PATTERN = (
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
"""The ``duration`` pattern of the OpenADR 3.1.0 OpenAPI document."""

INFINITE_DURATION = "P9999Y"
"""The duration OpenADR uses for 'infinity' (User Guide 7.3)."""

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.I)
_NOW = datetime(1, 1, 1, tzinfo=timezone.utc)  # '0001-01-01': 'now' / 'follow the previous'


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError(
            f"{value!r} is not an RFC 3339 date-time with a UTC offset (e.g. 2026-03-02T11:00:00Z)"
        )
    if not isinstance(value, (str, datetime)):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time string")
    return value


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
ObjectId = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[a-zA-Z0-9_-]*$", min_length=1, max_length=128)
]
Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
Duration = Annotated[str, StringConstraints(strict=True, pattern=DURATION_PATTERN)]
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]


class OpenAdrModel(WireModel):
    """Base of every OpenADR 3.1.0 model: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        regex_engine="python-re",  # the duration pattern has a look-ahead
    )


class IntervalPeriod(OpenAdrModel):
    """Start, duration and start randomisation of an interval or a set of intervals."""

    start: DateTime | None = None
    duration: Duration | None = None
    randomize_start: Duration | None = None


class Point(OpenAdrModel):
    """A pair of numbers, e.g. a point of a curve."""

    x: StrictFloat | StrictInt
    y: StrictFloat | StrictInt


class ValuesMap(OpenAdrModel):
    """A payload: a type (``FLEX``, ``USAGE_FORECAST``, ...) and its values."""

    type: Name
    values: list[StrictInt | StrictFloat | StrictBool | StrictStr | Point]


class Interval(OpenAdrModel):
    """An interval: an id (not a sequence number), an optional period and payloads."""

    id: Int32
    interval_period: IntervalPeriod | None = None
    payloads: list[ValuesMap]


class EventPayloadDescriptor(OpenAdrModel):
    """Context (units, currency) of an event payload type."""

    object_type: Literal["EVENT_PAYLOAD_DESCRIPTOR"]
    payload_type: Name
    units: Name | None = None
    currency: StrictStr | None = None


class ReportPayloadDescriptor(OpenAdrModel):
    """Context (units, reading type, accuracy) of a report payload type."""

    object_type: Literal["REPORT_PAYLOAD_DESCRIPTOR"]
    payload_type: Name
    reading_type: Name | None = None
    units: Name | None = None
    accuracy: StrictFloat | StrictInt | None = None
    confidence: Annotated[StrictInt, Field(ge=0, le=100)] | None = None


class ReportDescriptor(OpenAdrModel):
    """A report an event asks the VEN for (defaults as in the OpenAPI document)."""

    payload_type: Name
    reading_type: Name | None = None
    units: Name | None = None
    targets: list[Name] | None = None
    aggregate: StrictBool = False
    start_interval: Int32 = -1
    num_intervals: Int32 = -1
    historical: StrictBool = True
    frequency: Int32 = -1
    repeat: Int32 = 1
    report_intervals: Literal["INTERVALS", "SUB_INTERVALS", "OPEN_INTERVALS"] = "INTERVALS"


class Event(OpenAdrModel):
    """An event as a VEN reads it from the VTN (schema ``event``: metadata required)."""

    id: ObjectId
    created_date_time: DateTime
    modification_date_time: DateTime
    object_type: Literal["EVENT"]
    program_id: ObjectId = Field(alias="programID")
    event_name: StrictStr | None = None
    duration: Duration | None = None
    priority: Annotated[StrictInt, Field(ge=0)] | None = None
    targets: list[Name] | None = None
    report_descriptors: list[ReportDescriptor] | None = None
    payload_descriptors: list[EventPayloadDescriptor] | None = None
    interval_period: IntervalPeriod | None = None
    intervals: list[Interval] | None = None


class ReportResource(OpenAdrModel):
    """Report data of one resource (or ``AGGREGATED_REPORT``)."""

    resource_name: Name
    interval_period: IntervalPeriod | None = None
    intervals: list[Interval]


_REPORT_METADATA = ("id", "created_date_time", "modification_date_time", "object_type", "client_id")


class Report(OpenAdrModel):
    """A report: as a VEN posts it (schema ``reportRequest``) or as the VTN stores it (``report``).

    The VTN's metadata (``id``, ``createdDateTime``, ``modificationDateTime``,
    ``objectType``, ``clientID``) is all there or all absent; :meth:`stored`
    adds it.
    """

    id: ObjectId | None = None
    created_date_time: DateTime | None = None
    modification_date_time: DateTime | None = None
    object_type: Literal["REPORT"] | None = None
    client_id: Name | None = Field(default=None, alias="clientID")
    event_id: ObjectId = Field(alias="eventID")
    client_name: Name
    report_name: StrictStr | None = None
    payload_descriptors: list[ReportPayloadDescriptor] | None = None
    resources: list[ReportResource]

    @model_validator(mode="after")
    def _metadata_together(self) -> "Report":
        given = [getattr(self, name) is not None for name in _REPORT_METADATA]
        if any(given) and not all(given):
            missing = [name for name, ok in zip(_REPORT_METADATA, given, strict=True) if not ok]
            raise ValueError(f"the VTN's metadata is incomplete: {missing} missing")
        return self

    def stored(self, report_id: str, client_id: str, created: datetime) -> "Report":
        """The report as the VTN stores it: with its object id, client id and timestamps."""
        return Report.model_validate(
            {
                **self.model_dump(),
                "id": report_id,
                "createdDateTime": created,
                "modificationDateTime": created,
                "objectType": "REPORT",
                "clientID": client_id,
            }
        )


def parse_duration(text: str, where: str = "OpenADR", name: str = "duration") -> timedelta | None:
    """An ISO 8601 duration of the OpenADR pattern as a timedelta; None for ``P9999Y`` (infinity).

    Raises
    ------
    InputError
        For text that does not match the pattern, or a duration in months or
        years other than ``P9999Y`` (their length depends on the calendar).
    """
    match = re.match(DURATION_PATTERN, text) if isinstance(text, str) else None
    if match is None:
        raise InputError(where, name, text, "is not an ISO 8601 duration (e.g. PT2H)")
    sign, years, months, days, unit, hours, minutes, secs = match.groups()
    if text == INFINITE_DURATION:
        return None
    if years or months:
        raise InputError(
            where, name, text, "durations in years or months are not supported (calendar-dependent)"
        )
    span = timedelta(
        days=int(days or 0) * (7 if unit == "W" else 1),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(secs or 0),
    )
    return -span if sign else span


def format_duration(span: timedelta) -> str:
    """A non-negative whole-second timedelta as an ISO 8601 duration (``PT2H``, ``P1D``)."""
    total = int(span.total_seconds())
    if total < 0 or total != span.total_seconds():
        raise InputError("format_duration", "span", span, "must be a whole number of seconds >= 0")
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return text if text != "P" else "PT0S"


@dataclass(frozen=True)
class TimedInterval:
    """An interval with its period resolved (its own, else inherited, else after the previous one).

    Attributes
    ----------
    id : int
    start : datetime
        Aware, UTC.
    duration : timedelta or None
        None for an infinite (``P9999Y``) interval.
    randomize_start : timedelta
        How far a client may shift the start either way (``PT0S`` when not given).
    payloads : list of ValuesMap
    own_period : bool
        Whether the interval defines its own ``intervalPeriod``.
    """

    id: int
    start: datetime
    duration: timedelta | None
    randomize_start: timedelta
    payloads: list[ValuesMap]
    own_period: bool

    @property
    def end(self) -> datetime | None:
        """Start plus duration (None when infinite)."""
        return None if self.duration is None else self.start + self.duration


def resolve_intervals(
    intervals: list[Interval], default: IntervalPeriod | None, where: str = "OpenADR"
) -> list[TimedInterval]:
    """Each interval's start and duration under the OpenADR 3.1.0 rules (User Guide 7.3, 7.4).

    An interval's own ``intervalPeriod`` overrides the default one (the
    event's, or a report resource's) field by field. Without a start of its
    own (or with the ``0001-01-01`` one) the first interval starts at the
    default start and every later one immediately after the previous one.

    Raises
    ------
    InputError
        Naming the interval whose start or duration neither it nor the default defines.
    """
    default = default or IntervalPeriod()
    resolved: list[TimedInterval] = []
    for k, interval in enumerate(intervals):
        own = interval.interval_period or IntervalPeriod()
        start = own.start if own.start is not None and own.start != _NOW else None
        if start is None and resolved:
            start = resolved[-1].end
        elif start is None and default.start is not None and default.start != _NOW:
            start = default.start
        text = own.duration if own.duration is not None else default.duration
        label = f"intervals[{k}].intervalPeriod"
        if start is None or text is None:
            missing = "start" if start is None else "duration"
            raise InputError(
                where,
                label,
                interval.interval_period,
                f"no {missing}: the interval defines "
                f"none and inherits none (an infinite interval before it has no end)",
            )
        randomize = parse_duration(
            own.randomize_start or default.randomize_start or "PT0S",
            where,
            f"{label}.randomizeStart",
        )
        if randomize is None:
            raise InputError(where, f"{label}.randomizeStart", INFINITE_DURATION, "must be finite")
        resolved.append(
            TimedInterval(
                id=interval.id,
                start=start.astimezone(timezone.utc),
                duration=parse_duration(text, where, f"{label}.duration"),
                randomize_start=abs(randomize),
                payloads=interval.payloads,
                own_period=interval.interval_period is not None,
            )
        )
    return resolved
