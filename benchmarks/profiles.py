"""Benchmark of the profile algebra: kernels against their numpy references.

Run with ``.venv/bin/python benchmarks/profiles.py``. Every operation is warmed
up first (JIT compilation), then timed several times; the table shows the
median. ``fera_flex`` is the public call (a ProfileBatch or Profile method, so
it includes the dispatch into the kernel); ``numpy ref`` is the plain numpy
twin in ``fera_flex.timeseries._reference`` on the same arrays.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np

from fera_flex._time import from_epoch_s
from fera_flex.timeseries import Profile, ProfileBatch, TimeGrid, _reference

N_PROFILES = 100_000
BREAKPOINTS_PER_PROFILE = 10
DAY_S = 86_400
SLOT_S = 900
T0_S = 1_704_067_200  # 2024-01-01T00:00:00Z
REPEATS = 7
REFERENCE_REPEATS = 3
SLOW_REFERENCE_REPEATS = 1


def sessions(rng, window_s, on_grid):
    """Flat arrays ``(t_s, values, offsets, end_s)`` of N_PROFILES sessions of 10 periods.

    Sessions start within ``window_s`` after T0_S; periods last 1 min to 1 h at
    arbitrary seconds, or 15 min to 1 h on the 15-minute grid. A fifth of the
    values are 0 (paused charging), the rest uniform in [0, 22) kW.
    """
    n, m = N_PROFILES, BREAKPOINTS_PER_PROFILE
    if on_grid:
        start = rng.integers(0, window_s // SLOT_S, n) * SLOT_S
        gaps = rng.integers(1, 5, (n, m + 1)) * SLOT_S
    else:
        start = rng.integers(0, window_s, n)
        gaps = rng.integers(60, 3600, (n, m + 1))
    edges = T0_S + start[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
    values = rng.uniform(0.0, 22.0, (n, m))
    values[rng.random((n, m)) < 0.2] = 0.0
    offsets = np.arange(0, n * m + 1, m)
    return edges[:, :-1].ravel(), values.ravel(), offsets, edges[:, -1].copy()


def long_profile(rng, n):
    """One profile with ``n`` breakpoints at arbitrary seconds."""
    t_s = T0_S + np.cumsum(rng.integers(1, 60, n))
    return Profile(t_s, rng.uniform(-22.0, 22.0, n), end_s=int(t_s[-1]) + 60)


def median_ms(call, repeats):
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return 1e3 * statistics.median(timings)


def cold_import_s(module, repeats=5):
    """Median seconds to import ``module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(runs)


def main():
    rng = np.random.default_rng(20240101)
    rows = []

    def row(case, size, call, reference=None, reference_repeats=REFERENCE_REPEATS, target_ms=None):
        call()  # warm-up: JIT compilation
        ms = median_ms(call, REPEATS)
        ref_ms = median_ms(reference, reference_repeats) if reference else None
        rows.append((case, size, ms, ref_ms, target_ms))

    day = sessions(rng, DAY_S, on_grid=False)
    day_grid = sessions(rng, DAY_S, on_grid=True)
    year = sessions(rng, 365 * DAY_S, on_grid=False)
    size = f"{N_PROFILES:,} x {BREAKPOINTS_PER_PROFILE}"

    row("ProfileBatch(...) from flat arrays", size, lambda: ProfileBatch(*day))
    profiles = list(ProfileBatch(*day))
    row("ProfileBatch.from_profiles(list)", size, lambda: ProfileBatch.from_profiles(profiles))

    for case, arrays, target in (
        ("sum, arbitrary breakpoints (1 day)", day, 50.0),
        ("sum, breakpoints on a 15-min grid", day_grid, 10.0),
        ("sum, arbitrary breakpoints (1 year)", year, None),
    ):
        batch = ProfileBatch(*arrays)
        lo, hi = int(batch.t_s.min()), int(arrays[3].max())
        row(
            case,
            size,
            lambda batch=batch: batch.sum(fill=0.0),
            lambda arrays=arrays, lo=lo, hi=hi: _reference.nary_sum(*arrays, 0.0, lo, hi),
            target_ms=target,
        )

    batch = ProfileBatch(*day)
    row("max, arbitrary breakpoints (1 day)", size, lambda: batch.max(fill=0.0))

    grid = TimeGrid(from_epoch_s(T0_S), SLOT_S, DAY_S // SLOT_S)

    def resample_reference():
        out = np.empty((N_PROFILES, grid.n))
        _reference.resample_batch(*day, grid.start_s, grid.step_s, 0, 0.0, True, out)

    row(
        "resample (mean) onto 96 x 15 min",
        size,
        lambda: batch.resample(grid, "mean", fill=0.0),
        resample_reference,
        reference_repeats=SLOW_REFERENCE_REPEATS,
        target_ms=50.0,
    )

    a, b = long_profile(rng, 1_000_000), long_profile(rng, 1_000_000)
    lo, hi = max(a.start_s, b.start_s), min(a.end_s, b.end_s)
    for case, op, call in (
        ("a + b, two 1M-breakpoint profiles", "add", lambda: a + b),
        ("a.minimum(b), two 1M-breakpoint profiles", "min", lambda: a.minimum(b)),
    ):
        row(
            case,
            "2 x 1,000,000",
            call,
            lambda op=op: _reference.MERGE[op](
                a.t_s, a.values, a.end_s, b.t_s, b.values, b.end_s, lo, hi, 0.0
            ),
            reference_repeats=SLOW_REFERENCE_REPEATS,
            target_ms=20.0,
        )

    for module, target in (("fera_flex", 500.0), ("fera_flex.timeseries", None)):
        rows.append(
            (f"cold import {module}", "subprocess", 1e3 * cold_import_s(module), None, target)
        )

    print(f"fera_flex profile algebra benchmark ({os.cpu_count()} CPUs, median of {REPEATS} runs)")
    header = (
        f"{'case':<42} {'size':>15} {'fera_flex':>11} {'numpy ref':>11} {'speed-up':>9} "
        f"{'target':>9}  met"
    )
    print(header)
    print("-" * len(header))
    for case, size, ms, ref_ms, target_ms in rows:
        ref = f"{ref_ms:9.1f}ms" if ref_ms is not None else f"{'-':>11}"
        speedup = f"{ref_ms / ms:8.1f}x" if ref_ms is not None else f"{'-':>9}"
        target = f"<={target_ms:5.0f}ms" if target_ms is not None else f"{'-':>9}"
        met = ("yes" if ms <= target_ms else "NO") if target_ms is not None else ""
        print(f"{case:<42} {size:>15} {ms:9.1f}ms {ref} {speedup} {target}  {met}")


if __name__ == "__main__":
    main()
