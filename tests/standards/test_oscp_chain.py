"""OSCP end to end on a bundled site: a forecast in, a plan within it, OCPP out, adjust back."""

import json
from datetime import timedelta
from pathlib import Path

import numpy as np

import fera_flex as ff
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.verify import verify_plan
from fera_flex.standards.oscp import (
    AdjustGroupCapacityForecast,
    UpdateGroupCapacityForecast,
    adjust_forecast,
    compliance_error,
    with_forecast,
)
from tests.models.ocpp.schemas import validator
from tests.scheduling import independent

SCENARIO = Path(__file__).parents[2] / "examples" / "scenarios" / "office_depot.json"


def test_forecast_plan_ocpp_and_adjust_on_the_office_depot():
    problem = ff.ChargingProblem.from_scenario(Scenario.model_validate_json(SCENARIO.read_text()))
    free = ff.schedule(problem, method="highs")
    grid = problem.grid
    load = problem.node_loads_kw(free.charge_kw)[0] + problem.node_base_load_kw[0]
    # the DSO allows 60 % of the unconstrained peak from 08:00 to 12:00 (slots 32..47)
    start = grid.start + timedelta(seconds=32 * grid.step_s)
    end = grid.start + timedelta(seconds=48 * grid.step_s)
    cap_kw = round(0.6 * float(load[32:48].max()), 1)
    message = {
        "group_id": problem.node_ids[0],
        "type": "CONSUMPTION",
        "forecasted_blocks": [
            {
                "capacity": cap_kw,
                "phase": "ALL",
                "unit": "KW",
                "start_time": start.isoformat(),
                "end_time": end.isoformat(),
            }
        ],
    }
    forecast = UpdateGroupCapacityForecast.model_validate_json(json.dumps(message))
    limited = with_forecast(problem, forecast)
    plan = ff.schedule(limited, method="highs")
    assert compliance_error(limited, forecast, plan=plan) is None
    assert compliance_error(problem, forecast, plan=free) is not None  # the free plan breaks it
    assert verify_plan(limited, plan) == []
    assert independent.violations(limited, plan.charge_kw, plan.discharge_kw) == []
    # checked against the message's own number, from the plan's power arrays
    site_kw = plan.charge_kw.sum(axis=0) + problem.node_base_load_kw[0]
    assert (site_kw[32:48] <= cap_kw + 1e-6).all()
    assert site_kw[32:48].max() > 0.5 * cap_kw  # the forecast binds, it does not stop charging
    requests = plan.to_ocpp_requests({s: k + 1 for k, s in enumerate(plan.session_ids)})
    check = validator("SetChargingProfileRequest")
    limit_w = np.zeros(grid.n)
    for index, request in enumerate(requests):
        check.validate(json.loads(request.model_dump_json(by_alias=True, exclude_none=True)))
        schedule = request.charging_profile.charging_schedule[0]
        start_s = int(schedule.start_schedule.timestamp())
        periods = schedule.charging_schedule_period
        for k, period in enumerate(periods):
            end_s = start_s + (periods[k + 1].start_period if k + 1 < len(periods) else 10**9)
            first = grid.index_of(start_s + period.start_period)
            for slot in range(first, grid.n):
                if grid.start_s + slot * grid.step_s >= end_s:
                    break
                assert period.limit / 1000 <= plan.charge_kw[index, slot] + 1e-9
                limit_w[slot] += period.limit
    # the stations' limits together stay within the DSO's capacity
    assert (limit_w[32:48] / 1000 + problem.node_base_load_kw[0, 32:48] <= cap_kw + 1e-6).all()
    adjust = adjust_forecast(plan, problem.node_ids[0])
    parsed = AdjustGroupCapacityForecast.model_validate_json(adjust.model_dump_json())
    asked = {block.start_time: block.capacity for block in parsed.forecasted_blocks}
    assert max(asked.values()) >= float(site_kw.max()) - 1e-6
