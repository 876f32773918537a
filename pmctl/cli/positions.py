"""``sync``, ``check``, ``close`` and ``status``: one core, driven from the command line."""

import sys
from decimal import Decimal
from pathlib import Path

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.errors import UsageError
from pmctl.exit_codes import ExitCode

#: The longest a symbol can be: an OCC contract, a root of up to six letters and fifteen characters.
SYMBOL_MAX = 21
ACCOUNT = typer.Option(None, "--account", "-a", help="Only this account (default: every configured account).")
DRY_RUN = typer.Option(False, "--dry-run", help="Print the plan; change nothing, send nothing. Exit 3 if it would act.")
WAIT = typer.Option(0.0, "--wait", min=0, max=3600, metavar="SECONDS",
                    help="Wait this long for another run's lock on an account (default: give up after a second, exit 75).")


def announce_live(settings, account: str | None) -> None:
    """Live trading is never quiet: the first line of every command says so."""
    live = [a.name for a in settings.selected(account) if not a.paper]
    if live:
        typer.echo(f"LIVE trading (not paper): account(s) {', '.join(live)}", err=True)


def sync(ctx: typer.Context, account: str | None = ACCOUNT, dry_run: bool = DRY_RUN, wait: float = WAIT) -> None:
    """Adopt broker positions that have no row; make rows follow the broker's quantities."""
    from pmctl.core.plan import Plan
    from pmctl.core.sync import plan_sync

    _run(ctx, account, dry_run, lambda snapshot: Plan(snapshot.account, tuple(plan_sync(snapshot))), wait)


def check(
    ctx: typer.Context,
    account: str | None = ACCOUNT,
    dry_run: bool = DRY_RUN,
    wait: float = WAIT,
    once_per: float = typer.Option(
        0.0, "--once-per", min=0, max=86400, metavar="SECONDS",
        help="Skip an account any pmctl run cycled less than SECONDS ago: several machines, one cron line.",
    ),
    metrics_file: Path | None = typer.Option(
        None, "--metrics-file", help="Write Prometheus text-format metrics here (node_exporter's textfile collector)."
    ),
) -> None:
    """One monitoring cycle: sync, refresh prices, apply the exit rules, settle closes. The cron job."""
    from pmctl.core.check import plan_check

    _run(ctx, account, dry_run, plan_check, wait, once_per=once_per, metrics_file=metrics_file)


def close(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Row id or symbol (the OCC contract for an option)."),
    account: str | None = ACCOUNT,
    qty: str | None = typer.Option(None, "--qty", help="Close only this many shares or contracts."),
    reason: str | None = typer.Option(None, "--reason", help="Recorded as the close reason (default forced_close)."),
    dry_run: bool = DRY_RUN,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    wait: float = WAIT,
) -> None:
    """Close one position now, through the same plan and safety checks as the exit rules."""
    from pmctl.core.manual import QuantityRefused, find_row, plan_forced_close

    if len(target.strip()) > SYMBOL_MAX:
        from pmctl.cli import values

        raise UsageError(f"{values.typed(target)} is neither a row id nor a symbol (at most {SYMBOL_MAX} characters)")
    quantity = _quantity(qty)
    if reason is not None and not (0 < len(reason.strip()) <= 50):
        raise UsageError("--reason must be 1 to 50 characters")
    env = environment(ctx)
    settings = env.settings
    if account is None and len(settings.selected(None)) > 1:
        raise UsageError("more than one account is configured: name one with --account")
    chosen = settings.selected(account)[0]

    def decide(snapshot):
        row = find_row(snapshot.rows, target)
        if row is None:
            raise UsageError(_no_row(env, target, chosen.name))
        plan = plan_forced_close(snapshot, row, quantity, reason.strip() if reason else None)
        if not dry_run and not yes:
            _confirm(plan)
        return plan

    try:
        _run(ctx, chosen.name, dry_run, decide, wait, failure_when_deferred=not dry_run, spinner=dry_run or yes)
    except QuantityRefused as refused:
        raise UsageError(f"--qty {refused.detail}") from None


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
    errors = _show_status(env, account, offline, fmt, console=None)
    for name, message in errors.items():
        typer.echo(f"pmctl: error: [{name}] {message}", err=True)
    exit_with(ExitCode.FAILURE if errors else ExitCode.OK)


def _show_status(env, account, offline, fmt, console) -> dict[str, str]:
    from pmctl.cli import listing, output

    lines, errors = _status_lines(env, account, offline)
    rows = listing.status_rows(lines)
    columns = listing.columns_for(fmt, listing.STATUS_TABLE, listing.STATUS_ALL)
    output.render(columns, rows, fmt, console=console, title="open positions",
                  summary=listing.status_summary(rows, errors), json_key="positions", extra={"errors": errors})
    return errors


