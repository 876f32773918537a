"""Whatever a person closes by hand between pmctl's reads and pmctl's closes, pmctl's stock closes never open
or grow a position: the broker's position keeps its sign and its size only shrinks."""

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmctl.broker import errors
from pmctl.broker.adapter import AlpacaBroker
from pmctl.config import AccountConfig, Secret
from pmctl.core import closing
from pmctl.sim.models import SimError

READ = ("read", None)
CLAIMS = itertools.count()
STEPS = st.lists(st.one_of(
    st.just(READ),
    st.tuples(st.just("hand"), st.one_of(st.none(), st.integers(1, 120).map(Decimal))),
    st.tuples(st.just("pmctl"), st.one_of(st.none(), st.integers(1, 120).map(Decimal))),
), max_size=10)


@pytest.fixture
def broker(sim, keys) -> AlpacaBroker:
    key, secret = keys["a"]
    return AlpacaBroker(AccountConfig(name="a", api_key=Secret(key), secret_key=Secret(secret), base_url=sim.url,
                                      data_url=sim.url, paper=True, account_number=None, adopt=True), Decimal("5"))


def held(state) -> Decimal:
    return next((p.qty for p in state.list_positions("a") if p.symbol == "AMD"), Decimal(0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(-100, 100).filter(bool).map(Decimal), steps=STEPS)
def test_hand_closes_interleaved_with_pmctl_closes_never_flip_or_grow_the_position(broker, state, start, steps):
    state.set_price("AMD", Decimal("150"))
    state.set_position("a", "AMD", start, Decimal("150"))
    seen = None
    before = start
    for kind, qty in [READ, *steps]:
        if kind == "read":
            seen = next((p for p in broker.positions() if p.symbol == "AMD"), None)
        elif kind == "hand":
            try:
                state.close_by_hand("a", "AMD", qty)
            except SimError:
                pass
        elif seen is not None:
            try:
                request = closing.close_request(seen, "AMD", qty or abs(seen.qty), seen.qty_available,
                                                closing.client_order_id("a", 1, next(CLAIMS)))
                broker.submit_close(request)
            except (closing.CloseRefused, errors.BrokerRejected):
                pass
        now = held(state)
        assert now == 0 or (now > 0) == (start > 0), (kind, qty, before, now)
        assert abs(now) <= abs(before), (kind, qty, before, now)
        before = now
