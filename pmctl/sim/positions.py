"""Positions: reading them, closing them as DELETE /v2/positions does, and setting them by hand."""

from decimal import ROUND_DOWN, Decimal

from pmctl import occ
from pmctl.sim.models import Order, Position, not_found, number, unprocessable


class Positions:
    """Mixed into ``SimState``: shares its lock, accounts, prices and order placement."""

    def list_positions(self, account_name: str) -> list[Position]:
        with self.lock:
            return sorted(self.account(account_name).positions.values(), key=lambda p: p.symbol)

    def get_position(self, account_name: str, symbol_or_asset_id: str) -> Position:
        with self.lock:
            for position in self.account(account_name).positions.values():
                if symbol_or_asset_id in (position.symbol, str(position.asset_id)):
                    return position
        raise not_found("position does not exist")

    def close_position(self, account_name: str, symbol_or_asset_id: str,
                       qty: Decimal | None = None, percentage: Decimal | None = None) -> Order:
        """DELETE /v2/positions/{symbol}: a reducing market order that cannot pass flat.

        No position is a 404; more than is held (less what open reducing orders hold)
        is the same 403 as any reducing order; qty and percentage together are a 422.
        """
        with self.lock:
            position = self.get_position(account_name, symbol_or_asset_id)
            amount = self._closing_qty(position, qty, percentage)
            return self.submit_order(account_name, position.symbol, amount,
                                     "sell" if position.qty > 0 else "buy")

    def _closing_qty(self, position: Position, qty, percentage) -> Decimal:
        if qty is not None and percentage is not None:
            raise unprocessable("only one of qty or percentage may be given")
        if qty is not None:
            amount = number(qty, "qty")
        elif percentage is not None:
            pct = number(percentage, "percentage")
            if not 0 < pct <= 100:
                raise unprocessable("percentage must be in (0, 100]")
            amount = abs(position.qty) * pct / 100
            step = Decimal(1) if occ.is_option(position.symbol) else Decimal("0.000000001")
            amount = amount.quantize(step, rounding=ROUND_DOWN)
        else:
            amount = abs(position.qty)
        if amount <= 0:
            raise unprocessable("qty to close must be > 0")
        return amount

    def set_position(self, account_name: str, symbol: str, qty: Decimal,
                     avg_entry_price: Decimal) -> None:
        """Put a position in place without an order or a fill (scenario set-up, repairs)."""
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        qty, avg = number(qty, "qty"), number(avg_entry_price, "avg_entry_price")
        if occ.is_option(symbol) and qty != qty.to_integral_value():
            raise unprocessable(f"option position {symbol} must be whole contracts")
        with self.lock:
            account = self.account(account_name)
            if qty == 0:
                account.positions.pop(symbol, None)
            else:
                account.positions[symbol] = Position(symbol, qty, avg)

    def close_by_hand(self, account_name: str, symbol: str, qty: Decimal | None = None,
                      price: Decimal | None = None, cancel_orders: bool = False) -> Order:
        """What an operator's click in Alpaca's dashboard leaves behind: a filled market order.

        Like any order it cannot sell what resting orders hold ("insufficient qty
        available"); ``cancel_orders`` first cancels the symbol's open orders, as a person
        clearing a resting stop before closing by hand would.
        """
        with self.lock:
            account = self.account(account_name)
            position = self.get_position(account_name, symbol)
            amount = self._closing_qty(position, qty, None)
            side = "sell" if position.qty > 0 else "buy"
            price = self.prices.get(symbol) if price is None else number(price, "price")
            if price is None:
                raise unprocessable(f"no price for {symbol}; give one")
            if cancel_orders:
                for order in list(account.orders):
                    if order.is_open and order.symbol == position.symbol:
                        self._cancel(account, order)
            order = self._place(account, symbol, amount, side, "market", "day", None, None,
                                None, None, None, None, "simple", False)
            self._announce(account, order, order.status)
            self._fill(account, order, amount, price)
            return order