def _status_lines(env, account, offline):
    """An account the broker could not be asked for still shows its rows: the database's view, marked unconfirmed,
    never an empty book that reads as flat."""
    from dataclasses import replace

    from pmctl.core import status as book
    from pmctl.shell.journal import error_text

    if offline:
        return _offline(env, [a.name for a in env.settings.selected(account)]), {}
    from pmctl.core.plan import Plan
    from pmctl.shell.run import run

    results = run(env.settings, env.database_url, account, lambda s: Plan(s.account), True, env.operator)
    lines = [line for r in results if r.snapshot is not None for line in book.lines(r.snapshot)]
    unseen = {r.account: r.error for r in results if r.snapshot is None and r.error is not None}
    if unseen:
        lines += [replace(line, broker=f"UNKNOWN: {_unconfirmed(unseen[line.row.account_name])}")
                  for line in _offline(env, list(unseen))]
    return lines, {r.account: error_text(r.error) for r in results if r.error is not None}


def _unconfirmed(error) -> str:
    from pmctl.broker.errors import BrokerUnavailable, Unauthorized
    from pmctl.errors import AccountRefused

    if isinstance(error, Unauthorized):
        return "keys refused"
    if isinstance(error, BrokerUnavailable):
        return "broker unreachable"
    if isinstance(error, AccountRefused):
        return "account refused"
    return "broker failed"


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
            _show_status(env, account, offline, fmt, console=None)
            time.sleep(seconds)
    with Live(console=screen, auto_refresh=False, transient=False) as live:
        while True:
            frame = Console(file=io.StringIO(), force_terminal=True, color_system=screen.color_system,
                            width=screen.width)
            errors = _show_status(env, account, offline, fmt, console=frame)
            stamp = time.strftime("%H:%M:%S")
            notes = "".join(f"\nerror [{name}]: {message}" for name, message in errors.items())
            live.update(Text.from_ansi(frame.file.getvalue() + f"refreshed {stamp}, every {seconds:g} s; "
                                       f"Ctrl-C to stop{notes}"), refresh=True)
            time.sleep(seconds)


def _offline(env, names: list[str]):
    from datetime import datetime, timezone

    from pmctl.core import status as book
    from pmctl.store import positions as store

    with env.database() as conn:
        rows = tuple(row for name in names for row in store.live_rows(conn, name))
    return book.offline_lines(rows, datetime.now(timezone.utc), env.settings.rules)


def _run(ctx, account, dry_run, decide, wait, failure_when_deferred=False, once_per: float = 0,
         metrics_file: Path | None = None, spinner: bool = True) -> None:
    """``spinner`` is off while a command may ask the operator a question."""
    from pmctl.cli import render
    from pmctl.cli.finish import failed, finish
    from pmctl.cli.progress import working
    from pmctl.core.plan import Defer
    from pmctl.errors import DatabaseError
    from pmctl.shell.run import exit_code, run

    env = environment(ctx)
    announce_live(env.settings, account)
    try:
        with working(_progress_message(env.settings, account), enabled=spinner):
            results = run(env.settings, env.database_url, account, decide, dry_run, env.operator, wait=wait,
                          once_per=once_per)
    except DatabaseError as error:
        failed(env, account, error, dry_run, metrics_file)
        raise
    render.print_results(results, dry_run)
    finish(env, results, dry_run, metrics_file)
    code = exit_code(results, dry_run)
    deferred = any(isinstance(o.action, Defer) for r in results for o in r.outcomes)
    if failure_when_deferred and deferred and code == ExitCode.OK:
        code = ExitCode.FAILURE
    exit_with(code)


def _progress_message(settings, account: str | None) -> str:
    names = [a.name for a in settings.selected(account)]
    return f"asking the broker and the database for {', '.join(names)} …"


def _quantity(text: str | None) -> Decimal | None:
    from pmctl.cli import values

    if text is None:
        return None
    value = values.amount("--qty", text)
    if value <= 0:
        raise UsageError(f"--qty {values.typed(text)} must be a positive number")
    return value


def _no_row(env, target: str, account: str) -> str:
    from pmctl.core.manual import ROW_ID

    if not ROW_ID.fullmatch(target):
        return f"no open row for {target.upper()} in account {account!r}"
    from pmctl.store import positions as store
    from pmctl.store.connection import connection

    with connection(env.database_url, autocommit=True) as conn:
        found = store.row_account(conn, int(target))
    if found is None:
        return f"no row {target}"
    owner, state = found
    if owner != account:
        return f"row {target} belongs to another account, not {account!r}"
    return f"row {target} is {state}, not open"


def _confirm(plan) -> None:
    from pmctl.cli.render import describe
    from pmctl.core.plan import Close

    closes = plan.of(Close)
    if not closes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to close without confirmation: pass --yes (stdin is not a terminal)")
    if not typer.confirm(f"{describe(closes[0])}\nSend this order?"):
        raise UsageError("not confirmed: nothing was sent")
