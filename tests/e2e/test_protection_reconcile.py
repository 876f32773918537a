"""``reconcile`` knows protective orders: an orphan (its position gone) is cancelled, a duplicate is cancelled, a
missing one and an order pmctl did not place are reported; and no stock stop rests where nothing is held."""

import json
from decimal import Decimal

import psycopg
import pytest

from helpers import fetch_events, fetch_rows, insert_row


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    path = tmp_path / "protect.toml"
    path.write_text("[defaults]\nprotect_at_broker = true\n")
    return {"PMCTL_POLICY_FILE": str(path)}


@pytest.fixture
def row(desk, env, state, database_url) -> int:
    state.set_position("a", "AMD", Decimal(100), Decimal(150))
    state.set_price("AMD", Decimal(148))
    return insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(150), stop_loss=Decimal(145))


def resting(state):
    return [order for order in state.account("a").orders if order.symbol == "AMD" and order.is_open]


def findings(result) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for account in json.loads(result.stdout)["accounts"]:
        for finding in account["findings"]:
            found.setdefault(finding["kind"], []).append(finding)
    return found


def test_an_orphan_stop_whose_position_is_gone_is_cancelled(desk, env, state, database_url, row):
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE active_positions SET entry_time = entry_time - interval '1 hour'")
    assert desk("check", "-a", "a", env=env).exit_code == 0
    [stop] = resting(state)
    state.set_position("a", "AMD", Decimal(0), Decimal(0))

    dry = desk("reconcile", "-a", "a", "--dry-run", "--json", env=env)
    assert dry.exit_code == 3 and stop.status == "new"
    assert "the broker holds no AMD" in findings(dry)["protection_orphan"][0]["detail"]

    result = desk("reconcile", "-a", "a", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert stop.status == "canceled" and resting(state) == []
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["stop_order_id"]) == ("closed", "phantom", None)


def test_a_missing_protection_is_reported_and_nothing_is_sent(desk, env, state, database_url, row):
    result = desk("reconcile", "-a", "a", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    [missing] = findings(result)["protection_missing"]
    assert (missing["row_id"], missing["action"]) == (row, None)
    assert "pmctl check rests it" in missing["detail"]
    assert state.account("a").orders == []


def test_a_duplicate_protection_is_cancelled_keeping_the_one_the_row_records(desk, env, state, database_url, row):
    assert desk("check", "-a", "a", env=env).exit_code == 0
    [kept] = resting(state)
    state.set_position("a", "AMD", Decimal(200), Decimal(150))
    second = state.submit_order("a", "AMD", Decimal(100), "sell", "stop", "gtc", stop_price=Decimal(140),
                                client_order_id=f"pmctl-a-{row}-stop-7")

    result = desk("reconcile", "-a", "a", env=env)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"pmctl-a-{row}-stop-7 ({second.id}) and confirm: a second protection of row {row}" in result.stdout
    assert (second.status, kept.status) == ("canceled", "new")
    assert desk("check", "-a", "a", env=env).exit_code == 0
    [moved] = resting(state)
    assert (moved.qty, moved.replaces) == (Decimal(200), kept.id)


def test_an_order_pmctl_did_not_place_is_reported_not_touched(desk, env, state, database_url, row):
    theirs = state.submit_order("a", "AMD", Decimal(100), "sell", "stop", "gtc", stop_price=Decimal(130))
    result = desk("reconcile", "-a", "a", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert [f["action"] for f in findings(result)["foreign_order"]] == [None]
    assert desk("check", "-a", "a", env=env).exit_code == 0
    assert resting(state) == [theirs] and theirs.status == "new"


def test_a_stock_stop_armed_as_the_position_is_sold_by_hand_is_cancelled_at_once(desk, env, state, database_url, row):
    state.before_request("/v2/orders", lambda: state.close_by_hand("a", "AMD"), method="POST")

    result = desk("check", "-a", "a", env=env)

    assert result.exit_code == 1
    assert "the broker held no AMD once it rested" in result.stdout
    assert state.list_positions("a") == [] and resting(state) == []
    state.set_price("AMD", Decimal(100))
    assert state.list_positions("a") == []
    kinds = [e["event_data"].get("change") for e in fetch_events(database_url) if e["event_type"] == "protection"]
    assert kinds == ["armed", "cancelled"]
