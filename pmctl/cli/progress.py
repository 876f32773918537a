"""A spinner on stderr while a command waits on the broker: for a person at a terminal, never for cron."""

import sys
from contextlib import contextmanager


@contextmanager
def working(message: str, enabled: bool = True):
    from pmctl.cli import logs

    if not enabled or not sys.stderr.isatty() or logs.is_json():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
