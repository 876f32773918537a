"""Commands whose issue has not landed yet: each says so and changes nothing."""

import typer

from pmctl.errors import PmctlError

_ARRIVES = {
    "reconcile": 5,
    "cleanup-phantoms": 5,
}


class NotAvailable(PmctlError):
    """The command exists in the interface but not yet in this version."""


def register(app: typer.Typer) -> None:
    for name, issue in _ARRIVES.items():
        app.command(
            name,
            help=f"Not available yet in this version (issue #{issue}).",
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )(_not_available(name, issue))


def _not_available(name: str, issue: int):
    def command(ctx: typer.Context) -> None:
        raise NotAvailable(f"pmctl {name} is not available in this version yet (issue #{issue}); nothing was done")

    command.__name__ = name.replace("-", "_")
    return command
