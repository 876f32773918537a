"""Where a row id is, for the commands that take one (``close``, ``edit``, ``cleanup-phantoms --ids``): an id
that is not in the account's open book is told apart as unknown, another account's, or no longer open."""

from pmctl.config import Settings
from pmctl.shell.database import reading
from pmctl.store import positions


def owners(settings: Settings, database_url: str, row_ids: set[int]) -> dict[int, tuple[str | None, str] | None]:
    """Each id's account and status, or None for an id no row has."""
    with reading(settings, database_url) as conn:
        return {row_id: positions.row_account(conn, row_id) for row_id in sorted(row_ids)}
