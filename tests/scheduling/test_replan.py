from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.replan import replan
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan, verify_power

ENERGY_ATOL_KWH = 1e-6
SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "office_depot.json"


def test_past_plus_replanned_future_meets_every_need():
    problem = random_problem(40, seed=8, profile_mix=True)
    plan = schedule(problem)
    now = problem.grid.start + timedelta(hours=11, minutes=5)
    later = replan(plan, now)
    first_free = 45  # 11:05 lies in slot 44
    assert (later.charge_kw[:, :first_free] == 0).all()
    assert verify_plan(later.problem, later, tolerance=0.0) == []
    # executed past + new future, per session still in the problem
    combined = np.zeros_like(plan.charge_kw)
    combined[:, :first_free] = plan.charge_kw[:, :first_free]
    rows = [problem.session_ids.index(s) for s in later.session_ids]
    combined[rows, first_free:] = later.charge_kw[:, first_free:]
    assert verify_power(problem, combined, np.zeros_like(combined), tolerance=1e-6) == []
    delivered = (combined * problem.slot_energy_h).sum(axis=1)
    np.testing.assert_allclose(delivered, problem.energy_kwh, atol=1e-5)


def test_measured_energy_replaces_the_planned_past():
    problem = random_problem(10, seed=3)
    plan = schedule(problem)
    now = problem.grid.start + timedelta(hours=9)  # slot 36: slots 0..36 are past
    straddling = [
        i
        for i in range(problem.n_sessions)
        if problem.arrival_slot[i] < 37 < problem.departure_slot[i]
        and plan.charge_kw[i, :37].sum() > 0
    ]
    index = straddling[0]
    session = problem.session_ids[index]
    planned_past = (plan.charge_kw[index, :37] * problem.slot_energy_h[index, :37]).sum()
    assumed = replan(plan, now)
    measured = replan(plan, now, measured_kwh={session: 0.0})
    row = assumed.session_ids.index(session)
    need = problem.energy_kwh[index]
    assert assumed.problem.energy_kwh[row] == pytest.approx(need - planned_past)
    assert measured.problem.energy_kwh[row] == pytest.approx(need)
    for later in (assumed, measured):
        assert verify_plan(later.problem, later, tolerance=0.0) == []
        shortfall = later.problem.energy_kwh - later.delivered_kwh
        assert later.status is PlanStatus.OPTIMAL or shortfall.max() > 0
        if later.status is PlanStatus.OPTIMAL:
            np.testing.assert_allclose(later.delivered_kwh, later.problem.energy_kwh, atol=1e-5)


def test_scenario_update_adds_a_session():
    scenario = Scenario.load(SCENARIO)
    problem = ChargingProblem.from_scenario(scenario)
    plan = schedule(problem)
    raw = scenario.model_dump(mode="json")
    new = dict(
        raw["sessions"][0], id="S-NEW", evse_uid="CS-B09-R", start_date_time="2026-03-02T12:00:00Z"
    )
    raw["sessions"].append(new)
    raw["arrival_estimates"] = [e for e in raw["arrival_estimates"] if e["evse_uid"] != "CS-B09-R"]
    raw["charging_preferences"]["S-NEW"] = {
        "profile_type": "FAST",
        "departure_time": "2026-03-02T16:00:00Z",
        "energy_need": 15.0,
    }
    later = replan(
        plan, datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc), Scenario.model_validate(raw)
    )
    assert "S-NEW" in later.session_ids
    assert later.status is PlanStatus.OPTIMAL
    row = later.session_ids.index("S-NEW")
    assert later.delivered_kwh[row] == pytest.approx(15.0, abs=ENERGY_ATOL_KWH)
    assert (later.charge_kw[:, :49] == 0).all()


@pytest.mark.parametrize(
    ("when", "kwargs", "field"),
    [
        (timedelta(hours=-1), {}, "now"),
        (timedelta(hours=24), {}, "now"),
        (timedelta(hours=23, minutes=50), {}, "now"),
        (timedelta(hours=3), {"measured_kwh": {"nobody": 1.0}}, "measured_kwh"),
        (timedelta(hours=3), {"measured_kwh": {"s0": -1.0}}, "measured_kwh['s0']"),
    ],
)
def test_bad_arguments_named(when, kwargs, field):
    problem = random_problem(5, seed=1)
    plan = schedule(problem)
    with pytest.raises(InputError) as info:
        replan(plan, problem.grid.start + when, **kwargs)
    assert info.value.field == field


def test_update_must_keep_the_grid():
    plan = schedule(random_problem(5, n_slots=48, seed=1))
    with pytest.raises(InputError, match="horizon"):
        replan(plan, plan.problem.grid.start + timedelta(hours=1), Scenario.load(SCENARIO))


@pytest.mark.parametrize(
    "variant",
    [{"profile_mix": True}, {"v2g_share": 0.4, "profile_mix": True}, {"min_rate_share": 0.5}, {}],
    ids=["regular", "v2g", "min_rate", "cheap"],
)
def test_start_point_of_an_optimal_plan_is_feasible_with_its_objective(variant):
    from fera_flex.scheduling.objective import NodePeakCost, ObjectiveOptions
    from fera_flex.scheduling.standard_form import Stage, StageGoal, build_lp

    problem = random_problem(25, n_slots=48, seed=6, **variant)
    options = ObjectiveOptions(node_peak_costs={"n0": NodePeakCost(0.5, free_kw=10.0)})
    plan = schedule(problem, objective=options)
    lp = build_lp(
        problem,
        options,
        Stage(StageGoal.ECONOMIC, needs_met=True),
        start_power=(plan.charge_kw, plan.discharge_kw),
    )
    x = lp.start
    slack = 1e-5 * np.maximum(1.0, np.abs(lp.row_hi[np.isfinite(lp.row_hi)])).max()
    activity = lp.matrix @ x
    assert (x >= lp.col_lo - 1e-9).all() and (x <= lp.col_hi + 1e-9).all()
    assert (activity <= lp.row_hi + slack).all() and (activity >= lp.row_lo - slack).all()
    objective_eur = (lp.cost @ x + lp.offset) * lp.cost_scale_eur
    assert objective_eur == pytest.approx(plan.objective_eur, rel=1e-5, abs=1e-6)


def test_warm_started_milp_replan_matches_a_cold_one():
    problem = random_problem(30, n_slots=48, seed=2, min_rate_share=1.0)
    plan = schedule(problem)
    now = problem.grid.start + timedelta(hours=10)
    warm = replan(plan, now)
    cold = schedule(warm.problem)
    assert warm.status is cold.status is PlanStatus.OPTIMAL
    assert warm.objective_eur == pytest.approx(cold.objective_eur, rel=1e-3)
    assert verify_plan(warm.problem, warm, tolerance=0.0) == []


def test_start_plan_must_share_the_grid():
    plan = schedule(random_problem(5, n_slots=48, seed=1))
    with pytest.raises(InputError) as info:
        schedule(random_problem(5, seed=1), start_plan=plan)
    assert info.value.field == "start_plan"
