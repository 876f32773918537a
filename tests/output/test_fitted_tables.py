"""Tables on a terminal of any width: no symbol, id, account, side or status is ever cut short; columns drop in
the order README documents, and an event's detail wraps under its row."""

import io
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from pmctl.cli import listing
from pmctl.cli.output import Column, render

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NOON = datetime(2026, 2, 3, 16, 0, tzinfo=timezone.utc)
WIDTHS = [80, 100, 120, 200]
IDENTIFYING = ("id", "account", "symbol", "side", "status")


def position(row_id, account, symbol, side, status, broker, **money):
    return {"id": row_id, "account": account, "symbol": symbol, "side": side, "quantity": Decimal("10"),
            "status": status, "strategy": None, "entry_price": Decimal("5.20"), "entry_time": NOON,
            "current_price": money.get("price", Decimal("4")), "price_from": "bid, 3 s",
            "pnl_dollars": Decimal("-1200.0000"),
            "pnl_percent": Decimal("-23.0769"), "stop_loss": Decimal("4.16"), "take_profit": Decimal("7.80"),
            "trailing_stop_price": None, "expiration_date": None, "hours_to_expiration": Decimal("413"),
            "broker_quantity": Decimal("10"), "broker": broker, "plan": "desk, defaults.option",
            "next_exit": "stop_loss 4.16"}


POSITIONS = [
    position(43, "large", "GOOGL260220C00340000", "long", "open", "agrees"),
    position(1046, "large_desk", "GOOGL", "short", "closing", "missing at broker"),
    position(7, "tiny", "BRKB260320P00450000", "long", "open", "broker holds 20"),
]
EVENTS = [
    {"id": 1037, "time": NOON, "account": "large", "position": 43, "symbol": "GOOGL260220C00340000",
     "kind": "order_submitted", "actor": "rehearsal",
     "detail": "client_order_id=pmctl-large-43-2, order_id=98b334e4-0000-4000-8000-000000000001, qty=15, "
               "side=sell, status=filled, symbol=GOOGL260220C00340000", "data": {}},
    {"id": 36, "time": NOON, "account": "large", "position": 41, "symbol": "SPY", "kind": "quantity_changed",
     "actor": "rehearsal", "detail": "the broker holds 20, the row says 25 (partial fill or partial exit)",
     "data": {}},
]


def table(columns, rows, width: int, colour: bool = True, **options) -> list[str]:
    screen = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor" if colour else None,
                     width=width)
    render(columns, rows, "table", console=screen, **options)
    return ANSI.sub("", screen.file.getvalue()).splitlines()


