"""Property tests: valid objects round-trip; single invalid values are rejected by field."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex.models import ocpi
from tests.models.ocpi.strategies import MODELS


@pytest.mark.parametrize("name", sorted(MODELS))
def test_valid_objects_round_trip(name):
    model, strategy = MODELS[name]

    @given(strategy)
    def check(raw):
        parsed = model.model_validate(raw)
        assert json.loads(parsed.model_dump_json()) == raw
        assert json.loads(json.dumps(parsed.model_dump(mode="json"))) == raw
        assert model.model_validate_json(json.dumps(raw)) == parsed

    check()


# (model name, path to a field, invalid values for it)
TOO_LONG = {
    "CiString(2)": "NLD",
    "CiString(3)": "ABCD",
    "CiString(36)": "x" * 37,
    "string(45)": "é" * 46,
    "string(255)": "é" * 256,
}
BAD_DATETIMES = ["2015-13-01T00:00:00Z", "yesterday", "2015-06-29T20:39:09+01:00", 1435610349]
CORRUPTIONS = [
    ("Location", ("country_code",), [TOO_LONG["CiString(2)"], 31, "N\u00e9"]),
    ("Location", ("party_id",), [TOO_LONG["CiString(3)"]]),
    ("Location", ("id",), [TOO_LONG["CiString(36)"], None]),
    ("Location", ("city",), [TOO_LONG["string(45)"], "Gent\r\n"]),
    ("Location", ("address",), [TOO_LONG["string(255)"]]),
    ("Location", ("publish",), ["true", 1, None]),
    ("Location", ("parking_type",), ["ON_THE_MOON", "on_street"]),
    ("Location", ("last_updated",), BAD_DATETIMES),
    ("Location", ("coordinates", "latitude"), [51.0, "51.0", "151.047599"]),
    ("Session", ("kwh",), [-0.001, "12", None, True]),
    ("Session", ("status",), ["DONE", "active"]),
    ("Session", ("start_date_time",), BAD_DATETIMES),
    ("Session", ("cdr_token", "type"), ["CARD"]),
    ("Session", ("cdr_token", "uid"), [TOO_LONG["CiString(36)"]]),
    ("ChargingPreferences", ("energy_need",), [-1.0, "20"]),
    ("ChargingPreferences", ("profile_type",), ["CHEAPEST", None]),
    ("ChargingPreferences", ("departure_time",), BAD_DATETIMES),
    ("ChargingPreferences", ("discharge_allowed",), ["yes", 0]),
    ("Token", ("whitelist",), ["SOMETIMES"]),
    ("Token", ("valid",), ["false"]),
    ("Tariff", ("elements",), [[], None]),
    ("Tariff", ("currency",), ["EURO", 978]),
    ("CDR", ("total_energy",), ["1", None]),
    ("CDR", ("total_time",), ["1"]),
    ("Connector", ("max_voltage",), [-230, 230.5, "230"]),
    ("Connector", ("max_amperage",), [-1, 16.5]),
    ("Connector", ("power_type",), ["AC_4_PHASE"]),
    ("EVSE", ("connectors",), [[], None]),
    ("ChargingProfile", ("charging_rate_unit",), ["kW"]),
    ("ChargingProfile", ("duration",), [-1, 1.5]),
]


@pytest.mark.parametrize(("name", "path", "values"), CORRUPTIONS, ids=lambda x: str(x)[:40])
def test_invalid_value_rejected_naming_field(name, path, values):
    model, strategy = MODELS[name]

    @given(strategy, st.sampled_from(values))
    def check(raw, value):
        target = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValidationError) as info:
            model.model_validate(raw)
        assert info.value.title == model.__name__
        assert any(error["loc"][: len(path)] == path for error in info.value.errors()), (
            info.value.errors()
        )

    check()


@given(st.sampled_from(sorted(MODELS)), st.data())
def test_missing_required_field_named(name, data):
    model, strategy = MODELS[name]
    raw = data.draw(strategy)
    required = [key for key, field in model.model_fields.items() if field.is_required()]
    key = data.draw(st.sampled_from(required))
    del raw[key]
    with pytest.raises(ValidationError) as info:
        model.model_validate(raw)
    assert {"type": "missing", "loc": (key,)}.items() <= info.value.errors()[0].items()


def test_malformed_json_is_a_validation_error():
    with pytest.raises(ValidationError) as info:
        ocpi.Session.model_validate_json('{"id": "1", ')
    assert info.value.errors()[0]["type"] == "json_invalid"
