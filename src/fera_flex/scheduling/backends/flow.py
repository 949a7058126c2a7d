"""The ``flow`` backend: each energy stage as an exact min-cost flow, solved in numba.

The problem's network (:class:`~fera_flex.scheduling.charging_network.ChargingNetwork`)
is built once per problem; each stage only sets bounds and costs on it:

- every need met (``needs_met``): the need arcs fixed at the needs;
- MAX_ENERGY: cost -1 per kWh on the need arcs (a max flow; least total shortfall);
- a largest relative shortfall ``f``: the need arcs at least ``(1 - f) * need``;
- FAIR: the least such ``f`` with the total-shortfall bound, by bisection on
  ``f`` over feasibility solves (each optimum found shrinks the bracket to its
  own largest shortfall), to :data:`FAIR_TOLERANCE`;
- a total-shortfall bound: the lower bound of the ``S -> N`` arc;
- TRACK (node target bands, a dispatch to follow): -1 per kWh on the arcs
  below each band and +1 above it (least total deviation); the stages after
  it solve on TRACK's optimal face (every arc whose reduced cost is not 0
  fixed at its bound), which keeps the least deviation exactly;
- ECONOMIC: the charging costs on the segment arcs.

Sessions under no binding limit are solved apart by
:func:`~fera_flex.scheduling.greedy.fill_cheapest` (the same optimum, no
network at all). Node import shadow prices are the reduced costs of the
saturated node-limit arcs, session energy prices those of the need arcs.

Method
------
Two exact algorithms, chosen per stage:

- **augmenting paths** (:mod:`fera_flex.network.exit_priced`) when the
  stage's costs are the same for every session in a slot: every
  MAX_ENERGY and fair-shortfall stage (a value per kWh of need, no slot
  costs), the cost stage of a network whose sessions pay one price per kWh
  in each slot (one price signal, CHEAP or GREEN alike for all, one cost
  segment per slot). A path's cost is then the price of the slot it leaves
  by, so successive shortest paths reduce to a max flow per distinct
  price, exits opened cheapest first (Dinic's method in numba). Measured at
  10,000 congested sessions (``benchmarks/flow.py``): the three stages take
  about 0.5 s, against about 12 s by the network simplex. A network that
  follows target bands on exits (a dispatch at its top binding limit, the
  root) solves TRACK and the cost stage after it as one such flow, the
  deviation weighted above every cost difference
  (:func:`_least_deviation_then_cost`; one dispatch of 10,000 sessions:
  about 0.7 s). Bands inside the network keep TRACK and cost on the network
  simplex, the cost stage on TRACK's optimal face from TRACK's basis (that
  face fixes flows inside the network, which paths do not take: 44 s with
  TRACK by paths and a cold cost stage).
- otherwise the **primal network simplex** with block pricing
  (:mod:`fera_flex.network`), chosen over the alternatives the issue names:
  general successive shortest paths needs a shortest-path search over the
  whole network per augmentation (about N x arcs work), and cost scaling
  needs integer costs, which float prices and REGULAR segment costs are
  not without rounding. The network simplex works on the floats directly,
  yields the node potentials (the shadow prices) and re-solves from a
  previous basis (a replan after new prices).

``method="auto"`` takes this backend for every problem it supports: once its
kernels are compiled it is faster than HiGHS on every instance measured
(``benchmarks/scheduling.py``, 2 cores: 1,000 all-CHEAP sessions on a binding
tree 0.034 s against 0.19 s, 10,000 0.50 s against 2.97 s, congested 1,000
0.045 s against 0.70 s, 10,000 0.66 s against 13.0 s). The kernels compile on
their first call in a process (numba's disk cache stays off, see
:mod:`fera_flex._jit`): about 2.5 s for the augmenting paths and 5 s for the
network simplex on the same machine, paid once per process or worker.

Tolerance: reduced costs within 1e-9 of the largest cost and flows within
1e-12 of the largest bound (of the largest capacity, by augmenting paths)
count as 0 (:mod:`fera_flex.network.mincost`); the plan is then made safe
like every backend's.
"""

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.network import FlowSolution, min_cost_flow
from fera_flex.network._augment import ResidualGraph, residual_csr
from fera_flex.network.exit_priced import exit_priced_flow, is_exit_priced
from fera_flex.network.mincost import COST_RTOL
from fera_flex.scheduling._cell_passes import summed_power
from fera_flex.scheduling.charging_network import SINK, SOURCE, ChargingNetwork, non_flow_feature
from fera_flex.scheduling.dispatch import band_deviation_kw
from fera_flex.scheduling.greedy import fill_cheapest
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.solver import SolverOptions, SolveStatus, StageResult, in_eur
from fera_flex.scheduling.standard_form import Stage, StageGoal

