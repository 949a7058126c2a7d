"""The fused per-cell kernels against their numpy references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.scheduling._cell_passes import (
    CELL_KINDS,
    cell_checks,
    cell_mask,
    charge_pairs,
    charge_pairs_reference,
    clipped_power,
    clipped_power_reference,
    last_charging_slot,
    last_charging_slot_reference,
    scale_rows,
    scale_rows_reference,
    summed_power,
    summed_power_reference,
)


def _cells(seed, n=7, n_slots=9):
    """Random power and limits with every kind of violation planted here and there."""
    rng = np.random.default_rng(seed)

    def sparse(scale, share):
        return np.where(rng.random((n, n_slots)) < share, rng.uniform(0, scale, (n, n_slots)), 0.0)

    p = sparse(10.0, 0.6)
    d = sparse(5.0, 0.2 * (seed % 3))
    if seed % 4 == 0:
        p[rng.integers(n), rng.integers(n_slots)] = -1e-3
    presence = (rng.random((n, n_slots)) < 0.8).astype(float)
    p_max = np.where(rng.random((n, n_slots)) < 0.9, 11.0, rng.uniform(0, 11.0, (n, n_slots)))
    d_max = np.where(rng.random((n, n_slots)) < 0.5, 5.0, 0.0)
    p_min = np.where(rng.random(n) < 0.5, rng.uniform(0, 6.0, n), 0.0)
    return p, d, presence, p_max, d_max, p_min, 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_cell_checks_find_a_kind_exactly_where_its_mask_holds(seed):
    cells = _cells(seed)
    found = cell_checks(*cells)
    expected = [bool(cell_mask(kind, *cells).any()) for kind in CELL_KINDS]
    assert found.tolist() == expected


def test_a_clean_plan_finds_nothing_and_one_cell_over_is_found():
    p = np.full((3, 4), 2.0)
    zeros = np.zeros((3, 4))
    cells = [p, zeros, np.ones((3, 4)), np.full((3, 4), 2.0), zeros, np.zeros(3), 1e-9]
    assert not cell_checks(*cells).any()
    p[2, 3] = 2.0 + 2e-9
    assert [k for k, hit in zip(CELL_KINDS, cell_checks(*cells), strict=True) if hit] == [
        "power_max"
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=12, max_size=12),
    st.lists(st.floats(min_value=0, allow_infinity=True), min_size=12, max_size=12),
    st.sampled_from([0.0, 1e-6, 1.0]),
)
def test_clipped_power_equals_numpy(power, upper, dust):
    power, upper = np.reshape(power, (3, 4)), np.reshape(upper, (3, 4))
    np.testing.assert_array_equal(
        clipped_power(power, upper, dust), clipped_power_reference(power, upper, dust)
    )


@pytest.mark.parametrize("seed", range(20))
def test_last_charging_slot_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    p_min = np.where(rng.random(30) < 0.5, 4.0, 0.0)
    charge = np.where(rng.random((30, 12)) < 0.3, rng.choice([2.0, 4.0, 7.0], (30, 12)), 0.0)
    charge[:3] = 0.0  # rows that charge nowhere
    charge[3, :] = 4.0  # a row at its rate everywhere: nothing above its floor
    p_min[3] = 4.0
    rows = rng.permutation(30)[:20]
    np.testing.assert_array_equal(
        last_charging_slot(charge, p_min, rows), last_charging_slot_reference(charge, p_min, rows)
    )


@pytest.mark.parametrize("seed", range(10))
def test_scale_rows_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    power = rng.uniform(0, 11, (25, 8))
    rows = np.sort(rng.permutation(25)[: rng.integers(0, 25)])
    group = rng.integers(0, 3, rows.size)
    share = rng.uniform(0, 1, (3, 8))
    kernel, twin = power.copy(), power.copy()
    scale_rows(kernel, rows, group, share)
    scale_rows_reference(twin, rows, group, share)
    np.testing.assert_array_equal(kernel, twin)


def test_scale_rows_refuses_an_array_it_cannot_change_in_place():
    with pytest.raises(ValueError, match="C-contiguous"):
        scale_rows(np.ones((4, 3)).T, np.arange(2), np.zeros(2, dtype=int), np.ones((1, 4)))


@pytest.mark.parametrize("seed", range(12))
def test_charge_pairs_equal_numpy(seed):
    rng = np.random.default_rng(seed)
    n, n_slots = 15, 10
    p_max = np.where(rng.random((n, n_slots)) < 0.6, rng.choice([3.7, 11.0, 22.0], (n, n_slots)), 0)
    per_session = seed % 2 == 1  # a cost table per session, or one row per profile kind
    table = rng.normal(0.3, 0.1, (n if per_session else 3, n_slots))
    row = np.arange(n) if per_session else rng.integers(0, 3, n)
    extra = np.where(rng.random(n) < 0.5, 0.05, 0.0)
    flat_kw = rng.uniform(0, 15, n)
    kernel = charge_pairs(p_max, table, row, extra, flat_kw)
    twin = charge_pairs_reference(p_max, table, row, extra, flat_kw)
    assert len(kernel) == len(twin) == 7
    for got, expected in zip(kernel, twin, strict=True):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", range(10))
def test_summed_power_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    shape = (9, 7)
    cell = rng.integers(0, 63, rng.integers(0, 120))  # repeated cells: segments of one pair
    power = rng.uniform(0, 6, cell.size)
    p_max = np.where(rng.random(shape) < 0.7, 11.0, rng.uniform(0, 4, shape))
    np.testing.assert_array_equal(
        summed_power(shape, cell, power, p_max), summed_power_reference(shape, cell, power, p_max)
    )
