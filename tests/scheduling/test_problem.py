from datetime import datetime, timezone

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.timeseries import TimeGrid

GRID = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 900, 8)
GOOD = dict(
    grid=GRID,
    arrival_slot=[0, 2],
    departure_slot=[8, 5],
    energy_kwh=[10.0, 4.0],
    power_max_kw=[11.0, 7.4],
    node_of_session=[1, 2],
    node_parent=[-1, 0, 0],
    node_capacity_kw=[20.0, 11.0, np.inf],
    price_eur_per_kwh=np.linspace(0.1, 0.3, 8),
)


def test_arrays_are_shaped_and_read_only():
    problem = ChargingProblem.from_arrays(**GOOD, first_slot_fraction=[0.5, 1.0])
    assert problem.power_max_kw.shape == (2, 8)
    assert problem.power_max_kw[1, 1] == 0.0 and problem.power_max_kw[1, 2] == 7.4
    assert problem.presence[0, 0] == 0.5 and problem.presence[1, 4] == 1.0
    with pytest.raises(ValueError):
        problem.energy_kwh[0] = 3.0
    with pytest.raises(AttributeError, match="immutable"):
        problem.energy_kwh = None
    assert problem.ancestors().tolist() == [[0, -1], [1, 0], [2, 0]]
    np.testing.assert_array_equal(problem.subtree_sum(np.array([1.0, 2.0, 3.0])), [6.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arrival_slot": [0, 5], "departure_slot": [8, 5]}, "departure_slot[1]"),
        ({"arrival_slot": [0, 6], "departure_slot": [8, 5]}, "departure_slot[1]"),
        ({"departure_slot": [9, 5]}, "departure_slot[0]"),
        ({"arrival_slot": [-1, 2]}, "arrival_slot[0]"),
        ({"energy_kwh": [10.0, -1.0]}, "energy_kwh[1]"),
        ({"energy_kwh": [10.0]}, "energy_kwh"),
        ({"power_max_kw": [11.0, np.nan]}, "power_max_kw[1, 0]"),
        ({"price_eur_per_kwh": np.full(8, np.nan)}, "price_eur_per_kwh[0]"),
        ({"price_eur_per_kwh": np.ones(7)}, "price_eur_per_kwh"),
        ({"node_parent": [0, 0, 0]}, "node_parent[0]"),
        ({"node_parent": [-1, 2, 1]}, "node_parent[1]"),
        ({"node_parent": [-1, 5, 0]}, "node_parent[1]"),
        ({"node_of_session": [1, 3]}, "node_of_session[1]"),
        ({"node_capacity_kw": [20.0, -1.0, 1.0]}, "node_capacity_kw[1, 0]"),
        ({"profile_type": "CHEAPEST"}, "profile_type[0]"),
        ({"arrival_slot": "early"}, "arrival_slot"),
        ({"grid": "today"}, "grid"),
    ],
)
def test_bad_arguments_are_named(change, field):
    with pytest.raises(InputError) as info:
        ChargingProblem.from_arrays(**{**GOOD, **change})
    assert info.value.field == field


def test_profile_types_per_session_and_ocpi_strings():
    problem = ChargingProblem.from_arrays(**GOOD, profile_type=["FAST", "GREEN"])
    assert problem.profile_type.tolist() == [1, 2]


def test_from_scenario_of_bundled_site():
    scenario = Scenario.load("examples/scenarios/residential_street.json")
    problem = ChargingProblem.from_scenario(scenario)
    assert problem.n_sessions == 20 and problem.n_nodes == 21
    # single-phase 7.4 kW chargers wired to one phase
    assert problem.session_phases.sum(axis=1).min() == 1
    # the feeder limit is tighter in the evening
    assert problem.node_capacity_kw[0].min() == 70.0 and problem.node_capacity_kw[0].max() == 160.0
    # partial first slots: plug-in times are not on slot edges
    first = problem.presence[np.arange(problem.n_sessions), problem.arrival_slot]
    assert (first < 1.0).any() and (first > 0).all()
    assert set(problem.evse_uids) == {f"HOME-{k:02d}" for k in range(1, 21)}


