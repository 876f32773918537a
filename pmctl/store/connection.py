"""Connections to PostgreSQL, always in UTC and never with a password in a message."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pmctl.errors import DatabaseError

CONNECT_TIMEOUT_SECONDS = 10


def conninfo(url: str) -> str:
    """The URL with UTC as the session time zone, so legacy TIMESTAMP columns read and write as UTC."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise DatabaseError("PMCTL_DATABASE_URL is not a valid PostgreSQL URL") from None
    options = " ".join(filter(None, [params.get("options"), "-c TimeZone=UTC"]))
    return make_conninfo(
        url,
        options=options,
        connect_timeout=params.get("connect_timeout", CONNECT_TIMEOUT_SECONDS),
        application_name=params.get("application_name", "pmctl"),
    )


def describe(url: str) -> str:
    """Where a URL points, for messages: user, host and database, never the password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an invalid database URL"
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"database {params.get('dbname', '?')!r} on {host}{port}"


def connect(url: str, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(conninfo(url), **kwargs)
    except psycopg.OperationalError as error:
        raise DatabaseError(f"cannot connect to {describe(url)}: {first_line(error)}") from None


@contextmanager
def connection(url: str, **kwargs) -> Iterator[psycopg.Connection]:
    conn = connect(url, **kwargs)
    try:
        with conn:
            yield conn
    except psycopg.OperationalError as error:
        raise DatabaseError(f"lost the connection to {describe(url)}: {first_line(error)}") from None


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[-1].strip() if text else type(error).__name__
