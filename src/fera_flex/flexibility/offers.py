"""Deliverable flexibility offers per node: boxes and discrete options, inside the exact set.

An offer covers a **window** of slots (``window=(first_slot, stop_slot)``,
by default the whole horizon): an activation fixes the node's load inside
it, and outside it the plan stays free to compensate within every limit and
need. Every offer is **deliverable**: whatever the aggregator activates
within its rules has a split over the sessions.

- **box**: per slot a power range ``power_min_kw <= baseline_kw <= power_max_kw``
  such that every profile inside the box is deliverable. For a
  g-polymatroid ``Q`` and a box ``[lo, hi]`` on the window ``W``, the box lies
  in the projection of ``Q`` onto ``W`` exactly when ``hi(A) <= b(A)`` and
  ``lo(A) >= p(A)`` for every ``A`` in ``W``, and by Frank's intersection
  theorem for g-polymatroids each of the two holds exactly when one profile
  of ``Q`` is at least ``hi`` (respectively at most ``lo``) on ``W``: two
  feasibility checks instead of ``2^|W|``. The box is the baseline widened by
  the largest common fraction of each slot's own up (down) room for which
  that check passes (bisection on the fraction).
- **options**: a few alternative profiles, each a member of the set (the
  set's optimum for a price that favours more, less, earlier or later load
  in the window), priced by its opportunity cost: the plan that follows it
  against the baseline plan, in EUR.

Each offer reports how much of the exact per-slot flexibility it keeps
(``kept_up`` / ``kept_down``: its up and down energy over the window as a
fraction of the set's per-slot extremes ``b({t})`` / ``p({t})``).

Offers are for one node on its own subtree; limits above the node that
other nodes share are not allocated between them yet (see
``NodeFlexibility.upstream_limits``).

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(20, n_slots=16, seed=2)
>>> offer = box_offer(problem, 0, window=(4, 8))
>>> offer.shape, offer.baseline_kw.size, bool((offer.power_min_kw <= offer.power_max_kw).all())
('box', 4, True)
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.flexibility.aggregate import NodeFlexibility, aggregate
from fera_flex.flexibility.disaggregate import disaggregate
from fera_flex.models.fera import FlexibilityDispatch, FlexibilityOffer
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.timeseries import TimeGrid

__all__ = ["BISECTION_STEPS", "NodeOffer", "box_offer", "flexibility_offers", "options_offer"]

BISECTION_STEPS = 24
"""Halvings of the box's widening fraction (it is found to within 2**-24 of its largest value)."""


@dataclass(frozen=True)
class NodeOffer:
    """A deliverable offer of one node over a window.

    Attributes
    ----------
    node_id : str
    grid : TimeGrid
        The window's slots.
    window : (int, int)
        First and stop slot of the window in the problem's grid.
    shape : str
        ``"box"`` or ``"options"``.
    baseline_kw, power_min_kw, power_max_kw : ndarray (W,)
        The planned node load and the offer's range per slot [kW] (for
        options: the range the options span).
    options_kw : ndarray (k, W) or None
        The alternative profiles of an options offer.
    option_cost_eur : ndarray (k,) or None
        Each option's opportunity cost against the baseline [EUR].
    kept_up, kept_down : float
        Up and down energy of the offer as fractions of the exact per-slot
        extremes over the window (1 when there is no room at all).
    """

    node_id: str
    grid: TimeGrid
    window: tuple[int, int]
    shape: str
    baseline_kw: NDArray[np.float64]
    power_min_kw: NDArray[np.float64]
    power_max_kw: NDArray[np.float64]
    kept_up: float
    kept_down: float
    options_kw: NDArray[np.float64] | None = None
    option_cost_eur: NDArray[np.float64] | None = None

    def to_fera(self, offer_id: str) -> FlexibilityOffer:
        """The offer as a FERA :class:`~fera_flex.models.fera.FlexibilityOffer`."""
        options = None if self.options_kw is None else self.options_kw.tolist()
        return FlexibilityOffer(
            id=offer_id,
            node_id=self.node_id,
            start=self.grid.start,
            step_s=self.grid.step_s,
            shape=self.shape,
            baseline_kw=self.baseline_kw.tolist(),
            power_min_kw=self.power_min_kw.tolist(),
            power_max_kw=self.power_max_kw.tolist(),
            options_kw=options,
            option_prices=None if self.option_cost_eur is None else self.option_cost_eur.tolist(),
            currency=None if self.option_cost_eur is None else "EUR",
        )


def box_offer(
    problem: ChargingProblem,
    node: int | str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    flexibility: NodeFlexibility | None = None,
) -> NodeOffer:
    """The deliverable box offer of a node (see the module documentation)."""
    flexibility, _, baseline, first, stop = _setting(problem, node, plan, window, flexibility)
    inside = slice(first, stop)
    room_up, room_down = _rooms(flexibility, baseline, first, stop)
    free = np.full(problem.n_slots, np.inf)

    def up_ok(fraction):
        lower = np.full(problem.n_slots, -np.inf)
        lower[inside] = (baseline + fraction * room_up)[inside]
        return flexibility.within(lower, free)

    def down_ok(fraction):
        upper = free.copy()
        upper[inside] = (baseline - fraction * room_down)[inside]
        return flexibility.within(-free, upper)

    up, down = _largest(up_ok), _largest(down_ok)
    high = (baseline + up * room_up)[inside]
    low = (baseline - down * room_down)[inside]
    return NodeOffer(
        node_id=flexibility.node_id,
        grid=_window_grid(problem, first, stop),
        window=(first, stop),
        shape="box",
        baseline_kw=baseline[inside],
        power_min_kw=np.minimum(low, baseline[inside]),
        power_max_kw=np.maximum(high, baseline[inside]),
        kept_up=_kept(high - baseline[inside], room_up[inside]),
        kept_down=_kept(baseline[inside] - low, room_down[inside]),
    )


