"""Seeds 04-05 replayed: both accounts, phantoms in open and closing, a hand-closed position with its
real fill, an unexpected short, stuck closings, duplicate rows; then many cycles that add nothing."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from helpers import LARGE, NOON, fetch_events, fetch_rows, insert_row


def all_orders(sim):
    return [o for name in ("large", "tiny") for o in sim.state.account(name).orders]


@pytest.fixture
def scenario_orders(incident):
    """The orders the scenario loaded with: a stock close through DELETE /v2/positions carries the broker's
    client order id, not pmctl's, so what pmctl sent is told apart by being new."""
    sim, _ = incident
    return {o.id for o in all_orders(sim)}


def broker_orders(sim, loaded):
    return [o for o in all_orders(sim) if o.id not in loaded]


def test_the_upgrade_lists_the_duplicates(incident):
    _, notices = incident
    assert any("account tiny, symbol NOW260220P00110000, ids 32, 38" in n for n in notices)
    assert any("account tiny, symbol QCOM260220P00145000, ids 33, 39" in n for n in notices)


def test_reconcile_replays_the_bad_day(pmctl, incident_env, incident, database_url, scenario_orders):
    sim, _ = incident
    before = (fetch_rows(database_url), fetch_events(database_url))

    dry = pmctl("reconcile", "--dry-run", env=incident_env)

    assert dry.exit_code == 3, dry.stdout + dry.stderr
    assert (fetch_rows(database_url), fetch_events(database_url)) == before
    for expected in (
        "[large] phantom: would mark row 13 NOW closed (closed_at_broker), exit price 118.2: closed at the broker",
        "[large] phantom: would mark row 16 QCOM closed (closed_at_broker), exit price 151.05",
        "[large] phantom: would mark row 21 ORCL260213C00155000 closed (closed_at_broker), exit price 2.05",
        "[large] phantom: would mark row 24 CRM260227P00200000 closed (closed_at_broker), exit price 4.35",
        "[large] quantity_drift: would change row 41 SPY quantity 25 -> 20",
        "[large] untracked: would adopt META: long 15 at 705",
        "[large] unexpected_short: would adopt ORCL: short 12 at 160.25",
        "[tiny] phantom: would mark row 19 SPY closed (closed_at_broker), exit price 689.75",
        "[tiny] phantom: would mark row 32 NOW260220P00110000 closed (phantom), exit price unknown",
        "[tiny] duplicate: would mark row 38 NOW260220P00110000 closed (duplicate)",
        "[tiny] duplicate: would mark row 39 QCOM260220P00145000 closed (duplicate)",
    ):
        assert expected in dry.stdout, expected

    real = pmctl("reconcile", env=incident_env)

    assert real.exit_code == 0, real.stdout + real.stderr
    assert "[large] in sync" in real.stdout and "[tiny] in sync" in real.stdout
    assert broker_orders(sim, scenario_orders) == []
    rows = {r["id"]: r for r in fetch_rows(database_url)}
    assert (rows[13]["status"], rows[13]["exit_price"], rows[13]["close_reason"]) == (
        "closed", Decimal("118.2000"), "closed_at_broker")
    assert rows[16]["exit_time"] is not None and rows[16]["close_order_id"]
    assert (rows[32]["status"], rows[32]["exit_price"], rows[32]["close_reason"]) == ("closed", None, "phantom")
    assert rows[38]["close_reason"] == "duplicate"
    assert rows[41]["quantity"] == Decimal("20.0000") and rows[41]["original_quantity"] == Decimal("25.0000")
    live = {(r["account_name"], r["symbol"]) for r in rows.values() if r["status"] == "open"}
    assert live == {("large", s) for s in ("QCOM260220P00145000", "SPY", "NOW260220P00110000",
                                            "GOOGL260220C00340000", "META", "ORCL")}
    closed_events = [e for e in fetch_events(database_url) if e["event_type"] == "closed"]
    assert {e["position_id"] for e in closed_events} == {13, 16, 21, 24, 19, 32, 33, 38, 39}
    evidence = {e["position_id"]: e["event_data"]["evidence"] for e in closed_events}
    assert evidence[13]["fill_found"] is True and evidence[32]["fill_found"] is False
    assert all(e["actor"] for e in closed_events)

    again = pmctl("reconcile", "--dry-run", env=incident_env)
    assert again.exit_code == 0, again.stdout
    assert "in sync: database and broker agree" in again.stdout

    check = pmctl("check", env=incident_env)
    assert check.exit_code == 0, check.stdout + check.stderr
    [close] = broker_orders(sim, scenario_orders)
    assert (close.symbol, close.side, close.position_intent) == ("GOOGL260220C00340000", "sell", "sell_to_close")
    assert {p.symbol for p in sim.state.list_positions("large")} >= {"GOOGL"} - {"GOOGL"}

    count = len(fetch_rows(database_url))
    for _ in range(5):
        assert pmctl("check", env=incident_env).exit_code == 0
        assert pmctl("sync", env=incident_env).exit_code == 0
    assert len(fetch_rows(database_url)) == count
    assert pmctl("reconcile", "--dry-run", env=incident_env).exit_code == 0


