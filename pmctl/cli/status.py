"""``pmctl status``: the open book, each row beside what the broker holds, once or redrawn in place."""

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import ACCOUNT, announce_live
from pmctl.errors import UsageError
from pmctl.exit_codes import ExitCode


def status(
    ctx: typer.Context,
    seconds: float = typer.Argument(5.0, metavar="[SECONDS]", min=0.2, max=3600,
                                    help="With --watch: refresh every SECONDS (default 5)."),
    account: str | None = ACCOUNT,
    output: str | None = typer.Option(None, "--format", "-f", help="table (colour on a terminal; the default), "
                                                                   "json, plain, markdown or csv."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    offline: bool = typer.Option(False, "--offline", help="Show the database alone; do not ask the broker."),
    watch: bool = typer.Option(False, "--watch", help="Refresh in place until Ctrl-C (pmctl status --watch 10)."),
) -> None:
    """The open positions: database rows beside what the broker holds."""
    from pmctl.cli import values
    from pmctl.cli.output import FORMATS

    if as_json and output not in (None, "json"):
        raise UsageError(f"conflicting options: --json and --format {output}")
    fmt = "json" if as_json else output or "table"
    if fmt not in FORMATS:
        raise UsageError(f"--format {values.typed(fmt)}: choose one of {', '.join(FORMATS)}")
    env = environment(ctx)
    announce_live(env.settings, account)
    if watch:
        try:
            _watch(env, account, offline, fmt, seconds)
        except KeyboardInterrupt:
            return
        return
    errors = _show(env, account, offline, fmt, console=None)
    for name, message in errors.items():
        typer.echo(f"pmctl: error: [{name}] {message}", err=True)
    exit_with(ExitCode.FAILURE if errors else ExitCode.OK)


def _show(env, account, offline, fmt, console) -> dict[str, str]:
    from pmctl.cli import listing, output
    from pmctl.shell.book import read_book

    book = read_book(env.settings, env.database_url, env.operator, account, offline)
    rows = listing.status_rows(book.lines)
    columns = listing.columns_for(fmt, listing.STATUS_TABLE, listing.STATUS_ALL)
    output.render(columns, rows, fmt, console=console, title="open positions",
                  summary=listing.status_summary(rows, book.errors), json_key="positions",
                  extra={"errors": book.errors})
    return book.errors


def _watch(env, account, offline, fmt, seconds) -> None:
    """On a terminal the table is redrawn in place; elsewhere each refresh is printed after the last."""
    import io
    import time

    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    screen = Console()
    if not screen.is_terminal:
        while True:
            _show(env, account, offline, fmt, console=None)
            time.sleep(seconds)
    with Live(console=screen, auto_refresh=False, transient=False) as live:
        while True:
            frame = Console(file=io.StringIO(), force_terminal=True, color_system=screen.color_system,
                            width=screen.width)
            errors = _show(env, account, offline, fmt, console=frame)
            stamp = time.strftime("%H:%M:%S")
            notes = "".join(f"\nerror [{name}]: {message}" for name, message in errors.items())
            live.update(Text.from_ansi(frame.file.getvalue() + f"refreshed {stamp}, every {seconds:g} s; "
                                       f"Ctrl-C to stop{notes}"), refresh=True)
            time.sleep(seconds)
