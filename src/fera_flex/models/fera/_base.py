"""The base class and scalar types of the FERA extension objects.

These objects are fera_flex's own JSON format, so they are strict: an unknown
field (usually a typo such as ``import_capacity_kW``) is an error, not data to
carry along. Times are timezone-aware (a string needs ``Z`` or an offset) and
are written in UTC with ``Z``.
"""

from datetime import timezone
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, ConfigDict, PlainSerializer, Strict

from fera_flex.models._scalars import FiniteNumber, format_utc
from fera_flex.models._wire import WireModel

__all__ = ["FeraModel", "FiniteFloat", "Identifier", "Timestamp"]


class FeraModel(WireModel):
    """Base of the FERA extension objects: unknown fields rejected, absent optionals omitted."""

    model_config = ConfigDict(extra="forbid")


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(lambda value: value.astimezone(timezone.utc)),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]
"""An aware instant, held in UTC and written with ``Z``; naive input is rejected."""

FiniteFloat = FiniteNumber
"""A finite number (JSON number; strings and booleans rejected)."""

Identifier = Annotated[str, Strict(), AfterValidator(lambda value: _non_blank(value))]
"""A non-empty identifier without surrounding whitespace."""


def _non_blank(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("identifier must be non-empty and have no surrounding whitespace")
    return value
