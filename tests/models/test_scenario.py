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


@pytest.mark.parametrize("path", [{}, 3, None, b"office.json"])
def test_load_and_save_reject_a_path_that_is_not_one(path, office_json):
    with pytest.raises(InputError, match=f"not {type(path).__name__}") as info:
        Scenario.load(path)
    assert (info.value.obj, info.value.field, info.value.value) == ("Scenario.load", "path", path)
    with pytest.raises(InputError, match=f"not {type(path).__name__}") as info:
        Scenario.model_validate(office_json).save(path)
    assert info.value.field == "path"


def test_load_a_directory_or_a_file_that_is_not_utf8(tmp_path):
    with pytest.raises(InputError, match="is a directory") as info:
        Scenario.load(tmp_path)
    assert info.value.field == "path"
    (tmp_path / "latin1.json").write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(InputError, match="is not UTF-8 text") as info:
        Scenario.load(tmp_path / "latin1.json")
    assert info.value.value == str(tmp_path / "latin1.json")


def test_load_invalid_json_is_a_validation_error_with_its_position(tmp_path):
    (tmp_path / "cut.json").write_text('{"name": "x",')
    with pytest.raises(ValidationError) as info:
        Scenario.load(tmp_path / "cut.json")
    assert info.value.errors()[0]["type"] == "json_invalid"
    assert "line 1 column" in str(info.value)


def test_overlapping_active_sessions_on_one_evse(office_json):
    raw = copy.deepcopy(office_json)
    second = raw["sessions"][1]  # S-1002, 07:24:32Z, moved onto S-1001's EVSE (07:45:03Z)
    second["evse_uid"] = "CS-A00-L"
    text = broken(
        raw,
        "Sessions 'S-1002' and 'S-1001' are both ACTIVE on EVSE 'CS-A00-L' "
        "from 2026-03-02T07:45:03+00:00 on (no end_date_time)",
    )
    assert "1 inconsistent reference(s)" in text
    second["end_date_time"] = "2026-03-02T08:00:00Z"
    broken(raw, "'S-1002' and 'S-1001'", "from 2026-03-02T07:45:03+00:00 to 2026-03-02T08:00:00")
    second["end_date_time"] = "2026-03-02T07:45:03Z"  # ends as the next one starts
    Scenario.model_validate(raw)
    del second["end_date_time"]
    second["status"] = "PENDING"  # the optimiser shares the EVSE
    Scenario.model_validate(raw)


def _with_signals(raw, key, *signals):
    return {**raw, key: [*raw[key], *signals]}


@pytest.mark.parametrize(
    ("key", "kind", "field"),
    [
        ("price_signals", "Price", "import_price_per_kwh"),
        ("emission_signals", "Emission", "emission_g_per_kwh"),
    ],
)
def test_overlapping_signals_of_one_scope(office_json, key, kind, field):
    original = office_json[key][0]  # global, the whole horizon
    again = {**copy.deepcopy(original), "id": "intraday"}
    broken(
        _with_signals(office_json, key, again),
        f"{kind}Signals {original['id']!r} and 'intraday' of scope global overlap in time "
        "between 2026-03-02T00:00:00+00:00 and 2026-03-03T00:00:00+00:00",
    )
    depot = {**again, "id": "depot-1", "scope": {"kind": "location", "id": "DEPOT-UTR"}}
    Scenario.model_validate(_with_signals(office_json, key, depot))  # more specific: fine
    evening = {
        **depot,
        "id": "depot-2",
        field: {
            "periods": [
                {"start": "2026-03-02T20:00:00Z", "end": "2026-03-03T02:00:00Z", "value": 0.3}
            ]
        },
    }
    broken(
        _with_signals(office_json, key, depot, evening),
        f"{kind}Signals 'depot-1' and 'depot-2' of scope location 'DEPOT-UTR' overlap in time "
        "between 2026-03-02T20:00:00+00:00 and 2026-03-03T00:00:00+00:00",
    )


def _halves(signal, field, first_id, second_id, split):
    """Two signals: the first until ``split`` (an ISO time), the second from it."""
    first, second = copy.deepcopy(signal), copy.deepcopy(signal)
    first["id"], second["id"] = first_id, second_id
    first[field] = {"periods": [{"start": signal[field]["start"], "end": split, "value": 0.2}]}
    second[field] = {"periods": [{"start": split, "end": "2026-03-03T00:00:00Z", "value": 0.3}]}
    return first, second


def test_signals_of_one_scope_together_cover_the_horizon(office_json):
    price = office_json["price_signals"][0]
    first, second = _halves(price, "import_price_per_kwh", "am", "pm", "2026-03-02T12:00:00Z")
    Scenario.model_validate({**office_json, "price_signals": [first, second]})
    second["import_price_per_kwh"]["periods"][0]["start"] = "2026-03-02T13:00:00Z"
    broken(
        {**office_json, "price_signals": [first, second]},
        "PriceSignals 'am', 'pm' of scope global together do not cover the horizon",
    )
    second["import_price_per_kwh"]["periods"][0]["start"] = "2026-03-02T12:00:00Z"
    second["export_price_per_kwh"] = {
        "periods": [{"start": "2026-03-02T14:00:00Z", "end": "2026-03-03T00:00:00Z", "value": 0.1}]
    }
    broken(
        {**office_json, "price_signals": [first, second]},
        "PriceSignal 'pm' export_price_per_kwh is not defined wherever import_price_per_kwh is",
    )


def test_price_signals_in_two_currencies(office_json):
    dollars = {
        **copy.deepcopy(office_json["price_signals"][0]),
        "id": "us-feed",
        "currency": "USD",
        "scope": {"kind": "location", "id": "DEPOT-UTR"},
    }
    broken(
        _with_signals(office_json, "price_signals", dollars),
        "PriceSignals use 2 currencies (EUR: 'day-ahead-nl'; USD: 'us-feed')",
    )
