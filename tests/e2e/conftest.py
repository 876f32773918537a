"""The e2e tests' market: the fixture's GOOGL call is quoted two-sided, as a traded contract is.

An option's rules judge its quote (issue 14: a long's exits on the bid), and the emulator derives a locked quote
(bid = ask = the last trade) where none is set, which triggers nothing. So the call's book is 4.00 x 4.10: its
bid is the 4.00 the tests' levels were written against, and a close sells there as the market order did before.
A test that moves the call's price moves its quote with ``helpers.quote``.
"""

from decimal import Decimal

import pytest

CALL = "GOOGL260220C00340000"


@pytest.fixture
def state(state):
    state.set_quote(CALL, Decimal("4.00"), Decimal("4.10"))
    return state
