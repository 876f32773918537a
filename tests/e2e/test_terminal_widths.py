"""``status`` and ``events`` on a terminal of 80 to 200 columns, through the CLI: the option contract is never
``GOO…`` (seed 02's confusion), and each row keeps its id, account, side and status."""

import re
from decimal import Decimal

import pytest

from helpers import insert_row

CALL = "GOOGL260220C00340000"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def book(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "GOOGL", Decimal("-10"), Decimal("335.40"))
    call = insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
                      entry_price=Decimal("5.20"), stop_loss=Decimal("3"), expiration_date="2026-02-20")
    spy = insert_row(database_url, ticker="SPY", quantity=20, entry_price=Decimal("690"), stop_loss=Decimal("650"),
                     status="closing")
    assert desk("check", "-a", "a").exit_code == 0
    return call, spy


def on_terminal(desk, width: int, *args: str) -> list[str]:
    result = desk(*args, env={"COLUMNS": str(width), "TTY_COMPATIBLE": "1", "NO_COLOR": None})
    assert "\x1b[" in result.stdout, "not rendered as on a terminal"
    return ANSI.sub("", result.stdout).splitlines()


def line_of(lines: list[str], row_id: int) -> list[str]:
    found = [line.split() for line in lines if re.match(rf"\s*{row_id}\s", line)]
    assert len(found) == 1, lines
    return found[0]


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_status_shows_the_whole_contract_and_every_identifying_column(desk, book, width):
    call, spy = book

    lines = on_terminal(desk, width, "status", "-a", "a")

    assert line_of(lines, call)[:6] == [str(call), "a", CALL, "long", "10", "open"]
    assert line_of(lines, spy)[:6] == [str(spy), "a", "SPY", "long", "20", "closing"]
    assert "…" not in "".join(lines)
    assert max(len(line) for line in lines) <= width


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_events_keep_their_identifying_columns_and_the_whole_detail(desk, book, width):
    call, _ = book
    assert desk("close", CALL, "-a", "a", "--yes").exit_code == 0

    lines = on_terminal(desk, width, "events", "-a", "a", "--position", str(call))

    rows = [line.split() for line in lines if re.match(r"\s*\d+\s+2026-02-03 ", line)]
    assert [row[6] for row in rows] == ["closed", "order_submitted", "exit_triggered"]
    assert all(row[3:6] == ["a", str(call), CALL] for row in rows)
    flowing = " ".join(" ".join(lines).split())
    assert "client_order_id=pmctl-a-" in flowing and f"symbol={CALL}" in flowing
    assert "operator's forced close" in flowing
    assert "…" not in "".join(lines)
    assert max(len(line) for line in lines) <= width
