"""Benchmark of the ``flow`` backend (network simplex + greedy) against ``highs``, same run.

Run with ``.venv/bin/python benchmarks/flow.py`` (``--quick`` for a smoke
run; ``--congested``, ``--mix`` and ``--uncoupled`` take comma-separated
numbers of sessions; ``--highs-max`` is the largest N given to HiGHS, which
takes minutes at 100,000).

Instances, T = 96 quarter-hours:

* ``congested``: ``benchmarks.scheduling.congested_problem(N, 96)`` (all
  CHEAP, 3-level tree, the root limit in each slot at a third of the
  plugged-in ratings); stages max_energy, fair, economic;
* ``mix``: ``random_problem(N, seed=0, profile_mix=True, overload=2.0)``, a
  CHEAP/FAST/GREEN/REGULAR fleet over congested limits;
* ``uncoupled``: ``tests.scheduling.test_flow.uncoupled_problem`` sizes of
  sessions on one node whose limit never binds (partial first and last
  slots, mixed efficiencies): the greedy path.

Columns: ``schedule(problem, method=...)`` total wall time [s] (median of the
repeats, each on a newly built problem, after a warm-up that compiles the
kernels), the plan's build and solve times, the EUR objective of each
backend, their relative difference, and the speed-up of ``flow`` over
``highs``. Every plan is checked with ``verify_plan``. The machine's load
average is printed: other work slows every time.

When OR-tools is importable (it is no dependency of fera_flex; e.g.
``pip install --target DIR ortools`` and ``PYTHONPATH=DIR``), a second table
solves the same network (:class:`~fera_flex.scheduling.charging_network.ChargingNetwork`
of each coupled instance, its energy ranges left out) with OR-tools'
``SimpleMinCostFlow.solve_max_flow_with_min_cost``: the most energy, then the
least cost, in one call on integers (capacities in micro-kWh, costs in
millionths of the largest cost), without the fair-shortfall stage. Its time
(arrays, arcs and solve) stands against the flow backend's solve time (every
stage, fair shortfall included), with both flows' total energy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from fera_flex.scenarios import random_problem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # shared benchmark and test instances
from benchmarks.scheduling import congested_problem
from tests.scheduling.test_flow import uncoupled_problem


def congested(n):
    """The congested instance of ``benchmarks/scheduling.py`` at T = 96."""
    return congested_problem(n, 96)


def mix(n):
    return random_problem(n, 96, seed=0, profile_mix=True, overload=2.0)


def uncoupled(n):
    return uncoupled_problem(n, seed=0, mix=True)


INSTANCES = {"congested": congested, "mix": mix, "uncoupled": uncoupled}


def replan_row(n, repeats):
    """A replan after new prices (every slot's price times 0.9 to 1.1): cold against warm.

    A mixed fleet: its cost stage has a price per session type, so it runs on
    the network simplex, whose basis the replan starts from (single-price
    stages go by augmenting paths, which keep no basis).
    """
    from fera_flex.scheduling.backends.flow import BACKEND

    problem = random_problem(n, 96, seed=0, profile_mix=True)
    factor = np.random.default_rng(1).uniform(0.9, 1.1, 96)
    updated = problem.replace(price_eur_per_kwh=problem.price_eur_per_kwh * factor)
    colds, warms = [], []
    for _ in range(repeats):
        BACKEND.clear_warm_starts()
        colds.append(schedule(updated, method="flow").timings_s["solve"])
        BACKEND.clear_warm_starts()
        schedule(problem, method="flow")
        plan = schedule(updated, method="flow")
        warms.append(plan.timings_s["solve"])
    return statistics.median(colds), statistics.median(warms), plan


def ortools_row(problem, repeats):
    """OR-tools' max flow of least cost on the problem's network: (seconds, grid kWh) or None.

    None when OR-tools is not importable or the problem has no network (no
    binding limit: the greedy path, nothing for a flow solver to do).
    """
    try:
        from ortools.graph.python import min_cost_flow
    except ImportError:
        return None
    from fera_flex.scheduling.charging_network import SINK, SOURCE, ChargingNetwork
    from fera_flex.scheduling.objective import ObjectiveOptions
    from fera_flex.scheduling.standard_form import Stage, StageGoal

    network = ChargingNetwork.of(problem, ObjectiveOptions())
    if network.network_sessions.size == 0:
        return None
    _, upper, cost, _ = network.stage_arrays(problem, Stage(StageGoal.ECONOMIC))
    upper[network.range_arcs] = 0.0  # the most need energy, as the MAX_ENERGY stage
    arcs = np.flatnonzero(~((network.tail == SINK) & (network.head == SOURCE)))
    times, energy = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        solver = min_cost_flow.SimpleMinCostFlow()
        capacity = np.floor(np.minimum(upper[arcs], 1e12) * 1e6).astype(np.int64)
        unit_cost = np.rint(cost[arcs] * 1e6).astype(np.int64)
        solver.add_arcs_with_capacity_and_unit_cost(
            network.tail[arcs], network.head[arcs], capacity, unit_cost
        )
        total = int(capacity[arcs == network.total_arc].sum())
        solver.set_nodes_supplies(np.array([SOURCE, SINK]), np.array([total, -total]))
        status = solver.solve_max_flow_with_min_cost()
        times.append(time.perf_counter() - start)
        if status != solver.OPTIMAL:
            raise AssertionError(f"OR-tools: {status}")
        energy = solver.maximum_flow() / 1e6
    return statistics.median(times), energy


def network_energy_kwh(plan) -> float:
    """Grid energy [kWh] of the plan's sessions that are in the flow network."""
    from fera_flex.scheduling.charging_network import ChargingNetwork
    from fera_flex.scheduling.objective import ObjectiveOptions

    problem = plan.problem
    sessions = ChargingNetwork.of(problem, ObjectiveOptions()).network_sessions
    return float((plan.charge_kw[sessions] * problem.slot_energy_h[sessions]).sum())


class Outcome(NamedTuple):
    """What the tables print of a plan."""

    status: str
    objective_eur: float
    network_kwh: float

    @classmethod
    def of(cls, plan) -> Outcome:
        return cls(plan.status.value, plan.objective_eur, network_energy_kwh(plan))


def run(build, n, method, repeats):
    """Median timings of ``schedule(build(n), method)``, each repeat a first call on a new problem.

    The problem is built anew (untimed) for every repeat, so the values a
    problem computes once (its own power limits, slot hours) are paid every
    time, and the backend's kept bases are cleared: the same problem again
    would start from its own optimal basis.
    """
    from fera_flex.scheduling.backends.flow import BACKEND

    timings, plan = [], None
    for _ in range(repeats):
        problem = build(n)
        BACKEND.clear_warm_starts()
        plan = None  # the last repeat's plan is freed first, as a service frees a sent plan
        plan = schedule(problem, method=method)
        broken = verify_plan(plan.problem, plan)
        if broken:
            raise AssertionError(f"{method}: {len(broken)} violations, first {broken[0]}")
        timings.append(plan.timings_s)
        if plan.timings_s["total"] > 60:
            break
    median = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
    return median, plan


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--congested")
    parser.add_argument("--mix")
    parser.add_argument("--uncoupled")
    parser.add_argument("--highs-max", type=int, default=10_000)
    parser.add_argument("--replan", help="N of the replanning rows (default 2000; quick 100)")
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    defaults = (
        {"congested": "100", "mix": "100", "uncoupled": "1000"}
        if args.quick
        else {"congested": "1000,10000", "mix": "1000", "uncoupled": "10000,100000"}
    )
    repeats = args.repeats or (1 if args.quick else 3)
    for build in (congested, mix):  # compiles the kernels (augmenting paths, simplex)
        schedule(build(20), method="flow")
    load_before = os.getloadavg()
    rows = []
    for name, build in INSTANCES.items():
        for n in (int(v) for v in (getattr(args, name) or defaults[name]).split(",")):
            flow_t, flow_plan = run(build, n, "flow", repeats)
            flow_plan = Outcome.of(flow_plan)  # the rows keep no plan: later rows get fresh memory
            highs = None
            if n <= args.highs_max:
                highs_t, highs_plan = run(build, n, "highs", repeats)
                highs = highs_t, Outcome.of(highs_plan)
            rows.append((name, n, flow_t, flow_plan, highs, ortools_row(build(n), repeats)))
    replans = [
        (n, *replan_row(n, repeats))
        for n in (int(v) for v in (args.replan or ("100" if args.quick else "2000")).split(","))
    ]
    load_after = os.getloadavg()
    print(
        f"flow vs highs, schedule() end to end, T=96, median of {repeats}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    header = (
        f"{'instance':<10} {'N':>7} {'status':<8} {'flow [s]':>9} {'build':>7} {'solve':>7} "
        f"{'highs [s]':>9} {'speed-up':>8} {'flow EUR':>14} {'highs EUR':>14} {'rel diff':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, n, flow_t, flow_plan, highs, _ in rows:
        line = (
            f"{name:<10} {n:>7} {flow_plan.status:<8} {flow_t['total']:9.3f} "
            f"{flow_t['build']:7.3f} {flow_t['solve']:7.3f} "
        )
        if highs is None:
            line += f"{'-':>9} {'-':>8} {flow_plan.objective_eur:14.6f} {'-':>14} {'-':>9}"
        else:
            highs_t, highs_plan = highs
            diff = abs(flow_plan.objective_eur - highs_plan.objective_eur) / max(
                abs(highs_plan.objective_eur), 1e-12
            )
            line += (
                f"{highs_t['total']:9.3f} {highs_t['total'] / flow_t['total']:7.2f}x "
                f"{flow_plan.objective_eur:14.6f} {highs_plan.objective_eur:14.6f} {diff:9.1e}"
            )
        print(line)
    references = [row for row in rows if row[-1] is not None]
    if references:
        print()
        print(
            "OR-tools SimpleMinCostFlow.solve_max_flow_with_min_cost on the same network "
            "(no fair stage) against the flow backend's solve (every stage):"
        )
        print(
            f"{'instance':<10} {'N':>7} {'flow solve':>10} {'or-tools':>9} {'ratio':>7} "
            f"{'flow kWh':>12} {'or-tools kWh':>13}"
        )
        for name, n, flow_t, flow_plan, _, (seconds, energy) in references:
            print(
                f"{name:<10} {n:>7} {flow_t['solve']:10.3f} {seconds:9.3f} "
                f"{seconds / flow_t['solve']:6.2f}x {flow_plan.network_kwh:12.3f} "
                f"{energy:13.3f}"
            )
    elif importlib.util.find_spec("ortools") is None:
        print("OR-tools not importable: no reference column (it is no dependency)")
    print()
    print("replan after new prices (feasible random_problem, flow solve time [s]):")
    for n, cold, warm, plan in replans:
        print(
            f"  N={n}: cold {cold:.3f} s, warm from the previous basis {warm:.3f} s "
            f"({cold / warm:.1f}x), status {plan.status.value}"
        )


if __name__ == "__main__":
    main()
