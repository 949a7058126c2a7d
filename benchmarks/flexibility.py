"""Benchmark of the exact aggregate flexibility per node, each row against an LP in the same run.

Run with ``.venv/bin/python benchmarks/flexibility.py`` (``--quick`` for a
smoke run; ``--sizes`` for the one-node rows, ``--lp-max`` the largest N
given to the LP baseline there, ``--offers-sizes`` and ``--offer-shapes``
for the offers rows).

Rows, T = 96 quarter-hours:

* ``aggregate+greedy``: ``aggregate(problem, 0)`` then ``optimise(price)`` for
  N sessions on one node whose limit never binds (closed form: grouped
  boxes; power ratings 3.7/7.4/11/22 kW, stays of 1 to 10 hours). Baseline:
  the same optimum as one LP (the standard form of the ECONOMIC stage with
  every need met, all sessions CHEAP, solved by HiGHS). Target at 100,000:
  <= 0.3 s and >= 20x the LP.
* ``b/p, feeder``: ``b`` and ``p`` of a random set of 48 slots at the root of
  ``random_problem(1000, seed=0)`` (binding feeder and station limits: the
  flow oracle) against the same two values by LPs of the standard form.
* ``disaggregate``: one dispatch at the root of ``random_problem(N, seed=0)``,
  a feasible node profile (the set's optimum for a falling price), turned
  into per-session power by ``disaggregate`` with the flow backend (its TRACK
  and cost stages as min-cost flows), cold (no basis kept), against HiGHS on
  the same dispatch; target <= 1 s at 10,000. The ``warm`` row is a second,
  different dispatch on the same problem right after (the aggregator's next
  activation): the kept bases make it a re-solve.

* ``offers <shape>``: ``flexibility_offers`` of one shape for every node with
  sessions of ``random_problem(N, seed=0)`` (root, feeders, stations: a
  3-level tree), window slots 32 to 40, upstream headroom shared, baseline
  given. No LP baseline: an LP cannot make these offers; the row reports the
  offers made and their mean kept fraction. Target at 10,000: <= 2 s for all
  three shapes.

Times are medians of the repeats [s]; values are compared (``rel diff``).
Last, for each bundled site: the box, battery and option offers of its root
over the window of slots 32 to 40, with how much of the exact per-slot up and
down flexibility each keeps (``kept_up`` / ``kept_down``) and the time to
make it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np

import fera_flex as ff
from fera_flex.flexibility import (
    aggregate,
    disaggregate,
    flexibility_offers,
)
from fera_flex.flexibility._oracles import LPOracle
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.backends.highs import solve_lp
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.solver import SolverOptions
from fera_flex.scheduling.standard_form import build_lp

T = 96


def one_node(n: int, seed: int = 0) -> ff.ChargingProblem:
    rng = np.random.default_rng(seed)
    arrival = rng.integers(0, 80, n)
    departure = np.minimum(arrival + rng.integers(4, 40, n), T)
    power = rng.choice([3.7, 7.4, 11.0, 22.0], n)
    return ff.ChargingProblem.from_arrays(
        grid=ff.TimeGrid(datetime(2026, 3, 2, tzinfo=UTC), timedelta(minutes=15), T),
        arrival_slot=arrival,
        departure_slot=departure,
        energy_kwh=power * (departure - arrival) * 0.25 * rng.uniform(0.1, 0.9, n),
        power_max_kw=power,
        node_of_session=np.zeros(n, dtype=int),
        node_parent=[-1],
        node_capacity_kw=1e9,
        price_eur_per_kwh=0.25 + 0.1 * np.sin(np.arange(T) / 8),
        profile_type="CHEAP",
    )


def timed(run, repeats):
    times, value = [], None
    for _ in range(repeats):
        tic = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - tic)
    return statistics.median(times), value


def greedy_row(n, repeats, with_lp):
    problem = one_node(n)
    price = np.broadcast_to(problem.price_eur_per_kwh, (problem.n_sessions, T))[0]

    def exact():
        return aggregate(problem, 0).optimise(price)

    exact_s, profile = timed(exact, repeats)
    value = float(price @ profile * problem.grid.dt_h)
    lp_s = lp_value = None
    if with_lp:

        def lp():
            model = build_lp(problem, ObjectiveOptions())
            solution = solve_lp(model, SolverOptions())
            return solution.objective * model.cost_scale_eur

        lp_s, lp_value = timed(lp, 1)
    return ("aggregate+greedy", n, exact_s, value, lp_s, lp_value)


def bp_row(repeats):
    problem = random_problem(1000, T, seed=0)
    mask = np.random.default_rng(1).permutation(T) < T // 2
    flexibility = aggregate(problem, 0)
    exact_s, values = timed(lambda: (flexibility.b(mask), flexibility.p(mask)), repeats)
    reference = LPOracle(problem)
    lp_s, lp_values = timed(
        lambda: (reference.extreme(mask, True), reference.extreme(mask, False)), 1
    )
    return (f"b/p, feeder ({flexibility.method})", 1000, exact_s, values[0], lp_s, lp_values[0])


def disaggregate_rows(n, repeats, with_lp):
    """Cold (no basis kept) and warm (another dispatch on the same network) flow solves."""
    from fera_flex.scheduling.backends.flow import BACKEND

    problem = random_problem(n, T, seed=0)
    flexibility = aggregate(problem, 0)
    first = flexibility.optimise(np.linspace(0.4, 0.1, T))
    second = flexibility.optimise(np.linspace(0.1, 0.4, T))

    def cold():
        BACKEND.clear_warm_starts()
        return disaggregate(problem, {0: first}, method="flow")

    cold_s, plan = timed(cold, repeats)
    cold()  # the first dispatch's bases, kept for the next one
    warm_s, _ = timed(lambda: disaggregate(problem, {0: second}, method="flow"), 1)
    lp_s = lp_value = None
    if with_lp:
        lp_s, lp_plan = timed(lambda: disaggregate(problem, {0: first}, method="highs"), 1)
        lp_value = lp_plan.objective_eur
    return [
        ("disaggregate (flow, cold)", n, cold_s, plan.objective_eur, lp_s, lp_value),
        ("disaggregate (flow, warm)", n, warm_s, np.nan, None, None),
    ]


def offers_rows(n, shapes):
    """One row per shape: every node's offer of ``random_problem(n)``."""
    problem = random_problem(n, T, seed=0)
    plan = ff.schedule(problem)
    rows = []
    for shape in shapes:
        seconds, offers = timed(
            lambda s=shape: flexibility_offers(problem, plan, shape=s, window=(32, 40)), 1
        )
        kept = float(np.mean([(o.kept_up + o.kept_down) / 2 for o in offers]))
        rows.append((f"offers {shape} ({len(offers)} nodes)", n, seconds, kept, None, None))
    return rows