__all__ = [
    "BACKEND",
    "FAIR_TOLERANCE",
    "FlowBackend",
]

FAIR_TOLERANCE = 1e-9
"""Absolute tolerance of the FAIR stage's largest relative shortfall."""

_STATUS = {
    "optimal": SolveStatus.OPTIMAL,
    "infeasible": SolveStatus.INFEASIBLE,
    "iteration_limit": SolveStatus.ERROR,
    "unbounded": SolveStatus.ERROR,
}


@dataclass
class _Prepared:
    """A problem's network and its greedy part, kept across the stages of one schedule.

    ``build_s`` (building both) is reported with the first stage solved.
    The greedy part's segments are given by their cell (``session * T +
    slot``), their power [kW], energy drawn [kWh] and cost per kWh.
    """

    problem: ChargingProblem
    objective: ObjectiveOptions
    network: ChargingNetwork
    greedy_cell: NDArray[np.int64]
    greedy_kw: NDArray[np.float64]
    greedy_take_kwh: NDArray[np.float64]
    greedy_cost: NDArray[np.float64]
    greedy_marginal: NDArray[np.float64]
    build_s: float
    reported: bool = False
    costs_by_paths: bool = False
    residual_graph: ResidualGraph | None = None
    track_face: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = None
    # TRACK by paths with the bands on exits: (lower, upper, flow, its costs), the flow of
    # least deviation and then least cost that the cost stage after it takes as it is
    after_track: tuple | None = None


class FlowBackend:
    """Min-cost-flow backend (see the module documentation)."""

    name = "flow"

    def __init__(self) -> None:
        self._last: _Prepared | None = None
        self._starts = _Starts()

    def clear_warm_starts(self) -> None:
        """Forget the bases kept for warm starts and the last network (to time a cold solve)."""
        self._starts = _Starts()
        self._last = None

    def __repr__(self) -> str:
        return "FlowBackend()"

    def supports(
        self,
        problem: ChargingProblem,
        objective: ObjectiveOptions,
        options: SolverOptions,
        **backend_args: Any,
    ) -> str | None:
        """None when the problem is an exact min-cost flow, else the feature that is not."""
        if backend_args:
            return f"takes no {', '.join(sorted(backend_args))}: custom terms need method='cvxpy'"
        feature = non_flow_feature(problem)
        if feature is None and objective.node_peak_costs:
            feature = "node peak costs"
        if feature is not None:
            return f"{feature} (not a min-cost flow)"
        return self._prepare(problem, objective).network.refusal

    def solve(
        self,
        problem: ChargingProblem,
        stage: Stage,
        objective: ObjectiveOptions,
        options: SolverOptions,
        start_power=None,
        **backend_args: Any,
    ) -> StageResult:
        """Solve one stage (see :mod:`fera_flex.scheduling.solver`)."""
        started = time.perf_counter()
        try:
            prepared = self._prepare(problem, objective)
            build_s = 0.0 if prepared.reported else prepared.build_s
            prepared.reported = True
            return _solve(prepared, stage, build_s, time.perf_counter(), self._starts)
        except Exception as error:  # a kernel failure is a status, never an exception
            return StageResult(
                SolveStatus.ERROR,
                None,
                None,
                goal=stage.goal.value,
                solve_s=time.perf_counter() - started,
                message=f"flow failed: {type(error).__name__}: {error}",
            )

    def _prepare(self, problem: ChargingProblem, objective: ObjectiveOptions) -> _Prepared:
        last = self._last
        if last is not None and last.problem is problem and last.objective is objective:
            return last
        tic = time.perf_counter()
        network = ChargingNetwork.of(problem, objective)
        pair, width_kw, cost = network.segments.pieces(~network.in_network)
        session = network.segments.session[pair]
        cell = session * problem.n_slots + network.segments.slot[pair]
        hours = problem.slot_energy_h.ravel()[cell]
        efficiency = problem.charge_efficiency
        take, marginal = fill_cheapest(
            session,
            cost,
            width_kw * hours,
            network.need_kwh / efficiency,
            (network.need_kwh + network.range_kwh) / efficiency,
        )
        prepared = _Prepared(
            problem,
            objective,
            network,
            cell,
            take / hours,
            take,
            cost,
            marginal / efficiency,
            time.perf_counter() - tic,
            costs_by_paths=_costs_by_paths(network, problem.n_slots),
        )
        self._last = prepared
        return prepared


