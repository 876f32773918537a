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
            if type(error).__module__.startswith("psycopg"):
                fail(_database_error(error))
            raise


def fail(error: PmctlError) -> None:
    typer.echo(f"pmctl: error: {error}", err=True)
    raise typer.Exit(int(error.exit_code))


def exit_with(code: ExitCode) -> None:
    raise typer.Exit(int(code))


def _database_error(error: Exception) -> DatabaseError:
    """Any PostgreSQL failure mid-command: the connection dropped, a permission, a serialization failure."""
    import psycopg

    diagnostic = getattr(error, "diag", None)
    detail = (diagnostic.message_primary if diagnostic is not None else None) or _first_line(error)
    if isinstance(error, psycopg.OperationalError):
        return DatabaseError(f"database connection failed: {detail}")
    return DatabaseError(f"the database refused a statement ({type(error).__name__}): {detail}")


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
