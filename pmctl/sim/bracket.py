"""Bracket orders (stocks; docs "Orders at Alpaca", bracket orders): an entry and the two exits that protect it.

``order_class`` ``bracket``, an entry of ``type`` ``market`` or ``limit``, a
``take_profit`` ``{"limit_price"}`` and a ``stop_loss`` ``{"stop_price"[, "limit_price"]}``
(alpaca-py: ``MarketOrderRequest(order_class=OrderClass.BRACKET, take_profit=
TakeProfitRequest(...), stop_loss=StopLossRequest(...))``). The answer is the entry with
its legs in ``legs``: a take-profit limit and a stop (a stop-limit when the stop loss has
a limit), on the other side, for the entry's quantity, ``order_class`` ``bracket`` all
three. The legs are ``held`` until the entry has filled in full; then the take-profit
works (``new``) and the stop stays ``held`` until elected, and the two exit as an oco
does: a fill of one cancels the other, and they hold the position's quantity once.
Canceling the entry cancels its legs.
"""

import uuid
from decimal import Decimal

from pmctl.sim.models import CENT, Account, Order, SimError, leg_price, number, unprocessable


class Brackets:
    """Mixed into ``SimState``: shares its lock, prices and order placement."""

    def _place_bracket(self, account: Account, symbol, qty, side, type, time_in_force, limit_price,
                       take_profit, stop_loss, client_order_id, position_intent, extended_hours) -> Order:
        if type not in ("market", "limit"):
            raise unprocessable("bracket orders must be market or limit orders")
        if time_in_force not in ("day", "gtc"):
            raise unprocessable("time_in_force must be day or gtc for bracket orders")
        if extended_hours:
            raise unprocessable("extended hours are not supported for bracket orders")
        position = account.positions.get(symbol or "")
        held = position.qty if position else Decimal(0)
        if (side == "buy" and held < 0) or (side == "sell" and held > 0):
            raise SimError(422, 42210000, "bracket orders must be entry orders")
        target = leg_price(take_profit, "take_profit", "limit_price", True, "bracket")
        stop = leg_price(stop_loss, "stop_loss", "stop_price", True, "bracket")
        stop_limit = leg_price(stop_loss, "stop_loss", "limit_price", False, "bracket")
        self._check_prices(symbol, target, stop)
        self._check_prices(symbol, stop_limit, None)
        self._check_bracket_base(symbol, side, type, limit_price, stop, target)
        entry = self._place(account, symbol, qty, side, type, time_in_force, limit_price, None, None, None,
                            client_order_id, position_intent, "bracket", False)
        exit_side = "sell" if side == "buy" else "buy"
        legs = [("limit", target, None), ("stop" if stop_limit is None else "stop_limit", stop_limit, stop)]
        for kind, limit, stop_price in legs:
            leg = Order(
                id=uuid.uuid4(), client_order_id=str(uuid.uuid4()), symbol=symbol, side=exit_side, type=kind,
                qty=entry.qty, time_in_force=time_in_force, created_at=entry.created_at,
                updated_at=entry.created_at, status="held", order_class="bracket", limit_price=limit,
                stop_price=stop_price, parent=entry)
            entry.legs.append(leg)
            account.orders.append(leg)
        return entry

    def _check_bracket_base(self, symbol: str, side: str, type: str, limit_price, stop: Decimal,
                            target: Decimal) -> None:
        """The exits must lie beyond the base price (the entry's limit, else the last trade) by at least $0.01."""
        base = number(limit_price, "limit_price") if type == "limit" else self.prices.get(symbol)
        if base is None:
            return
        if side == "buy" and stop > base - CENT:
            raise unprocessable("stop price must be less than base_price - 0.01")
        if side == "sell" and stop < base + CENT:
            raise unprocessable("stop price must be greater than base_price + 0.01")
        if side == "buy" and target < base + CENT:
            raise unprocessable("take_profit.limit_price must be greater than base_price + 0.01")
        if side == "sell" and target > base - CENT:
            raise unprocessable("take_profit.limit_price must be less than base_price - 0.01")

    def _entry_settled(self, entry: Order) -> None:
        """The entry filled in full: its take-profit starts working, its stop stays held until elected."""
        if entry.status != "filled":
            return
        for leg in entry.legs:
            if leg.status == "held" and leg.type == "limit":
                leg.status = "new" if self.clock.is_open else "accepted"
                leg.updated_at = self.clock.now()

    @staticmethod
    def _waits_for_entry(order: Order) -> bool:
        """A bracket's leg does nothing while its entry is still open."""
        return order.order_class == "bracket" and order.parent is not None and order.parent.is_open
