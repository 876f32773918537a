"""The ``pmctl`` application: global options and the list of commands."""

from pathlib import Path

import typer

from pmctl import __version__
from pmctl.cli import demo, edit, history, logs, migrate, plans, positions, reconcile, status
from pmctl.cli.environment import Environment
from pmctl.cli.group import PmctlGroup
from pmctl.cli.sim import sim_app
from pmctl.errors import UsageError, typed
from pmctl.config import operator_problem

app = typer.Typer(
    cls=PmctlGroup,
    help="pmctl: the position manager. Exit codes: 0 ok, 1 failure, 2 usage/config, 3 pending (dry-run), 75 locked.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pmctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read settings from this file instead of ./.env (the environment still wins)."
    ),
    operator: str | None = typer.Option(
        None, "--operator", envvar="PMCTL_OPERATOR",
        help="Who is running this, recorded with every event (default: the login name).",
    ),
    log_format: str = typer.Option("text", "--log-format", help="Logs on stderr: text, or json (one object per line)."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log detail (-v: every action)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Log errors only."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format {typed(log_format)}: choose text or json")
    if operator is not None and operator_problem(operator):
        raise UsageError(f"--operator (or PMCTL_OPERATOR) {typed(operator)} {operator_problem(operator)}")
    logs.configure(log_format, -1 if quiet else verbose)
    ctx.obj = Environment(env_file=env_file, cli_operator=operator)


app.command("sync")(positions.sync)
app.command("check")(positions.check)
app.command("status")(status.status)
app.command("close")(positions.close)
app.command("edit")(edit.edit)
app.command("track")(plans.track)
app.command("plan")(plans.plan)
app.command("events")(history.events)
app.command("report")(history.report)
app.command("reconcile")(reconcile.reconcile)
app.command("cleanup-phantoms")(reconcile.cleanup_phantoms)
app.command("migrate")(migrate.migrate)
app.command("demo")(demo.demo)
app.add_typer(sim_app, name="sim", help="The Alpaca-compatible paper emulator.")


def main() -> None:
    app(prog_name="pmctl")
