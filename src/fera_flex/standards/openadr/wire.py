"""Reading OpenADR 3.1.0 message bodies from an untrusted peer, and writing them.

A body is checked before anything else reads it: at most ``max_bytes``
(:data:`MAX_BODY_BYTES` by default), valid UTF-8 JSON without ``NaN`` /
``Infinity`` constants or duplicate keys, and then the model of the schema
(:class:`~fera_flex.standards.openadr.models.Event` or
:class:`~fera_flex.standards.openadr.models.Report`). Body-level problems
raise :class:`~fera_flex.errors.InputError` naming the message and the body;
field-level ones pydantic's ``ValidationError``, whose entries name the
field path (camelCase, as on the wire) and the value.

Examples
--------
>>> body = (b'{"id": "evt-1", "createdDateTime": "2026-03-02T10:00:00Z",'
...         b' "modificationDateTime": "2026-03-02T10:00:00Z", "objectType": "EVENT",'
...         b' "programID": "nl-flex", "targets": ["group-1"]}')
>>> event = parse_event(body)
>>> event.program_id, event.targets
('nl-flex', ['group-1'])
>>> parse_event(body, max_bytes=64)
Traceback (most recent call last):
...
fera_flex.errors.InputError: OpenADR event: body = '177 bytes': exceeds the limit of 64 bytes
"""

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from fera_flex.errors import InputError
from fera_flex.standards.openadr.models import Event, Report

__all__ = ["MAX_BODY_BYTES", "parse_event", "parse_report", "to_json"]

MAX_BODY_BYTES = 1_048_576
"""Largest body read by default [bytes] (1 MiB: a day of 15-minute intervals is ~30 kB)."""


def parse_event(body: str | bytes | Mapping[str, Any], max_bytes: int = MAX_BODY_BYTES) -> Event:
    """An OpenADR event read from a body (JSON text, bytes or a decoded mapping)."""
    return Event.model_validate(_decoded("OpenADR event", body, max_bytes))


def parse_report(body: str | bytes | Mapping[str, Any], max_bytes: int = MAX_BODY_BYTES) -> Report:
    """An OpenADR report read from a body (JSON text, bytes or a decoded mapping)."""
    return Report.model_validate(_decoded("OpenADR report", body, max_bytes))


def to_json(message: BaseModel) -> dict[str, Any]:
    """A message as its JSON object (camelCase keys, absent fields left out)."""
    return message.model_dump(mode="json")


def _decoded(what: str, body: Any, max_bytes: int) -> Any:
    if isinstance(body, Mapping):
        try:
            body = json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InputError(what, "body", type(body).__name__, f"not JSON data: {error}") from None
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, (bytes, bytearray)):
        raise InputError(what, "body", type(body).__name__, "must be JSON text, bytes or a mapping")
    if len(body) > max_bytes:
        raise InputError(
            what, "body", f"{len(body)} bytes", f"exceeds the limit of {max_bytes} bytes"
        )
    try:
        return json.loads(body, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(what, "body", f"{len(body)} bytes", f"not valid JSON: {error}") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result
