"""The listing renderer as its three audiences see it: a terminal, a cron log and a script."""

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from rich.console import Console

from pmctl.cli.output import FORMATS, Column, bar_chart, decimal_text, render

NOON = datetime(2026, 2, 3, 16, 0, 0, tzinfo=timezone.utc)
BOX_DRAWING = re.compile("[\u2500-\u257f]")

COLUMNS = [
    Column("id", "id", "number"),
    Column("symbol", "symbol"),
    Column("quantity", "qty", "number"),
    Column("pnl_dollars", "P&L $", "money"),
    Column("broker", "broker", "match"),
    Column("entry_time", "entry", "time"),
    Column("expiration_date", "expiry"),
    Column("held", "held"),
]
ROWS = [
    {"id": 7, "symbol": "AAPL", "quantity": Decimal("25.0000"), "pnl_dollars": Decimal("151.0500"),
     "broker": "agrees", "entry_time": NOON, "expiration_date": date(2026, 3, 20), "held": True,
     "not_a_column": "ignored"},
    {"id": 1234, "symbol": "SPY", "quantity": Decimal("1E+2"), "pnl_dollars": Decimal("-42.10"),
     "broker": "missing at broker", "entry_time": None, "expiration_date": None, "held": False,
     "not_a_column": "ignored"},
]


@pytest.fixture(autouse=True)
def colour_environment(monkeypatch):
    """The developer's own NO_COLOR must not decide these tests."""
    monkeypatch.delenv("NO_COLOR", raising=False)


def console(terminal: bool) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, color_system="truecolor" if terminal else None,
                   width=160)


def rendered(fmt: str, *, terminal: bool = False, rows=ROWS, columns=COLUMNS, **options) -> str:
    screen = console(terminal)
    render(columns, rows, fmt, console=screen, **options)
    return screen.file.getvalue()


def sgr_codes(output: str, text: str) -> list[str]:
    """The ANSI style codes switched on right before ``text`` (padding may sit in between)."""
    match = re.search(r"\x1b\[([0-9;]*)m *" + re.escape(text), output)
    assert match, f"{text!r} is not styled in {output!r}"
    return match.group(1).split(";")


# JSON: the schema scripts depend on


def test_json_rows_have_exactly_the_column_keys_in_column_order():
    document = json.loads(rendered("json"))

    assert list(document) == ["rows"]
    assert [list(row) for row in document["rows"]] == [[column.key for column in COLUMNS]] * 2


def test_json_decimals_are_strings_in_plain_notation_with_the_digits_given():
    rows = json.loads(rendered("json"))["rows"]

    assert rows[0]["quantity"] == "25.0000"
    assert rows[0]["pnl_dollars"] == "151.0500"
    assert rows[1]["quantity"] == "100"
    assert rows[1]["pnl_dollars"] == "-42.10"


def test_json_times_dates_bools_ints_and_none():
    first, second = json.loads(rendered("json"))["rows"]

    assert first["entry_time"] == "2026-02-03T16:00:00+00:00"
    assert first["expiration_date"] == "2026-03-20"
    assert (first["held"], second["held"]) == (True, False)
    assert first["id"] == 7
    assert second["entry_time"] is None and second["expiration_date"] is None


def test_json_times_are_given_in_utc_whatever_offset_they_came_with():
    eastern = NOON.astimezone(timezone(timedelta(hours=-5)))
    rows = [{"at": eastern}]

    output = rendered("json", columns=[Column("at", "at", "time")], rows=rows)

    assert json.loads(output)["rows"] == [{"at": "2026-02-03T16:00:00+00:00"}]


def test_json_key_and_extra_shape_the_document():
    output = rendered("json", json_key="positions", extra={"errors": {"paper": "timeout"}})

    document = json.loads(output)
    assert list(document) == ["positions", "errors"]
    assert document["errors"] == {"paper": "timeout"}
    assert len(document["positions"]) == 2


def test_json_is_indented_by_two_and_ends_with_one_newline():
    output = rendered("json")

    assert output.startswith('{\n  "rows": [\n    {\n      "id": 7,')
    assert output.endswith("}\n") and not output.endswith("\n\n")


def test_json_extra_may_not_replace_the_rows():
    with pytest.raises(ValueError, match="rows key 'rows'"):
        rendered("json", extra={"rows": []})


def test_json_ignores_title_and_summary():
    output = rendered("json", title="Open positions", summary="2 positions")

    assert "2 positions" not in output and "Open positions" not in output
    json.loads(output)


def test_a_float_is_refused_before_anything_is_written():
    screen = console(False)
    rows = [{"pnl": Decimal("1")}, {"pnl": 0.1}]

    for fmt in FORMATS:
        with pytest.raises(TypeError, match="float"):
            render([Column("pnl", "P&L", "money")], rows, fmt, console=screen)
    assert screen.file.getvalue() == ""


