import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex.models.fera import TimeSeries

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def iso(t):
    return t.isoformat().replace("+00:00", "Z")


@st.composite
def period_series(draw):
    n = draw(st.integers(1, 12))
    t = draw(st.integers(0, 10**6))
    periods = []
    for _ in range(n):
        t += draw(st.integers(0, 3600))  # gap (possibly none)
        length = draw(st.integers(1, 7200))
        value = draw(st.floats(-1e6, 1e6, allow_nan=False))
        periods.append(
            {
                "start": iso(T0 + timedelta(seconds=t)),
                "end": iso(T0 + timedelta(seconds=t + length)),
                "value": value,
            }
        )
        t += length
    return {"periods": periods}


@given(period_series())
def test_periods_round_trip(raw):
    series = TimeSeries.model_validate(raw)
    assert json.loads(series.model_dump_json()) == raw


@given(
    st.integers(1, 3600), st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50)
)
def test_regular_form_and_its_periods_agree(step_s, values):
    series = TimeSeries.regular(T0, step_s, values)
    starts, ends, array = series.to_arrays()
    p_starts, p_ends, p_values = series.to_periods().to_arrays()
    np.testing.assert_array_equal(starts, p_starts)
    np.testing.assert_array_equal(ends, p_ends)
    np.testing.assert_array_equal(array, p_values)
    assert series.covers(series.start_s, series.end_s)
    assert not series.covers(series.start_s - 1, series.end_s)
    assert not series.covers(series.start_s, series.end_s + 1)


def test_covers_detects_gaps():
    raw = {
        "periods": [
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z", "value": 1},
            {"start": "2026-03-02T02:00:00Z", "end": "2026-03-02T03:00:00Z", "value": 2},
        ]
    }
    series = TimeSeries.model_validate(raw)
    t0 = series.start_s
    assert series.covers(t0, t0 + 3600)
    assert series.covers(t0 + 7200, t0 + 10800)
    assert not series.covers(t0, t0 + 10800)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"start": "2026-03-02T00:00:00Z", "step_s": 900}, "missing ['values']"),
        ({"start": "2026-03-02T00:00:00", "step_s": 900, "values": [1]}, "timezone"),
        ({"start": "2026-03-02T00:00:00Z", "step_s": 0, "values": [1]}, "step_s"),
        ({"start": "2026-03-02T00:00:00Z", "step_s": 900, "values": []}, "values"),
        ({"start": "2026-03-02T00:00:00Z", "step_s": 900, "values": [float("nan")]}, "finite"),
        ({"start": "2026-03-02T00:00:00Z", "step_s": 900, "values": ["1"]}, "values"),
        (
            {"start": "2026-03-02T00:00:00.5Z", "step_s": 900, "values": [1]},
            "whole number of seconds",
        ),
        ({"periods": []}, "periods"),
        (
            {
                "periods": [
                    {"start": "2026-03-02T01:00:00Z", "end": "2026-03-02T00:00:00Z", "value": 1}
                ]
            },
            "must be after start",
        ),
        (
            {
                "periods": [
                    {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T02:00:00Z", "value": 1},
                    {"start": "2026-03-02T01:00:00Z", "end": "2026-03-02T03:00:00Z", "value": 2},
                ]
            },
            "periods[1] starts",
        ),
        (
            {
                "periods": [
                    {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z", "value": 1}
                ],
                "step_s": 900,
            },
            "not both",
        ),
        ({"start": "2026-03-02T00:00:00Z", "step_s": 900, "values": [1], "unit": "kW"}, "unit"),
    ],
)
def test_invalid_series_rejected(raw, fragment):
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        TimeSeries.model_validate(raw)


def test_check_range():
    series = TimeSeries.regular(T0, 60, [0.0, -1.0])
    with pytest.raises(ValueError, match=re.escape("load_kw: value -1.0 is below 0")):
        series.check_range("load_kw", low=0.0)
    series.check_range("x", low=-1.0, high=0.0)
