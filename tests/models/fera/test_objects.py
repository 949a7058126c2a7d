import json

import pytest
from pydantic import ValidationError

from fera_flex.models.fera import (
    ArrivalEstimate,
    BuildingLoad,
    EmissionSignal,
    FlexibilityDispatch,
    FlexibilityOffer,
    OemChargingCurve,
    PriceSignal,
)

SERIES = {"start": "2026-03-02T00:00:00Z", "step_s": 3600, "values": [0.2, 0.3]}


def rejected(model, raw, fragment):
    with pytest.raises(ValidationError) as info:
        model.model_validate(raw)
    assert fragment in str(info.value), str(info.value)


def round_trips(model, raw):
    assert json.loads(model.model_validate(raw).model_dump_json()) == raw


def test_price_signal():
    raw = {
        "id": "p",
        "currency": "EUR",
        "scope": {"kind": "node", "id": "feeder-1"},
        "import_price_per_kwh": SERIES,
        "export_price_per_kwh": SERIES,
    }
    round_trips(PriceSignal, raw)
    rejected(PriceSignal, {**raw, "currency": "eur"}, "currency")
    rejected(PriceSignal, {**raw, "scope": {"kind": "node"}}, "needs an id")
    rejected(PriceSignal, {**raw, "scope": {"kind": "global", "id": "x"}}, "takes no id")


def test_emission_signal():
    round_trips(
        EmissionSignal, {"id": "e", "scope": {"kind": "global"}, "emission_g_per_kwh": SERIES}
    )
    rejected(EmissionSignal, {"id": "e"}, "give emission_g_per_kwh, renewable_share or both")
    bad_share = {**SERIES, "values": [0.5, 1.5]}
    rejected(
        EmissionSignal,
        {"id": "e", "renewable_share": bad_share},
        "renewable_share: value 1.5 is above 1.0",
    )


ARRIVAL = {
    "id": "A1",
    "location_id": "L",
    "expected_arrival": "2026-03-02T08:00:00Z",
    "expected_departure": "2026-03-02T17:00:00Z",
    "energy_need_kwh": 20.0,
}


def test_arrival_estimate():
    estimate = ArrivalEstimate.model_validate(
        {**ARRIVAL, "earliest_arrival": "2026-03-02T07:30:00+01:00"}
    )
    assert estimate.earliest_arrival.isoformat() == "2026-03-02T06:30:00+00:00"
    rejected(
        ArrivalEstimate, {**ARRIVAL, "latest_arrival": "2026-03-02T07:00:00Z"}, "latest_arrival"
    )
    rejected(
        ArrivalEstimate,
        {**ARRIVAL, "expected_departure": "2026-03-02T08:00:00Z"},
        "expected_departure",
    )
    rejected(ArrivalEstimate, {**ARRIVAL, "energy_need_kwh": -1}, "energy_need_kwh")
    rejected(ArrivalEstimate, {**ARRIVAL, "expected_arrival": "2026-03-02T08:00:00"}, "timezone")
    rejected(ArrivalEstimate, {**ARRIVAL, "profile_type": "CHEAPEST"}, "profile_type")
    rejected(ArrivalEstimate, {**ARRIVAL, "energy_need_kWh": 3}, "energy_need_kWh")


def test_building_load_signs():
    raw = {
        "id": "b",
        "node_id": "n",
        "load_kw": SERIES,
        "generation_kw": {**SERIES, "values": [0, -5]},
    }
    round_trips(BuildingLoad, raw)
    rejected(BuildingLoad, {**raw, "generation_kw": SERIES}, "generation is negative")
    rejected(BuildingLoad, {**raw, "load_kw": {**SERIES, "values": [-1, 0]}}, "load_kw")
    rejected(
        BuildingLoad, {**raw, "min_grid_load_kw": 10, "max_grid_load_kw": 5}, "min_grid_load_kw"
    )


def test_oem_curve():
    raw = {
        "id": "c",
        "battery_capacity_kwh": 50.0,
        "soc_percent": [0, 80, 100],
        "max_power_kw": [11, 11, 2],
    }
    curve = OemChargingCurve.model_validate(raw)
    assert curve.max_power_at(100) == 2 and curve.max_power_at(40) == 11
    energy, power = curve.energy_breakpoints_kwh(60.0)
    assert energy.tolist() == pytest.approx([0.0, 10.0, 20.0])
    assert power.tolist() == pytest.approx([11.0, 11.0, 2.0])
    rejected(OemChargingCurve, {**raw, "soc_percent": [0, 90, 80]}, "increase strictly")
    rejected(OemChargingCurve, {**raw, "soc_percent": [10, 80, 100]}, "from 0 to 100")
    rejected(OemChargingCurve, {**raw, "max_power_kw": [11, 2]}, "3 points")
    rejected(OemChargingCurve, {**raw, "battery_capacity_kwh": 0}, "battery_capacity_kwh")


def test_flexibility_offer_and_dispatch():
    raw = {
        "id": "o",
        "node_id": "n",
        "start": "2026-03-02T00:00:00Z",
        "step_s": 900,
        "baseline_kw": [5.0, 5.0],
        "power_min_kw": [0.0, 0.0],
        "power_max_kw": [10.0, 11.0],
        "energy_min_kwh": [0.0, 1.0],
        "energy_max_kwh": [2.5, 5.0],
        "price_per_kwh": [0.1, 0.1],
        "currency": "EUR",
        "shape": "box",
    }
    round_trips(FlexibilityOffer, raw)
    options = {**raw, "shape": "options", "options_kw": [[0.0, 11.0], [10.0, 0.0]]}
    round_trips(FlexibilityOffer, {**options, "option_prices": [1.5, -0.5]})
    rejected(FlexibilityOffer, {**raw, "shape": "options"}, "options_kw is given exactly")
    rejected(FlexibilityOffer, {**options, "options_kw": [[1.0]]}, "options_kw[0] has 1 values")
    rejected(FlexibilityOffer, {**options, "option_prices": [1.0]}, "one price per option")
    rejected(
        FlexibilityOffer,
        {**raw, "power_max_kw": [4.0, 11.0]},
        "slot 0: baseline_kw (5.0) exceeds power_max_kw (4.0)",
    )
    rejected(FlexibilityOffer, {**raw, "power_min_kw": [0.0]}, "power_min_kw has 1 values")
    rejected(FlexibilityOffer, {**raw, "energy_min_kwh": [3.0, 1.0]}, "energy_min_kwh")
    rejected(
        FlexibilityOffer, {k: v for k, v in raw.items() if k != "currency"}, "currency is required"
    )
    dispatch = {
        "id": "d",
        "node_id": "n",
        "start": "2026-03-02T00:00:00Z",
        "step_s": 900,
        "power_kw": [1.0, 2.0],
    }
    round_trips(FlexibilityDispatch, dispatch)
    rejected(FlexibilityDispatch, {**dispatch, "power_kw": []}, "power_kw")
