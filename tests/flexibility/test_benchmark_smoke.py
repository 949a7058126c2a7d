"""The flexibility benchmark runs: ``--quick`` exits 0 and prints its rows."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "flexibility.py"


def test_quick_run_prints_the_rows():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = ("aggregate+greedy", "b/p, feeder", "disaggregate", "offers battery", "office_depot")
    for row in (*rows, "kept up"):
        assert row in result.stdout
