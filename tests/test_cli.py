"""The command line's shape: commands, version, and failures as one line with an exit code."""

import subprocess
import sys

from pmctl import __version__


def test_help_lists_every_command(pmctl):
    result = pmctl("--help")
    assert result.exit_code == 0
    for command in ("sync", "status", "check", "close", "reconcile", "cleanup-phantoms", "migrate", "sim"):
        assert command in result.stdout


def test_version(pmctl):
    result = pmctl("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pmctl {__version__}"


def test_unknown_flag_is_a_usage_error(pmctl):
    result = pmctl("migrate", "--dry-rum")
    assert result.exit_code == 2
    assert "--dry-rum" in result.stderr


def test_unreachable_database_is_exit_1_with_one_line_and_no_password(clean_env):
    url = "postgresql://desk:hunter2@127.0.0.1:1/pm"
    result = subprocess.run(
        [sys.executable, "-m", "pmctl", "migrate"], env={"PMCTL_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("pmctl: error: cannot connect to database 'pm' on 127.0.0.1:1")
    assert result.stderr.count("\n") == 1
    assert "hunter2" not in result.stderr + result.stdout


def test_help_does_not_need_valid_settings(pmctl):
    result = pmctl("migrate", "--help", env={"PMCTL_STOP_LOSS_PERCENT": "ten"})
    assert result.exit_code == 0
    assert "--dry-run" in result.stdout
