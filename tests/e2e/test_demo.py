"""``pmctl demo`` on a machine with nothing configured."""

import os
import subprocess
import sys

import psutil
import pytest


@pytest.mark.slow
def test_demo_runs_on_embedded_defaults_and_leaves_nothing_running(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PMCTL_HOME": str(tmp_path / "pm")}
    result = subprocess.run([sys.executable, "-m", "pmctl", "demo"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "duplicate open rows: account tiny, symbol NOW260220P00110000, ids 32, 38" in out
    assert "$ pmctl reconcile --dry-run" in out and "(exit 3)" in out
    assert "[large] phantom: would mark row 13 NOW closed (closed_at_broker), exit price 118.2" in out
    assert "[large] in sync" in out and "[tiny] in sync" in out
    assert "close row 43 for stop_loss: sell 10 GOOGL260220C00340000 (sell_to_close)" in out
    assert "demo finished: every step ended as expected" in out
    pgdata = str(tmp_path / "pm" / "pgdata")
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] and pgdata in " ".join(p.info["cmdline"])]
    assert leftovers == []


def test_seed_incident_loads_the_rehearsal_rows_into_an_empty_database_only(pmctl, database_url):
    first = pmctl("sim", "seed-incident")
    assert first.exit_code == 0, first.stderr
    assert "ids 33, 39" in first.stdout
    again = pmctl("sim", "seed-incident")
    assert again.exit_code == 2
    assert "empty database only" in again.stderr
