"""The benchmark script keeps working (the full run is for the README, not for CI)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "bench_cycle.py"


@pytest.mark.slow
def test_benchmark_smoke_run_prints_constant_request_and_round_trip_counts(server_url, clean_env):
    env = {**os.environ, "PMCTL_DATABASE_URL": server_url}
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke"], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    [row] = [line for line in result.stdout.splitlines() if line.startswith("| 10 |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == cells[2] == "6"  # 4, and one quote request for the 5 stocks and one for the 5 options
    assert int(cells[3]) <= 8
    assert "`pmctl --help`" in result.stdout


@pytest.mark.slow
def test_the_watcher_benchmark_smoke_run_closes_every_crossing_and_prints_its_latency(server_url, clean_env):
    script = SCRIPT.parent / "bench_watch.py"
    env = {**os.environ, "PMCTL_DATABASE_URL": server_url}
    result = subprocess.run([sys.executable, str(script), "--smoke"], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    [row] = [line for line in result.stdout.splitlines() if line.startswith("| 10 |")]
    median_ms = float(row.strip("|").split("|")[2])
    assert median_ms < 1000, result.stdout
    assert "| yes |" in result.stdout
