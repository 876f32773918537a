"""Scale-out: 4 processes run the same cron line over 8 accounts against one PostgreSQL."""

import os
import subprocess
import sys
from decimal import Decimal

import psycopg
import pytest

from helpers import NOON, quote
from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

CALL = "GOOGL260220C00340000"
ACCOUNTS = [f"desk{i}" for i in range(8)]


@pytest.fixture
def eight_accounts(pmctl, database_url):
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    for name in ACCOUNTS:
        state.add_account(name, f"PK{name.upper()}", f"{name}-secret", account_number=f"PA-{name}")
        state.set_position(name, CALL, Decimal(10), Decimal("5.20"))
    quote(state, CALL, "4.00")
    with SimServer(state) as sim:
        env = {"PMCTL_ACCOUNTS": ",".join(ACCOUNTS), "PMCTL_STOP_LOSS_PERCENT": "20"}
        for name in ACCOUNTS:
            prefix = f"PMCTL_{name.upper()}_"
            env.update({prefix + "API_KEY": f"PK{name.upper()}", prefix + "SECRET_KEY": f"{name}-secret",
                        prefix + "BASE_URL": sim.url, prefix + "DATA_URL": sim.url})
        assert pmctl("migrate").exit_code == 0
        assert pmctl("sync", env=env).exit_code == 0
        state.set_latency(0.02)
        yield state, {**env, "PMCTL_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.mark.slow
def test_four_processes_cycle_each_account_exactly_once_and_close_once(eight_accounts, database_url):
    state, env = eight_accounts
    runs = [subprocess.Popen([sys.executable, "-m", "pmctl", "check", "--wait", "60", "--once-per", "50"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    stdout = "".join(out for out, _ in outputs)
    for name in ACCOUNTS:
        assert stdout.count(f"[{name}] done:") == 1, stdout
        assert stdout.count(f"[{name}] skipped: cycled by another run") == 3
        orders = [o for o in state.account(name).orders if o.symbol == CALL]
        assert len(orders) == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM active_positions WHERE status = 'closed'").fetchone()[0] == 8
        assert conn.execute("SELECT count(*) FROM broker_accounts WHERE last_cycle_at IS NOT NULL").fetchone()[0] == 8
