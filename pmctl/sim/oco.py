"""OCO orders: a take-profit limit and a stop (or stop-limit) leg that exit one stock position together.

As Alpaca documents them ("Orders at Alpaca", OCO and bracket orders): ``type`` is
``limit`` and the take-profit's price is ``take_profit.limit_price``; the stop leg is a
stop, or a stop-limit when ``stop_loss.limit_price`` is given; exit orders only; ``day``
or ``gtc``; no extended hours; the stop must sit at least $0.01 beyond the base price
(the take-profit's limit and the current price) or the order is refused. The
take-profit is the parent (``new``), the stop leg its child (``held``, as Alpaca
reports the passive leg), and the group holds the quantity once. A fill of one leg
cancels the other; a partial fill leaves the other only what is still open.
"""

import uuid
from decimal import Decimal

from pmctl.sim.models import CENT, Account, Order, leg_price, number, unprocessable


class OneCancelsOther:
    """Mixed into ``SimState``: shares its lock, prices, order placement and announcements."""

    def _place_oco(self, account: Account, symbol, qty, side, type, time_in_force, limit_price,
                   take_profit, stop_loss, client_order_id, position_intent,
                   extended_hours) -> Order:
        if type != "limit":
            raise unprocessable("oco orders must be limit orders (the take-profit)")
        target = leg_price(take_profit, "take_profit", "limit_price", True, "oco")
        stop = leg_price(stop_loss, "stop_loss", "stop_price", True, "oco")
        stop_limit = leg_price(stop_loss, "stop_loss", "limit_price", False, "oco")
        if limit_price is not None and number(limit_price, "limit_price") != target:
            raise unprocessable("limit_price must equal take_profit.limit_price for oco orders")
        if time_in_force not in ("day", "gtc"):
            raise unprocessable("time_in_force must be day or gtc for oco orders")
        if extended_hours:
            raise unprocessable("extended hours are not supported for oco orders")
        position = account.positions.get(symbol or "")
        held = position.qty if position else Decimal(0)
        if not ((side == "sell" and held > 0) or (side == "buy" and held < 0)):
            raise unprocessable("oco orders must exit an existing position")
        self._check_prices(symbol, stop_limit, stop)
        self._check_stop_base(symbol, side, stop, target)
        parent = self._place(account, symbol, qty, side, "limit", time_in_force, target, None,
                             None, None, client_order_id, position_intent, "oco", False)
        child = Order(
            id=uuid.uuid4(), client_order_id=str(uuid.uuid4()), symbol=symbol, side=side,
            type="stop" if stop_limit is None else "stop_limit", qty=parent.qty,
            time_in_force=time_in_force, created_at=parent.created_at,
            updated_at=parent.created_at, status="held", order_class="oco",
            position_intent=parent.position_intent, limit_price=stop_limit, stop_price=stop,
            parent=parent)
        parent.legs.append(child)
        account.orders.append(child)
        return parent

    def _check_stop_base(self, symbol: str, side: str, stop: Decimal, target: Decimal) -> None:
        """Alpaca's threshold on a stop-loss leg: $0.01 beyond the base price (the take-profit's limit, the market)."""
        bases = [target] + ([self.prices[symbol]] if symbol in self.prices else [])
        if side == "sell" and stop > min(bases) - CENT:
            raise unprocessable("stop price must be less than base_price - 0.01")
        if side == "buy" and stop < max(bases) + CENT:
            raise unprocessable("stop price must be greater than base_price + 0.01")

    def _settle_group(self, account: Account, order: Order) -> None:
        """After a fill of ``order``: its sibling is canceled once it is filled, else keeps only what is left.
        A bracket's entry is no sibling of its exits: its fill sets them working (``pmctl.sim.bracket``)."""
        if order.order_class == "bracket" and order.legs:
            self._entry_settled(order)
            return
        for other in order.group:
            if other is order or not other.is_open:
                continue
            if order.status == "filled":
                self._cancel(account, other)
            else:
                other.qty = other.filled_qty + order.remaining
