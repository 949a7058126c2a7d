import copy
import json
from pathlib import Path

import numpy as np
import pytest

from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
NOON_SLOT = 48  # office_depot: 15-min slots from 2026-03-02T00:00Z


@pytest.fixture(scope="module")
def office_json():
    return json.loads((EXAMPLES / "office_depot.json").read_text())


def problem_of(raw):
    return ChargingProblem.from_scenario(Scenario.model_validate(raw))


def evse_of(problem, session_id):
    return problem.evse_uids[problem.session_ids.index(session_id)]


def visit(visit_id, arrival, departure, **extra):
    return {
        "id": visit_id,
        "location_id": "DEPOT-UTR",
        "expected_arrival": arrival,
        "expected_departure": departure,
        "energy_need_kwh": 10.0,
        **extra,
    }


def test_sessions_on_one_evse_share_its_rating(office_json):
    # S-1001 (ACTIVE, 07:45-16:33) on the 11.04 kW CS-A00-L, with a PENDING session and an
    # estimate on the same EVSE at the same time: legal, but together within 11.04 kW
    raw = copy.deepcopy(office_json)
    pending = {**copy.deepcopy(raw["sessions"][0]), "id": "S-2000", "status": "PENDING"}
    raw["sessions"].append(pending)
    raw["charging_preferences"]["S-1001"]["energy_need"] = 60.0
    raw["charging_preferences"]["S-2000"] = {**raw["charging_preferences"]["S-1001"]}
    raw["arrival_estimates"].append(
        visit("VISIT-40", "2026-03-02T09:00:00Z", "2026-03-02T12:00:00Z", evse_uid="CS-A00-L")
    )
    raw["evse_limits"] = [
        {
            "evse_uid": "CS-A00-L",
            "ocpi_profile": {
                "start_date_time": "2026-03-02T14:00:00Z",
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 3000.0}],
            },
        }
    ]
    problem = problem_of(raw)
    rating = problem.evse_power_max_kw[problem.evse_ids.index("CS-A00-L")]
    two_pm = 56
    np.testing.assert_allclose(rating[32:two_pm], 11.04)  # 08:00 .. 14:00
    np.testing.assert_allclose(rating[two_pm:66], 3.0)  # the installed limit, to 16:30
    plan = schedule(problem)
    assert verify_plan(problem, plan, tolerance=0.0) == []
    shared = [problem.session_ids.index(i) for i in ("S-1001", "S-2000", "VISIT-40")]
    load = plan.charge_kw[shared].sum(axis=0)
    assert load.max() == pytest.approx(11.04) and (load <= rating + 1e-9).all()
    assert plan.delivered_kwh[shared].sum() < 130.0  # the EVSE cannot deliver all


def test_estimates_without_evse_go_to_free_evses(office_json):
    # every one of the 40 EVSEs is in use from about 09:30 to 13:30 (36 sessions, 4 estimates)
    raw = copy.deepcopy(office_json)
    for estimate in raw["arrival_estimates"][2:]:  # VISIT-38 and -39 used CS-B09-L and -R
        del estimate["evse_uid"]
    problem = problem_of(raw)
    assert (evse_of(problem, "VISIT-38"), evse_of(problem, "VISIT-39")) == ("CS-B09-L", "CS-B09-R")
    assert problem.session_ids[-2:] == ("VISIT-38", "VISIT-39")  # after those on a given EVSE
    assert len(set(problem.evse_uids)) == problem.n_sessions == 40
    assert problem.metadata["skipped"] == ()


def test_estimate_without_free_evse_is_unplaced(office_json):
    raw = copy.deepcopy(office_json)
    raw["arrival_estimates"] += [
        visit("VISIT-40", "2026-03-02T09:00:00Z", "2026-03-02T12:00:00Z"),
        visit("VISIT-41", "2026-03-02T18:00:00Z", "2026-03-02T20:00:00Z"),  # all have left
        visit("VISIT-42", "2026-03-02T19:00:00Z", "2026-03-02T21:00:00Z"),
    ]
    problem = problem_of(raw)
    assert "VISIT-40" not in problem.session_ids
    assert problem.metadata["skipped"] == (
        "VISIT-40: unplaced: no EVSE at Location DEPOT-UTR is free "
        "from 2026-03-02T09:00:00Z to 2026-03-02T12:00:00Z",
    )
    # the most powerful (22.08 kW) EVSEs, first of equals first; VISIT-41 holds CS-A01-L
    assert (evse_of(problem, "VISIT-41"), evse_of(problem, "VISIT-42")) == ("CS-A01-L", "CS-A01-R")
    assert problem.power_max_kw[problem.session_ids.index("VISIT-42")].max() == pytest.approx(22.08)


