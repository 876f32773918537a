"""What happens to orders without a request: the session opening and closing, and a venue's rejection.

Orders placed while the market is closed wait ``accepted`` and go to the market
(``new``) when it opens; ``day`` orders still working when it closes expire, as
Alpaca's time in force says ("If unfilled after the closing auction, it is
automatically canceled"; the trade update is ``expired``). Each change is announced
on the trading stream.
"""

from pmctl.sim.models import Order, unprocessable

_LIVE = ("new", "partially_filled", "held")


class Lifecycle:
    """Mixed into ``SimState``: shares its lock, accounts, clock and announcements."""

    def _open_session(self) -> None:
        for account in self.accounts.values():
            for order in account.orders:
                if order.status == "accepted":
                    order.status = "new"
                    order.updated_at = self.clock.now()
                    self._announce(account, order, "new")

    def _close_session(self) -> None:
        now = self.clock.now()
        for account in self.accounts.values():
            for order in account.orders:
                if order.status in _LIVE and order.time_in_force == "day":
                    order.status = "expired"
                    order.expired_at = order.updated_at = now
                    self._announce(account, order, "expired")

    def reject_order(self, order_id) -> Order:
        """The venue refuses an order it had accepted: ``rejected``, with the rest of its oco group canceled."""
        with self.lock:
            account, order = self._find_order(order_id)
            if not order.is_open:
                raise unprocessable(f"order is already in \"{order.status}\" state")
            order.status = "rejected"
            order.failed_at = order.updated_at = self.clock.now()
            self._announce(account, order, "rejected")
            self._cancel_group(account, order)
            return order
