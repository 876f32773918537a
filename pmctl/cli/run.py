"""``pmctl run``: the long-running watcher, driven from the command line (``pmctl.shell.watch``)."""

from pathlib import Path

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.cli.positions import announce_live


def run(
    ctx: typer.Context,
    accounts: list[str] | None = typer.Option(
        None, "--account", "-a", metavar="NAME", help="Watch this account (repeat for several; default: every configured account)."),
    metrics_file: Path | None = typer.Option(
        None, "--metrics-file", help="Rewrite Prometheus text-format metrics here on every beat (node_exporter's "
                                     "textfile collector), with the age of each account's last cycle."),
    resync: float = typer.Option(
        60.0, "--resync", min=5, max=3600, metavar="SECONDS",
        help="Read the broker in full this often besides after every reconnect (default 60: cron's cadence)."),
    stale: float = typer.Option(
        60.0, "--stale", min=1, max=3600, metavar="SECONDS",
        help="A data stream silent this long while the market is open is reconnected (default 60)."),
) -> None:
    """Watch the book until stopped: act on every quote and trade update as it arrives.

    Holds each account's lock while it runs (cron's check then exits 75 for it); a second pmctl run waits as a hot
    standby and takes over when the first ends. SIGTERM finishes the cycle in flight, lets go and exits 0.
    """
    from pmctl.shell.watch import WatchRequest, watch
    from pmctl.shell.watcher import Tuning

    env = environment(ctx)
    names = tuple(dict.fromkeys(accounts or ()))
    for name in names:
        env.settings.account(name)
    for name in names or (None,):
        announce_live(env.settings, name)
    exit_with(watch(env.settings, env.database_url, env.operator,
                    WatchRequest(names, metrics_file, Tuning(resync_seconds=resync, stale_seconds=stale))))
