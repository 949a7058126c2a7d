"""parse_message / to_json, and lossless round trips (unknown fields, customData)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex.errors import InputError
from fera_flex.models import ocpp
from tests.models.ocpp.payloads import set_tx_profile
from tests.models.ocpp.strategies import MESSAGES, json_values

UNKNOWN_KEYS = st.sampled_from(["futureField", "x-vendor", "_private", "nested_unknown"])


def test_message_types_cover_the_supported_messages():
    assert set(ocpp.MESSAGE_TYPES) == set(MESSAGES)
    for name, cls in ocpp.MESSAGE_TYPES.items():
        assert cls.ocpp_type == name
    with pytest.raises(TypeError):
        ocpp.MESSAGE_TYPES["Heartbeat"] = ocpp.SetChargingProfileRequest  # type: ignore[index]


@pytest.mark.parametrize(
    ("action", "response", "expected"),
    [
        ("SetChargingProfile", False, ocpp.SetChargingProfileRequest),
        ("SetChargingProfile", True, ocpp.SetChargingProfileResponse),
        ("SetChargingProfileRequest", False, ocpp.SetChargingProfileRequest),
        ("SetChargingProfileResponse", False, ocpp.SetChargingProfileResponse),
        ("SetChargingProfileResponse", True, ocpp.SetChargingProfileResponse),
        ("GetCompositeSchedule", True, ocpp.GetCompositeScheduleResponse),
        ("NotifyEVChargingNeeds", False, ocpp.NotifyEVChargingNeedsRequest),
        ("TransactionEvent", False, ocpp.TransactionEventRequest),
    ],
)
def test_message_name_resolves_action_and_direction(action, response, expected):
    assert ocpp.MESSAGE_TYPES[ocpp.message_name(action, response=response)] is expected


def test_unknown_message_name_lists_the_known_ones():
    with pytest.raises(InputError) as info:
        ocpp.parse_message("Heartbeat", {})
    text = str(info.value)
    assert info.value.field == "action" and info.value.value == "Heartbeat"
    for name in ocpp.MESSAGE_TYPES:
        assert name in text


def test_unknown_response_name_is_rejected():
    with pytest.raises(InputError, match="NotifyEVChargingNeedsResponse"):
        ocpp.parse_message("NotifyEVChargingNeeds", {}, response=True)


def test_request_name_with_response_flag_is_rejected():
    with pytest.raises(InputError, match="names a request"):
        ocpp.message_name("SetChargingProfileRequest", response=True)


def test_parse_accepts_dict_str_and_bytes():
    payload = set_tx_profile()
    text = json.dumps(payload)
    parsed = [
        ocpp.parse_message("SetChargingProfile", source)
        for source in (payload, text, text.encode(), bytearray(text.encode()))
    ]
    assert all(isinstance(message, ocpp.SetChargingProfileRequest) for message in parsed)
    assert all(message == parsed[0] for message in parsed)
    assert parsed[0].charging_profile.transaction_id == "tx-1"


def test_invalid_json_is_an_input_error():
    with pytest.raises(InputError, match="not valid JSON"):
        ocpp.parse_message("SetChargingProfile", '{"evseId": 1,')


def test_validation_error_locates_the_field_under_the_message_name():
    payload = set_tx_profile()
    payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] = "x"
    with pytest.raises(ValidationError) as info:
        ocpp.parse_message("SetChargingProfile", payload)
    (error,) = info.value.errors()
    assert error["loc"] == (
        "SetChargingProfileRequest",
        "payload",
        "chargingProfile",
        "chargingSchedule",
        0,
        "chargingSchedulePeriod",
        0,
        "limit",
    )


def test_non_object_payload_is_a_validation_error():
    with pytest.raises(ValidationError):
        ocpp.parse_message("SetChargingProfile", "[1, 2]")


def test_to_json_is_compact_camel_case_and_omits_absent_fields():
    message = ocpp.SetChargingProfileResponse(status=ocpp.ChargingProfileStatus.REJECTED)
    assert ocpp.to_json(message) == '{"status":"Rejected"}'
    assert message.model_dump(mode="json") == {"status": "Rejected"}
    assert message.model_dump(mode="json", by_alias=True) == {"status": "Rejected"}


def test_round_trip_keeps_unknown_fields_and_custom_data():
    payload = set_tx_profile()
    payload["customData"] = {
        "vendorId": "com.example",
        "tariffZone": {"id": 3, "tags": ["peak", None]},
    }
    payload["futureTopLevel"] = None
    profile = payload["chargingProfile"]
    profile["futureProfileField"] = [1, 2.5, "three"]
    profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["customData"] = {
        "vendorId": "com.example",
        "setpointW": 7000,
    }
    profile["chargingSchedule"][0]["chargingSchedulePeriod"][1]["vendorPhase"] = "L2"

    message = ocpp.parse_message("SetChargingProfile", json.dumps(payload))

    assert message.model_dump(mode="json") == payload
    assert json.loads(ocpp.to_json(message)) == payload
    assert message.model_extra == {"futureTopLevel": None}
    assert message.custom_data is not None
    assert message.custom_data.vendor_id == "com.example"
    assert message.custom_data.model_extra == {"tariffZone": {"id": 3, "tags": ["peak", None]}}
    assert message.charging_profile.model_extra == {"futureProfileField": [1, 2.5, "three"]}


def test_round_trip_normalises_times_to_utc_z():
    payload = set_tx_profile()
    schedule = payload["chargingProfile"]["chargingSchedule"][0]
    schedule["startSchedule"] = "2024-03-01T10:00:00.500+02:00"
    message = ocpp.parse_message("SetChargingProfile", payload)
    dumped = message.model_dump(mode="json")
    assert dumped["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == (
        "2024-03-01T08:00:00.5Z"
    )


@st.composite
def with_unknown_fields(draw, tree):
    """``tree`` with unknown properties added to some of its JSON objects."""
    if isinstance(tree, dict):
        result = {key: draw(with_unknown_fields(value)) for key, value in tree.items()}
        if draw(st.booleans()):
            result[draw(UNKNOWN_KEYS)] = draw(json_values)
        return result
    if isinstance(tree, list):
        return [draw(with_unknown_fields(item)) for item in tree]
    return tree


@pytest.mark.parametrize("name", sorted(MESSAGES))
@settings(max_examples=25)
@given(data=st.data())
def test_parse_then_dump_equals_the_input_tree_with_unknown_fields(name, data):
    tree = data.draw(MESSAGES[name].map(lambda message: message.model_dump(mode="json")))
    wire = data.draw(with_unknown_fields(tree), label="wire payload")
    message = ocpp.parse_message(name, json.dumps(wire))
    assert message.model_dump(mode="json") == wire
