"""What every experiment shares: data/training options, the run loop with resume, progress."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.errors import ParamlabError
from paramlab.lab.data import Dataset, load_dataset
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig, train_models
from paramlab.lab.store import RunStore


@dataclass
class DataConfig:
    data: str = "synthetic"  # a built-in name or a CSV/Parquet/.npy path
    target: str | None = None  # the target column of a file
    n_samples: int | None = None  # total rows to generate (None: the data set's default)
    noise: float | None = None  # generator noise (None: the data set's default)
    data_seed: int = 0  # generation and split

    def load(self) -> Dataset:
        return load_dataset(self.data, target=self.target, seed=self.data_seed,
                            n_samples=self.n_samples, noise=self.noise)


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass, rejecting unknown keys (nanoGPT's configurator rule)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ParamlabError(f"unknown {cls.__name__} key(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(names))}")
    return cls(**values)


@dataclass
class Planned:
    """One model a run intends to train."""

    model_id: str
    arch: MLPArch
    seed: int


@dataclass
class Progress:
    """Callbacks the CLI plugs a progress bar into (no-ops by default)."""

    start: Callable[[int, int, int], None] = lambda total, done, epochs: None
    epoch: Callable[[int, int], None] = lambda epoch, models: None
    model_done: Callable[[ModelResult], None] = lambda result: None


@dataclass
class RunOutcome:
    store: RunStore
    data: Dataset
    trained: int
    skipped: int
    seconds: float
    results: list[ModelResult] = field(default_factory=list)


def execute(
    plan: list[Planned],
    data: Dataset,
    train: TrainConfig,
    store: RunStore,
    *,
    keep_weights: bool,
    progress: Progress | None = None,
) -> RunOutcome:
    """Train what the store does not hold yet; commit each model as it finishes."""
    progress = progress or Progress()
    done = store.finished_ids()
    todo = [p for p in plan if p.model_id not in done]
    progress.start(len(plan), len(plan) - len(todo), train.epochs)
    start = time.perf_counter()

    def finished(result: ModelResult) -> None:
        if keep_weights and result.weights is not None:
            arrays = {f"p{i}": w for i, w in enumerate(result.weights)}
            if result.test_predictions is not None:
                arrays["test_predictions"] = result.test_predictions
            store.save_arrays(result.model_id, arrays)
        store.record(row_of(result), result.history)
        progress.model_done(result)

    results = []
    if todo:
        results = train_models(
            [p.arch for p in todo], data, train, [p.seed for p in todo],
            model_ids=[p.model_id for p in todo], keep_weights=keep_weights,
            on_epoch=lambda epoch, metrics: progress.epoch(epoch, len(metrics)),
            on_model_done=finished,
        )
    store.write_csv()
    return RunOutcome(store, data, len(todo), len(plan) - len(todo),
                      time.perf_counter() - start, results)


def row_of(result: ModelResult) -> dict[str, Any]:
    return {
        "model_id": result.model_id, "seed": result.seed,
        "hidden": "-".join(map(str, result.arch.hidden)), "spec": result.arch.spec(),
        "params": result.params, "observations": result.observations,
        "params_per_observation": result.params_per_observation,
        "train_loss": result.train_loss, "val_loss": result.val_loss,
        "test_loss": result.test_loss, "train_metric": result.train_metric,
        "val_metric": result.val_metric, "test_metric": result.test_metric,
        "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": result.seconds,
    }


def open_store(out: Path, experiment: str, config: dict[str, Any]) -> RunStore:
    return RunStore.create_or_resume(out, {"experiment": experiment, **config})
