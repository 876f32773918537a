"""The embedded PostgreSQL stops when the last pmctl using it ends, however it ends: a SIGTERM or SIGHUP runs the
cleanup, and a pmctl killed outright is forgotten by the next one, so nothing is left running."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow  # each test starts and stops an embedded PostgreSQL of its own


@pytest.fixture
def home(tmp_path) -> Iterator[Path]:
    """An embedded home with the schema in place, nothing running; a server a failing test left is stopped."""
    home = tmp_path / "pm"
    result = run(tmp_path, home, "migrate")
    assert result.returncode == 0, result.stderr
    assert servers(home) == []
    yield home
    for server in servers(home):
        server.terminate()
        server.wait(timeout=30)


def environment(tmp_path: Path, home: Path) -> dict[str, str]:
    """An account that is never asked: these commands stay offline."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PMCTL_HOME": str(home),
            "PMCTL_ACCOUNTS": "a", "PMCTL_A_API_KEY": "PKAAAATEST", "PMCTL_A_SECRET_KEY": "secret-a"}


def run(tmp_path: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pmctl", *args], env=environment(tmp_path, home), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def watch(tmp_path: Path, home: Path) -> subprocess.Popen:
    """``status --watch`` holding the embedded server, once it has joined the server's handles."""
    process = subprocess.Popen([sys.executable, "-m", "pmctl", "status", "--watch", "0.3", "--offline", "--format",
                                "plain"], env=environment(tmp_path, home), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while process.pid not in handles(home):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "status --watch never joined the embedded server"
        time.sleep(0.1)
    assert servers(home)
    return process


def handles(home: Path) -> list[int]:
    path = home / "pgdata" / ".handle_pids.json"
    return json.loads(path.read_text()) if path.exists() else []


def servers(home: Path) -> list[psutil.Process]:
    pgdata = str((home / "pgdata").resolve())
    return [process for process in psutil.process_iter(["cmdline"])
            if process.info["cmdline"] and process.info["cmdline"][0].endswith("postgres")
            and pgdata in process.info["cmdline"]]


def nothing_left_running(home: Path) -> bool:
    deadline = time.monotonic() + 15
    while servers(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    return servers(home) == [] and handles(home) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_terminated_pmctl_releases_the_server_and_stops_it(tmp_path, home, signum):
    process = watch(tmp_path, home)

    process.send_signal(signum)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 128 + signum
    assert "Traceback" not in err
    assert nothing_left_running(home)


def test_a_killed_pmctl_is_pruned_by_the_next_which_stops_the_server(tmp_path, home):
    process = watch(tmp_path, home)
    process.kill()
    process.wait(timeout=30)
    assert process.pid in handles(home) and servers(home), "the kill left the server and its handle behind"

    later = run(tmp_path, home, "status", "--offline")

    assert later.returncode == 0, later.stderr
    assert nothing_left_running(home)


def test_the_last_live_pmctl_stops_the_server_though_another_was_killed_meanwhile(tmp_path, home):
    first = watch(tmp_path, home)
    second = watch(tmp_path, home)
    first.kill()
    first.wait(timeout=30)

    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=60)

    assert second.returncode == 128 + signal.SIGTERM
    assert nothing_left_running(home)
