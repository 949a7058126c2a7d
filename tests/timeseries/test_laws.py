"""Algebra laws of the profile operations, as hypothesis properties."""

import functools

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from fera_flex._time import from_epoch_s
from fera_flex.timeseries import (
    ProfileBatch,
    TimeGrid,
    maximum,
    minimum,
    sum_profiles,
)
from tests.timeseries.strategies import NARROW_S, VALUES, batches, profiles

# Values are at most 1e3 in size and sums have few terms, so rounding stays far below these.
VALUE_ATOL = 1e-9
ENERGY_ATOL_KWH = 1e-9
FILLS = st.sampled_from([None, 0.0])


def overlap(*ps):
    return max(p.start_s for p in ps) < min(p._end for p in ps)


def sample_times(*ps):
    """Every second around the profiles: enough to see any piecewise-constant difference."""
    lo = min(p.start_s for p in ps) - 3
    hi = max(int(p.t_s[-1]) if p.open_ended else p.end_s for p in ps) + 3
    return np.arange(lo, hi)


def finite_end(*ps):
    """A finite end for integrating over the common support."""
    ends = [p.end_s for p in ps if not p.open_ended]
    return min(ends) if ends else max(p.start_s for p in ps) + NARROW_S


@given(a=profiles(), b=profiles(), fill=FILLS)
def test_add_and_mul_commute(a, b, fill):
    assume(fill is not None or overlap(a, b))
    assert a.add(b, fill=fill) == b.add(a, fill=fill)
    assert a.mul(b, fill=fill) == b.mul(a, fill=fill)
    assert a.minimum(b, fill=fill) == b.minimum(a, fill=fill)


@given(a=profiles(), b=profiles())
def test_energy_of_a_sum_is_the_sum_of_energies(a, b):
    assume(overlap(a, b))
    total = a + b
    lo, hi = total.start_s, finite_end(a, b)
    np.testing.assert_allclose(
        total.energy_kwh(lo, hi),
        a.energy_kwh(lo, hi) + b.energy_kwh(lo, hi),
        atol=ENERGY_ATOL_KWH,
    )


@given(a=profiles())
def test_minimum_and_maximum_are_idempotent(a):
    assert minimum(a, a) == a
    assert maximum(a, a) == a
    assert a.minimum(a) == a
    assert a.maximum(a) == a


@given(a=profiles(), b=profiles(), c=profiles(), fill=FILLS)
def test_sum_is_associative_within_rounding(a, b, c, fill):
    assume(fill is not None or overlap(a, b, c))
    left = a.add(b, fill=fill).add(c, fill=fill)
    right = a.add(b.add(c, fill=fill), fill=fill)
    assert left.equals(right, tol=VALUE_ATOL)


@given(ps=st.lists(profiles(), min_size=1, max_size=6), fill=FILLS)
def test_sum_profiles_equals_folding_add(ps, fill):
    assume(fill is not None or overlap(*ps))
    folded = functools.reduce(lambda x, y: x.add(y, fill=fill), ps)
    total = sum_profiles(ps, fill=fill)
    assert total.equals(folded, tol=VALUE_ATOL)
    assert sum_profiles(ProfileBatch.from_profiles(ps), fill=fill) == total


@given(batch=batches(), fill=FILLS)
def test_batch_from_flat_arrays_sums_like_its_profiles(batch, fill):
    # batches() spreads some batches over 2**36 s: the kernels' radix-sort path
    ps = list(batch)
    assume(fill is not None or overlap(*ps))
    folded = functools.reduce(lambda x, y: x.add(y, fill=fill), ps)
    assert batch.sum(fill=fill).equals(folded, tol=VALUE_ATOL)
    assert batch.max(fill=fill) == functools.reduce(lambda x, y: x.maximum(y, fill=fill), ps)


@given(ps=st.lists(profiles(), min_size=1, max_size=6), fill=st.one_of(st.none(), VALUES))
def test_nary_minimum_and_maximum_equal_folding(ps, fill):
    assume(fill is not None or overlap(*ps))
    assert minimum(*ps, fill=fill) == functools.reduce(lambda x, y: x.minimum(y, fill=fill), ps)
    assert maximum(*ps, fill=fill) == functools.reduce(lambda x, y: x.maximum(y, fill=fill), ps)


@given(ps=st.lists(profiles(), min_size=1, max_size=6))
def test_minimum_below_each_below_maximum(ps):
    assume(overlap(*ps))
    low, high = minimum(*ps), maximum(*ps)
    times = sample_times(*ps)
    times = times[~np.isnan(low.value_at(times))]
    for p in ps:
        assert np.all(low.value_at(times) <= p.value_at(times))
        assert np.all(p.value_at(times) <= high.value_at(times))


