"""The Ray executor: each batch trained by the batched engine inside a Ray task.

What is sent where: the data set goes into Ray's object store once (``ray.put``); each task
gets only its reference, and a worker process fetches the data the first time and keeps it
for every later task (one copy per worker, not per task). A task receives its batch (model
ids, architectures, seeds) and the training config, and returns its finished models
(metrics, per-epoch history, weights when the experiment keeps them). Results stream back as
tasks finish (``ray.wait``) and the driver alone writes the run store.

Faults: a worker process that dies mid-batch (killed, node lost) is a *system* failure, and
Ray runs the task again (``max_retries``) — its models were not recorded, so none is lost and
none recorded twice. An exception inside the task (bad data, out of memory) is an
*application* error: not retried (``retry_exceptions=False``); the run ends with its message
and keeps what finished.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from paramlab.errors import ParamlabError, require
from paramlab.lab.executors.batches import BatchError, make_batches, train_batch

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult, Planned, TrainConfig
    from paramlab.lab.executors import OnEpoch

CONNECT_TIMEOUT = 5.0  # seconds to reach --address before saying it is unreachable
MAX_RETRIES = 3  # reruns of a batch whose worker died

_WORKER_DATA: dict[str, Dataset] = {}  # in a worker process: the data, fetched once


def train_on_worker(data_box: list[Any], batch: list[Planned], train: TrainConfig,
                    keep_weights: bool) -> list[ModelResult]:
    """The Ray task: the data from this worker's cache (fetched from the object store the
    first time; the reference travels in a list so that Ray does not fetch it per task)."""
    return train_batch(batch, worker_data(data_box[0]), train, keep_weights)


def worker_data(reference: Any) -> Dataset:
    import ray

    key = reference.hex()
    if key not in _WORKER_DATA:
        _WORKER_DATA.clear()  # one data set at a time: a new run replaces the last one's
        _WORKER_DATA[key] = copy.deepcopy(ray.get(reference))  # writable arrays for torch
    return _WORKER_DATA[key]


class RayExecutor:
    """Batches as Ray tasks on the cluster at ``address`` (``None``: a local cluster of this
    machine's cores; ``auto``: the one ``ray start --head`` made; ``ray://HOST:PORT``)."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_worker: float = 1.0,
                 gpus_per_worker: float = 0.0, max_retries: int = MAX_RETRIES,
                 task: Callable[..., list[ModelResult]] = train_on_worker):
        if cpus_per_worker <= 0 or gpus_per_worker < 0:
            raise ParamlabError(f"--cpus-per-worker must be > 0 and --gpus-per-worker ≥ 0; "
                                f"received {cpus_per_worker} and {gpus_per_worker}")
        self.ray = require("ray", "ray")
        self.joined = connect(self.ray, address)
        self.cpus, self.gpus = cpus_per_worker, gpus_per_worker
        resources = self.ray.cluster_resources()
        workers = resources.get("CPU", 1) // cpus_per_worker
        if gpus_per_worker:
            workers = min(workers, resources.get("GPU", 0) // gpus_per_worker)
        if workers < 1:
            raise ParamlabError(f"the Ray cluster has {resources.get('CPU', 0):g} CPUs and "
                                f"{resources.get('GPU', 0):g} GPUs: not enough for one worker "
                                f"of {cpus_per_worker:g} CPUs and {gpus_per_worker:g} GPUs")
        self.slots = 2 * int(workers)  # keep every worker busy while results come back
        self.remote = self.ray.remote(task).options(
            num_cpus=cpus_per_worker, num_gpus=gpus_per_worker, max_retries=max_retries,
            retry_exceptions=False)
        self._running: dict[Hashable, list[Planned]] = {}

    def available_memory(self, device: str) -> tuple[int, str] | None:
        """The memory Ray may schedule on its largest node (GPU memory is not known here)."""
        if device != "cpu" or self.gpus:
            return None
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        largest = max((n["Resources"].get("memory", 0) for n in nodes), default=0)
        return (int(largest), "on the largest Ray node") if largest else None

    def plan(self, todo: list[Planned], data: Dataset, train: TrainConfig) -> list[list[Planned]]:
        """The engine's groups, halved where one would not fit on the largest node."""
        return make_batches(todo, train, self.available_memory(train.device))

    def start(self, data: Dataset, train: TrainConfig, keep_weights: bool,
              on_epoch: OnEpoch | None) -> None:
        self._data_box = [self.ray.put(data)]  # once per run; workers fetch it once each
        self._train, self._keep = train, keep_weights

    def launch(self, batch: list[Planned]) -> Hashable:
        reference = self.remote.remote(self._data_box, batch, self._train, self._keep)
        self._running[reference] = batch
        return reference  # type: ignore[no-any-return]

    def wait(self, handles: list[Hashable]) -> list[tuple[Hashable, list[ModelResult]]]:
        ready, _ = self.ray.wait(handles, num_returns=1)
        out = []
        for reference in ready:
            batch = self._running.pop(reference)
            out.append((reference, self._result(reference, batch)))
        return out

    def _result(self, reference: Any, batch: list[Planned]) -> list[ModelResult]:
        exceptions = self.ray.exceptions
        where = f"batch {batch[0].model_id}…{batch[-1].model_id} ({len(batch)} models)"
        try:
            return list(self.ray.get(reference))
        except exceptions.RayTaskError as exc:  # raised inside the task: not retried
            cause = exc.cause if exc.cause is not None else exc
            text = str(cause).strip().splitlines()
            message = text[0] if isinstance(cause, ParamlabError) and text else (
                f"{type(cause).__name__}: {text[-1] if text else ''}")
            raise BatchError(f"{where} failed on a Ray worker: {message}") from None
        except exceptions.RayError as exc:  # the worker died more often than max_retries
            text = str(exc).strip().splitlines()
            raise BatchError(f"{where} failed on the Ray cluster ({type(exc).__name__}: "
                             f"{text[0] if text else ''})") from None

    def stop(self) -> None:
        for reference in self._running:
            self.ray.cancel(reference, force=True)
        self._running.clear()

    def close(self) -> None:
        self.stop()
        if self.joined:
            self.ray.shutdown()


def connect(ray: Any, address: str | None) -> bool:
    """Join (or start) a Ray cluster within a bounded time; True when this call did the
    joining (and so should leave it at the end). An already initialized Ray is used as is."""
    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        _check_reachable(address)
    options: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
    if address is None:
        options["include_dashboard"] = False
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ParamlabError(f"cannot join the Ray cluster at {address}: {reason}; start one "
                            "with `ray start --head` or check --address") from None
    return True


def _check_reachable(address: str) -> None:
    """A TCP connection to HOST:PORT (or ray://HOST:PORT) within :data:`CONNECT_TIMEOUT`, so
    that a wrong address is one line, not a hang."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ParamlabError(f"--address must be auto, HOST:PORT or ray://HOST:PORT; "
                            f"received {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ParamlabError(f"cannot reach the Ray cluster at {address} within "
                            f"{CONNECT_TIMEOUT:g} s ({exc.strerror or exc}); start one with "
                            "`ray start --head` or check --address") from None
