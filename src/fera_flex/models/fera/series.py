"""One time-series value type for every FERA object (capacities, prices, loads, ...).

A :class:`TimeSeries` is piecewise constant and has one of two JSON forms:

- regular: ``{"start": "...Z", "step_s": 900, "values": [v0, v1, ...]}``;
- periods: ``{"periods": [{"start": "...Z", "end": "...Z", "value": v}, ...]}``,
  sorted, not overlapping; gaps are allowed (the series is undefined there).

Examples
--------
>>> series = TimeSeries.model_validate(
...     {"start": "2026-03-02T00:00:00Z", "step_s": 3600, "values": [0.21, 0.25]})
>>> series.covers(series.start_s, series.end_s)
True
>>> series.to_periods().model_dump(mode="json")["periods"][1]
{'start': '2026-03-02T01:00:00Z', 'end': '2026-03-02T02:00:00Z', 'value': 0.25}
"""

from datetime import datetime
from typing import Annotated, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from fera_flex._time import epoch_s, from_epoch_s
from fera_flex.models._scalars import require_order
from fera_flex.models.fera._base import FeraModel, FiniteFloat, Timestamp

__all__ = ["Period", "TimeSeries"]


class Period(FeraModel):
    """A value that holds from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: Timestamp
    end: Timestamp
    value: FiniteFloat

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        require_order("start", self.start, "end", self.end)
        return self


class TimeSeries(FeraModel):
    """A piecewise-constant series in regular or periods form (see the module doc).

    Times must be whole seconds. Values are finite; the owning object states
    their unit and range (see :meth:`check_range`).
    """

    start: Timestamp | None = None
    step_s: Annotated[int, Field(gt=0, strict=True)] | None = None
    values: Annotated[list[FiniteFloat], Field(min_length=1)] | None = None
    periods: Annotated[list[Period], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        regular = (self.start, self.step_s, self.values)
        if self.periods is not None:
            if any(part is not None for part in regular):
                raise ValueError("give either periods or start/step_s/values, not both")
            self._check_periods()
        elif any(part is None for part in regular):
            missing = [
                n for n, v in zip(("start", "step_s", "values"), regular, strict=True) if v is None
            ]
            raise ValueError(f"regular form needs start, step_s and values; missing {missing}")
        else:
            epoch_s(self.start, "TimeSeries", "start")
        return self

    def _check_periods(self) -> None:
        for index, period in enumerate(self.periods):
            epoch_s(period.start, "TimeSeries", f"periods[{index}].start")
            epoch_s(period.end, "TimeSeries", f"periods[{index}].end")
            if index and period.start < self.periods[index - 1].end:
                raise ValueError(
                    f"periods[{index}] starts at {period.start.isoformat()}, before "
                    f"periods[{index - 1}] ends ({self.periods[index - 1].end.isoformat()}): "
                    "periods must be sorted and must not overlap"
                )

    @classmethod
    def regular(cls, start: datetime, step_s: int, values: "list[float] | NDArray") -> Self:
        """Build the regular form from a start, a step [s] and values."""
        return cls(start=start, step_s=step_s, values=[float(v) for v in values])

    @classmethod
    def constant(cls, value: float, start: datetime, end: datetime) -> Self:
        """A single period holding ``value`` from ``start`` to ``end``."""
        return cls(periods=[Period(start=start, end=end, value=value)])

    def to_arrays(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Period starts [s], ends [s] (epoch seconds) and values, as arrays."""
        if self.periods is not None:
            starts = np.array([epoch_s(p.start) for p in self.periods], dtype=np.int64)
            ends = np.array([epoch_s(p.end) for p in self.periods], dtype=np.int64)
            values = np.array([p.value for p in self.periods], dtype=np.float64)
            return starts, ends, values
        starts = epoch_s(self.start) + self.step_s * np.arange(len(self.values), dtype=np.int64)
        return starts, starts + self.step_s, np.array(self.values, dtype=np.float64)

    def to_periods(self) -> "TimeSeries":
        """The same series in periods form."""
        starts, ends, values = self.to_arrays()
        return TimeSeries(
            periods=[
                Period(start=from_epoch_s(s), end=from_epoch_s(e), value=float(v))
                for s, e, v in zip(starts, ends, values, strict=True)
            ]
        )

    @property
    def start_s(self) -> int:
        """Start of the first period [epoch s]."""
        return int(self.to_arrays()[0][0])

    @property
    def end_s(self) -> int:
        """End of the last period [epoch s]."""
        return int(self.to_arrays()[1][-1])

    def covers(self, start_s: int, end_s: int) -> bool:
        """Whether the series is defined on all of ``[start_s, end_s)`` (no gap) [epoch s]."""
        starts, ends, _ = self.to_arrays()
        if starts[0] > start_s or ends[-1] < end_s:
            return False
        inside = (ends > start_s) & (starts < end_s)
        first, last = np.flatnonzero(inside)[[0, -1]]
        return bool(np.all(starts[first + 1 : last + 1] == ends[first:last]))

    def check_range(self, name: str, low: float | None = None, high: float | None = None) -> None:
        """Raise ``ValueError`` naming ``name`` if a value lies outside ``[low, high]``."""
        _, _, values = self.to_arrays()
        if low is not None and np.any(values < low):
            raise ValueError(f"{name}: value {values[values < low][0]} is below {low}")
        if high is not None and np.any(values > high):
            raise ValueError(f"{name}: value {values[values > high][0]} is above {high}")
