"""Many sites at once: plans and offers through executors, per-site failures, Dask.

Every plan that comes back is compared with ``schedule`` run here on the
same site, and checked with ``verify_plan``.
"""

import functools
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex.distributed import (
    SITE_SESSION_SLOTS,
    TASK_SESSION_SLOTS,
    SiteError,
    dask_executor,
    offers_many,
    solve_many,
    warm_up,
)
from fera_flex.errors import InputError
from fera_flex.flexibility.offers import flexibility_offers
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import random_problem
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from tests.test_docs import snippets

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "examples" / "scenarios"
STREET = SCENARIOS / "residential_street.json"
DEPOT = SCENARIOS / "office_depot.json"
INPUT_ERROR = "fera_flex.errors.InputError"


@functools.cache
def small(k: int) -> ChargingProblem:
    """A small seeded site (6 to 20 sessions, 24 slots)."""
    return random_problem(6 + 2 * k, n_slots=24, seed=k)


@functools.cache
def direct(k: int):
    """The plan of ``small(k)`` scheduled here."""
    return schedule(small(k))


def assert_same_plan(plan, expected):
    assert plan.status is expected.status
    np.testing.assert_array_equal(plan.charge_kw, expected.charge_kw)
    np.testing.assert_array_equal(plan.discharge_kw, expected.discharge_kw)
    assert verify_plan(plan.problem, plan) == []


class Inline(Executor):
    """Runs each task at once on submit; records the tasks' chunks; may fail chosen tasks."""

    def __init__(self, fail=()):
        self.chunks = []
        self.fail = set(fail)

    def submit(self, fn, /, *args, **kwargs):
        self.chunks.append([key for key, _ in args[1]])
        future = Future()
        if len(self.chunks) - 1 in self.fail:
            future.set_exception(BrokenProcessPool("the worker died"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture(scope="module")
def pool():
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as p:  # its sites need no warm-up
        yield p


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"NUMBA_NUM_THREADS": "1"},
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


# -- in this process -------------------------------------------------------------------------


def test_in_process_plans_are_those_of_schedule():
    depot = Scenario.load(DEPOT)
    sites = {"a": small(0), "depot": depot, "street": STREET}
    calls = []
    results = list(solve_many(sites, progress=lambda done, total: calls.append((done, total))))
    assert [r.key for r in results] == ["a", "depot", "street"]  # in order without an executor
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert all(r.ok and r.offers is None and r.elapsed_s > 0 for r in results)
    assert results[0].plan.problem is sites["a"]
    assert_same_plan(results[0].plan, direct(0))
    for result, scenario in zip(results[1:], (depot, Scenario.load(STREET)), strict=True):
        assert_same_plan(result.plan, schedule(ChargingProblem.from_scenario(scenario)))
        assert result.plan.problem == ChargingProblem.from_scenario(scenario)


def test_a_failing_site_fails_alone(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "half a scenario", ')
    sites = [small(1), tmp_path / "missing.json", 42, broken, small(2)]
    results = {r.key: r for r in solve_many(sites)}
    assert sorted(results) == [0, 1, 2, 3, 4]
    assert results[0].ok and results[4].ok
    assert_same_plan(results[4].plan, direct(2))
    missing = results[1]
    assert not missing.ok and missing.plan is None
    assert isinstance(missing.error, InputError) and missing.error_type == INPUT_ERROR
    assert "missing.json" in str(missing.error) and "does not exist" in str(missing.error)
    assert "Scenario.load" in missing.traceback
    wrong = results[2].error
    assert isinstance(wrong, InputError)
    assert (wrong.obj, wrong.field, wrong.value) == ("solve_many", "items[2]", "int")
    assert isinstance(results[3].error, ValidationError)


def test_the_same_site_twice_is_rejected(tmp_path, monkeypatch):
    monkeypatch.chdir(STREET.parent)
    problem = small(0)
    sites = [problem, STREET.name, small(1), problem, str(STREET)]
    results = {r.key: r for r in solve_many(sites)}
    assert results[0].ok and results[1].ok and results[2].ok
    for key, first, what in ((3, 0, "same object"), (4, 1, "same file")):
        error = results[key].error
        assert isinstance(error, InputError) and error.field == f"items[{key}]"
        assert f"items[{first}]" in error.reason and what in error.reason
        assert "must be one problem" in error.reason


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: solve_many(Scenario.load(STREET)), "items"),
        (lambda: solve_many(STREET), "items"),
        (lambda: solve_many(7), "items"),
        (lambda: solve_many([], executor=object()), "executor"),
        (lambda: solve_many([], chunk_size=0), "chunk_size"),
        (lambda: solve_many([], max_pending=True), "max_pending"),
        (lambda: solve_many([], method="higs"), "method"),
        (lambda: solve_many([], objective="cheap"), "objective"),
        (lambda: solve_many([], solver_options={"time_limit_s": 1}), "solver_options"),
        (lambda: solve_many([], progress="bar"), "progress"),
        (lambda: offers_many([], nodes="n0"), "nodes"),
        (lambda: dask_executor(warm="all").__enter__(), "warm"),
    ],
)
def test_bad_arguments_raise_before_any_site_runs(call, field):
    with pytest.raises(InputError) as raised:
        call()
    assert raised.value.field == field