def _flow(network: ChargingNetwork, lower, upper, cost, warm=None) -> FlowSolution:
    supply = np.zeros(network.n_nodes)
    return min_cost_flow(network.tail, network.head, lower, upper, cost, supply, warm_start=warm)


_KEPT_STARTS = 8
"""Bases kept for warm starts (the most recent stages of distinct networks)."""


class _Starts:
    """The most recent bases by key, safe to share between threads that schedule at once."""

    def __init__(self) -> None:
        self._bases: dict[tuple, FlowSolution] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> FlowSolution | None:
        with self._lock:
            return self._bases.get(key)

    def keep(self, key: tuple, solution: FlowSolution) -> None:
        with self._lock:
            self._bases.pop(key, None)
            self._bases[key] = solution
            while len(self._bases) > _KEPT_STARTS:
                self._bases.pop(next(iter(self._bases)))


def _solve(
    prepared: _Prepared, stage: Stage, build_s: float, tic: float, starts: "_Starts"
) -> StageResult:
    network, problem = prepared.network, prepared.problem
    lower, upper, cost, scale = network.stage_arrays(problem, stage)
    solved = _stage_flow(prepared, stage, lower, upper, cost, starts)
    if isinstance(solved, StageResult):
        return solved
    solution, cost = solved
    solve_s = time.perf_counter() - tic
    status = _STATUS[solution.status]
    timing = {"build_s": build_s, "solve_s": solve_s, "goal": stage.goal.value}
    simplex = solution.basis[0].size > 0  # augmenting paths keep no basis
    method, steps = ("network simplex", "pivots") if simplex else ("augmenting paths", "paths")
    message = f"{method}: {solution.status}, {solution.pivots} {steps}"
    if status is not SolveStatus.OPTIMAL:
        return StageResult(status, None, None, message=message, **timing)
    charge = _power(prepared, solution.flow)
    delivered = problem.delivered_kwh(charge, 0.0)
    need = network.need_kwh
    unmet = np.maximum(need - delivered, 0.0)
    has = need > 0
    largest = float(np.max(unmet[has] / need[has], initial=0.0))
    unit = network.unit_eur_per_kwh
    deviation = _deviation_kwh(prepared, charge)
    values = {
        StageGoal.MAX_ENERGY: float(unmet.sum()),
        StageGoal.FAIR: largest,
        StageGoal.TRACK: deviation,
        StageGoal.ECONOMIC: _cost_eur(prepared, solution.flow),
    }
    prices = {}
    if stage.goal is StageGoal.ECONOMIC:
        prices = _prices(prepared, solution, cost, scale * unit)
    return StageResult(
        status,
        charge,
        np.zeros(charge.shape),
        objective=values.get(stage.goal, float("nan")),
        total_unmet_kwh=float(unmet.sum()),
        max_relative_shortfall=largest,
        total_deviation_kwh=deviation,
        message=message,
        **prices,
        **timing,
    )


