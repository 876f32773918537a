"""The broker's side of protection (``pmctl.core.protect``): resting GTC orders placed, replaced and read back.

Mixed into ``AlpacaBroker``, whose client and request helpers it shares. An order
is sent once (``_send``): a refusal is its typed error, no clear answer is
``OrderOutcomeUnknown``, and the next cycle finds the order by its client order id.
"""

from decimal import Decimal

from alpaca.trading.enums import OrderClass, OrderSide, PositionIntent, TimeInForce
from alpaca.trading.requests import (LimitOrderRequest, ReplaceOrderRequest, StopLimitOrderRequest, StopLossRequest,
                                     StopOrderRequest, TakeProfitRequest)

from pmctl.broker import errors
from pmctl.core.market import Order, Position, ProtectiveOrder
from pmctl.core.numbers import num


class ProtectiveOrders:
    """Needs the host's ``_trading`` client, ``_send`` (once) and ``_repeatable`` (reads), and ``_position``."""

    def submit_protection(self, order: ProtectiveOrder) -> Order:
        """Rest one GTC order: a stop, a stop-limit, or a stock's oco (the answer is its take-profit, with the stop
        leg in ``legs``)."""
        action = f"rest a GTC {order.kind} {order.side} {num(order.qty)} {order.symbol} at {num(order.stop_price)}"
        return self._send(action, order.client_order_id, lambda: self._trading.submit_order(_request(order)))

    def replace_order(self, order_id: str, client_order_id: str, qty: Decimal | None = None,
                      stop_price: Decimal | None = None, limit_price: Decimal | None = None) -> Order:
        """Replace a resting order (``PATCH /v2/orders/{order_id}``) under ``client_order_id``, once; the answer is
        the new order. None: left as it is."""
        change = ReplaceOrderRequest(qty=int(qty) if qty is not None else None,
                                     stop_price=float(stop_price) if stop_price is not None else None,
                                     limit_price=float(limit_price) if limit_price is not None else None,
                                     client_order_id=client_order_id)
        return self._send(f"replace order {order_id}", client_order_id,
                          lambda: self._trading.replace_order_by_id(order_id, change))

    def position(self, symbol: str) -> Position | None:
        """The position the broker holds in ``symbol`` now; None: none."""
        try:
            raw = self._repeatable(f"read the {symbol} position", lambda: self._trading.get_open_position(symbol))
        except errors.PositionNotFound:
            return None
        return self._position(raw)


def _request(order: ProtectiveOrder):
    common = {"symbol": order.symbol, "qty": float(order.qty), "side": OrderSide(order.side),
              "time_in_force": TimeInForce.GTC, "client_order_id": order.client_order_id}
    if order.position_intent:
        common["position_intent"] = PositionIntent(order.position_intent)
    if order.target_price is not None:
        return LimitOrderRequest(**common, order_class=OrderClass.OCO,
                                 take_profit=TakeProfitRequest(limit_price=float(order.target_price)),
                                 stop_loss=StopLossRequest(stop_price=float(order.stop_price)))
    if order.limit_price is not None:
        return StopLimitOrderRequest(**common, stop_price=float(order.stop_price), limit_price=float(order.limit_price))
    return StopOrderRequest(**common, stop_price=float(order.stop_price))
