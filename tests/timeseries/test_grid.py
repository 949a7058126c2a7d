"""TimeGrid: construction, slot arithmetic, alignment, value semantics."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.timeseries import TimeGrid

UTC = timezone.utc
T0 = datetime(2024, 3, 1, tzinfo=UTC)
T0_S = 1709251200


def test_slot_times_edges_and_lengths():
    grid = TimeGrid(T0, timedelta(minutes=15), 96)
    assert grid.start_s == T0_S
    assert grid.step_s == 900
    assert grid.n == len(grid) == 96
    assert grid.dt_h == 0.25
    np.testing.assert_array_equal(grid.times_s, T0_S + 900 * np.arange(96))
    np.testing.assert_array_equal(grid.edges_s, T0_S + 900 * np.arange(97))
    assert grid.times_s.dtype == np.int64
    assert grid.end == T0 + timedelta(days=1)
    assert grid.end_s == T0_S + 86_400
    assert grid.start == T0


def test_step_as_int_seconds_and_other_timezone():
    cet = timezone(timedelta(hours=1))
    grid = TimeGrid(datetime(2024, 3, 1, 1, tzinfo=cet), 900, 4)
    assert grid == TimeGrid(T0, timedelta(minutes=15), 4)
    assert grid.start.tzinfo == UTC


def test_index_of_and_bounds():
    grid = TimeGrid(T0, 900, 4)
    assert grid.index_of(T0) == 0
    assert grid.index_of(T0 + timedelta(seconds=899)) == 0
    assert grid.index_of(T0_S + 900) == 1
    assert grid.index_of(T0_S + 3599) == 3
    for outside in (T0_S - 1, T0_S + 3600):
        with pytest.raises(InputError, match="outside"):
            grid.index_of(outside)


def test_alignment():
    grid = TimeGrid(T0, 900, 4)
    assert grid.is_aligned(T0 + timedelta(minutes=30))
    assert grid.is_aligned(T0_S - 900)  # the lattice extends beyond the grid
    assert not grid.is_aligned(T0_S + 1)
    assert grid.require_aligned(T0_S + 1800, "test", "t") == T0_S + 1800
    with pytest.raises(InputError, match="test: t = 1709251201"):
        grid.require_aligned(T0_S + 1, "test", "t")


def test_immutable_hashable_repr():
    grid = TimeGrid(T0, 900, 4)
    with pytest.raises(AttributeError):
        grid.n = 5
    assert {grid, TimeGrid(T0, 900, 4)} == {grid}
    assert grid != TimeGrid(T0, 900, 5)
    assert grid != "grid"
    assert repr(grid) == "TimeGrid(start='2024-03-01T00:00:00+00:00', step_s=900, n=4)"
    with pytest.raises(ValueError, match="read-only"):
        grid.times_s[0] = 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((datetime(2024, 3, 1), 900, 4), "start"),
        ((T0_S, 900, 4), "start"),
        ((T0.replace(microsecond=5), 900, 4), "start"),
        ((T0, 0, 4), "step"),
        ((T0, timedelta(minutes=-15), 4), "step"),
        ((T0, 1.5, 4), "step"),
        ((T0, 900, 0), "n"),
        ((T0, 900, True), "n"),
        ((T0, 900, 2.0), "n"),
    ],
)
def test_bad_arguments(args, field):
    with pytest.raises(InputError) as info:
        TimeGrid(*args)
    assert info.value.field == field
    assert info.value.obj == "TimeGrid"
