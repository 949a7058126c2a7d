import copy
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


@pytest.fixture(scope="module")
def office_json():
    return json.loads((EXAMPLES / "office_depot.json").read_text())


def broken(raw, *fragments):
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(raw)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_save_load_round_trip(tmp_path, office_json):
    scenario = Scenario.model_validate(office_json)
    scenario.save(tmp_path / "s.json")
    again = Scenario.load(tmp_path / "s.json")
    assert again == scenario
    assert json.loads((tmp_path / "s.json").read_text()) == office_json


def test_load_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist") as info:
        Scenario.load(tmp_path / "nope.json")
    assert info.value.field == "path"


def test_all_inconsistent_references_listed(office_json):
    raw = copy.deepcopy(office_json)
    raw["sessions"][0]["evse_uid"] = "NO-SUCH-EVSE"
    raw["sessions"][1]["location_id"] = "ELSEWHERE"
    raw["sessions"][2]["connector_id"] = "7"
    raw["charging_preferences"]["S-GHOST"] = {"profile_type": "FAST"}
    raw["topology"]["nodes"][-1]["evse_uids"] = ["PHANTOM"]  # and its two EVSEs go missing
    raw["building_loads"][0]["node_id"] = "nowhere"
    raw["price_signals"][0]["import_price_per_kwh"]["values"] = raw["price_signals"][0][
        "import_price_per_kwh"
    ]["values"][:-1]
    raw["price_signals"][0]["scope"] = {"kind": "node", "id": "mars"}
    raw["arrival_estimates"][0]["location_id"] = "NOWHERE"
    text = broken(
        raw,
        "Session 'S-1001' is on EVSE 'NO-SUCH-EVSE'",
        "Session 'S-1002' is at unknown location 'ELSEWHERE'",
        "is on connector '7'",
        "charging_preferences names unknown Session 'S-GHOST'",
        "lists EVSE 'PHANTOM', which no Location has",
        "EVSE 'CS-B09-L' of Location 'DEPOT-UTR' is missing from the grid topology",
        "EVSE 'CS-B09-R' of Location 'DEPOT-UTR' is missing from the grid topology",
        "BuildingLoad 'office-building' is at unknown grid node 'nowhere'",
        "PriceSignal 'day-ahead-nl' import_price_per_kwh does not cover the horizon",
        "signal 'day-ahead-nl' is scoped to unknown grid node 'mars'",
        "ArrivalEstimate 'VISIT-36' is at unknown location 'NOWHERE'",
    )
    assert "11 inconsistent reference(s)" in text


def test_preferences_departure_checked_against_session(office_json):
    raw = copy.deepcopy(office_json)
    raw["charging_preferences"]["S-1001"]["departure_time"] = "2026-03-01T00:00:00Z"
    broken(raw, "charging_preferences['S-1001']", "departure_time", "must be after the start")


def test_duplicate_ids(office_json):
    raw = copy.deepcopy(office_json)
    raw["sessions"][1]["id"] = raw["sessions"][0]["id"].lower()
    broken(raw, "Session id 's-1001' is used twice")


def test_capacity_series_must_cover_horizon():
    raw = json.loads((EXAMPLES / "residential_street.json").read_text())
    cap = raw["topology"]["nodes"][0]["import_capacity_kw"]
    cap["start"] = "2026-03-02T12:00:00Z"
    broken(raw, "grid node 'lv-feeder' import_capacity_kw does not cover the horizon")


@pytest.mark.parametrize(
    ("horizon", "fragment"),
    [
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T00:00:00Z", "step_s": 900},
            "must be after",
        ),
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z", "step_s": 7},
            "whole number",
        ),
        (
            {"start": "2026-03-02T00:00:00", "end": "2026-03-02T01:00:00Z", "step_s": 900},
            "timezone",
        ),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z", "step_s": 0}, "step_s"),
    ],
)
def test_horizon_rules(office_json, horizon, fragment):
    broken({**office_json, "horizon": horizon}, fragment)


def test_unknown_top_level_field_rejected(office_json):
    broken({**office_json, "sesions": []}, "sesions")


def test_limits_and_needs_references(office_json):
    raw = copy.deepcopy(office_json)
    raw["evse_limits"] = [
        {
            "evse_uid": "CS-A00-L",
            "ocpi_profile": {
                "charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": 10}],
            },
        },
        {
            "evse_uid": "GHOST",
            "ocpi_profile": {"charging_rate_unit": "W", "charging_profile_period": []},
        },
    ]
    broken(raw, "EvseLimit names unknown EVSE 'GHOST'")
    raw["evse_limits"] = raw["evse_limits"][:1]
    assert Scenario.model_validate(raw).evse_limits[0].ocpi_profile.charging_rate_unit.value == "A"
    raw["evse_limits"] = [{"evse_uid": "CS-A00-L"}]
    broken(raw, "holds no profile")


def test_lookup_helpers(office_json):
    scenario = Scenario.model_validate(office_json)
    location, evse = scenario.evses()["cs-a00-l"]
    assert (location.id, evse.uid) == ("DEPOT-UTR", "CS-A00-L")
    assert scenario.preferences_for("s-1001") is scenario.charging_preferences["S-1001"]
    assert scenario.preferences_for("nope") is None


def test_documented_example_is_valid():
    text = (Path(__file__).resolve().parents[2] / "docs" / "scenario.md").read_text()
    example = text.split("```json", 1)[1].split("```", 1)[0]
    scenario = Scenario.model_validate_json(example)
    assert scenario.horizon.n_slots == 4
    assert scenario.topology.node_of_evse("E2").evse_phases == {"E2": ["L2"]}
