"""The piecewise-constant profile: a power limit, a schedule, a price signal.

Examples
--------
A connector limit, and a building load that starts later, in kW:

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> hour = timedelta(hours=1)
>>> limit = Profile.from_pairs([(t0, 11.0), (t0 + hour, 7.4)], end=t0 + 2 * hour)
>>> load = Profile.constant(3.0, t0 + hour / 2, t0 + 3 * hour / 2)
>>> headroom = limit - load  # defined where both are: 00:30 to 01:30
>>> headroom.to_pairs()
[(datetime.datetime(2024, 1, 1, 0, 30, tzinfo=datetime.timezone.utc), 8.0),
 (datetime.datetime(2024, 1, 1, 1, 0, tzinfo=datetime.timezone.utc), 4.4)]
>>> round(headroom.energy_kwh(), 9)
6.2
>>> limit.add(load, fill=0.0).values  # defined where either is, load 0 elsewhere
array([11. , 14. , 10.4,  7.4])
>>> headroom.value_at(t0)  # outside the support
nan
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from fera_flex import _time, units
from fera_flex.errors import InputError
from fera_flex.timeseries import _boundary, _kernels
from fera_flex.timeseries.grid import TimeGrid

__all__ = ["Profile"]

_S_PER_H = 3600.0

_SCALAR_OPS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "min": np.minimum,
    "max": np.maximum,
}


def _frozen(array: Any, dtype: type) -> np.ndarray:
    """A C-contiguous read-only array of ``dtype`` (a view when already suitable)."""
    array = np.ascontiguousarray(array, dtype=dtype)
    array.flags.writeable = False
    return array


def _operand(where: str, name: str, value: Any) -> Profile | float:
    """A Profile unchanged, or a finite number as float; anything else is an error."""
    if isinstance(value, Profile):
        return value
    return _boundary.finite_scalar(where, name, value)


class Profile:
    """An immutable piecewise-constant function of time.

    ``values[i]`` holds on ``[t_s[i], t_s[i + 1])`` and the last value on
    ``[t_s[-1], end_s)``; with ``end_s=None`` the last value holds forever (an
    open end). The *support* ``[t_s[0], end_s)`` is where the profile is
    defined. Outside it the profile is undefined:

    - :meth:`value_at` returns NaN there;
    - :meth:`energy_kwh` refuses bounds outside it;
    - binary operations (``+ - *``, :meth:`minimum`, :meth:`maximum`,
      :meth:`clip`) are defined on the *intersection* of the supports and raise
      :class:`~fera_flex.errors.InputError` when it is empty; the methods take
      ``fill=`` to combine on the smallest interval holding both supports
      instead, with ``fill`` standing in for an operand where it is undefined
      (``fill=0.0`` to stack loads that start and stop at different times).

    Results keep every breakpoint of their operands that falls inside their
    support, even where the value does not change; :meth:`compress` merges
    them. Equality is equality of functions: two profiles are ``==`` when they
    have the same support and the same value at every instant, whatever their
    breakpoints (see :meth:`equals`).

    Pairwise operations apply one IEEE operation per period (minimum and maximum
    are exact); n-ary sums (:func:`~fera_flex.timeseries.sum_profiles`) use
    compensated summation. Times are whole seconds in the years 1 to 9999.

    Parameters
    ----------
    t_s : array_like of int
        Breakpoints, strictly increasing [s since the epoch]; at least one.
    values : array_like of float
        One finite value per breakpoint (power [kW] unless stated otherwise).
    end_s : int, optional
        End of the last period [s since the epoch], after the last breakpoint;
        None (default) for an open end.

    Raises
    ------
    InputError
        On unsorted or duplicate breakpoints, NaN/inf values, mismatched lengths
        or an end not after the last breakpoint.
    """

    __slots__ = ("_end", "_t", "_v")

    __array_ufunc__ = None  # numpy scalars defer to the Profile operators

    def __init__(self, t_s: Any, values: Any, end_s: int | None = None) -> None:
        self._init_checked("Profile", t_s, values, end_s, "end_s")

    def _init_checked(self, where: str, t_s: Any, values: Any, end: Any, end_name: str) -> None:
        t = _boundary.breakpoints_s(where, t_s)
        v = _boundary.finite_values(where, "values", values, t.size)
        end_code = _boundary.end_code(where, end_name, end, int(t[-1]))
        self._init_trusted(t, np.array(v, copy=True), end_code)

    def _init_trusted(self, t: Any, v: Any, end_code: int) -> None:
        object.__setattr__(self, "_t", _frozen(t, np.int64))
        object.__setattr__(self, "_v", _frozen(v, np.float64))
        object.__setattr__(self, "_end", int(end_code))

    @classmethod
    def _new(cls, t: Any, v: Any, end_code: int) -> Profile:
        """Wrap arrays that are already valid (kernel output) without checking."""
        profile = object.__new__(cls)
        profile._init_trusted(t, v, end_code)
        return profile

    @classmethod
    def _checked(cls, where: str, t_s: Any, values: Any, end: Any) -> Profile:
        profile = object.__new__(cls)
        profile._init_checked(where, t_s, values, end, "end")
        return profile

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Profile is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple:
        """Pickle (and copy) through :meth:`_new`, which makes the arrays read-only again."""
        return self._new, (self._t, self._v, self._end)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_pairs(
        cls, pairs: Iterable[tuple[datetime | int, float]], end: datetime | int | None = None
    ) -> Profile:
        """Build a profile from ``(time, value)`` pairs.

        Parameters
        ----------
        pairs : iterable of (datetime or int, float)
            Period starts (aware datetimes or epoch seconds [s]) with their values.
        end : datetime or int, optional
            End of the last period; None for an open end.

        Returns
        -------
        Profile

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> Profile.from_pairs([(t, 11.0)], end=t.replace(hour=2)).energy_kwh()
        22.0
        """
        where = "Profile.from_pairs"
        pairs = list(pairs)
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InputError(where, f"pairs[{i}]", pair, "must be a (time, value) pair")
        t_s = np.array(
            [_boundary.time_s(where, f"pairs[{i}][0]", p[0]) for i, p in enumerate(pairs)],
            dtype=np.int64,
        )
        return cls._checked(where, t_s, [p[1] for p in pairs], end)

    @classmethod
    def constant(
        cls, value: float, start: datetime | int, end: datetime | int | None = None
    ) -> Profile:
        """A profile with one value on ``[start, end)``.

        Parameters
        ----------
        value : float
            The value (power [kW] unless stated otherwise).
        start : datetime or int
            Start of the support (aware datetime or epoch seconds [s]).
        end : datetime or int, optional
            End of the support; None for an open end.

        Returns
        -------
        Profile
        """
        where = "Profile.constant"
        start_s = _boundary.time_s(where, "start", start)
        return cls._checked(where, [start_s], [value], end)

    @classmethod
    def from_grid(cls, grid: TimeGrid, values: Any) -> Profile:
        """A profile with one value per slot of ``grid``.

        Parameters
        ----------
        grid : TimeGrid
            The slots.
        values : array_like of float
            One value per slot.

        Returns
        -------
        Profile
            Breakpoints at the slot starts, ending at the end of the grid.
        """
        where = "Profile.from_grid"
        if not isinstance(grid, TimeGrid):
            raise InputError(where, "grid", grid, "must be a TimeGrid")
        return cls._checked(where, grid.times_s, values, grid.end_s)

    @classmethod
    def from_current_a(
        cls, current: Profile, voltage_v: float, phases: int = 3, power_factor: float = 1.0
    ) -> Profile:
        """Power profile of a per-phase current profile.

        Parameters
        ----------
        current : Profile
            Current per phase [A].
        voltage_v : float
            Line-to-neutral voltage [V]; for DC the DC voltage.
        phases : int, default 3
            Number of phases carrying the current (1 for DC).
        power_factor : float, default 1.0
            Power factor in (0, 1].

        Returns
        -------
        Profile
            Total power [kW], same breakpoints.

        Examples
        --------
        >>> amps = Profile.constant(16.0, 0, 3600)
        >>> Profile.from_current_a(amps, voltage_v=230.0).values
        array([11.04])
        """
        if not isinstance(current, Profile):
            raise InputError("Profile.from_current_a", "current", current, "must be a Profile")
        power_kw = units.kw_from_current_a(current._v, voltage_v, phases, power_factor)
        return cls._new(current._t, power_kw, current._end)

    # ------------------------------------------------------------------ views

    @property
    def t_s(self) -> np.ndarray:
        """Breakpoints, int64 (read-only) [s since the epoch]."""
        return self._t

    @property
    def values(self) -> np.ndarray:
        """Value of each period, float64 (read-only)."""
        return self._v

    @property
    def end_s(self) -> int | None:
        """End of the support [s since the epoch]; None when open-ended."""
        return None if self._end == _kernels.OPEN_END else self._end

    @property
    def start_s(self) -> int:
        """Start of the support [s since the epoch]."""
        return int(self._t[0])

    @property
    def start(self) -> datetime:
        """Start of the support (UTC)."""
        return _time.from_epoch_s(self._t[0])

    @property
    def end(self) -> datetime | None:
        """End of the support (UTC); None when open-ended."""
        end_s = self.end_s
        return None if end_s is None else _time.from_epoch_s(end_s)

    @property
    def open_ended(self) -> bool:
        """Whether the last value holds forever."""
        return self._end == _kernels.OPEN_END

    def __len__(self) -> int:
        return self._t.size

    def __repr__(self) -> str:
        end = "None" if self.open_ended else f"'{self.end.isoformat()}'"
        return (
            f"Profile(periods={len(self)}, start='{self.start.isoformat()}', end={end}, "
            f"min={float(self._v.min())!r}, max={float(self._v.max())!r})"
        )

    def to_pairs(self) -> list[tuple[datetime, float]]:
        """Period starts (UTC) with their values; the end is :attr:`end`."""
        return [(_time.from_epoch_s(t), float(v)) for t, v in zip(self._t, self._v, strict=True)]

    def to_current_a(self, voltage_v: float, phases: int = 3, power_factor: float = 1.0) -> Profile:
        """Per-phase current profile of this power profile.

        Parameters
        ----------
        voltage_v : float
            Line-to-neutral voltage [V]; for DC the DC voltage.
        phases : int, default 3
            Number of phases (1 for DC).
        power_factor : float, default 1.0
            Power factor in (0, 1].

        Returns
        -------
        Profile
            Current per phase [A], same breakpoints.
        """
        current_a = units.current_a_from_kw(self._v, voltage_v, phases, power_factor)
        return Profile._new(self._t, current_a, self._end)

    # ------------------------------------------------------------------ evaluation

    def value_at(self, times: Any) -> Any:
        """Value at instants; NaN outside the support.

        Parameters
        ----------
        times : datetime, int or array_like of int
            Aware datetime(s) or epoch seconds [s].

        Returns
        -------
        float or ndarray
            A float for a single instant, else a float64 array of the same shape.
        """
        where = "Profile.value_at"
        scalar = isinstance(times, datetime) or (
            np.ndim(times) == 0 and not isinstance(times, (list, tuple))
        )
        if scalar:
            query = np.int64(_boundary.time_s(where, "times", times))
        else:
            query = _boundary.times_s(where, "times", times)
        index = np.searchsorted(self._t, query, side="right") - 1
        inside = (index >= 0) & (query < self._end)
        result = np.where(inside, self._v[np.maximum(index, 0)], np.nan)
        return float(result) if scalar else result

    def energy_kwh(
        self, start: datetime | int | None = None, end: datetime | int | None = None
    ) -> float:
        """Integral of the profile over ``[start, end)`` [kWh] (values in kW).

        Parameters
        ----------
        start, end : datetime or int, optional
            Bounds inside the support; default the support's bounds. An
            open-ended profile needs an explicit ``end``.

        Returns
        -------
        float
            Energy [kWh].
        """
        where = "Profile.energy_kwh"
        lo = self.start_s if start is None else _boundary.time_s(where, "start", start)
        if end is None and self.open_ended:
            raise InputError(where, "end", end, "an open-ended profile needs an explicit end")
        hi = self._end if end is None else _boundary.time_s(where, "end", end)
        if lo < self.start_s:
            raise InputError(where, "start", start, "is before the start of the profile")
        if hi > self._end:
            raise InputError(where, "end", end, "is after the end of the profile")
        if hi < lo:
            raise InputError(where, "end", end, "is before start")
        if hi == lo:
            return 0.0
        part = self.slice(lo, hi)
        durations_s = np.diff(np.append(part._t, hi))
        return float(part._v @ durations_s) / _S_PER_H

    def cumulative_energy(self, end: datetime | int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Energy accumulated since the start, a piecewise-linear function of time.

        Parameters
        ----------
        end : datetime or int, optional
            Where to stop, inside the support; default the end of the support. An
            open-ended profile needs an explicit ``end``.

        Returns
        -------
        t_s : ndarray of int64
            Knots: the breakpoints up to ``end``, then ``end`` [s since the epoch].
        energy_kwh : ndarray of float64
            Energy from the start to each knot [kWh]; 0 at the first. Between knots
            it is linear: ``np.interp(t, t_s, energy_kwh)``.

        Examples
        --------
        >>> p = Profile([0, 3600], [10.0, 4.0], end_s=5400)
        >>> p.cumulative_energy()
        (array([   0, 3600, 5400]), array([ 0., 10., 12.]))
        """
        where = "Profile.cumulative_energy"
        if end is None and self.open_ended:
            raise InputError(where, "end", end, "an open-ended profile needs an explicit end")
        hi = self._end if end is None else _boundary.time_s(where, "end", end)
        if not self.start_s < hi <= self._end:
            raise InputError(where, "end", end, "must be inside the support of the profile")
        part = self.slice(None, hi)
        t_s = np.append(part._t, hi)
        energy_kwh = np.concatenate([[0.0], np.cumsum(part._v * np.diff(t_s)) / _S_PER_H])
        return t_s, energy_kwh

    # ------------------------------------------------------------------ algebra

    def _combine(
        self, other: Any, op: str, fill: Any, where: str, reverse: bool = False
    ) -> Profile:
        other = _operand(where, "other", other)
        if isinstance(other, Profile):
            fill_value = _boundary.optional_fill(where, fill)
            lo, hi = _boundary.domain(
                where,
                np.array([self._t[0], other._t[0]]),
                np.array([self._end, other._end]),
                fill_value,
            )
            t, v = _kernels.MERGE[op](
                self._t,
                self._v,
                self._end,
                other._t,
                other._v,
                other._end,
                lo,
                hi,
                0.0 if fill_value is None else fill_value,
            )
            return Profile._new(t, v, hi)
        operands = (other, self._v) if reverse else (self._v, other)
        return Profile._new(self._t, _SCALAR_OPS[op](*operands), self._end)

    def add(self, other: Profile | float, fill: float | None = None) -> Profile:
        """``self + other``; with ``fill``, defined wherever either operand is.

        Parameters
        ----------
        other : Profile or float
            The other operand.
        fill : float, optional
            Value of an operand where it is undefined. Default None: the result
            is defined on the intersection of the supports.

        Returns
        -------
        Profile
        """
        return self._combine(other, "add", fill, "Profile.add")

    def sub(self, other: Profile | float, fill: float | None = None) -> Profile:
        """``self - other``; ``fill`` as in :meth:`add`."""
        return self._combine(other, "sub", fill, "Profile.sub")

    def mul(self, other: Profile | float, fill: float | None = None) -> Profile:
        """``self * other``; ``fill`` as in :meth:`add`."""
        return self._combine(other, "mul", fill, "Profile.mul")

    def minimum(self, other: Profile | float, fill: float | None = None) -> Profile:
        """Pointwise minimum; ``fill`` as in :meth:`add`."""
        return self._combine(other, "min", fill, "Profile.minimum")

    def maximum(self, other: Profile | float, fill: float | None = None) -> Profile:
        """Pointwise maximum; ``fill`` as in :meth:`add`."""
        return self._combine(other, "max", fill, "Profile.maximum")

    def _operator(self, other: Any, op: str, reverse: bool = False) -> Any:
        if not isinstance(other, Profile) and not _boundary.is_scalar(other):
            return NotImplemented
        return self._combine(other, op, None, f"Profile.{op}", reverse)

    def __add__(self, other: Any) -> Profile:
        return self._operator(other, "add")

    def __radd__(self, other: Any) -> Profile:
        return self._operator(other, "add", reverse=True)

    def __sub__(self, other: Any) -> Profile:
        return self._operator(other, "sub")

    def __rsub__(self, other: Any) -> Profile:
        return self._operator(other, "sub", reverse=True)

    def __mul__(self, other: Any) -> Profile:
        return self._operator(other, "mul")

    def __rmul__(self, other: Any) -> Profile:
        return self._operator(other, "mul", reverse=True)

    def __neg__(self) -> Profile:
        return Profile._new(self._t, -self._v, self._end)

    def clip(self, lo: Profile | float | None = None, hi: Profile | float | None = None) -> Profile:
        """Bound the profile from below by ``lo`` and from above by ``hi``.

        Parameters
        ----------
        lo, hi : Profile or float, optional
            Bounds; profiles restrict the result to the common support.

        Returns
        -------
        Profile
            ``minimum(maximum(self, lo), hi)``.

        Raises
        ------
        InputError
            If ``lo > hi`` anywhere on the common support.
        """
        where = "Profile.clip"
        lo = None if lo is None else _operand(where, "lo", lo)
        hi = None if hi is None else _operand(where, "hi", hi)
        if lo is not None and hi is not None:
            gap = hi - lo
            smallest = gap.values.min() if isinstance(gap, Profile) else gap
            if smallest < 0:
                raise InputError(where, "lo", lo, "must not exceed hi")
        result = self
        if lo is not None:
            result = result._combine(lo, "max", None, where)
        if hi is not None:
            result = result._combine(hi, "min", None, where)
        return result

    # ------------------------------------------------------------------ time

    def shift(self, seconds: timedelta | int) -> Profile:
        """The same profile moved later in time by ``seconds`` (earlier if negative).

        Parameters
        ----------
        seconds : timedelta or int
            Shift [s].

        Returns
        -------
        Profile
        """
        where = "Profile.shift"
        shift_s = _time.seconds(seconds, where, "seconds")
        last_s = int(self._t[-1]) if self.open_ended else self._end
        _boundary.check_range(where, "seconds", np.array([self.start_s, last_s]) + shift_s, seconds)
        end = self._end if self.open_ended else self._end + shift_s
        return Profile._new(self._t + shift_s, self._v, end)

    def slice(
        self, start: datetime | int | None = None, end: datetime | int | None = None
    ) -> Profile:
        """The profile restricted to ``[start, end)`` intersected with its support.

        Parameters
        ----------
        start, end : datetime or int, optional
            Bounds (aware datetimes or epoch seconds [s]); None keeps the
            profile's own bound.

        Returns
        -------
        Profile

        Raises
        ------
        InputError
            If the restricted support is empty.
        """
        where = "Profile.slice"
        lo = self.start_s if start is None else _boundary.time_s(where, "start", start)
        hi = self._end if end is None else _boundary.time_s(where, "end", end)
        lo, hi = max(lo, self.start_s), min(hi, self._end)
        if lo >= hi:
            raise InputError(
                where, "start/end", (start, end), "leave nothing of the profile's support"
            )
        first = np.searchsorted(self._t, lo, side="right") - 1
        stop = np.searchsorted(self._t, hi, side="left")
        t = self._t[first:stop].copy()
        t[0] = lo
        return Profile._new(t, self._v[first:stop], hi)

    def resample(self, grid: TimeGrid, how: str = "mean", fill: float | None = None) -> Profile:
        """One value per slot of ``grid``.

        Parameters
        ----------
        grid : TimeGrid
            Target slots; must overlap the support.
        how : {'mean', 'min', 'max'}
            ``'mean'``: time-weighted mean, so a slot's energy is preserved
            exactly; ``'min'``/``'max'``: the tightest bound over the slot (the
            extreme value of the periods overlapping it).
        fill : float, optional
            Value where the profile is undefined. Default None: only slots that
            lie entirely inside the support get a value, and the result covers
            just those (contiguous) slots. With ``fill`` every slot gets a value
            and the uncovered part of a slot counts as ``fill``.

        Returns
        -------
        Profile
            Breakpoints at slot starts, end at a slot edge.

        Raises
        ------
        InputError
            If ``grid`` does not overlap the support, or (without ``fill``) no slot
            lies entirely inside it.

        Examples
        --------
        >>> from fera_flex.timeseries import TimeGrid
        >>> from datetime import datetime, timezone
        >>> grid = TimeGrid(datetime(1970, 1, 1, tzinfo=timezone.utc), 900, 2)
        >>> Profile([0, 600], [4.0, 10.0], end_s=1800).resample(grid).values
        array([ 6., 10.])
        >>> Profile([0, 600], [4.0, 10.0], end_s=1800).resample(grid, "max").values
        array([10., 10.])
        """
        where = "Profile.resample"
        if not isinstance(grid, TimeGrid):
            raise InputError(where, "grid", grid, "must be a TimeGrid")
        code = _boundary.resample_code(where, how)
        fill_value = _boundary.optional_fill(where, fill)
        if not (grid.start_s < self._end and self.start_s < grid.end_s):
            raise InputError(where, "grid", grid, f"does not overlap the support of {self!r}")
        row = np.empty((1, grid.n))
        _kernels.resample_batch(
            self._t,
            self._v,
            _frozen([0, self._t.size], np.int64),
            _frozen([self._end], np.int64),
            grid.start_s,
            grid.step_s,
            code,
            0.0 if fill_value is None else fill_value,
            fill_value is not None,
            row,
        )
        defined = np.flatnonzero(~np.isnan(row[0]))
        if defined.size == 0:
            raise InputError(
                where, "grid", grid, "has no slot entirely inside the support; pass fill="
            )
        first, stop = int(defined[0]), int(defined[-1]) + 1
        edges_s = grid.edges_s
        return Profile._new(edges_s[first:stop], row[0, first:stop], edges_s[stop])

    # ------------------------------------------------------------------ comparison

    def compress(self, tol: float = 0.0) -> Profile:
        """Merge neighbouring periods with (nearly) equal values.

        A run of periods whose values all lie within ``tol`` of the run's first
        value becomes one period with that first value, so no value changes by
        more than ``tol`` (with ``tol=0`` the function does not change at all).

        Parameters
        ----------
        tol : float, default 0.0
            Largest absolute difference merged, >= 0.

        Returns
        -------
        Profile

        Examples
        --------
        >>> Profile([0, 10, 20], [1.0, 1.0, 2.0], end_s=30).compress().t_s
        array([ 0, 20])
        """
        tol = _boundary.finite_scalar("Profile.compress", "tol", tol)
        if tol < 0:
            raise InputError("Profile.compress", "tol", tol, "must be >= 0")
        t, v = _kernels.compress(self._t, self._v, tol)
        return Profile._new(t, v, self._end)

    def equals(self, other: Profile, tol: float = 0.0) -> bool:
        """Whether ``other`` is the same function up to ``tol``.

        True when both have the same support and ``|self(t) - other(t)| <= tol``
        at every instant of it; breakpoints where nothing changes do not matter.
        ``==`` is ``equals`` with ``tol=0``.

        Parameters
        ----------
        other : Profile
            The profile to compare with.
        tol : float, default 0.0
            Largest absolute difference allowed, >= 0.

        Returns
        -------
        bool

        Examples
        --------
        >>> a = Profile([0, 10], [1.0, 1.0], end_s=20)
        >>> a == Profile([0], [1.0], end_s=20)
        True
        >>> a.equals(Profile([0], [1.0 + 1e-12], end_s=20), tol=1e-9)
        True
        """
        where = "Profile.equals"
        if not isinstance(other, Profile):
            raise InputError(where, "other", other, "must be a Profile")
        tol = _boundary.finite_scalar(where, "tol", tol)
        if tol < 0:
            raise InputError(where, "tol", tol, "must be >= 0")
        if self._t[0] != other._t[0] or self._end != other._end:
            return False
        _, difference = _kernels.merge_sub(
            self._t, self._v, self._end, other._t, other._v, other._end, self._t[0], self._end, 0.0
        )
        return bool(np.all(np.abs(difference) <= tol))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.equals(other)

    def __hash__(self) -> int:
        canonical = self.compress()
        return hash((canonical._t.tobytes(), (canonical._v + 0.0).tobytes(), canonical._end))
