"""`pmctl sim ...`: run the emulator in the foreground for demos and incident rehearsals."""

import typer

sim_app = typer.Typer(no_args_is_help=True)


@sim_app.callback()
def sim() -> None:
    """Alpaca-compatible paper trading emulator (a group, so `serve` stays a subcommand)."""


@sim_app.command()
def serve(
    scenario: str = typer.Option(..., "--scenario", help="Scenario JSON file or built-in name."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to listen on (0 = any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
) -> None:
    """Serve a scenario until Ctrl-C; point alpaca-py at the printed URL with url_override."""
    import threading

    from pmctl.sim.scenario import ScenarioError, load_scenario
    from pmctl.sim.server import SimServer

    try:
        state = load_scenario(scenario)
    except ScenarioError as e:
        typer.echo(f"scenario error: {e}", err=True)
        raise typer.Exit(2) from None
    try:
        server = SimServer(state, host=host, port=port, quiet=False)
    except OSError as e:
        typer.echo(f"cannot listen on {host}:{port}: {e.strerror}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"pmctl sim listening on {server.url}", err=True)
    for account in state.accounts.values():
        typer.echo(f"  account {account.name}: {account.account_number} "
                   f"(key {account.api_key})", err=True)
    typer.echo(f"control API: {server.url}/_sim/state ; Ctrl-C to stop", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        server.stop()


@sim_app.command("seed-incident")
def seed_incident(ctx: typer.Context) -> None:
    """Load the database of the 2026-02-03 incident (phantoms, duplicates, drift) into an EMPTY database,
    for rehearsing the runbook against `pmctl sim serve --scenario incident`."""
    from pmctl.cli.environment import environment
    from pmctl.demo.seed import seed_rehearsal

    for notice in seed_rehearsal(environment(ctx).database_url):
        typer.echo(f"migrate: {notice}")
    typer.echo("incident rows loaded: the database as the old service left it on 2026-02-03")