def test_a_naive_time_is_refused_rather_than_guessed():
    rows = [{"at": datetime(2026, 2, 3, 16, 0)}]

    for fmt in FORMATS:
        with pytest.raises(ValueError, match="naive datetime"):
            rendered(fmt, columns=[Column("at", "at", "time")], rows=rows)


# CSV, markdown and plain text


def test_csv_parses_with_keys_as_header_and_plain_cells():
    header, first, second = list(csv.reader(io.StringIO(rendered("csv"))))

    assert header == [column.key for column in COLUMNS]
    assert first == ["7", "AAPL", "25", "151.05", "agrees", "2026-02-03T16:00:00+00:00", "2026-03-20", "true"]
    assert second == ["1234", "SPY", "100", "-42.1", "missing at broker", "", "", "false"]


def test_csv_keeps_commas_quotes_and_tabs_inside_values():
    text = 'broker said "no", then\tretried'

    output = rendered("csv", columns=[Column("note", "note")], rows=[{"note": text}])

    assert list(csv.reader(io.StringIO(output))) == [["note"], [text]]


def test_csv_has_no_title_or_summary():
    output = rendered("csv", title="Open positions", summary="2 positions")

    assert "2 positions" not in output and "Open positions" not in output
    assert len(output.splitlines()) == 3


def test_markdown_is_a_github_table():
    lines = rendered("markdown").splitlines()

    assert lines[0].startswith("|") and "P&L $" in lines[0]
    assert lines[1].startswith("|---")
    assert "151.05 |" in lines[2]


def test_markdown_escapes_a_pipe_so_the_row_keeps_its_cells():
    output = rendered("markdown", columns=[Column("note", "note"), Column("id", "id")],
                      rows=[{"note": "a|b", "id": 1}])

    assert r"a\|b" in output
    assert output.splitlines()[2].count("|") - output.count(r"\|") == 3


def test_plain_shows_title_rows_and_summary():
    lines = rendered("plain", title="Open positions", summary="2 positions, 1 disagreeing").splitlines()

    assert lines[0] == "Open positions"
    assert lines[-1] == "2 positions, 1 disagreeing"
    assert any("151.05" in line and "AAPL" in line for line in lines)


def test_none_shows_as_a_dash_in_every_human_format():
    for fmt in ("table", "plain", "markdown"):
        for terminal in (True, False):
            spy = next(line for line in rendered(fmt, terminal=terminal).splitlines() if "SPY" in line)
            assert re.split(r"[\s|│]+", spy).count("-") == 2, (fmt, terminal, spy)


def test_plain_right_aligns_numbers_and_shows_times_to_the_second_in_utc():
    lines = rendered("plain").splitlines()
    header, _, first, second = lines

    assert first.startswith("   7  ") and second.startswith("1234  ")
    assert first.index("25") + 2 == second.index("100") + 3 == header.index("qty") + 3
    assert "2026-02-03 16:00:00" in first


def test_plain_has_no_ansi_codes_even_on_a_terminal():
    output = rendered("plain", terminal=True, summary="2 positions")

    assert "\x1b[" not in output and not BOX_DRAWING.search(output)


# The table: colour for a person, plain text for everyone else


def test_table_colours_gains_green_and_losses_red():
    output = rendered("table", terminal=True)

    assert "32" in sgr_codes(output, "151.05")
    assert "31" in sgr_codes(output, "-42.1")


def test_table_colours_broker_agreement():
    output = rendered("table", terminal=True)

    assert "32" in sgr_codes(output, "agrees")
    assert {"1", "31"} <= set(sgr_codes(output, "missing at broker"))


def test_table_dims_not_asked_and_flags_any_other_disagreement():
    rows = [{"broker": "not asked"}, {"broker": "broker holds 20"}]

    output = rendered("table", terminal=True, columns=[Column("broker", "broker", "match")], rows=rows)

    assert "2" in sgr_codes(output, "not asked")
    assert {"1", "31"} <= set(sgr_codes(output, "broker holds 20"))


def test_table_leaves_zero_and_none_money_uncoloured():
    rows = [{"pnl": Decimal("0.00")}, {"pnl": None}]

    output = rendered("table", terminal=True, columns=[Column("pnl", "P&L", "money")], rows=rows)

    body = output.split("─\n", 1)[1]
    assert "\x1b[3" not in body


def test_table_on_a_terminal_has_title_box_headers_and_summary():
    output = rendered("table", terminal=True, title="Open positions", summary="2 positions")

    assert "Open positions" in output
    assert BOX_DRAWING.search(output)
    assert "P&L $" in output and "2026-02-03 16:00:00" in output
    assert output.endswith("2 positions\n")


