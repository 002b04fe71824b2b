"""What experiments that train MLPs on one data set share: the data config, the results
columns of a trained model, and the run loop with resume."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.lab import executors
from paramlab.lab.data import Dataset, load_dataset
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig
from paramlab.lab.experiments.base import Column, Progress, RunOutcome
from paramlab.lab.store import RunStore

MODEL_COLUMNS = (
    Column("model_id", str, "unique within the run; the resume key"),
    Column("seed", int, "initialization seed"),
    Column("hidden", str, "hidden widths, e.g. 256-256"),
    Column("spec", str, "the MLP shorthand, e.g. 40-256-256-1"),
    Column("params", int, "trainable parameters (paramlab count)"),
    Column("observations", int, "training rows"),
    Column("params_per_observation", float),
    Column("train_loss", float), Column("val_loss", float), Column("test_loss", float),
    Column("train_metric", float, "accuracy, for classification"),
    Column("val_metric", float), Column("test_metric", float),
    Column("epochs", int, "epochs trained (early stopping may end sooner)"),
    Column("best_epoch", int), Column("seconds", float),
)
MODEL_DISPLAY = ("model_id", "hidden", "params", "params_per_observation", "train_loss",
                 "val_loss", "test_loss", "epochs")


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


@dataclass
class Planned:
    """One model a run intends to train."""

    model_id: str
    arch: MLPArch
    seed: int


def execute(
    plan: list[Planned],
    data: Dataset,
    train: TrainConfig,
    store: RunStore,
    *,
    keep_weights: bool,
    progress: Progress | None = None,
    row: Callable[[ModelResult], dict[str, Any]] | None = None,
    executor: executors.Executor | None = None,
) -> RunOutcome:
    """Train what the store does not hold yet; commit each model as it finishes (``row``:
    an experiment's own row of a result, for columns beyond :data:`MODEL_COLUMNS`).

    The models are trained by ``executor`` (default: the one the CLI installed with
    ``--executor``, else in this process), in the engine's groups; other processes working
    on the same folder at the same time take their share instead of colliding."""
    make_row = row or row_of
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
        store.record(make_row(result), result.history)
        progress.model_done(result)

    trained = executors.run_plan(
        todo, data, train, store, executor or executors.current(), keep_weights=keep_weights,
        on_model_done=finished, on_epoch=lambda epoch, metrics: progress.epoch(epoch,
                                                                               len(metrics)))
    order = {p.model_id: i for i, p in enumerate(plan)}
    trained.sort(key=lambda r: order[r.model_id])
    store.write_csv()
    return RunOutcome(store, len(trained), len(plan) - len(trained),
                      time.perf_counter() - start, data, trained)


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


def open_store(out: Path, experiment: str, config: dict[str, Any],
               columns: tuple[Column, ...] = MODEL_COLUMNS) -> RunStore:
    return RunStore.create_or_resume(out, {"experiment": experiment, **config}, columns)