@given(a=profiles(), lo=VALUES, width=st.floats(0, 100), bound=profiles())
def test_clip_respects_bounds(a, lo, width, bound):
    clipped = a.clip(lo, lo + width)
    times = sample_times(a)
    inside = ~np.isnan(a.value_at(times))
    values = clipped.value_at(times)[inside]
    assert np.all((lo <= values) & (values <= lo + width))
    assume(overlap(a, bound))
    below = a.clip(hi=bound)
    times = sample_times(a, bound)
    defined = ~np.isnan(below.value_at(times))
    assert np.all(below.value_at(times)[defined] <= bound.value_at(times)[defined])


@given(a=profiles(), tol=st.sampled_from([0.0, 0.5, 10.0]))
def test_compress_changes_values_by_at_most_tol(a, tol):
    times = sample_times(a)
    compressed = a.compress(tol)
    before, after = a.value_at(times), compressed.value_at(times)
    np.testing.assert_array_equal(np.isnan(before), np.isnan(after))
    assert np.nanmax(np.abs(before - after), initial=0.0) <= tol
    if tol == 0.0:
        np.testing.assert_array_equal(before, after)
        assert compressed == a
        assert hash(compressed) == hash(a)
        assert np.all(compressed.values[1:] != compressed.values[:-1])


@given(
    a=profiles(),
    start_s=st.integers(-20, NARROW_S),
    step_s=st.integers(1, 40),
    n=st.integers(1, 10),
)
def test_resample_mean_preserves_energy(a, start_s, step_s, n):
    grid = TimeGrid(from_epoch_s(start_s), step_s, n)
    assume(grid.start_s < a._end and a.start_s < grid.end_s)
    filled = a.resample(grid, fill=0.0)
    lo, hi = max(grid.start_s, a.start_s), min(grid.end_s, a._end)
    np.testing.assert_allclose(filled.energy_kwh(), a.energy_kwh(lo, hi), atol=ENERGY_ATOL_KWH)
    assume(
        any(a.start_s <= s and s + step_s <= a._end for s in grid.times_s)
    )  # some slot is fully covered
    inside = a.resample(grid)
    np.testing.assert_allclose(
        inside.energy_kwh(),
        a.energy_kwh(inside.start_s, inside.end_s),
        atol=ENERGY_ATOL_KWH,
    )
    low, high = a.resample(grid, "min"), a.resample(grid, "max")
    assert np.all(low.values <= inside.values + VALUE_ATOL)
    assert np.all(inside.values <= high.values + VALUE_ATOL)


@given(ps=st.lists(profiles(), min_size=1, max_size=5), how=st.sampled_from(["mean", "min", "max"]))
def test_batch_resample_rows_equal_profile_resample(ps, how):
    grid = TimeGrid(from_epoch_s(0), 25, 8)
    rows = ProfileBatch.from_profiles(ps).resample(grid, how, fill=0.0)
    for p, row in zip(ps, rows, strict=True):
        if grid.start_s < p._end and p.start_s < grid.end_s:
            np.testing.assert_array_equal(row, p.resample(grid, how, fill=0.0).values)
        else:
            np.testing.assert_array_equal(row, 0.0)


@given(ps=st.lists(profiles(), min_size=1, max_size=5))
def test_batch_round_trip(ps):
    batch = ProfileBatch.from_profiles(ps)
    assert list(batch) == ps
    assert [batch[i] for i in range(-len(ps), 0)] == ps


@given(a=profiles(), shift_s=st.integers(-1000, 1000))
def test_shift_moves_every_value(a, shift_s):
    times = sample_times(a)
    np.testing.assert_array_equal(a.shift(shift_s).value_at(times + shift_s), a.value_at(times))


@given(a=profiles(), start_s=st.integers(-10, NARROW_S), length_s=st.integers(1, NARROW_S))
def test_slice_keeps_values_inside_and_nothing_outside(a, start_s, length_s):
    end_s = start_s + length_s
    assume(max(start_s, a.start_s) < min(end_s, a._end))
    part = a.slice(start_s, end_s)
    times = sample_times(a)
    inside = (times >= start_s) & (times < end_s)
    np.testing.assert_array_equal(part.value_at(times[inside]), a.value_at(times[inside]))
    assert np.all(np.isnan(part.value_at(times[~inside])))