def site_offers():
    """(site, shape, seconds, kept up, kept down) for the bundled sites' root offers."""
    from fera_flex.flexibility.offers import battery_offer, box_offer, options_offer
    from fera_flex.scenarios.sites import office_depot, residential_street

    rows = []
    for make in (office_depot, residential_street):
        problem = ff.ChargingProblem.from_scenario(make())
        for maker in (box_offer, battery_offer, options_offer):
            seconds, offer = timed(lambda m=maker, p=problem: m(p, 0, window=(32, 40)), 1)
            rows.append((make.__name__, offer.shape, seconds, offer.kept_up, offer.kept_down))
    return rows


def report(rows) -> None:
    """Print rows of (name, N, seconds, value, LP seconds or None, LP value or None)."""
    for name, n, seconds, value, lp_s, lp_value in rows:
        line = f"{name:<28} {n:>7} {seconds:10.4f} {value:16.6f} "
        if lp_s is None:
            line += f"{'-':>9} {'-':>9} {'-':>9}"
        else:
            diff = abs(value - lp_value) / max(abs(lp_value), 1e-12)
            line += f"{lp_s:9.3f} {lp_s / seconds:8.1f}x {diff:9.1e}"
        print(line, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes")
    parser.add_argument("--lp-max", type=int, default=10_000)
    parser.add_argument("--disaggregate-sizes")
    parser.add_argument("--offers-sizes")
    parser.add_argument("--offer-shapes", default="box,battery,options")
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    sizes = [int(v) for v in (args.sizes or ("1000" if args.quick else "10000,100000")).split(",")]
    dis_text = args.disaggregate_sizes or ("100" if args.quick else "1000,10000")
    dis_sizes = [int(v) for v in dis_text.split(",")]
    offer_text = args.offers_sizes or ("100" if args.quick else "1000")
    offer_sizes = [int(v) for v in offer_text.split(",")]
    repeats = args.repeats or (1 if args.quick else 3)
    aggregate(one_node(50), 0).optimise(np.ones(T))  # compile the kernels
    small = random_problem(30, T, seed=1)
    aggregate(small, 0).b(np.arange(4))
    disaggregate(small, {0: aggregate(small, 0).optimise(np.linspace(0.4, 0.1, T))}, method="flow")
    # the offers' membership checks run the network simplex: compiled here, not in a timed row
    flexibility_offers(small, ff.schedule(small), shape="box", window=(32, 40))
    load = os.getloadavg()[0]
    print(f"exact aggregate flexibility, T={T}, median of {repeats}; load average {load:.2f}")
    header = (
        f"{'row':<28} {'N':>7} {'exact [s]':>10} {'value':>16} {'LP [s]':>9} "
        f"{'speed-up':>9} {'rel diff':>9}"
    )
    print(header)
    print("-" * len(header), flush=True)
    for n in sizes:  # each row printed when measured: a long run keeps what it finished
        report([greedy_row(n, repeats, n <= args.lp_max)])
    report([bp_row(repeats)])
    for n in dis_sizes:
        report(disaggregate_rows(n, repeats, n <= args.lp_max))
    for n in offer_sizes:
        report(offers_rows(n, args.offer_shapes.split(",")))
    print("disaggregate 'value' is the plan's objective (LP column: HiGHS on the same dispatch);")
    print("offers 'value' is the mean of (kept_up + kept_down) / 2 over the nodes")
    print()
    print("offers of the bundled sites' roots, slots 32-40 (LP sets: partial slots, V2G):")
    for site, shape, seconds, up, down in site_offers():
        print(f"  {site:<20} {shape:<8} {seconds:6.2f} s  kept up {up:.2f}, down {down:.2f}")


if __name__ == "__main__":
    main()
