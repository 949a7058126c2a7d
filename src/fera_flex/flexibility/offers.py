"""Deliverable flexibility offers per node: boxes, batteries and discrete options.

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
  that check passes (found exactly by Newton steps on max flows,
  :mod:`fera_flex.flexibility._level`).
- **options**: a few alternative profiles, each a member of the set (the
  set's optimum for a price that favours more, less, earlier or later load
  in the window), priced by its opportunity cost: the plan that follows it
  against the baseline plan, in EUR.

Each offer reports how much of the exact per-slot flexibility it keeps
(``kept_up`` / ``kept_down``: its up and down energy over the window as a
fraction of the set's per-slot extremes ``b({t})`` / ``p({t})``).

A box of a set that is not a g-polymatroid (partial slots, phase limits,
see ``NodeFlexibility.exact``) cannot be proved by the dominance test; it
is then made deliverable by construction, with the witness of
:mod:`fera_flex.flexibility.battery`. A **battery** offer (a power band and
a cumulative-energy band) is made there too.

Limits above a node that other nodes share are allocated between the nodes
offering at the same time (``rivals``; :func:`flexibility_offers` does it
for every offer it makes): see :mod:`fera_flex.flexibility.sharing`.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(20, n_slots=16, seed=2)
>>> offer = box_offer(problem, 0, window=(4, 8))
>>> offer.shape, offer.baseline_kw.size, bool((offer.power_min_kw <= offer.power_max_kw).all())
('box', 4, True)
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np

from fera_flex.errors import InputError
from fera_flex.flexibility._level import widest_boxes_kw
from fera_flex.flexibility.aggregate import exact_nodes
from fera_flex.flexibility.battery import battery_of, witness_box_kw
from fera_flex.flexibility.disaggregate import disaggregate
from fera_flex.flexibility.offer import (
    NodeOffer,
    _baseline,
    _baseline_plan,
    _kept,
    _market,
    _rooms,
    _window,
    _window_grid,
)
from fera_flex.flexibility.sharing import upstream_shares_kw
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule

__all__ = [
    "NodeOffer",
    "battery_offer",
    "box_offer",
    "flexibility_offers",
    "options_offer",
]


def box_offer(
    problem: ChargingProblem,
    node: int | str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    rivals: Sequence[int | str] = (),
) -> NodeOffer:
    """The deliverable box offer of a node (see the module documentation).

    ``rivals`` are the other nodes offering at the same time (their shares of
    the limits above them are kept free, :mod:`fera_flex.flexibility.sharing`).
    """
    (offer,) = flexibility_offers(problem, plan, [node], shape="box", window=window, rivals=rivals)
    return offer


def battery_offer(
    problem: ChargingProblem,
    node: int | str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    rivals: Sequence[int | str] = (),
) -> NodeOffer:
    """The battery offer of a node (see :mod:`fera_flex.flexibility.battery`).

    ``rivals`` as for :func:`box_offer`.
    """
    (offer,) = flexibility_offers(
        problem, plan, [node], shape="battery", window=window, rivals=rivals
    )
    return offer


def options_offer(
    problem: ChargingProblem,
    node: int | str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    rivals: Sequence[int | str] = (),
) -> NodeOffer:
    """Up to four deliverable alternative profiles of a node, priced against the baseline.

    ``rivals`` as for :func:`box_offer`. Each option's price is the cost of
    following it (:func:`disaggregate`) minus the cost of the reference: for
    a root whose baseline meets every need, the whole problem against the
    baseline plan; otherwise the node's subtree (with its share of the
    limits above it, and no need above what the baseline delivers) against
    its own optimum, the sessions elsewhere keeping their baseline.
    """
    (offer,) = flexibility_offers(
        problem, plan, [node], shape="options", window=window, rivals=rivals
    )
    return offer


def flexibility_offers(
    problem: ChargingProblem,
    plan: ChargingPlan | None = None,
    nodes: Sequence[int | str] | None = None,
    resolution: timedelta | int | Mapping[int | str, timedelta | int] | None = None,
    shape: str = "box",
    window: tuple[int, int] | None = None,
    rivals: Sequence[int | str] = (),
) -> list[NodeOffer]:
    """One deliverable offer per node, jointly deliverable across nodes.

    Every upstream limit's headroom is shared between the offering nodes
    under it first (:mod:`fera_flex.flexibility.sharing`), so any
    combination of activations of nodes of which none is under another can
    be delivered at once. The box offers of all nodes with exact sets are
    made together, one flow network per level of the tree
    (:mod:`fera_flex.flexibility._level`).

    Parameters
    ----------
    problem : ChargingProblem
    plan : ChargingPlan, optional
        The baseline; ``schedule(problem)`` when not given.
    nodes : sequence of node ids or indices, optional
        Default: every node with sessions under it.
    resolution : timedelta or seconds, or a mapping node -> that, optional
        The ISP length of the offers (of each node), a whole multiple of the
        slot length (:meth:`NodeOffer.resampled`); default the slot length.
    shape : {"box", "battery", "options"}
    window : (first_slot, stop_slot), optional
        The slots the offers cover (default the whole horizon).
    rivals : sequence of node ids or indices
        Nodes offering at the same time beyond ``nodes`` (e.g. made in
        another call): their shares of the limits above are kept free too.
    """
    shapes = ("battery", "box", "options")
    if shape not in shapes:
        raise InputError("flexibility_offers", "shape", shape, f"must be one of {list(shapes)}")
    if nodes is None:
        nodes = problem.nodes_with_sessions()
    indices = problem.node_indices(nodes).tolist()
    _window(problem, window)  # a bad window fails before any schedule is made
    plan = _baseline_plan(problem, plan)
    offering = indices + problem.node_indices(rivals).tolist()
    shares = upstream_shares_kw(problem, _baseline(plan)[1], offering)
    steps = _resolutions(problem, indices, resolution)
    boxes = _exact_boxes(problem, plan, indices, window, shares) if shape != "options" else {}
    if shape == "box":
        offers = [_box_offer(problem, k, plan, window, shares[k], boxes.get(k)) for k in indices]
    elif shape == "battery":
        offers = [battery_of(problem, k, plan, window, shares[k], boxes.get(k)) for k in indices]
    else:
        offers = [_options(problem, k, plan, window, shares[k]) for k in indices]
    return [
        offer if step is None else offer.resampled(step)
        for offer, step in zip(offers, steps, strict=True)
    ]


def _exact_boxes(problem, plan, indices: list[int], window, shares) -> dict[int, tuple]:
    """Rooms and widest box (:func:`~fera_flex.flexibility._level.widest_boxes_kw`) per exact node.

    Node -> (room up, room down, width up, width down) [kW] (W,) each, for
    the nodes of ``indices`` whose sets are g-polymatroids, level by level.
    """
    first, stop = _window(problem, window)
    net_kw, load = _baseline(plan)
    nodes = np.asarray(indices, dtype=np.int64)
    exact = nodes[exact_nodes(problem, nodes)]
    limits = [shares[k] for k in exact.tolist()]
    rooms = widest_boxes_kw(problem, net_kw, load, exact, limits, first, stop)
    return {node: tuple(values[row] for values in rooms) for row, node in enumerate(exact.tolist())}


def _box_offer(problem, node: int, plan, window, share, box) -> NodeOffer:
    """A node's box offer: from its exact ``box`` (rooms and widths), or by the witness LP."""
    first, stop = _window(problem, window)
    load = _baseline(plan)[1][node]
    if box is not None:
        return _box(problem, node, load, first, stop, box[:2], box[2:])
    market = _market(problem, node, plan, window, share)
    inside = slice(first, stop)
    rooms = tuple(room[inside] for room in _rooms(market.flexibility, load, first, stop))
    return _box(problem, node, load, first, stop, rooms, witness_box_kw(market, rooms))


