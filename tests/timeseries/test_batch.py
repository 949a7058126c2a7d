"""ProfileBatch: flat-array construction, views, n-ary operations, resampling."""

from datetime import datetime, timezone

import numpy as np
import pytest

from fera_flex.timeseries import Profile, ProfileBatch, TimeGrid, maximum, minimum, sum_profiles

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
VALUE_ATOL = 1e-12


@pytest.fixture
def batch():
    """An open-ended profile, and one on [5, 25)."""
    return ProfileBatch(
        t_s=np.array([0, 10, 5, 15]),
        values=[1.0, 2.0, 4.0, 8.0],
        offsets=np.array([0, 2, 4], dtype=np.int32),
        end_s=[None, 25],
    )


def test_flat_arrays_become_profiles(batch):
    assert len(batch) == 2
    assert batch[0] == Profile([0, 10], [1.0, 2.0])
    assert batch[-1] == Profile([5, 15], [4.0, 8.0], end_s=25)
    with pytest.raises(IndexError):
        batch[2]
    assert repr(batch) == "ProfileBatch(profiles=2, breakpoints=4)"
    for array in (batch.t_s, batch.values, batch.offsets):
        assert not array.flags.writeable
    assert batch.offsets.dtype == np.int64
    with pytest.raises(AttributeError):
        batch.extra = 1


def test_end_s_as_int_array_and_all_open():
    finite = ProfileBatch([0, 5], [1.0, 2.0], [0, 1, 2], end_s=np.array([3, 9]))
    assert [p.end_s for p in finite] == [3, 9]
    assert all(p.open_ended for p in ProfileBatch([0, 5], [1.0, 2.0], [0, 1, 2]))


def test_inputs_are_copied():
    t = np.array([0, 5])
    batch = ProfileBatch(t, [1.0, 2.0], [0, 2])
    t[1] = 100
    assert batch[0].t_s[1] == 5


def test_sum_min_max_on_intersection_and_with_fill(batch):
    total = batch.sum()
    assert (total.start_s, total.end_s) == (5, 25)
    np.testing.assert_array_equal(total.t_s, [5, 10, 15])
    np.testing.assert_array_equal(total.values, [5.0, 6.0, 10.0])
    stacked = batch.sum(fill=0.0)
    assert stacked.open_ended
    np.testing.assert_array_equal(stacked.t_s, [0, 5, 10, 15, 25])
    np.testing.assert_array_equal(stacked.values, [1.0, 5.0, 6.0, 10.0, 2.0])
    np.testing.assert_array_equal(batch.min().values, [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(batch.max(fill=-1.0).values, [1.0, 4.0, 4.0, 8.0, 2.0])
    assert sum_profiles(batch, fill=0.0) == stacked
    assert minimum(*batch) == batch.min()
    assert maximum(*batch, fill=-1.0) == batch.max(fill=-1.0)


def test_resample_marks_partial_slots_nan_without_fill(batch):
    grid = TimeGrid(EPOCH, 10, 3)
    rows = batch.resample(grid)
    np.testing.assert_array_equal(rows[0], [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(rows[1], [np.nan, 6.0, np.nan])
    filled = batch.resample(grid, fill=0.0)
    np.testing.assert_allclose(filled[1], [2.0, 6.0, 4.0], atol=VALUE_ATOL)
    np.testing.assert_array_equal(batch.resample(grid, "max", fill=0.0)[1], [4.0, 8.0, 8.0])
    assert filled.shape == (2, 3)
    assert filled.flags.c_contiguous
    far = TimeGrid(datetime(2024, 1, 1, tzinfo=timezone.utc), 10, 3)
    np.testing.assert_array_equal(batch.resample(far, fill=0.0)[1], 0.0)
    assert np.isnan(batch.resample(far)[1]).all()


def test_sum_of_many_profiles_on_a_grid_matches_dense_arithmetic():
    rng = np.random.default_rng(3)
    grid = TimeGrid(EPOCH, 900, 96)
    values = rng.uniform(0.0, 22.0, (50, 96))
    batch = ProfileBatch.from_profiles(Profile.from_grid(grid, row) for row in values)
    total = batch.sum()
    np.testing.assert_array_equal(total.t_s, grid.times_s)
    np.testing.assert_allclose(total.values, values.sum(axis=0), rtol=1e-15)
    np.testing.assert_array_equal(batch.resample(grid), values)
