import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fera_flex import units
from fera_flex.errors import InputError

REL_TOL = 1e-12


def test_scalar_conversions():
    assert units.kw_from_w(7400) == 7.4
    assert units.w_from_kw(11.04) == pytest.approx(11040.0, rel=REL_TOL)
    assert units.kwh_from_wh(41120) == pytest.approx(41.12, rel=REL_TOL)
    assert units.wh_from_kwh(0.25) == 250.0
    assert units.kw_from_current_a(32, voltage_v=230, phases=1) == pytest.approx(7.36)
    assert units.kw_from_current_a(16, 230, 3, power_factor=0.95) == pytest.approx(10.488)


def test_arrays_keep_shape():
    current_a = np.array([[6.0, 16.0], [32.0, 0.0]])
    power_kw = units.kw_from_current_a(current_a, voltage_v=230.0, phases=3)
    assert power_kw.shape == (2, 2)
    np.testing.assert_allclose(power_kw[0], [4.14, 11.04], rtol=REL_TOL)


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1, 1000),
    st.sampled_from([1, 2, 3]),
    st.floats(0.01, 1),
)
def test_current_power_round_trip(power_kw, voltage_v, phases, power_factor):
    current = units.current_a_from_kw(power_kw, voltage_v, phases, power_factor)
    back = units.kw_from_current_a(current, voltage_v, phases, power_factor)
    assert back == pytest.approx(power_kw, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"voltage_v": 0}, "voltage_v"),
        ({"voltage_v": float("nan")}, "voltage_v"),
        ({"voltage_v": 230, "phases": 4}, "phases"),
        ({"voltage_v": 230, "phases": 3.0}, "phases"),
        ({"voltage_v": 230, "phases": True}, "phases"),
        ({"voltage_v": 230, "power_factor": 0}, "power_factor"),
        ({"voltage_v": 230, "power_factor": 1.2}, "power_factor"),
    ],
)
def test_bad_electrical_parameters_named(kwargs, field):
    with pytest.raises(InputError) as info:
        units.kw_from_current_a(16, **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("value", [float("inf"), np.array([1.0, np.nan]), "16", [1, "a"]])
def test_non_finite_or_non_numeric_rejected(value):
    with pytest.raises(InputError) as info:
        units.kw_from_w(value)
    assert info.value.field == "power_w"


@given(st.floats(-1e7, 1e7, allow_nan=False))
def test_floor_tenth_is_the_largest_tenth_not_above(value):
    floored = units.floor_tenth(value)
    assert floored <= value
    assert value - floored < 0.1 + 1e-9
    assert round(floored, 1) == floored


@given(st.integers(0, 10**5).map(lambda tenths: tenths / 10), st.sampled_from([1, 2, 3]))
def test_exact_limit_conversion(amps, phases):
    watts = units.limit_in_unit(amps, "A", "W", 230.0, phases)
    assert watts == units.exact_decimal(amps) * 230 * phases
    assert units.limit_in_unit(float(watts), "W", "A", 230.0, phases) == units.exact_decimal(amps)
    assert units.floor_tenth(watts) == float(watts)  # one decimal times 230: still one decimal


def test_limit_in_unit_rejects_bad_units():
    with pytest.raises(InputError) as info:
        units.limit_in_unit(16, "kW", "A", 230.0, 3)
    assert info.value.field == "source"
