"""Benchmark of the scheduling backends against a straightforward cvxpy model.

Run with ``.venv/bin/python benchmarks/scheduling.py`` (``--quick`` for a
smoke run, ``--sizes 100,1000`` to choose the numbers of sessions of the
first table, ``--mix-sizes`` and ``--congested-sizes`` for the second).

Table 1, the LP backends. Instances: ``random_problem(N, T, seed=0)``, one day
of T slots, a three-level tree (root, feeders, stations of two EVSEs) whose
limits bind, all sessions CHEAP (so the objective is the energy cost, without
REGULAR's above-flat-rate cost; checked, since ``from_arrays`` now defaults to
REGULAR), every need deliverable (stage ``Stage(StageGoal.ECONOMIC,
needs_met=True)``). Methods, each timed end to end and split into its parts:

* ``highs`` and ``cvxpy``: the fera_flex LP solvers, timed as
  ``build_lp(problem, ObjectiveOptions(), stage)`` followed by
  ``fera_flex.scheduling.backends.<name>.solve_lp(lp, SolverOptions())``: the
  solve of the first (and, for a feasible problem, only) stage of
  ``schedule()``, without its safety repair and verification. Columns:
  ``build_lp``, the solver's ``build_s`` (cvxpy: problem construction and
  compilation; highs: filling and passing the model) and ``solve_s``;
  ``total`` is the wall time of both calls. The objective is
  ``lp.cost_scale_eur * solution.objective`` [EUR].
* ``baseline``: the same problem written in cvxpy the way EV schedulers
  usually write it: one ``(N, T)`` variable, a Python loop over sessions
  (power bounds inside the window, zero outside, the energy equality), a loop
  over nodes (the members' summed power within the node's EV room
  ``node_ev_max_kw``, i.e. capacity minus non-EV load, posed exactly as the
  standard form does), the same cost coefficients (``objective.charge_costs``
  times each slot's plugged-in hours), solved with ``solver="HIGHS"`` and
  cvxpy's default HiGHS settings. Both formulations describe the same
  polytope, so their optima agree to 1e-6. Columns: ``build_lp`` is the
  Python construction of the cvxpy problem, ``build_s`` its compilation,
  ``solve_s`` the rest.

Table 2, ``schedule(problem, method)`` end to end (stages, safety repair,
verification, causes) for ``method="auto"`` (what a caller gets; which
backend auto took is in the ``backend`` column), ``"flow"`` (the exact
min-cost flow backend) and ``"highs"`` (the LP), with
``plan.timings_s`` split into build, solve, safety, verify, causes and total,
``plan.backend`` and ``plan.stages``; every ratio is against ``cheap`` with the
same method. Rows:

* ``cheap``: the all-CHEAP feasible instance above, the reference of the
  ratios (measured in the same run, at the same N);
* ``mix``: ``random_problem(N, 96, seed=0, profile_mix=True)``, a
  CHEAP/FAST/GREEN/REGULAR fleet; target <= 1.5x ``cheap`` at N = 1,000;
* ``congested``: the ``cheap`` instance with the root limit (node 0) in each
  slot set to a third of the summed ratings (``power_max_kw``) of the
  sessions plugged in then, via ``problem.replace(node_capacity_kw=...)``:
  0.78 of the generator's own root limit on average, so the needs no longer
  fit and the plan is PARTIAL (stages max_energy, fair, economic); target
  <= 2x ``cheap`` at N = 1,000 and 10,000. A flat root of a third of the
  sessions' summed largest ratings does not congest this generator: it is
  above the generator's root limit in every slot (whose peak is about 0.26
  of that sum), so that instance is still feasible and OPTIMAL.

Every plan must pass ``verify_plan(plan.problem, plan) == []`` (the script
fails otherwise); a status other than the expected one is flagged in the
table.

Every time is the median over the repeats; every repeat builds its model
anew; a ``schedule()`` case whose first run takes more than
:data:`LONG_RUN_S` runs once. All methods run in this one process, one after
another, after a warm-up solve of a small problem (imports, first-call
costs). The machine's load average is printed before and after: other work
on the machine slows every time.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from importlib import import_module
from importlib.metadata import version

import cvxpy as cp
import numpy as np

from fera_flex.models.ocpi import ProfileType
from fera_flex.scenarios.arrays import random_problem
from fera_flex.scheduling.objective import ObjectiveOptions, charge_costs
from fera_flex.scheduling.plan import PlanStatus
from fera_flex.scheduling.problem import PROFILE_TYPES
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.solver import SolverOptions
from fera_flex.scheduling.standard_form import Stage, StageGoal, build_lp
from fera_flex.scheduling.verify import verify_plan

BACKENDS = ("highs", "cvxpy")
STAGE = Stage(StageGoal.ECONOMIC, needs_met=True)
OBJECTIVE_RTOL = 1e-6
TARGETS = (
    # (method, N, T, total [s])
    ("highs", 1000, 96, 0.5),
    ("cvxpy", 1000, 288, 3.0),
)
TARGET_SPEEDUP = 10.0
SPEEDUP_N = 1000
SCHEDULE_METHODS = ("auto", "flow", "highs")
"""Table 2 runs schedule() with each: auto (what a caller gets, see plan.backend), the exact
flow backend and the HiGHS LP."""
SCHEDULE_PARTS = ("build", "solve", "safety", "verify", "causes", "total")
ROOT_SHARE = 1.0 / 3.0
INSTANCES = {
    # name -> (expected plan status, target ratio to "cheap" [x], the N of the target)
    "cheap": (PlanStatus.OPTIMAL, None, ()),
    "mix": (PlanStatus.OPTIMAL, 1.5, (1000,)),
    "congested": (PlanStatus.PARTIAL, 2.0, (1000, 10000)),
}
LONG_RUN_S = 60.0
"""A schedule() case whose first run takes longer runs only once."""


def available_backends():
    """Backend name -> its solve_lp for the backends that import; name -> reason for the others."""
    found, missing = {}, {}
    for name in BACKENDS:
        try:
            found[name] = import_module(f"fera_flex.scheduling.backends.{name}").solve_lp
        except (ImportError, AttributeError) as error:
            missing[name] = f"{type(error).__name__}: {error}"
    return found, missing


def cheap_problem(n, n_slots):
    """``random_problem(n, n_slots, seed=0)``, checked to be all CHEAP."""
    problem = random_problem(n, n_slots, seed=0)
    cheap = PROFILE_TYPES.index(ProfileType.CHEAP)
    if not (problem.profile_type == cheap).all():
        raise AssertionError(f"random_problem({n}, {n_slots}) is not all CHEAP")
    return problem


def mix_problem(n, n_slots):
    """``random_problem(n, n_slots, seed=0, profile_mix=True)``."""
    return random_problem(n, n_slots, seed=0, profile_mix=True)


def congested_problem(n, n_slots):
    """The all-CHEAP instance with the root limit at a third of the plugged-in ratings."""
    problem = cheap_problem(n, n_slots)
    capacity = problem.node_capacity_kw.copy()
    capacity[0] = ROOT_SHARE * problem.power_max_kw.sum(axis=0)  # 0 outside each window
    return problem.replace(node_capacity_kw=capacity)


PROBLEMS = {"cheap": cheap_problem, "mix": mix_problem, "congested": congested_problem}


def time_backend(solve_lp, problem):
    """One timed run of build_lp + solve_lp: (parts [s], objective [EUR])."""
    start = time.perf_counter()
    lp = build_lp(problem, ObjectiveOptions(), STAGE)
    build_lp_s = time.perf_counter() - start
    solution = solve_lp(lp, SolverOptions())
    total_s = time.perf_counter() - start
    if solution.status.value != "optimal":
        raise AssertionError(f"backend did not solve: {solution.status} {solution.message}")
    objective = lp.cost_scale_eur * solution.objective
    return (build_lp_s, solution.build_s, solution.solve_s, total_s), objective


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
    headroom = problem.node_ev_max_kw  # exact: capacity minus the non-EV load below, >= 0
    below = problem.ancestors()[problem.node_of_session]
    for node in range(problem.n_nodes):
        members = np.flatnonzero((below == node).any(axis=1))
        if members.size:
            constraints.append(cp.sum(power[members, :], axis=0) <= headroom[node])
    cost = charge_costs(problem, ObjectiveOptions()) * hours
    return cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, power))), constraints)


def time_baseline(problem):
    """One timed run of the baseline: (parts [s], objective [EUR])."""
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


def measure_schedule(problem, method, repeats):
    """Median ``plan.timings_s`` parts over up to ``repeats`` runs of schedule(), and the plans.

    Every plan is checked with ``verify_plan``; a first run longer than
    :data:`LONG_RUN_S` is not repeated.
    """
    plans = []
    for _ in range(repeats):
        plan = schedule(problem, method=method)
        violations = verify_plan(plan.problem, plan)
        if violations:
            raise AssertionError(
                f"verify_plan found {len(violations)} violations, first: {violations[0]}"
            )
        plans.append(plan)
        if plan.timings_s["total"] > LONG_RUN_S:
            break
    parts = tuple(
        statistics.median(plan.timings_s[part] for plan in plans) for part in SCHEDULE_PARTS
    )
    return parts, plans


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, small default sizes")
    parser.add_argument("--sizes", help="comma-separated numbers of sessions (LP table)")
    parser.add_argument(
        "--mix-sizes", help="N of the mixed-fleet schedule() rows (default 1000; quick: max size)"
    )
    parser.add_argument(
        "--congested-sizes",
        help="N of the congested schedule() rows (default 1000,10000; quick: max size)",
    )
    parser.add_argument("--repeats", type=int, help="repeats per case (default 3, quick 1)")
    parser.add_argument(
        "--baseline-max", type=int, default=1000, help="largest N for the baseline (default 1000)"
    )
    args = parser.parse_args()

    def sizes(text):
        return [int(size) for size in text.split(",")]

    args.sizes = sizes(args.sizes or ("20,50" if args.quick else "100,1000,10000"))
    largest = str(max(args.sizes))
    args.mix_sizes = sizes(args.mix_sizes or (largest if args.quick else "1000"))
    args.congested_sizes = sizes(args.congested_sizes or (largest if args.quick else "1000,10000"))
    args.repeats = args.repeats or (1 if args.quick else 3)
    # the 288-slot case of the cvxpy target; in quick mode at the smallest size
    args.long_case = (min(args.sizes), 288) if args.quick else (1000, 288)
    return args


def run_lp_table(args, backends):
    """Table 1 results: (method, N, T) -> (parts, objective)."""
    cases = [(n, 96) for n in args.sizes] + [args.long_case]
    results = {}
    for n, n_slots in cases:
        problem = cheap_problem(n, n_slots)
        for name, solve_lp in backends.items():
            results[name, n, n_slots] = measure(
                lambda p, solve_lp=solve_lp: time_backend(solve_lp, p), problem, args.repeats
            )
        if n <= args.baseline_max and n_slots == 96:
            results["baseline", n, n_slots] = measure(time_baseline, problem, args.repeats)
    return cases, results


def run_schedule_table(args):
    """Table 2 results: (method, instance, N) -> (parts, plans), cheap first at every N."""
    wanted = [("mix", n) for n in args.mix_sizes] + [("congested", n) for n in args.congested_sizes]
    results = {}
    for method in SCHEDULE_METHODS:
        for n in sorted({n for _, n in wanted}):
            for name in ("cheap", *(name for name, size in wanted if size == n)):
                problem = PROBLEMS[name](n, 96)
                results[method, name, n] = measure_schedule(problem, method, args.repeats)
    return results


def print_lp_table(args, cases, results, missing):
    print(
        "highs/cvxpy timed as build_lp + solve_lp (the first stage of schedule(), without its "
        "safety repair and verification); baseline: build_lp = Python construction, "
        "build_s = cvxpy compilation"
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


def print_schedule_table(results):
    print()
    print(
        "schedule(problem, method) end to end, T=96: plan.timings_s [s], plan.status, "
        "plan.backend, plan.stages; ratio = total / total of cheap with the same method at the "
        "same N; every plan passes verify_plan"
    )
    header = (
        f"{'method':<6} {'N':>6} {'instance':<10} {'runs':>4} {'status':<8} {'backend':<7} "
        + " ".join(f"{part:>8}" for part in SCHEDULE_PARTS)
        + f" {'ratio':>7} {'unmet [kWh]':>12}  stages"
    )
    print(header)
    print("-" * len(header))
    for (method, name, n), (parts, plans) in results.items():
        plan = plans[-1]
        expected = INSTANCES[name][0]
        status = plan.status.value + ("" if plan.status is expected else "!")
        ratio = parts[-1] / results[method, "cheap", n][0][-1]
        times = " ".join(f"{value:8.3f}" for value in parts)
        print(
            f"{method:<6} {n:>6} {name:<10} {len(plans):>4} {status:<8} {plan.backend:<7} "
            f"{times} {ratio:6.2f}x {float(plan.unmet_kwh.sum()):12.1f}  {'>'.join(plan.stages)}"
        )
    for (_, name, _), (_, plans) in results.items():
        plan = plans[-1]
        expected = INSTANCES[name][0]
        if plan.status is not expected:
            print(f"! {name}: {plan.status.value}, expected {expected.value}: {plan.message}")


def print_targets(results, schedule_results):
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
    for method, (name, (_, limit, sizes)) in itertools.product(SCHEDULE_METHODS, INSTANCES.items()):
        if limit is None:
            continue
        for n in sizes:
            what = f"  schedule {method} {name} N={n} T=96 total <= {limit:g}x cheap"
            result = schedule_results.get((method, name, n))
            cheap = schedule_results.get((method, "cheap", n))
            if result is None or cheap is None:
                print(f"{what}: not measured in this run")
                continue
            ratio = result[0][-1] / cheap[0][-1]
            met = "met" if ratio <= limit else "NOT met"
            print(
                f"{what}: {result[0][-1]:.3f} s / {cheap[0][-1]:.3f} s = {ratio:.2f}x, {met} "
                f"({result[1][-1].status.value})"
            )


def main():
    args = parse_args()
    backends, missing = available_backends()
    load_before = os.getloadavg()
    warm = random_problem(10, 24, seed=1)
    for solve_lp in backends.values():  # warm-up: imports and first-call costs
        time_backend(solve_lp, warm)
    time_baseline(warm)
    for method in SCHEDULE_METHODS:
        for name in PROBLEMS:  # every kernel and stage compiled before timing
            schedule(PROBLEMS[name](10, 96), method=method)

    cases, results = run_lp_table(args, backends)
    schedule_results = run_schedule_table(args)
    load_after = os.getloadavg()

    print(
        f"fera_flex scheduling benchmark: random_problem(N, T, seed=0), 3-level tree; table 1 "
        f"all CHEAP, every need met (Stage(ECONOMIC, needs_met=True)); median of "
        f"{args.repeats} run(s)"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, cvxpy {cp.__version__}, "
        f"highspy {version('highspy')}; {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print_lp_table(args, cases, results, missing)
    print_schedule_table(schedule_results)
    print_targets(results, schedule_results)


if __name__ == "__main__":
    main()
