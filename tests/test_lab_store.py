"""Run folders: resuming skips finished models; a run killed with SIGKILL and started
again ends with every model exactly once."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paramlab.cli import main

SWEEP = ["run", "sweep", "--n-samples", "1500", "--epochs", "4", "--width", "4..600",
         "--depth", "1..3", "--batch-size", "16", "--quiet"]


def committed(out: Path) -> int:
    try:
        with sqlite3.connect(out / "store.sqlite", timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM models").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_same_command_resumes_without_retraining(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*SWEEP, "--models", "3", "--out", str(tmp_path / "run"), "--n-samples", "300"]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "trained 0, resumed past 3" in capsys.readouterr().out
    csv_lines = (tmp_path / "run" / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("model_id,seed,hidden,spec,params,observations,"
                                   "params_per_observation,train_loss,val_loss,test_loss")
    assert len(csv_lines) == 4


def test_a_different_configuration_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "run")
    assert main([*SWEEP, "--models", "1", "--out", out, "--n-samples", "200"]) == 0
    assert main([*SWEEP, "--models", "2", "--out", out, "--n-samples", "200"]) == 2
    assert "different configuration" in capsys.readouterr().err


def test_sigkill_mid_run_then_resume_gives_each_model_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "paramlab.cli", *SWEEP, "--models", "14", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    process = subprocess.Popen(argv, env=env)
    deadline = time.time() + 240
    seen = 0
    while time.time() < deadline and process.poll() is None:
        seen = committed(out)
        if seen >= 1:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = committed(out)
    assert 1 <= at_kill < 14
    subprocess.run(argv, env=env, check=True, timeout=300)
    with sqlite3.connect(out / "store.sqlite") as db:
        ids = [r[0] for r in db.execute("SELECT model_id FROM models")]
        epochs = db.execute("SELECT COUNT(*), COUNT(DISTINCT model_id || '/' || epoch) "
                            "FROM epochs").fetchone()
        expected_epochs = db.execute("SELECT SUM(epochs) FROM models").fetchone()[0]
    assert sorted(ids) == [f"sweep-{i:04d}" for i in range(14)]  # none lost, none twice
    assert epochs[0] == epochs[1] == expected_epochs  # no duplicated epoch rows either


def test_writers_sharing_a_file_each_replace_it_whole(tmp_path: Path) -> None:
    """Two processes on one run folder write results.csv at once. Interleaved as the race
    that failed (one finishes while the other is mid-write), each writer's temporary file is
    its own: both replace the target, the last one whole, and no temporary file is left."""
    import threading

    from paramlab.lab.store import _replacing

    target = tmp_path / "results.csv"
    done: list[str] = []

    def inner_writer() -> None:
        with _replacing(target) as temporary:
            temporary.write_text("second\n")
        done.append("second")

    with _replacing(target) as temporary, temporary.open("w") as handle:
        handle.write("first, ")
        handle.flush()
        thread = threading.Thread(target=inner_writer)
        thread.start()
        thread.join()
        assert target.read_text() == "second\n"
        handle.write("whole\n")
    assert done == ["second"]
    assert target.read_text() == "first, whole\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_drivers_probing_one_run_folder_at_once_do_not_trip_each_other(tmp_path):
    """Each driver checks the folder is writable with a probe file of its own: with one shared
    name, one driver deleted the other's probe between its write and its unlink."""
    from concurrent.futures import ThreadPoolExecutor

    from paramlab.lab.store import _make_writable_folder

    def probe_often(_: int) -> None:
        for _ in range(300):
            _make_writable_folder(tmp_path / "run")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(probe_often, range(8)))  # re-raises a RunFolderError from any thread
    assert list((tmp_path / "run").iterdir()) == []


def test_a_store_from_before_the_per_epoch_accuracies_gains_them_when_it_resumes(
        tmp_path: Path) -> None:
    """The epochs table of an older run (five columns) gets NULL accuracy columns: its old
    epochs read back without them, new epochs keep theirs (test accuracy per epoch feeds
    epoch-wise double descent)."""
    from paramlab.lab.store import Column, RunStore

    columns = (Column("model_id", str),)
    (tmp_path / "run").mkdir()
    with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:
        db.execute("CREATE TABLE epochs (model_id TEXT, epoch INTEGER, train_loss REAL, "
                   "val_loss REAL, test_loss REAL, PRIMARY KEY (model_id, epoch))")
        db.execute("INSERT INTO epochs VALUES ('old', 1, 1.0, 2.0, 3.0)")
    store = RunStore.create_or_resume(tmp_path / "run", {"experiment": "x"}, columns)
    RunStore.create_or_resume(tmp_path / "run", {"experiment": "x"}, columns)  # twice: no-op
    store.record({"model_id": "new"}, [{"epoch": 1, "train_loss": 1.0, "val_loss": 2.0,
                                        "test_loss": 3.0, "test_accuracy": 0.75}])
    history = store.history()
    assert history["old"] == [{"model_id": "old", "epoch": 1, "train_loss": 1.0,
                               "val_loss": 2.0, "test_loss": 3.0}]
    assert history["new"][0]["test_accuracy"] == 0.75
    assert "train_accuracy" not in history["new"][0]
