"""Groups trained side by side in worker processes: the same models, the same reports, clear
failures, and no worker left behind."""

from __future__ import annotations

import csv
import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from paramlab.cli import main
from paramlab.errors import ParamlabError
from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, Planned, TrainConfig, group_archs, train_models
from paramlab.lab.engine.workers import GroupPool, WorkerDied, plan_groups
from test_lab_faults import SRC, assert_exactly_once

SWEEP = ["run", "sweep", "--models", "4", "--n-samples", "300", "--epochs", "3", "--width",
         "4..64", "--depth", "1..2", "--batch-size", "8", "--quiet"]

CPU = torch.device("cpu")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker processes are forked, on Linux only")


def mixed_models(data) -> list[MLPArch]:
    """Two depths and a wide model: three groups of the engine's own choosing."""
    return [MLPArch(data.n_features, hidden, data.n_outputs)
            for hidden in [(20, 32), (32, 17), (25, 25), (12,), (300, 300)]]


def test_the_plan_halves_a_group_longer_than_an_even_share() -> None:
    config = TrainConfig(epochs=50, batch_size=32)
    archs = [MLPArch(10, (64,), 1)] * 12
    assert len(group_archs(archs, batch_size=32)) == 1
    plan = plan_groups(archs, config, 4000, CPU, workers=2)
    assert plan.workers == 2
    assert sorted(len(g) for g in plan.groups) == [6, 6]
    assert sorted(i for g in plan.groups for i in g) == list(range(12))
    alone = plan_groups(archs, config, 4000, CPU, workers=1)
    assert alone.workers == 1 and alone.groups == group_archs(archs, batch_size=32)


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The automatic choice as on a 2-core machine, whatever this one has."""
    from paramlab.lab.engine import workers

    monkeypatch.setattr(workers.torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(workers, "usable_cpus", lambda: 2)


@pytest.mark.usefixtures("two_threads")
def test_the_costliest_group_goes_first_and_short_runs_stay_here() -> None:
    archs = [MLPArch(10, (8,), 1), MLPArch(10, (512, 512), 1)]
    plan = plan_groups(archs, TrainConfig(epochs=200), 4000, CPU, workers=2)
    assert plan.groups[0] == [1]
    long = plan_groups(archs, TrainConfig(epochs=200), 4000, CPU)
    assert long.workers == 2
    tiny = plan_groups(archs, TrainConfig(epochs=1), 100, CPU)
    assert tiny.workers == 1


def test_workers_refused_where_they_cannot_run() -> None:
    with pytest.raises(ParamlabError, match="workers must be ≥ 1"):
        plan_groups([MLPArch(10, (8,), 1)], TrainConfig(), 100, CPU, workers=0)
    with pytest.raises(ParamlabError, match="need a CPU run on Linux"):
        plan_groups([MLPArch(10, (8,), 1)] * 2, TrainConfig(), 100, torch.device("cuda"),
                    workers=2)
    gpu = plan_groups([MLPArch(10, (8,), 1)] * 2, TrainConfig(epochs=10**4), 10**5,
                      torch.device("cuda"))
    assert gpu.workers == 1  # a GPU run stays in this process


def test_workers_train_the_models_this_process_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_dataset("friedman", n_samples=300)
    archs = mixed_models(data)
    config = TrainConfig(epochs=3, batch_size=16, lr=3e-3, weight_decay=1e-3)
    seeds = [11, 12, 13, 14, 15]
    here_epochs: list[tuple[int, tuple[str, ...]]] = []
    there_epochs: list[tuple[int, tuple[str, ...]]] = []
    done: list[str] = []
    here = train_models(archs, data, config, seeds, keep_weights=True, workers=1,
                        on_epoch=lambda e, m: here_epochs.append((e, tuple(sorted(m)))))

    def epoch_there(epoch: int, metrics: dict[str, dict[str, float]]) -> None:
        assert not set(metrics) & set(done), "a group's epochs come before its end"
        there_epochs.append((epoch, tuple(sorted(metrics))))

    submitted: list[object] = []
    submit = GroupPool.submit
    monkeypatch.setattr(GroupPool, "submit",
                        lambda self, *group: submitted.append(group) or submit(self, *group))
    there = train_models(archs, data, config, seeds, keep_weights=True, workers=2,
                         on_epoch=epoch_there, on_model_done=lambda r: done.append(r.model_id))
    assert len(submitted) == 3  # the engine's three groups, each in a worker
    assert sorted(here_epochs) == sorted(there_epochs)
    assert sorted(done) == [r.model_id for r in here]
    for a, b in zip(here, there, strict=True):
        assert (a.model_id, a.arch, a.seed, a.epochs) == (b.model_id, b.arch, b.seed, b.epochs)
        assert a.weights is not None and b.weights is not None
        for x, y in zip(a.weights, b.weights, strict=True):  # one thread sums in its order
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
        for h, k in zip(a.history, b.history, strict=True):
            assert h.keys() == k.keys()
            np.testing.assert_allclose([h[key] for key in h], [k[key] for key in k], rtol=1e-4)


def test_an_error_in_a_worker_reaches_the_caller() -> None:
    with GroupPool(2, _fails, report_epochs=False) as pool:
        future = pool.submit("the third layer")
        with pytest.raises(ParamlabError, match="the third layer is wrong"):
            GroupPool.result(future, "group 1")


def _fails(what: str, *, on_epoch: object) -> list[object]:
    raise ParamlabError(f"{what} is wrong")


def _dies(marker: str, *, on_epoch: object) -> list[object]:
    Path(marker).write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)
    return []


def _sleeps(marker: str, *, on_epoch: object) -> list[object]:
    Path(marker).write_text(str(os.getpid()))
    time.sleep(60)
    return []


def test_a_worker_killed_for_memory_is_a_clear_error(tmp_path: Path) -> None:
    with GroupPool(2, _dies, report_epochs=False) as pool:
        future = pool.submit(str(tmp_path / "pid"))
        with pytest.raises(WorkerDied, match=r"a worker process died training group 7.*"
                                             r"workers=1, --workers 1"):
            GroupPool.result(future, "group 7")


def test_leaving_early_stops_every_worker(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), GroupPool(2, _sleeps, report_epochs=False) as pool:
        pool.submit(str(marker))
        while not marker.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt
    assert time.perf_counter() - start < 30  # not the worker's 60 s
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)


def test_a_forked_worker_runs_one_thread() -> None:
    """GNU OpenMP hangs a forked child that enters a parallel region: workers never do."""
    with GroupPool(1, _threads, report_epochs=False) as pool:
        assert GroupPool.result(pool.submit(), "threads") == [1]


def _threads(*, on_epoch: object) -> list[int]:
    return [torch.get_num_threads()]


def results_of(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_sweep_on_workers_records_what_one_process_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The run folder of ``--workers 2`` holds the models, epochs and metrics of
    ``--workers 1``; a run started on one resumes on the other."""
    one, two = tmp_path / "one", tmp_path / "two"
    submitted: list[object] = []
    submit = GroupPool.submit
    monkeypatch.setattr(GroupPool, "submit",
                        lambda self, *group: submitted.append(group) or submit(self, *group))
    assert main([*SWEEP, "--workers", "1", "--out", str(one)]) == 0
    assert not submitted
    assert main([*SWEEP, "--workers", "2", "--out", str(two)]) == 0
    assert len(submitted) >= 2  # batches went to the workers
    assert_exactly_once(two, 4)
    a, b = results_of(one), results_of(two)
    assert [r["model_id"] for r in a] == [r["model_id"] for r in b]
    for x, y in zip(a, b, strict=True):
        assert (x["spec"], x["params"], x["seed"]) == (y["spec"], y["params"], y["seed"])
        for column in ("train_loss", "val_loss", "test_loss"):
            assert float(x[column]) == pytest.approx(float(y[column]), rel=1e-4)
    assert main([*SWEEP, "--workers", "2", "--out", str(one)]) == 0  # resumed: nothing to do
    assert results_of(one) == a
    capsys.readouterr()


