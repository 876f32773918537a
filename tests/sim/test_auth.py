"""Keys decide the account; nothing leaks between accounts."""

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient


def test_wrong_secret_and_unknown_key_are_401(sim, keys):
    key, _ = keys["a"]
    for api_key, secret in ((key, "wrong"), ("PKNOBODY", "x")):
        with pytest.raises(APIError) as info:
            TradingClient(api_key, secret, url_override=sim.url).get_account()
        assert info.value.status_code == 401
        assert (info.value.code, info.value.message) == (40110000, "request is not authorized")


def test_accounts_see_only_their_own_positions(state, client_for):
    state.set_position("b", "META", Decimal(15), Decimal("705"))
    a, b = client_for("a"), client_for("b")
    assert a.get_all_positions() == []
    assert [p.symbol for p in b.get_all_positions()] == ["META"]
    with pytest.raises(APIError) as info:
        a.get_open_position("META")
    assert info.value.status_code == 404
    assert a.get_account().id != b.get_account().id
    assert (a.get_account().account_number, b.get_account().account_number) == ("PA-A", "PA-B")
    assert [r.account for r in state.requests][:2] == ["a", "b"]
