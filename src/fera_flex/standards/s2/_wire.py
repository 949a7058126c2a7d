"""S2 on the wire: the lazily imported ``s2-python`` classes, reading messages, times in ms.

``s2-python`` is the optional ``s2`` extra; nothing here imports it before a
message is built or read. A message received as JSON (text, bytes or a dict)
is parsed by ``s2-python``'s own :class:`~s2python.s2_parser.S2Parser`; its
validation errors become an :class:`~fera_flex.errors.InputError` naming the
message, the field and the value.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import import_module
from types import SimpleNamespace
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.timeseries import TimeGrid

__all__ = [
    "ELECTRIC_QUANTITIES",
    "MAX_ELEMENTS",
    "elapsed_ms",
    "overlap_ms",
    "received",
    "s2",
    "slot_times",
]

ELECTRIC_QUANTITIES = (
    "ELECTRIC.POWER.3_PHASE_SYMMETRIC",
    "ELECTRIC.POWER.L1",
    "ELECTRIC.POWER.L2",
    "ELECTRIC.POWER.L3",
)
"""The S2 CommodityQuantity values of electric power [W] (one phase, or three alike)."""

MAX_ELEMENTS = 288
"""Most elements S2 allows in a profile or envelope (FillLevelTargetProfile, PowerEnvelope)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@cache
def s2() -> SimpleNamespace:
    """The ``s2-python`` modules used here (``common``, ``frbc``, ``pebc``, ``parser``, ``error``).

    Raises
    ------
    ImportError
        Naming the ``fera_flex[s2]`` extra when ``s2-python`` is not installed.
    """
    try:
        return SimpleNamespace(
            common=import_module("s2python.common"),
            frbc=import_module("s2python.frbc"),
            pebc=import_module("s2python.pebc"),
            parser=import_module("s2python.s2_parser").S2Parser,
            error=import_module("s2python.s2_validation_error").S2ValidationError,
        )
    except ImportError as error:
        raise ImportError(
            "fera_flex.standards.s2 needs s2-python: install the extra with "
            "`pip install 'fera_flex[s2]'`"
        ) from error


def received(messages: Any, cls: type, message_type: str) -> list[Any]:
    """One message or a sequence of them as ``cls`` objects (JSON text, bytes and dicts parsed).

    Raises
    ------
    InputError
        For an object of another type, JSON that is not one, or a message
        ``s2-python`` refuses (the first field it names, with its value).
    """
    if isinstance(messages, (cls, str, bytes, dict)):
        messages = [messages]
    if not isinstance(messages, Sequence) or not messages:
        kind = type(messages).__name__
        raise InputError(message_type, "message", kind, f"must be one {message_type} or a list")
    return [_one(message, cls, message_type) for message in messages]


def _one(message: Any, cls: type, message_type: str) -> Any:
    if isinstance(message, cls):
        return message
    if not isinstance(message, (str, bytes, dict)):
        kind = type(message).__name__
        raise InputError(message_type, "message", kind, f"must be an s2-python {cls.__name__}")
    library = s2()
    try:
        return library.parser.parse_as_message(message, cls)
    except ValueError as error:  # json.JSONDecodeError
        raise InputError(message_type, "message", str(error), "is not JSON") from None
    except library.error as error:
        cause = error.__cause__
        if cause is not None and hasattr(cause, "errors") and cause.errors():
            first = cause.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "message"
            raise InputError(message_type, field, first.get("input"), first["msg"]) from None
        raise InputError(message_type, "message", error.msg, "refused by s2-python") from None


def elapsed_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime (floored to the millisecond)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def slot_times(grid: TimeGrid) -> tuple[int, int]:
    """Start and length of a grid's slots [ms since the epoch, ms]."""
    return grid.start_s * 1000, grid.step_s * 1000


def overlap_ms(start_ms: int, slot_ms: int, n: int, begin_ms: int, end_ms: int) -> np.ndarray:
    """How many ms of ``[begin_ms, end_ms)`` fall in each of ``n`` slots from ``start_ms`` (n,)."""
    edges = start_ms + slot_ms * np.arange(n + 1, dtype=np.int64)
    return np.clip(np.minimum(edges[1:], end_ms) - np.maximum(edges[:-1], begin_ms), 0, None)
