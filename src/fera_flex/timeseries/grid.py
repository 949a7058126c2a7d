"""A regular time grid: the optimiser's discrete horizon.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> grid = TimeGrid(datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(minutes=15), 4)
>>> grid
TimeGrid(start='2024-01-01T00:00:00+00:00', step_s=900, n=4)
>>> grid.times_s - grid.start_s
array([   0,  900, 1800, 2700])
>>> grid.dt_h
0.25
>>> grid.index_of(datetime(2024, 1, 1, 0, 20, tzinfo=timezone.utc))
1
>>> grid.is_aligned(datetime(2024, 1, 1, 0, 20, tzinfo=timezone.utc))
False
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from fera_flex import _time
from fera_flex.errors import InputError
from fera_flex.timeseries import _boundary

__all__ = ["TimeGrid"]


class TimeGrid:
    """``n`` consecutive slots of equal length starting at ``start``.

    Slot ``k`` is ``[start + k * step, start + (k + 1) * step)``. Immutable and
    hashable; two grids are equal when they have the same start instant, step
    and count (the start's timezone does not matter; it is kept as UTC).

    Parameters
    ----------
    start : datetime
        Start of the first slot; timezone-aware, whole seconds.
    step : timedelta or int
        Slot length [s], > 0.
    n : int
        Number of slots, >= 1.

    Raises
    ------
    InputError
        If ``start`` is naive, ``step`` is not positive or ``n`` < 1.
    """

    __slots__ = ("_n", "_start_s", "_step_s")

    def __init__(self, start: datetime, step: timedelta | int, n: int) -> None:
        where = "TimeGrid"
        start_s = _time.epoch_s(start, where, "start")
        step_s = _time.seconds(step, where, "step")
        if step_s <= 0:
            raise InputError(where, "step", step, "must be a positive duration")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(where, "n", n, "must be an integer >= 1")
        _boundary.check_range(where, "n", np.array([start_s + step_s * int(n)], dtype=object), n)
        object.__setattr__(self, "_start_s", start_s)
        object.__setattr__(self, "_step_s", step_s)
        object.__setattr__(self, "_n", int(n))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"TimeGrid is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple:
        """Pickle (and copy) through the constructor; the default would call ``__setattr__``."""
        return type(self), (self.start, self._step_s, self._n)

    @property
    def start_s(self) -> int:
        """Start of the first slot [s since the epoch]."""
        return self._start_s

    @property
    def step_s(self) -> int:
        """Slot length [s]."""
        return self._step_s

    @property
    def n(self) -> int:
        """Number of slots."""
        return self._n

    @property
    def dt_h(self) -> float:
        """Slot length [h]."""
        return self._step_s / 3600.0

    @property
    def end_s(self) -> int:
        """End of the last slot [s since the epoch]."""
        return self._start_s + self._n * self._step_s

    @property
    def start(self) -> datetime:
        """Start of the first slot (UTC)."""
        return _time.from_epoch_s(self._start_s)

    @property
    def end(self) -> datetime:
        """End of the last slot (UTC)."""
        return _time.from_epoch_s(self.end_s)

    @property
    def times_s(self) -> np.ndarray:
        """Start of every slot, int64 array of length ``n`` [s since the epoch]."""
        return self.edges_s[:-1]

    @property
    def edges_s(self) -> np.ndarray:
        """Slot edges, int64 array of length ``n + 1`` [s since the epoch] (read-only)."""
        edges = self._start_s + self._step_s * np.arange(self._n + 1, dtype=np.int64)
        edges.flags.writeable = False
        return edges

    def __len__(self) -> int:
        return self._n

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimeGrid):
            return NotImplemented
        return (self._start_s, self._step_s, self._n) == (other._start_s, other._step_s, other._n)

    def __hash__(self) -> int:
        return hash((TimeGrid, self._start_s, self._step_s, self._n))

    def __repr__(self) -> str:
        return f"TimeGrid(start='{self.start.isoformat()}', step_s={self._step_s}, n={self._n})"

    def index_of(self, time: datetime | int) -> int:
        """Index of the slot that contains ``time``.

        Parameters
        ----------
        time : datetime or int
            An aware datetime or epoch seconds [s].

        Returns
        -------
        int
            ``k`` such that slot ``k`` contains ``time``.

        Raises
        ------
        InputError
            If ``time`` is before the start or at/after the end of the grid.
        """
        t_s = _boundary.time_s("TimeGrid.index_of", "time", time)
        if not self._start_s <= t_s < self.end_s:
            raise InputError("TimeGrid.index_of", "time", time, f"is outside {self!r}")
        return (t_s - self._start_s) // self._step_s

    def is_aligned(self, time: datetime | int) -> bool:
        """Whether ``time`` lies on the grid's lattice ``start + k * step`` (any integer k).

        Parameters
        ----------
        time : datetime or int
            An aware datetime or epoch seconds [s].

        Returns
        -------
        bool
            True on a slot edge of the grid or of its extension in both directions.
        """
        t_s = _boundary.time_s("TimeGrid.is_aligned", "time", time)
        return (t_s - self._start_s) % self._step_s == 0

    def require_aligned(self, time: datetime | int, where: str, name: str) -> int:
        """Return the epoch seconds of ``time``, raising if it is not on the lattice.

        Parameters
        ----------
        time : datetime or int
            An aware datetime or epoch seconds [s].
        where, name : str
            Object and argument name used in the error message.

        Returns
        -------
        int
            ``time`` in epoch seconds [s].

        Raises
        ------
        InputError
            If ``time`` is not ``start + k * step`` for an integer ``k``.
        """
        t_s = _boundary.time_s(where, name, time)
        if (t_s - self._start_s) % self._step_s:
            raise InputError(where, name, time, f"is not on a slot edge of {self!r}")
        return t_s
