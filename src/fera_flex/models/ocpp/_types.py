"""OCPP 2.0.1 primitive datatypes as annotated pydantic types.

OCPP 2.0.1 Part 2, "Primitive datatypes", defines what the JSON schemas can
only partly say:

- ``integer``: 32 bit (31 bit resolution, 1 sign bit) -> :data:`Integer`.
  JSON integers only: no strings, no booleans, no ``1.0``.
- ``decimal``: a JSON number -> :data:`Number` (finite; no strings, no
  booleans). Charging limits accept "at most one digit fraction (e.g. 8.1)"
  (schema description of ``limit`` and ``minChargingRate``) -> :data:`OneDecimal`.
- ``dateTime``: RFC 3339, "the number of decimal places SHALL NOT exceed the
  maximum of 3" -> :data:`DateTime`. fera_flex additionally requires the UTC
  offset (``Z`` or ``+hh:mm``) that RFC 3339 makes mandatory: a string without
  one, or a naive Python datetime, is rejected. Values are held as aware UTC
  datetimes and written as ``YYYY-MM-DDThh:mm:ss[.fff]Z``.
- ``string[n]`` -> ``String(n)`` (the schemas' ``maxLength``).
- ``boolean`` -> :data:`Boolean`.

Examples
--------
>>> from pydantic import TypeAdapter
>>> TypeAdapter(DateTime).validate_python("2024-03-01T09:30:00+01:00")
datetime.datetime(2024, 3, 1, 8, 30, tzinfo=datetime.timezone.utc)
>>> adapter = TypeAdapter(DateTime)
>>> adapter.dump_json(adapter.validate_python("2024-03-01T08:30:00.250Z"))
b'"2024-03-01T08:30:00.25Z"'
"""

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from fera_flex.models._scalars import FiniteNumber, OneDecimal, StrictBoolean, format_utc

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "Boolean",
    "DateTime",
    "Integer",
    "NonNegativeInteger",
    "Number",
    "OneDecimal",
    "Percentage",
    "PhaseCount",
    "PositiveInteger",
    "String",
    "format_datetime",
    "parse_datetime",
]

INT32_MIN = -(2**31)
"""Smallest OCPP ``integer`` (32 bit, signed)."""
INT32_MAX = 2**31 - 1
"""Largest OCPP ``integer`` (32 bit, signed)."""

_MAX_FRACTION_DIGITS = 3
_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_h>\d{2}):(?P<off_m>\d{2}))?"
)


def parse_datetime(value: Any) -> datetime:
    """Parse an OCPP 2.0.1 dateTime string, or check an aware Python datetime.

    Parameters
    ----------
    value : str or datetime
        RFC 3339 text with a UTC offset (``Z`` or ``+hh:mm``) and at most
        three fractional-second digits; or a timezone-aware datetime whose
        microseconds are whole milliseconds.

    Returns
    -------
    datetime
        The instant as an aware UTC datetime.

    Raises
    ------
    ValueError
        With the rule that the value breaks (pydantic reports it with the
        field's location).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"datetime {value.isoformat()} is timezone-naive; "
                "OCPP times need a UTC offset: pass an aware datetime (tzinfo=timezone.utc)"
            )
        result = value.astimezone(timezone.utc)
    elif isinstance(value, str):
        result = _parse_rfc3339(value)
    else:
        raise ValueError(f"OCPP dateTime must be a string, got {type(value).__name__}")
    if result.microsecond % 1000:
        raise ValueError(
            f"OCPP dateTime allows at most {_MAX_FRACTION_DIGITS} fractional-second digits; "
            f"got {result.microsecond} microseconds: round to milliseconds first"
        )
    return result


def _parse_rfc3339(text: str) -> datetime:
    match = _RFC3339_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"not an RFC 3339 dateTime: {text!r} (expected YYYY-MM-DDThh:mm:ss[.fff]Z)"
        )
    if not (match["utc"] or match["sign"]):
        raise ValueError(
            f"dateTime {text!r} has no UTC offset: OCPP times are RFC 3339 and need "
            "'Z' or '+hh:mm' (naive times are ambiguous)"
        )
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    fraction = (fraction or "").rstrip("0")
    if len(fraction) > _MAX_FRACTION_DIGITS:
        raise ValueError(
            f"dateTime {text!r}: OCPP allows at most {_MAX_FRACTION_DIGITS} "
            "fractional-second digits"
        )
    offset = timedelta(0)
    if match["sign"]:
        hours, minutes = int(match["off_h"]), int(match["off_m"])
        if hours > 23 or minutes > 59:
            raise ValueError(f"dateTime {text!r}: UTC offset out of range")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match["sign"] == "-" else 1)
    try:
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction.ljust(6, "0")),
            tzinfo=timezone(offset),
        )
        return local.astimezone(timezone.utc)
    except (ValueError, OverflowError) as err:
        raise ValueError(f"dateTime {text!r} is not a valid calendar time: {err}") from None


format_datetime = format_utc
"""Write an aware datetime as an OCPP dateTime in UTC with ``Z`` (see :func:`format_utc`)."""


DateTime = Annotated[
    datetime,
    PlainValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""OCPP ``dateTime``: aware, held in UTC, written with ``Z``, millisecond resolution."""

Integer = Annotated[int, Strict(), Field(ge=INT32_MIN, le=INT32_MAX)]
"""OCPP ``integer``: a JSON integer within 32 bit signed range."""

NonNegativeInteger = Annotated[Integer, Field(ge=0)]
"""An OCPP ``integer`` >= 0 (elapsed seconds, stack levels, EVSE ids where 0 is the station)."""

PositiveInteger = Annotated[Integer, Field(ge=1)]
"""An OCPP ``integer`` > 0 (EVSE ids where 0 is not allowed)."""

PhaseCount = Annotated[Integer, Field(ge=1, le=3)]
"""A number of AC phases or a phase index: 1..3."""

Percentage = Annotated[Integer, Field(ge=0, le=100)]
"""An integer percentage 0..100 (state of charge)."""

Number = FiniteNumber
"""OCPP ``decimal``: a finite JSON number (integers accepted, no strings or booleans)."""


Boolean = StrictBoolean
"""OCPP ``boolean``: a JSON ``true`` or ``false``."""


def String(max_length: int) -> Any:  # noqa: N802 - named after the OCPP type string[n]
    """OCPP ``string[n]``: a JSON string of at most ``max_length`` characters.

    Parameters
    ----------
    max_length : int
        The schema's ``maxLength``.

    Returns
    -------
    type
        An annotated ``str`` type for a pydantic field.
    """
    return Annotated[str, Strict(), StringConstraints(max_length=max_length)]
