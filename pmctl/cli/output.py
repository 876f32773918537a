"""One renderer for every listing command, so a person, a cron log and a script each read the same rows.

A listing is plain data: ``Column`` specs and row dicts of ``str``, ``int``,
``Decimal``, ``datetime``, ``date``, ``bool`` or ``None``. Every value is
converted before anything is written, so bad data fails the command without
leaving half a table behind.

The JSON schema scripts rely on: ``{"<json_key>": [row, ...], **extra}``, each
row an object with exactly the column keys in column order; Decimals are
strings in plain notation with the digits given (``"4.1600"``), datetimes ISO
8601 in UTC with offset (``"2026-02-03T16:00:00+00:00"``), dates ISO, bools
JSON booleans and ``None`` null. CSV carries the column keys as its header
row for the same reason.

``rich`` and ``tabulate`` are imported where used: ``pmctl --help`` imports
this module and must stay fast.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from pmctl.core.market import aware_utc
from pmctl.core.numbers import num

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json", "plain", "markdown", "csv")
_KINDS = ("text", "number", "money", "match", "time")
_RIGHT_ALIGNED = ("number", "money")
_MATCH_STYLES = {"agrees": "green", "not asked": "dim"}


@dataclass(frozen=True)
class Column:
    """One column of a listing. ``kind`` only changes alignment and colour, never the JSON value.

    How a terminal table fits its width (``pmctl.cli.fitted``): ``drop`` ranks the columns that may be left out
    (lowest first; None: always shown), ``wrap`` lets a column's text run over several lines, and ``own_line``
    lets it move under its row. No value is ever cut short.
    """

    key: str
    header: str
    kind: str = "text"
    drop: int | None = None
    wrap: bool = False
    own_line: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}: choose one of {', '.join(_KINDS)}")


def render(
    columns: list[Column],
    rows: list[dict],
    fmt: str,
    *,
    console: "Console | None" = None,
    title: str | None = None,
    summary: str | None = None,
    json_key: str = "rows",
    extra: dict | None = None,
    totals: dict | None = None,
) -> None:
    """Write a listing to stdout in ``fmt``; diagnostics belong on stderr, so pipes only ever see data.

    ``summary`` follows a table, plain or markdown listing; ``totals`` (name/value pairs) are a second CSV
    section after a blank line, so the rows' section stays exactly the column keys and their values.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    console = _console(console)
    if fmt == "json":
        _write_exact(console, _json_document(columns, rows, json_key, extra))
    elif fmt == "csv":
        _write_exact(console, _csv_document(columns, rows) + (_csv_totals(totals) if totals else ""))
    elif fmt == "markdown":
        table = _tabulated(columns, rows, "github", _markdown_cell)
        console.out(table + (f"\n\n{summary}" if summary else ""), highlight=False)
    elif fmt == "table" and _colourful(console):
        _print_rich_table(console, columns, rows, title, summary)
    else:
        _print_plain(console, columns, rows, title, summary)


def decimal_text(value: Decimal) -> str:
    """A Decimal as an operator writes it: 25.0000 -> 25, 151.0500 -> 151.05, -0 -> 0, never an exponent."""
    return num(value)


def bar_chart(values: dict[str, Decimal], *, console: "Console | None" = None, width: int = 40) -> None:
    """Losses to the left of an axis, gains to the right, each value signed: told apart without colour.

    Bars are scaled to the largest magnitude, so the reason that cost or made the most stands out at a glance.
    """
    if width < 1:
        raise ValueError(f"bar chart width must be at least 1, not {width}")
    if not values:
        return
    from rich.text import Text

    console = _console(console)
    colourful = _colourful(console)
    biggest = max(abs(value) for value in values.values())
    label_width = max(len(label) for label in values)
    left = width if any(value < 0 for value in values.values()) else 0
    right = width if any(value > 0 for value in values.values()) else 0
    for label, value in values.items():
        style = _money_style(value) if colourful else ""
        bar = ("█" if colourful else "#") * _blocks(value, biggest, width)
        losses, gains = (bar, "") if value < 0 else ("", bar)
        line = Text.assemble(label.rjust(label_width), " ", " " * (left - len(losses)), (losses, style), "|",
                             (gains, style), " " * (right - len(gains) + 1), (_signed(value), style))
        console.print(line, soft_wrap=True)


