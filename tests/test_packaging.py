"""Releasable at any commit: the wheel builds, installs without extras into a clean virtual
environment, and its `paramlab` command counts and answers missing extras cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                          check=False, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh venv holding only the wheel built from this tree."""
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "-q", "-w", str(work / "dist"), str(source)])
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("paramlab-*.whl")
    venv = work / "venv"
    # --without-pip: no extras can sneak in, and the pip of this interpreter installs it.
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install",
                 "--no-deps", "--no-index", "-q", str(wheel)])
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def test_installed_wheel_counts_the_seed_mlp(installed: Path) -> None:
    result = _run([str(installed / "paramlab"), "count", "784-10-10-3"])
    assert result.returncode == 0, result.stderr
    assert "Total params: 7,993" in result.stdout


def test_clean_venv_has_no_frameworks(installed: Path) -> None:
    """The check above means something only if the venv really lacks the extras."""
    probe = "import importlib.util as u; print([m for m in ('torch', 'numpy') if u.find_spec(m)])"
    result = _run([str(installed / "python"), "-c", probe])
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["run", "sweep"], ["report", "runs/x"], ["demo", "--quick"]])
def test_lab_without_extra_prints_install_command(installed: Path, argv: list[str]) -> None:
    result = _run([str(installed / "paramlab"), *argv])
    assert result.returncode == 2
    assert "pip install 'paramlab[lab]'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def _pyproject_section(name: str) -> str:
    """One ``[section]`` of pyproject.toml as text (tomllib is Python 3.11+ only)."""
    text = (ROOT / "pyproject.toml").read_text()
    return text.split(f"\n[{name}]\n", 1)[1].split("\n[", 1)[0]


def test_license_file_matches_pyproject() -> None:
    assert re.search(r'^license = "MIT"$', _pyproject_section("project"), re.M)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_all_extra_covers_every_other_extra() -> None:
    section = _pyproject_section("project.optional-dependencies")
    extras = set(re.findall(r"^([\w-]+) = \[", section, re.M))
    (everything,) = re.findall(r'^all = \["paramlab\[([\w,-]+)\]"', section, re.M)
    # test and docs are the developers' tools, not parts of paramlab
    assert set(everything.split(",")) == extras - {"all", "test", "docs"}