def _stage_flow(prepared: _Prepared, stage: Stage, lower, upper, cost, starts: "_Starts"):
    """The stage's flow and the arc costs it is optimal for (a StageResult: out of order).

    ``lower`` and ``upper`` may be changed (TRACK's face).
    """
    network = prepared.network
    bands = network.band_under_arcs.size > 0
    if stage.goal is StageGoal.TRACK and bands and prepared.costs_by_paths:
        solved = _least_deviation_then_cost(prepared, lower, upper)
        if solved is not None:
            prepared.after_track = (lower, upper, *solved)
            return solved
    if stage.total_deviation_kwh is not None and bands:
        if prepared.after_track is not None:
            track_lower, track_upper, flow, weighted = prepared.after_track
            if np.array_equal(track_lower, lower) and np.array_equal(track_upper, upper):
                deviation = _deviation_kwh(prepared, _power(prepared, flow.flow))
                if deviation <= stage.total_deviation_kwh:
                    return flow, weighted
        # after the TRACK stage: the flows of least total deviation are its optimal face,
        # every arc whose reduced cost is not 0 at its bound (complementary slackness)
        if prepared.track_face is None:
            return StageResult(
                SolveStatus.ERROR,
                None,
                None,
                goal=stage.goal.value,
                message="flow: a deviation bound without a TRACK stage before it on the face",
            )
        at_lower, at_upper = prepared.track_face
        upper[at_lower] = lower[at_lower]
        lower[at_upper] = upper[at_upper]
    if stage.goal is StageGoal.FAIR:
        return _fair(prepared, lower, upper), cost
    solution = _by_paths(prepared, stage.goal, lower, upper, cost)
    if solution is None:
        solution = _by_simplex(prepared, stage, lower, upper, cost, starts)
    if stage.goal is StageGoal.TRACK and solution.status == "optimal":
        reduced = solution.reduced_cost(network.tail, network.head, cost)
        prepared.track_face = (reduced > COST_RTOL, reduced < -COST_RTOL)
    return solution, cost


def _by_paths(prepared: _Prepared, goal: StageGoal, lower, upper, cost) -> FlowSolution | None:
    """The stage by augmenting paths when its costs are paid per slot alike (else None).

    With one charge efficiency in the network, MAX_ENERGY's value per kWh of
    need and a stage's cost per kWh in a slot are the same for every session,
    so every node of a slot has one offset and the costs are exit-priced
    (:mod:`fera_flex.network.exit_priced`). The extra energy of the energy
    ranges is worth nothing to MAX_ENERGY; it is left out of that stage.
    """
    network = prepared.network
    if not prepared.costs_by_paths and goal is not StageGoal.ECONOMIC:
        # the cost stage will run on the network simplex: its earlier stages do too, so that
        # it starts from their basis (10,000 congested sessions of a mixed fleet: a cold
        # cost stage after stages by paths took 106 s)
        return None
    if goal is StageGoal.MAX_ENERGY:
        upper = upper.copy()
        upper[network.range_arcs] = lower[network.range_arcs]
    # the need arcs' lower bounds bound the total from below too: say so on the total arc,
    # which the source feeds (the hub would otherwise be a node that must receive flow)
    implied = lower.copy()
    total = network.total_arc
    implied[total] = max(min(float(lower[network.need_arcs].sum()), upper[total]), lower[total])
    offset = _offsets(network, cost, prepared.problem.n_slots)
    if prepared.residual_graph is None:
        prepared.residual_graph = residual_csr(network.n_nodes, network.tail, network.head)
    return exit_priced_flow(
        network.tail,
        network.head,
        lower,
        upper,
        cost,
        offset,
        SOURCE,
        SINK,
        implied_lower=implied,
        graph=prepared.residual_graph,
    )


def _offsets(network: ChargingNetwork, cost: NDArray, n_slots: int) -> NDArray[np.float64]:
    """Node offsets under which ``cost`` is exit-priced, if any are (see ``_by_paths``).

    A session's offset is its need arc's cost, a node of slot ``t`` that of
    the sessions plus their cost in ``t``; :func:`exit_priced_flow` checks
    that every arc agrees.
    """
    offset = np.zeros(network.n_nodes)
    offset[network.head[network.need_arcs]] = cost[network.need_arcs]
    slot_offset = np.zeros(n_slots)
    pair_arcs = network.pair_arcs
    slot_offset[network.pair_slot] = offset[network.tail[pair_arcs]] + cost[pair_arcs]
    in_slot = network.node_slot >= 0
    offset[in_slot] = slot_offset[network.node_slot[in_slot]]
    return offset


