"""The protection invariant under any history: whatever sequence of cycles, prices that fill resting stops, hand
closes, purchases, market opens and closes, and cycles killed at any broker request, there is never more than one
resting protective order per row, and the sells resting at the broker never exceed the position.

Each cycle runs in this process as ``check`` runs it (gather, the core's plan, the applier) against the emulator
over HTTP and a real PostgreSQL. A kill is modelled at a request boundary: the adapter is wrapped so that its k-th
request either never goes out, or is carried out and its answer lost, and the process stops there (``Killed``
escapes every handler, any open transaction is rolled back and the connection is dropped, as under SIGKILL).
"""

from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import insert_row
from pmctl.broker.adapter import AlpacaBroker
from pmctl.config import load_settings
from pmctl.core.check import plan_check
from pmctl.core.policy import Policy
from pmctl.core.resting import named
from pmctl.shell.apply import Applier
from pmctl.shell.gather import read_snapshot

pytestmark = pytest.mark.slow

POLICY = Policy.parse({"defaults": {"protect_at_broker": True, "stop_loss_percent": 5, "trailing_stop_percent": 3,
                                    "take_profit_percent": 12}})


class Killed(BaseException):
    """The process dies here: nothing after it runs."""


class Dying:
    """The real adapter, dying at its ``at``-th request: before it is sent, or (``after``) once it was carried out."""

    def __init__(self, broker: AlpacaBroker, at: int | None, after: bool):
        self._broker, self._left, self._after = broker, at, after

    def __getattr__(self, name):
        method = getattr(self._broker, name)

        def call(*args, **kwargs):
            if self._left is not None and self._left <= 0 and not self._after:
                raise Killed
            answer = method(*args, **kwargs)
            if self._left is not None:
                self._left -= 1
                if self._left < 0:
                    raise Killed
            return answer

        return call


steps = st.lists(st.one_of(
    st.tuples(st.just("cycle"), st.one_of(st.none(), st.integers(0, 9)), st.booleans()),
    st.tuples(st.just("price"), st.integers(80, 125).map(Decimal)),
    st.tuples(st.just("sold_by_hand"), st.sampled_from([None, Decimal(30)])),
    st.tuples(st.just("bought"), st.sampled_from([Decimal(20), Decimal(50)])),
    st.tuples(st.just("cancelled_by_hand"), st.none()),
    st.tuples(st.just("market"), st.booleans()),
), min_size=3, max_size=10)


@pytest.fixture
def world(desk, desk_env, database_url, state, tmp_path):
    config = load_settings({**desk_env, "PMCTL_DATABASE_URL": database_url}, default_home=tmp_path)
    config = replace(config, policy=POLICY)
    account = config.account("a")
    adapter = AlpacaBroker(account, config.broker_timeout)

    def cycle(kill_at: int | None, after: bool) -> None:
        broker = Dying(adapter, kill_at, after)
        with psycopg.connect(database_url, autocommit=True) as conn:
            try:
                snapshot = read_snapshot(broker, conn, account, config)
                Applier(snapshot, broker, conn, "property").apply(plan_check(snapshot))
            except Killed:
                pass

    def fresh() -> None:
        with state.lock:
            state.account("a").orders.clear()
            state.account("a").positions.clear()
        state.set_market_open(True)
        state.set_price("AMD", Decimal(100))
        state.set_position("a", "AMD", Decimal(100), Decimal(100))
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("TRUNCATE position_exits, position_events, active_positions RESTART IDENTITY CASCADE")
        insert_row(database_url, ticker="AMD", quantity=100, entry_price=Decimal(100), stop_loss=Decimal(95))

    return cycle, fresh


def check_invariant(state) -> None:
    account = state.account("a")
    resting = [o for o in account.orders if o.symbol == "AMD" and o.is_open]
    by_row: dict[int, int] = {}
    for order in resting:
        name = named("a", _view(order))
        if name is not None:
            by_row[name[0]] = by_row.get(name[0], 0) + 1
    assert all(count == 1 for count in by_row.values()), f"two protections for one row: {resting}"
    held = account.positions["AMD"].qty if "AMD" in account.positions else Decimal(0)
    sells = sum((o.qty - o.filled_qty for o in resting if o.side == "sell" and o.parent is None), Decimal(0))
    assert sells <= max(held, Decimal(0)), f"{sells} resting to sell, {held} held: {resting}"


def _view(order):
    """Just what ``named`` reads of an order."""
    return type("Named", (), {"client_order_id": order.client_order_id})()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(history=steps)
def test_never_two_protections_for_a_row_and_never_a_sell_beyond_the_position(world, state, history):
    cycle, fresh = world
    fresh()
    cycle(None, False)
    check_invariant(state)
    for step, value, *more in history:
        if step == "cycle":
            cycle(value, more[0])
        elif step == "price":
            state.set_price("AMD", value)
        elif step == "sold_by_hand" and "AMD" in state.account("a").positions:
            held = state.account("a").positions["AMD"].qty
            state.close_by_hand("a", "AMD", qty=value if value is not None and value < held else None,
                                cancel_orders=True)
        elif step == "bought":
            state.submit_order("a", "AMD", value, "buy", "market", "day")
        elif step == "cancelled_by_hand":
            for order in [o for o in state.account("a").orders if o.is_open and o.side == "sell"]:
                state.cancel_order("a", order.id)
        elif step == "market":
            state.set_market_open(value)
        check_invariant(state)
    state.set_market_open(True)
    cycle(None, False)
    cycle(None, False)
    check_invariant(state)
