"""The exit codes every pmctl command ends with; cron and scripts branch on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    PENDING = 3
    LOCKED = 75
