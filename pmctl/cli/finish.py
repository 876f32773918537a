"""What every acting command does after a run: log it, alert on it, and (for cron) write metrics."""

import time
from pathlib import Path

from pmctl.cli.environment import Environment


def finish(env: Environment, results: list, dry_run: bool, metrics_file: Path | None = None) -> None:
    from pmctl.cli.render import describe
    from pmctl.shell import journal

    journal.record(results, describe)
    if dry_run:
        return
    from pmctl.core.notices import from_results
    from pmctl.shell import alerting
    from pmctl.shell.run import actor

    alerting.send(env.settings, env.database_url, from_results(results), actor(env.operator))
    if metrics_file is not None:
        from pmctl.shell import metrics

        metrics.write(metrics_file, results, time.time())


def failed(env: Environment, account: str | None, error: Exception, dry_run: bool) -> None:
    """A run that ended before it had results (the broker or database unreachable) is still alerted on."""
    if dry_run:
        return
    from pmctl.alerts.model import Notice
    from pmctl.shell import alerting
    from pmctl.shell.run import actor

    notices = [Notice("cycle_failed", a.name, "error", str(error)) for a in env.settings.selected(account)]
    alerting.send(env.settings, env.database_url, notices, actor(env.operator))
