"""The Ray executor on a real local Ray cluster (started once for the module): the same
models as in-process for every experiment that trains through ``execute``, a worker killed
mid-batch retried with nothing lost or doubled, an application error ending the run with
what finished kept, and resuming across executors after the driver is killed."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from paramlab.cli import main
from paramlab.lab import runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig
from paramlab.lab.executors.batches import BatchError
from paramlab.lab.executors.ray import RayExecutor, train_on_worker
from paramlab.lab.experiments import registry, sweep
from paramlab.lab.runner import Progress
from paramlab.lab.store import RunStore
from test_lab_faults import SWEEP, assert_exactly_once, committed, env


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-CPU Ray cluster in a short temporary folder (Ray's sockets need a short path);
    its GCS address, for drivers in other processes."""
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"  # no token written under ~/.ray
    context = ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp,
                       logging_level="ERROR", log_to_driver=False)
    yield str(context.address_info["gcs_address"])
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)
    if saved is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = saved


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize("experiment", [e for e in registry() if e.executors],
                         ids=lambda e: e.name)
def test_same_models_through_ray_and_in_process(experiment: Any, cluster: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", experiment.name, *experiment.example]
    local = run_json([*argv, "--out", str(tmp_path / "local")], capsys)
    remote = run_json([*argv, "--out", str(tmp_path / "ray"), "--executor", "ray"], capsys)
    assert remote["trained"] == local["trained"] > 0
    for a, b in zip(local["models"], remote["models"], strict=True):
        assert a["model_id"] == b["model_id"] and a.get("params") == b.get("params")
        for key in ("train_loss", "val_loss", "test_loss"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6)
    header = (tmp_path / "local" / "results.csv").read_text().splitlines()[0]
    assert (tmp_path / "ray" / "results.csv").read_text().splitlines()[0] == header
    again = run_json([*argv, "--out", str(tmp_path / "ray"), "--executor", "ray"], capsys)
    assert again["trained"] == 0 and again["skipped"] == local["trained"]


def run_on(executor: RayExecutor, out: Path,
           progress: Progress | None = None) -> runner.RunOutcome:
    """The small sweep through ``executor``, which leaves the cluster afterwards."""
    try:
        return runner.run(sweep.EXPERIMENT, small_sweep(), out, executor=executor,
                          progress=progress)
    finally:
        executor.close()


def small_sweep() -> sweep.SweepConfig:
    """Eight models of depths 4, 3, 3, 3, 4, 1, 1, 1: three batches (the engine's groups)."""
    return sweep.SweepConfig(DataConfig(n_samples=300), TrainConfig(epochs=2, batch_size=16),
                             models=8, depth=(1, 4), width=(4, 32))


def killing_task(marker: Path) -> Callable[..., Any]:
    """A task whose first attempt (anywhere on the cluster) SIGKILLs its own worker."""
    def task(*args: Any) -> Any:
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return train_on_worker(*args)
    return task


def test_a_worker_killed_mid_batch_is_retried_nothing_lost_or_doubled(
        cluster: str, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"
    done: list[str] = []
    progress = Progress(model_done=lambda result: done.append(result.model_id))
    outcome = run_on(RayExecutor(task=killing_task(marker)), tmp_path / "run", progress)
    assert marker.read_text().isdigit()  # a worker process really was killed
    assert outcome.trained == 8 and sorted(done) == [f"sweep-{i:04d}" for i in range(8)]
    assert_exactly_once(tmp_path / "run", 8)


def test_an_application_error_ends_the_run_and_keeps_what_finished(
        cluster: str, tmp_path: Path) -> None:
    def bad_data(data_box: list[Any], batch: list[Any], *rest: Any) -> Any:
        if len(batch[0].arch.hidden) == 3:
            raise ValueError("bad data in this batch")
        return train_on_worker(data_box, batch, *rest)

    out = tmp_path / "run"
    with pytest.raises(BatchError, match=r"failed on a Ray worker: ValueError: bad data in "
                       r"this batch; the \d+ models this run finished are kept"):
        run_on(RayExecutor(task=bad_data), out)
    store = RunStore.open(out)
    kept = {r["model_id"]: len(r["hidden"].split("-")) for r in store.rows()}
    assert 3 not in kept.values()  # the failed batch recorded nothing
    # fixed: the same run again finishes the rest
    outcome = run_on(RayExecutor(), out)
    assert outcome.trained == 8 - len(kept)
    assert_exactly_once(out, 8)


def kill_after_first_commit(argv: list[str], out: Path) -> None:
    process = subprocess.Popen(argv, env=env(), stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while process.poll() is None and committed(out) == 0 and time.time() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= committed(out) < 12


@pytest.mark.parametrize("first", ["ray", "local"])
def test_resume_across_executors_after_the_driver_is_killed(
        first: str, cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = [*SWEEP, "--models", "12", "--out", str(out)]
    on_ray = ["--executor", "ray", "--address", cluster]
    kill_after_first_commit([sys.executable, "-m", "paramlab.cli", *argv,
                             *(on_ray if first == "ray" else [])], out)
    assert main([*argv, *(["--executor", "ray"] if first == "local" else [])]) == 0
    capsys.readouterr()
    assert_exactly_once(out, 12)
