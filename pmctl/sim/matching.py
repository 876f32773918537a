"""When a resting order fills and at what price, and what a fill does to positions, cash, history and streams.

A paper fill is not a print: it moves no last trade and sends no market data, only a
trade update (Alpaca's paper engine simulates fills against the market, it does not trade in it).
"""

from decimal import Decimal

from pmctl import occ
from pmctl.sim.activities import activity_id
from pmctl.sim.clock import iso
from pmctl.sim.models import Account, Activity, Order, Position, Quote, fmt, number, unprocessable

_PRICE_STEP = Decimal("0.000001")


class Matching:
    """Mixed into ``SimState``: shares its lock, accounts, prices and clock."""

    def _match_all(self) -> None:
        for account in self.accounts.values():
            for order in list(account.orders):
                self._try_fill(account, order)

    def _try_fill(self, account: Account, order: Order) -> None:
        """Fill what is executable now, at the quote: a buy at the ask, a sell at the bid.

        Stops elect on the last trade (a print inside the quote, as Alpaca's are elected
        on the consolidated tape) and then trade as market or limit orders; a limit fills
        only when the quote reaches it, at the quote (no price improvement).
        """
        if not order.is_open or not self.clock.is_open or self._waits_for_entry(order):
            return
        quote = self.quote(order.symbol)
        if quote is None or not self._elected(order, quote):
            return
        price = quote.side_price(order.side)
        if price is None or not _within_limit(order, price):
            return
        self._fill(account, order, order.remaining, price)

    def _elected(self, order: Order, quote: Quote) -> bool:
        if order.type not in ("stop", "stop_limit", "trailing_stop") or order.elected:
            return True
        trade = self.prices.get(order.symbol)
        if trade is None:
            return False
        buy = order.side == "buy"
        if order.type == "trailing_stop":
            if order.hwm is None:
                order.hwm = trade
            order.hwm = min(order.hwm, trade) if buy else max(order.hwm, trade)
            offset = order.trail_price if order.trail_price is not None else (
                order.hwm * order.trail_percent / 100)
            stop = order.hwm + offset if buy else order.hwm - offset
        else:
            stop = order.stop_price
        order.elected = (trade >= stop if buy else trade <= stop) and quote.holds(trade)
        return order.elected

    def _fill(self, account: Account, order: Order, qty: Decimal, price: Decimal) -> None:
        now = self.clock.now()
        self._move_position(account, order.symbol, order.direction * qty, price)
        account.cash -= order.direction * qty * price * occ.multiplier(order.symbol)
        paid_before = (order.filled_avg_price or Decimal(0)) * order.filled_qty
        order.filled_qty += qty
        order.filled_avg_price = ((paid_before + qty * price) / order.filled_qty).quantize(
            _PRICE_STEP).normalize()
        order.status = "filled" if order.remaining == 0 else "partially_filled"
        order.updated_at = now
        if order.status == "filled":
            order.filled_at = now
        self._add_fill_activity(account, order, qty, price, now)
        self._announce(account, order, "fill" if order.status == "filled" else "partial_fill",
                       fill=(qty, price))
        self._settle_group(account, order)

    def _add_fill_activity(self, account, order, qty, price, at) -> None:
        account.activities.append(Activity(
            id=activity_id(at), at=at, seq=next(self._seq), activity_type="FILL", body={
                "activity_type": "FILL",
                "transaction_time": iso(at),
                "type": "fill" if order.remaining == 0 else "partial_fill",
                "price": fmt(price),
                "qty": fmt(qty),
                "side": order.side,
                "symbol": order.symbol,
                "leaves_qty": fmt(order.remaining),
                "order_id": str(order.id),
                "cum_qty": fmt(order.filled_qty),
                "order_status": order.status,
            }))

    def _move_position(self, account: Account, symbol: str, delta: Decimal,
                       price: Decimal) -> None:
        position = account.positions.get(symbol)
        old = position.qty if position else Decimal(0)
        new = old + delta
        if new == 0:
            account.positions.pop(symbol, None)
            return
        if old == 0 or (old > 0) == (delta > 0):
            cost = abs(old) * (position.avg_entry_price if position else 0) + abs(delta) * price
            avg = (cost / abs(new)).quantize(_PRICE_STEP).normalize()
        elif (old > 0) != (new > 0):
            avg = price
        else:
            avg = position.avg_entry_price
        account.positions[symbol] = Position(symbol, new, avg)

    def fill_order(self, order_id, qty: Decimal | None = None,
                   price: Decimal | None = None) -> Order:
        """Operator fill, market open or not: qty defaults to the rest, price to the last price."""
        with self.lock:
            account, order = self._find_order(order_id)
            if not order.is_open:
                raise unprocessable(f"order is already in \"{order.status}\" state")
            qty = order.remaining if qty is None else number(qty, "qty")
            if qty <= 0 or qty > order.remaining:
                raise unprocessable(
                    f"fill qty must be in (0, {fmt(order.remaining)}], got {fmt(qty)}")
            price = self.prices.get(order.symbol) if price is None else number(price, "price")
            if price is None:
                raise unprocessable(f"no price for {order.symbol}; give one")
            self._fill(account, order, qty, price)
            return order


def _within_limit(order: Order, price: Decimal) -> bool:
    if order.limit_price is None:
        return True
    return price <= order.limit_price if order.side == "buy" else price >= order.limit_price
