"""Dispatches turned into per-session plans: exact where feasible, closest otherwise."""

from datetime import timedelta

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.flexibility import aggregate, disaggregate, dispatch_deviation_kw
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scenarios import random_problem
from fera_flex.scenarios.sites import office_depot
from fera_flex.scheduling.dispatch import dispatch_targets
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from fera_flex.timeseries import Profile
from tests.scheduling import independent

# a dispatch is followed to the stage tolerance: the TRACK optimum is passed on to the cost stage
# with 1e-7 kWh of slack per targeted slot (schedule.FEASIBILITY_SLACK), which the cost stage
# may use; 1e-5 kW is well above that and far below any real deviation
DEVIATION_KW = 1e-5


@pytest.mark.parametrize("seed", range(6))
def test_feasible_activations_are_realised_exactly(seed):
    problem = random_problem(30, 24, seed=seed)
    rng = np.random.default_rng(seed)
    for node in (0, 1, int(problem.node_of_session[0])):
        flexibility = aggregate(problem, node)
        wanted = flexibility.optimise(rng.normal(0.2, 0.2, problem.n_slots))
        # the node's set leaves out the limits above it (shared with other nodes): follow the
        # activation in the node's own subtree
        sub = problem.subtree(node) if flexibility.upstream_limits else problem
        plan = disaggregate(sub, {problem.node_ids[node]: wanted})
        assert np.abs(dispatch_deviation_kw(plan)).max() < DEVIATION_KW
        assert verify_plan(plan.problem, plan) == []
        assert independent.violations(sub, plan.charge_kw, plan.discharge_kw) == []
        # every need is still met: the dispatch is inside the set
        np.testing.assert_allclose(plan.delivered_kwh, plan.problem.energy_min_kwh, rtol=1e-6)


def test_an_infeasible_dispatch_gives_the_closest_plan_and_its_deviation():
    problem = random_problem(30, 24, seed=3)
    baseline = schedule(problem)
    root = problem.node_loads_kw(baseline.charge_kw)[0]
    wanted = root.copy()
    wanted[5:9] = 0.0  # the fleet cannot all wait four hours
    plan = disaggregate(problem, {0: wanted})
    deviation = dispatch_deviation_kw(plan)
    assert verify_plan(plan.problem, plan) == []
    assert np.abs(deviation).sum() > 0  # reported, not hidden
    # no worse than simply keeping the baseline
    assert np.abs(deviation).sum() <= np.abs(root - wanted).sum() + 1e-6
    assert np.abs(deviation[1:]).max() == 0.0  # only the dispatched node has a band


def test_dispatch_objects_lists_and_profiles_name_their_slots():
    problem = random_problem(10, 24, seed=1)
    grid = problem.grid
    first = FlexibilityDispatch(
        id="d1",
        node_id=problem.node_ids[0],
        start=grid.start + timedelta(hours=2),
        step_s=grid.step_s,
        power_kw=[10.0, 12.0],
    )
    target = dispatch_targets(problem, first)
    assert np.flatnonzero(~np.isnan(target[0])).tolist() == [2, 3]
    second = FlexibilityDispatch(
        id="d2", node_id=problem.node_ids[1], start=grid.start, step_s=grid.step_s, power_kw=[1.0]
    )
    both = dispatch_targets(problem, [first, second])
    assert (~np.isnan(both)).sum() == 3
    profile = Profile([grid.start_s + 3600 * 5], [7.0], end_s=grid.start_s + 3600 * 8)
    target = dispatch_targets(problem, {problem.node_ids[0]: profile})
    assert np.flatnonzero(~np.isnan(target[0])).tolist() == [5, 6, 7]


@pytest.mark.parametrize(
    ("dispatch", "message"),
    [
        ({"no-such-node": np.zeros(24)}, "no such node"),
        ({0: np.full(24, np.nan)}, "finite"),
        ({0: np.zeros(5)}, "one per slot"),
    ],
)
def test_bad_mappings_are_named(dispatch, message):
    with pytest.raises(InputError, match=message):
        disaggregate(random_problem(10, 24, seed=1), dispatch)


def test_bad_dispatch_objects_are_named():
    problem = random_problem(10, 24, seed=1)
    grid = problem.grid

    def dispatch(**fields):
        base = {"id": "d", "node_id": problem.node_ids[0], "start": grid.start}
        return FlexibilityDispatch(**{**base, "step_s": grid.step_s, "power_kw": [1.0], **fields})

    with pytest.raises(InputError, match="grid"):
        dispatch_targets(problem, dispatch(step_s=900))
    with pytest.raises(InputError, match="grid"):
        dispatch_targets(problem, dispatch(start=grid.start + timedelta(minutes=7)))
    with pytest.raises(InputError, match="horizon"):
        dispatch_targets(problem, dispatch(start=grid.start + timedelta(hours=23), power_kw=[1, 2]))
    with pytest.raises(InputError, match="overlaps"):
        dispatch_targets(problem, [dispatch(id="a"), dispatch(id="b")])
    with pytest.raises(InputError, match="dispatch"):
        dispatch_targets(problem, "not a dispatch")


def test_a_scenario_with_dispatches_is_followed():
    scenario = office_depot()
    problem = ChargingProblem.from_scenario(scenario)
    baseline = schedule(problem)
    node = 0
    flexibility = aggregate(problem, node)
    assert not flexibility.exact and "partial-slot" in flexibility.reason  # arrivals mid-slot
    wanted = flexibility.optimise(np.linspace(0.1, 0.5, problem.n_slots))  # by the LP
    dispatch = FlexibilityDispatch(
        id="activation-1",
        node_id=problem.node_ids[node],
        start=problem.grid.start,
        step_s=problem.grid.step_s,
        power_kw=wanted[:8].tolist(),
    )
    with_dispatch = scenario.model_copy(update={"flexibility_dispatches": [dispatch]})
    followed = schedule(ChargingProblem.from_scenario(with_dispatch))
    assert "track" in followed.stages
    assert np.abs(dispatch_deviation_kw(followed)).max() < DEVIATION_KW
    assert baseline.problem.node_target_min_kw[node, :8].tolist() != wanted[:8].tolist()
