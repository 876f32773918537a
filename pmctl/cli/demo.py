"""``pmctl demo``: the main job on embedded defaults, walked through the incident of seeds 02-05."""

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.exit_codes import ExitCode


def demo(ctx: typer.Context) -> None:
    """Replay the bad day on an embedded database and the emulator: reconcile, check, status. Leaves nothing running."""
    from pmctl.demo.walkthrough import run_demo

    ok = run_demo(environment(ctx).settings.home, typer.echo)
    typer.echo("\ndemo finished: every step ended as expected" if ok else "\ndemo FAILED: a step ended unexpectedly")
    exit_with(ExitCode.OK if ok else ExitCode.FAILURE)
