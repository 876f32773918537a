"""The one place where errors become exit codes and one line on stderr."""

from typing import Any

import typer
from typer.core import TyperGroup

from pmctl.errors import DatabaseError, PmctlError
from pmctl.exit_codes import ExitCode


class PmctlGroup(TyperGroup):
    """Runs every command, translating foreseeable failures into the documented exit codes."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PmctlError as error:
            fail(error)
        except Exception as error:
            if type(error).__module__.startswith("psycopg") and type(error).__name__ == "OperationalError":
                fail(DatabaseError(f"database connection failed: {_last_line(error)}"))
            raise


def fail(error: PmctlError) -> None:
    typer.echo(f"pmctl: error: {error}", err=True)
    raise typer.Exit(int(error.exit_code))


def exit_with(code: ExitCode) -> None:
    raise typer.Exit(int(code))


def _last_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
