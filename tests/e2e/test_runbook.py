"""docs/runbook.md, replayed: every ```console block is run, in the order the rehearsal of its section 0 gives,
against `pmctl sim serve --scenario incident` and the seeded database, and what each command prints is compared
with what the runbook shows.

How a console block reads (the runbook says so at its top): ``$ command`` lines (a trailing ``\\`` continues
one), then the command's stdout, then ``(stderr)`` and what it wrote to stderr, then ``(exit N)``. Each line
shown must appear in that stream, in that order; other lines may come between (so new messages elsewhere do not
break it). ``…`` inside a line stands for text left out; a line of only ``…`` for lines left out. Outputs of
``curl`` (order ids change every run) are not compared, nor is the emulator's port or the metrics file's path.
"""

import itertools
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmctl.cli.app import app

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
PORT = "18765"
METRICS = "/tmp/pmctl.prom"
BIN = str(Path(sys.executable).parent)

#: The rehearsal's order (runbook section 0, "keep to this order"): a section by the start of its heading, and
#: the part of it between two bits of its text (None: from its start, to its end).
REHEARSAL = [
    ("0. Rehearsal", None, None),
    ("1. (c)", None, "**Rehearse a new one"),
    ("2. (d)", None, None),
    ("3. (f)", None, "Now go through section 4"),
    ("4. (a)", None, None),
    ("3. (f)", "Now go through section 4", None),
    ("1. (c)", "**Rehearse a new one", None),
    ("5. (b)", None, None),
    ("A close failed", None, None),
    ("6. (e)", None, None),
    ("The broker is down", None, None),
    ("The database is down", None, None),
    ("Cron is exiting 75", None, None),
    ("Reading the audit trail", None, None),
]


@dataclass
class Step:
    command: str
    line: int
    section: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    exit: int | None = None


@dataclass
class Block:
    line: int
    offset: int
    steps: list[Step]


def blocks(text: str) -> list[Block]:
    found, section, lines = [], "", text.splitlines()
    position = 0
    inside: list[tuple[int, str]] | None = None
    for number, line in enumerate(lines, 1):
        if inside is None and line.startswith("## "):
            section = line[3:]
        if inside is None and line.strip() == "```console":
            inside, start, offset = [], number, position
        elif inside is not None and line.strip() == "```":
            found.append(Block(start, offset, steps(inside, section)))
            inside = None
        elif inside is not None:
            inside.append((number, line))
        position += len(line) + 1
    return found


def steps(lines: list[tuple[int, str]], section: str) -> list[Step]:
    parsed: list[Step] = []
    stream = "stdout"
    continued = False
    for number, line in lines:
        if continued:
            parsed[-1].command += "\n" + line
        elif line.startswith("$ "):
            parsed.append(Step(line[2:], number, section))
            stream = "stdout"
        elif not parsed:
            raise AssertionError(f"runbook line {number}: output before any $ command in a console block")
        elif line.strip() == "(stderr)":
            stream = "stderr"
        elif re.fullmatch(r"\(exit \d+\)", line.strip()):
            parsed[-1].exit = int(line.strip()[6:-1])
        else:
            getattr(parsed[-1], stream).append((number, line))
        continued = (continued or line.startswith("$ ")) and line.endswith("\\")
    return parsed


def rehearsal_order(text: str) -> list[Block]:
    """Every console block once, in the rehearsal's order; a block the order does not reach is an error."""
    every = blocks(text)
    headings = [(m.start(), m.group(1)) for m in re.finditer(r"^## (.*)$", text, re.M)] + [(len(text), "")]
    ordered = []
    for prefix, after, before in REHEARSAL:
        found = [(s, headings[i + 1][0]) for i, (s, h) in enumerate(headings[:-1]) if h.startswith(prefix)]
        assert len(found) == 1, f"REHEARSAL names a section '## {prefix}…' the runbook has {len(found)} of"
        start, end = found[0]
        for marker in filter(None, (after, before)):
            assert marker in text[start:end], f"REHEARSAL splits section '## {prefix}…' at {marker!r}, not in it"
        low = text.index(after, start, end) if after else start
        high = text.index(before, start, end) if before else end
        ordered.extend(block for block in every if low <= block.offset < high)
    missing = [block.line for block in every if block not in ordered]
    assert not missing, f"console blocks at runbook lines {missing} are not in the test's REHEARSAL order"
    assert len(ordered) == len(every), "a console block is in the REHEARSAL order twice"
    return ordered


def matches(shown: str, printed: str) -> bool:
    """``…`` in the runbook's line stands for any text there."""
    shown, printed = shown.rstrip(), printed.rstrip()
    pieces = shown.split("…")
    if len(pieces) == 1:
        return shown == printed
    if not (printed.startswith(pieces[0]) and printed.endswith(pieces[-1])
            and len(printed) >= len(pieces[0]) + len(pieces[-1])):
        return False
    position = len(pieces[0])
    for piece in pieces[1:-1]:
        position = printed.find(piece, position, len(printed) - len(pieces[-1]))
        if position < 0:
            return False
        position += len(piece)
    return True