def _box(problem, node: int, baseline_kw, first: int, stop: int, rooms, widths) -> NodeOffer:
    """A node's box offer from its window rooms and the box's widths up and down [kW] (W,)."""
    inside = baseline_kw[first:stop]
    high, low = inside + widths[0], inside - widths[1]
    return NodeOffer(
        node_id=problem.node_ids[node],
        grid=_window_grid(problem, first, stop),
        window=(first, stop),
        shape="box",
        baseline_kw=inside,
        power_min_kw=np.minimum(low, inside),
        power_max_kw=np.maximum(high, inside),
        kept_up=_kept(high - inside, rooms[0]),
        kept_down=_kept(inside - low, rooms[1]),
    )


def _options(problem, node: int, plan, window, share) -> NodeOffer:
    """:func:`options_offer` of one node with its ``share`` of the limits above it."""
    market = _market(problem, node, plan, window, share)
    flexibility, baseline = market.flexibility, market.baseline_kw
    first, stop = market.first, market.stop
    whole = market.problem is problem  # a root whose baseline meets every need
    reference = market.plan if whole else schedule(market.problem)
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
        followed = disaggregate(market.problem, activation)
        costs.append(followed.objective_eur - reference.objective_eur)
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


def _resolutions(problem: ChargingProblem, indices: list[int], resolution) -> list:
    """The ISP length asked for each offering node (None: the slot length)."""
    if not isinstance(resolution, Mapping):
        return [resolution] * len(indices)
    asked = {problem.node_index(node): step for node, step in resolution.items()}
    unknown = set(asked) - set(indices)
    if unknown:
        names = sorted(problem.node_ids[k] for k in unknown)
        raise InputError("flexibility_offers", "resolution", names, "names nodes not offered")
    return [asked.get(index) for index in indices]
