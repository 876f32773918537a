"""Is anything watching the book? When each account was last cycled, by whom, and the watcher's beat.

Cron's ``pmctl check`` and ``pmctl run`` each stamp an account when a cycle of theirs ran to its end
(``check@host``, ``run@host``); the ``pmctl run`` that holds an account also beats every few seconds. A desk whose
cron stopped, or whose watcher died with no standby, sees the age grow in ``pmctl status`` and in the metrics
long before a stop is missed.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Heartbeat:
    """Ages in seconds by the database's clock (the one every machine shares); None: never recorded."""

    account: str
    cycle_age: float | None = None
    cycle_by: str | None = None
    beat_age: float | None = None
    watcher: str | None = None

    def line(self) -> str:
        """``account a: last cycle 12 s ago by run@desk-1; watcher run@desk-1 beat 2 s ago``."""
        if self.cycle_age is None:
            text = f"account {self.account}: no cycle recorded yet"
        else:
            text = f"account {self.account}: last cycle {_seconds(self.cycle_age)} ago by {self.cycle_by or 'an earlier pmctl'}"
        if self.watcher is not None and self.beat_age is not None:
            text += f"; watcher {self.watcher} beat {_seconds(self.beat_age)} ago"
        return text

    def stale(self, bound: float) -> bool:
        """A recorded cycle older than ``bound``; an account never cycled has nothing to grow old yet."""
        return self.cycle_age is not None and self.cycle_age > bound

    def warning(self, bound: float) -> str | None:
        if not self.stale(bound):
            return None
        return (f"last cycle {_seconds(self.cycle_age)} ago by {self.cycle_by or 'an earlier pmctl'}, older than "
                f"{_seconds(bound)}: is cron's pmctl check or pmctl run running?")


def _seconds(value: float) -> str:
    return f"{max(value, 0):.0f} s"