def _costs_by_paths(network: ChargingNetwork, n_slots: int) -> bool:
    """Whether the cost stage goes by augmenting paths.

    Its costs must be exit-priced (one price per slot for every session), and
    target bands, if any, must lie on exits (arcs into the sink: bands at the
    top binding limit of their slots, a dispatch at the root): then the cost
    stage after TRACK is one exit-priced flow too (:func:`_least_deviation_then_cost`).
    Bands inside the network would leave the cost stage on TRACK's face,
    whose flows fixed inside the network paths do not take (10,000 sessions,
    one dispatch: 44 s with TRACK by paths and the cost stage from a cold
    simplex), so they keep every stage on the simplex.
    """
    bands = np.concatenate([network.band_under_arcs, network.band_over_arcs])
    if (network.head[bands] != SINK).any():
        return False
    cost = network.economic_cost
    free = (network.head != SINK) & (network.tail != SINK)  # not an exit, not the return arc
    return is_exit_priced(network.tail, network.head, cost, _offsets(network, cost, n_slots), free)


def _least_deviation_then_cost(prepared: _Prepared, lower, upper):
    """TRACK and the cost stage after it as one flow, the bands on exits: (flow, costs) or None.

    Least deviation first, then least cost, as one exit-priced flow with the
    cost stage's arc costs plus ``weight`` per kWh of deviation on the band
    exits (``-weight`` below a band, ``+weight`` above it). Exactly
    lexicographic once ``weight`` exceeds the spread of the exit prices: a
    residual cycle of an exit-priced network leaves by one exit and comes
    back by another, so moving ``x`` kWh changes the cost by at most
    ``spread * x`` and the deviation, if at all, by at least ``x``. The
    TRACK stage reports this flow (of least deviation) and the cost stage
    after it takes it as it is. None when it cannot be solved by paths.
    """
    network, problem = prepared.network, prepared.problem
    _, _, cost, _ = network.stage_arrays(problem, Stage(StageGoal.ECONOMIC))
    spread = 2.0 * float(np.max(np.abs(cost), initial=0.0))  # exit prices lie within +-max
    weight = 2.0 * spread + 1.0
    cost[network.band_under_arcs] -= weight
    cost[network.band_over_arcs] += weight
    solution = _by_paths(prepared, StageGoal.ECONOMIC, lower, upper, cost)
    if solution is None or solution.status != "optimal":
        return None
    return solution, cost


def _by_simplex(prepared: _Prepared, stage: Stage, lower, upper, cost, starts: "_Starts"):
    """The stage by the network simplex, warm-started where a basis of the network is kept."""
    network, problem = prepared.network, prepared.problem
    # a replan of the same network (new prices, say) starts from the last basis of this
    # kind of stage, a first solve of a stage from the previous stage's basis (the cost
    # stage after the fair-shortfall check: 550 pivots instead of about 480,000 at 10,000
    # congested sessions); a start that does not fit is dropped by the kernel
    key = (network.signature, stage.goal, stage.needs_met)
    warm = starts.get(key) or starts.get((network.signature, "last"))
    if stage.total_deviation_kwh is not None:
        # the cost stage on TRACK's face starts from TRACK's basis, not from the last cost
        # stage (another dispatch's face: 10,000 sessions, 64 s from it against 9 s)
        warm = starts.get((network.signature, "last"))
    if warm is None and stage.needs_met:
        warm = _max_energy_basis(network, problem)
    solution = _flow(network, lower, upper, cost, warm)
    if solution.status == "optimal":
        starts.keep(key, solution)
        starts.keep((network.signature, "last"), solution)
    return solution


def _max_energy_basis(network: ChargingNetwork, problem: ChargingProblem) -> FlowSolution:
    """A most-energy flow, a warm start for a stage that fixes every need.

    It has no lower bounds, so it is cheap from a cold start, and when all
    needs can be met it already meets them.
    """
    lower, upper, cost, _ = network.stage_arrays(problem, Stage(StageGoal.MAX_ENERGY))
    return _flow(network, lower, upper, cost)