def options_offer(
    problem: ChargingProblem,
    node: int | str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    flexibility: NodeFlexibility | None = None,
) -> NodeOffer:
    """Up to four deliverable alternative profiles of a node, priced against the baseline."""
    flexibility, base_plan, baseline, first, stop = _setting(
        problem, node, plan, window, flexibility
    )
    inside = slice(first, stop)
    n_slots = problem.n_slots
    ramp = np.zeros(n_slots)
    ramp[inside] = np.linspace(-1.0, 1.0, stop - first)
    weight = np.zeros(n_slots)
    weight[inside] = 1.0
    candidates = []
    for price in (-weight, weight, ramp, -ramp):  # more, less, earlier, later in the window
        profile = flexibility.optimise(price)[inside]
        if not any(np.allclose(profile, known, atol=1e-6) for known in candidates):
            candidates.append(profile)
    grid = _window_grid(problem, first, stop)
    costs = []
    for k, profile in enumerate(candidates):
        activation = FlexibilityDispatch(
            id=f"option-{k}",
            node_id=flexibility.node_id,
            start=grid.start,
            step_s=grid.step_s,
            power_kw=profile.tolist(),
        )
        followed = disaggregate(problem, activation)
        costs.append(followed.objective_eur - base_plan.objective_eur)
    options = np.array(candidates)
    room_up, room_down = (room[inside] for room in _rooms(flexibility, baseline, first, stop))
    return NodeOffer(
        node_id=flexibility.node_id,
        grid=grid,
        window=(first, stop),
        shape="options",
        baseline_kw=baseline[inside],
        power_min_kw=np.minimum(options.min(axis=0), baseline[inside]),
        power_max_kw=np.maximum(options.max(axis=0), baseline[inside]),
        kept_up=_kept(np.maximum(options - baseline[inside], 0).max(axis=0), room_up),
        kept_down=_kept(np.maximum(baseline[inside] - options, 0).max(axis=0), room_down),
        options_kw=options,
        option_cost_eur=np.array(costs),
    )


def flexibility_offers(
    problem: ChargingProblem,
    plan: ChargingPlan | None = None,
    nodes: Sequence[int | str] | None = None,
    shape: str = "box",
    window: tuple[int, int] | None = None,
) -> list[NodeOffer]:
    """One deliverable offer per node (default: every node with sessions under it).

    Parameters
    ----------
    problem : ChargingProblem
    plan : ChargingPlan, optional
        The baseline; ``schedule(problem)`` when not given.
    nodes : sequence of node ids or indices, optional
    shape : {"box", "options"}
    window : (first_slot, stop_slot), optional
        The slots the offers cover (default the whole horizon).
    """
    makers = {"box": box_offer, "options": options_offer}
    if shape not in makers:
        raise InputError("flexibility_offers", "shape", shape, f"must be one of {sorted(makers)}")
    plan = plan if plan is not None else schedule(problem)
    if nodes is None:
        nodes = [k for k in range(problem.n_nodes) if problem.sessions_under(k).size]
    return [makers[shape](problem, node, plan, window) for node in nodes]


def _setting(problem, node, plan, window, flexibility):
    """The node's set, the baseline plan, its node load (T,) [kW] and the window's slots."""
    flexibility = flexibility if flexibility is not None else aggregate(problem, node)
    if plan is None:
        plan = schedule(problem)
    if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
        raise InputError(
            "offer", "plan", type(plan).__name__, "must be a plan on the problem's grid"
        )
    index = problem.node_index(node)
    baseline = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[index]
    first, stop = (0, problem.n_slots) if window is None else window
    if not (isinstance(first, (int, np.integer)) and isinstance(stop, (int, np.integer))):
        raise InputError("offer", "window", window, "must be (first_slot, stop_slot) integers")
    if not 0 <= first < stop <= problem.n_slots:
        raise InputError(
            "offer", "window", window, f"must satisfy 0 <= first < stop <= {problem.n_slots}"
        )
    return flexibility, plan, baseline, int(first), int(stop)


def _rooms(flexibility: NodeFlexibility, baseline: NDArray, first: int, stop: int):
    """Each window slot's own up and down room around the baseline [kW], (T,) twice (0 outside).

    The set's per-slot extremes ``b({t})`` / ``p({t})`` over the slot length,
    which an offer's kept fractions are measured against.
    """
    least, most = flexibility.slot_power_range_kw(first, stop)
    up, down = np.zeros(baseline.size), np.zeros(baseline.size)
    up[first:stop] = np.maximum(most - baseline[first:stop], 0.0)
    down[first:stop] = np.maximum(baseline[first:stop] - least, 0.0)
    return up, down


def _largest(ok) -> float:
    """The largest fraction in [0, 1] for which ``ok`` holds (``ok`` monotone, ``ok(0)`` true)."""
    if ok(1.0):
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if ok(middle):
            low = middle
        else:
            high = middle
    return low


def _kept(offered: NDArray, room: NDArray) -> float:
    total = float(room.sum())
    return 1.0 if total <= 0 else float(np.minimum(offered, room).sum() / total)


def _window_grid(problem: ChargingProblem, first: int, stop: int) -> TimeGrid:
    grid = problem.grid
    return TimeGrid(grid.start + timedelta(seconds=first * grid.step_s), grid.step_s, stop - first)
