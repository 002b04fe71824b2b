"""Faults around the run folder, each one clear line and exit 2: an unwritable --out, a
corrupt store.sqlite (run and report) or config.json, a model too large for the machine, a
missing or unreachable Ray. Two drivers on one folder cooperate through claims; a sweep
killed with SIGKILL at several random moments in a row, then resumed, holds every model and
every epoch exactly once."""

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from paramlab.cli import main
from paramlab.lab.engine import MLPArch, Planned, TrainConfig
from paramlab.lab.engine.workers import plan_groups
from paramlab.lab.executors.batches import make_batches, peak_memory
from paramlab.lab.experiments import registry
from paramlab.lab.store import RunStore

SRC = Path(__file__).parents[1] / "src"
TINY = ["run", "sweep", "--models", "2", "--epochs", "1", "--n-samples", "200", "--width",
        "4..16", "--quiet"]
# six depths: six groups of the engine, six batches, small enough for a loaded CI machine
SWEEP = ["run", "sweep", "--n-samples", "300", "--epochs", "3", "--width", "4..32",
         "--depth", "1..6", "--batch-size", "8", "--quiet"]


def error_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err


def test_unwritable_out_names_the_folder(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder cannot be made under a file, not even by root
    err = error_of([*TINY, "--out", str(blocker / "run")], capsys)
    assert f"cannot write the run folder {blocker / 'run'}" in err
    assert "choose a writable --out" in err


def test_corrupt_store_for_run_and_for_report(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 0
    (out / "store.sqlite").write_bytes(b"this is not sqlite" * 100)
    for name in ("store.sqlite-wal", "store.sqlite-shm"):
        (out / name).unlink(missing_ok=True)
    for argv in ([*TINY, "--out", str(out)], ["report", str(out)]):
        err = error_of(argv, capsys)
        assert f"{out / 'store.sqlite'} is not a readable run store" in err
        assert "delete the run folder" in err


def test_corrupt_config_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 0
    (out / "config.json").write_text('{"experiment_config": {"models": ')
    for argv in ([*TINY, "--out", str(out)], ["report", str(out)]):
        err = error_of(argv, capsys)
        assert f"{out / 'config.json'} is corrupt" in err and "line 1 column" in err


def test_a_model_too_large_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = error_of(["run", "sweep", "--width", "20000000..20000000", "--quiet", "--out",
                    str(tmp_path / "big")], capsys)
    assert "needs at least" in err and "GiB is available" in err
    assert "lower the hidden widths (--width" in err
    assert not RunStore.open(tmp_path / "big").rows()  # refused before anything trained


def test_peak_memory_is_the_zero_accounting_of_the_padded_group() -> None:
    archs = [MLPArch(40, (8,), 1), MLPArch(40, (16,), 1)]
    train = TrainConfig(batch_size=32, optimizer="adam")
    need = peak_memory(archs, train)
    params = 40 * 16 + 16 + 16 * 1 + 1  # both padded to 40-16-1
    assert need.state == 2 * params * (4 + 4 + 8)  # fp32 weights, gradients, Adam moments
    assert need.activations == 2 * 32 * (16 + 1) * 4  # layer outputs of one batch
    assert peak_memory(archs, TrainConfig(optimizer="sgd")).state == 2 * params * 8
    plan = [Planned(f"m{i}", a, i) for i, a in enumerate(archs)]
    assert len(make_batches(plan, train, None)) == 1  # the engine puts them in one group
    halves = make_batches(plan, train, (need.total - 1, "here"))
    assert [len(b) for b in halves] == [1, 1]  # a group too large is split, not refused


def test_batches_are_the_groups_the_engine_would_train() -> None:
    """A Ray batch is trained by ``train_models`` as one call, so it must be a group the engine
    itself would form for this run: at a large batch, padding costs more than a step's
    overhead saves, and the engine keeps widths apart that it merges at 32 rows."""
    archs = [MLPArch(40, (width,), 1) for width in (8, 16, 32, 64, 128, 256)]
    plan = [Planned(f"m{i}", arch, i) for i, arch in enumerate(archs)]
    counts = []
    for batch_size in (32, 8192):
        train = TrainConfig(batch_size=batch_size)
        batches = make_batches(plan, train, None)
        engine = plan_groups(archs, train, 10_000, torch.device("cpu"), workers=1).groups
        assert (sorted(sorted(int(p.model_id[1:]) for p in batch) for batch in batches)
                == sorted(map(sorted, engine)))
        counts.append(len(batches))
    assert counts[0] < counts[1]


def test_missing_ray_gives_the_install_command(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    err = error_of([*TINY, "--out", str(tmp_path / "r"), "--executor", "ray"], capsys)
    assert "pip install 'paramlab[ray]'" in err
    assert not (tmp_path / "r").exists()  # refused before the run folder was made


def test_unreachable_address_is_one_line_not_a_hang(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.perf_counter()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        err = error_of([*TINY, "--out", str(tmp_path / "r"), "--executor", "ray",
                        "--address", address], capsys)
        assert f"cannot reach the Ray cluster at {address}" in err
    assert time.perf_counter() - start < 30
    err = error_of([*TINY, "--out", str(tmp_path / "r"), "--address", "auto"], capsys)
    assert "--address applies to --executor ray only" in err


@pytest.mark.parametrize("experiment", registry(), ids=lambda e: e.name)
def test_experiments_declaring_executors_train_through_them(
        experiment: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An experiment that offers --executor must train through the runner's TrainModels
    stages (else --executor ray would be silently ignored); one that does not, refuses the
    option."""
    from paramlab.lab.executors.local import LocalExecutor

    launched: list[int] = []
    original = LocalExecutor.launch
    monkeypatch.setattr(LocalExecutor, "launch",
                        lambda self, batch: launched.append(len(batch)) or original(self, batch))
    argv = ["run", experiment.name, *experiment.example, "--out", str(tmp_path / "x"),  # type: ignore[attr-defined]
            "--quiet", "--executor", "local"]
    if experiment.executors:  # type: ignore[attr-defined]
        assert main(argv) == 0
        assert sum(launched) > 0, (
            f"{experiment.name} declares executors=True (the default) but trained nothing "  # type: ignore[attr-defined]
            "through the executor: set executors=False in its Experiment")
    else:
        with pytest.raises(SystemExit):
            main(argv)
    capsys.readouterr()


# ------------------------------------------------------------------ claims


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def claims_store(tmp_path: Path) -> RunStore:
    from paramlab.lab.runner import MODEL_COLUMNS

    return RunStore.create_or_resume(tmp_path / "claims", {"experiment": "sweep", "x": 1},
                                     MODEL_COLUMNS)


def test_claims_of_a_live_owner_are_left_and_of_a_dead_one_taken_over(tmp_path: Path) -> None:
    store = claims_store(tmp_path)
    host = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with store.connect() as db:
            db.executemany("INSERT INTO owners VALUES (?, ?, ?, ?)", [
                (f"{host}:{sleeper.pid}", host, sleeper.pid, time.time()),  # alive, beating
                (f"{host}:{dead_pid()}", host, 999_999_999, time.time()),  # process gone
                ("elsewhere:1", "elsewhere", 1, time.time() - 3600),  # silent for an hour
            ])
            db.executemany("INSERT INTO claims VALUES (?, ?)", [
                ("a", f"{host}:{sleeper.pid}"), ("b", f"{host}:{dead_pid()}"),
                ("c", "elsewhere:1")])
        assert store.claim(["a", "b", "c", "d"]) == ["b", "c", "d"]
        assert store.claim(["a", "b", "c"]) == ["b", "c"]  # one's own claims stay one's own
    finally:
        sleeper.kill()
        sleeper.wait()
    assert store.claim(["a"]) == ["a"]  # its owner died: taken over at once


# ------------------------------------------------------------------ processes


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def committed(out: Path) -> int:
    try:
        with sqlite3.connect(out / "store.sqlite", timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM models").fetchone()[0])
    except sqlite3.Error:
        return 0


def assert_exactly_once(out: Path, models: int) -> None:
    with sqlite3.connect(out / "store.sqlite") as db:
        ids = [r[0] for r in db.execute("SELECT model_id FROM models")]
        rows, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT model_id || '/' || "
                                    "epoch) FROM epochs").fetchone()
        expected = db.execute("SELECT SUM(epochs) FROM models").fetchone()[0]
        claims = db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    assert sorted(ids) == [f"sweep-{i:04d}" for i in range(models)]  # none lost, none twice
    assert rows == distinct == expected  # every epoch's metrics once
    assert claims == 0  # every claim given back


def test_two_drivers_on_one_folder_cooperate(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "paramlab.cli", *SWEEP, "--models", "12", "--out", str(out),
            "--json"]
    drivers = [subprocess.Popen(argv, env=env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [d.communicate(timeout=300) for d in drivers]
    assert [d.returncode for d in drivers] == [0, 0], [err for _, err in outputs]
    assert not any("Traceback" in err or "IntegrityError" in err for _, err in outputs)
    trained = [json.loads(stdout)["trained"] for stdout, _ in outputs]
    assert sum(trained) == 12  # each model trained by exactly one of them
    assert_exactly_once(out, 12)


def test_sigkill_at_random_moments_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # 100 epochs (not SWEEP's 3) spread the commits over a second or more: at 3 epochs every
    # group committed within 0.12 s of the first, so a kill 0-50 ms after it could find the
    # run finished (CI failed so on 2026-12-06)
    argv = [sys.executable, "-m", "paramlab.cli", *SWEEP, "--epochs", "100", "--models", "14",
            "--out", str(out)]
    moments = random.Random(11)
    kills = 0
    for _ in range(3):
        before = committed(out)
        process = subprocess.Popen(argv, env=env())
        deadline = time.time() + 240
        while process.poll() is None and committed(out) == before and time.time() < deadline:
            time.sleep(0.01)
        # just after this round's first commit: amid recording a group or claiming the next
        time.sleep(moments.uniform(0.0, 0.05))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 2 and committed(out) < 14
    subprocess.run(argv, env=env(), check=True, timeout=300)
    assert_exactly_once(out, 14)