def test_from_scenario_rejects_other_objects():
    with pytest.raises(InputError, match="Scenario"):
        ChargingProblem.from_scenario({"name": "x"})


def test_installed_limits_cap_session_power():
    raw = Scenario.load("examples/scenarios/office_depot.json").model_dump(mode="json")
    raw["evse_limits"] = [
        {
            "evse_uid": "CS-A00-L",
            "ocpp_profiles": [
                {
                    "id": 7,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [
                        {
                            "id": 1,
                            "startSchedule": "2026-03-02T00:00:00Z",
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [
                                {"startPeriod": 0, "limit": 6.0},
                                {"startPeriod": 43200, "limit": 10.0},
                            ],
                        }
                    ],
                }
            ],
        },
        {
            "evse_uid": "CS-A01-L",
            "ocpi_profile": {
                "start_date_time": "2026-03-02T10:00:00Z",
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 3000.0}],
            },
        },
    ]
    problem = ChargingProblem.from_scenario(Scenario.model_validate(raw))
    first = problem.evse_uids.index("CS-A00-L")
    window = problem.presence[first] > 0
    noon = problem.grid.index_of(datetime(2026, 3, 2, 12, tzinfo=timezone.utc))
    caps = problem.power_max_kw[first]
    np.testing.assert_allclose(caps[window & (np.arange(96) < noon)], 6 * 230 * 3 / 1000)
    np.testing.assert_allclose(caps[window & (np.arange(96) >= noon)], 10 * 230 * 3 / 1000)
    second = problem.evse_uids.index("CS-A01-L")
    ten = problem.grid.index_of(datetime(2026, 3, 2, 10, tzinfo=timezone.utc))
    window = problem.presence[second] > 0
    assert problem.power_max_kw[second][window & (np.arange(96) >= ten)].max() == 3.0
    assert problem.power_max_kw[second][window & (np.arange(96) < ten)].max() > 3.0


def test_session_without_need_takes_what_it_can_including_partial_slots():
    raw = Scenario.load("examples/scenarios/residential_street.json").model_dump(mode="json")
    del raw["charging_preferences"]["H-01"]["energy_need"]
    problem = ChargingProblem.from_scenario(Scenario.model_validate(raw))
    row = problem.session_ids.index("H-01")
    assert problem.presence[row, problem.arrival_slot[row]] < 1.0  # arrives inside a slot
    own_kwh = (problem.power_max_kw[row] * problem.slot_energy_h[row]).sum()
    assert problem.energy_kwh[row] == pytest.approx(own_kwh, rel=1e-12)


def test_replacing_only_the_target_bands_equals_a_rebuild_and_checks_them():
    from fera_flex.scenarios import random_problem

    problem = random_problem(12, n_slots=16, seed=4)
    low = np.full((problem.n_nodes, 16), -np.inf)
    high = np.full((problem.n_nodes, 16), np.inf)
    low[0, 3:6], high[0, 3:6] = 5.0, 9.0
    fast = problem.replace(node_target_min_kw=low, node_target_max_kw=high)
    arguments = problem._arguments()
    arguments.update(node_target_min_kw=low, node_target_max_kw=high)
    assert fast == ChargingProblem.from_arrays(**arguments)
    assert fast.metadata == problem.metadata
    low[0, 3] = 100.0  # the caller's array is copied
    assert fast.node_target_min_kw[0, 3] == 5.0
    assert fast.node_capacity_kw is problem.node_capacity_kw  # read-only arrays are shared
    with pytest.raises(InputError, match=r"node_target_max_kw\[0, 3\]"):
        problem.replace(node_target_min_kw=low, node_target_max_kw=high)
    with pytest.raises(InputError, match="node_target_min_kw"):
        problem.replace(node_target_min_kw=np.zeros((problem.n_nodes, 5)))
