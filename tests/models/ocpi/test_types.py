"""OCPI primitive types: DateTime, CiString, string, number, int, boolean."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from fera_flex.models import ocpi
from fera_flex.models.ocpi._types import CiString, DateTime, Int, Number, OneDecimal, String

DT = TypeAdapter(DateTime)


@pytest.mark.parametrize(
    ("text", "expected", "written"),
    [
        ("2015-06-29T20:39:09Z", datetime(2015, 6, 29, 20, 39, 9), "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", datetime(2015, 6, 29, 20, 39, 9), "2015-06-29T20:39:09Z"),
        (
            "2016-12-29T17:45:09.2Z",
            datetime(2016, 12, 29, 17, 45, 9, 200_000),
            "2016-12-29T17:45:09.2Z",
        ),
        (
            "2018-01-01T01:08:01.123Z",
            datetime(2018, 1, 1, 1, 8, 1, 123_000),
            "2018-01-01T01:08:01.123Z",
        ),
        (
            "2018-01-01T01:08:01.123",
            datetime(2018, 1, 1, 1, 8, 1, 123_000),
            "2018-01-01T01:08:01.123Z",
        ),
    ],
)
def test_datetime_forms_of_the_spec(text, expected, written):
    value = DT.validate_python(text)
    assert value == expected.replace(tzinfo=timezone.utc)
    assert value.tzinfo is timezone.utc
    assert DT.dump_json(value).decode() == f'"{written}"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2015-06-29T20:39:09+00:00", "offsets such as '+00:00' are not allowed"),
        ("2015-06-29T22:39:09+02:00", "offsets"),
        ("2015-06-29 20:39:09Z", "expected YYYY-MM-DDThh:mm:ss"),
        ("2015-6-29T20:39:09Z", "expected YYYY-MM-DDThh:mm:ss"),
        ("1970-1-1T00:00:00Z", "expected YYYY-MM-DDThh:mm:ss"),
        ("2015-02-30T20:39:09Z", "not a valid calendar date"),
        ("2015-06-29T20:39:09.12345Z", "string(25)"),
        ("2015-06-29T20:39:09.12345", "at most 4 fractional"),
        ("", "expected"),
    ],
)
def test_malformed_datetime_rejected(text, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        DT.validate_python(text)


def test_python_datetimes():
    cet = timezone(timedelta(hours=1))
    assert DT.validate_python(datetime(2024, 1, 1, 1, 0, tzinfo=cet)) == datetime(
        2024, 1, 1, 0, 0, tzinfo=timezone.utc
    )
    with pytest.raises(ValidationError, match="timezone-naive"):
        DT.validate_python(datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="at most 4 fractional"):
        DT.validate_python(datetime(2024, 1, 1, microsecond=123_456, tzinfo=timezone.utc))
    with pytest.raises(ValidationError, match="must be a string"):
        DT.validate_python(1_700_000_000)


class Sample(BaseModel):
    ci: CiString(5)
    text: String(5)
    number: Number
    count: Int
    limit: OneDecimal | None = None


GOOD = {"ci": "ABC", "text": "Malmö", "number": 1.5, "count": 3}


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("ci", "ABCDEF", "string_too_long"),
        ("ci", "Malmö", "value_error"),  # not ASCII
        ("ci", "A\tB", "value_error"),
        ("ci", 12, "string_type"),
        ("text", "abcdef", "string_too_long"),
        ("text", "a\nb", "value_error"),
        ("number", "1.5", "float_type"),
        ("number", True, "float_type"),
        ("number", float("nan"), "finite_number"),
        ("count", 1.5, "int_type"),
        ("count", "3", "int_type"),
        ("count", False, "int_type"),
        ("limit", 8.15, "value_error"),
    ],
)
def test_scalar_rejections_name_the_field(field, value, error_type):
    with pytest.raises(ValidationError) as info:
        Sample.model_validate({**GOOD, field: value})
    (error,) = info.value.errors()
    assert error["loc"] == (field,)
    assert error["type"] == error_type


def test_one_decimal_accepts_values_with_one_decimal():
    assert Sample.model_validate({**GOOD, "limit": 8.1}).limit == 8.1
    assert Sample.model_validate({**GOOD, "limit": 32}).limit == 32


def test_ci_equal():
    assert ocpi.ci_equal("Loc1", "LOC1")
    assert not ocpi.ci_equal("LOC1", "LOC2")


def test_connector_type_is_case_sensitive():
    assert ocpi.ConnectorType("IEC_60309_2_single_16").value == "IEC_60309_2_single_16"
    with pytest.raises(ValueError, match="IEC_60309_2_SINGLE_16"):
        ocpi.ConnectorType("IEC_60309_2_SINGLE_16")
