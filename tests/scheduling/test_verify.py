from datetime import datetime, timezone

import numpy as np
import pytest

from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.verify import verify_power
from fera_flex.timeseries import TimeGrid

GRID = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 3600, 4)


def problem(**changes):
    args = dict(
        grid=GRID,
        arrival_slot=[0, 1],
        departure_slot=[4, 3],
        energy_kwh=[20.0, 10.0],
        power_max_kw=11.0,
        node_of_session=[1, 1],
        node_parent=[-1, 0],
        node_capacity_kw=[50.0, 15.0],
        price_eur_per_kwh=[0.3, 0.2, 0.1, 0.4],
        discharge_max_kw=[5.0, 0.0],
        power_min_kw=[0.0, 4.0],
        export_capacity_kw=[50.0, 3.0],
        phase_current_max_a=[np.inf, 25.0],
        session_phases=[[True, True, True], [True, False, False]],
    )
    args.update(changes)
    return ChargingProblem.from_arrays(**args)


def kinds(p, charge, discharge=None):
    discharge = np.zeros_like(charge) if discharge is None else discharge
    return sorted({v.kind for v in verify_power(p, charge, discharge)})


def test_feasible_plan_has_no_violation():
    p = problem()
    charge = np.array([[5.0, 5.0, 5.0, 5.0], [0.0, 4.0, 4.0, 0.0]])
    assert kinds(p, charge) == []


@pytest.mark.parametrize(
    ("charge", "expected"),
    [
        ([[12.0, 0, 0, 0], [0, 0, 0, 0]], ["power_max"]),
        ([[0, 0, 0, 0], [4.0, 0, 0, 0]], ["outside_window", "power_max"]),
        ([[-1.0, 0, 0, 0], [0, 0, 0, 0]], ["battery", "negative"]),
        ([[0, 0, 0, 0], [0, 2.0, 0, 0]], ["min_rate"]),
        ([[11.0, 11.0, 0, 0], [0, 0, 0, 0]], ["energy"]),
        ([[0, 11.0, 0, 0], [0, 4.6, 0, 0]], ["node_import", "phase_current"]),
        ([[0, 0, 0, 0], [0, 0, 6.0, 0]], ["phase_current"]),
    ],
)
def test_each_violation_kind_detected(charge, expected):
    assert kinds(problem(), np.array(charge, dtype=float)) == expected


def test_discharge_checks():
    p = problem()
    charge = np.zeros((2, 4))
    discharge = np.zeros((2, 4))
    discharge[0, 0] = 2.0  # before charging anything: the battery would go below its arrival level
    assert "battery" in kinds(p, charge, discharge)
    charge[0, 0], discharge[0, 1] = 6.0, 4.0  # export 4 kW through a 3 kW export limit
    assert kinds(p, charge, discharge) == ["node_export"]
    discharge[0, 1] = 6.0
    assert "discharge_max" in kinds(p, charge, discharge)


def test_overload_from_base_load_is_not_the_plans_fault():
    p = problem(base_load_kw=[[0, 0, 0, 0], [20.0, 20.0, 20.0, 20.0]])
    assert kinds(p, np.zeros((2, 4))) == []
    charge = np.zeros((2, 4))
    charge[0, 0] = 0.5
    assert kinds(p, charge) == ["node_import", "phase_current"]


def test_violation_text_names_place_and_slot():
    violation = verify_power(
        problem(), np.array([[12.0, 0, 0, 0], [0, 0, 0, 0]]), np.zeros((2, 4))
    )[0]
    assert str(violation) == "power_max at s0 in slot 0: 12 beyond 11"
