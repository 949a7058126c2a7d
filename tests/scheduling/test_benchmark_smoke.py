"""The scheduling benchmark runs: ``--quick`` on tiny sizes exits 0 and prints its table."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "scheduling.py"


def test_quick_run_prints_the_table():
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
    assert "targets:" in out
