"""Plans and root offers for many independent sites on a Dask cluster.

Run it from the repository root::

    .venv/bin/python examples/many_sites_dask.py               # 6 sites, a local 2-worker cluster
    .venv/bin/python examples/many_sites_dask.py --sites 40    # more generated sites
    .venv/bin/python examples/many_sites_dask.py --scheduler tcp://10.0.0.5:8786

The sites are the two bundled scenarios and generated ones
(``fera_flex.scenarios.generate``), sent as Scenario objects so that any
cluster can run them (workers that share a file system can be given paths
instead). Each site is scheduled on a worker and its root node offers a box
of flexibility over 08:00-12:00 UTC; the table shows what came back and where
it ran. Needs the ``dask`` extra.
"""

import argparse
import time
from pathlib import Path

from fera_flex.distributed import dask_executor, offers_many
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import generate

BUNDLED = Path(__file__).resolve().parent / "scenarios"
WINDOW = (32, 48)  # 08:00-12:00 UTC in 15-minute slots


def sites(count: int) -> dict[str, Scenario]:
    """The bundled scenarios first, then generated sites of 10 to 40 EVSEs."""
    found = {path.stem: Scenario.load(path) for path in sorted(BUNDLED.glob("*.json"))}
    for k in range(max(count - len(found), 0)):
        found[f"generated-{k}"] = generate(n_evses=10 + (7 * k) % 31, seed=k, capacity_factor=1.0)
    return dict(list(found.items())[:count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=6, help="number of sites (default 6)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://...)")
    args = parser.parse_args()

    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    chosen = sites(args.sites)
    started = time.perf_counter()
    with dask_executor(client) as executor:  # without a client: a LocalCluster of 2 workers
        ready = time.perf_counter()
        results = list(offers_many(chosen, executor, nodes=[0], window=WINDOW))
    finished = time.perf_counter()
    if client is not None:
        client.close()

    print(
        f"{'site':<20} {'sessions':>8} {'status':>8} {'kWh':>8} {'unmet':>7} {'EUR':>8}"
        f" {'up kW':>6} {'down kW':>7} {'s':>6}  worker"
    )
    for result in sorted(results, key=lambda r: str(r.key)):
        if not result.ok:
            print(f"{result.key:<20} failed: {result.error}")
            continue
        plan, [offer] = result.plan, result.offers
        up = (offer.power_max_kw - offer.baseline_kw).max()
        down = (offer.baseline_kw - offer.power_min_kw).max()
        print(
            f"{result.key:<20} {plan.problem.n_sessions:>8} {plan.status.value:>8}"
            f" {plan.delivered_kwh.sum():>8.1f} {plan.unmet_kwh.sum():>7.1f}"
            f" {plan.cost_eur:>8.2f} {up:>6.1f} {down:>7.1f} {result.elapsed_s:>6.2f}"
            f"  {result.worker}"
        )
    failed = sum(not r.ok for r in results)
    print(
        f"{len(results)} sites, {failed} failed; cluster ready and warm in {ready - started:.1f} s,"
        f" sites done in {finished - ready:.1f} s ({len(results) / (finished - ready):.1f} sites/s)"
    )


if __name__ == "__main__":
    main()
