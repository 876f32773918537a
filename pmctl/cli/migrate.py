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
    from pmctl.shell import migrations

    env = environment(ctx)
    env.settings
    if status or dry_run:
        schema = migrations.read(env.database_url)
        if status:
            _print_status(schema)
            return
        if schema.ledger.at_old_name:
            typer.echo(f"would rename pmctl's ledger {migrations.OLD_LEDGER} to {migrations.LEDGER}")
        for migration in schema.pending:
            typer.echo(f"would apply {migration.version}_{migration.name}")
        typer.echo(f"{len(schema.pending)} pending migration(s)" if schema.pending
                   else "schema is current: nothing to apply")
        exit_with(ExitCode.PENDING if schema.pending or schema.ledger.at_old_name else ExitCode.OK)
    before, done = migrations.migrate(env.database_url)
    if before.ledger.at_old_name:
        typer.echo(f"renamed pmctl's ledger {migrations.OLD_LEDGER} to {migrations.LEDGER}")
    for migration, notices in done:
        for notice in notices:
            typer.echo(f"  {notice}")
        typer.echo(f"applied {migration.version}_{migration.name}")
    typer.echo(f"{len(done)} migration(s) applied" if done else "schema is current: nothing to apply")


def _print_status(schema) -> None:
    from pmctl.shell.migrations import LEDGER, OLD_LEDGER

    done = schema.ledger.applied
    if schema.ledger.at_old_name:
        typer.echo(f"ledger: {OLD_LEDGER} (the next pmctl migrate, or a command that writes, renames it {LEDGER})")
    for migration in schema.available:
        record = done.get(migration.version)
        if record is None:
            state = "pending"
        elif not migration.recorded_as(record.checksum):
            state = f"applied {record.applied_at:%Y-%m-%d %H:%M:%S} UTC (file changed since)"
        else:
            state = f"applied {record.applied_at:%Y-%m-%d %H:%M:%S} UTC"
        typer.echo(f"{migration.version}_{migration.name}: {state}")
    unknown = sorted(set(done) - {m.version for m in schema.available})
    for version in unknown:
        typer.echo(f"{version}_{done[version].name}: applied, but not shipped with this pmctl (newer version?)")