# -- tasks -----------------------------------------------------------------------------------


def estimate(problem):
    return SITE_SESSION_SLOTS + problem.n_sessions * problem.n_slots


def test_default_tasks_group_small_sites_up_to_the_task_size():
    tiny = [random_problem(2, n_slots=24, seed=k) for k in range(25)]
    big = random_problem(300, n_slots=96, seed=1)
    sites = [*tiny[:12], big, *tiny[12:], STREET, DEPOT]
    executor = Inline()
    results = list(solve_many(sites, executor))
    assert sorted(r.key for r in results) == list(range(len(sites)))
    assert all(r.ok for r in results)
    alone = [[12], [len(sites) - 2], [len(sites) - 1]]  # the big site and the paths
    assert all(chunk in executor.chunks for chunk in alone)
    assert estimate(big) >= TASK_SESSION_SLOTS
    shared = [chunk for chunk in executor.chunks if chunk not in alone]
    assert [k for chunk in shared for k in chunk] == [*range(12), *range(13, 26)]
    for chunk in shared[:-1]:  # each reaches the size, one site fewer would not
        work = [estimate(sites[k]) for k in chunk]
        assert sum(work) >= TASK_SESSION_SLOTS > sum(work[:-1])
    assert sum(estimate(sites[k]) for k in shared[-1]) < TASK_SESSION_SLOTS  # the rest, at the end
    assert min(len(chunk) for chunk in shared[:-1]) > 5  # small sites really share tasks


def test_chunk_size_fixes_the_sites_per_task():
    executor = Inline()
    list(solve_many([small(k) for k in range(7)], executor, chunk_size=3))
    assert executor.chunks == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_task_that_fails_fails_each_of_its_sites():
    executor = Inline(fail={1})
    results = {r.key: r for r in solve_many([small(k) for k in range(6)], executor, chunk_size=2)}
    assert executor.chunks == [[0, 1], [2, 3], [4, 5]]
    for key in (2, 3):
        assert isinstance(results[key].error, BrokenProcessPool)
        assert results[key].error_type == "concurrent.futures.process.BrokenProcessPool"
    for key in (0, 1, 4, 5):
        assert_same_plan(results[key].plan, direct(key))


@given(
    picks=st.lists(st.integers(0, 5), max_size=10),
    chunk_size=st.none() | st.integers(1, 4),
    max_pending=st.none() | st.integers(1, 3),
)
def test_every_site_comes_back_once_with_its_own_plan(picks, chunk_size, max_pending):
    sites = [small(k) for k in picks]
    results = list(solve_many(sites, Inline(), chunk_size=chunk_size, max_pending=max_pending))
    assert sorted(r.key for r in results) == list(range(len(sites)))
    for result in results:
        k = picks[result.key]
        if picks.index(k) == result.key:  # the first time this object is given
            assert result.plan.problem is sites[result.key]
            assert_same_plan(result.plan, direct(k))
        else:
            assert "same object" in str(result.error)


def test_max_pending_bounds_how_far_the_items_are_read():
    read = []

    def sites():
        for k in range(12):
            read.append(k)
            yield random_problem(4, n_slots=24, seed=k)

    with ThreadPoolExecutor(2) as executor:
        received = 0
        for result in solve_many(sites(), executor, chunk_size=1, max_pending=2):
            received += 1
            assert result.ok
            assert len(read) <= received + 2 + 1  # the tasks outstanding and the one waiting
    assert received == 12


