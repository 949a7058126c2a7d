"""Many independent sites at once: plans or offers fanned out to any executor (Dask).

:func:`solve_many` schedules every site, :func:`offers_many` schedules it and
makes its flexibility offers. A site is a
:class:`~fera_flex.models.scenario.Scenario`, the path of a scenario JSON file
(read where the site runs) or a
:class:`~fera_flex.scheduling.problem.ChargingProblem`. Sites go to any
:class:`concurrent.futures.Executor` (a stdlib process or thread pool, or
Dask's ``client.get_executor()``, see :func:`dask_executor`) or, without one,
run here one after another. Results stream back as their task finishes, each
a :class:`SiteResult` with the site's key (its mapping key, else its position)
and its plan and offers, or its error: a site that fails (bad input, a
missing file) fails alone.

Tasks are coarse: several small sites go in one task, so the executor's cost
per task (measured: about 3 ms on a process pool, 6-11 ms on a local Dask
cluster; see ``docs/distributed.md``) stays small against the work. By
default small sites join a task until their estimated work reaches
:data:`TASK_SESSION_SLOTS`; ``chunk_size`` fixes the number instead.

Sites must be independent. Sites behind a shared upstream limit (one
transformer, one grid connection) are one problem: solve them jointly, as one
scenario whose topology holds that limit; solved apart, each would use the
whole shared room. What can be seen is rejected: an item given twice (the
same object, or the same file) gets an error instead of a second plan.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> sites = {"north": random_problem(6, seed=1), "south": random_problem(8, seed=2)}
>>> results = {result.key: result for result in solve_many(sites)}
>>> sorted(results), results["north"].plan.status.value
(['north', 'south'], 'optimal')
>>> results["south"].plan.problem is sites["south"]
True
>>> [failed] = solve_many(["/no/such/site.json"])
>>> failed.ok, failed.key, failed.error_type
(False, 0, 'fera_flex.errors.InputError')
"""

from __future__ import annotations

import os
import pickle
import queue
import socket
import time
import traceback
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from fera_flex.errors import FeraFlexError, InputError
from fera_flex.flexibility.offers import NodeOffer, flexibility_offers
from fera_flex.models.scenario import Scenario
from fera_flex.network import min_cost_flow
from fera_flex.scheduling.objective import ObjectiveOptions
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.solver import BACKENDS, SolverOptions

__all__ = [
    "SITE_SESSION_SLOTS",
    "TASK_SESSION_SLOTS",
    "SiteError",
    "SiteResult",
    "dask_executor",
    "offers_many",
    "solve_many",
    "warm_up",
]

TASK_SESSION_SLOTS = 20_000
"""Default work of one task [session-slots]: small sites join a task until their estimates reach it.

A site's estimate is :data:`SITE_SESSION_SLOTS` plus its sessions times its
slots; a site estimated at a whole task or more, and a path (its size is
known only where it is read), is a task of its own. Measured:
``schedule(random_problem(n))`` takes about 4 ms + 2 us per session-slot,
so a task of small sites takes about 50 ms or more.
"""

SITE_SESSION_SLOTS = 2_000
"""A site's fixed cost (building, stages, verification) in session-slots: about 4 ms."""

Site = Scenario | ChargingProblem | str | os.PathLike
"""What one site may be given as."""


def _worker() -> str:
    """``host:pid`` of this process (asked each time: a forked child has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SiteError(FeraFlexError):
    """A site's exception that cannot travel back from a worker as itself (it does not pickle).

    Parameters
    ----------
    type_name : str
        The qualified name of the exception's type.
    message : str
        Its message.
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(type_name, message)
        self.type_name = type_name
        self.message = message

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}"


