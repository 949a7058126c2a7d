"""Benchmark of the scheduling backends against a straightforward cvxpy model.

Run with ``.venv/bin/python benchmarks/scheduling.py`` (``--quick`` for a
smoke run, ``--sizes 100,1000`` to choose the numbers of sessions).

Instances: ``random_problem(N, T, seed=0)``, one day of T slots, a three-level
tree (root, feeders, stations of two EVSEs) whose limits bind, all sessions
CHEAP (so the objective is the energy cost, without REGULAR peak terms), every
need deliverable (stage HARD).

Methods, each timed end to end and split into its parts:

* ``highs`` and ``cvxpy``: the fera_flex backends, timed as
  ``build_lp(problem, ObjectiveOptions())`` followed by ``solve_lp(lp,
  SolverOptions())``, which is what ``schedule()`` does for a feasible
  problem. Columns: ``build_lp``, the backend's ``build_s`` (cvxpy: problem
  construction and compilation; highs: filling and passing the model) and
  ``solve_s``; ``total`` is the wall time of both calls.
* ``baseline``: the same problem written in cvxpy the way EV schedulers
  usually write it: one ``(N, T)`` variable, a Python loop over sessions
  (power bounds inside the window, zero outside, the energy equality), a loop
  over nodes (the members' summed power within the node's capacity minus its
  non-EV load), the same cost coefficients (``objective.charge_costs`` times
  each slot's plugged-in hours), solved with ``solver="HIGHS"`` and cvxpy's
  default HiGHS settings. Node limits carry the library's ``SAFETY_MARGIN``
  so that both formulations describe the same polytope and their optima can
  be compared to 1e-6. Columns: ``build_lp`` is the Python construction of
  the cvxpy problem, ``build_s`` its compilation, ``solve_s`` the rest.

Every time is the median over the repeats; every repeat builds its model
anew. All methods run in this one process, one after another, after a warm-up
solve of a small problem (imports, first-call costs).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from importlib.metadata import version

import cvxpy as cp
import numpy as np

from fera_flex.scenarios.arrays import random_problem
from fera_flex.scheduling._lp import SAFETY_MARGIN, build_lp
from fera_flex.scheduling.objective import ObjectiveOptions, charge_costs
from fera_flex.scheduling.solver import SolverOptions, get_backend

BACKENDS = ("highs", "cvxpy")
OBJECTIVE_RTOL = 1e-6
TARGETS = (
    # (method, N, T, total [s])
    ("highs", 1000, 96, 0.5),
    ("cvxpy", 1000, 288, 3.0),
)
TARGET_SPEEDUP = 10.0
SPEEDUP_N = 1000


def available_backends():
    """Backend name -> solve_lp for the backends that import; name -> reason for the others."""
    found, missing = {}, {}
    for name in BACKENDS:
        try:
            found[name] = get_backend(name)
        except (ImportError, AttributeError) as error:
            missing[name] = f"{type(error).__name__}: {error}"
    return found, missing


def time_backend(solve_lp, problem):
    """One timed run of build_lp + solve_lp: (parts [s], objective)."""
    start = time.perf_counter()
    lp = build_lp(problem, ObjectiveOptions())
    build_lp_s = time.perf_counter() - start
    solution = solve_lp(lp, SolverOptions())
    total_s = time.perf_counter() - start
    if solution.status.value != "optimal":
        raise AssertionError(f"backend did not solve: {solution.status} {solution.message}")
    return (build_lp_s, solution.build_s, solution.solve_s, total_s), solution.objective


def baseline_problem(problem):
    """The problem as a dense (N, T) cvxpy model built with Python loops (see the module doc)."""
    n, n_slots = problem.n_sessions, problem.n_slots
    hours = problem.slot_energy_h
    power = cp.Variable((n, n_slots), name="power_kw")
    constraints = []
    for i in range(n):
        first, end = int(problem.arrival_slot[i]), int(problem.departure_slot[i])
        window = power[i, first:end]
        constraints += [window >= 0, window <= problem.power_max_kw[i, first:end]]
        if first > 0:
            constraints.append(power[i, :first] == 0)
        if end < n_slots:
            constraints.append(power[i, end:] == 0)
        delivered = cp.sum(cp.multiply(hours[i, first:end] * problem.charge_efficiency[i], window))
        constraints.append(delivered == problem.energy_kwh[i])
    headroom = problem.node_capacity_kw - problem.subtree_sum(problem.base_load_kw)
    headroom = headroom - SAFETY_MARGIN * np.maximum(1.0, np.abs(headroom))
    below = problem.ancestors()[problem.node_of_session]
    for node in range(problem.n_nodes):
        members = np.flatnonzero((below == node).any(axis=1))
        if members.size:
            constraints.append(cp.sum(power[members, :], axis=0) <= headroom[node])
    cost = charge_costs(problem, ObjectiveOptions()) * hours
    return cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, power))), constraints)


def time_baseline(problem):
    """One timed run of the baseline: (parts [s], objective)."""
    start = time.perf_counter()
    model = baseline_problem(problem)
    construct_s = time.perf_counter() - start
    model.solve(solver="HIGHS")
    total_s = time.perf_counter() - start
    if model.status != cp.OPTIMAL:
        raise AssertionError(f"baseline did not solve: {model.status}")
    compile_s = model.compilation_time
    return (construct_s, compile_s, total_s - construct_s - compile_s, total_s), model.value


def measure(run, problem, repeats):
    """Median parts over ``repeats`` runs, and the objective of the last."""
    parts = []
    for _ in range(repeats):
        times, objective = run(problem)
        parts.append(times)
    return tuple(statistics.median(column) for column in zip(*parts, strict=True)), objective


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, small default sizes")
    parser.add_argument("--sizes", help="comma-separated numbers of sessions")
    parser.add_argument("--repeats", type=int, help="repeats per case (default 3, quick 1)")
    parser.add_argument(
        "--baseline-max", type=int, default=1000, help="largest N for the baseline (default 1000)"
    )
    args = parser.parse_args()
    default_sizes = "20,50" if args.quick else "100,1000,10000"
    args.sizes = [int(size) for size in (args.sizes or default_sizes).split(",")]
    args.repeats = args.repeats or (1 if args.quick else 3)
    # the 288-slot case of the cvxpy target; in quick mode at the smallest size
    args.long_case = (min(args.sizes), 288) if args.quick else (1000, 288)
    return args


def main():
    args = parse_args()
    backends, missing = available_backends()
    load_before = os.getloadavg()
    for solve_lp in backends.values():  # warm-up: imports and first-call costs
        time_backend(solve_lp, random_problem(10, 24, seed=1))
    time_baseline(random_problem(10, 24, seed=1))

    cases = [(n, 96) for n in args.sizes] + [args.long_case]
    results = {}  # (method, N, T) -> (parts, objective)
    for n, n_slots in cases:
        problem = random_problem(n, n_slots, seed=0)
        for name, solve_lp in backends.items():
            results[name, n, n_slots] = measure(
                lambda p, solve_lp=solve_lp: time_backend(solve_lp, p), problem, args.repeats
            )
        if n <= args.baseline_max and n_slots == 96:
            results["baseline", n, n_slots] = measure(time_baseline, problem, args.repeats)
    load_after = os.getloadavg()

    print(
        f"fera_flex scheduling benchmark: random_problem(N, T, seed=0), 3-level tree, all CHEAP, "
        f"stage HARD; median of {args.repeats} run(s)"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, cvxpy {cp.__version__}, "
        f"highspy {version('highspy')}; {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print(
        "highs/cvxpy timed as build_lp + solve_lp (what schedule() does for a feasible problem); "
        "baseline: build_lp = Python construction, build_s = cvxpy compilation"
    )
    for name, reason in missing.items():
        print(f"backend {name} not available: {reason}")
    header = (
        f"{'N':>6} {'T':>4} {'method':<9} {'build_lp':>9} {'build_s':>9} {'solve_s':>9} "
        f"{'total':>9} {'objective [EUR]':>17} {'vs baseline':>12}"
    )
    print(header)
    print("-" * len(header))
    for (method, n, n_slots), (parts, objective) in results.items():
        baseline = results.get(("baseline", n, n_slots))
        speedup = (
            f"{baseline[0][3] / parts[3]:10.1f}x"
            if baseline is not None and method != "baseline"
            else f"{'-':>11}"
        )
        times = " ".join(f"{value:8.3f}s" for value in parts)
        print(f"{n:>6} {n_slots:>4} {method:<9} {times} {objective:17.6f} {speedup}")

    for n, n_slots in cases:
        objectives = {m: r[1] for (m, nn, tt), r in results.items() if (nn, tt) == (n, n_slots)}
        reference = next(iter(objectives.values()))
        for method, objective in objectives.items():
            relative = abs(objective - reference) / max(1.0, abs(reference))
            assert relative <= OBJECTIVE_RTOL, (n, n_slots, method, objective, reference)
    print(f"objectives agree within {OBJECTIVE_RTOL:g} relative for every (N, T)")

    print("targets:")
    for method, n, n_slots, limit_s in TARGETS:
        result = results.get((method, n, n_slots))
        if result is None:
            print(f"  {method} N={n} T={n_slots} total <= {limit_s} s: not measured in this run")
        else:
            met = "met" if result[0][3] <= limit_s else "NOT met"
            print(f"  {method} N={n} T={n_slots} total <= {limit_s} s: {result[0][3]:.3f} s, {met}")
    baseline = results.get(("baseline", SPEEDUP_N, 96))
    for method in BACKENDS:
        result = results.get((method, SPEEDUP_N, 96))
        if baseline is None or result is None:
            print(f"  {method} >= {TARGET_SPEEDUP:g}x baseline at N={SPEEDUP_N}: not measured")
        else:
            speedup = baseline[0][3] / result[0][3]
            met = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
            print(
                f"  {method} >= {TARGET_SPEEDUP:g}x baseline at N={SPEEDUP_N}: "
                f"{speedup:.1f}x, {met}"
            )


if __name__ == "__main__":
    main()
