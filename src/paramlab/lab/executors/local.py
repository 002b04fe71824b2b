"""The in-process executor: batches trained one after another by the batched engine."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from paramlab.lab.executors.batches import available_memory, train_batch

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult, TrainConfig
    from paramlab.lab.executors import OnEpoch
    from paramlab.lab.experiments.common import Planned


class LocalExecutor:
    """Trains each batch when the driver waits for it, in this process (epochs reach the
    progress bar as they happen)."""

    name = "local"
    slots = 1

    def __init__(self) -> None:
        self._batches: dict[int, list[Planned]] = {}
        self._next = 0

    def available_memory(self, device: str) -> tuple[int, str] | None:
        return available_memory(device)

    def start(self, data: Dataset, train: TrainConfig, keep_weights: bool,
              on_epoch: OnEpoch | None) -> None:
        self._data, self._train, self._keep, self._on_epoch = data, train, keep_weights, on_epoch

    def launch(self, batch: list[Planned]) -> Hashable:
        self._next += 1
        self._batches[self._next] = batch
        return self._next

    def wait(self, handles: list[Hashable]) -> list[tuple[Hashable, list[ModelResult]]]:
        handle = handles[0]
        batch = self._batches.pop(handle)  # type: ignore[call-overload]
        return [(handle, train_batch(batch, self._data, self._train, self._keep,
                                     self._on_epoch))]

    def stop(self) -> None:
        self._batches.clear()

    def close(self) -> None:
        pass
