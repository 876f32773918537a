"""The decisions behind the operator's commands, made on plain snapshots: close (and the close confirmed before
the lock), edit, and cleanup-phantoms' rule for what a phantom is."""

from datetime import timedelta
from decimal import Decimal

import pytest

from helpers import NOON
from pmctl.core.edit import FieldRefused, plan_edit
from pmctl.core.manual import CloseChanged, NoOpenRow, plan_close
from pmctl.core.plan import Close, Edit, MarkClosed
from pmctl.core.reconcile import IdsRefused, check_ids, plan_cleanup
from pmctl.core.vocabulary import FindingKind
from test_plans import CALL, position, row, snapshot


def test_a_close_confirmed_before_the_lock_is_sent_only_while_the_position_is_what_was_confirmed():
    book = snapshot([row(1, CALL, quantity=Decimal(10))], [position(CALL, "10")])
    [confirmed] = plan_close(book, "1", None, None).of(Close)
    assert plan_close(book, "1", None, None, confirmed=confirmed).of(Close) == [confirmed]
    sold_meanwhile = snapshot([row(1, CALL, quantity=Decimal(10))], [position(CALL, "7")])
    with pytest.raises(CloseChanged, match=r"confirmed \(sell 10 GOOGL260220C00340000; now sell 7 "):
        plan_close(sold_meanwhile, "1", None, None, confirmed=confirmed)


def test_a_close_of_a_row_not_in_the_book_names_the_id_for_the_caller_to_look_up():
    book = snapshot([row(1)], [position()])
    with pytest.raises(NoOpenRow) as by_id:
        plan_close(book, "42", None, None)
    assert by_id.value.row_id == 42
    with pytest.raises(NoOpenRow, match="no open row for AAPL in account 'a'") as by_symbol:
        plan_close(book, "aapl", None, None)
    assert by_symbol.value.row_id is None


def test_an_edit_is_a_planned_change_and_an_edit_to_the_same_values_plans_nothing():
    book = snapshot([row(1, stop_loss=Decimal(90))], [position()])
    plan = plan_edit(book, 1, {"stop_loss": Decimal(85), "max_hold_minutes": 60})
    [edit] = plan.of(Edit)
    assert plan.has_changes and edit.text() == "stop_loss 90 -> 85, max_hold_minutes none -> 60"
    assert not plan_edit(book, 1, {"stop_loss": Decimal("90.00")}).has_changes
    with pytest.raises(FieldRefused) as refused:
        plan_edit(book, 1, {"take_profit": Decimal(-1)})
    assert refused.value.field == "take_profit"


def test_a_phantom_is_a_row_the_broker_no_longer_holds_or_a_duplicate_of_such_a_row():
    old = NOON - timedelta(hours=2)
    rows = [row(1, "SPY", entry_time=old), row(2, "SPY", entry_time=old),  # SPY held: the duplicate is not a phantom
            row(3, "QQQ", entry_time=old), row(4, "QQQ", entry_time=old),  # QQQ gone: both are phantoms
            row(5, "IWM", entry_time=old, quantity=Decimal(5))]  # IWM held at 10: drift, left to reconcile
    book = snapshot(rows, [position("SPY"), position("IWM")])
    plan = plan_cleanup(book)
    assert sorted((f.row_id, f.kind) for f in plan.findings) == [(3, FindingKind.PHANTOM), (4, FindingKind.DUPLICATE)]
    assert sorted(a.row_id for a in plan.of(MarkClosed)) == [3, 4]
    assert sorted((f.row_id, f.kind) for f in plan.left) == [(2, FindingKind.DUPLICATE),
                                                             (5, FindingKind.QUANTITY_DRIFT)]
    only = plan_cleanup(book, wanted={4})
    assert [a.row_id for a in only.of(MarkClosed)] == [4]
    with pytest.raises(IdsRefused, match="row 5 is not a phantom: the broker still holds 10 IWM"):
        plan_cleanup(book, wanted={3, 5})


def test_ids_are_refused_before_the_broker_is_asked_when_unknown_closed_or_another_accounts():
    owners = {16: ("a", "open"), 17: ("b", "open"), 18: ("a", "closed"), 19: None}
    check_ids({16}, owners, {"a"})
    for wanted, detail in (({19}, "no row 19"), ({17}, "row 17 belongs to account 'b', not a"),
                           ({18}, "row 18 is already closed")):
        with pytest.raises(IdsRefused, match=detail):
            check_ids(wanted, owners, {"a"})