def _signed(value: Decimal) -> str:
    return f"+{decimal_text(value)}" if value > 0 else decimal_text(value)


def _blocks(value: Decimal, biggest: Decimal, width: int) -> int:
    """At least one block for any non-zero value, so a small loss is never drawn as nothing."""
    if not value:
        return 0
    scaled = (Decimal(width) * abs(value) / biggest).to_integral_value(rounding=ROUND_HALF_UP)
    return max(1, int(scaled))


def _console(console: "Console | None") -> "Console":
    if console is not None:
        return console
    from rich.console import Console

    return Console()


def _colourful(console: "Console") -> bool:
    """Cron logs and pipes must never get ANSI codes; Rich sets ``no_color`` from NO_COLOR (no-color.org)."""
    return console.is_terminal and not console.no_color


def _write_exact(console: "Console", text: str) -> None:
    """Machine formats bypass Rich, which would expand tabs and drop carriage returns inside values."""
    console.file.write(text)
    console.file.flush()


def _json_document(columns: list[Column], rows: list[dict], json_key: str, extra: dict | None) -> str:
    if extra and json_key in extra:
        raise ValueError(f"extra must not contain the rows key {json_key!r}")
    listing = [{column.key: _json_value(row[column.key]) for column in columns} for row in rows]
    return json.dumps({json_key: listing, **(extra or {})}, indent=2, default=_json_default) + "\n"


def _json_value(value):
    """Rows are converted up front so that a float, which would lose money digits, is refused, not written.

    A dict (an event's JSON data, as the database holds it) stays an object.
    """
    if value is None or isinstance(value, (str, int, dict)):
        return value
    return _json_default(value)


def _json_default(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        return aware_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__} {value!r} in a listing")


def _csv_document(columns: list[Column], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.key for column in columns])
    writer.writerows([_csv_cell(row[column.key]) for column in columns] for row in rows)
    return buffer.getvalue()


def _csv_totals(totals: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["summary", "value"])
    writer.writerows([name, _csv_cell(value)] for name, value in totals.items())
    return "\n" + buffer.getvalue()


def _csv_cell(value) -> str:
    """Empty for None and ISO times so spreadsheets and scripts parse the cells without special cases."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return aware_utc(value).isoformat()
    return _human_cell(value)


def _human_cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return aware_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (str, int, date)):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=_json_default)
    raise TypeError(f"cannot render {type(value).__name__} {value!r} in a listing")


def _markdown_cell(value) -> str:
    """A pipe inside a value would split the cell in two."""
    return _human_cell(value).replace("|", r"\|")



def _tabulated(columns: list[Column], rows: list[dict], tablefmt: str, cell=_human_cell) -> str:
    from tabulate import tabulate

    body = [[cell(row[column.key]) for column in columns] for row in rows]
    return tabulate(body, headers=[column.header for column in columns], tablefmt=tablefmt,
                    disable_numparse=True, colalign=[_justify(column) for column in columns])


def _print_plain(console: "Console", columns: list[Column], rows: list[dict], title: str | None,
                 summary: str | None) -> None:
    lines = [title] if title else []
    lines.append(_tabulated(columns, rows, "simple"))
    if summary:
        lines.append(summary)
    console.out("\n".join(lines), highlight=False)


def _print_rich_table(console: "Console", columns: list[Column], rows: list[dict], title: str | None,
                      summary: str | None) -> None:
    """Text objects everywhere, so a ``[`` in a symbol or message is shown, not parsed as Rich markup."""
    from pmctl.cli.fitted import print_fitted

    cells = [[(_human_cell(row[column.key]), _style(column, row[column.key])) for column in columns] for row in rows]
    print_fitted(console, columns, cells, title, summary)


def _justify(column: Column) -> str:
    return "right" if column.kind in _RIGHT_ALIGNED else "left"


def _style(column: Column, value) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        return _money_style(value)
    if column.kind == "match":
        return _MATCH_STYLES.get(value, "bold red")
    return ""


def _money_style(value: Decimal) -> str:
    if value > 0:
        return "green"
    return "red" if value < 0 else ""
