"""``pmctl close`` asks before it takes the account's lock: while the operator reads the question, cron's check
of the same account runs (exit 0, not 75), and a close the position no longer matches is refused, not sent.

The close runs as a process on a pseudo-terminal, as an operator's shell runs it: the prompt is read from it and
answered through it.
"""

import os
import pty
import select
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from helpers import fetch_rows, insert_row

CALL = "GOOGL260220C00340000"
QUESTION = b"Send this order?"

pytestmark = pytest.mark.slow


class Terminal:
    """A pmctl process whose stdin and stdout are a pseudo-terminal; stderr is kept apart."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "pmctl", *args], env=env, stdin=slave, stdout=slave,
                                        stderr=subprocess.PIPE, close_fds=True)
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None and not self._read(0):
                pytest.fail(f"no {text!r} on the terminal; it showed {self.seen!r}, stderr "
                            f"{self.process.stderr.read() if self.process.poll() is not None else b''!r}")
            self._read(left)

    def answer(self, text: str) -> tuple[int, str, str]:
        os.write(self.master, text.encode())
        code = self.process.wait(timeout=60)
        while self._read(0):
            continue
        return code, self.seen.decode(errors="replace"), self.process.stderr.read().decode()

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            return False
        self.seen += chunk
        return bool(chunk)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def held_call(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    return insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"))


@pytest.fixture
def closing(desk_env, database_url, held_call):
    env = {**desk_env, "PMCTL_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    terminal = Terminal(["close", str(held_call), "-a", "a"], env)
    try:
        yield terminal
    finally:
        terminal.close()


def test_cron_checks_the_account_while_the_close_waits_for_its_answer(closing, desk, state, database_url, held_call):
    closing.wait_for(QUESTION)
    assert f"sell 10 {CALL}".encode() in closing.seen
    check = desk("check", "-a", "a")
    assert check.exit_code == 0, check.stderr
    assert state.account("a").orders == []

    code, shown, errors = closing.answer("y\n")
    assert code == 0, shown + errors
    [order] = state.account("a").orders
    assert (order.symbol, order.side, order.qty) == (CALL, "sell", Decimal("10"))
    assert fetch_rows(database_url, f"id = {held_call}")[0]["status"] == "closed"


def test_a_close_the_position_no_longer_matches_is_refused_after_the_answer(closing, state, database_url, held_call):
    closing.wait_for(QUESTION)
    state.set_position("a", CALL, Decimal("7"), Decimal("5.20"))

    code, shown, errors = closing.answer("y\n")
    assert code == 2, shown + errors
    assert f"pmctl: error: the position changed since the close was confirmed (sell 10 {CALL}; now sell 7 {CALL})" \
           ": nothing was sent" in errors
    assert state.account("a").orders == []
    assert fetch_rows(database_url, f"id = {held_call}")[0]["status"] == "open"


def test_a_close_not_confirmed_sends_nothing(closing, state, database_url, held_call):
    closing.wait_for(QUESTION)
    code, shown, errors = closing.answer("n\n")
    assert code == 2 and "not confirmed: nothing was sent" in errors
    assert state.account("a").orders == []
    assert fetch_rows(database_url, f"id = {held_call}")[0]["status"] == "open"
