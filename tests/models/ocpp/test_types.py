"""OCPP 2.0.1 primitive types: dateTime, integer, decimal, string, and the naming rules."""

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from pydantic import TypeAdapter, ValidationError

from fera_flex.models import ocpp
from fera_flex.models.ocpp._types import (
    INT32_MAX,
    INT32_MIN,
    DateTime,
    Integer,
    Number,
    OneDecimal,
    String,
    format_datetime,
)
from tests.models.ocpp.strategies import datetimes

DATETIME = TypeAdapter(DateTime)
INTEGER = TypeAdapter(Integer)
NUMBER = TypeAdapter(Number)
ONE_DECIMAL = TypeAdapter(OneDecimal)
UTC = timezone.utc


# --- dateTime ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T08:30:00Z", datetime(2024, 3, 1, 8, 30, tzinfo=UTC)),
        ("2024-03-01t08:30:00z", datetime(2024, 3, 1, 8, 30, tzinfo=UTC)),
        ("2024-03-01T10:30:00+02:00", datetime(2024, 3, 1, 8, 30, tzinfo=UTC)),
        ("2024-03-01T00:30:00-08:00", datetime(2024, 3, 1, 8, 30, tzinfo=UTC)),
        ("2024-03-01T08:30:00.5Z", datetime(2024, 3, 1, 8, 30, 0, 500000, tzinfo=UTC)),
        ("2024-03-01T08:30:00.123Z", datetime(2024, 3, 1, 8, 30, 0, 123000, tzinfo=UTC)),
        ("2024-03-01T08:30:00.120000Z", datetime(2024, 3, 1, 8, 30, 0, 120000, tzinfo=UTC)),
    ],
)
def test_datetime_accepts_rfc3339_with_offset_and_stores_utc(text, expected):
    value = DATETIME.validate_python(text)
    assert value == expected
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-03-01T08:30:00", "no UTC offset"),
        ("2024-03-01T08:30:00.5", "no UTC offset"),
        (datetime(2024, 3, 1, 8, 30), "timezone-naive"),
        ("2024-03-01T08:30:00.1234Z", "at most 3 fractional-second digits"),
        (datetime(2024, 3, 1, 8, 30, 0, 1, tzinfo=UTC), "at most 3 fractional-second digits"),
        ("2024-03-01 08:30:00Z", "not an RFC 3339 dateTime"),
        ("2024-03-01", "not an RFC 3339 dateTime"),
        ("2024-03-01T08:30:00+0200", "not an RFC 3339 dateTime"),
        ("2024-03-01T08:30:00+24:00", "offset out of range"),
        ("2024-02-30T08:30:00Z", "not a valid calendar time"),
        ("2016-12-31T23:59:60Z", "not a valid calendar time"),
        (1709281800, "must be a string"),
    ],
)
def test_datetime_rejects_naive_and_malformed_values(value, reason):
    with pytest.raises(ValidationError, match=reason):
        DATETIME.validate_python(value)


def test_datetime_is_written_in_utc_with_z():
    value = datetime(2024, 3, 1, 10, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert DATETIME.dump_python(DATETIME.validate_python(value), mode="json") == (
        "2024-03-01T08:30:00.25Z"
    )
    assert format_datetime(datetime(2024, 3, 1, 8, 30, tzinfo=UTC)) == "2024-03-01T08:30:00Z"


@given(datetimes)
def test_datetime_text_round_trip(value):
    text = format_datetime(value)
    assert DATETIME.validate_python(text) == value
    assert format_datetime(DATETIME.validate_python(text)) == text


def test_naive_datetime_rejected_on_a_model_field_naming_it():
    with pytest.raises(ValidationError) as info:
        ocpp.NotifyEVChargingScheduleRequest.model_validate(
            {
                "timeBase": "2024-03-01T08:30:00",
                "evseId": 1,
                "chargingSchedule": {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}],
                },
            }
        )
    (error,) = info.value.errors()
    assert error["loc"] == ("timeBase",)
    assert "no UTC offset" in error["msg"]


