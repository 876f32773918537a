"""Protection at the broker, decided from plain snapshots: what rests for a row, when it moves, when it goes."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import NOON
from pmctl.core.check import plan_check
from pmctl.core.market import Order
from pmctl.core.plan import Alert, ClearBrackets, Close, Defer, MarkClosed
from pmctl.core.protective_actions import Arm, Disarm, Rearm, RecordProtection
from pmctl.core.policy import Policy
from pmctl.core.reconcile import plan_reconcile
from pmctl.core.resting import named
from pmctl.core.vocabulary import FindingKind
from test_plans import CALL, OPEN_CLOCK, position, row, snapshot

PROTECTED = Policy.parse({"defaults": {"protect_at_broker": True}})
WITH_TARGET = Policy.parse({"defaults": {"protect_at_broker": True, "protect_with_target": True}})
CLOSED_CLOCK = replace(OPEN_CLOCK, is_open=False)


def stop(client_id, qty="10", price="95", symbol="SPY", status="new", filled="0", kind="stop", order_class="simple",
         limit=None, side="sell", at=NOON) -> Order:
    return Order("o-" + client_id, client_id, symbol, side, Decimal(qty), Decimal(filled), None, kind, status, at,
                 None, None, order_class, Decimal(limit) if limit else None, Decimal(price) if price else None)


def protected(rows, positions, orders=(), policy=PROTECTED, **fields):
    return snapshot(rows, positions, orders, policy=policy, **fields)


def only(plan, kind):
    [action] = plan.of(kind)
    return action


def test_a_long_stock_rests_a_gtc_stop_sell_at_its_stop_rounded_away_from_the_price():
    plan = plan_check(protected([row(stop_loss=Decimal("95.006"))], [position(price="100")]))
    arm = only(plan, Arm)
    assert (arm.order.kind, arm.order.side, arm.order.qty, arm.order.stop_price, arm.order.limit_price) == (
        "stop", "sell", Decimal(10), Decimal("95.00"), None)
    assert (arm.order.client_order_id, arm.seq, arm.reason, arm.verify) == ("pmctl-a-1-stop-1", 1, "stop_loss", True)


def test_a_short_stock_rests_a_buy_stop_above():
    plan = plan_check(protected([row(side="short", stop_loss=Decimal("105.004"))], [position(qty="-10", price="100")]))
    assert (only(plan, Arm).order.side, only(plan, Arm).order.stop_price) == ("buy", Decimal("105.01"))


def test_an_option_rests_a_stop_limit_on_the_contract_whole_contracts_with_its_intent():
    plan = plan_check(protected([row(symbol=CALL, quantity=Decimal(10), entry_price=Decimal("5.2"),
                                     stop_loss=Decimal("4.16"))], [position(CALL, price="4.6")]))
    order = only(plan, Arm).order
    assert (order.kind, order.stop_price, order.limit_price, order.position_intent) == (
        "stop_limit", Decimal("4.15"), Decimal("3.70"), "sell_to_close")
    assert not only(plan, Arm).verify


def test_an_option_closing_at_market_rests_a_plain_stop():
    policy = Policy.parse({"defaults": {"protect_at_broker": True, "close_order": "market"}})
    plan = plan_check(protected([row(symbol=CALL, stop_loss=Decimal("4.16"), entry_price=Decimal("5.2"))],
                                [position(CALL, price="4.6")], policy=policy))
    assert only(plan, Arm).order.kind == "stop"


def test_the_tighter_of_the_stop_and_the_trailing_stop_rests_with_its_reason():
    trailing = row(stop_loss=Decimal(90), trailing_stop_percent=Decimal(5), peak_price=Decimal(110))
    arm = only(plan_check(protected([trailing], [position(price="108")])), Arm)
    assert (arm.order.stop_price, arm.reason) == (Decimal("104.50"), "trailing_stop")


def test_inside_the_minimum_hold_the_catastrophic_level_rests_or_nothing():
    young = row(stop_loss=Decimal(95), entry_time=NOON - timedelta(minutes=5))
    held = Policy.parse({"defaults": {"protect_at_broker": True, "min_hold_minutes": 30}})
    assert plan_check(protected([young], [position(price="100")], policy=held)).of(Arm) == []
    catastrophic = Policy.parse({"defaults": {"protect_at_broker": True, "min_hold_minutes": 30,
                                              "catastrophic_loss_percent": 20}})
    arm = only(plan_check(protected([young], [position(price="100")], policy=catastrophic)), Arm)
    assert arm.order.stop_price == Decimal(80)


def test_a_stop_through_the_price_leaves_what_rests_alone_and_the_rule_closes():
    resting = stop("pmctl-a-1-stop-1", price="95")
    plan = plan_check(protected([row(stop_loss=Decimal(95), stop_order_id=resting.id)], [position(price="94")],
                                [resting]))
    assert plan.of(Arm) == plan.of(Disarm) == plan.of(Rearm) == []
    assert only(plan, Close).cancel_order_ids == (resting.id,)


@pytest.mark.parametrize(("price", "moves"), [("110.50", False), ("112", True)])
def test_a_trailing_stop_moves_once_it_has_gone_the_step(price, moves):
    resting = stop("pmctl-a-1-stop-1", price="104.50")
    trailing = row(trailing_stop_percent=Decimal(5), peak_price=Decimal(110), stop_order_id=resting.id,
                   protect_seq=1)
    plan = plan_check(protected([trailing], [position(price=price, available="0")], [resting]))
    moved = plan.of(Rearm)
    assert bool(moved) == moves
    if moves:
        assert (moved[0].order_id, moved[0].stop_price, moved[0].qty, moved[0].client_order_id) == (
            resting.id, Decimal("106.40"), None, "pmctl-a-1-stop-2")


def test_a_fixed_stop_moves_with_any_change_and_the_quantity_with_the_position():
    resting = stop("pmctl-a-1-stop-1", price="95")
    rows = [row(stop_loss=Decimal("95.50"), quantity=Decimal(12), stop_order_id=resting.id, protect_seq=1)]
    rearm = only(plan_check(protected(rows, [position(qty="12", price="100", available="2")], [resting])), Rearm)
    assert (rearm.stop_price, rearm.qty) == (Decimal("95.50"), Decimal(12))


def test_nothing_is_replaced_while_the_market_is_closed():
    resting = stop("pmctl-a-1-stop-1", price="95")
    rows = [row(stop_loss=Decimal(96), stop_order_id=resting.id, protect_seq=1)]
    plan = plan_check(protected(rows, [position(price="100", available="0")], [resting], clock=CLOSED_CLOCK))
    assert plan.of(Rearm) == []


def test_a_second_protection_is_cancelled_keeping_the_one_the_row_records():
    recorded, extra = stop("pmctl-a-1-stop-1", at=NOON - timedelta(minutes=5)), stop("pmctl-a-1-stop-2", qty="0")
    rows = [row(stop_loss=Decimal(95), stop_order_id=recorded.id, protect_seq=2)]
    plan = plan_check(protected(rows, [position(price="100", available="0")], [recorded, extra]))
    assert [d.order_id for d in plan.of(Disarm)] == [extra.id] and plan.of(Arm) == []


def test_an_order_of_pmctls_the_row_does_not_record_is_recorded_not_doubled():
    found = stop("pmctl-a-1-stop-1")
    plan = plan_check(protected([row(stop_loss=Decimal(95), protect_seq=1)], [position(price="100", available="0")],
                                [found]))
    assert only(plan, RecordProtection).stop_order_id == found.id and plan.of(Arm) == []


def test_a_protection_cancelled_by_hand_is_rested_again_with_an_alert():
    gone = stop("pmctl-a-1-stop-1", status="canceled")
    rows = [row(stop_loss=Decimal(95), stop_order_id=gone.id, protect_seq=1)]
    plan = plan_check(protected(rows, [position(price="100")], protect_orders={gone.id: gone}))
    assert only(plan, Alert).kind == "brackets_missing" and "canceled" in only(plan, Alert).why
    assert only(plan, ClearBrackets).order_ids == (gone.id,)
    assert only(plan, Arm).order.client_order_id == "pmctl-a-1-stop-2"


def test_a_row_its_resting_stop_closed_settles_at_that_fill_closed_by_the_broker():
    filled = replace(stop("pmctl-a-1-stop-1", status="filled", filled="10"), filled_avg_price=Decimal("94.5"),
                     filled_at=NOON)
    rows = [row(stop_loss=Decimal(95), stop_order_id=filled.id, protect_seq=1)]
    closed = only(plan_check(protected(rows, [], protect_orders={filled.id: filled})), MarkClosed)
    assert (closed.reason, closed.exit_price, closed.order_id, closed.closed_by) == (
        "stop_loss", Decimal("94.5000"), filled.id, "broker")
    assert [(line.reason, line.source, line.quantity) for line in closed.exits] == [("stop_loss", "broker",
                                                                                    Decimal(10))]
    reconciled = plan_reconcile(protected(rows, [], protect_orders={filled.id: filled}), cover_shorts=False)
    assert [f.kind for f in reconciled.findings] == [FindingKind.PROTECTION_FILLED]


def test_an_order_pmctl_did_not_place_is_reported_and_the_protection_rests_on_the_rest():
    theirs = stop("desk-stop-7", qty="4", price="90")
    plan = plan_check(protected([row(stop_loss=Decimal(95))], [position(price="100", available="6")], [theirs]))
    assert only(plan, Alert).kind == "foreign_order" and only(plan, Arm).order.qty == Decimal(6)
    assert all(theirs.id not in (getattr(a, "order_id", None),) for a in plan.actions)


def test_an_oco_rests_the_target_beside_the_stop_and_a_new_quantity_renews_the_group():
    rows = [row(stop_loss=Decimal(95), take_profit=Decimal(110))]
    arm = only(plan_check(protected(rows, [position(price="100")], policy=WITH_TARGET)), Arm)
    assert (arm.order.kind, arm.order.target_price, arm.order.client_order_id, arm.verify) == (
        "oco", Decimal(110), "pmctl-a-1-oco-1", False)
    head = stop("pmctl-a-1-oco-1", kind="limit", order_class="oco", limit="110", price=None)
    leg = replace(stop("broker-made", order_class="oco", status="held"), id="leg")
    grown = [replace(rows[0], quantity=Decimal(12), stop_order_id="leg", target_order_id=head.id, protect_seq=1)]
    plan = plan_check(protected(grown, [position(qty="12", price="100", available="2")], [head, leg],
                                policy=WITH_TARGET))
    assert [d.order_id for d in plan.of(Disarm)] == [head.id]
    assert (only(plan, Arm).order.qty, only(plan, Arm).order.client_order_id) == (Decimal(12), "pmctl-a-1-oco-2")


def test_a_close_of_a_protected_row_carries_the_rearm_and_a_partial_one_the_rest():
    resting = stop("pmctl-a-1-stop-1")
    rows = [row(stop_loss=Decimal(95), take_profit=Decimal(110), stop_order_id=resting.id, protect_seq=1)]
    close = only(plan_check(protected(rows, [position(price="111", available="0")], [resting])), Close)
    assert close.cancel_order_ids == (resting.id,)
    assert (close.rearm.order.qty, close.rearm.order.client_order_id, close.rest) == (
        Decimal(10), "pmctl-a-1-stop-2", None)
    scaled = Policy.parse({"defaults": {"protect_at_broker": True,
                                        "scale_out": [{"at_profit_percent": 5, "sell_percent": 30}]}})
    plan = plan_check(protected([replace(rows[0], take_profit=None)], [position(price="106", available="0")],
                                [resting], policy=scaled))
    assert (only(plan, Close).qty, only(plan, Close).rest.order.qty) == (Decimal(3), Decimal(7))


def test_a_deferred_close_keeps_the_protection_resting():
    resting = stop("pmctl-a-1-stop-1")
    rows = [row(take_profit=Decimal(110), stop_loss=Decimal(95), stop_order_id=resting.id, protect_seq=1)]
    plan = plan_check(protected(rows, [position(price="111", available="0")], [resting], clock=CLOSED_CLOCK))
    assert plan.of(Defer) and plan.of(Disarm) == [] and plan.of(Arm) == []


def test_orphans_are_cancelled_and_a_persons_order_never_is():
    orphan, closed_rows, theirs = stop("pmctl-a-1-stop-1"), stop("pmctl-a-9-stop-1"), stop("mine-by-hand")
    plan = plan_check(protected([row(stop_loss=Decimal(95), stop_order_id=orphan.id)], [], [orphan, closed_rows,
                                                                                          theirs]))
    assert sorted(d.order_id for d in plan.of(Disarm)) == sorted([orphan.id, closed_rows.id])


def test_without_the_profile_nothing_rests_and_what_does_is_cancelled():
    resting = stop("pmctl-a-1-stop-1")
    rows = [row(stop_loss=Decimal(95), stop_order_id=resting.id)]
    plan = plan_check(snapshot(rows, [position(price="100", available="0")], [resting]))
    assert [d.order_id for d in plan.of(Disarm)] == [resting.id] and plan.of(Arm) == []


@st.composite
def books(draw):
    """One protected long row, its position, and any mix of pmctl's protective orders and other people's."""
    held = draw(st.integers(1, 50))
    orders, held_by = [], 0
    for n in range(draw(st.integers(0, 4))):
        qty = draw(st.integers(1, held))
        if held_by + qty > held:
            break
        held_by += qty
        ours = draw(st.booleans())
        client = f"pmctl-a-1-stop-{n + 1}" if ours else f"someone-{n}"
        orders.append(stop(client, qty=str(qty), price=str(draw(st.integers(80, 99))),
                           at=NOON - timedelta(minutes=n)))
    recorded = draw(st.sampled_from([None, *[o.id for o in orders]]))
    clock = OPEN_CLOCK if draw(st.booleans()) else CLOSED_CLOCK
    the_row = row(quantity=Decimal(held), stop_loss=Decimal(draw(st.integers(85, 99))), stop_order_id=recorded,
                  protect_seq=len(orders), trailing_stop_percent=draw(st.sampled_from([None, Decimal(3)])),
                  peak_price=Decimal(draw(st.integers(100, 120))))
    return protected([the_row], [position(qty=str(held), price=str(draw(st.integers(100, 110))),
                                          available=str(held - held_by))], orders, clock=clock)


@given(books())
def test_a_plan_leaves_at_most_one_protection_within_the_position_and_never_touches_another_s_order(book):
    plan = plan_check(book)
    ours = [o for o in book.open_orders if named("a", o)]
    touched = {a.order_id for a in plan.actions if isinstance(a, (Disarm, Rearm))}
    assert touched <= {o.id for o in ours}
    cancelled = {d.order_id for d in plan.of(Disarm)} | {i for c in plan.of(Close) for i in c.cancel_order_ids}
    left = [o for o in ours if o.id not in cancelled]
    arms = plan.of(Arm)
    assert len(left) + len(arms) <= 1
    others = sum((o.remaining for o in book.open_orders if not named("a", o)), Decimal(0))
    rearmed = {r.order_id: r.qty for r in plan.of(Rearm) if r.qty is not None}
    resting_qty = sum((a.order.qty for a in arms), Decimal(0)) + sum(
        (rearmed.get(o.id, o.remaining) for o in left), Decimal(0))
    assert resting_qty + others <= book.positions[0].qty


def test_an_oco_whose_answer_was_lost_is_found_with_its_leg_and_recorded():
    head = stop("pmctl-a-1-oco-1", kind="limit", order_class="oco", limit="110", price=None)
    leg = replace(stop("made-by-the-broker", order_class="oco", status="held"), id="leg")
    rows = [row(stop_loss=Decimal(95), take_profit=Decimal(110), protect_seq=1)]
    plan = plan_check(protected(rows, [position(price="100", available="0")], [head, leg], policy=WITH_TARGET))
    recorded = only(plan, RecordProtection)
    assert (recorded.stop_order_id, recorded.target_order_id) == ("leg", head.id)
    assert plan.of(Arm) == plan.of(Disarm) == []