def test_stopping_early_cancels_the_tasks_not_started():
    gate = threading.Event()
    second = threading.Event()  # the first task ends only once a second one is submitted:
    futures = []  # else a fast first result streams out before anything else is submitted

    class Gated(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            first = not futures
            if not first:
                second.set()

            def run():
                (second if first else gate).wait(30)
                return fn(*args, **kwargs)

            futures.append(super().submit(run))
            return futures[-1]

    with Gated(1) as executor:
        results = solve_many([small(k) for k in range(6)], executor, chunk_size=1)
        assert next(results).key == 0
        results.close()
        gate.set()
    assert len(futures) >= 2
    assert sum(f.cancelled() for f in futures) >= len(futures) - 2  # all but the first two


# -- pools -----------------------------------------------------------------------------------


def test_thread_pool_streams_every_plan():
    with ThreadPoolExecutor(2) as executor:
        results = {r.key: r for r in solve_many({f"s{k}": small(k) for k in range(4)}, executor)}
    for k in range(4):
        assert results[f"s{k}"].plan.problem is small(k)
        assert_same_plan(results[f"s{k}"].plan, direct(k))


def test_process_pool_plans_come_back_usable(pool, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    sites = {
        "p0": small(0),
        "p1": small(1),
        "street": STREET,
        "scenario": Scenario.load(DEPOT),
        "missing": tmp_path / "missing.json",
        "broken": broken,
    }
    results = {r.key: r for r in solve_many(sites, pool, chunk_size=2)}
    assert sorted(results) == sorted(sites)
    assert {results[k].worker for k in sites} and all(
        not results[k].worker.endswith(f":{os.getpid()}") for k in sites
    )
    for k in (0, 1):
        plan = results[f"p{k}"].plan
        assert plan.problem is sites[f"p{k}"]  # the caller's own problem, put back
        assert_same_plan(plan, direct(k))
        assert set(plan.to_ocpi_profiles()) == set(plan.problem.session_ids)
    for key, path in (("street", STREET), ("scenario", DEPOT)):
        plan = results[key].plan
        expected = ChargingProblem.from_scenario(Scenario.load(path))
        assert plan.problem == expected
        assert_same_plan(plan, schedule(expected))
    missing = results["missing"]
    assert missing.error_type == INPUT_ERROR and "does not exist" in str(missing.error)
    assert isinstance(missing.error, (InputError, SiteError))  # SiteError while it does not pickle
    assert "Scenario.load" in missing.traceback
    assert isinstance(results["broken"].error, ValidationError)


# -- offers ----------------------------------------------------------------------------------


def test_offers_many_are_the_offers_of_each_site():
    sites = [small(0), small(1), random_problem(2, n_slots=24, seed=0)]  # the last has no n3
    with ThreadPoolExecutor(2) as executor:
        results = {
            r.key: r for r in offers_many(sites, executor, nodes=["n0", "n3"], window=(6, 12))
        }
    for k in (0, 1):
        expected = flexibility_offers(small(k), direct(k), nodes=["n0", "n3"], window=(6, 12))
        assert_same_plan(results[k].plan, direct(k))
        assert len(results[k].offers) == 2
        for offer, wanted in zip(results[k].offers, expected, strict=True):
            assert (offer.node_id, offer.window, offer.shape) == (wanted.node_id, (6, 12), "box")
            np.testing.assert_array_equal(offer.power_max_kw, wanted.power_max_kw)
            np.testing.assert_array_equal(offer.power_min_kw, wanted.power_min_kw)
    assert isinstance(results[2].error, InputError) and "n3" in str(results[2].error)  # as itself
    assert_same_plan(results[2].plan, schedule(sites[2]))  # the plan is kept


def test_offers_of_a_bad_shape_fail_each_site_but_keep_its_plan():
    [result] = offers_many([small(0)], shape="star")
    assert isinstance(result.error, InputError) and result.error.field == "shape"
    assert_same_plan(result.plan, direct(0))


# -- Dask ------------------------------------------------------------------------------------


def compiled(module: str) -> int:
    """How many kernel signatures numba has compiled in this process for a module."""
    from numba.core.registry import CPUDispatcher

    kernels = vars(__import__(module, fromlist=["_"])).values()
    return sum(len(k.signatures) for k in kernels if isinstance(k, CPUDispatcher))


def test_warm_up_compiles_the_kernels():
    report = warm_up()
    assert compiled("fera_flex.network._simplex") >= 1  # for offers and the flow backend
    assert compiled("fera_flex.timeseries._kernels") >= 1  # for scenarios
    assert report["worker"].endswith(f":{os.getpid()}") and report["numba_threads"] >= 1
    assert report["elapsed_s"] > 0


def test_dask_cluster_runs_the_sites(cluster, tmp_path):
    workers = set(cluster.scheduler_info()["workers"])
    simplex = "fera_flex.network._simplex"
    assert set(cluster.run(compiled, simplex).values()) == {0}  # the first test on the cluster
    with dask_executor(cluster) as executor:
        # every worker is warm and single-threaded for numba
        warm = cluster.run(compiled, simplex)
        assert set(warm) == workers and all(n >= 1 for n in warm.values())
        threads = cluster.run(os.getenv, "NUMBA_NUM_THREADS")
        assert set(threads.values()) == {"1"}
        sites = {"p0": small(0), "p1": small(1), "street": STREET, "gone": tmp_path / "gone.json"}
        results = {r.key: r for r in solve_many(sites, executor, chunk_size=1)}
        bad = {r.key: r for r in offers_many({"p2": small(2)}, executor, nodes=["n99"])}
    assert sorted(results) == sorted(sites)
    for k in (0, 1):
        assert results[f"p{k}"].plan.problem is small(k)
        assert_same_plan(results[f"p{k}"].plan, direct(k))
    street = ChargingProblem.from_scenario(Scenario.load(STREET))
    assert_same_plan(results["street"].plan, schedule(street))
    assert results["gone"].error_type == INPUT_ERROR and "gone.json" in str(results["gone"].error)
    assert "n99" in str(bad["p2"].error)  # offers that fail on a worker keep the plan
    assert_same_plan(bad["p2"].plan, direct(2))
    # the executor is shut on exit; the caller's cluster stays open
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.submit(os.getpid)
    assert cluster.submit(os.getpid, pure=False).result(timeout=60) > 0


def test_dask_executor_starts_and_closes_its_own_cluster():
    psutil = pytest.importorskip("psutil")
    with dask_executor(n_workers=1, warm=False) as executor:
        assert executor.submit(os.getenv, "NUMBA_NUM_THREADS").result(timeout=120) == "1"
        [result] = solve_many([small(3)], executor)
        assert_same_plan(result.plan, direct(3))
        pid = int(result.worker.rsplit(":", 1)[1])
        assert pid != os.getpid() and psutil.pid_exists(pid)
    deadline = time.monotonic() + 30
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid)


def test_a_missing_dask_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"'dask' extra.*fera_flex\[dask\]"), dask_executor():
        pass


# -- the example, the benchmark, the documentation --------------------------------------------


def _run(script: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_example_runs_on_a_running_cluster(cluster):
    address = cluster.scheduler.address
    example = ROOT / "examples" / "many_sites_dask.py"
    out = _run(example, "--sites", "3", "--scheduler", address)
    assert "3 sites, 0 failed" in out
    for site in ("office_depot", "residential_street", "generated-0"):
        assert site in out


def test_the_benchmark_quick_run_prints_its_table(cluster):
    out = _run(
        ROOT / "benchmarks" / "distributed.py", "--quick", "--scheduler", cluster.scheduler.address
    )
    for executor in ("sequential", "pool-2", "dask"):
        assert executor in out
    for column in ("sites/s", "overhead/task", "vs sequential"):
        assert column in out
    assert "failed" in out and "!" not in out


def test_the_documentation_snippets_run(cluster, monkeypatch):
    # the Dask snippet connects to the running cluster named by FERA_FLEX_SCHEDULER
    monkeypatch.setenv("FERA_FLEX_SCHEDULER", cluster.scheduler.address)
    found = snippets("distributed.md")
    assert len(found) == 2
    for code in found:
        exec(compile(code, "docs/distributed.md", "exec"), {})
