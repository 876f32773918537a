"""Every exit fill is in the exits ledger and in the report: partial closes, retried stops, hand sales, reconcile.

Through the CLI against the emulator and PostgreSQL. The ledger is read as an
operator would read ``position_exits`` with psql; the report as the desk reads it.
"""

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import psycopg.rows

from helpers import NOON, fetch_rows, insert_row, quote

DAY = "2026-02-03"
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "pmctl.toml.example"
CALL = "GOOGL260220C00340000"


def at(state, minutes: int) -> None:
    state.set_clock(timestamp=NOON + timedelta(minutes=minutes), frozen=True)


def ledger(database_url: str, row_id: int) -> list[tuple]:
    """(quantity, price, reason, order id, source) of each line of the row, in the order written."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT quantity, price, reason, order_id, source FROM position_exits WHERE position_id = %s ORDER BY id",
            (row_id,),
        ).fetchall()


def report(desk) -> dict:
    result = desk("report", "--date", DAY, "--account", "a", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by_reason(data: dict) -> dict[str, tuple]:
    return {line["reason"]: (line["closes"], line["realized"], line["unknown"]) for line in data["by_reason"]}


def test_a_stop_filled_in_part_cancelled_and_sent_again_reports_both_parts(desk, state, database_url):
    state.set_position("a", "XYZ", Decimal(10), Decimal(50))
    row = insert_row(database_url, ticker="XYZ", quantity=10, entry_price=Decimal(50), stop_loss=Decimal(45),
                     entry_time=NOON - timedelta(hours=1))
    state.set_price("XYZ", Decimal(44))
    state.set_quote("XYZ", Decimal(0), Decimal("44.10"))
    assert desk("check", "-a", "a").exit_code == 0
    [first] = state.account("a").orders
    state.fill_order(first.id, Decimal(4), Decimal(44))
    state.cancel_order("a", first.id)

    settled = desk("check", "-a", "a")

    assert settled.exit_code == 1 and "ended canceled with 4 filled" in settled.stderr
    assert (fetch_rows(database_url)[0]["status"], fetch_rows(database_url)[0]["quantity"]) == ("open", Decimal(6))
    assert ledger(database_url, row) == [(Decimal(4), Decimal(44), "stop_loss", str(first.id), "pmctl")]
    at(state, 2)
    state.clear_quote("XYZ")
    state.set_price("XYZ", Decimal(43))

    retried = desk("check", "-a", "a")

    assert retried.exit_code == 0, retried.stdout + retried.stderr
    assert "filled 6 at 43: closed" in retried.stdout
    second = state.account("a").orders[-1]
    assert ledger(database_url, row) == [(Decimal(4), Decimal(44), "stop_loss", str(first.id), "pmctl"),
                                         (Decimal(6), Decimal(43), "stop_loss", str(second.id), "pmctl")]
    data = report(desk)
    assert by_reason(data) == {"stop_loss": (1, "-66.0000", 0)}
    assert (data["realized_pnl"], data["closed"], data["wins"], data["losses"]) == ("-66.0000", 1, 0, 1)


def test_a_hand_sale_of_part_is_followed_and_counted(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    state.set_price("SPY", Decimal(402))
    row = insert_row(database_url, ticker="SPY", quantity=50, entry_price=Decimal(400))
    assert desk("check", "-a", "a").exit_code == 0
    at(state, 1)
    hand = state.close_by_hand("a", "SPY", qty=Decimal(20), price=Decimal(410))

    result = desk("check", "-a", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    [followed] = fetch_rows(database_url)
    assert (followed["status"], followed["quantity"]) == ("open", Decimal(30))
    assert ledger(database_url, row) == [(Decimal(20), Decimal(410), "closed_at_broker", str(hand.id), "broker")]
    data = report(desk)
    assert by_reason(data) == {"closed_at_broker": (1, "200.0000", 0)}
    assert (data["realized_pnl"], data["closed"], data["wins"], data["losses"]) == ("200.0000", 0, 0, 0)
    assert desk("check", "-a", "a").exit_code == 0
    assert len(ledger(database_url, row)) == 1


def test_a_position_closed_and_opened_again_between_cycles_leaves_its_exit(desk, state, database_url):
    state.set_position("a", "SPY", Decimal(50), Decimal(400))
    state.set_price("SPY", Decimal(402))
    old = insert_row(database_url, ticker="SPY", quantity=50, entry_price=Decimal(400))
    assert desk("check", "-a", "a").exit_code == 0
    at(state, 1)
    hand = state.close_by_hand("a", "SPY", price=Decimal(404))
    at(state, 2)
    state.set_price("SPY", Decimal(405))
    state.submit_order("a", "SPY", Decimal(30), "buy")
    at(state, 3)

    assert desk("check", "-a", "a").exit_code == 0

    assert ledger(database_url, old) == [(Decimal(50), Decimal(404), "closed_at_broker", str(hand.id), "broker")]
    [new] = fetch_rows(database_url, "status = 'open'")
    assert ledger(database_url, new["id"]) == []
    data = report(desk)
    assert (data["realized_pnl"], data["closed"], data["wins"]) == ("200.0000", 1, 1)


def test_reconcile_closes_a_phantom_at_its_fill_and_one_without_evidence_at_a_price_unknown(desk, state, database_url):
    state.set_position("a", "META", Decimal(15), Decimal(700))
    state.set_price("META", Decimal(690))
    sold = insert_row(database_url, ticker="META", quantity=15, entry_price=Decimal(700),
                      entry_time=NOON - timedelta(hours=1))
    hand = state.close_by_hand("a", "META", price=Decimal(690))
    unknown = insert_row(database_url, ticker="NOW", quantity=10, entry_price=Decimal(120),
                         entry_time=NOON - timedelta(hours=1))

    result = desk("reconcile", "-a", "a")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert ledger(database_url, sold) == [(Decimal(15), Decimal(690), "closed_at_broker", str(hand.id), "broker")]
    assert ledger(database_url, unknown) == [(Decimal(10), None, "phantom", None, "broker")]
    data = report(desk)
    assert by_reason(data) == {"closed_at_broker": (1, "-150.0000", 0), "phantom": (1, "0", 1)}
    assert (data["realized_pnl"], data["closed_exit_unknown"], data["losses"]) == ("-150.0000", 1, 1)
    assert desk("reconcile", "-a", "a").exit_code == 0
    assert len(ledger(database_url, sold)) == 1


def test_two_partial_closes_report_in_full_and_leave_events_and_status_as_they_were(desk, state, database_url):
    state.set_position("a", "AMD", Decimal(100), Decimal(140))
    state.set_price("AMD", Decimal(150))
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(140))
    assert desk("close", str(row), "-a", "a", "--qty", "30", "--yes").exit_code == 0
    assert desk("check", "-a", "a").exit_code == 0
    state.set_price("AMD", Decimal(160))
    assert desk("close", str(row), "-a", "a", "--qty", "20", "--yes").exit_code == 0
    assert desk("check", "-a", "a").exit_code == 0

    first, second = state.account("a").orders
    assert ledger(database_url, row) == [(Decimal(30), Decimal(150), "forced_close", str(first.id), "pmctl"),
                                         (Decimal(20), Decimal(160), "forced_close", str(second.id), "pmctl")]
    data = report(desk)
    assert by_reason(data) == {"forced_close": (1, "700.0000", 0)}
    assert (data["realized_pnl"], data["closed"], data["wins"]) == ("700.0000", 0, 0)
    status = json.loads(desk("status", "-a", "a", "--json").stdout)["positions"]
    assert [(p["id"], p["quantity"], p["status"]) for p in status] == [(row, "50.0000", "open")]
    events = json.loads(desk("events", "-a", "a", "--format", "json").stdout)["events"]
    assert [e["kind"] for e in reversed(events)] == ["exit_triggered", "order_submitted", "reopened", "quantity_changed"] * 2


def test_the_example_policys_two_step_scale_out_reports_both_steps_in_full(desk, state, database_url):
    policy = {"PMCTL_POLICY_FILE": str(EXAMPLE)}
    state.set_position("a", CALL, Decimal(10), Decimal("4.00"))
    row = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                     entry_price=Decimal("4.00"), entry_time=NOON - timedelta(hours=1), strike_price=340,
                     expiration_date="2026-02-20")
    for price in ("6.00", "6.00", "7.00", "7.00"):
        quote(state, CALL, price)
        result = desk("check", "-a", "a", env=policy)
        assert result.exit_code == 0, result.stdout + result.stderr

    assert [line[:3] for line in ledger(database_url, row)] == [(Decimal(5), Decimal(6), "scale_out"),
                                                                 (Decimal(2), Decimal(7), "scale_out")]
    data = report(desk)
    assert by_reason(data) == {"scale_out": (1, "1600.0000", 0)}
    assert (data["realized_pnl"], data["closed"]) == ("1600.0000", 0)
