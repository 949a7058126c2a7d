"""The base class and scalar types of the FERA extension objects.

These objects are fera_flex's own JSON format, so they are strict: an unknown
field (usually a typo such as ``import_capacity_kW``) is an error, not data to
carry along. Times are timezone-aware (a string needs ``Z`` or an offset) and
are written in UTC with ``Z``.
"""

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, AllowInfNan, AwareDatetime, ConfigDict, PlainSerializer, Strict

from fera_flex.models._wire import WireModel

__all__ = ["FeraModel", "FiniteFloat", "Identifier", "Timestamp", "format_timestamp"]


class FeraModel(WireModel):
    """Base of the FERA extension objects: unknown fields rejected, absent optionals omitted."""

    model_config = ConfigDict(extra="forbid")


def format_timestamp(value: datetime) -> str:
    """Write an aware datetime in UTC as ``YYYY-MM-DDThh:mm:ss[.ffffff]Z``.

    >>> format_timestamp(datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc))
    '2026-03-02T07:00:00Z'
    """
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(lambda value: value.astimezone(timezone.utc)),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
"""An aware instant, held in UTC and written with ``Z``; naive input is rejected."""

FiniteFloat = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite number (JSON number; strings and booleans rejected)."""

Identifier = Annotated[str, Strict(), AfterValidator(lambda value: _non_blank(value))]
"""A non-empty identifier without surrounding whitespace."""


def _non_blank(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("identifier must be non-empty and have no surrounding whitespace")
    return value
