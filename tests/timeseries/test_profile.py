"""Profile: constructors, evaluation, time operations, energy, resampling, equality."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from fera_flex import units
from fera_flex.errors import InputError
from fera_flex.timeseries import Profile, TimeGrid

UTC = timezone.utc
T0 = datetime(2024, 3, 1, tzinfo=UTC)
T0_S = 1709251200
HOUR = timedelta(hours=1)
ENERGY_RTOL = 1e-12


@pytest.fixture
def step():
    """11 kW for an hour, then 3.7 kW for half an hour."""
    return Profile([T0_S, T0_S + 3600], [11.0, 3.7], end_s=T0_S + 5400)


def test_arrays_are_copied_read_only_and_contiguous():
    t = np.array([0, 10, 20])
    v = np.array([1.0, 2.0, 3.0])
    p = Profile(t, v, end_s=30)
    t[0] = -5
    v[0] = 99.0
    assert p.t_s[0] == 0
    assert p.values[0] == 1.0
    for array in (p.t_s, p.values):
        assert not array.flags.writeable
        assert array.flags.c_contiguous
    assert p.t_s.dtype == np.int64
    assert p.values.dtype == np.float64
    with pytest.raises(AttributeError):
        p._v = v


def test_constructors_agree(step):
    pairs = [(T0, 11.0), (T0 + HOUR, 3.7)]
    assert Profile.from_pairs(pairs, end=T0 + 1.5 * HOUR) == step
    assert Profile.from_pairs(step.to_pairs(), end=step.end) == step
    grid = TimeGrid(T0, 1800, 3)
    assert Profile.from_grid(grid, [11.0, 11.0, 3.7]) == step
    assert Profile.constant(5.0, T0, T0 + HOUR) == Profile([T0_S], [5.0], end_s=T0_S + 3600)
    assert step.start == T0
    assert step.end == T0 + 1.5 * HOUR
    assert step.start_s == T0_S
    assert step.end_s == T0_S + 5400
    assert len(step) == 2


def test_open_end():
    p = Profile.constant(7.4, T0)
    assert p.open_ended
    assert p.end_s is None
    assert p.end is None
    assert p.value_at(T0 + timedelta(days=10_000)) == 7.4
    assert "end=None" in repr(p)


def test_value_at_scalar_array_and_outside(step):
    assert step.value_at(T0) == 11.0
    assert step.value_at(T0_S + 3599) == 11.0
    assert step.value_at(T0 + HOUR) == 3.7
    assert np.isnan(step.value_at(T0_S - 1))
    assert np.isnan(step.value_at(T0_S + 5400))
    values = step.value_at(np.array([T0_S - 1, T0_S, T0_S + 3600, T0_S + 5400]))
    np.testing.assert_array_equal(values, [np.nan, 11.0, 3.7, np.nan])
    np.testing.assert_array_equal(step.value_at([T0, T0 + HOUR]), [11.0, 3.7])


def test_energy_and_cumulative_energy(step):
    assert step.energy_kwh() == pytest.approx(11.0 + 3.7 / 2, rel=ENERGY_RTOL)
    assert step.energy_kwh(T0 + HOUR / 2, T0 + HOUR) == pytest.approx(5.5, rel=ENERGY_RTOL)
    assert step.energy_kwh(T0, T0) == 0.0
    t_s, energy_kwh = step.cumulative_energy()
    np.testing.assert_array_equal(t_s, [T0_S, T0_S + 3600, T0_S + 5400])
    np.testing.assert_allclose(energy_kwh, [0.0, 11.0, 12.85], rtol=ENERGY_RTOL)
    t_s, energy_kwh = Profile.constant(2.0, 0).cumulative_energy(end=7200)
    np.testing.assert_array_equal(t_s, [0, 7200])
    np.testing.assert_allclose(energy_kwh, [0.0, 4.0], rtol=ENERGY_RTOL)


def test_energy_bounds_must_lie_in_the_support(step):
    with pytest.raises(InputError, match="open-ended"):
        Profile.constant(1.0, 0).energy_kwh()
    with pytest.raises(InputError, match="before the start"):
        step.energy_kwh(start=T0_S - 1)
    with pytest.raises(InputError, match="after the end"):
        step.energy_kwh(end=T0_S + 5401)
    with pytest.raises(InputError, match="before start"):
        step.energy_kwh(T0_S + 60, T0_S)
    with pytest.raises(InputError, match="open-ended"):
        Profile.constant(1.0, 0).cumulative_energy()


def test_shift_and_slice(step):
    later = step.shift(HOUR)
    assert later.start == T0 + HOUR
    assert later.end == T0 + 2.5 * HOUR
    np.testing.assert_array_equal(later.values, step.values)
    assert step.shift(-3600).shift(3600) == step
    assert Profile.constant(1.0, 0).shift(10).open_ended
    part = step.slice(T0 + HOUR / 2, T0 + 1.25 * HOUR)
    assert part.to_pairs() == [(T0 + HOUR / 2, 11.0), (T0 + HOUR, 3.7)]
    assert part.end == T0 + 1.25 * HOUR
    # bounds beyond the support are clipped to it
    assert step.slice(T0_S - 100, T0_S + 10**6) == step
    with pytest.raises(InputError, match="nothing"):
        step.slice(T0_S + 6000)


def test_arithmetic_with_scalars(step):
    np.testing.assert_array_equal((step + 1).values, [12.0, 4.7])
    np.testing.assert_array_equal((1 + step).values, [12.0, 4.7])
    np.testing.assert_array_equal((step - 1).values, [10.0, 2.7])
    np.testing.assert_array_equal((20 - step).values, [9.0, 16.3])
    np.testing.assert_array_equal((step * 2).values, [22.0, 7.4])
    np.testing.assert_array_equal((np.float64(2) * step).values, [22.0, 7.4])
    np.testing.assert_array_equal((-step).values, [-11.0, -3.7])
    np.testing.assert_array_equal(step.minimum(5.0).values, [5.0, 3.7])
    np.testing.assert_array_equal(step.maximum(5.0).values, [11.0, 5.0])
    assert sum([step, step]) == step * 2
    with pytest.raises(TypeError):
        step + "1"


def test_binary_operations_on_the_common_support(step):
    load = Profile([T0_S + 1800], [2.0], end_s=T0_S + 7200)
    total = step + load
    assert total.start_s == T0_S + 1800
    assert total.end_s == T0_S + 5400
    np.testing.assert_array_equal(total.values, [13.0, 5.7])
    stacked = step.add(load, fill=0.0)
    assert (stacked.start_s, stacked.end_s) == (T0_S, T0_S + 7200)
    np.testing.assert_array_equal(stacked.values, [11.0, 13.0, 5.7, 2.0])
    np.testing.assert_array_equal(step.sub(load, fill=0.0).values, [11.0, 9.0, 3.7 - 2.0, -2.0])
    np.testing.assert_array_equal(step.mul(load).values, [22.0, 7.4])
    np.testing.assert_array_equal(step.minimum(load, fill=1.0).values, [1.0, 2.0, 2.0, 1.0])
    np.testing.assert_array_equal(step.maximum(load).values, [11.0, 3.7])


def test_disjoint_supports_need_fill(step):
    later = Profile.constant(1.0, T0_S + 6000, T0_S + 7000)
    with pytest.raises(InputError, match="do not overlap"):
        step + later
    gap = step.add(later, fill=0.0)
    np.testing.assert_array_equal(gap.t_s - T0_S, [0, 3600, 5400, 6000])
    np.testing.assert_array_equal(gap.values, [11.0, 3.7, 0.0, 1.0])


def test_clip(step):
    np.testing.assert_array_equal(step.clip(4.0, 10.0).values, [10.0, 4.0])
    np.testing.assert_array_equal(step.clip(hi=6.0).values, [6.0, 3.7])
    ceiling = Profile([T0_S, T0_S + 1800], [20.0, 7.0], end_s=T0_S + 5400)
    np.testing.assert_array_equal(step.clip(0.0, ceiling).values, [11.0, 7.0, 3.7])
    with pytest.raises(InputError, match="must not exceed hi"):
        step.clip(5.0, 4.0)
    with pytest.raises(InputError, match="must not exceed hi"):
        step.clip(ceiling, 10.0)


def test_resample_mean_min_max_on_a_coarser_grid(step):
    grid = TimeGrid(T0, 2700, 2)  # 45-minute slots
    mean = step.resample(grid)
    np.testing.assert_allclose(mean.values, [11.0, (11.0 + 2 * 3.7) / 3], rtol=ENERGY_RTOL)
    assert mean.energy_kwh() == pytest.approx(step.energy_kwh(), rel=ENERGY_RTOL)
    np.testing.assert_array_equal(step.resample(grid, "min").values, [11.0, 3.7])
    np.testing.assert_array_equal(step.resample(grid, "max").values, [11.0, 11.0])


def test_resample_partial_coverage(step):
    grid = TimeGrid(T0 - HOUR, HOUR, 4)
    inside = step.resample(grid)
    assert (inside.start, inside.end) == (T0, T0 + HOUR)  # only the fully covered slot
    np.testing.assert_array_equal(inside.values, [11.0])
    filled = step.resample(grid, fill=0.0)
    np.testing.assert_allclose(filled.values, [0.0, 11.0, 3.7 / 2, 0.0], rtol=ENERGY_RTOL)
    assert filled.end == grid.end
    np.testing.assert_array_equal(step.resample(grid, "max", fill=0.0).values, [0, 11, 3.7, 0])
    with pytest.raises(InputError, match="no slot entirely inside"):
        step.resample(TimeGrid(T0 + HOUR, 3600, 1))
    with pytest.raises(InputError, match="does not overlap"):
        step.resample(TimeGrid(T0 + 2 * HOUR, 900, 4), fill=0.0)


def test_resample_onto_own_grid_is_identity():
    grid = TimeGrid(T0, 900, 96)
    values = np.random.default_rng(7).uniform(-11, 22, 96)
    p = Profile.from_grid(grid, values)
    np.testing.assert_array_equal(p.resample(grid).values, values)


def test_compress_equality_and_hash():
    a = Profile([0, 10, 20, 30], [1.0, 1.0, -0.0, 0.0], end_s=40)
    b = Profile([0, 20], [1.0, 0.0], end_s=40)
    assert a == b
    assert hash(a) == hash(b)
    np.testing.assert_array_equal(a.compress().t_s, [0, 20])
    assert a != Profile([0, 20], [1.0, 0.0], end_s=41)
    assert a != Profile([0, 20], [1.0, 0.0])
    assert a != Profile([1, 20], [1.0, 0.0], end_s=40)
    assert a != b + 1e-15
    assert a.equals(b + 1e-15, tol=1e-12)
    assert a != "a"
    near = Profile([0, 10, 20], [1.0, 1.2, 1.35], end_s=30).compress(tol=0.25)
    np.testing.assert_array_equal(near.t_s, [0, 20])
    np.testing.assert_array_equal(near.values, [1.0, 1.35])


def test_repr(step):
    assert repr(step) == (
        "Profile(periods=2, start='2024-03-01T00:00:00+00:00', "
        "end='2024-03-01T01:30:00+00:00', min=3.7, max=11.0)"
    )


def test_current_round_trip_uses_units(step):
    current = step.to_current_a(230.0, phases=3)
    np.testing.assert_allclose(
        current.values, units.current_a_from_kw(step.values, 230.0, 3), rtol=ENERGY_RTOL
    )
    back = Profile.from_current_a(current, 230.0, phases=3)
    assert back.equals(step, tol=1e-12)
    with pytest.raises(InputError, match="phases"):
        step.to_current_a(230.0, phases=4)
