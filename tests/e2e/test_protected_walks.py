"""A protected option (issue 15's resting stop-limit) closed by pmctl for another reason (issue 14's limit close,
its walk, its market order at a deadline): the resting order is cancelled and confirmed before the close goes,
nothing rests beside the walk, and a close the broker refuses leaves the position protected again."""

from datetime import datetime, timezone
from decimal import Decimal

from helpers import fetch_rows, later
import test_protection
from test_protection import CALL, option_row, resting

policy, check = test_protection.policy, test_protection.check  # the protected policy file and its check

EXPIRY_DAY = datetime(2026, 2, 20, 19, 58, tzinfo=timezone.utc)  # 14:58 in New York on the call's expiration day


def client_ids(state):
    return [(order.client_order_id, order.type, order.status) for order in state.account("a").orders]


def test_a_limit_close_cancels_the_stop_limit_first_and_walks_to_its_fill_with_nothing_resting_beside_it(
        check, state, database_url):
    row = option_row(state, database_url, take_profit=Decimal("4.80"))
    check()
    [stop] = resting(state, CALL)
    state.set_price(CALL, Decimal("4.90"))
    state.set_quote(CALL, Decimal("4.85"), Decimal("4.95"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("4.50"), Decimal("4.95")), method="POST")

    check()

    assert client_ids(state) == [(f"pmctl-a-{row}-stop-1", "stop_limit", "canceled"),
                                 (f"pmctl-a-{row}-0", "limit", "new")]
    [limit] = resting(state, CALL)
    assert limit.limit_price == Decimal("4.85")
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "closing"

    later(state)
    walked = check()

    assert f"replace order {limit.id} with a limit of 4.50 as pmctl-a-{row}-0-w1" in walked.stdout
    assert client_ids(state) == [(f"pmctl-a-{row}-stop-1", "stop_limit", "canceled"),
                                 (f"pmctl-a-{row}-0", "limit", "replaced"),
                                 (f"pmctl-a-{row}-0-w1", "limit", "filled")]
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"], closed["stop_order_id"]) == (
        "closed", "take_profit", Decimal("4.5000"), None)


def test_a_limit_close_the_broker_refuses_leaves_the_stop_limit_resting_again(check, state, database_url):
    row = option_row(state, database_url, take_profit=Decimal("4.80"))
    check()
    [stop] = resting(state, CALL)
    state.set_price(CALL, Decimal("4.90"))
    state.set_quote(CALL, Decimal("4.85"), Decimal("4.95"))
    state.inject_fault("/v2/orders", "error", count=1, method="POST", status=403,
                       message="options trading is halted")

    refused = check(code=1)

    assert stop.status == "canceled"
    [again] = resting(state, CALL)
    assert (again.type, again.client_order_id, again.stop_price, again.limit_price, again.qty) == (
        "stop_limit", f"pmctl-a-{row}-stop-2", Decimal("4.15"), Decimal("3.70"), Decimal(10))
    assert f"refused: options trading is halted; protection pmctl-a-{row}-stop-2" in refused.stdout
    [reopened] = fetch_rows(database_url, f"id = {row}")
    assert (reopened["status"], reopened["stop_order_id"]) == ("open", str(again.id))


def test_a_deadlines_market_order_the_broker_refuses_leaves_the_position_protected_again(check, state, database_url):
    row = option_row(state, database_url, expiration_date="2026-02-20")
    check()
    [stop] = resting(state, CALL)
    state.set_clock(timestamp=EXPIRY_DAY, is_open=True, next_close=EXPIRY_DAY.replace(hour=21, minute=0))
    state.set_price(CALL, Decimal("4.50"))
    state.set_quote(CALL, Decimal("4.10"), Decimal("4.60"))
    state.before_request("/v2/orders", lambda: state.set_quote(CALL, Decimal("3.40"), Decimal("4.40")), method="POST")
    check()
    assert stop.status == "canceled"
    [limit] = resting(state, CALL)
    assert (limit.type, limit.limit_price) == ("limit", Decimal("4.10"))

    state.set_clock(timestamp=EXPIRY_DAY.replace(hour=20, minute=0), is_open=True)
    state.inject_fault("/v2/orders", "error", count=1, method="POST", status=403,
                       message="options trading is halted")
    refused = check(code=1)

    assert "past the expiry deadline" in refused.stdout
    assert limit.status == "canceled"
    [again] = resting(state, CALL)
    assert (again.type, again.client_order_id, again.stop_price, again.qty) == (
        "stop_limit", f"pmctl-a-{row}-stop-2", Decimal("4.15"), Decimal(10))
    assert f"refused: options trading is halted; protection pmctl-a-{row}-stop-2" in refused.stdout
    [reopened] = fetch_rows(database_url, f"id = {row}")
    assert (reopened["status"], reopened["stop_order_id"]) == ("open", str(again.id))
