"""OCPI 2.2.1 primitive types (``types.asciidoc``) as annotated pydantic types.

- ``CiString(n)``: printable ASCII, at most ``n`` characters, compared
  case-insensitively (see :func:`ci_equal`).
- ``String(n)``: printable UTF-8 (no control characters), at most ``n``.
- :data:`DateTime`: an RFC 3339 UTC timestamp. A string without zone designator
  means UTC; offsets such as ``+00:00`` are not OCPI and are rejected. Values
  are held as aware UTC datetimes and written with ``Z``. At most four
  fractional-second digits are kept, so that the written form fits the
  spec's string(25).
- :data:`Number`: a JSON number (not a string, not a boolean), finite.
- :data:`Int`: a JSON integer.

Examples
--------
>>> from pydantic import TypeAdapter
>>> TypeAdapter(DateTime).validate_python("2015-06-29T20:39:09")
datetime.datetime(2015, 6, 29, 20, 39, 9, tzinfo=datetime.timezone.utc)
>>> TypeAdapter(DateTime).dump_json(TypeAdapter(DateTime).validate_python("2016-12-29T17:45:09.2"))
b'"2016-12-29T17:45:09.2Z"'
"""

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from fera_flex.models._scalars import FiniteNumber, OneDecimal, StrictBoolean, format_utc

__all__ = [
    "URL",
    "Boolean",
    "CiString",
    "DateTime",
    "Int",
    "Latitude",
    "LocalDate",
    "LocalTime",
    "Longitude",
    "NonNegativeInt",
    "NonNegativeNumber",
    "Number",
    "OneDecimal",
    "String",
    "ci_equal",
    "format_datetime",
    "parse_datetime",
]

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z)?",
)
_DATETIME_MAX_LEN = 25
_MAX_FRACTION_DIGITS = 4
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_PRINTABLE_ASCII_RE = re.compile(r"[^\x20-\x7e]")


def _printable_ascii(value: str) -> str:
    bad = _NOT_PRINTABLE_ASCII_RE.search(value)
    if bad:
        raise ValueError(
            f"CiString must be printable ASCII; found {bad.group()!r} at position {bad.start()}"
        )
    return value


def _printable_utf8(value: str) -> str:
    bad = _CONTROL_RE.search(value)
    if bad:
        raise ValueError(
            f"string must not contain control characters; found {bad.group()!r} "
            f"at position {bad.start()}"
        )
    return value


def CiString(max_length: int) -> Any:  # noqa: N802 - named after the OCPI type
    """OCPI ``CiString(n)``: printable ASCII, at most ``max_length`` characters."""
    return Annotated[
        str,
        Strict(),
        StringConstraints(max_length=max_length),
        AfterValidator(_printable_ascii),
    ]


def String(max_length: int) -> Any:  # noqa: N802 - named after the OCPI type
    """OCPI ``string(n)``: printable UTF-8, at most ``max_length`` characters."""
    return Annotated[
        str,
        Strict(),
        StringConstraints(max_length=max_length),
        AfterValidator(_printable_utf8),
    ]


def ci_equal(a: str, b: str) -> bool:
    """Compare two OCPI CiStrings (ids) the way the spec says: case-insensitively.

    >>> ci_equal("LOC1", "loc1")
    True
    """
    return a.casefold() == b.casefold()


def parse_datetime(value: Any) -> datetime:
    """Parse an OCPI DateTime string, or check an aware Python datetime.

    Parameters
    ----------
    value : str or datetime
        ``YYYY-MM-DDThh:mm:ss[.f]`` with an optional ``Z``; or an aware datetime.

    Returns
    -------
    datetime
        The instant as an aware UTC datetime.

    Raises
    ------
    ValueError
        With the rule that the value breaks.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError("datetime is timezone-naive; pass an aware datetime (UTC)")
        result = value.astimezone(timezone.utc)
    elif isinstance(value, str):
        result = _parse_datetime_text(value)
    else:
        raise ValueError(f"OCPI DateTime must be a string, got {type(value).__name__}")
    if result.microsecond % 10 ** (6 - _MAX_FRACTION_DIGITS):
        raise ValueError(
            f"OCPI DateTime keeps at most {_MAX_FRACTION_DIGITS} fractional-second digits "
            "(string(25) with 'Z'); round the time first"
        )
    return result


def _parse_datetime_text(text: str) -> datetime:
    if len(text) > _DATETIME_MAX_LEN:
        raise ValueError(f"OCPI DateTime is string(25); got {len(text)} characters")
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        hint = ""
        if re.search(r"[+-]\d{2}:?\d{2}$", text):
            hint = (
                " (UTC offsets such as '+00:00' are not allowed: OCPI times are UTC, 'Z' or none)"
            )
        raise ValueError(f"not an OCPI DateTime: expected YYYY-MM-DDThh:mm:ss[.fff][Z]{hint}")
    year, month, day, hour, minute, second, fraction, _ = match.groups()
    fraction = fraction or ""
    if len(fraction.rstrip("0")) > _MAX_FRACTION_DIGITS:
        raise ValueError(
            f"OCPI DateTime keeps at most {_MAX_FRACTION_DIGITS} fractional-second digits"
        )
    microsecond = int((fraction + "000000")[:6])
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            microsecond,
            tzinfo=timezone.utc,
        )
    except ValueError as err:
        raise ValueError(f"not a valid calendar date/time: {err}") from None


format_datetime = format_utc
"""Write an aware datetime as an OCPI DateTime in UTC with ``Z`` (see :func:`format_utc`)."""


DateTime = Annotated[
    datetime,
    PlainValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": _DATETIME_MAX_LEN}),
]
"""OCPI ``DateTime``: UTC, written with ``Z``."""

Number = FiniteNumber
"""OCPI ``number``: a finite JSON number."""

NonNegativeNumber = Annotated[FiniteNumber, Field(ge=0)]
"""A finite JSON number >= 0 (energies, durations)."""

Int = Annotated[int, Strict()]
"""OCPI ``int``: a JSON integer."""

NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
"""A JSON integer >= 0 (seconds, volts, amperes, watts)."""

Boolean = StrictBoolean
"""OCPI ``boolean``: a JSON boolean."""

URL = String(255)
"""OCPI ``URL``: string(255)."""


Latitude = Annotated[str, Strict(), StringConstraints(pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
"""GeoLocation latitude: a JSON string of decimal degrees with 5 to 7 decimals."""

Longitude = Annotated[str, Strict(), StringConstraints(pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
"""GeoLocation longitude: a JSON string of decimal degrees with 5 to 7 decimals."""

LocalTime = Annotated[
    str, Strict(), StringConstraints(max_length=5, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
]
"""Local time of day ``HH:MM`` (RegularHours, TariffRestrictions)."""

LocalDate = Annotated[
    str,
    Strict(),
    StringConstraints(
        max_length=10,
        pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    ),
]
"""Local date ``YYYY-MM-DD`` (TariffRestrictions)."""