@pytest.mark.parametrize(("extra", "message"), [
    (["--workers", "0"], "--workers must be ≥ 1; received 0"),
    (["--workers", "2", "--executor", "ray"], "--workers applies to --executor local"),
])
def test_bad_workers_is_one_line(extra: list[str], message: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SWEEP, *extra, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("two_threads")
def test_a_model_too_large_for_a_workers_share_trains_in_one_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers share the free memory; the default falls back to one process when a model
    needs more than a share, and an explicit --workers is refused saying why."""
    from paramlab.lab.executors import local
    from paramlab.lab.executors.batches import TooLargeError, peak_memory

    data = load_dataset("synthetic")
    train = TrainConfig(epochs=50)
    todo = [Planned(f"m{i}", MLPArch(40, (512, 512), 1), i) for i in range(2)]
    need = peak_memory([todo[0].arch], train).total
    monkeypatch.setattr(local, "available_memory", lambda device: (need * 3 // 2, "here"))
    chosen = local.LocalExecutor()
    batches = chosen.plan(todo, data, train)
    assert chosen.slots == 1 and sorted(len(b) for b in batches) == [1, 1]
    with pytest.raises(TooLargeError, match="here, shared by 2 workers"):
        local.LocalExecutor(workers=2).plan(todo, data, train)
    monkeypatch.setattr(local, "available_memory", lambda device: (need * 3, "here"))
    roomy = local.LocalExecutor()
    roomy.plan(todo, data, train)
    assert roomy.slots == 2


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def test_workers_die_with_a_driver_killed_by_sigkill(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "paramlab.cli", "run", "sweep", "--models", "6", "--epochs",
            "200", "--n-samples", "2000", "--width", "64..256", "--workers", "2", "--quiet",
            "--out", str(tmp_path / "run")]
    driver = subprocess.Popen(argv, env={**os.environ, "PYTHONPATH": str(SRC)})
    deadline = time.time() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.time() < deadline:
        time.sleep(0.05)
        workers = [int(pid) for pid in subprocess.run(
            ["pgrep", "-P", str(driver.pid)], capture_output=True, text=True).stdout.split()]
    assert len(workers) == 2, "the driver started its workers"
    driver.kill()
    driver.wait()
    deadline = time.time() + 10
    while any(map(alive, workers)) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, workers))


def _worker_set_up_under(parent: int) -> None:
    from paramlab.lab.engine.workers import _die_with_parent

    _die_with_parent(parent)
    os._exit(0)


@pytest.mark.parametrize(("whose", "exit_code"), [("the driver's", 0), ("another", 1)])
def test_a_worker_whose_driver_died_before_its_set_up_ends(whose: str, exit_code: int) -> None:
    """The driver's id is read before the fork: a worker set up after its driver died has a
    new parent, and must end rather than live on unowned."""
    import multiprocessing

    driver = os.getpid() if whose == "the driver's" else os.getpid() + 1
    child = multiprocessing.get_context("fork").Process(target=_worker_set_up_under,
                                                        args=(driver,))
    child.start()
    child.join(30)
    assert child.exitcode == exit_code


def test_an_error_recording_a_model_stops_the_workers_at_once(tmp_path: Path) -> None:
    """Ctrl-C or a failure in the driver while workers train ends the run promptly (no
    waiting for the running batches, no worker blocked on a full report pipe)."""
    from paramlab.lab.executors import local, run_plan
    from paramlab.lab.runner import MODEL_COLUMNS
    from paramlab.lab.store import RunStore

    full = load_dataset("synthetic")
    data = dataclasses.replace(full, X_train=full.X_train[:1000], y_train=full.y_train[:1000])
    train = TrainConfig(epochs=400)
    # two batches, one per worker: the small one finishes in seconds (and fails to record)
    # while the big one, a minute or more of training, is still running
    todo = [Planned("small", MLPArch(40, (4,), 1), 0),
            Planned("big", MLPArch(40, (1024, 1024), 1), 1)]
    store = RunStore.create_or_resume(tmp_path / "run", {"test": 1}, MODEL_COLUMNS)
    executor = local.LocalExecutor(workers=2)
    reports: list[int] = []

    def fail(result: object) -> None:
        raise KeyboardInterrupt

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_plan(todo, data, train, store, executor, keep_weights=False, on_model_done=fail,
                 on_epoch=lambda epoch, metrics: reports.append(epoch))
    assert time.perf_counter() - start < 30
    assert reports  # epochs arrived while the workers trained
    assert executor._pool is None


def test_one_executor_serves_each_run_with_its_own_data_and_options() -> None:
    """Experiments run several plans through one executor (refit, then its contrast
    models): each run's workers train with that run's data and options."""
    from paramlab.lab.executors import local

    data = load_dataset("friedman", n_samples=300)
    executor = local.LocalExecutor(workers=2)
    for config in (TrainConfig(epochs=3, batch_size=16),
                   TrainConfig(epochs=2, batch_size=16, activation="tanh")):
        todo = [Planned(f"m{i}", MLPArch(data.n_features, (8 + 8 * i,), 1), i)
                for i in range(3)]
        batches = executor.plan(todo, data, config)
        executor.start(data, config, False, None)
        handles = [executor.launch(batch) for batch in batches]
        trained = [r for _, results in executor.wait(handles) for r in results]
        while len(trained) < len(todo):
            left = [h for h in handles if h in executor._batches]
            trained += [r for _, results in executor.wait(left) for r in results]
        assert {len(r.history) for r in trained} == {config.epochs}
        here = train_models([p.arch for p in todo], data, config, [p.seed for p in todo],
                            workers=1)
        by_id = {r.model_id: r for r in trained}
        for planned, alone in zip(todo, here, strict=True):
            assert by_id[planned.model_id].test_loss == pytest.approx(alone.test_loss, rel=1e-4)
    executor.close()


def test_a_large_report_is_split_into_atomic_pipe_writes() -> None:
    from paramlab.lab.engine import workers

    metrics = {f"model-{i:04d}": {"train_loss": 0.1 * i, "val_loss": 0.2, "test_loss": 0.3}
               for i in range(200)}
    parts = workers._atomic_parts(7, metrics)
    assert len(parts) > 1
    assert all(len(pickle.dumps(part)) <= workers.ATOMIC_BYTES for part in parts)
    assert {epoch for epoch, _ in parts} == {7}
    merged = {k: v for _, part in parts for k, v in part.items()}
    assert merged == metrics
