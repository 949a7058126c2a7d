"""N-ary sums, minima and maxima of profiles: the aggregation step.

Examples
--------
>>> from fera_flex.timeseries import Profile
>>> a = Profile([0, 600], [11.0, 0.0], end_s=1200)
>>> b = Profile([300], [3.7], end_s=900)
>>> sum_profiles([a, b], fill=0.0).values
array([11. , 14.7,  3.7,  0. ])
>>> maximum(a, b).values  # on the common support [300, 900)
array([11. ,  3.7])
"""

from __future__ import annotations

from collections.abc import Iterable

from fera_flex.errors import InputError
from fera_flex.timeseries.batch import ProfileBatch
from fera_flex.timeseries.profile import Profile

__all__ = ["maximum", "minimum", "sum_profiles"]


def _as_batch(where: str, profiles: ProfileBatch | Iterable[Profile]) -> ProfileBatch:
    if isinstance(profiles, ProfileBatch):
        return profiles
    if isinstance(profiles, Profile):
        raise InputError(where, "profiles", profiles, "must be several profiles, not one")
    try:
        profiles = list(profiles)
    except TypeError:
        raise InputError(where, "profiles", profiles, "must be an iterable of Profile") from None
    if not profiles:
        raise InputError(where, "profiles", profiles, "must hold at least one profile")
    return ProfileBatch.from_profiles(profiles)


def sum_profiles(profiles: ProfileBatch | Iterable[Profile], fill: float | None = None) -> Profile:
    """Sum of many profiles with unrelated breakpoints.

    Parameters
    ----------
    profiles : ProfileBatch or iterable of Profile
        At least one profile. For many profiles pass a :class:`ProfileBatch`
        built from flat arrays: that skips creating a Python object per profile.
    fill : float, optional
        Value of a profile where it is undefined (usually 0.0). Default None: the
        sum is defined on the intersection of the supports.

    Returns
    -------
    Profile
        See :meth:`ProfileBatch.sum`. With ``fill=0.0`` (or None) it equals
        folding ``Profile.add(..., fill=fill)`` over the profiles up to rounding.
    """
    return _as_batch("sum_profiles", profiles).sum(fill)


def minimum(*profiles: Profile, fill: float | None = None) -> Profile:
    """Pointwise minimum of one or more profiles.

    Parameters
    ----------
    *profiles : Profile
        At least one.
    fill : float, optional
        As in :func:`sum_profiles`.

    Returns
    -------
    Profile
        Exact (no rounding); equal to folding :meth:`Profile.minimum`.
    """
    return _as_batch("minimum", profiles).min(fill)


def maximum(*profiles: Profile, fill: float | None = None) -> Profile:
    """Pointwise maximum of one or more profiles; see :func:`minimum`."""
    return _as_batch("maximum", profiles).max(fill)