def row_line(lines: list[str], row: dict) -> str:
    """The one line that starts with the row's id; its identifying values must all be on it, whole."""
    found = [line for line in lines if re.match(rf"\s*{row['id']}\s", line)]
    assert len(found) == 1, (row["id"], lines)
    return found[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_status_keeps_every_identifying_value_whole_at_any_width(width):
    lines = table(listing.STATUS_TABLE, POSITIONS, width, title="open positions", summary="3 open position(s)")

    for row in POSITIONS:
        cells = row_line(lines, row).split()
        for key in IDENTIFYING + ("quantity",):
            assert (str(row[key]) if key != "quantity" else "10") in cells, (width, key, lines)
    assert not any("…" in line for line in lines)
    assert all(len(line) <= width for line in lines), lines
    assert lines[0] == "open positions" and lines[-1] == "3 open position(s)"


@pytest.mark.parametrize("width", WIDTHS)
def test_status_shows_the_broker_agreement_at_any_width(width):
    text = " ".join(table(listing.STATUS_TABLE, POSITIONS, width))

    assert "agrees" in text and "broker holds 20" in re.sub(r"\s+", " ", text)
    assert re.sub(r"\s+", " ", text).count("missing at") == 1


def test_status_columns_drop_least_important_first_as_readme_documents():
    readme = (ROOT / "README.md").read_text()
    documented = re.search(r"`status` leaves out, in this order: (.*?)\.(?:\s|$)", readme.replace("\n", " "))
    assert documented, "README must say in which order status drops its columns"
    order = [name.strip(" `") for name in documented.group(1).split(",")]
    droppable = sorted((c for c in listing.STATUS_TABLE if c.drop is not None), key=lambda c: c.drop)
    assert order == [column.header for column in droppable]

    kept = {}
    for width in (200, 120, 100, 80):
        header = table(listing.STATUS_TABLE, POSITIONS, width)[0]
        kept[width] = [name for name in order if name in header]
        assert kept[width] == order[len(order) - len(kept[width]):], (width, header)
    assert kept[200] == order
    assert len(kept[80]) < len(kept[100]) < len(kept[120]) < len(kept[200])


@pytest.mark.parametrize("width", WIDTHS)
def test_events_keep_identifying_columns_whole_and_the_detail_readable(width):
    lines = table(listing.EVENTS_TABLE, EVENTS, width, title="position events (newest first)")

    for event in EVENTS:
        cells = row_line(lines, event).split()
        for value in (str(event["id"]), event["account"], str(event["position"]), event["symbol"], event["kind"],
                      "2026-02-03", "16:00:00"):
            assert value in cells, (width, value, lines)
    flowing = re.sub(r"\s+", " ", " ".join(lines))
    for event in EVENTS:
        assert event["detail"] in flowing or event["detail"].replace(" ", "") in flowing.replace(" ", "")
    assert not any("…" in line for line in lines)
    assert all(len(line) <= width for line in lines), lines


def test_events_at_80_columns_put_the_detail_under_its_row_in_whole_words():
    lines = table(listing.EVENTS_TABLE, EVENTS, 80)

    spy = lines.index(row_line(lines, EVENTS[1]))
    assert lines[spy + 1].strip() == "the broker holds 20, the row says 25 (partial fill or partial exit)"
    assert lines[spy + 1].startswith(" ")


def test_without_colour_on_a_terminal_nothing_is_cut_either():
    lines = table(listing.STATUS_TABLE, POSITIONS, 80, colour=False)

    assert "GOOGL260220C00340000" in row_line(lines, POSITIONS[0]).split()


def test_a_narrower_terminal_than_the_identifying_columns_wraps_whole_lines_rather_than_cut():
    lines = table(listing.STATUS_TABLE, POSITIONS, 40)

    assert "GOOGL260220C00340000" in " ".join(lines)
    assert "BRKB260320P00450000" in " ".join(lines) and "large_desk" in " ".join(lines)
    assert not any("…" in line for line in lines)


cell_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=24)
detail_text = st.text(alphabet=st.characters(max_codepoint=0x2FF, categories=("L", "N", "P", "S", "Zs")), max_size=200)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(1, 10**9), cell_text, cell_text, detail_text), min_size=1,
                     max_size=5, unique_by=lambda row: row[0]),
       width=st.integers(20, 250))
def test_no_value_is_ever_cut_and_lines_fit_whenever_the_kept_columns_can(rows, width):
    columns = [Column("id", "id", "number"), Column("symbol", "symbol"), Column("note", "note", drop=1),
               Column("detail", "detail", wrap=True, own_line=True)]
    data = [{"id": i, "symbol": s, "note": n, "detail": d} for i, s, n, d in rows]

    lines = table(columns, data, width)

    flowing = "".join("".join(lines).split())
    for row in data:
        assert str(row["id"]) in row_line(lines, row).split() and row["symbol"] in row_line(lines, row).split()
        assert "".join(row["detail"].split()) in flowing
    essential = max(len(str(row["id"])) for row in data) + 2 + max(len(row["symbol"]) for row in data + [
        {"symbol": "symbol"}])
    if essential <= width:
        assert all(len(line) <= width for line in lines), lines
