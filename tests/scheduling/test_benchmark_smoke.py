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
    # the schedule() table, per method: the feasible all-CHEAP reference, the mixed fleet, the
    # congested tree
    assert "schedule(problem, method) end to end" in out
    for part in ("build", "solve", "safety", "verify", "causes", "total", "ratio", "stages"):
        assert part in out
    for method in ("auto", "flow", "highs"):
        rows = {
            line.split()[2]: line
            for line in out.splitlines()
            if line.startswith(f"{method:<6}     16 ")
        }
        assert "1.00x" in rows["cheap"] and rows["cheap"].endswith("economic")
        assert " optimal " in rows["cheap"] and " optimal " in rows["mix"]
        assert " partial " in rows["congested"]
        assert rows["congested"].endswith("max_energy>fair>economic")
        for name in ("mix", "congested"):
            assert f"schedule {method} {name} N=1000 T=96 total <=" in out
        assert f"schedule {method} congested N=10000 T=96 total <= 2x cheap" in out
    assert "!" not in out  # no plan with an unexpected status
    assert "targets:" in out
