"""Every emitted offer is deliverable: activations inside it are split within every limit."""

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.flexibility import disaggregate, dispatch_deviation_kw
from fera_flex.flexibility.offers import box_offer, flexibility_offers, options_offer
from fera_flex.models.fera import FlexibilityDispatch, FlexibilityOffer
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from tests.flexibility.test_aggregate import brute_force, small_problem
from tests.scheduling import independent

DEVIATION_KW = 1e-5  # the stage tolerance of a followed dispatch (see test_disaggregate)


def activations(offer, rng, count):
    """Box corners and random points of a box offer, over its window."""
    low, high = offer.power_min_kw, offer.power_max_kw
    yield low
    yield high
    for _ in range(count):
        corner = rng.random(low.size) < 0.5
        yield np.where(corner, high, low)
        yield rng.uniform(low, high)


def follow(problem, offer, profile):
    dispatch = FlexibilityDispatch(
        id="a",
        node_id=offer.node_id,
        start=offer.grid.start,
        step_s=offer.grid.step_s,
        power_kw=profile.tolist(),
    )
    return disaggregate(problem, dispatch)


@pytest.mark.parametrize("seed", range(4))
def test_box_offers_are_deliverable_at_their_corners_and_inside(seed):
    problem = random_problem(30, 24, seed=seed)
    plan = schedule(problem)
    rng = np.random.default_rng(seed)
    offer = box_offer(problem, 0, plan, window=(6, 10))
    assert offer.kept_up > 0 or offer.kept_down > 0  # the offer is not empty
    assert (offer.power_min_kw <= offer.baseline_kw + 1e-9).all()
    assert (offer.baseline_kw <= offer.power_max_kw + 1e-9).all()
    for profile in activations(offer, rng, 4):
        followed = follow(problem, offer, profile)
        assert np.abs(dispatch_deviation_kw(followed)).max() < DEVIATION_KW
        assert verify_plan(followed.problem, followed) == []
        assert independent.violations(problem, followed.charge_kw, followed.discharge_kw) == []


@pytest.mark.parametrize("node_limits", [False, True], ids=["boxes", "node-limits"])
@pytest.mark.parametrize("seed", range(8))
def test_box_corners_are_in_the_set_by_an_independent_lp(seed, node_limits):
    problem = small_problem(seed, n=6, n_slots=6, node_limits=node_limits)
    if brute_force(problem, 0, np.zeros(problem.n_slots)) is None:
        return
    offer = box_offer(problem, 0, window=(1, 4))
    dt_h = problem.grid.dt_h
    rng = np.random.default_rng(seed)
    for profile in activations(offer, rng, 3):
        fixed = np.full(problem.n_slots, np.nan)  # the window pinned, the other slots free
        fixed[1:4] = profile * dt_h
        assert brute_force(problem, 0, np.zeros(problem.n_slots), fixed) is not None, profile


@pytest.mark.parametrize("seed", range(3))
def test_options_are_members_and_priced_against_the_baseline(seed):
    problem = random_problem(25, 24, seed=seed)
    plan = schedule(problem)
    offer = options_offer(problem, 0, plan, window=(8, 12))
    assert offer.options_kw.shape[1] == 4 and 1 <= offer.options_kw.shape[0] <= 4
    for profile, cost in zip(offer.options_kw, offer.option_cost_eur, strict=True):
        followed = follow(problem, offer, profile)
        assert np.abs(dispatch_deviation_kw(followed)).max() < DEVIATION_KW
        assert independent.violations(problem, followed.charge_kw, followed.discharge_kw) == []
        assert cost == pytest.approx(followed.objective_eur - plan.objective_eur, abs=1e-6)
        assert cost >= -1e-6  # the baseline is the optimum: deviating never pays


def test_offers_for_every_node_and_their_fera_form():
    problem = random_problem(20, 16, seed=5)
    offers = flexibility_offers(problem, window=(2, 6))
    assert {offer.node_id for offer in offers} == {
        problem.node_ids[k] for k in range(problem.n_nodes) if problem.sessions_under(k).size
    }
    fera = offers[0].to_fera("offer-1")
    assert isinstance(fera, FlexibilityOffer) and fera.shape == "box" and len(fera.baseline_kw) == 4
    options = flexibility_offers(problem, nodes=[0], shape="options", window=(2, 6))[0]
    assert options.to_fera("offer-2").shape == "options"
    with pytest.raises(InputError, match="shape"):
        flexibility_offers(problem, shape="zonotope")
    with pytest.raises(InputError, match="window"):
        box_offer(problem, 0, window=(5, 2))
