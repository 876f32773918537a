"""The one place where errors become exit codes and one line on stderr."""

import logging
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from pmctl.errors import PmctlError
from pmctl.exit_codes import ExitCode


class PmctlGroup(TyperGroup):
    """Runs every command, translating foreseeable failures into the documented exit codes."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Usage errors as one line too: Typer's own report spans four, with a usage banner."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            typer.echo("pmctl: aborted; nothing more was done", err=True)
            sys.exit(int(ExitCode.FAILURE))
        except Exception as error:
            if not _is_usage_error(error):
                raise
            if type(error).__name__ == "NoArgsIsHelpError":
                typer.echo(error.format_message())
                sys.exit(int(ExitCode.OK))
            typer.echo(f"pmctl: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        sys.exit(code if isinstance(code, int) else int(ExitCode.OK))

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PmctlError as error:
            fail(error)
        except OSError as error:
            fail(PmctlError(_os_error(error)))
        except Exception as error:
            if type(error).__module__.startswith("psycopg"):
                from pmctl.shell.database import statement_refused

                fail(statement_refused(error))
            raise


def _is_usage_error(error: Exception) -> bool:
    """Typer's vendored click exceptions, told apart by their interface rather than a private import."""
    return hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)


def fail(error: PmctlError) -> None:
    from pmctl.cli import logs

    if logs.is_json():
        logging.getLogger(logs.LOGGER).error(str(error), extra={"event": type(error).__name__})
    else:
        typer.echo(f"pmctl: error: {error}", err=True)
    raise typer.Exit(int(error.exit_code))


def exit_with(code: ExitCode) -> None:
    raise typer.Exit(int(code))


def _os_error(error: OSError) -> str:
    """A file pmctl was pointed at and cannot use (a metrics file where a file is in the way, a name too long):
    the path in full, unless it is longer than any path could be."""
    from pmctl.errors import typed

    name = str(error.filename or "")
    where = f": {name!r}" if 0 < len(name) <= 255 else f": {typed(name)}" if name else ""
    return f"{error.strerror or type(error).__name__}{where}"
