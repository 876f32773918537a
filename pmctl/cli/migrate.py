"""``pmctl migrate``: bring the database to the current schema, or say what that would take."""

import typer

from pmctl.cli.environment import environment
from pmctl.cli.group import exit_with
from pmctl.exit_codes import ExitCode


def migrate(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="List the migrations that would run; change nothing."),
    status: bool = typer.Option(False, "--status", help="Show applied and pending migrations."),
) -> None:
    """Apply pending schema migrations, each in its own transaction."""
    from pmctl.store import schema
    from pmctl.store.connection import connection

    env = environment(ctx)
    env.settings
    available = schema.available()
    with connection(env.database_url, autocommit=True) as conn:
        done = schema.applied(conn)
        todo = schema.pending(available, done)
        if status:
            _print_status(available, done)
            return
        if dry_run:
            for migration in todo:
                typer.echo(f"would apply {migration.version}_{migration.name}")
            typer.echo(f"{len(todo)} pending migration(s)" if todo else "schema is current: nothing to apply")
            exit_with(ExitCode.PENDING if todo else ExitCode.OK)
        done = schema.migrate(conn, available)
    for migration, notices in done:
        for notice in notices:
            typer.echo(f"  {notice}")
        typer.echo(f"applied {migration.version}_{migration.name}")
    typer.echo(f"{len(done)} migration(s) applied" if done else "schema is current: nothing to apply")


def _print_status(available, done) -> None:
    for migration in available:
        record = done.get(migration.version)
        if record is None:
            state = "pending"
        elif record.checksum != migration.checksum:
            state = f"applied {record.applied_at:%Y-%m-%d %H:%M:%S} UTC (file changed since)"
        else:
            state = f"applied {record.applied_at:%Y-%m-%d %H:%M:%S} UTC"
        typer.echo(f"{migration.version}_{migration.name}: {state}")
    unknown = sorted(set(done) - {m.version for m in available})
    for version in unknown:
        typer.echo(f"{version}_{done[version].name}: applied, but not shipped with this pmctl (newer version?)")
