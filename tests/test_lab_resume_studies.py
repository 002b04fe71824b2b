"""#22's studies resume like every study: a real ``paramlab run`` killed with SIGKILL just
after its first commit (amid training a chunk, coding a bound or starting a pruning round),
then run again, holds every point exactly once with the numbers of a run never interrupted.
The uninterrupted run is the oracle: the engine trains a model the same alone or in any
group, so a resumed point that was computed twice, from a half-written state or with other
inputs, would show as a different number or a missing or extra id."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STUDIES = {
    "intrinsic-dimension": ["64-12-10", "--data", "digits", "--dims", "2..200:8",
                            "--seeds", "2", "--labels", "true,shuffled", "--epochs", "25"],
    "generalization-bound": ["64-12-10", "--data", "digits", "--dims", "2..200:8",
                             "--levels", "2,3", "--epochs", "25", "--prior-fraction", "0.3"],
    "prune": ["64-24-10", "--data", "digits", "--rounds", "3", "--seeds", "2",
              "--epochs", "25"],
}
NUMBERS = {"intrinsic-dimension": "performance", "generalization-bound": "occam_bound",
           "prune": "test_accuracy"}


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def rows(out: Path, column: str) -> dict[str, float]:
    try:
        with sqlite3.connect(out / "store.sqlite", timeout=5) as db:
            return dict(db.execute(f"SELECT model_id, {column} FROM models").fetchall())
    except sqlite3.Error:
        return {}


def argv(study: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "paramlab.cli", "run", study, *STUDIES[study], "--out",
            str(out), "--quiet"]


@pytest.mark.slow
@pytest.mark.parametrize("study", list(STUDIES))
def test_killed_after_its_first_commit_then_resumed_every_point_once(
        study: str, tmp_path: Path) -> None:
    column = NUMBERS[study]
    whole = tmp_path / "whole"
    subprocess.run(argv(study, whole), env=env(), check=True, timeout=600,
                   capture_output=True)
    expected = rows(whole, column)
    killed = tmp_path / "killed"
    process = subprocess.Popen(argv(study, killed), env=env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while process.poll() is None and not rows(killed, column) and time.time() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = rows(killed, column)
    assert 0 < len(partial) < len(expected), "the kill did not land mid-run"
    finished = subprocess.run(argv(study, killed), env=env(), timeout=600,
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    resumed = rows(killed, column)
    assert set(resumed) == set(expected)
    assert all(resumed[i] == pytest.approx(value, abs=1e-6) for i, value in partial.items())
    assert resumed == pytest.approx(expected, abs=1e-6)
