"""Helpers for tests that look at the database directly, as an operator with psql would, and that wait for
something another process does."""

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import psycopg.rows
import pytest
from alpaca.common.exceptions import APIError

KEYS = {"a": ("PKAAAATEST", "secret-a"), "b": ("PKBBBBTEST", "secret-b")}
NOON = datetime(2026, 2, 3, 16, 0, tzinfo=timezone.utc)
LARGE = ("PKLARGEDEMO0000000001", "large-demo-secret-not-a-real-key")
TINY = ("PKTINYDEMO00000000002", "tiny-demo-secret-not-a-real-key")


def insert_row(database_url: str, **fields) -> int:
    """A row as the dispatcher writes it: seed 01's columns plus option_symbol and account_name."""
    values = {
        "account_name": "a", "ticker": "GOOGL", "instrument_type": "STOCK", "strategy_type": "swing_trade",
        "side": "long", "quantity": 10, "entry_price": Decimal("100"), "entry_time": NOON, **fields,
    }
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            f"INSERT INTO active_positions ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
        ).fetchone()[0]


def fetch_rows(database_url: str, where: str = "TRUE") -> list[dict]:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(f"SELECT * FROM active_positions WHERE {where} ORDER BY id").fetchall()


def fetch_events(database_url: str) -> list[dict]:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT * FROM position_events ORDER BY id").fetchall()


def refused(call) -> APIError:
    """alpaca-py's error for a request the emulator refused, as Alpaca would."""
    with pytest.raises(APIError) as info:
        call()
    return info.value


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 20.0, interval: float = 0.02) -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds.

    A test that needs another process or thread to reach a point waits for that point, not for a guessed number
    of seconds: fast when the machine is idle, still right when it is loaded.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            pytest.fail(f"waited {timeout:g} s for {what}; it did not happen")
        time.sleep(interval)


def quote(state, symbol: str, bid: str | Decimal, spread: str = "0.10") -> None:
    """Move a contract's market: its last trade and its bid to ``bid``, its ask ``spread`` above.

    An option's rules judge its bid (issue 14), and a quote the emulator derives from a last trade alone is
    locked, which triggers nothing; a test that moves an option's price moves its book with this.
    """
    bid = Decimal(bid)
    state.set_price(symbol, bid)
    state.set_quote(symbol, bid, bid + Decimal(spread))


def later(state, seconds: int = 10) -> None:
    """Run the emulator's frozen clock on by the walk's interval (``walk_interval_seconds``, 10 by default), as the
    minute between two of cron's cycles would: a working limit is re-priced only once it has worked that long."""
    state.set_clock(timestamp=state.clock.now() + timedelta(seconds=seconds))


def quote_mid(state, symbol: str, mid: str | Decimal, half_spread: str = "0.05") -> None:
    """Move a symbol's market so that its last trade and the mid of its quote are both ``mid``: a profile that
    judges the mid (the example policy's) sees the price the test names."""
    mid, half = Decimal(mid), Decimal(half_spread)
    state.set_price(symbol, mid)
    state.set_quote(symbol, mid - half, mid + half)
