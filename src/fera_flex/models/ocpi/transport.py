"""The OCPI 2.2.1 response envelope (``transport_and_format.asciidoc``).

Examples
--------
>>> from fera_flex.models.ocpi import Token
>>> reply = Response[list[Token]].model_validate_json(
...     '{"data": [], "status_code": 1000, "timestamp": "2015-06-30T21:59:59Z"}')
>>> reply.data, reply.status_code
([], 1000)
"""

from typing import Annotated, Generic, TypeVar

from pydantic import Field

from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import DateTime, Int, String

__all__ = ["Response"]

Payload = TypeVar("Payload")


class Response(OcpiModel, Generic[Payload]):
    """Every OCPI response: ``data``, a status code (1xxx success) and a timestamp."""

    data: Payload | None = None
    status_code: Annotated[Int, Field(ge=1000, le=9999)]
    status_message: String(255) | None = None
    timestamp: DateTime
