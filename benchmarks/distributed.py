"""Benchmark of ``fera_flex.distributed``: many independent sites here, on a pool, on Dask.

Run with ``.venv/bin/python benchmarks/distributed.py`` (``--quick`` for a
smoke run of a few small sites of the ``problems`` and ``tiny`` workloads,
without warm-up and offers, ``--sites 200`` to choose the number of
sites, ``--workloads problems,scenarios,tiny``, ``--scheduler tcp://...`` to
use a running Dask scheduler instead of starting a LocalCluster).

Workloads, seeded (site k of a workload is the same in every run):

* ``problems``: ChargingProblems ``random_problem(n_k, 96, seed=k)`` with
  ``n_k`` uniform in 50..500 sessions (one day of 15-minute slots, binding
  tree limits, every need deliverable);
* ``scenarios``: Scenario objects ``generate(n_evses=n_k, seed=k,
  capacity_factor=1.0)``, the same sizes; the problem is built where the
  site runs, and some needs cannot be met (more energy stages);
* ``tiny``: twice as many sites of 2 sessions and 24 slots (about 5 ms
  each), to show what a task costs when the work is small.

Executors, each on every workload, after a warm-up of numba in every process:

* ``sequential``: ``solve_many(sites)`` here, one site after another: the
  baseline of the ratios, measured in the same run;
* ``pool-2``: ``ProcessPoolExecutor(2)`` (spawn, ``initializer=warm_up``);
* ``dask``: ``dask_executor()``, a ``LocalCluster(n_workers=2,
  threads_per_worker=1, processes=True, dashboard_address=None)`` with
  ``NUMBA_NUM_THREADS=1`` (or the ``--scheduler`` cluster);

both with the default tasks (sites grouped up to ``TASK_SESSION_SLOTS``)
and with ``chunk_size=1`` (one task per site). Columns: ``tasks``; ``wall``,
from the first submit to the last result [s]; ``sites/s``; ``vs
sequential``, the sequential wall over this wall; ``busy``, the sites'
summed ``elapsed_s`` where they ran [s]; ``overhead/task`` = (workers x
wall - busy) / tasks [ms], what a task costs beyond its sites' work
(pickling both ways, transfer, scheduling, and workers idle at the end);
``failed``, which must be 0. Every plan must equal the sequential plan of
its site (same status and power arrays) and pass ``verify_plan``; a row
where one does not is flagged with ``!``. Starting and warming the pool and
the cluster is timed apart. A last table makes the root's box offers
(``offers_many(nodes=[0], window=(32, 48))``, 08:00-12:00 UTC) of the first
sites of ``problems`` the same three ways.

The machine's load average is printed before and after: other work on the
machine slows every time, the parallel ones most.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

import numpy as np

from fera_flex.distributed import dask_executor, offers_many, solve_many, warm_up
from fera_flex.scenarios import generate, random_problem
from fera_flex.scheduling.verify import verify_plan

WORKERS = 2
SIZES = (50, 500)
QUICK_SIZES = (10, 30)
OFFER_WINDOW = (32, 48)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few small sites")
    parser.add_argument("--sites", type=int, default=200, help="sites per workload (200)")
    parser.add_argument(
        "--offer-sites", type=int, default=20, help="sites of the offers table (0: none)"
    )
    parser.add_argument("--workloads", default="problems,scenarios,tiny")
    parser.add_argument("--scheduler", help="a running Dask scheduler (tcp://host:port)")
    args = parser.parse_args()
    if args.quick:  # a smoke run: no warm-up (its times include compiling), no flow sites
        args.sites, args.offer_sites, args.workloads = 4, 0, "problems,tiny"
    return args


def sizes(count, quick):
    low, high = QUICK_SIZES if quick else SIZES
    return np.random.default_rng(12).integers(low, high + 1, count)


def workload(name, count, quick):
    """The sites of a workload, by key."""
    if name == "problems":
        return {
            f"p{k}": random_problem(int(n), 96, seed=k) for k, n in enumerate(sizes(count, quick))
        }
    if name == "scenarios":
        return {
            f"s{k}": generate(n_evses=int(n), seed=k, capacity_factor=1.0)
            for k, n in enumerate(sizes(count, quick))
        }
    if name == "tiny":
        return {f"t{k}": random_problem(2, 24, seed=k) for k in range(2 * count)}
    raise SystemExit(f"unknown workload {name!r}")


class Counting(Executor):
    """Submits to another executor and counts the tasks."""

    def __init__(self, executor):
        self.executor, self.tasks = executor, 0

    def submit(self, fn, /, *args, **kwargs):
        self.tasks += 1
        return self.executor.submit(fn, *args, **kwargs)


def run(sites, executor, workers, reference=None, **options):
    """One pass: a table row's numbers, and each site's plan arrays (to compare)."""
    counting = Counting(executor) if executor is not None else None
    started = time.perf_counter()
    results = list(solve_many(sites, counting, **options))
    wall = time.perf_counter() - started
    arrays, wrong, failed = {}, 0, 0
    for result in results:
        if not result.ok:
            failed += 1
            continue
        plan = result.plan
        arrays[result.key] = (plan.status, plan.charge_kw, plan.discharge_kw)
        if verify_plan(plan.problem, plan):
            wrong += 1
        if reference is not None:
            status, charge, discharge = reference[result.key]
            same = plan.status is status and np.array_equal(plan.charge_kw, charge)
            wrong += not (same and np.array_equal(plan.discharge_kw, discharge))
    busy = sum(r.elapsed_s for r in results)
    n_tasks = counting.tasks if counting is not None else len(sites)
    row = {
        "sites": len(sites),
        "tasks": n_tasks,
        "wall": wall,
        "busy": busy,
        "overhead_ms": 1e3 * (workers * wall - busy) / n_tasks,
        "failed": failed,
        "wrong": wrong,
    }
    return row, arrays


def pool_started(warm):
    """A spawned pool of two (warm) processes, and how long they took to start [s]."""
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(WORKERS, mp_context=context, initializer=warm_up if warm else None)
    pids = set()
    while len(pids) < WORKERS:  # each process answers once its warm-up is over
        pids |= {f.result() for f in [pool.submit(os.getpid) for _ in range(2 * WORKERS)]}
    return pool, time.perf_counter() - started


def dask_started(address, warm):
    started = time.perf_counter()
    client = None
    if address:
        from distributed import Client

        client = Client(address)
    manager = dask_executor(client, warm=warm)
    executor = manager.__enter__()
    return (manager, client, executor), time.perf_counter() - started


def dask_closed(handle):
    manager, client, _ = handle
    manager.__exit__(None, None, None)
    if client is not None:
        client.close()


def print_row(name, label, row, baseline_wall):
    flag = " !" if row["failed"] or row["wrong"] else ""
    print(
        f"{name:<10} {label:<22} {row['sites']:>5} {row['tasks']:>5} {row['wall']:>8.2f}"
        f" {row['sites'] / row['wall']:>8.1f} {baseline_wall / row['wall']:>12.2f}x"
        f" {row['busy']:>8.2f} {row['overhead_ms']:>14.1f} {row['failed']:>6}{flag}"
    )


def offers_table(sites, pool, dask_executor_):
    print()
    print(
        f"offers_many(sites, nodes=[0], window={OFFER_WINDOW}): root box offers of the first "
        f"{len(sites)} 'problems' sites"
    )
    header = f"{'executor':<22} {'sites':>5} {'wall_s':>8} {'sites/s':>8} {'vs sequential':>13}"
    print(header + "  failed")
    print("-" * (len(header) + 8))
    baseline = None
    for label, executor in (("sequential", None), ("pool-2", pool), ("dask", dask_executor_)):
        started = time.perf_counter()
        results = list(offers_many(sites, executor, nodes=[0], window=OFFER_WINDOW))
        wall = time.perf_counter() - started
        baseline = baseline or wall
        failed = sum(not r.ok for r in results)
        print(
            f"{label:<22} {len(sites):>5} {wall:>8.2f} {len(sites) / wall:>8.1f}"
            f" {baseline / wall:>12.2f}x  {failed}{' !' if failed else ''}"
        )


def main():
    args = parse_args()
    # Run as a script, this file's folder comes first on sys.path, where its name hides
    # Dask's ``distributed`` package (from here on, also for the processes it spawns).
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    load_before = os.getloadavg()
    warm = not args.quick
    if warm:
        warm_up()  # this process's kernels, as the workers' are
    pool, pool_s = pool_started(warm)
    dask, dask_s = dask_started(args.scheduler, warm)
    rows = []
    try:
        for name in args.workloads.split(","):
            sites = workload(name, args.sites, args.quick)
            base, reference = run(sites, None, 1)
            rows.append((name, "sequential", base, base["wall"]))
            for label, executor in (("pool-2", pool), ("dask", dask[2])):
                for chunk in (None, 1):
                    row, _ = run(sites, executor, WORKERS, reference, chunk_size=chunk)
                    rows.append(
                        (name, f"{label}, {'chunk=1' if chunk else 'default'}", row, base["wall"])
                    )
        load_after = os.getloadavg()
        low, high = QUICK_SIZES if args.quick else SIZES
        print(
            f"fera_flex.distributed benchmark: {args.sites} sites per workload of "
            f"{low}..{high} sessions ('tiny': "
            f"{2 * args.sites} of 2); {WORKERS} workers"
        )
        print(
            f"Python {platform.python_version()}, numpy {np.__version__}, dask "
            f"{version('distributed')}; {os.cpu_count()} CPUs; load average "
            f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
        )
        where = args.scheduler or "LocalCluster"
        warmed = "start and warm-up" if warm else "start (no warm-up: times include compiling)"
        print(f"{warmed}: pool-2 {pool_s:.1f} s, dask ({where}) {dask_s:.1f} s")
        header = (
            f"{'workload':<10} {'executor':<22} {'sites':>5} {'tasks':>5} {'wall_s':>8}"
            f" {'sites/s':>8} {'vs sequential':>13} {'busy_s':>8} {'overhead/task_ms':>14}"
            f" {'failed':>6}"
        )
        print(header)
        print("-" * len(header))
        for name, label, row, baseline_wall in rows:
            print_row(name, label, row, baseline_wall)
        if args.offer_sites:
            first = list(workload("problems", args.offer_sites, args.quick).values())
            offers_table(first, pool, dask[2])
        else:
            print("offers table: not run (--offer-sites 0 or --quick)")
    finally:
        pool.shutdown()
        dask_closed(dask)


if __name__ == "__main__":
    main()