@dataclass(frozen=True)
class SiteResult:
    """What became of one site.

    Attributes
    ----------
    key : hashable
        The site's key in a mapping of sites, else its position in the items.
    plan : ChargingPlan or None
        The site's plan (None when it could not be made; kept when only the
        offers failed). For a site given as a ChargingProblem,
        ``plan.problem`` is that very object.
    offers : tuple of NodeOffer or None
        Its offers (:func:`offers_many` only).
    error : Exception or None
        Why the site failed: its own exception (from another process, a
        :class:`SiteError` stands in for one that does not pickle), or the
        executor's error for the whole task (a worker that died, a cancelled
        task).
    error_type : str
        The qualified type name of the original exception ("" when none).
    traceback : str
        Where it was raised, formatted where the site ran ("" when none).
    elapsed_s : float
        Time spent on the site where it ran [s] (0 when its task failed).
    worker : str
        ``host:pid`` of the process that ran the site ("" when its task failed).
    """

    key: Hashable
    plan: ChargingPlan | None = None
    offers: tuple[NodeOffer, ...] | None = None
    error: BaseException | None = None
    error_type: str = ""
    traceback: str = ""
    elapsed_s: float = 0.0
    worker: str = ""

    @property
    def ok(self) -> bool:
        """True when the site did not fail."""
        return self.error is None


@dataclass(frozen=True)
class _Task:
    """What to do with each site (sent to the workers with every chunk)."""

    offers: bool
    method: str
    objective: ObjectiveOptions | None
    solver_options: SolverOptions | None
    nodes: tuple[int | str, ...] | None = None
    resolution: Any = None
    shape: str = "box"
    window: tuple[int, int] | None = None


def solve_many(
    items: Iterable[Site] | Mapping[Hashable, Site],
    executor: Executor | None = None,
    *,
    method: str = "auto",
    objective: ObjectiveOptions | None = None,
    solver_options: SolverOptions | None = None,
    chunk_size: int | None = None,
    max_pending: int | None = None,
    progress: Callable[[int, int | None], Any] | None = None,
) -> Iterator[SiteResult]:
    """Schedule many independent sites, yielding each site's result as its task finishes.

    Parameters
    ----------
    items : iterable or mapping of sites
        Scenarios, paths of scenario JSON files (read where the site runs:
        a cluster's workers must see them) or ChargingProblems; a mapping
        gives each site its key.
    executor : concurrent.futures.Executor, optional
        Where the tasks run: a ``ProcessPoolExecutor``, a
        ``ThreadPoolExecutor``, ``client.get_executor()`` (see
        :func:`dask_executor`). None runs each site here, in order.
    method, objective, solver_options
        As for :func:`~fera_flex.scheduling.schedule.schedule`, for every site.
    chunk_size : int, optional
        Sites per task; by default sites join a task until their estimated
        work reaches :data:`TASK_SESSION_SLOTS`.
    max_pending : int, optional
        The most tasks submitted and not yet collected (bounds memory when
        ``items`` is a lazy iterable of large sites); None submits them all.
    progress : callable, optional
        Called as ``progress(done, total)`` after each result (``total`` is
        None when ``items`` has no length).

    Yields
    ------
    SiteResult
        One per site, in the order they finish (in order without an executor).

    Raises
    ------
    InputError
        For a bad argument (before any site runs). A bad site is a failed
        result instead.
    """
    task = _Task(False, *_check_options("solve_many", method, objective, solver_options))
    return _fan_out("solve_many", items, executor, task, chunk_size, max_pending, progress)


def offers_many(
    items: Iterable[Site] | Mapping[Hashable, Site],
    executor: Executor | None = None,
    *,
    nodes: Sequence[int | str] | None = None,
    resolution: Any = None,
    shape: str = "box",
    window: tuple[int, int] | None = None,
    method: str = "auto",
    objective: ObjectiveOptions | None = None,
    solver_options: SolverOptions | None = None,
    chunk_size: int | None = None,
    max_pending: int | None = None,
    progress: Callable[[int, int | None], Any] | None = None,
) -> Iterator[SiteResult]:
    """Schedule many independent sites and make their flexibility offers.

    Each site is scheduled (its baseline, returned as ``plan``) and
    :func:`~fera_flex.flexibility.offers.flexibility_offers` makes its offers
    on that plan. Offers of different sites are independent only because the
    sites are: see the module documentation about shared upstream limits. A
    site whose offers fail (a node it lacks, a bad window, or needs that
    cannot all be met, which leaves no deliverable set) keeps its plan.

    Parameters
    ----------
    items, executor, method, objective, solver_options, chunk_size, max_pending, progress
        As for :func:`solve_many`.
    nodes : sequence of node ids or indices, optional
        The nodes of every site to make offers for (default: every node with
        sessions under it). A node a site lacks fails that site.
    resolution, shape, window
        As for :func:`~fera_flex.flexibility.offers.flexibility_offers`,
        which checks them for each site.

    Yields
    ------
    SiteResult
        With ``plan`` and ``offers``.
    """
    where = "offers_many"
    if nodes is not None and (isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence)):
        raise InputError(where, "nodes", nodes, "must be a sequence of node ids or indices")
    task = _Task(
        True,
        *_check_options(where, method, objective, solver_options),
        nodes=None if nodes is None else tuple(nodes),
        resolution=resolution,
        shape=shape,
        window=window,
    )
    return _fan_out(where, items, executor, task, chunk_size, max_pending, progress)


