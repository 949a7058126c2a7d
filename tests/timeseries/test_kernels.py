"""Every kernel against its numpy reference on random input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fera_flex.timeseries import _kernels, _reference
from fera_flex.timeseries._kernels import MAX, MEAN, MIN, OPEN_END
from tests.timeseries.strategies import (
    NARROW_S,
    VALUES,
    bounds,
    raw_batches,
    raw_profiles,
    readonly,
)

# Compensated kernel sums against plain numpy sums of at most ~40 terms of |x| <= 1e3.
SUM_ATOL = 1e-9
SUM_RTOL = 1e-12


def span_of(t, ends):
    """A time span that covers the batch, for drawing bounds."""
    finite = ends[ends != OPEN_END]
    return int(max([NARROW_S, *(t + 1), *(finite + 1)]))


@pytest.mark.parametrize("op", sorted(_kernels.MERGE))
@given(a=raw_profiles(min_size=0), b=raw_profiles(min_size=0), lohi=bounds(), fill=VALUES)
def test_merge_matches_reference(op, a, b, lohi, fill):
    args = (*a, *b, *lohi, fill)
    t, v = _kernels.MERGE[op](*args)
    t_ref, v_ref = _reference.MERGE[op](*args)
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(v, v_ref)


@given(p=raw_profiles(min_size=0, max_size=10), tol=st.sampled_from([0.0, 0.5, 3.0]))
def test_compress_matches_reference(p, tol):
    t, v, _ = p
    t_out, v_out = _kernels.compress(t, v, tol)
    t_ref, v_ref = _reference.compress(t, v, tol)
    np.testing.assert_array_equal(t_out, t_ref)
    np.testing.assert_array_equal(v_out, v_ref)


@given(
    batch=raw_batches(),
    start_s=st.integers(-20, NARROW_S),
    step_s=st.integers(1, 60),
    n_slots=st.integers(1, 8),
    how=st.sampled_from([MEAN, MIN, MAX]),
    fill=st.one_of(st.none(), VALUES),
)
def test_resample_batch_matches_reference(batch, start_s, step_s, n_slots, how, fill):
    args = (*batch, start_s, step_s, how, 0.0 if fill is None else fill, fill is not None)
    out = np.empty((batch[2].size - 1, n_slots))
    _kernels.resample_batch(*args, out)
    out_ref = np.empty_like(out)
    _reference.resample_batch(*args, out_ref)
    np.testing.assert_allclose(out, out_ref, rtol=SUM_RTOL, atol=SUM_ATOL)


@given(
    keys=st.lists(st.one_of(st.integers(0, 50), st.integers(0, 2**62)), max_size=60).map(
        lambda k: readonly(k, np.int64)
    )
)
def test_radix_argsort_matches_reference(keys):
    np.testing.assert_array_equal(_kernels.radix_argsort(keys), _reference.radix_argsort(keys))


@given(batch=raw_batches(), data=st.data())
def test_event_ranks_match_reference(batch, data):
    t, _, offsets, ends = batch
    lo, hi = data.draw(bounds(span_of(t, ends)))
    ranks, times = _kernels.event_ranks(t, offsets, ends, lo, hi)
    ranks_ref, times_ref = _reference.event_ranks(t, offsets, ends, lo, hi)
    np.testing.assert_array_equal(ranks, ranks_ref)
    np.testing.assert_array_equal(times, times_ref)


@given(batch=raw_batches(), fill=VALUES, data=st.data())
def test_nary_sum_matches_reference(batch, fill, data):
    lo, hi = data.draw(bounds(span_of(batch[0], batch[3])))
    t, v = _kernels.nary_sum(*batch, fill, lo, hi)
    t_ref, v_ref = _reference.nary_sum(*batch, fill, lo, hi)
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_allclose(v, v_ref, rtol=SUM_RTOL, atol=SUM_ATOL)


@pytest.mark.parametrize("sign", [1.0, -1.0])
@given(batch=raw_batches(), fill=VALUES, data=st.data())
def test_nary_min_matches_reference(sign, batch, fill, data):
    lo, hi = data.draw(bounds(span_of(batch[0], batch[3])))
    t, v = _kernels.nary_min(*batch, fill, lo, hi, sign)
    t_ref, v_ref = _reference.nary_min(*batch, fill, lo, hi, sign)
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(v, v_ref)


def test_nary_sum_is_exactly_zero_where_every_term_is():
    # 0.1 on [0, 20) plus 0.2 on [10, 30): a plain running sum of the changes
    # leaves 2.8e-17 on [30, 40), where nothing is non-zero; the kernel returns
    # an exact 0 there, and correctly rounded sums elsewhere.
    args = (
        readonly([0, 10], np.int64),
        readonly([0.1, 0.2], np.float64),
        readonly([0, 1, 2], np.int64),
        readonly([20, 30], np.int64),
        0.0,
        0,
        40,
    )
    _, plain = _reference.nary_sum(*args)
    _, values = _kernels.nary_sum(*args)
    assert plain[-1] != 0.0
    assert values[-1] == 0.0
    np.testing.assert_array_equal(values, [0.1, 0.1 + 0.2, 0.2, 0.0])


def test_kernels_accept_an_empty_batch():
    empty_t = readonly([], np.int64)
    empty_v = readonly([], np.float64)
    offsets = readonly([0], np.int64)
    ends = readonly([], np.int64)
    t, v = _kernels.nary_sum(empty_t, empty_v, offsets, ends, 0.0, 0, 10)
    assert t.size == v.size == 0
    t, v = _kernels.nary_min(empty_t, empty_v, offsets, ends, 0.0, 0, 10, 1.0)
    assert t.size == v.size == 0