# --- integer, decimal, string -----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -5, INT32_MIN, INT32_MAX])
def test_integer_accepts_32_bit_json_integers(value):
    assert INTEGER.validate_python(value) == value
    assert INTEGER.validate_json(str(value)) == value


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None, INT32_MAX + 1, INT32_MIN - 1])
def test_integer_rejects_non_integers_and_out_of_range(value):
    with pytest.raises(ValidationError):
        INTEGER.validate_python(value)


@pytest.mark.parametrize("text", ["1.0", '"1"', "true", "1e3"])
def test_integer_rejects_non_integer_json(text):
    with pytest.raises(ValidationError):
        INTEGER.validate_json(text)


@pytest.mark.parametrize("value", [0, 7, -2.5, 1e300])
def test_number_accepts_finite_json_numbers(value):
    assert NUMBER.validate_python(value) == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "1.5", True, None])
def test_number_rejects_non_finite_strings_and_booleans(value):
    with pytest.raises(ValidationError):
        NUMBER.validate_python(value)


@pytest.mark.parametrize("text", ["NaN", "Infinity", '"1.5"', "false"])
def test_number_rejects_non_numeric_json(text):
    with pytest.raises(ValidationError):
        NUMBER.validate_json(text)


@pytest.mark.parametrize("value", [8.1, 16, -3.7, 11000.0, 1e20])
def test_one_decimal_accepts_at_most_one_fractional_digit(value):
    assert ONE_DECIMAL.validate_python(value) == value


@pytest.mark.parametrize("value", [8.15, 0.1 + 0.2, 1 / 3, math.nan])
def test_one_decimal_rejects_more_fractional_digits(value):
    with pytest.raises(ValidationError):
        ONE_DECIMAL.validate_python(value)


def test_string_max_length_counts_characters():
    adapter = TypeAdapter(String(3))
    assert adapter.validate_python("€é😀") == "€é😀"
    with pytest.raises(ValidationError, match="at most 3 characters"):
        adapter.validate_python("abcd")
    with pytest.raises(ValidationError):
        adapter.validate_python(123)


# --- naming: camelCase on the wire, snake_case in Python --------------------------------------


def test_camel_case_on_the_wire_snake_case_attributes():
    period = ocpp.ChargingSchedulePeriod(start_period=0, limit=6.0, number_phases=1, phase_to_use=2)
    assert period.start_period == 0 and period.phase_to_use == 2
    assert period.model_dump(mode="json") == {
        "startPeriod": 0,
        "limit": 6.0,
        "numberPhases": 1,
        "phaseToUse": 2,
    }
    assert ocpp.to_json(period) == '{"startPeriod":0,"limit":6.0,"numberPhases":1,"phaseToUse":2}'
    by_alias = ocpp.ChargingSchedulePeriod.model_validate(
        {"startPeriod": 0, "limit": 6.0, "numberPhases": 1, "phaseToUse": 2}
    )
    assert by_alias == period


def test_irregular_wire_names_are_kept():
    dc = ocpp.DCChargingParameters(ev_max_current=200, ev_max_voltage=800, full_soc=90, bulk_soc=80)
    assert dc.model_dump(mode="json")["fullSoC"] == 90
    assert "bulkSoC" in dc.model_dump(mode="json")
    entry = ocpp.SalesTariffEntry(
        relative_time_interval=ocpp.RelativeTimeInterval(start=0), e_price_level=2
    )
    assert entry.model_dump(mode="json")["ePriceLevel"] == 2


def test_assignment_is_validated():
    period = ocpp.ChargingSchedulePeriod(start_period=0, limit=6.0)
    with pytest.raises(ValidationError, match="numberPhases"):
        period.phase_to_use = 2
    with pytest.raises(ValidationError):
        period.limit = "6"
