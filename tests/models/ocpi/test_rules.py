"""Cross-field and cross-object rules of OCPI 2.2.1, one test per rule."""

import copy

import pytest
from pydantic import ValidationError

from fera_flex.errors import OcpiRuleError, PatchError
from fera_flex.models import ocpi
from tests.models.ocpi.conftest import load_example


def variant(name, **changes):
    raw = copy.deepcopy(load_example(name))
    raw.update(changes)
    return raw


def rejects(model, raw, *fragments):
    with pytest.raises(ValidationError) as info:
        model.model_validate(raw)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, text
    return info.value


def test_session_end_not_before_start():
    raw = variant("session_example_2_short_finished.json", end_date_time="2015-06-29T22:00:00Z")
    rejects(ocpi.Session, raw, "Session", "end_date_time", "before start_date_time")


def test_session_negative_energy_rejected():
    error = rejects(ocpi.Session, variant("session_example_1_simple_start.json", kwh=-1.0))
    assert error.errors()[0]["loc"] == ("kwh",)


def test_preferences_departure_after_session_start():
    session = ocpi.Session.model_validate(load_example("session_example_1_simple_start.json"))
    ok = ocpi.ChargingPreferences(profile_type="FAST", departure_time="2020-03-09T18:00:00Z")
    ocpi.check_preferences_for_session(ok, session)
    ocpi.check_preferences_for_session(ocpi.ChargingPreferences(profile_type="FAST"), session)
    bad = ocpi.ChargingPreferences(profile_type="FAST", departure_time="2020-03-09T10:17:09Z")
    with pytest.raises(OcpiRuleError, match="departure_time") as info:
        ocpi.check_preferences_for_session(bad, session)
    assert info.value.obj == "ChargingPreferences"
    assert info.value.field == "departure_time"


def test_preferences_negative_energy_need_rejected():
    with pytest.raises(ValidationError) as info:
        ocpi.ChargingPreferences(profile_type="CHEAP", energy_need=-5)
    assert info.value.errors()[0]["loc"] == ("energy_need",)


def test_preferences_discharge_default_false():
    assert not ocpi.ChargingPreferences(profile_type="GREEN").allows_discharge
    assert ocpi.ChargingPreferences(profile_type="GREEN", discharge_allowed=True).allows_discharge


class TestCdr:
    def test_end_before_start(self):
        raw = variant("cdr_example.json", end_date_time="2015-06-29T21:00:00Z")
        rejects(ocpi.CDR, raw, "end_date_time", "before start_date_time")

    def test_credit_needs_reference(self):
        rejects(ocpi.CDR, variant("cdr_example.json", credit=True), "credit_reference_id")
        raw = variant("cdr_example.json", credit=True, credit_reference_id="12345")
        assert ocpi.CDR.model_validate(raw).credit

    def test_long_id_only_for_credit(self):
        long_id = "X" * 39
        rejects(ocpi.CDR, variant("cdr_example.json", id=long_id), "only credit CDRs")
        raw = variant("cdr_example.json", id=long_id, credit=True, credit_reference_id="12345")
        ocpi.CDR.model_validate(raw)

    def test_negative_totals_only_for_credit(self):
        rejects(ocpi.CDR, variant("cdr_example.json", total_energy=-1.0), "total_energy")
        raw = variant(
            "cdr_example.json", total_energy=-1.0, credit=True, credit_reference_id="12345"
        )
        ocpi.CDR.model_validate(raw)

    def test_parking_time_within_total_time(self):
        raw = variant("cdr_example.json", total_time=1.0, total_parking_time=1.5)
        rejects(ocpi.CDR, raw, "total_parking_time")

    @pytest.mark.parametrize("dimension", sorted(ocpi.SESSION_ONLY_DIMENSIONS))
    def test_session_only_dimensions_rejected(self, dimension):
        raw = variant("cdr_example.json")
        raw["charging_periods"][0]["dimensions"].append({"type": dimension, "volume": 1})
        rejects(ocpi.CDR, raw, f"dimension {dimension}", "only appear in a Session")

    def test_needs_a_charging_period(self):
        error = rejects(ocpi.CDR, variant("cdr_example.json", charging_periods=[]))
        assert error.errors()[0]["loc"] == ("charging_periods",)


@pytest.mark.parametrize(
    ("dimension", "volume", "fragment"),
    [
        ("STATE_OF_CHARGE", 101, "[0, 100]"),
        ("STATE_OF_CHARGE", -1, "[0, 100]"),
        ("TIME", -0.5, ">= 0"),
        ("PARKING_TIME", -0.5, ">= 0"),
        ("ENERGY_IMPORT", -2, ">= 0"),
    ],
)
def test_dimension_volume_fits_its_unit(dimension, volume, fragment):
    rejects(ocpi.CdrDimension, {"type": dimension, "volume": volume}, fragment)


def test_negative_energy_dimension_is_net_export():
    assert ocpi.CdrDimension(type="ENERGY", volume=-3.5).volume == -3.5


