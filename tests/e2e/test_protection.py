"""Protection at the broker, end to end: a resting GTC order enforces a protected row's stop while no pmctl process
runs, follows the row, and the next ``check`` settles the row at its fill, closed by the broker."""

from decimal import Decimal

import pytest

from helpers import fetch_events, fetch_rows, insert_row, quote

CALL = "GOOGL260220C00340000"
PROTECTED = "[defaults]\nprotect_at_broker = true\n"


@pytest.fixture
def policy(tmp_path):
    """Write the policy file; every ``check`` of the test reads it."""
    path = tmp_path / "protect.toml"

    def write(text: str = PROTECTED) -> dict[str, str]:
        path.write_text(text)
        return {"PMCTL_POLICY_FILE": str(path)}

    write()
    return write


@pytest.fixture
def check(desk, policy, tmp_path):
    def run(*args: str, code: int = 0):
        result = desk("check", "--account", "a", *args, env={"PMCTL_POLICY_FILE": str(tmp_path / "protect.toml")})
        assert result.exit_code == code, result.stdout + result.stderr
        return result

    return run


def resting(state, symbol):
    """The open orders on the symbol, oldest first."""
    return [order for order in state.account("a").orders if order.symbol == symbol and order.is_open]


def stock_row(state, database_url, qty=100, entry="150", price="148", **fields) -> int:
    state.set_position("a", "AMD", Decimal(qty), Decimal(entry))
    state.set_price("AMD", Decimal(price))
    return insert_row(database_url, ticker="AMD", quantity=qty, entry_price=Decimal(entry), **fields)


def option_row(state, database_url, **fields) -> int:
    state.set_position("a", CALL, Decimal(10), Decimal("5.20"))
    quote(state, CALL, "4.60")
    return insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"), **fields)


def closed_event(database_url, row):
    [event] = [e for e in fetch_events(database_url) if e["position_id"] == row and e["event_type"] == "closed"]
    return event["event_data"]


def exits_of(database_url, row):
    import psycopg
    import psycopg.rows

    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT quantity, price, reason, order_id, source FROM position_exits "
                            "WHERE position_id = %s ORDER BY id", (row,)).fetchall()


def test_a_stock_stop_rests_at_the_broker_and_the_next_check_settles_its_fill_as_closed_by_the_broker(
        check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    first = check()
    [stop] = resting(state, "AMD")
    assert (stop.type, stop.side, stop.qty, stop.stop_price, stop.time_in_force, stop.client_order_id) == (
        "stop", "sell", Decimal(100), Decimal(145), "gtc", f"pmctl-a-{row}-stop-1")
    assert f"protect row {row} AMD as pmctl-a-{row}-stop-1" in first.stdout
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(stop.id)
    check()
    assert resting(state, "AMD") == [stop]

    state.set_price("AMD", Decimal("144"))
    assert state.list_positions("a") == [] and stop.status == "filled"

    check()
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"], closed["close_order_id"]) == (
        "closed", "stop_loss", Decimal("144.0000"), str(stop.id))
    event = closed_event(database_url, row)
    assert (event["closed_by"], event["reason"], event["evidence"]["client_order_id"]) == (
        "broker", "stop_loss", f"pmctl-a-{row}-stop-1")
    assert exits_of(database_url, row) == [{"quantity": Decimal(100), "price": Decimal("144.0000"),
                                             "reason": "stop_loss", "order_id": str(stop.id), "source": "broker"}]
    assert [o.client_order_id for o in state.account("a").orders] == [f"pmctl-a-{row}-stop-1"]


def test_an_option_stop_limit_rests_on_the_contract_and_settles_at_its_fill(check, state, database_url):
    row = option_row(state, database_url)
    check()
    [stop] = resting(state, CALL)
    assert (stop.type, stop.qty, stop.stop_price, stop.limit_price, stop.position_intent, stop.time_in_force) == (
        "stop_limit", Decimal(10), Decimal("4.15"), Decimal("3.70"), "sell_to_close", "gtc")

    state.set_quote(CALL, Decimal("4.05"), Decimal("4.20"))
    state.set_price(CALL, Decimal("4.10"))
    assert state.list_positions("a") == []

    check()
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss",
                                                                                Decimal("4.0500"))
    assert closed_event(database_url, row)["closed_by"] == "broker"
    assert [(e["reason"], e["source"]) for e in exits_of(database_url, row)] == [("stop_loss", "broker")]