def _fair(prepared: _Prepared, lower, upper) -> FlowSolution:
    """The least largest relative shortfall within the stage's bounds, by bisection on it."""
    network, problem = prepared.network, prepared.problem
    sessions = network.network_sessions
    need = network.need_kwh[sessions] / problem.charge_efficiency[sessions]
    zero = np.zeros(network.tail.size)

    def feasible(trial_lower) -> FlowSolution:
        solution = _by_paths(prepared, StageGoal.FAIR, trial_lower, upper, zero)
        return solution or _flow(network, trial_lower, upper, zero)

    best = feasible(lower)
    if best.status != "optimal":
        return best
    low, high = 0.0, _largest_shortfall(network, best.flow, need)
    while high - low > FAIR_TOLERANCE:
        middle = 0.5 * (low + high)
        trial_lower = lower.copy()
        trial_lower[network.need_arcs] = np.maximum(lower[network.need_arcs], (1 - middle) * need)
        trial = feasible(trial_lower)
        if trial.status == "optimal":
            best, high = trial, min(middle, _largest_shortfall(network, trial.flow, need))
        elif trial.status == "infeasible":
            low = middle
        else:
            return trial
    return best


def _largest_shortfall(network, flow, need) -> float:
    has = need > 0
    short = np.maximum(need - flow[network.need_arcs], 0.0)
    return float(np.max(short[has] / need[has], initial=0.0))


def _power(prepared: _Prepared, flow: NDArray) -> NDArray[np.float64]:
    """Charging power (n, T) [kW] from the network's segment flows and the greedy part."""
    network, problem = prepared.network, prepared.problem
    n_slots = problem.n_slots
    cell, power = prepared.greedy_cell, prepared.greedy_kw
    if network.pair_arcs.size:
        cell = np.concatenate([network.pair_session * n_slots + network.pair_slot, cell])
        power = np.concatenate([flow[network.pair_arcs] / network.pair_hours, power])
    return summed_power((problem.n_sessions, n_slots), cell, power, problem.power_max_kw)


def _deviation_kwh(prepared: _Prepared, charge: NDArray) -> float:
    """Total deviation of the node loads from their target bands [kWh] (0 without a band).

    Every (node, slot) with a band is a limit node of the network with band
    arcs, so a network without them has no band to deviate from (at 100,000
    sessions the (m, T) passes of the check cost 0.2 s over the stages).
    """
    if prepared.network.band_under_arcs.size == 0:
        return 0.0
    problem = prepared.problem
    return float(np.abs(band_deviation_kw(problem, charge)).sum() * problem.grid.dt_h)


def _cost_eur(prepared: _Prepared, flow: NDArray) -> float:
    network = prepared.network
    money = network.economic_cost[network.pair_arcs] @ flow[network.pair_arcs]
    money += prepared.greedy_cost @ prepared.greedy_take_kwh
    return float(in_eur(money, network.unit_eur_per_kwh))


def _prices(prepared: _Prepared, solution: FlowSolution, cost: NDArray, eur: float):
    """Node import shadow prices and session energy prices [EUR/kWh] from the potentials."""
    network, problem = prepared.network, prepared.problem

    def reduced(arcs):  # of the arcs priced only: at 100,000 sessions most arcs are neither
        return solution.reduced_cost(network.tail[arcs], network.head[arcs], cost[arcs])

    shape = (problem.n_nodes, problem.n_slots)
    import_price = np.zeros(shape)  # calloc: the pages no limit touches stay untouched
    import_price[network.limit_node, network.limit_slot] = np.maximum(
        in_eur(-reduced(network.limit_arcs), eur), 0.0
    )
    energy = in_eur(prepared.greedy_marginal, network.unit_eur_per_kwh)
    sessions = network.network_sessions
    energy[sessions] = in_eur(reduced(network.need_arcs) / problem.charge_efficiency[sessions], eur)
    return {
        "node_import_price_eur_per_kwh": import_price,
        "node_export_price_eur_per_kwh": np.zeros(shape),
        "session_energy_price_eur_per_kwh": energy,
    }


BACKEND = FlowBackend()
