"""The profile algebra: piecewise-constant functions of time and regular grids.

The lowest layer of fera_flex: it imports only numpy, numba and fera_flex's
errors, units and time helpers (plus ``fera_flex._jit``, the one place that sets
numba's options). Importing it compiles nothing; each numba kernel compiles on
its first call.

- :class:`TimeGrid`: ``n`` slots of equal length, the optimiser's horizon.
- :class:`Profile`: an immutable piecewise-constant function of time with
  ``+ - *``, minimum/maximum, clip, resampling and energy integrals.
- :class:`ProfileBatch`: many profiles in flat arrays, for aggregation.
- :func:`sum_profiles`, :func:`minimum`, :func:`maximum`: n-ary operations.

See ``docs/profiles.md`` for the rules (supports, ``fill``, equality).

Examples
--------
>>> from datetime import datetime, timezone
>>> from fera_flex.timeseries import Profile, TimeGrid, sum_profiles
>>> grid = TimeGrid(datetime(2024, 1, 1, tzinfo=timezone.utc), 900, 4)
>>> ev1 = Profile.from_grid(grid, [11.0, 11.0, 0.0, 0.0])
>>> ev2 = Profile.from_grid(grid, [0.0, 7.4, 7.4, 7.4])
>>> node = sum_profiles([ev1, ev2])
>>> node.values
array([11. , 18.4,  7.4,  7.4])
>>> node.energy_kwh()
11.05
"""

from fera_flex.timeseries.aggregate import maximum, minimum, sum_profiles
from fera_flex.timeseries.batch import ProfileBatch
from fera_flex.timeseries.grid import TimeGrid
from fera_flex.timeseries.profile import Profile

__all__ = [
    "Profile",
    "ProfileBatch",
    "TimeGrid",
    "maximum",
    "minimum",
    "sum_profiles",
]
