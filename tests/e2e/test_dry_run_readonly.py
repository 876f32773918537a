"""--dry-run is side-effect free on every path: every command, as a role that may only SELECT,
against an emulator that refuses every order and every cancel."""

import uuid

import psycopg
import pytest
from psycopg import sql

from helpers import fetch_events, fetch_rows
from pmctl.demo.seed import seed_incident
from pmctl.sim.scenario import load_scenario
from pmctl.sim.server import SimServer
from helpers import LARGE, TINY


@pytest.fixture
def readonly_url(database_url):
    role = f"pmctl_ro_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        seed_incident(conn)
        dbname = conn.info.dbname
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(role)))
    url = database_url.replace("postgresql://postgres:@", f"postgresql://{role}:@")
    yield url
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_every_dry_run_changes_nothing(pmctl, readonly_url, database_url):
    with SimServer(load_scenario("incident")) as sim:
        for path, method in (("/v2/orders", "POST"), ("/v2/orders*", "DELETE"), ("/v2/positions*", "DELETE")):
            sim.state.inject_fault(path, "error", count=1000, method=method, status=403, message="refused by test")
        env = {"PMCTL_DATABASE_URL": readonly_url, "PMCTL_ACCOUNTS": "large,tiny"}
        for name, (key, secret) in {"large": LARGE, "tiny": TINY}.items():
            prefix = f"PMCTL_{name.upper()}_"
            env.update({prefix + "API_KEY": key, prefix + "SECRET_KEY": secret, prefix + "BASE_URL": sim.url,
                        prefix + "DATA_URL": sim.url})
        before = (fetch_rows(database_url), fetch_events(database_url))
        commands = [
            ["check", "--dry-run"], ["sync", "--dry-run"], ["reconcile", "--dry-run"],
            ["reconcile", "--dry-run", "--cover-shorts"], ["reconcile", "--dry-run", "--json"],
            ["cleanup-phantoms", "--dry-run"], ["cleanup-phantoms", "--dry-run", "--ids", "13,16"],
            ["close", "43", "--account", "large", "--dry-run"], ["close", "SPY", "-a", "large", "--qty", "5", "--dry-run"],
            ["migrate", "--dry-run"], ["status"], ["status", "--json"],
        ]
        for args in commands:
            result = pmctl(*args, env=env)
            assert result.exit_code in (0, 3), (args, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr
        assert (fetch_rows(database_url), fetch_events(database_url)) == before
        with psycopg.connect(database_url) as conn:
            assert conn.execute("SELECT count(*) FROM broker_accounts").fetchone()[0] == 0
        assert not any(o.client_order_id.startswith("pmctl") for name in ("large", "tiny")
                       for o in sim.state.account(name).orders)
        assert not any(r.method in ("POST", "DELETE") for r in sim.state.requests)