def test_reconcile_json_and_cover_shorts(pmctl, incident_env, incident, database_url, scenario_orders):
    sim, _ = incident
    data = json.loads(pmctl("reconcile", "--dry-run", "--json", env=incident_env).stdout)
    kinds = {f["kind"] for a in data["accounts"] for f in a["findings"]}
    assert {"phantom", "untracked", "quantity_drift", "unexpected_short", "duplicate"} <= kinds
    assert all(not a["in_sync"] for a in data["accounts"])

    result = pmctl("reconcile", "--cover-shorts", "--account", "large", env=incident_env)
    assert result.exit_code == 0, result.stdout + result.stderr
    [cover] = broker_orders(sim, scenario_orders)
    assert (cover.symbol, cover.side, cover.qty) == ("ORCL", "buy", Decimal("12"))
    sent = [(r.method, r.path) for r in sim.state.requests if r.method in ("POST", "DELETE")]
    assert sent == [("DELETE", "/v2/positions/ORCL")]
    assert "ORCL" not in {p.symbol for p in sim.state.list_positions("large")}


def test_tiny_with_the_large_keys_is_refused_by_every_command_and_large_keeps_working(pmctl, incident_env, incident,
                                                                                      database_url):
    sim, _ = incident
    assert pmctl("reconcile", env=incident_env).exit_code == 0
    crossed = {**incident_env, "PMCTL_TINY_API_KEY": LARGE[0], "PMCTL_TINY_SECRET_KEY": LARGE[1]}
    rows_before = fetch_rows(database_url)
    for args in (["check"], ["sync"], ["reconcile"], ["reconcile", "--dry-run"], ["status"], ["cleanup-phantoms"],
                 ["check", "--account", "tiny"]):
        result = pmctl(*args, env=crossed)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert "account 'tiny' is bound to broker account PA3TINY00002, but its keys now belong to PA3LARGE0001" in (
            result.stderr), args
        assert LARGE[0] not in result.stdout + result.stderr and LARGE[1] not in result.stdout + result.stderr
    assert [r for r in fetch_rows(database_url) if r["account_name"] == "tiny"] == [
        r for r in rows_before if r["account_name"] == "tiny"]
    large_only = pmctl("check", "--account", "large", env=crossed)
    assert large_only.exit_code == 0, large_only.stderr


def test_cleanup_phantoms_by_id_refuses_live_foreign_and_closed_rows(pmctl, incident_env, incident, database_url,
                                                                    scenario_orders):
    sim, _ = incident
    cases = [
        ("40", "the broker still holds 5 QCOM260220P00145000"),
        ("19", "row 19 belongs to account 'tiny'"),
        ("24,999", "no row 999"),
        ("16,x", "want row ids separated by commas"),
    ]
    before = fetch_rows(database_url)
    for ids, message in cases:
        result = pmctl("cleanup-phantoms", "--account", "large", "--ids", ids, env=incident_env)
        assert result.exit_code == 2, (ids, result.stdout, result.stderr)
        assert message in result.stderr
    assert fetch_rows(database_url) == before

    done = pmctl("cleanup-phantoms", "--account", "large", "--ids", "16,24", env=incident_env)
    assert done.exit_code == 0, done.stdout + done.stderr
    rows = {r["id"]: r for r in fetch_rows(database_url)}
    assert rows[16]["status"] == rows[24]["status"] == "closed"
    assert rows[13]["status"] == "open" and rows[21]["status"] == "open"
    again = pmctl("cleanup-phantoms", "--account", "large", "--ids", "16", env=incident_env)
    assert again.exit_code == 2 and "row 16 is already closed" in again.stderr
    assert broker_orders(sim, scenario_orders) == []


def test_expired_exercised_and_assigned_options_are_closed_on_the_brokers_activities(desk, state, database_url):
    expired = "ORCL260130C00200000"
    assigned = "AMD260130P00150000"
    for symbol, side in ((expired, "long"), (assigned, "short")):
        insert_row(database_url, ticker=symbol[:4].rstrip("2"), option_symbol=symbol, side=side,
                   instrument_type="CALL" if "C00" in symbol else "PUT", quantity=2, entry_price=Decimal("1.50"),
                   expiration_date="2026-01-30", entry_time=NOON - timedelta(days=10))
    state.add_activity("a", "OPEXP", symbol=expired, qty=Decimal("2"), on=date(2026, 1, 30))
    state.add_activity("a", "OPASN", symbol=assigned, qty=Decimal("2"), on=date(2026, 1, 30))
    state.set_position("a", "AMD", Decimal("200"), Decimal("150"))
    state.set_price("AMD", Decimal("148"))

    result = desk("reconcile", "--account", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    closed = {r["option_symbol"]: r for r in fetch_rows(database_url) if r["option_symbol"]}
    assert (closed[expired]["status"], closed[expired]["close_reason"], closed[expired]["exit_price"]) == (
        "closed", "expired", Decimal("0.0000"))
    assert (closed[assigned]["close_reason"], closed[assigned]["exit_price"]) == ("assigned", None)
    [stock] = [r for r in fetch_rows(database_url) if r["symbol"] == "AMD"]
    assert (stock["quantity"], stock["status"]) == (Decimal("200.0000"), "open")
