"""Account activities: the FILL history reconcilers read and the non-trade events (OPEXP, OPASN, ...)."""

import uuid
from datetime import date, datetime, time
from decimal import Decimal

from pmctl import occ
from pmctl.core.market import MARKET_ZONE, aware_utc, market_date
from pmctl.sim.models import Activity, Order, fmt, number, unprocessable


def activity_id(at: datetime) -> str:
    """Alpaca's activity ids sort by time: 'YYYYMMDDhhmmssfff::uuid'."""
    return f"{at.strftime('%Y%m%d%H%M%S%f')[:17]}::{uuid.uuid4()}"


class Activities:
    """Mixed into ``SimState``: shares its lock, accounts, clock and fill records."""

    def add_fill_history(self, account_name: str, symbol: str, side: str, qty: Decimal,
                         price: Decimal, at: datetime) -> Order:
        """A past fill for reconcilers to find: a filled order and its FILL, positions untouched."""
        problem = occ.problem(symbol)
        if problem:
            raise unprocessable(problem)
        if side not in ("buy", "sell"):
            raise unprocessable(f"invalid side: {side!r}")
        qty, price = number(qty, "qty"), number(price, "price")
        with self.lock:
            account = self.account(account_name)
            order = Order(
                id=uuid.uuid4(), client_order_id=str(uuid.uuid4()), symbol=symbol, side=side,
                type="market", qty=qty, time_in_force="day", created_at=at, updated_at=at,
                status="filled", filled_qty=qty, filled_avg_price=price, filled_at=at)
            account.orders.append(order)
            self._add_fill_activity(account, order, qty, price, at)
            account.activities.sort(key=lambda a: (a.at, a.seq))
            return order

    def add_activity(self, account_name: str, activity_type: str, symbol: str | None = None,
                     qty: Decimal | None = None, net_amount: Decimal = Decimal(0),
                     description: str = "", on: date | None = None) -> Activity:
        """Non-trade activity (OPEXP, OPEXC, OPASN, ...); it records, it does not move positions."""
        if not activity_type.isalpha() or not activity_type.isupper() or activity_type == "FILL":
            raise unprocessable(f"invalid non-trade activity_type: {activity_type!r}")
        with self.lock:
            account = self.account(account_name)
            now = self.clock.now()
            at = now if on is None else aware_utc(datetime.combine(on, time(), MARKET_ZONE))
            on = on or market_date(now)
            body = {
                "activity_type": activity_type,
                "date": on.isoformat(),
                "net_amount": fmt(number(net_amount, "net_amount")),
                "symbol": symbol,
                "qty": None if qty is None else fmt(number(qty, "qty")),
                "description": description,
                "status": "executed",
            }
            activity = Activity(id=activity_id(at), at=at, seq=next(self._seq),
                                activity_type=activity_type, body=body)
            account.activities.append(activity)
            account.activities.sort(key=lambda a: (a.at, a.seq))
            return activity

    def list_activities(self, account_name: str, activity_types: list[str] | None = None,
                        after: datetime | None = None, until: datetime | None = None,
                        direction: str = "desc", page_size: int = 100,
                        page_token: str | None = None) -> list[dict]:
        if direction not in ("asc", "desc"):
            raise unprocessable(f"invalid direction: {direction!r}")
        with self.lock:
            items = [
                a for a in self.account(account_name).activities
                if (not activity_types or a.activity_type in activity_types)
                and (after is None or a.at > after)
                and (until is None or a.at < until)
            ]
        items.sort(key=lambda a: (a.at, a.seq), reverse=direction == "desc")
        if page_token:
            ids = [a.id for a in items]
            if page_token not in ids:
                raise unprocessable(f"invalid page_token: {page_token!r}")
            items = items[ids.index(page_token) + 1:]
        return [{"id": a.id, **a.body} for a in items[:max(1, min(page_size, 100))]]
