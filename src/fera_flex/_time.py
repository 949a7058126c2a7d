"""Time conventions shared by every layer.

fera_flex's own API takes timezone-aware :class:`~datetime.datetime` objects
and rejects naive ones; inside, time is ``int64`` seconds since the Unix epoch
(UTC).

Examples
--------
>>> from datetime import datetime, timezone
>>> epoch_s(datetime(2024, 1, 1, tzinfo=timezone.utc))
1704067200
>>> from_epoch_s(1704067200)
datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from fera_flex.errors import InputError

__all__ = ["epoch_s", "from_epoch_s", "require_aware", "seconds"]


def require_aware(where: str, name: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise.

    Parameters
    ----------
    where : str
        The object or function that received the value, for the message.
    name : str
        The argument or field name, for the message.
    value : object
        The value to check.

    Returns
    -------
    datetime
        ``value`` unchanged.

    Raises
    ------
    InputError
        If ``value`` is not a datetime or has no timezone.
    """
    if not isinstance(value, datetime):
        raise InputError(where, name, value, "must be a timezone-aware datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InputError(
            where, name, value, "is timezone-naive; pass an aware datetime (e.g. tzinfo=UTC)"
        )
    return value


def epoch_s(value: datetime, where: str = "fera_flex", name: str = "time") -> int:
    """Whole seconds since the Unix epoch of an aware datetime.

    Parameters
    ----------
    value : datetime
        A timezone-aware datetime. Sub-second parts must be zero.
    where, name : str
        Object and argument name used in error messages.

    Returns
    -------
    int
        Seconds since 1970-01-01T00:00:00Z [s].
    """
    require_aware(where, name, value)
    delta = value - _EPOCH
    if delta.microseconds:
        raise InputError(where, name, value, "must be a whole number of seconds")
    return delta.days * 86_400 + delta.seconds


def from_epoch_s(t_s: int | np.integer) -> datetime:
    """Aware UTC datetime of an epoch-seconds value.

    Parameters
    ----------
    t_s : int
        Seconds since the Unix epoch [s].

    Returns
    -------
    datetime
        The same instant, with ``tzinfo=timezone.utc``.
    """
    return _EPOCH + timedelta(seconds=int(t_s))


def seconds(value: timedelta | int, where: str = "fera_flex", name: str = "step") -> int:
    """Whole seconds of a duration given as a timedelta or an int.

    Parameters
    ----------
    value : timedelta or int
        A duration [s].
    where, name : str
        Object and argument name used in error messages.

    Returns
    -------
    int
        The duration in whole seconds [s].
    """
    if isinstance(value, timedelta):
        if value.microseconds:
            raise InputError(where, name, value, "must be a whole number of seconds")
        return value.days * 86_400 + value.seconds
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise InputError(where, name, value, "must be a timedelta or an int number of seconds")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
