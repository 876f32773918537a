"""Profit and loss of one position at one price, in the shape the ledger stores it.

Rounding is half away from zero, as PostgreSQL rounds NUMERIC, so a value
computed here and a value cast by the database agree to the last digit; and it
keeps a short's P&L the exact negative of the matching long's.
"""

from decimal import Decimal

from pmctl import occ
from pmctl.core.model import Row
from pmctl.core.numbers import stored

_PERCENT_LIMIT = Decimal("9999.9999")


def pnl(row: Row, price: Decimal) -> tuple[Decimal, Decimal]:
    """(dollars, percent) of ``row`` marked at ``price``, positive when the position made money.

    Percent is the move over the entry price, which is the same as dollars over
    the money put in, and stays defined for a row whose quantity is zero.
    """
    move = row.entry_price - price if row.is_short else price - row.entry_price
    dollars = move * row.quantity * occ.multiplier(row.symbol)
    percent = move / row.entry_price * 100 if row.entry_price else Decimal(0)
    return stored(dollars), stored(_clamp(percent))


def _clamp(percent: Decimal) -> Decimal:
    """A penny option that runs to dollars is a gain of many thousand percent; NUMERIC(8,4) holds 9999.9999."""
    return max(-_PERCENT_LIMIT, min(_PERCENT_LIMIT, percent))