def differences(step: Step, stdout: str, stderr: str, code: int) -> list[str]:
    where = f"runbook line {step.line} (section {step.section!r}): $ {step.command}"
    problems = []
    if step.exit is not None and step.exit != code:
        problems.append(f"{where}\n  the runbook says (exit {step.exit}), it exited {code}")
    printed = {"stdout": stdout.splitlines(), "stderr": stderr.splitlines()}
    for stream, shown in (("stdout", step.stdout), ("stderr", step.stderr)):
        cursor = 0
        for number, line in shown:
            if line.strip() == "…":
                continue
            found = next((i for i in range(cursor, len(printed[stream])) if matches(line, printed[stream][i])), None)
            if found is not None:
                cursor = found + 1
                continue
            other = "stderr" if stream == "stdout" else "stdout"
            elsewhere = any(matches(line, each) for each in printed[other])
            why = (f"it is on {other}, the runbook shows it on {stream}" if elsewhere
                   else f"pmctl printed on {stream}:\n" + "\n".join(f"    {each}" for each in printed[stream]))
            problems.append(f"{where}\n  runbook line {number} not found on {stream}"
                            f"{' after the lines before it' if cursor else ''}:\n    {line}\n  {why}")
    return problems


class Rehearsal:
    """The operator's shell: exported variables, and each command run as the runbook runs it."""

    def __init__(self, tmp_path: Path, database_url: str, port: str):
        self.tmp_path, self.port = tmp_path, port
        self.env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path),
                    "TMPDIR": str(tmp_path), "LANG": "C.UTF-8"}
        self.database_url = database_url

    def local(self, text: str) -> str:
        return text.replace(PORT, self.port).replace(METRICS, str(self.tmp_path / "pmctl.prom"))

    def export(self, command: str) -> None:
        """``export``/``unset`` lines go through bash, so ``$VAR`` and ``$(mktemp -d)`` mean what they mean there."""
        result = subprocess.run(["bash", "-c", f"{self.local(command)}\nenv -0"], env=self.env, capture_output=True,
                                text=True, check=True)
        self.env = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)

    def run(self, command: str) -> tuple[str, str, int]:
        """A plain ``[VAR=value …] pmctl …`` runs in this process; anything else (``&``, ``$!``, ``curl``) in bash."""
        command = self.local(command)
        words = [] if re.search(r"[&;|<>$`(\\\n]", command) else shlex.split(command)
        assignments = list(itertools.takewhile(lambda word: re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word), words))
        if words[len(assignments):len(assignments) + 1] == ["pmctl"]:
            env = {"PMCTL_DATABASE_URL": self.database_url, **self.env,
                   **dict(word.split("=", 1) for word in assignments)}
            result = CliRunner().invoke(app, words[len(assignments) + 1:], env=env, catch_exceptions=False)
            return result.stdout, result.stderr, result.exit_code
        env = {"PMCTL_DATABASE_URL": self.database_url, **self.env}
        result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
        return result.stdout, result.stderr, result.returncode


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.fixture
def emulator(tmp_path):
    """``pmctl sim serve`` as terminal 1 runs it, on a free port; yields the port and what it printed on stdout
    and stderr once it listens."""
    port = free_port()
    out, err = tmp_path / "sim.out", tmp_path / "sim.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "pmctl", "sim", "serve", "--scenario", "incident", "--port",
                                    port], stdout=stdout, stderr=stderr, cwd=tmp_path,
                                   env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)})
    deadline = time.monotonic() + 60
    while "control API" not in out.read_text() + err.read_text():
        assert process.poll() is None and time.monotonic() < deadline, "pmctl sim serve: " + err.read_text()
        time.sleep(0.1)
    yield port, (out.read_text(), err.read_text())
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow
def test_the_runbook_shows_what_pmctl_prints(clean_env, database_url, tmp_path, emulator):
    port, served = emulator
    text = RUNBOOK.read_text()
    terminal_2 = re.search(r"\*\*Terminal 2: pmctl\.\*\*.*?```sh\n(.*?)```", text, re.S).group(1)
    shell = Rehearsal(tmp_path, database_url, port)
    shell.export(terminal_2)
    problems = []
    for block in rehearsal_order(text):
        for step in block.steps:
            command = step.command.replace("\\\n", " ")
            if command.startswith("pmctl sim serve"):
                here = Step(command, step.line, step.section, [(n, shell.local(line)) for n, line in step.stdout],
                            [(n, shell.local(line)) for n, line in step.stderr])
                problems += differences(here, *served, 0)
            elif re.match(r"(export|unset) ", command):
                shell.export(command)
            elif command.startswith("curl "):
                stdout, stderr, code = shell.run(command)
                assert code == 0, f"runbook line {step.line}: $ {command}\n{stdout}{stderr}"
            else:
                problems += differences(step, *shell.run(command))
    assert not problems, "docs/runbook.md differs from what pmctl prints:\n\n" + "\n\n".join(problems)
