"""Sample notices and the one SMTP login the test servers accept."""

from datetime import UTC, datetime

from pmctl.alerts.model import Notice

USER = "desk"
PASSWORD = "correct-horse-battery-staple"
AT = datetime(2026, 2, 3, 16, 0, 5, tzinfo=UTC)


def notices() -> list[Notice]:
    """An error then a critical, in that order, so worst-first sorting is visible."""
    return [
        Notice("order_failed", "large", "error", "sell 1 SPY put rejected: insufficient buying power",
               symbol="SPY260220P00600000", row_id=7, at=AT),
        Notice("unexpected_short", "large", "critical", "short 100 GOOGL that no row opened",
               symbol="GOOGL", at=AT),
    ]