def test_a_trailing_level_moves_the_resting_stop_by_replace_in_steps_never_two_at_once(check, state, database_url):
    row = stock_row(state, database_url, entry="100", price="100", trailing_stop_percent=Decimal(5))
    check()
    [first] = resting(state, "AMD")
    assert first.stop_price == Decimal(95)

    state.set_price("AMD", Decimal("100.50"))
    check()
    assert resting(state, "AMD") == [first]

    state.set_price("AMD", Decimal(110))
    moved = check()
    [second] = resting(state, "AMD")
    assert (second.stop_price, second.replaces, second.client_order_id) == (
        Decimal("104.50"), first.id, f"pmctl-a-{row}-stop-2")
    assert (first.status, first.replaced_by) == ("replaced", second.id)
    assert "PATCH /v2/orders/" in moved.stdout and "stop 95 -> 104.5 (trailing_stop)" in moved.stdout
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(second.id)
    assert [e["event_data"]["change"] for e in fetch_events(database_url) if e["event_type"] == "protection"] == [
        "armed", "moved"]

    state.set_price("AMD", Decimal("104"))
    check()
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"]) == ("closed", "trailing_stop")
    assert closed_event(database_url, row)["closed_by"] == "broker"


def test_a_take_profit_close_cancels_the_resting_stop_first_and_rearms_it_when_the_close_is_refused(
        check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"), take_profit=Decimal("160"))
    check()
    [stop] = resting(state, "AMD")
    state.set_price("AMD", Decimal("161"))
    state.inject_fault("/v2/positions/AMD", "error", count=1, method="DELETE", status=403,
                       message="trading is halted for AMD")

    refused = check(code=1)

    assert stop.status == "canceled"
    [again] = resting(state, "AMD")
    assert (again.client_order_id, again.stop_price, again.qty) == (f"pmctl-a-{row}-stop-2", Decimal(145),
                                                                   Decimal(100))
    assert "refused: trading is halted for AMD; protection pmctl-a-" in refused.stdout
    [reopened] = fetch_rows(database_url, f"id = {row}")
    assert (reopened["status"], reopened["stop_order_id"]) == ("open", str(again.id))

    state.clear_faults()
    check()
    assert resting(state, "AMD") == [again]


def test_a_take_profit_close_of_a_protected_row_goes_through_once_the_stop_is_cancelled(check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"), take_profit=Decimal("160"))
    check()
    [stop] = resting(state, "AMD")
    state.set_price("AMD", Decimal("161"))

    check()

    assert stop.status == "canceled" and state.list_positions("a") == []
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["stop_order_id"]) == ("closed", "take_profit", None)
    assert "closed_by" not in closed_event(database_url, row)
    assert [o.status for o in state.account("a").orders] == ["canceled", "filled"]


def test_a_stop_cancelled_by_hand_is_rested_again_with_a_brackets_missing_alert(check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    check()
    [stop] = resting(state, "AMD")
    state.cancel_order("a", stop.id)

    result = check()

    [again] = resting(state, "AMD")
    assert again.client_order_id == f"pmctl-a-{row}-stop-2"
    assert "brackets_missing" in result.stdout and "canceled" in result.stdout
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(again.id)
    check()
    assert resting(state, "AMD") == [again]
    assert [e["event_type"] for e in fetch_events(database_url)].count("brackets_missing") == 1


def test_the_resting_stop_follows_the_quantity(check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    check()
    [stop] = resting(state, "AMD")
    state.set_position("a", "AMD", Decimal(150), Decimal(150))

    check()

    [bigger] = resting(state, "AMD")
    assert (bigger.qty, bigger.replaces, stop.status) == (Decimal(150), stop.id, "replaced")
    assert fetch_rows(database_url, f"id = {row}")[0]["quantity"] == Decimal(150)


def test_an_oco_rests_the_target_beside_the_stop_and_its_fill_settles_as_take_profit(check, state, database_url,
                                                                                      policy):
    policy(PROTECTED + "protect_with_target = true\n")
    row = stock_row(state, database_url, stop_loss=Decimal("145"), take_profit=Decimal("160"))
    check()
    target, leg = resting(state, "AMD")
    assert (target.order_class, target.type, target.limit_price, leg.type, leg.stop_price) == (
        "oco", "limit", Decimal(160), "stop", Decimal(145))
    recorded = fetch_rows(database_url, f"id = {row}")[0]
    assert (recorded["stop_order_id"], recorded["target_order_id"]) == (str(leg.id), str(target.id))
    assert "record row" not in check().stdout
    assert resting(state, "AMD") == [target, leg]

    state.set_quote("AMD", Decimal("160.10"), Decimal("160.20"))
    assert state.list_positions("a") == []

    check()
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "take_profit",
                                                                                Decimal("160.1000"))
    assert closed_event(database_url, row)["closed_by"] == "broker"


def test_a_resting_order_pmctl_did_not_place_is_reported_and_never_touched(check, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    theirs = state.submit_order("a", "AMD", Decimal(40), "sell", "limit", "gtc", limit_price=Decimal(170))

    result = check()

    [ours] = [o for o in resting(state, "AMD") if o is not theirs]
    assert (ours.qty, theirs.status, theirs.qty) == (Decimal(60), "new", Decimal(40))
    assert "foreign_order" in result.stdout and "was not placed by pmctl" in result.stdout
    state.set_price("AMD", Decimal("149"))
    check()
    assert theirs.status == "new" and resting(state, "AMD") == [theirs, ours]
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] == str(ours.id)


def test_a_row_without_the_profile_gets_no_resting_order(check, state, database_url, policy):
    policy("[profiles.day_trade]\nprotect_at_broker = true\n")
    stock_row(state, database_url, stop_loss=Decimal("145"))
    check()
    assert resting(state, "AMD") == []


def test_turning_protection_off_cancels_what_rests(check, state, database_url, policy):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    check()
    [stop] = resting(state, "AMD")
    policy("[defaults]\nprotect_at_broker = false\n")
    result = check()
    assert stop.status == "canceled" and resting(state, "AMD") == []
    assert "its profile no longer protects at the broker" in result.stdout
    assert fetch_rows(database_url, f"id = {row}")[0]["stop_order_id"] is None


def test_a_dry_run_shows_the_protection_and_sends_nothing(desk, policy, state, database_url):
    row = stock_row(state, database_url, stop_loss=Decimal("145"))
    result = desk("check", "--account", "a", "--dry-run", env=policy())
    assert result.exit_code == 3, result.stderr
    assert f"would protect row {row} AMD as pmctl-a-{row}-stop-1" in result.stdout
    assert "GTC stop sell 100 AMD at 145" in result.stdout
    assert state.account("a").orders == []
    assert fetch_rows(database_url, f"id = {row}")[0]["protect_seq"] == 0


def test_bracket_legs_the_row_records_protect_it_untouched_and_their_fill_settles_it(check, state, database_url):
    state.set_position("a", "AMD", Decimal(100), Decimal(150))
    state.set_price("AMD", Decimal(148))
    group = state.submit_order("a", "AMD", Decimal(100), "sell", "limit", "gtc", order_class="oco",
                               take_profit={"limit_price": "170"}, stop_loss={"stop_price": "140"})
    [leg] = group.legs
    row = insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(150), stop_loss=Decimal(140),
                     take_profit=Decimal(170), stop_order_id=str(leg.id), target_order_id=str(group.id))

    result = check()

    assert resting(state, "AMD") == [group, leg] and "foreign_order" not in result.stdout
    state.set_price("AMD", Decimal(139))
    check()
    [closed] = fetch_rows(database_url, f"id = {row}")
    assert (closed["status"], closed["close_reason"], closed["exit_price"]) == ("closed", "stop_loss",
                                                                                Decimal("139.0000"))
    assert closed_event(database_url, row)["closed_by"] == "broker"


def test_an_ocos_stop_leg_trails_by_replace_within_its_group(check, state, database_url, policy):
    policy(PROTECTED + "protect_with_target = true\n")
    row = stock_row(state, database_url, entry="100", price="100", trailing_stop_percent=Decimal(5),
                    take_profit=Decimal(130))
    check()
    target, leg = resting(state, "AMD")
    state.set_price("AMD", Decimal(110))

    check()

    [moved] = [o for o in resting(state, "AMD") if o is not target]
    assert (moved.stop_price, moved.replaces, moved.status, leg.status) == (Decimal("104.50"), leg.id, "held",
                                                                             "replaced")
    recorded = fetch_rows(database_url, f"id = {row}")[0]
    assert (recorded["stop_order_id"], recorded["target_order_id"]) == (str(moved.id), str(target.id))
    assert "record row" not in check().stdout and len(resting(state, "AMD")) == 2
