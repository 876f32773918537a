"""Errors pmctl expects and knows how to report.

Who handles them: nothing below the CLI catches a ``PmctlError`` to carry on
quietly; the CLI's command group (``pmctl.cli.group``) turns each one into a
single line on stderr and its ``exit_code``. Anything else escaping a command is
a bug and is allowed to show its traceback.
"""

from pmctl.exit_codes import ExitCode


class PmctlError(Exception):
    """A foreseeable failure with a one-line message meant for the operator."""

    exit_code = ExitCode.FAILURE


class ConfigError(PmctlError):
    """A setting is missing or malformed: nothing has been touched yet."""

    exit_code = ExitCode.USAGE


class UsageError(PmctlError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = ExitCode.USAGE


class DatabaseError(PmctlError):
    """PostgreSQL could not be reached or refused a statement."""


class BrokerError(PmctlError):
    """The broker could not be reached or refused a request."""


class LockHeld(PmctlError):
    """Another pmctl run holds the lock this run needs."""

    exit_code = ExitCode.LOCKED


class AccountRefused(PmctlError):
    """The keys configured for an account belong to a broker account it may not act on."""


SHOWN = 24
"""The longest a value a message quotes may be, quotes included."""


def typed(text: str) -> str:
    """The value as typed, quoted, cut to a readable length after quoting: an escape such as ``\\U000107bb``
    is ten characters for one typed, so cutting the text first could still give a line of hundreds."""
    quoted = repr(text.strip())
    return quoted if len(quoted) <= SHOWN else quoted[:SHOWN - 3] + "…" + quoted[-1]
