"""A person closes a stock by hand between pmctl's read of the positions and pmctl's close (issue 11, item 0).

pmctl's stock closes go through DELETE /v2/positions/{symbol}?qty=N, which the
broker refuses once the position is gone: nothing opens a short (or a long),
the row is left for reconcile, and reconcile closes it at the hand close's fill.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from helpers import NOON, fetch_events, fetch_rows, insert_row

#: side of the row, broker quantity, price that fires its stop, the hand close's price, the close's side
BOOKS = {
    "long": (Decimal("100"), Decimal("140"), Decimal("141.25"), "sell"),
    "short": (Decimal("-100"), Decimal("160"), Decimal("158.75"), "buy"),
}


def stopped_amd(state, database_url, side: str) -> int:
    held, price, _, _ = BOOKS[side]
    state.set_position("a", "AMD", held, Decimal("150"))
    state.set_price("AMD", price)
    stop = Decimal("145") if side == "long" else Decimal("155")
    return insert_row(database_url, ticker="AMD", side=side, quantity=100, entry_price=Decimal("150"),
                      stop_loss=stop, entry_time=NOON - timedelta(hours=1))


def hand_close_before_pmctls_close(state, side: str, qty: Decimal | None = None) -> None:
    """The dashboard click lands after pmctl read the positions and before its close is served."""
    price = BOOKS[side][2]
    state.before_request("/v2/positions/AMD", lambda: state.close_by_hand("a", "AMD", qty, price), method="DELETE")


def sends(state) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in state.requests if r.method in ("POST", "DELETE")]


@pytest.mark.parametrize("side", ["long", "short"])
def test_a_position_closed_by_hand_before_the_send_opens_nothing_and_is_left_for_reconcile(
        desk, state, database_url, side):
    row = stopped_amd(state, database_url, side)
    hand_close_before_pmctls_close(state, side)

    result = desk("check", "--account", "a")

    assert result.exit_code == 1, result.stdout + result.stderr
    assert (f"via DELETE /v2/positions/AMD?qty=100, claimed as pmctl-a-{row}-0" in result.stdout)
    assert (f"-> already flat at the broker (position does not exist): pmctl reconcile settles row {row}"
            in result.stdout)
    assert state.list_positions("a") == []
    [hand] = state.account("a").orders
    assert (hand.side, hand.qty, hand.status) == (BOOKS[side][3], Decimal("100"), "filled")
    assert sends(state) == [("DELETE", "/v2/positions/AMD", 404)]
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["close_client_order_id"], tracked["exit_price"]) == ("open", None, None)
    failed = [e["event_data"] for e in fetch_events(database_url) if e["event_type"] == "order_failed"]
    assert [(e["already_flat"], e["status"]) for e in failed] == [(True, 404)]

    assert desk("check", "--account", "a").exit_code == 0
    assert state.list_positions("a") == [] and len(state.account("a").orders) == 1

    settled = desk("reconcile", "--account", "a")

    assert settled.exit_code == 0, settled.stdout + settled.stderr
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"], closed["close_order_id"]) == (
        "closed", "closed_at_broker", BOOKS[side][2], str(hand.id))
    assert len(state.account("a").orders) == 1 and state.list_positions("a") == []


def test_a_partial_hand_close_before_the_send_is_refused_and_never_flips(desk, state, database_url):
    row = stopped_amd(state, database_url, "long")
    hand_close_before_pmctls_close(state, "long", Decimal("30"))

    result = desk("check", "--account", "a")

    assert result.exit_code == 1
    assert "refused: insufficient qty available for order (requested: 100, available: 70)" in result.stdout
    assert {p.symbol: p.qty for p in state.list_positions("a")} == {"AMD": Decimal("70")}
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"
    state.set_clock(timestamp=NOON + timedelta(minutes=2))
    assert desk("check", "--account", "a").exit_code == 0
    assert state.list_positions("a") == []
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss", Decimal("140"))


def test_an_operators_partial_close_goes_by_position_and_the_row_follows(desk, state, database_url):
    row = stopped_amd(state, database_url, "long")
    state.set_price("AMD", Decimal("150"))

    dry = desk("close", "AMD", "-a", "a", "--qty", "40", "--dry-run")
    assert dry.exit_code == 3
    assert f"would close row {row} for forced_close: sell 40 AMD via DELETE /v2/positions/AMD?qty=40" in dry.stdout
    assert desk("close", "AMD", "-a", "a", "--qty", "40", "--yes").exit_code == 0

    assert sends(state) == [("DELETE", "/v2/positions/AMD", 200)]
    assert {p.symbol: p.qty for p in state.list_positions("a")} == {"AMD": Decimal("60")}
    assert desk("check", "--account", "a").exit_code == 0
    [tracked] = fetch_rows(database_url, f"id = {row}")
    assert (tracked["status"], tracked["quantity"]) == ("open", Decimal("60.0000"))


def test_an_operators_close_racing_a_hand_close_opens_nothing(desk, state, database_url):
    row = stopped_amd(state, database_url, "short")
    state.set_price("AMD", Decimal("150"))
    hand_close_before_pmctls_close(state, "short")

    result = desk("close", str(row), "-a", "a", "--yes")

    assert result.exit_code == 1
    assert f"already flat at the broker (position does not exist): pmctl reconcile settles row {row}" in result.stdout
    assert state.list_positions("a") == []


def test_covering_an_unexpected_short_that_was_bought_back_by_hand_opens_no_long(desk, state, database_url):
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160.25"))
    state.set_price("ORCL", Decimal("158.90"))
    assert desk("sync", "--account", "a").exit_code == 0
    [row] = fetch_rows(database_url)
    assert row["tracked_as"] == "unexpected_short"
    state.before_request("/v2/positions/ORCL", lambda: state.close_by_hand("a", "ORCL"), method="DELETE")

    result = desk("reconcile", "--account", "a", "--cover-shorts")

    assert result.exit_code == 1
    assert "buy 12 ORCL via DELETE /v2/positions/ORCL?qty=12" in result.stdout
    assert "already flat at the broker" in result.stdout
    assert state.list_positions("a") == []
    assert sends(state) == [("DELETE", "/v2/positions/ORCL", 404)]