def warm_up() -> dict[str, Any]:
    """Compile fera_flex's numba kernels in this process (once per worker: about 10 s).

    Builds a tiny scenario's problem (the profile kernels), schedules a tiny
    problem and makes its root's box offer (the augmenting paths of the
    flow backend and the offers), and solves a two-arc min-cost flow (the
    network simplex, which the ``flow`` backend takes for costs that are not
    one price per slot, and the flexibility oracles for some checks). Pass it
    as a process pool's ``initializer``; :func:`dask_executor` runs it on
    every Dask worker.

    Returns
    -------
    dict
        ``worker`` (``host:pid``), ``numba_threads`` (numba's thread pool
        size, ``NUMBA_NUM_THREADS``) and ``elapsed_s``.
    """
    import numba

    from fera_flex.scenarios import generate, random_problem

    started = time.perf_counter()
    ChargingProblem.from_scenario(generate(n_evses=2, n_slots=8, seed=0))
    problem = random_problem(6, n_slots=8, seed=0)
    flexibility_offers(problem, schedule(problem), nodes=[0])
    min_cost_flow([0, 1], [1, 0], [0.0, 0.0], [1.0, 1.0], [1.0, -2.0], [0.0, 0.0])
    return {
        "worker": _worker(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "elapsed_s": time.perf_counter() - started,
    }


@contextmanager
def dask_executor(
    client: Any = None, *, n_workers: int = 2, warm: bool = True
) -> Iterator[Executor]:
    """A Dask cluster's ``concurrent.futures`` executor, numba warmed up on every worker.

    Needs the ``dask`` extra (``pip install 'fera_flex[dask]'``).

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to use (e.g. ``Client("tcp://scheduler:8786")``); it is
        left open. Without one, a ``LocalCluster`` of ``n_workers``
        single-threaded worker processes (``NUMBA_NUM_THREADS=1``, no
        dashboard) is started and closed on exit.
    n_workers : int
        Workers of the local cluster (only without ``client``).
    warm : bool
        Run :func:`warm_up` on every current worker first (``client.run``),
        so that no task pays for compiling. Workers that join later compile
        on their first task.

    Yields
    ------
    concurrent.futures.Executor
        ``client.get_executor(pure=False)``, for :func:`solve_many` and
        :func:`offers_many`. It is shut down on exit.
    """
    where = "dask_executor"
    if not isinstance(warm, bool):
        raise InputError(where, "warm", warm, "must be True or False")
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "fera_flex.distributed.dask_executor needs the 'dask' extra: "
            f"pip install 'fera_flex[dask]' ({error})"
        ) from error
    if client is not None and not isinstance(client, distributed.Client):
        raise InputError(where, "client", type(client).__name__, "must be a distributed.Client")
    if client is None and (
        not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1
    ):
        raise InputError(where, "n_workers", n_workers, "must be an integer >= 1")
    cluster = None
    if client is None:
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"NUMBA_NUM_THREADS": "1"},
        )
        client = distributed.Client(cluster)
    executor = client.get_executor(pure=False)
    try:
        if warm:
            client.run(warm_up)
        yield executor
    finally:
        executor.shutdown(wait=False)  # cancels this executor's tasks still on the cluster
        if cluster is not None:
            client.close()
            cluster.close()


