"""The scheduling benchmark runs: ``--quick`` on tiny sizes exits 0 and prints its tables."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "scheduling.py"


def test_quick_run_prints_the_tables():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--sizes", "8,16"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "build_lp" in out and "solve_s" in out and "vs baseline" in out
    for method in ("cvxpy", "baseline"):
        assert f"     8   96 {method}" in out and f"    16   96 {method}" in out
    assert "    8  288 cvxpy" in out
    assert "objectives agree within 1e-06 relative" in out
    # the schedule() table: the feasible all-CHEAP reference, the mixed fleet, the congested tree
    assert 'schedule(problem, method="highs") end to end' in out
    for part in ("build", "solve", "safety", "verify", "causes", "total", "ratio", "stages"):
        assert part in out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("    16 ")}
    assert "1.00x" in rows["cheap"] and rows["cheap"].endswith("economic")
    assert " optimal " in rows["cheap"] and " optimal " in rows["mix"]
    assert " partial " in rows["congested"]
    assert rows["congested"].endswith("max_energy>fair>economic")
    assert "!" not in out  # no plan with an unexpected status
    assert "targets:" in out
    assert "schedule mix N=1000 T=96 total <= 1.5x cheap" in out
    assert "schedule congested N=1000 T=96 total <= 2x cheap" in out
    assert "schedule congested N=10000 T=96 total <= 2x cheap" in out


def test_flow_benchmark_quick_run_prints_its_table():
    script = BENCHMARK.parent / "flow.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for row in ("congested", "mix", "uncoupled", "replan after new prices"):
        assert row in result.stdout