def test_table_shows_markup_in_data_literally():
    rows = [{"note": "[red]not markup[/red]"}]

    output = rendered("table", terminal=True, columns=[Column("note", "note")], rows=rows)

    assert "[red]not markup[/red]" in output


def test_table_off_a_terminal_is_the_plain_rendering():
    options = {"title": "Open positions", "summary": "2 positions"}

    output = rendered("table", terminal=False, **options)

    assert "\x1b[" not in output and not BOX_DRAWING.search(output)
    assert output == rendered("plain", **options)


def test_table_with_no_color_set_is_plain_even_on_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    output = rendered("table", terminal=True, summary="2 positions")

    assert "\x1b[" not in output and not BOX_DRAWING.search(output)
    assert output == rendered("plain", summary="2 positions")


def test_default_console_writes_data_to_stdout_only(capsys):
    render(COLUMNS, ROWS, "json")

    captured = capsys.readouterr()
    assert json.loads(captured.out)["rows"][0]["symbol"] == "AAPL"
    assert captured.err == ""


def test_unknown_format_is_refused_with_the_choices():
    message = "unknown format 'yaml': choose one of table, json, plain, markdown, csv"

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        rendered("yaml")


def test_unknown_column_kind_is_refused():
    with pytest.raises(ValueError, match="unknown column kind 'price'"):
        Column("entry_price", "entry", "price")


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("25.0000"), "25"),
    (Decimal("151.0500"), "151.05"),
    (Decimal("-0"), "0"),
    (Decimal("-0.00"), "0"),
    (Decimal("1E+2"), "100"),
    (Decimal("-3.50"), "-3.5"),
    (Decimal("0.000001"), "0.000001"),
])
def test_decimal_text(value, text):
    assert decimal_text(value) == text


def test_importing_the_module_loads_neither_rich_nor_tabulate():
    probe = "import sys, pmctl.cli.output; print(sorted({'rich', 'tabulate'} & set(sys.modules)))"

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


# Bar chart


PNL_BY_REASON = {"stop_loss": Decimal("-120.50"), "take_profit": Decimal("300"), "expiry": Decimal("1")}


def chart(values, *, terminal: bool, width: int = 40) -> list[str]:
    screen = console(terminal)
    bar_chart(values, console=screen, width=width)
    return screen.file.getvalue().splitlines()


def test_bar_chart_scales_to_the_largest_magnitude():
    lines = chart(PNL_BY_REASON, terminal=False, width=30)

    bars = {line.split()[0]: line.count("#") for line in lines}
    assert bars == {"stop_loss": 12, "take_profit": 30, "expiry": 1}


def test_bar_chart_pads_labels_and_prints_the_signed_value_after_the_bar():
    lines = chart(PNL_BY_REASON, terminal=False)

    assert [line.split()[-1] for line in lines] == ["-120.5", "+300", "+1"]
    assert lines[0].startswith("  stop_loss ")


def test_bar_chart_draws_losses_left_of_the_axis_and_gains_right_without_colour():
    lines = chart(PNL_BY_REASON, terminal=False, width=30)

    axis = {line.index("|") for line in lines}
    assert axis == {len("take_profit") + 1 + 30}
    [axis] = axis
    loss, gain, small = lines
    assert loss[:axis].endswith("#" * 12) and loss[axis + 1:].strip() == "-120.5"
    assert gain[:axis].strip() == "take_profit" and gain[axis + 1:].startswith("#" * 30 + " ")
    assert small[axis + 1:].startswith("# ")


def test_bar_chart_with_gains_only_has_no_empty_loss_side():
    lines = chart({"take_profit": Decimal("10"), "expiry": Decimal("5")}, terminal=False, width=10)

    assert lines == ["take_profit |########## +10", "     expiry |#####      +5"]


def test_bar_chart_draws_nothing_for_zero():
    lines = chart({"manual": Decimal("0"), "stop_loss": Decimal("-5")}, terminal=False, width=10)

    assert lines[0].count("#") == 0 and lines[0].split()[-1] == "0"
    assert lines[1].count("#") == 10


def test_bar_chart_colours_gains_green_and_losses_red_on_a_terminal():
    output = "\n".join(chart(PNL_BY_REASON, terminal=True))

    assert "█" * 40 in output and "#" not in output
    assert "32" in sgr_codes(output, "█" * 40)
    assert "31" in sgr_codes(output, "█" * 16)
    assert "31" in sgr_codes(output, "-120.5")


def test_bar_chart_is_plain_with_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    output = "\n".join(chart(PNL_BY_REASON, terminal=True))

    assert "\x1b[" not in output and "█" not in output
    assert "#" * 40 in output


def test_bar_chart_prints_nothing_for_no_values():
    assert chart({}, terminal=True) == []
    assert chart({}, terminal=False) == []
