"""What every acting command does after a run: log it, alert on it, and (for cron) write metrics."""

import time
from pathlib import Path

from pmctl.cli.environment import Environment


def finish(env: Environment, results: list, dry_run: bool, metrics_file: Path | None = None) -> None:
    from pmctl.cli.render import outcome_line
    from pmctl.shell import journal

    journal.record(results, outcome_line)
    if dry_run:
        return
    from pmctl.core.notices import from_results
    from pmctl.shell import alerting
    from pmctl.shell.run import actor

    alerting.send(env.settings, env.database_url, from_results(results), actor(env.operator))
    if metrics_file is not None:
        from pmctl.shell import metrics

        metrics.write(metrics_file, results, time.time())


def failed(env: Environment, account: str | None, error: Exception, dry_run: bool,
           metrics_file: Path | None = None) -> None:
    """A run that ended before it had results (the database unreachable): every selected account failed.

    The metrics say so first (``pmctl_cycle_success`` 0 for each), since alerting needs the database too.
    """
    if dry_run:
        return
    from pmctl.alerts.model import Notice
    from pmctl.shell import alerting
    from pmctl.shell.run import AccountResult, actor

    selected = env.settings.selected(account)
    if metrics_file is not None:
        from pmctl.shell import metrics

        metrics.write(metrics_file, [AccountResult(a.name, error=error) for a in selected], time.time())
    notices = [Notice("cycle_failed", a.name, "error", str(error)) for a in selected]
    alerting.send(env.settings, env.database_url, notices, actor(env.operator))
