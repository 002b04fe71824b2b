"""The documentation stays true: the MkDocs site builds with warnings as errors, and every
command the docs mark runnable runs and prints what the docs show.

A fenced ```console block whose first line is ``# runnable`` (optionally ``# runnable exit=N``
for a command that must fail, such as the error example) is executed: each ``$ paramlab …``
line runs in a fresh temporary folder, offline, with this checkout's sources, and the lines
shown under it must appear, in that order, among the lines it printed (stdout and stderr).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```console\n# runnable(?: exit=(\d+))?\n(.*?)^```", re.M | re.S)
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "KERAS_BACKEND": "torch"}


@dataclass
class Command:
    """One ``$ paramlab …`` line of a runnable block, the output shown under it, where it is."""

    where: str
    argv: list[str]
    status: int
    expected: list[str] = field(default_factory=list)


def runnable_commands() -> list[Command]:
    commands: list[Command] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in FENCE.finditer(text):
            line_no = text.count("\n", 0, block.start()) + 1
            where = f"{page.relative_to(ROOT)}:{line_no}"
            for line in block.group(2).splitlines():
                if line.startswith("$ "):
                    argv = shlex.split(line[2:], comments=True)
                    assert argv[0] == "paramlab", f"{where}: only paramlab commands run: {line}"
                    commands.append(Command(where, argv[1:], int(block.group(1) or 0)))
                elif line.strip():
                    assert commands and commands[-1].where == where, f"{where}: output first"
                    commands[-1].expected.append(line.strip())
    return commands


COMMANDS = runnable_commands()


def test_the_docs_mark_commands_runnable() -> None:
    """The harness finds the blocks (a changed marker would otherwise skip every check)."""
    assert len(COMMANDS) >= 3
    assert any(command.expected for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.where} {' '.join(c.argv)}")
def test_runnable_command(command: Command, tmp_path: Path) -> None:
    env = {**os.environ, **OFFLINE, "COLUMNS": "100"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-m", "paramlab.cli", *command.argv],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    printed = result.stdout + result.stderr
    assert result.returncode == command.status, f"{command.where}: {printed}"
    lines = iter(line.strip() for line in printed.splitlines())
    for expected in command.expected:  # in order: `in` on an iterator consumes it
        assert expected in lines, f"{command.where}: {expected!r} not printed\n{printed}"


def test_site_builds_strict(tmp_path: Path) -> None:
    """Warnings (a broken link or anchor, a page left out of the nav, a docstring mkdocstrings
    cannot render) fail the build, as `strict: true` and `validation` in mkdocs.yml ask."""
    if any(importlib.util.find_spec(name) is None for name in ("mkdocs", "mkdocstrings")):
        pytest.skip("mkdocs is not installed: pip install 'paramlab[docs]'")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                             "--config-file", str(ROOT / "mkdocs.yml"),
                             "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="paramlab.CountOptions"' in api  # mkdocstrings rendered the docstrings