def test_estimate_at_location_without_evse_in_service(office_json):
    raw = copy.deepcopy(office_json)
    for evse in raw["locations"][0]["evses"]:
        evse["status"] = "REMOVED"
    raw["sessions"], raw["charging_preferences"], raw["evse_limits"] = [], {}, []
    raw["arrival_estimates"] = [visit("VISIT-40", "2026-03-02T09:00:00Z", "2026-03-02T12:00:00Z")]
    problem = problem_of(raw)
    assert problem.n_sessions == 0
    assert problem.metadata["skipped"] == (
        "VISIT-40: unplaced: Location DEPOT-UTR has no EVSE in service",
    )


def _two_price_signals(office_json, split):
    """The office with its day-ahead price cut in two signals at ``split``: 0.2, then 0.3 EUR.

    Both keep the day-ahead export price (for the whole day).
    """
    raw = copy.deepcopy(office_json)
    price = raw["price_signals"][0]
    first, second = copy.deepcopy(price), copy.deepcopy(price)
    first["id"], second["id"] = "until-split", "from-split"
    first["import_price_per_kwh"] = {
        "periods": [{"start": "2026-03-02T00:00:00Z", "end": split, "value": 0.2}]
    }
    second["import_price_per_kwh"] = {
        "periods": [{"start": split, "end": "2026-03-03T00:00:00Z", "value": 0.3}]
    }
    raw["price_signals"] = [second, first]
    return raw


def test_non_overlapping_signals_of_one_scope_combine(office_json):
    problem = problem_of(_two_price_signals(office_json, "2026-03-02T12:00:00Z"))
    expected = np.where(np.arange(96) < NOON_SLOT, 0.2, 0.3)
    np.testing.assert_allclose(problem.price_eur_per_kwh, np.broadcast_to(expected, (40, 96)))
    day_ahead_export = office_json["price_signals"][0]["export_price_per_kwh"]["values"]
    np.testing.assert_allclose(problem.export_price_eur_per_kwh[0], day_ahead_export)


def test_signals_split_inside_a_slot_count_for_their_part(office_json):
    raw = _two_price_signals(office_json, "2026-03-02T12:05:00Z")
    from_split, until_split = raw["price_signals"]
    del until_split["export_price_per_kwh"]  # exports at its import price
    from_split["export_price_per_kwh"] = {  # longer than the signal applies: used only from 12:05
        "periods": [{"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z", "value": 0.05}]
    }
    problem = problem_of(raw)
    price, export = problem.price_eur_per_kwh[0], problem.export_price_eur_per_kwh[0]
    assert price[NOON_SLOT - 1 : NOON_SLOT + 2] == pytest.approx(
        [0.2, (5 * 0.2 + 10 * 0.3) / 15, 0.3]
    )
    assert export[NOON_SLOT - 1 : NOON_SLOT + 2] == pytest.approx(
        [0.2, (5 * 0.2 + 10 * 0.05) / 15, 0.05]
    )


def test_emission_signals_of_one_scope_combine_with_the_renewable_proxy(office_json):
    raw = copy.deepcopy(office_json)
    grams = raw["emission_signals"][0]
    share = {
        "id": "afternoon-share",
        "renewable_share": {
            "periods": [
                {"start": "2026-03-02T12:00:00Z", "end": "2026-03-03T00:00:00Z", "value": 0.75}
            ]
        },
    }
    grams["emission_g_per_kwh"]["values"] = grams["emission_g_per_kwh"]["values"][:NOON_SLOT]
    raw["emission_signals"] = [grams, share]
    problem = problem_of(raw)
    np.testing.assert_allclose(
        problem.emission_g_per_kwh[0, :NOON_SLOT], grams["emission_g_per_kwh"]["values"]
    )
    np.testing.assert_allclose(problem.emission_g_per_kwh[0, NOON_SLOT:], 250.0)  # per mille
