"""pmctl track, pmctl plan and edit --strategy: the operator as a source of a position's exit plan."""

from datetime import timedelta
from decimal import Decimal

from helpers import NOON, fetch_events, fetch_rows, insert_row, quote

CALL = "GOOGL260220C00340000"


def test_track_a_held_untracked_position_adopts_it_with_the_operators_plan(desk, state, database_url):
    state.set_position("a", "NVDA", Decimal(20), Decimal(100))
    state.set_price("NVDA", Decimal(101))
    result = desk("track", "NVDA", "--account", "a", "--strategy", "swing_trade", "--stop", "95", "--target", "120")
    assert result.exit_code == 0, result.stdout + result.stderr
    [row] = fetch_rows(database_url, "symbol = 'NVDA'")
    assert (row["strategy_type"], row["stop_loss"], row["take_profit"], row["plan_source"]) == (
        "swing_trade", Decimal(95), Decimal(120), "operator")
    state.set_price("NVDA", Decimal("94.99"))
    closed = desk("check", "--account", "a")
    assert "stop 95.00: set by the operator" in closed.stdout
    assert fetch_rows(database_url, f"id = {row['id']}")[0]["close_reason"] == "stop_loss"


def test_track_before_the_fill_keeps_a_plan_the_adopting_cycle_takes(desk, state, database_url):
    dry = desk("track", "AMD", "--account", "a", "--stop", "140", "--max-hold", "30", "--dry-run")
    assert dry.exit_code == 3 and "would keep a plan for AMD" in dry.stdout
    assert desk("track", "AMD", "--account", "a", "--stop", "140", "--max-hold", "30").exit_code == 0
    assert fetch_rows(database_url, "symbol = 'AMD'") == []
    state.set_position("a", "AMD", Decimal(10), Decimal(150))
    state.set_price("AMD", Decimal(150))
    assert desk("check", "--account", "a").exit_code == 0
    [row] = fetch_rows(database_url, "symbol = 'AMD'")
    assert (row["stop_loss"], row["max_hold_minutes"], row["plan_source"]) == (Decimal(140), 30, "operator")
    kinds = [event["event_type"] for event in fetch_events(database_url)]
    assert "plan_waiting" in kinds and "adopted" in kinds


def test_a_waiting_plan_expires(desk, state, database_url):
    assert desk("track", "AMD", "--account", "a", "--stop", "140", "--wait-minutes", "5").exit_code == 0
    state.set_clock(timestamp=NOON + timedelta(minutes=6))
    state.set_position("a", "AMD", Decimal(10), Decimal(150))
    state.set_price("AMD", Decimal(150))
    assert desk("check", "--account", "a").exit_code == 0
    [row] = fetch_rows(database_url, "symbol = 'AMD'")
    assert (row["plan_source"], row["stop_loss"]) == ("policy", None)


def test_edit_strategy_releases_an_adopted_short_into_the_rules(desk, state, database_url):
    state.set_position("a", "ORCL", Decimal(-12), Decimal(160))
    state.set_price("ORCL", Decimal(161))
    assert desk("check", "--account", "a").exit_code == 0
    [short] = fetch_rows(database_url, "symbol = 'ORCL'")
    assert short["tracked_as"] == "unexpected_short"
    refused = desk("edit", str(short["id"]), "--account", "a", "--stop-loss", "160")
    assert refused.exit_code == 2
    assert "--stop-loss 160 is at or below the price 161: this short's stop would close it at once" in refused.stderr
    released = desk("edit", str(short["id"]), "--account", "a", "--strategy", "swing_trade", "--stop-loss", "170")
    assert released.exit_code == 0, released.stdout + released.stderr
    assert "released from quarantine" in released.stdout
    [row] = fetch_rows(database_url, f"id = {short['id']}")
    assert (row["tracked_as"], row["strategy_type"], row["stop_loss"], row["plan_source"]) == (
        "adopted", "swing_trade", Decimal(170), "operator")
    state.set_price("ORCL", Decimal(171))
    assert desk("check", "--account", "a").exit_code == 0
    assert fetch_rows(database_url, f"id = {short['id']}")[0]["close_reason"] == "stop_loss"
    assert [(o.symbol, o.side) for o in state.account("a").orders] == [("ORCL", "buy")]


def test_track_protects_a_quarantined_short_and_force_sets_a_stop_already_through(desk, state, database_url):
    state.set_position("a", "ORCL", Decimal(-12), Decimal(160))
    state.set_price("ORCL", Decimal(161))
    assert desk("check", "--account", "a").exit_code == 0
    refused = desk("track", "ORCL", "--account", "a", "--strategy", "swing_trade", "--stop", "150")
    assert refused.exit_code == 2 and "--stop 150 is at or below the price 161" in refused.stderr
    assert state.account("a").orders == []
    forced = desk("track", "ORCL", "--account", "a", "--strategy", "swing_trade", "--stop", "150", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert desk("check", "--account", "a").exit_code == 0
    assert [(o.symbol, o.side, o.qty) for o in state.account("a").orders] == [("ORCL", "buy", Decimal(12))]


def test_plan_lists_every_rule_with_its_level_and_source(desk, state, database_url):
    state.set_position("a", CALL, Decimal(10), Decimal("4.00"))
    quote(state, CALL, "3.00")
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("4.00"), strike_price=340, expiration_date="2026-02-20",
                     take_profit=Decimal("6.00"))
    result = desk("plan", str(row), env={"PMCTL_STOP_LOSS_PERCENT": "20", "PMCTL_MAX_HOLD_MINUTES": "600"})
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("stop_loss" in line and "3.20" in line and "FIRES" in line and "PMCTL_STOP_LOSS_PERCENT" in line
               for line in lines), result.stdout
    assert any("take_profit" in line and "6.00" in line and "holds" in line and "set on the row" in line
               for line in lines), result.stdout
    assert any("max_hold_time" in line and "600 min" in line for line in lines), result.stdout
    assert any("expiration_risk" in line for line in lines), result.stdout
    status = desk("status", "--format", "json", env={"PMCTL_STOP_LOSS_PERCENT": "20"})
    [position] = __import__("json").loads(status.stdout)["positions"]
    assert position["next_exit"] == "stop_loss 3.20 NOW" and position["plan"] == "desk, defaults"
    assert desk("plan", "999").exit_code == 2