class TestLocation:
    def test_publish_allowed_to_only_when_not_published(self):
        raw = variant(
            "location_example.json",
            publish_allowed_to=[{"uid": "123", "type": "RFID"}],
        )
        rejects(ocpi.Location, raw, "publish_allowed_to", "publish is false")

    @pytest.mark.parametrize(
        ("entry", "fragment"),
        [
            ({}, "at least one of uid"),
            ({"uid": "123"}, "type must be set"),
            ({"visual_number": "NL-1"}, "issuer must be set"),
        ],
    )
    def test_publish_token_type_rules(self, entry, fragment):
        rejects(ocpi.PublishTokenType, entry, fragment)

    def test_evse_uids_unique(self):
        raw = variant("location_example.json")
        raw["evses"][1]["uid"] = raw["evses"][0]["uid"].lower()
        rejects(ocpi.Location, raw, "EVSE uid must be unique")

    def test_connector_ids_unique_within_evse(self):
        raw = variant("location_example.json")
        raw["evses"][0]["connectors"][1]["id"] = "1"
        rejects(ocpi.Location, raw, "Connector id must be unique")

    def test_evse_needs_a_connector(self):
        raw = variant("location_example.json")
        raw["evses"][0]["connectors"] = []
        error = rejects(ocpi.Location, raw)
        assert error.errors()[0]["loc"] == ("evses", 0, "connectors")

    def test_latitude_is_a_string_with_decimals(self):
        raw = variant(
            "location_example.json", coordinates={"latitude": 51.0476, "longitude": "3.72994"}
        )
        error = rejects(ocpi.Location, raw)
        assert error.errors()[0]["loc"] == ("coordinates", "latitude")
        raw["coordinates"]["latitude"] = "51.04"
        assert rejects(ocpi.Location, raw).errors()[0]["type"] == "string_pattern_mismatch"

    def test_full_precision_coordinates_beyond_declared_length_accepted(self):
        # Documented leniency: the spec's pattern admits 11/12 characters while the
        # field is declared string(10)/string(11); the pattern governs.
        raw = variant(
            "location_example.json",
            coordinates={"latitude": "-33.8688197", "longitude": "-151.2092955"},
        )
        assert ocpi.Location.model_validate(raw).coordinates.latitude == "-33.8688197"

    def test_regular_hours_needed_when_not_247(self):
        rejects(ocpi.Hours, {"twentyfourseven": False}, "regular_hours")

    def test_regular_hours_end_after_begin(self):
        raw = {"weekday": 1, "period_begin": "18:00", "period_end": "07:00"}
        rejects(ocpi.RegularHours, raw, "period_end (07:00) must be after period_begin (18:00)")

    def test_exceptional_period_end_after_begin(self):
        raw = {"period_begin": "2014-06-25T00:00:00Z", "period_end": "2014-06-24T00:00:00Z"}
        rejects(ocpi.ExceptionalPeriod, raw, "period_end")

    def test_weekday_range(self):
        raw = {"weekday": 8, "period_begin": "07:00", "period_end": "18:00"}
        assert rejects(ocpi.RegularHours, raw).errors()[0]["loc"] == ("weekday",)

    def test_errata_lengths_accepted(self):
        raw = variant("location_example.json", address="A" * 255, state="S" * 45)
        ocpi.Location.model_validate(raw)
        assert rejects(ocpi.Location, variant("location_example.json", address="A" * 256))


class TestTariff:
    def test_reservation_element_only_flat_and_time(self):
        raw = variant("tariff_15_reservation_5_euro_per_hour.json")
        element = next(e for e in raw["elements"] if "reservation" in e.get("restrictions", {}))
        element["price_components"].append({"type": "ENERGY", "price": 0.25, "step_size": 1})
        rejects(ocpi.Tariff, raw, "ENERGY component is not allowed", "reservation")

    def test_min_price_not_above_max_price(self):
        raw = variant(
            "tariff_1_simple_2hour.json",
            min_price={"excl_vat": 5.0},
            max_price={"excl_vat": 2.0},
        )
        rejects(ocpi.Tariff, raw, "min_price")

    def test_validity_period_ordered(self):
        raw = variant(
            "tariff_1_simple_2hour.json",
            start_date_time="2024-01-02T00:00:00Z",
            end_date_time="2024-01-01T00:00:00Z",
        )
        rejects(ocpi.Tariff, raw, "end_date_time")

    @pytest.mark.parametrize(
        ("low", "high"),
        [("min_kwh", "max_kwh"), ("min_power", "max_power"), ("min_duration", "max_duration")],
    )
    def test_restriction_ranges_not_empty(self, low, high):
        rejects(ocpi.TariffRestrictions, {low: 10, high: 10}, high, low)

    def test_needs_an_element(self):
        error = rejects(ocpi.Tariff, variant("tariff_1_simple_2hour.json", elements=[]))
        assert error.errors()[0]["loc"] == ("elements",)


