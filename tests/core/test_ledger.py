"""The desk's execution ledger as a plan source, decided without a database or a broker."""

from dataclasses import fields, replace
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from helpers import NOON
from pmctl.core import ledger
from pmctl.core.check import plan_check
from pmctl.core.market import Order
from pmctl.core.model import Execution, Row
from pmctl.core.plan import Adopt, Alert, Close, TakePlan
from pmctl.core.reconcile import plan_reconcile
from pmctl.core.sync import as_followed, plan_sync
from pmctl.core.vocabulary import FindingKind, PlanSource, Tracking
from test_plans import CALL, position, row, snapshot

PUT = "GOOGL260220P00330000"
FILLED = NOON - timedelta(minutes=3)


def execution(symbol="SPY", ticker=None, kind=None, stop="95", target="110", hold=240, strategy="day_trade",
              side="long", at=FILLED, **extra) -> Execution:
    option = len(symbol) > 6
    return Execution(
        execution_id=uuid4(), symbol=symbol, ticker=ticker or (symbol[:5] if option else symbol),
        instrument_type=kind or ("CALL" if option else "STOCK"), strategy_type=strategy, side=side,
        quantity=Decimal(10), entry_price=Decimal(100), executed_at=at,
        stop_loss=Decimal(stop) if stop is not None else None,
        take_profit=Decimal(target) if target is not None else None, max_hold_minutes=hold, **extra)


def adopted_row(adopt: Adopt, id_=9) -> Row:
    """The row a real run writes for an adoption, as the next cycle reads it."""
    names = {field.name for field in fields(Row)}
    values = {name: getattr(adopt, name) for name in names if hasattr(adopt, name)}
    return Row(id=id_, account_name="a", status="open", **values)


def test_an_execution_before_adoption_adopts_the_position_with_its_plan():
    held = position("SPY", price="101")
    trade = execution()
    [adopt] = plan_sync(snapshot([], [held], executions=(trade,)))

    assert isinstance(adopt, Adopt)
    assert (adopt.plan_source, adopt.execution_uuid, adopt.strategy_type) == (PlanSource.LEDGER, trade.execution_id,
                                                                              "day_trade")
    assert (adopt.stop_loss, adopt.take_profit, adopt.max_hold_minutes) == (Decimal(95), Decimal(110), 240)
    assert (adopt.underlying_stop, adopt.underlying_target) == (None, None)
    assert adopt.entry_time == FILLED


def test_an_execution_after_adoption_gives_the_policy_row_its_plan_and_the_rules_judge_it_at_once():
    policy_row = row(7, "SPY", stop_loss=Decimal(80), take_profit=Decimal(150), plan_source="policy",
                     tracked_as="adopted", trailing_stop_percent=Decimal(10), entry_time=NOON - timedelta(minutes=2))
    trade = execution(stop="99")
    plan = plan_check(snapshot([policy_row], [position("SPY", price="98")], executions=(trade,)))

    [taken] = plan.of(TakePlan)
    assert (taken.row_id, taken.execution_uuid, taken.plan_source, taken.was_plan_source) == (
        7, trade.execution_id, PlanSource.LEDGER, PlanSource.POLICY)
    assert (taken.stop_loss, taken.take_profit, taken.trailing_stop_percent, taken.entry_time) == (
        Decimal(99), Decimal(110), None, FILLED)
    [close] = plan.of(Close)
    assert close.reason == "stop_loss"


LEVELS = st.one_of(st.none(), st.decimals("0.01", "999", places=2))


@given(option=st.booleans(), stop=LEVELS, target=LEVELS, hold=st.one_of(st.none(), st.integers(1, 999)),
       strategy=st.sampled_from([None, "day_trade", "swing_trade", "conservative", "momentum"]))
