"""Many profiles in flat arrays: the layout the aggregation kernels work on.

A batch stores all breakpoints and values of ``P`` profiles back to back, with
``offsets`` marking where each profile starts. Building it from flat arrays
costs one vectorised validation; after that sums, minima, maxima and
resampling of all profiles run as single kernel calls, with no Python loop
over profiles.

Examples
--------
Two sessions (kW) stacked on a node; the load is 0 where no session runs:

>>> batch = ProfileBatch(
...     t_s=[0, 1800, 900],
...     values=[11.0, 7.4, 3.7],
...     offsets=[0, 2, 3],
...     end_s=[3600, 2700],
... )
>>> len(batch)
2
>>> node = batch.sum(fill=0.0)
>>> node.t_s, node.values
(array([   0,  900, 1800, 2700]), array([11. , 14.7, 11.1,  7.4]))
>>> batch.max(fill=0.0).values
array([11. , 11. ,  7.4,  7.4])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.timeseries import _boundary, _kernels
from fera_flex.timeseries.grid import TimeGrid
from fera_flex.timeseries.profile import Profile

__all__ = ["ProfileBatch"]


def _frozen_copy(array: np.ndarray, dtype: type) -> np.ndarray:
    array = np.array(array, dtype=dtype, copy=True, order="C")
    array.flags.writeable = False
    return array


class ProfileBatch:
    """An immutable sequence of profiles stored as flat arrays.

    Profile ``p`` has breakpoints ``t_s[offsets[p]:offsets[p + 1]]`` (at least
    one, strictly increasing) with the matching ``values`` and ends at
    ``end_s[p]``. Indexing gives :class:`Profile` objects; the n-ary operations
    follow the rules of :class:`Profile` (intersection of supports, or ``fill``).

    Parameters
    ----------
    t_s : array_like of int
        All breakpoints, profile after profile [s since the epoch].
    values : array_like of float
        One finite value per breakpoint.
    offsets : array_like of int
        ``P + 1`` indices into ``t_s``: 0, then the end of each profile.
    end_s : array_like of (int or None), optional
        End of each profile [s since the epoch], None for an open end; default
        None: every profile is open-ended.

    Raises
    ------
    InputError
        On any property a :class:`Profile` would reject, or inconsistent offsets.
    """

    __slots__ = ("_end", "_offsets", "_t", "_v")

    def __init__(self, t_s: Any, values: Any, offsets: Any, end_s: Any = None) -> None:
        where = "ProfileBatch"
        offsets = np.asarray(offsets)
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or offsets.size < 2:
            raise InputError(where, "offsets", offsets, "must be 1-D integers, length P + 1 >= 2")
        t = np.asarray(t_s)
        if t.ndim != 1 or t.dtype.kind not in "iu":
            raise InputError(where, "t_s", t_s, "must be a 1-D array of int epoch seconds")
        if offsets[0] != 0 or offsets[-1] != t.size or np.any(offsets[1:] <= offsets[:-1]):
            raise InputError(
                where,
                "offsets",
                offsets,
                f"must increase strictly from 0 to len(t_s) = {t.size} (no empty profile)",
            )
        _boundary.check_range(where, "t_s", t, t_s)
        t = t.astype(np.int64)
        v = _boundary.finite_values(where, "values", values, t.size)
        within = np.ones(max(t.size - 1, 0), dtype=bool)
        within[offsets[1:-1] - 1] = False  # pairs that straddle two profiles
        bad = np.flatnonzero(within & (t[1:] <= t[:-1]))
        if bad.size:
            i = int(bad[0]) + 1
            raise InputError(
                where,
                f"t_s[{i}]",
                int(t[i]),
                f"breakpoints of profile {np.searchsorted(offsets, i, side='right') - 1} "
                f"must be strictly increasing (t_s[{i - 1}] = {int(t[i - 1])})",
            )
        end = self._end_codes(where, end_s, t[offsets[1:] - 1])
        for name, array, dtype in (
            ("_t", t, np.int64),
            ("_v", v, np.float64),
            ("_offsets", offsets, np.int64),
            ("_end", end, np.int64),
        ):
            object.__setattr__(self, name, _frozen_copy(array, dtype))

    @staticmethod
    def _end_codes(where: str, end_s: Any, last_s: np.ndarray) -> np.ndarray:
        """Kernel ends (OPEN_END for open) after checking them against the last breakpoints."""
        if end_s is None:
            return np.full(last_s.size, _kernels.OPEN_END, dtype=np.int64)
        raw = np.asarray(end_s)
        if raw.shape != last_s.shape:
            raise InputError(
                where, "end_s", end_s, f"must hold {last_s.size} ends (one per profile)"
            )
        open_end = np.equal(raw, None) if raw.dtype == object else np.zeros(raw.shape, bool)
        finite = raw[~open_end]
        if raw.dtype == object:
            integers = all(
                isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))
                for x in finite
            )
        else:
            integers = raw.dtype.kind in "iu"
        if not integers:
            raise InputError(where, "end_s", end_s, "must hold int epoch seconds or None")
        _boundary.check_range(where, "end_s", finite, end_s)
        end = np.full(last_s.size, _kernels.OPEN_END, dtype=np.int64)
        end[~open_end] = finite.astype(np.int64)
        bad = np.flatnonzero(end <= last_s)
        if bad.size:
            p = int(bad[0])
            raise InputError(
                where,
                f"end_s[{p}]",
                int(end[p]),
                f"must be after the last breakpoint of profile {p} ({int(last_s[p])})",
            )
        return end

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ProfileBatch is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple:
        """Pickle (and copy) through :meth:`_new`, which makes the arrays read-only again."""
        return self._new, (self._t, self._v, self._offsets, self._end)

    @classmethod
    def _new(
        cls, t: np.ndarray, v: np.ndarray, offsets: np.ndarray, end: np.ndarray
    ) -> ProfileBatch:
        """Wrap arrays that are already valid without checking; they become read-only."""
        batch = object.__new__(cls)
        for name, array in (("_t", t), ("_v", v), ("_offsets", offsets), ("_end", end)):
            array.flags.writeable = False
            object.__setattr__(batch, name, array)
        return batch

    @classmethod
    def from_profiles(cls, profiles: Iterable[Profile]) -> ProfileBatch:
        """Pack profiles into one batch.

        Parameters
        ----------
        profiles : iterable of Profile
            At least one.

        Returns
        -------
        ProfileBatch
        """
        profiles = list(profiles)
        if not profiles:
            raise InputError("ProfileBatch.from_profiles", "profiles", profiles, "is empty")
        for i, profile in enumerate(profiles):
            if not isinstance(profile, Profile):
                raise InputError(
                    "ProfileBatch.from_profiles", f"profiles[{i}]", profile, "must be a Profile"
                )
        lengths = np.fromiter((len(p) for p in profiles), dtype=np.int64, count=len(profiles))
        return cls._new(
            np.concatenate([p.t_s for p in profiles]),
            np.concatenate([p.values for p in profiles]),
            np.concatenate([[0], np.cumsum(lengths)]),
            np.array([p._end for p in profiles], dtype=np.int64),
        )

    @property
    def t_s(self) -> np.ndarray:
        """All breakpoints, int64 (read-only) [s since the epoch]."""
        return self._t

    @property
    def values(self) -> np.ndarray:
        """All values, float64 (read-only)."""
        return self._v

    @property
    def offsets(self) -> np.ndarray:
        """Start of each profile in :attr:`t_s`, then ``len(t_s)``; int64 (read-only)."""
        return self._offsets

    def __len__(self) -> int:
        return self._offsets.size - 1

    def __getitem__(self, index: int) -> Profile:
        p = range(len(self))[index]
        sl = slice(self._offsets[p], self._offsets[p + 1])
        return Profile._new(self._t[sl], self._v[sl], self._end[p])

    def __iter__(self) -> Iterator[Profile]:
        return (self[p] for p in range(len(self)))

    def __repr__(self) -> str:
        return f"ProfileBatch(profiles={len(self)}, breakpoints={self._t.size})"

    def _nary(self, where: str, fill: Any) -> tuple[float, int, int]:
        fill_value = _boundary.optional_fill(where, fill)
        lo, hi = _boundary.domain(where, self._t[self._offsets[:-1]], self._end, fill_value)
        return (0.0 if fill_value is None else fill_value), lo, hi

    def sum(self, fill: float | None = None) -> Profile:
        """Sum of all profiles.

        Parameters
        ----------
        fill : float, optional
            Value of a profile where it is undefined. Default None: the sum is
            defined on the intersection of the supports; with ``fill`` (usually
            0.0) on the smallest interval holding every support.

        Returns
        -------
        Profile
            Breakpoints at every distinct breakpoint or end inside its support.
            Each value is computed with compensated summation and is exactly 0
            where every term is 0. The sum of ``fill`` over profiles that are
            undefined is part of the value.
        """
        fill_value, lo, hi = self._nary("ProfileBatch.sum", fill)
        t, v = _kernels.nary_sum(self._t, self._v, self._offsets, self._end, fill_value, lo, hi)
        return Profile._new(t, v, hi)

    def min(self, fill: float | None = None) -> Profile:
        """Pointwise minimum of all profiles; ``fill`` as in :meth:`sum`."""
        fill_value, lo, hi = self._nary("ProfileBatch.min", fill)
        t, v = _kernels.nary_min(
            self._t, self._v, self._offsets, self._end, fill_value, lo, hi, 1.0
        )
        return Profile._new(t, v, hi)

    def max(self, fill: float | None = None) -> Profile:
        """Pointwise maximum of all profiles; ``fill`` as in :meth:`sum`."""
        fill_value, lo, hi = self._nary("ProfileBatch.max", fill)
        t, v = _kernels.nary_min(
            self._t, self._v, self._offsets, self._end, fill_value, lo, hi, -1.0
        )
        return Profile._new(t, v, hi)

    def resample(self, grid: TimeGrid, how: str = "mean", fill: float | None = None) -> np.ndarray:
        """One value per profile and grid slot.

        Parameters
        ----------
        grid : TimeGrid
            Target slots.
        how : {'mean', 'min', 'max'}
            As in :meth:`Profile.resample`.
        fill : float, optional
            Value where a profile is undefined. Default None: a slot not entirely
            inside a profile's support is NaN for that profile (a profile that
            misses the grid altogether gives a row of NaN); with ``fill`` the
            uncovered part of a slot counts as ``fill``.

        Returns
        -------
        ndarray
            Shape ``(n_profiles, grid.n)``, float64, C-contiguous.

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> grid = TimeGrid(datetime(1970, 1, 1, tzinfo=timezone.utc), 1800, 2)
        >>> ProfileBatch([0, 1800, 900], [11.0, 7.4, 3.7], [0, 2, 3], [3600, 2700]).resample(
        ...     grid, fill=0.0
        ... )
        array([[11.  ,  7.4 ],
               [ 1.85,  1.85]])
        """
        where = "ProfileBatch.resample"
        if not isinstance(grid, TimeGrid):
            raise InputError(where, "grid", grid, "must be a TimeGrid")
        code = _boundary.resample_code(where, how)
        fill_value = _boundary.optional_fill(where, fill)
        out = np.empty((len(self), grid.n))
        _kernels.resample_batch(
            self._t,
            self._v,
            self._offsets,
            self._end,
            grid.start_s,
            grid.step_s,
            code,
            0.0 if fill_value is None else fill_value,
            fill_value is not None,
            out,
        )
        return out
