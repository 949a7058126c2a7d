"""Scalar types and helpers shared by every wire dialect (OCPI, OCPP, FERA).

Examples
--------
>>> from datetime import datetime, timezone
>>> format_utc(datetime(2024, 3, 1, 8, 30, 0, 120000, tzinfo=timezone.utc))
'2024-03-01T08:30:00.12Z'
"""

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AllowInfNan, Strict

__all__ = ["FiniteNumber", "OneDecimal", "StrictBoolean", "format_utc", "require_order"]


def format_utc(value: datetime) -> str:
    """Write an aware datetime in UTC with ``Z``, trailing fractional zeros dropped."""
    utc = value.astimezone(timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


FiniteNumber = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite JSON number (integers accepted; strings, booleans, NaN and inf rejected)."""

StrictBoolean = Annotated[bool, Strict()]
"""A JSON ``true`` or ``false`` (no strings, no numbers)."""


def _at_most_one_decimal(value: float) -> float:
    if round(value, 1) != value:
        raise ValueError(
            f"{value!r} has more than one fractional digit; limits accept at most one "
            "(e.g. 8.1): round the value first"
        )
    return value


OneDecimal = Annotated[FiniteNumber, AfterValidator(_at_most_one_decimal)]
"""A charging limit or rate (OCPI and OCPP): a finite number with at most one decimal."""


def require_order(
    earlier_name: str, earlier: Any, later_name: str, later: Any, *, strict: bool = True
) -> None:
    """Raise ``ValueError`` naming both fields unless ``earlier`` comes before ``later``.

    Parameters
    ----------
    earlier_name, later_name : str
        Field names, for the message.
    earlier, later : datetime or str or None
        The values; nothing is checked when either is None.
    strict : bool
        Whether equal values are an error too.

    Examples
    --------
    >>> require_order("period_begin", "18:00", "period_end", "07:00")
    Traceback (most recent call last):
    ...
    ValueError: period_end (07:00) must be after period_begin (18:00)
    """
    if earlier is None or later is None:
        return
    if later < earlier or (strict and later == earlier):
        relation = "must be after" if strict else "must not be before"
        raise ValueError(
            f"{later_name} ({_text(later)}) {relation} {earlier_name} ({_text(earlier)})"
        )


def _text(value: Any) -> str:
    return format_utc(value) if isinstance(value, datetime) else str(value)