def test_a_trade_gives_its_row_the_same_plan_whether_it_lands_before_or_after_cron_adopts_it(
        option, stop, target, hold, strategy):
    symbol = CALL if option else "SPY"
    held = position(symbol, price="100")
    trade = execution(symbol, stop=stop, target=target, hold=hold, strategy=strategy)

    [before] = plan_sync(snapshot([], [held], executions=(trade,)))
    [policy] = plan_sync(snapshot([], [held]))
    policy_row = adopted_row(replace(policy, stop_loss=Decimal(80), take_profit=Decimal(120),
                                     trailing_stop_percent=Decimal(5), max_hold_minutes=999))
    after = as_followed((policy_row,), plan_sync(snapshot([policy_row], [held], executions=(trade,))))[9]

    for name in ("strategy_type", "stop_loss", "take_profit", "underlying_stop", "underlying_target",
                 "trailing_stop_percent", "max_hold_minutes", "execution_uuid", "plan_source", "tracked_as",
                 "entry_time"):
        assert getattr(after, name) == getattr(before, name), name
    if option:
        assert (after.stop_loss, after.take_profit) == (None, None)


def test_an_options_levels_are_the_underlyings_and_never_the_premiums():
    held = position(PUT, price="4")
    trade = execution(PUT, kind="PUT", stop="345.5", target="320")
    [adopt] = plan_sync(snapshot([], [held], executions=(trade,)))

    assert (adopt.stop_loss, adopt.take_profit) == (None, None)
    assert (adopt.underlying_stop, adopt.underlying_target) == (Decimal("345.5"), Decimal(320))
    assert adopt.entry_price == Decimal(100)


def test_the_newest_execution_of_a_symbol_wins_and_names_the_older_ones():
    old, new = execution(stop="90", at=FILLED - timedelta(hours=2)), execution(stop="97")
    [adopt] = plan_sync(snapshot([], [position("SPY")], executions=(old, new)))

    assert (adopt.execution_uuid, adopt.stop_loss) == (new.execution_id, Decimal(97))
    assert [note for note in adopt.notes if str(old.execution_id)[:8] in note]


def test_a_strategy_the_desks_database_refuses_is_not_written_and_is_noted():
    policy_row = row(7, "SPY", plan_source="policy", tracked_as="adopted")
    [taken] = plan_sync(snapshot([policy_row], [position("SPY")], executions=(execution(strategy="momentum"),)))

    assert taken.strategy_type == "swing_trade"
    assert any("'momentum'" in note for note in taken.notes)


def test_an_operators_plan_stands_and_the_row_is_only_linked_to_its_trade():
    edited = row(7, "SPY", stop_loss=Decimal(93), plan_source="operator", max_hold_minutes=30)
    trade = execution()
    [taken] = plan_sync(snapshot([edited], [position("SPY")], executions=(trade,)))

    assert (taken.execution_uuid, taken.plan_source) == (trade.execution_id, PlanSource.OPERATOR)
    assert (taken.stop_loss, taken.take_profit, taken.max_hold_minutes, taken.strategy_type) == (
        Decimal(93), None, 30, "swing_trade")


def test_levels_the_desks_tools_wrote_stay_where_the_trade_has_none():
    desk_row = row(7, "SPY", stop_loss=Decimal(93), take_profit=Decimal(130))
    [taken] = plan_sync(snapshot([desk_row], [position("SPY")], executions=(execution(stop="96", target=None),)))
    assert (taken.stop_loss, taken.take_profit) == (Decimal(96), Decimal(130))


def test_a_sale_in_the_ledger_is_no_plan_for_a_long_and_a_short_sale_releases_its_quarantined_short():
    sale = execution(side=ledger.execution_side(None, "SELL_STOCK"))
    assert plan_sync(snapshot([row(7, "SPY", plan_source="policy")], [position("SPY")], executions=(sale,))) == []

    short = row(7, "ORCL", side="short", tracked_as=Tracking.QUARANTINE)
    held = position("ORCL", qty="-10")
    plan = plan_check(snapshot([short], [held], executions=(execution("ORCL", stop="110", target="90", side="short"),)))
    [taken] = plan.of(TakePlan)
    assert taken.tracked_as == Tracking.ADOPTED
    assert not [a for a in plan.of(Alert) if a.kind == "unexpected_short"]

    findings = plan_reconcile(snapshot([short], [held], executions=(execution("ORCL", side="short"),)), True).findings
    assert [f.kind for f in findings] == [FindingKind.PLAN_TAKEN]


