"""``pmctl demo``: the bad day of 2026-02-03 and what an operator does about it, on embedded defaults.

The embedded PostgreSQL gets a database of its own (``pmctl_demo``, rebuilt each
run) seeded as the old service left it; the emulator serves the incident
scenario in this process; each step runs the real ``pmctl`` command in a child
process against them and prints what it printed.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pmctl.demo.seed import seed_incident
from pmctl.sim.scenario import load_scenario
from pmctl.sim.server import SimServer
from pmctl.store import embedded

DATABASE = "pmctl_demo"
ACCOUNTS = {"large": ("PKLARGEDEMO0000000001", "large-demo-secret-not-a-real-key"),
            "tiny": ("PKTINYDEMO00000000002", "tiny-demo-secret-not-a-real-key")}


@dataclass(frozen=True)
class Step:
    args: tuple[str, ...]
    expected_exit: int
    says: str


STEPS = (
    Step(("reconcile", "--dry-run"), 3, "What is wrong? Phantom rows, duplicates, drift, an untracked and an "
                                        "unexpected short position: listed, nothing changed (exit 3)."),
    Step(("reconcile",), 0, "Settle it on the broker's evidence: real fill prices where the broker has them, "
                             "unknown where it has none; no order sent."),
    Step(("check",), 0, "The cron cycle: the GOOGL call's stop is hit, so the contract is sold to close; "
                         "the GOOGL stock is never touched."),
    Step(("status",), 0, "The book now: every row agrees with the broker."),
)


def run_demo(home: Path, echo: Callable[[str], None]) -> bool:
    url = embedded.start(home, database=DATABASE, fresh=True)
    with psycopg.connect(url, autocommit=True) as conn:
        for notice in seed_incident(conn):
            echo(f"  migrate: {notice}")
    ok = True
    with SimServer(load_scenario("incident")) as sim:
        env = _environment(url, sim.url)
        for step in STEPS:
            echo(f"\n# {step.says}\n$ pmctl {' '.join(step.args)}")
            done = subprocess.run([sys.executable, "-m", "pmctl", *step.args], env=env, capture_output=True,
                                  text=True, timeout=120)
            echo((done.stdout + done.stderr).rstrip())
            echo(f"(exit {done.returncode})")
            ok = ok and done.returncode == step.expected_exit
    return ok


def _environment(database_url: str, broker_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PMCTL_")}
    env.update({"PMCTL_DATABASE_URL": database_url, "PMCTL_ACCOUNTS": ",".join(ACCOUNTS),
                "PMCTL_OPERATOR": "demo"})
    for name, (key, secret) in ACCOUNTS.items():
        prefix = f"PMCTL_{name.upper()}_"
        env.update({prefix + "API_KEY": key, prefix + "SECRET_KEY": secret, prefix + "BASE_URL": broker_url,
                    prefix + "DATA_URL": broker_url})
    return env