def _check_options(where, method, objective, solver_options):
    if not isinstance(method, str) or not (method == "auto" or method in BACKENDS):
        raise InputError(where, "method", method, f"must be one of {['auto', *BACKENDS]}")
    if objective is not None and not isinstance(objective, ObjectiveOptions):
        raise InputError(where, "objective", type(objective).__name__, "must be ObjectiveOptions")
    if solver_options is not None and not isinstance(solver_options, SolverOptions):
        raise InputError(
            where, "solver_options", type(solver_options).__name__, "must be SolverOptions"
        )
    return method, objective, solver_options


def _count(where: str, name: str, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(where, name, value, "must be None or an integer >= 1")
    return value


def _fan_out(where, items, executor, task, chunk_size, max_pending, progress):
    """Check the arguments now (not on the first ``next``) and return the results' iterator."""
    if isinstance(items, (str, bytes, os.PathLike, Scenario, ChargingProblem)) or not isinstance(
        items, Iterable
    ):
        raise InputError(
            where,
            "items",
            type(items).__name__,
            "must be an iterable of sites (a list of one site)",
        )
    if executor is not None and not isinstance(executor, Executor):
        raise InputError(
            where, "executor", type(executor).__name__, "must be a concurrent.futures.Executor"
        )
    chunk_size = _count(where, "chunk_size", chunk_size)
    max_pending = _count(where, "max_pending", max_pending)
    if progress is not None and not callable(progress):
        raise InputError(where, "progress", type(progress).__name__, "must be callable")
    total = len(items) if hasattr(items, "__len__") else None
    sites = _checked(where, items.items() if isinstance(items, Mapping) else enumerate(items))
    results = (
        (result if isinstance(result, SiteResult) else _run_site(task, *result) for result in sites)
        if executor is None
        else _submitted(executor, task, _chunks(sites, chunk_size), max_pending)
    )
    return _reported(results, progress, total)


def _reported(results, progress, total):
    try:
        for done, result in enumerate(results, start=1):
            if progress is not None:
                progress(done, total)
            yield result
    finally:  # stopping early cancels the tasks not started, now
        results.close()


def _checked(where: str, entries: Iterable[tuple[Hashable, Any]]):
    """Each ``(key, site)``, or a failed result for a site of the wrong type or given twice."""
    seen: dict[Any, tuple[Hashable, Any]] = {}  # holds the objects, so that their ids stay unique
    for key, item in entries:
        field = f"items[{key!r}]"
        if isinstance(item, (Scenario, ChargingProblem)):
            identity, what = id(item), "is the same object as"
        elif isinstance(item, (str, os.PathLike)):
            identity = ("path", os.path.abspath(os.path.expanduser(os.fspath(item))))
            what = "names the same file as"
        else:
            reason = "must be a Scenario, a scenario JSON path or a ChargingProblem"
            yield _failed(key, InputError(where, field, type(item).__name__, reason))
            continue
        if identity in seen:
            reason = (
                f"{what} items[{seen[identity][0]!r}]: one site given twice (sites that share "
                "a limit must be one problem)"
            )
            yield _failed(key, InputError(where, field, type(item).__name__, reason))
            continue
        seen[identity] = (key, item)
        yield key, item


def _failed(
    key: Hashable, error: BaseException, trace: str = "", elapsed_s: float = 0.0, worker: str = ""
) -> SiteResult:
    kind = type(error)
    return SiteResult(
        key,
        error=error,
        error_type=f"{kind.__module__}.{kind.__qualname__}",
        traceback=trace,
        elapsed_s=elapsed_s,
        worker=worker,
    )


def _cost(item: Any) -> int:
    """A site's estimated work [session-slots] (a path: a whole task)."""
    if isinstance(item, ChargingProblem):
        return SITE_SESSION_SLOTS + item.n_sessions * item.n_slots
    if isinstance(item, Scenario):
        sessions = len(item.sessions) + len(item.arrival_estimates)
        return SITE_SESSION_SLOTS + sessions * item.horizon.n_slots
    return TASK_SESSION_SLOTS


def _chunks(sites, chunk_size: int | None):
    """The sites in tasks (lists of ``(key, site)``); failed results pass straight through."""
    chunk: list[tuple[Hashable, Any]] = []
    work = 0
    for site in sites:
        if isinstance(site, SiteResult):
            yield site
            continue
        if chunk_size is None:
            cost = _cost(site[1])
            if cost >= TASK_SESSION_SLOTS:  # a whole task on its own: the small ones wait
                yield [site]
                continue
            work += cost
        chunk.append(site)
        if len(chunk) == chunk_size or (chunk_size is None and work >= TASK_SESSION_SLOTS):
            yield chunk
            chunk, work = [], 0
    if chunk:
        yield chunk


def _submitted(executor: Executor, task: _Task, chunks, max_pending: int | None):
    """Submit the tasks (at most ``max_pending`` outstanding) and yield results as they finish."""
    travel = not isinstance(executor, ThreadPoolExecutor)  # results may cross processes
    pending: dict[Future, list] = {}
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()

    def collected(future: Future) -> list[SiteResult]:
        chunk = pending.pop(future)
        try:
            results = future.result()
        except Exception as error:  # the whole task failed: each of its sites says so
            return [_failed(key, error) for key, _ in chunk]
        return [_reattached(result, item) for result, (_, item) in zip(results, chunk, strict=True)]

    try:
        for chunk in chunks:
            if isinstance(chunk, SiteResult):
                yield chunk
                continue
            while max_pending is not None and len(pending) >= max_pending:
                yield from collected(finished.get())
            future = executor.submit(_run_chunk, task, chunk, travel)
            pending[future] = chunk
            future.add_done_callback(finished.put)
            while not finished.empty():  # stream what is done while submitting
                yield from collected(finished.get())
        while pending:
            yield from collected(finished.get())
    finally:  # also when the caller stops iterating early
        for future in pending:
            future.cancel()


def _reattached(result: SiteResult, item: Any) -> SiteResult:
    """A worker's result with the caller's own problem put back into the plan."""
    if result.plan is not None and result.plan.problem is None:
        return replace(result, plan=replace(result.plan, problem=item))
    return result


def _run_chunk(task: _Task, chunk: list[tuple[Hashable, Any]], travel: bool) -> list[SiteResult]:
    """Worker: each site of one task; with ``travel``, made fit to travel back.

    A plan leaves out a problem the caller already has (:func:`_reattached`
    puts it back) and an error that does not pickle becomes a :class:`SiteError`.
    """
    results = []
    for key, item in chunk:
        result = _run_site(task, key, item)
        if not travel:
            results.append(result)
            continue
        if result.plan is not None and isinstance(item, ChargingProblem):
            result = replace(result, plan=replace(result.plan, problem=None))
        if result.error is not None:
            result = replace(result, error=_sendable(result.error))
        results.append(result)
    return results


def _run_site(task: _Task, key: Hashable, item: Any) -> SiteResult:
    """One site: its plan (and offers), or the error that stopped it."""
    started = time.perf_counter()
    plan = None
    try:
        if isinstance(item, ChargingProblem):
            problem = item
        else:
            scenario = item if isinstance(item, Scenario) else Scenario.load(item)
            problem = ChargingProblem.from_scenario(scenario)
        plan = schedule(
            problem, task.method, objective=task.objective, solver_options=task.solver_options
        )
        offers = None
        if task.offers:
            offers = tuple(
                flexibility_offers(
                    problem,
                    plan,
                    nodes=task.nodes,
                    resolution=task.resolution,
                    shape=task.shape,
                    window=task.window,
                )
            )
    except Exception as error:
        elapsed = time.perf_counter() - started
        return replace(_failed(key, error, traceback.format_exc(), elapsed, _worker()), plan=plan)
    elapsed = time.perf_counter() - started
    return SiteResult(key, plan=plan, offers=offers, elapsed_s=elapsed, worker=_worker())


def _sendable(error: Exception) -> Exception:
    """The exception itself when it survives pickling, else a :class:`SiteError` in its place."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        kind = type(error)
        return SiteError(f"{kind.__module__}.{kind.__qualname__}", str(error))
    return error