def test_a_short_stock_a_trade_opened_is_adopted_as_the_desks_not_quarantined():
    [adopt] = plan_sync(snapshot([], [position("ORCL", qty="-10")],
                                 executions=(execution("ORCL", stop="110", target="90", side="short"),)))
    assert (adopt.tracked_as, adopt.stop_loss) == (Tracking.ADOPTED, Decimal(110))


def test_the_ledgers_symbol_is_the_contract_for_an_option_and_an_option_without_one_matches_nothing():
    assert ledger.execution_symbol("CALL", "GOOGL", CALL) == CALL
    assert ledger.execution_symbol("PUT", "GOOGL", None) is None
    assert ledger.execution_symbol("call", "GOOGL", "GOOGL") is None
    assert ledger.execution_symbol("STOCK", "SPY", None) == "SPY"
    assert ledger.execution_side("short", "BUY_STOCK") == "short"
    assert ledger.execution_side(None, "BUY_PUT") == "long"


def test_levels_that_are_no_price_are_not_taken():
    [adopt] = plan_sync(snapshot([], [position("SPY")], executions=(execution(stop="0", target="-5", hold=0),)))
    assert (adopt.stop_loss, adopt.take_profit, adopt.max_hold_minutes) == (None, None, None)


def test_underlying_prices_are_needed_only_where_a_level_watches_one():
    assert ledger.underlyings_needed(snapshot([row(1, "SPY")], [position("SPY")])) == ()
    watched = row(2, CALL, underlying_stop=Decimal(330))
    offered = execution(PUT, kind="PUT", ticker="META")
    found = ledger.underlyings_needed(snapshot([watched, row(3, PUT)], [position(CALL), position(PUT)],
                                               executions=(offered,)))
    assert found == ("GOOGL", "META")


def test_a_linked_row_takes_a_newer_execution_of_its_symbol():
    linked = row(7, "SPY", execution_uuid=UUID(int=1), plan_source="ledger", stop_loss=Decimal(90),
                 take_profit=Decimal(120))
    [taken] = plan_sync(snapshot([linked], [position("SPY")], executions=(execution(target=None),)))
    assert (taken.stop_loss, taken.take_profit, taken.was_execution_uuid) == (Decimal(95), None, UUID(int=1))


def leg(id_, kind, side="sell", limit=None, stop=None, order_class="bracket", symbol="SPY", minutes=0) -> Order:
    return Order(id_, f"c-{id_}", symbol, side, Decimal(10), Decimal(0), None, kind,
                 "held" if kind.startswith("stop") else "new", NOON + timedelta(minutes=minutes), None, None,
                 order_class, Decimal(limit) if limit else None, Decimal(stop) if stop else None)


def test_a_position_with_exit_legs_at_the_broker_is_adopted_with_their_levels_and_ids():
    orders = (leg("t1", "limit", limit="110"), leg("s1", "stop", stop="95"), leg("s0", "stop", stop="90", minutes=-5),
              leg("plain", "stop", stop="99", order_class="simple"), leg("buy", "limit", side="buy", limit="80"))
    [adopt] = plan_sync(snapshot([], [position("SPY")], orders))

    assert (adopt.plan_source, adopt.stop_loss, adopt.take_profit) == (PlanSource.BROKER, Decimal(95), Decimal(110))
    assert (adopt.stop_order_id, adopt.target_order_id, adopt.execution_uuid) == ("s1", "t1", None)


def test_the_ledgers_plan_comes_before_the_brokers_legs_which_lend_their_ids():
    trade = execution(stop="97", target="108")
    [adopt] = plan_sync(snapshot([], [position("SPY")], (leg("t1", "limit", limit="110"),), executions=(trade,)))
    assert (adopt.plan_source, adopt.stop_loss, adopt.take_profit) == (PlanSource.LEDGER, Decimal(97), Decimal(108))
    assert (adopt.stop_order_id, adopt.target_order_id) == (None, "t1")


def test_exit_legs_on_a_short_stock_show_a_short_the_desk_meant():
    orders = (leg("s1", "stop", side="buy", stop="110", order_class="oco", symbol="ORCL"),)
    [adopt] = plan_sync(snapshot([], [position("ORCL", qty="-10")], orders))
    assert (adopt.tracked_as, adopt.stop_loss, adopt.plan_source) == (Tracking.ADOPTED, Decimal(110), PlanSource.BROKER)
