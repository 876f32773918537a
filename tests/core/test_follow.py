"""Rows follow the broker's position: quantity, average entry, and a close and re-open between two cycles."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from helpers import NOON
from pmctl.core.market import Fill, Position
from pmctl.config import RuleDefaults
from pmctl.core.check import plan_check
from pmctl.core.vocabulary import Reason
from pmctl.core.plan import Adopt, Alert, ChangeQuantity, Close, FollowEntry, MarkClosed, Refresh
from pmctl.core.reconcile import plan_reconcile
from pmctl.core.sync import fills_needed_since, plan_sync
from test_plans import CALL, quotes, row, snapshot

CHECKED = NOON - timedelta(minutes=1)


def held(symbol: str, qty: str, avg: str, price: str) -> Position:
    return Position(symbol, Decimal(qty), abs(Decimal(qty)), Decimal(avg), Decimal(price),
                    "us_option" if len(symbol) > 6 else "us_equity")


def fill(n: int, side: str, qty: str, price: str, seconds: int, symbol: str = "SPY") -> Fill:
    return Fill(f"f{n}", f"o{n}", symbol, side, Decimal(qty), Decimal(price), CHECKED + timedelta(seconds=seconds))


def spy(**fields):
    values = dict(quantity=Decimal(50), entry_price=Decimal(400), last_checked_at=CHECKED)
    return row(7, "SPY", **{**values, **fields})


def test_averaging_in_moves_the_entry_and_a_policy_stop_with_it_so_a_winner_is_not_stopped():
    policy_row = spy(stop_loss=Decimal(392), take_profit=Decimal(420), plan_source="policy")
    plan = plan_check(snapshot([policy_row], [held("SPY", "100", "385", "390")]))

    [change] = plan.of(ChangeQuantity)
    [entry] = plan.of(FollowEntry)
    assert (change.old, change.new) == (Decimal(50), Decimal(100))
    assert (entry.old, entry.new, entry.stop_loss, entry.take_profit) == (
        Decimal(400), Decimal(385), Decimal("377.3"), Decimal("404.25"))
    assert "stop 392 -> 377.3" in entry.why
    assert plan.of(Close) == []
    [refresh] = plan.of(Refresh)
    assert (refresh.pnl_dollars, refresh.current_price) == (Decimal(500), Decimal(390))


def test_explicit_levels_stay_when_the_entry_moves_and_still_fire():
    desk_row = spy(stop_loss=Decimal(392), take_profit=Decimal(420))
    plan = plan_check(snapshot([desk_row], [held("SPY", "100", "385", "390")]))

    [entry] = plan.of(FollowEntry)
    assert (entry.new, entry.stop_loss, entry.take_profit) == (Decimal(385), Decimal(392), Decimal(420))
    [close] = plan.of(Close)
    assert (close.reason, close.qty) == ("stop_loss", Decimal(100))


def test_a_default_stop_follows_the_entry_by_itself():
    defaults = RuleDefaults(Decimal(2), None, None, None, 5, 1)
    plan = plan_check(replace(snapshot([spy()], [held("SPY", "100", "385", "390")]), rules=defaults))
    assert plan.of(Close) == []
    assert plan.of(FollowEntry)[0].stop_loss is None


def test_a_partial_exit_keeps_the_entry():
    plan = plan_sync(snapshot([spy(quantity=Decimal(100), entry_price=Decimal(385))],
                              [held("SPY", "60", "385", "390")], fills=(fill(1, "sell", "40", "391", 20),)))
    assert [type(action) for action in plan] == [ChangeQuantity]
    assert "partial fill or partial exit" in plan[0].why


def test_a_long_closed_and_opened_again_closes_the_row_at_the_fill_and_adopts_the_new_position():
    fills = (fill(1, "sell", "20", "410", 10), fill(2, "sell", "30", "412", 20), fill(3, "buy", "30", "405", 30))
    close, adopt = plan_sync(snapshot([spy()], [held("SPY", "30", "405", "406")], fills=fills))

    assert isinstance(close, MarkClosed) and isinstance(adopt, Adopt)
    assert (close.row_id, close.reason, close.exit_price, close.exit_time, close.order_id) == (
        7, Reason.CLOSED_AT_BROKER, Decimal("411.2"), CHECKED + timedelta(seconds=20), "o2")
    assert close.evidence == {"fill_found": True, "fill_ids": ["f1", "f2"], "reopened": True}
    assert (adopt.symbol, adopt.side, adopt.quantity, adopt.entry_price, adopt.tracked_as) == (
        "SPY", "long", Decimal(30), Decimal(405), "adopted")
    assert adopt.entry_time == CHECKED + timedelta(seconds=30)


def test_a_short_covered_and_shorted_again_is_a_new_row_tracked_as_the_desks():
    short = spy(side="short", quantity=Decimal(20), entry_price=Decimal(150))
    fills = (fill(1, "buy", "20", "140", 10), fill(2, "sell", "25", "145", 20))
    actions = plan_sync(snapshot([short], [held("SPY", "-25", "145", "144")], fills=fills))

    close, adopt = actions
    assert (close.exit_price, close.order_id) == (Decimal(140), "o1")
    assert (adopt.side, adopt.quantity, adopt.tracked_as, adopt.entry_time) == (
        "short", Decimal(25), "adopted", CHECKED + timedelta(seconds=20))


def test_a_long_sold_across_zero_in_one_fill_closes_the_row_and_quarantines_the_short():
    actions = plan_sync(snapshot([spy(quantity=Decimal(10))], [held("SPY", "-5", "398", "397")],
                                 fills=(fill(1, "sell", "15", "398", 10),)))
    close, adopt, alert = actions
    assert (close.exit_price, close.exit_time) == (Decimal(398), CHECKED + timedelta(seconds=10))
    assert (adopt.side, adopt.quantity, adopt.tracked_as) == ("short", Decimal(5), "unexpected_short")
    assert isinstance(alert, Alert) and alert.kind == "unexpected_short"


def test_a_fill_the_row_already_followed_never_reads_as_a_close():
    """Sold 6 of 10 just after the last check (the row already says 4), then 3 bought: 7, not a new position."""
    followed = spy(quantity=Decimal(4), entry_price=Decimal(400))
    fills = (fill(1, "sell", "6", "401", 1), fill(2, "buy", "3", "400", 30))
    actions = plan_sync(snapshot([followed], [held("SPY", "7", "400", "401")], fills=fills))
    assert [type(action) for action in actions] == [ChangeQuantity]


def test_a_row_the_fills_do_not_explain_on_the_other_side_is_still_an_operators_call():
    [alert] = plan_sync(snapshot([spy(quantity=Decimal(10))], [held("SPY", "-10", "400", "399")]))
    assert alert.kind == "side_mismatch"


def test_a_call_or_put_side_from_the_desks_tools_is_a_long_option():
    option = row(3, CALL, side="call", stop_loss=Decimal("4.16"), entry_price=Decimal("5.20"))
    plan = plan_check(snapshot([option], [held(CALL, "10", "5.20", "4.00")], quotes=quotes(CALL, "4.00", "4.10")))
    assert plan.of(Alert) == []
    [close] = plan.of(Close)
    assert (close.reason, close.side, close.position_intent) == ("stop_loss", "sell", "sell_to_close")


def test_fills_are_needed_only_from_the_earliest_row_that_disagrees():
    agreeing = row(1, "QCOM", quantity=Decimal(10), entry_price=Decimal(100), last_checked_at=CHECKED)
    drifted = spy(last_checked_at=CHECKED - timedelta(minutes=5))
    positions = [held("QCOM", "10", "100.00004", "101"), held("SPY", "50", "400", "401")]
    assert fills_needed_since(snapshot([agreeing, drifted], positions)) is None
    positions[1] = held("SPY", "60", "400", "401")
    assert fills_needed_since(snapshot([agreeing, drifted], positions)) == CHECKED - timedelta(minutes=5)


def test_reconcile_names_the_reopened_row_and_adopts_the_new_position_once():
    fills = (fill(1, "sell", "50", "410", 10), fill(2, "buy", "30", "405", 30))
    plan = plan_reconcile(snapshot([spy()], [held("SPY", "30", "405", "406")], fills=fills), False)
    findings = plan.findings
    assert [(f.kind, type(f.action)) for f in findings] == [("reopened", MarkClosed), ("untracked", Adopt)]
    assert len(plan.of(Adopt)) == 1
