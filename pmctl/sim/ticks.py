"""Which limit and stop prices the broker accepts: sub-penny rules for stocks, tick sizes for options.

Stocks follow Alpaca's documented minimum price variance: at most 2 decimals at or
above $1.00, 4 below. Options follow the penny program (Penny Interval Program):
$0.01 under $3.00 and $0.05 at or above, $0.01 at any price for the classes that
quote in pennies throughout (SPY, QQQ, IWM by default), $0.05 / $0.10 for classes
outside the program. Which classes are outside is the emulator's setting: every root
is in the program unless listed.
"""

from dataclasses import dataclass
from decimal import Decimal

from pmctl import occ

PENNY_ALL_PRICES = frozenset({"SPY", "QQQ", "IWM"})
_CENT = Decimal("0.01")
_STOCK_STEP_BELOW_A_DOLLAR = Decimal("0.0001")
_PENNY_CUTOFF = Decimal(3)


@dataclass(frozen=True)
class TickRules:
    """Option roots that tick in pennies at any price, and roots outside the penny program."""

    penny_all_prices: frozenset[str] = PENNY_ALL_PRICES
    outside_program: frozenset[str] = frozenset()

    def option_tick(self, root: str, price: Decimal) -> Decimal:
        if root in self.penny_all_prices:
            return _CENT
        below, above = ((Decimal("0.05"), Decimal("0.10")) if root in self.outside_program
                        else (_CENT, Decimal("0.05")))
        return below if price < _PENNY_CUTOFF else above


def _on_step(price: Decimal, step: Decimal) -> bool:
    return price % step == 0


def price_problem(rules: TickRules, symbol: str, field: str, price: Decimal) -> str | None:
    """Why the broker refuses ``price`` as an order's ``field`` (limit_price, stop_price), or None."""
    if not occ.is_option(symbol):
        step = _CENT if price >= 1 else _STOCK_STEP_BELOW_A_DOLLAR
        if _on_step(price, step):
            return None
        return f"invalid {field} {price}. sub-penny increment does not fulfill minimum pricing criteria"
    if not _on_step(price, _CENT):
        return f"{field.replace('_', ' ')} must be limited to 2 decimal places"
    root = occ.parse(symbol).root
    tick = rules.option_tick(root, price)
    if _on_step(price, tick):
        return None
    return (f"invalid {field} {price}. {root} options at this price trade in increments "
            f"of {tick}")