class TestChargingProfile:
    def test_start_periods_increase(self):
        raw = {
            "charging_rate_unit": "W",
            "charging_profile_period": [
                {"start_period": 0, "limit": 11000},
                {"start_period": 0, "limit": 7400},
            ],
        }
        rejects(ocpi.ChargingProfile, raw, "charging_profile_period[1].start_period")

    def test_duration_after_last_period(self):
        raw = {
            "charging_rate_unit": "A",
            "duration": 600,
            "charging_profile_period": [
                {"start_period": 0, "limit": 16},
                {"start_period": 900, "limit": 8},
            ],
        }
        rejects(ocpi.ChargingProfile, raw, "duration")

    def test_empty_profile_is_legal_ocpi(self):
        profile = ocpi.ChargingProfile(charging_rate_unit="W", charging_profile_period=[])
        assert profile.model_dump(mode="json") == {
            "charging_rate_unit": "W",
            "charging_profile_period": [],
        }

    def test_limit_has_at_most_one_decimal(self):
        raw = {"start_period": 0, "limit": 8.15}
        assert rejects(ocpi.ChargingProfilePeriod, raw).errors()[0]["loc"] == ("limit",)
        assert ocpi.ChargingProfilePeriod(start_period=0, limit=8.1).limit == 8.1

    def test_negative_limit_rejected(self):
        raw = {"start_period": 0, "limit": -1}
        assert rejects(ocpi.ChargingProfilePeriod, raw).errors()[0]["loc"] == ("limit",)

    def test_accepted_result_carries_profile(self):
        rejects(ocpi.ActiveChargingProfileResult, {"result": "ACCEPTED"}, "profile")
        assert ocpi.ActiveChargingProfileResult(result="REJECTED").profile is None


class TestPatch:
    def test_key_fields_cannot_change(self):
        session = ocpi.Session.model_validate(load_example("session_example_1_simple_start.json"))
        with pytest.raises(PatchError, match="key") as info:
            ocpi.apply_patch(session, {"id": "other", "last_updated": "2019-06-23T08:11:00Z"})
        assert info.value.field == "id"
        same_key = {"id": session.id.lower(), "last_updated": "2019-06-23T08:11:00Z"}
        assert ocpi.apply_patch(session, same_key).id == session.id.lower()

    def test_null_removes_optional_field(self):
        location = ocpi.Location.model_validate(load_example("location_example.json"))
        patched = ocpi.apply_patch(location, {"name": None, "last_updated": "2020-01-01T00:00:00Z"})
        assert patched.name is None
        assert "name" not in patched.model_dump()

    def test_null_on_required_field_fails_validation(self):
        location = ocpi.Location.model_validate(load_example("location_example.json"))
        with pytest.raises(ValidationError) as info:
            ocpi.apply_patch(location, {"city": None, "last_updated": "2020-01-01T00:00:00Z"})
        assert info.value.errors()[0]["loc"] == ("city",)

    def test_invalid_patch_value_named(self):
        token = ocpi.Token.model_validate(load_example("token_example_1_app_user.json"))
        with pytest.raises(ValidationError) as info:
            ocpi.apply_patch(token, '{"valid": "no", "last_updated": "2020-01-01T00:00:00Z"}')
        assert info.value.errors()[0]["loc"] == ("valid",)

    @pytest.mark.parametrize("body", ["[1, 2]", "{not json", b"42"])
    def test_body_must_be_a_json_object(self, body):
        token = ocpi.Token.model_validate(load_example("token_example_1_app_user.json"))
        with pytest.raises(PatchError, match="body"):
            ocpi.apply_patch(token, body)

    def test_unknown_fields_in_patch_are_kept(self):
        token = ocpi.Token.model_validate(load_example("token_example_1_app_user.json"))
        patched = ocpi.apply_patch(
            token, {"x_vendor": {"tier": 2}, "last_updated": "2020-01-01T00:00:00Z"}
        )
        assert patched.model_dump(mode="json")["x_vendor"] == {"tier": 2}

    def test_unknown_evse_or_connector(self):
        location = ocpi.Location.model_validate(load_example("location_example.json"))
        body = {"status": "CHARGING", "last_updated": "2020-01-01T00:00:00Z"}
        with pytest.raises(PatchError, match="evse_uid"):
            ocpi.patch_location(location, body, evse_uid="nope")
        with pytest.raises(PatchError, match="connector_id"):
            ocpi.patch_location(location, body, evse_uid="3256", connector_id="9")
        with pytest.raises(PatchError, match="needs evse_uid"):
            ocpi.patch_location(location, body, connector_id="1")

    def test_only_patchable_objects(self):
        tariff = ocpi.Tariff.model_validate(load_example("tariff_1_simple_2hour.json"))
        with pytest.raises(PatchError, match="Tariff"):
            ocpi.apply_patch(tariff, {"last_updated": "2020-01-01T00:00:00Z"})


def test_unknown_fields_survive_round_trip_at_every_depth():
    raw = variant("location_example.json", x_top={"a": [1, None]}, x_null=None)
    raw["evses"][0]["x_evse"] = "kept"
    raw["evses"][0]["connectors"][0]["x_connector"] = 3.5
    location = ocpi.Location.model_validate(raw)
    import json

    assert json.loads(location.model_dump_json()) == raw
    assert location.model_extra == {"x_top": {"a": [1, None]}, "x_null": None}
