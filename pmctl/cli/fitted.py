"""A listing on a terminal, fitted to its width without cutting a value short.

Rich's own table squeezes every column to fit and ends each with ``…``, which turned
``GOOGL260220C00340000`` into ``GOO…`` at 120 columns: the confusion of seed 02. Here a
value is never elided. Columns that may wrap (``Column.wrap``) wrap inside their cell;
every other column keeps its full width. When the row does not fit, a column marked
``Column.own_line`` (an event's detail) moves to a line of its own under each row, then
columns with a ``Column.drop`` rank are left out, lowest rank first. If even that is too
wide, the lines are printed whole and the terminal wraps them.
"""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from pmctl.cli.output import Column

GAP = 2
WRAP_MIN = 20
OWN_LINE_MIN = 48
_CONTROL = re.compile(r"[\r\n\t\f\v]")


@dataclass(frozen=True)
class Layout:
    """Which columns a row shows on its line (by index, in order), and the one shown under it, if any."""

    inline: tuple[int, ...]
    below: int | None


def fit(columns: list["Column"], natural: list[int], width: int) -> Layout:
    """The layout that leaves out the fewest columns; for as many left out, one with every column on the row."""
    droppable = sorted((i for i, column in enumerate(columns) if column.drop is not None),
                       key=lambda i: columns[i].drop)
    own_line = [None] + [i for i, column in enumerate(columns) if column.own_line]
    for dropped in range(len(droppable) + 1):
        left_out = set(droppable[:dropped])
        for below in own_line:
            inline = tuple(i for i in range(len(columns)) if i not in left_out and i != below)
            if row_width(columns, natural, inline) <= width:
                return Layout(inline, below)
    return Layout(tuple(i for i in range(len(columns)) if i not in droppable), own_line[-1])


def row_width(columns: list["Column"], natural: list[int], inline: tuple[int, ...]) -> int:
    """Columns that wrap count at their narrowest readable width, the others at their full width. A column that
    may have a line of its own stays on the row only with room for a sentence."""
    widths = [min(natural[i], narrowest(columns[i])) if columns[i].wrap else natural[i] for i in inline]
    return sum(widths) + GAP * max(0, len(widths) - 1)


def narrowest(column: "Column") -> int:
    return OWN_LINE_MIN if column.own_line else WRAP_MIN


def print_fitted(console: "Console", columns: list["Column"], cells: list[list[tuple[str, str]]],
                 title: str | None, summary: str | None) -> None:
    """``cells`` holds each row's (text, style) per column. Nothing is cropped: a line wider than the
    terminal is left for the terminal to wrap."""
    from rich.cells import cell_len
    from rich.text import Text

    cells = [[(_one_line(text) if not column.wrap else text, style) for column, (text, style) in zip(columns, row)]
             for row in cells]
    natural = [max([cell_len(column.header)] + [_widest_line(row[i][0]) for row in cells])
               for i, column in enumerate(columns)]
    layout = fit(columns, natural, console.width)
    widths = _widths(columns, natural, layout.inline, console.width)

    def emit(text: Text) -> None:
        console.print(text, crop=False, soft_wrap=True, highlight=False)

    if title:
        emit(Text(title))
    emit(_line([(columns[i].header, "bold") for i in layout.inline], [columns[i] for i in layout.inline], widths))
    emit(Text((" " * GAP).join("─" * width for width in widths)))
    indent = min(widths[0] + GAP if len(widths) > 1 else 0, max(0, console.width - WRAP_MIN))
    for row in cells:
        for line in _row_lines(console, [row[i] for i in layout.inline], [columns[i] for i in layout.inline],
                               widths):
            emit(line)
        if layout.below is not None and row[layout.below][0].strip():
            text, style = row[layout.below]
            for piece in Text(text, style=style).wrap(console, max(1, console.width - indent), overflow="fold"):
                piece.rstrip()
                emit(Text(" " * indent) + piece)
    if summary:
        emit(Text(summary))


def _widths(columns, natural, inline, width) -> list[int]:
    """Wrapping columns share whatever the others leave, up to their natural width."""
    fixed = [natural[i] for i in inline if not columns[i].wrap]
    wrapping = [i for i in inline if columns[i].wrap]
    spare = width - sum(fixed) - GAP * max(0, len(inline) - 1)
    share = {}
    for position, i in enumerate(sorted(wrapping, key=lambda i: natural[i])):
        fair = spare // (len(wrapping) - position)
        share[i] = max(min(natural[i], narrowest(columns[i])), min(natural[i], fair))
        spare -= share[i]
    return [share.get(i, natural[i]) for i in inline]


def _row_lines(console, row, columns, widths) -> list:
    from rich.text import Text

    pieces = [Text(text, style=style).wrap(console, width, overflow="fold") if column.wrap
              else [Text(text, style=style)] for (text, style), column, width in zip(row, columns, widths)]
    height = max(len(piece) for piece in pieces)
    return [_line_of([piece[n] if n < len(piece) else Text("") for piece in pieces], columns, widths)
            for n in range(height)]


def _line(cells, columns, widths):
    from rich.text import Text

    return _line_of([Text(text, style=style) for text, style in cells], columns, widths)


def _line_of(texts, columns, widths):
    """Cells padded to their column's width; the last is not padded, so no line ends in blanks."""
    from rich.text import Text

    line = Text()
    for n, (text, column, width) in enumerate(zip(texts, columns, widths)):
        text = text.copy()
        text.rstrip()
        padding = " " * max(0, width - text.cell_len)
        last = n == len(texts) - 1
        if column.kind in ("number", "money"):
            line += Text(padding) + text
        else:
            line += text if last else text + Text(padding)
        if not last:
            line += Text(" " * GAP)
    line.rstrip()
    return line


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _widest_line(text: str) -> int:
    from rich.cells import cell_len

    return max(cell_len(line) for line in text.split("\n")) if text else 0
