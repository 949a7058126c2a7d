"""Offers of several nodes under one limit are deliverable together; offers resample to ISPs."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import fera_flex as ff
from fera_flex.errors import InputError
from fera_flex.flexibility import battery_offer, box_offer, disaggregate, dispatch_deviation_kw
from fera_flex.flexibility.offers import flexibility_offers
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from tests.flexibility.test_battery import deviation_bound_kw, trajectories
from tests.scheduling import independent


def two_feeders(seed: int):
    """Two feeders of generous limits under a transformer that cannot take both at full power."""
    rng = np.random.default_rng(seed)
    n, n_slots = 12, 16
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=30), n_slots)
    arrival = rng.integers(0, 4, n)
    departure = rng.integers(12, n_slots + 1, n)
    power = rng.choice([7.4, 11.0], n)
    most = power * (departure - arrival) * 0.5
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=arrival,
        departure_slot=departure,
        energy_min_kwh=most * rng.uniform(0.1, 0.4, n),
        energy_max_kwh=most,  # room to take more without giving it back elsewhere
        power_max_kw=power,
        node_of_session=np.arange(n) % 2 + 1,
        node_parent=[-1, 0, 0],
        node_capacity_kw=[60.0, 60.0, 60.0],
        price_eur_per_kwh=np.linspace(0.2, 0.4, n_slots),
    )


def dispatch(offer, profile):
    return FlexibilityDispatch(
        id=f"a-{offer.node_id}",
        node_id=offer.node_id,
        start=offer.grid.start,
        step_s=offer.grid.step_s,
        power_kw=list(profile),
    )


@pytest.mark.parametrize("shape", ["box", "battery"])
@pytest.mark.parametrize("seed", range(3))
def test_offers_of_two_feeders_are_delivered_together(seed, shape):
    problem = two_feeders(seed)
    plan = schedule(problem)
    window = (4, 10)
    offers = flexibility_offers(problem, plan, nodes=[1, 2], shape=shape, window=window)
    rng = np.random.default_rng(seed)
    if shape == "box":
        highs = [offer.power_max_kw for offer in offers]
    else:
        highs = [next(trajectories(offer, rng)) for offer in offers]  # each at its most
    both = disaggregate(problem, [dispatch(o, h) for o, h in zip(offers, highs, strict=True)])
    bound = deviation_bound_kw(problem, 2 * (window[1] - window[0]))
    assert np.abs(dispatch_deviation_kw(both)).max() <= bound
    assert verify_plan(both.problem, both) == []
    assert independent.violations(problem, both.charge_kw, both.discharge_kw) == []
    # the transformer is what binds: the feeders' offers made alone would break it together
    alone = [box_offer(problem, node, plan, window) for node in (1, 2)]
    together = sum(offer.power_max_kw for offer in alone)
    assert (together > problem.node_ev_max_kw[0, window[0] : window[1]] + 1.0).any()


def test_the_transformer_headroom_is_split_in_proportion_to_the_feeders_rooms():
    problem = two_feeders(0)
    plan = schedule(problem)
    offers = flexibility_offers(problem, plan, nodes=[1, 2], window=(4, 10))
    load = problem.node_loads_kw(plan.charge_kw)
    top = sum(offer.power_max_kw for offer in offers)
    headroom = problem.node_ev_max_kw[0, 4:10] - load[0, 4:10]
    assert (top <= load[0, 4:10] + headroom + 1e-6).all()  # never more than the transformer takes


def test_offers_of_nested_nodes_are_each_deliverable_alone():
    problem = random_problem(20, 16, seed=5)
    plan = schedule(problem)
    offers = flexibility_offers(problem, plan, window=(2, 6))
    for offer in offers[:3]:
        followed = disaggregate(problem, dispatch(offer, offer.power_max_kw))
        assert np.abs(dispatch_deviation_kw(followed)).max() <= deviation_bound_kw(problem, 4)


def quarter_hour_problem():
    return random_problem(15, 96, seed=3)  # one day of 15-minute slots from midnight


def test_hourly_box_and_battery_are_delivered_on_the_quarter_hours():
    problem = quarter_hour_problem()
    plan = schedule(problem)
    rng = np.random.default_rng(0)
    hourly = timedelta(hours=1)
    box, battery = (
        flexibility_offers(
            problem, plan, nodes=[0], shape=shape, window=(32, 48), resolution=hourly
        )[0]
        for shape in ("box", "battery")
    )
    assert box.grid.step_s == 3600 and box.baseline_kw.size == 4
    coarse = [box.power_min_kw, box.power_max_kw, rng.uniform(box.power_min_kw, box.power_max_kw)]
    coarse += list(trajectories(battery, rng, count=1))
    for offer, profile in [(box, p) for p in coarse[:3]] + [(battery, p) for p in coarse[3:]]:
        grid, fine = offer.lifted(profile)
        assert grid.step_s == 900
        np.testing.assert_allclose(fine.reshape(-1, 4).mean(axis=1), profile, atol=1e-9)
        followed = disaggregate(problem, dispatch(offer.fine, fine))
        assert np.abs(dispatch_deviation_kw(followed)).max() <= deviation_bound_kw(problem, 16)


def test_resampling_and_lifting_refuse_what_they_cannot_keep():
    problem = quarter_hour_problem()
    plan = schedule(problem)
    offer = box_offer(problem, 0, plan, window=(33, 49))
    with pytest.raises(InputError, match="clock"):
        offer.resampled(timedelta(hours=1))  # starts at a quarter past
    with pytest.raises(InputError, match="multiple"):
        offer.resampled(timedelta(minutes=20))
    hourly = box_offer(problem, 0, plan, window=(32, 48)).resampled(3600)
    with pytest.raises(InputError, match="outside the offer's power range"):
        hourly.lifted(hourly.power_max_kw + 1.0)
    with pytest.raises(InputError, match="power_kw"):
        hourly.lifted([1.0])
    battery = battery_offer(problem, 0, plan, window=(32, 48)).resampled(3600)
    assert battery.energy_max_kwh.size == 4
    with pytest.raises(InputError, match="resolution"):
        flexibility_offers(problem, plan, nodes=[0], resolution={"n1": 3600})


@pytest.mark.parametrize("shape", ["box", "battery"])
def test_offers_around_a_plan_that_leaves_needs_short_keep_every_session_at_its_baseline(shape):
    """Congested: the set under every need met is empty; offers keep what the baseline delivers."""
    problem = random_problem(30, 24, seed=2, overload=1.6)
    plan = schedule(problem)
    assert plan.status.value == "partial"
    offers = flexibility_offers(problem, plan, shape=shape, window=(6, 12))
    root = next(offer for offer in offers if offer.node_id == problem.node_ids[0])
    profile = (
        root.power_min_kw if shape == "box" else next(trajectories(root, np.random.default_rng(0)))
    )
    followed = disaggregate(problem, dispatch(root, profile))
    assert np.abs(dispatch_deviation_kw(followed)).max() <= 1e-4
    assert independent.violations(problem, followed.charge_kw, followed.discharge_kw) == []
    # the activation costs no energy: the plan keeps the baseline's total and fairness
    # (disaggregate may move energy between sessions among equally good plans)
    before = problem.battery_gain_kwh(plan.charge_kw, plan.discharge_kw).sum(axis=1)
    after = problem.battery_gain_kwh(followed.charge_kw, followed.discharge_kw).sum(axis=1)
    assert after.sum() >= before.sum() - 1e-4
    need = problem.energy_min_kwh
    assert ((need - after) / need).max() <= ((need - before) / need).max() + 1e-6


def _share_one_by_one(problem, load_kw, node, rivals):
    """The sharing rule for one node, rival by rival: the reference for the batched shares."""
    ancestors = problem.ancestors()
    above = ancestors[node, 1:]
    above = above[above >= 0]
    ev_max = problem.node_ev_max_kw
    if not np.isfinite(ev_max[above]).any():
        return None
    others = np.setdiff1d(np.asarray(rivals, dtype=np.int64), [node])

    def room(k):
        return np.maximum(
            np.minimum(problem.node_ev_max_kw[k], problem.node_power_max_kw[k]) - load_kw[k], 0.0
        )

    cap = ev_max[node].copy()
    for u in above:
        if not np.isfinite(ev_max[u]).any():
            continue
        sharing = [node]
        for other in others:
            line = ancestors[other]
            nested = node in line or other in ancestors[node]
            if not nested and u in line[1:]:
                sharing.append(other)
        headroom = np.maximum(ev_max[u] - load_kw[u], 0.0)
        rooms = np.array([room(k) for k in sharing])
        total = rooms.sum(axis=0)
        fraction = np.where(total > 0, rooms[0] / np.where(total > 0, total, 1.0), 1 / len(sharing))
        with np.errstate(invalid="ignore"):
            share = np.where(np.isinf(headroom), np.inf, fraction * headroom)
        cap = np.minimum(cap, load_kw[node] + share)
    return cap


@pytest.mark.parametrize("seed", range(12))
def test_batched_shares_equal_the_rule_node_by_node(seed):
    from fera_flex.flexibility.sharing import upstream_share_kw

    rng = np.random.default_rng(seed)
    problem = random_problem(60, 16, seed=seed, overload=1.5)
    load = problem.node_loads_kw(schedule(problem).charge_kw)
    nodes = rng.permutation(problem.n_nodes)[: rng.integers(1, problem.n_nodes + 1)]
    for node in nodes:
        rivals = [k for k in nodes if k != node]
        got = upstream_share_kw(problem, load, int(node), rivals)
        expected = _share_one_by_one(problem, load, int(node), rivals)
        if expected is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
