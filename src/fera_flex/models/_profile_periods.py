"""Where and what one OCPP 2.0.1 charging profile limits, on the time axis.

A private helper of :mod:`fera_flex.models.composite`. It turns the one
schedule of a charging profile into disjoint absolute periods
``[start_s, end_s)`` [s since the epoch] inside a window, following the
reference note ``reference/ocpp-composite-schedule.md``:

- section 4, kinds: ``Absolute`` periods count from ``startSchedule``
  (K01.FR.40); ``Relative`` ones from an anchor the caller gives (the start
  of the transaction, K01.FR.41); ``Recurring`` ones from each occurrence
  ``startSchedule + n * P`` with ``n >= 0`` and ``P`` one day or one week.
  A period ends where the next ``startPeriod`` begins; ``duration`` ends the
  schedule (without it the last period goes on); an occurrence never
  extends into the next one.
- section 5: the caller clips the periods to where the profile competes at
  all (``validFrom``/``validTo``, the window, the transaction).
"""

from dataclasses import dataclass

import numpy as np

from fera_flex.models.ocpp import (
    ChargingProfileKind,
    ChargingRateUnit,
    ChargingSchedule,
    RecurrencyKind,
)

__all__ = ["RECURRENCE_S", "ProfilePeriods", "schedule_periods"]

_DAY_S = 86_400
RECURRENCE_S = {RecurrencyKind.DAILY: _DAY_S, RecurrencyKind.WEEKLY: 7 * _DAY_S}
"""Length of one occurrence of a recurring profile [s]."""

_FOREVER_S = 2**62
"""Stands in for "no end" before clipping; far beyond any epoch second plus a startPeriod."""


@dataclass(frozen=True, slots=True)
class ProfilePeriods:
    """The periods one profile defines, sorted and disjoint.

    Attributes
    ----------
    start_s, end_s : ndarray of int64
        Period bounds [s since the epoch]; ``start_s < end_s``, and each period
        ends at or before the next one starts.
    limit : ndarray of float64
        Limit of each period [W] or [A], per :attr:`amperes`.
    number_phases : ndarray of int64
        ``numberPhases`` of each period; 0 where absent.
    amperes : bool
        Whether the limits are currents per phase [A] (else total power [W]).
    """

    start_s: np.ndarray
    end_s: np.ndarray
    limit: np.ndarray
    number_phases: np.ndarray
    amperes: bool

    def index_at(self, t_s: np.ndarray) -> np.ndarray:
        """Index of the period holding each instant, -1 where none does.

        Parameters
        ----------
        t_s : ndarray of int64
            Instants [s since the epoch].

        Returns
        -------
        ndarray of int64
        """
        if self.start_s.size == 0:
            return np.full(t_s.shape, -1, dtype=np.int64)
        index = np.searchsorted(self.start_s, t_s, side="right") - 1
        inside = (index >= 0) & (t_s < self.end_s[np.maximum(index, 0)])
        return np.where(inside, index, -1)


def schedule_periods(
    schedule: ChargingSchedule,
    kind: ChargingProfileKind,
    recurrency: RecurrencyKind | None,
    *,
    start_schedule_s: int | None,
    relative_anchor_s: int,
    lo_s: int,
    hi_s: int,
) -> ProfilePeriods:
    """Absolute periods of one schedule, clipped to ``[lo_s, hi_s)``.

    Parameters
    ----------
    schedule : ChargingSchedule
        The profile's schedule; its limits stay in its own unit.
    kind : ChargingProfileKind
        How the schedule is anchored.
    recurrency : RecurrencyKind or None
        Daily or weekly, for ``Recurring`` profiles.
    start_schedule_s : int or None
        ``startSchedule`` [s since the epoch]; required unless ``Relative``.
    relative_anchor_s : int
        Where a ``Relative`` schedule starts [s since the epoch].
    lo_s, hi_s : int
        Keep only ``[lo_s, hi_s)`` [s since the epoch].

    Returns
    -------
    ProfilePeriods
        Possibly empty.
    """
    periods = schedule.charging_schedule_period
    offsets_s = np.array([p.start_period for p in periods], dtype=np.int64)
    cap_s = _FOREVER_S if schedule.duration is None else schedule.duration
    if kind is ChargingProfileKind.RELATIVE:
        occurrences_s = np.array([relative_anchor_s], dtype=np.int64)
    elif kind is ChargingProfileKind.ABSOLUTE:
        occurrences_s = np.array([start_schedule_s], dtype=np.int64)
    else:
        every_s = RECURRENCE_S[recurrency]
        cap_s = min(cap_s, every_s)
        first = max(0, (lo_s - start_schedule_s) // every_s)
        stop = max(first, -((start_schedule_s - hi_s) // every_s))
        occurrences_s = start_schedule_s + every_s * np.arange(first, stop, dtype=np.int64)
    ends_rel_s = np.minimum(np.append(offsets_s[1:], _FOREVER_S), cap_s)
    start_s = np.maximum(occurrences_s[:, None] + offsets_s[None, :], lo_s).ravel()
    end_s = np.minimum(occurrences_s[:, None] + ends_rel_s[None, :], hi_s).ravel()
    keep = start_s < end_s
    repeat = occurrences_s.size
    return ProfilePeriods(
        start_s=start_s[keep],
        end_s=end_s[keep],
        limit=np.tile(np.array([p.limit for p in periods], dtype=np.float64), repeat)[keep],
        number_phases=np.tile(
            np.array([p.number_phases or 0 for p in periods], dtype=np.int64), repeat
        )[keep],
        amperes=schedule.charging_rate_unit is ChargingRateUnit.A,
    )
