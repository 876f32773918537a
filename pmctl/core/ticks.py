"""The prices an exchange accepts for a limit order, and rounding to them on the side that keeps an order fillable.

Options follow the penny program: a class quotes in $0.01 under $3.00 and in
$0.05 from $3.00, except the classes that quote in pennies at any price (SPY,
QQQ, IWM and ``[market] penny_symbols``) and those outside the program
(``[market] non_penny_symbols``: $0.05 under $3.00, $0.10 from $3.00). Stocks
trade in $0.01 from $1.00 and in $0.0001 below. An option price is never given
more than 2 decimals: Alpaca refuses a third even when it is zero-valued in the
tick's terms.

A sell limit is rounded down and a buy limit up, so a price that was marketable
stays marketable: a close that would rather fill than wait. Every grid puts
$3.00 (options) and $1.00 (stocks) on a tick of both sizes, so a price rounded
across the boundary still lies on the tick of where it lands.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pmctl import occ
from pmctl.core.policy import Market

CENT = Decimal("0.01")
NICKEL = Decimal("0.05")
DIME = Decimal("0.10")
SUB_PENNY = Decimal("0.0001")
OPTION_BREAK = Decimal(3)
STOCK_BREAK = Decimal(1)
_JUST_UNDER = Decimal("0.000001")


def tick(symbol: str, price: Decimal, market: Market) -> Decimal:
    """The increment ``symbol`` trades in at ``price``."""
    if not occ.is_option(symbol):
        return CENT if price >= STOCK_BREAK else SUB_PENNY
    root = occ.parse(symbol).root
    if root in market.penny_symbols:
        return CENT
    if root in market.non_penny_symbols:
        return NICKEL if price < OPTION_BREAK else DIME
    return CENT if price < OPTION_BREAK else NICKEL


def on_tick(symbol: str, price: Decimal, market: Market) -> bool:
    """Whether the broker accepts ``price`` as a limit for ``symbol``: positive and on its tick."""
    return price > 0 and price % tick(symbol, price, market) == 0


def smallest(symbol: str, market: Market) -> Decimal:
    """The lowest limit ``symbol`` can carry: one tick above zero."""
    return tick(symbol, Decimal(0), market)


def round_limit(symbol: str, side: str, price: Decimal, market: Market) -> Decimal:
    """``price`` on a valid tick: a sell rounded down, a buy up; never below the smallest tick.

    A sell rounded down onto the coarser tick above a break never crosses below
    it (the break itself is on both grids), and a buy rounded up from just under
    a break lands on the break at worst, which is on the coarser grid too.
    """
    if side not in ("sell", "buy"):
        raise ValueError(f"side must be sell or buy, not {side!r}")
    step = tick(symbol, price, market)
    rounding = ROUND_FLOOR if side == "sell" else ROUND_CEILING
    rounded = max((price / step).to_integral_value(rounding=rounding) * step, smallest(symbol, market))
    return rounded.quantize(tick(symbol, rounded, market))


def moved(symbol: str, price: Decimal, ticks: int, up: bool, market: Market) -> Decimal:
    """``price`` (on a tick) moved ``ticks`` valid prices up or down: each step the size of the tick just above
    or just below it, so 3.00 goes down to 2.99 in the penny program and up to 3.05; never below the smallest
    tick."""
    for _ in range(ticks):
        if up:
            price = price + tick(symbol, price, market)
        else:
            price = max(price - tick(symbol, price - _JUST_UNDER, market), smallest(symbol, market))
    return price.quantize(tick(symbol, price, market))
