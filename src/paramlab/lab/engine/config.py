"""What a run asks for and what it gets back: architectures, training options, results.

These three dataclasses are the engine's public vocabulary; every experiment builds them, so
their fields and defaults only ever grow (new fields come with defaults).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from paramlab.errors import ParamlabError, SpecError
from paramlab.fields import option, require

EpochCallback = Callable[[int, dict[str, dict[str, float]]], None]  # (epoch, {id: metrics})


@dataclass(frozen=True)
class MLPArch:
    """A fully connected network: input features, hidden widths, outputs."""

    in_features: int
    hidden: tuple[int, ...]
    out_features: int

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.in_features, *self.hidden, self.out_features)

    @classmethod
    def parse(cls, spec: str, n_in: int, n_out: int, who: str) -> MLPArch:
        """The MLP a shorthand such as ``40-256-256-1`` names, checked against the data
        (``who``: the experiment asking, named in the error)."""
        parts = spec.replace(" ", "").split("-")
        if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise SpecError(f"{who} needs an MLP shorthand such as {n_in}-256-256-{n_out}; "
                            f"received {spec!r}")
        widths = [int(p) for p in parts]
        if widths[0] != n_in or widths[-1] != n_out:
            hidden = "-".join(map(str, widths[1:-1])) or "64"
            raise SpecError(f"{spec!r} does not fit the data: it has {n_in} features and "
                            f"needs {n_out} outputs, e.g. {n_in}-{hidden}-{n_out}")
        return cls(n_in, tuple(widths[1:-1]), n_out)

    def spec(self) -> str:
        """The MLP shorthand, e.g. ``40-256-256-1``."""
        return "-".join(map(str, self.widths))

    def params(self) -> int:
        """Exact parameter count, from the counting core."""
        from paramlab import count

        return count(self.spec(), other_convention=False).total


@dataclass(frozen=True)
class Planned:
    """One model a run intends to train: its id (the resume key), architecture and seed."""

    model_id: str
    arch: MLPArch
    seed: int


@dataclass
class TrainConfig:
    """How every model of a run is trained. The fields with a flag are ``paramlab run``'s
    training options (:mod:`paramlab.fields`); a study's config sets its own defaults."""

    epochs: int = option(20, flag="--epochs", group="training", type=int)
    batch_size: int = option(32, flag="--batch-size", group="training", type=int)
    lr: float = option(1e-3, flag="--lr", group="training", type=float)
    optimizer: str = option("adam", flag="--optimizer", group="training",
                            choices=["adam", "sgd"])
    momentum: float = option(0.0, flag="--momentum", help="SGD momentum", group="training",
                             type=float)
    # L2 added to the gradient, as torch.optim's weight_decay
    weight_decay: float = option(0.0, flag="--weight-decay", group="training", type=float)
    # after every hidden activation, training only
    dropout: float = option(0.0, flag="--dropout", group="training", type=float)
    loss: str | None = None  # "mse" | "cross_entropy"; None: from the data set's task
    patience: int | None = option(None, flag="--patience", group="training", type=int,
                                  help="early stopping on validation loss (best weights "
                                  "restored)")
    device: str = option("cpu", flag="--device", group="training",
                         choices=["cpu", "cuda", "auto"])
    activation: str = "relu"  # "relu" | "tanh"
    # the batch order, shared by every model of a run (the CLI's --seed)
    data_seed: int = option(0, same_as="seed")
    # classification: evaluate the whole training set after every epoch and record its
    # accuracy in the history ("train_accuracy"), e.g. to find the epoch a model fits
    track_train_accuracy: bool = False

    def validate(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs must be a positive integer", self.epochs),
            (self.batch_size >= 1, "batch_size must be a positive integer", self.batch_size),
            (self.lr > 0, "lr must be positive", self.lr),
            (self.optimizer in ("adam", "sgd"), "optimizer must be 'adam' or 'sgd'",
             self.optimizer),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)", self.momentum),
            (self.weight_decay >= 0, "weight_decay must be ≥ 0", self.weight_decay),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)", self.dropout),
            (self.loss in (None, "mse", "cross_entropy"), "loss must be 'mse' or "
             "'cross_entropy'", self.loss),
            (self.patience is None or self.patience >= 1, "patience must be ≥ 1",
             self.patience),
            (self.device in ("cpu", "cuda", "auto"), "device must be cpu, cuda or auto",
             self.device),
            (self.activation in ("relu", "tanh"), "activation must be relu or tanh",
             self.activation),
        ]
        for ok, message, value in checks:
            name, _, problem = message.partition(" ")
            require(ok, name, f"{problem}; received {value!r}")

    def loss_for(self, task: str) -> str:
        """The loss to train with: the configured one, else the data set's natural one."""
        return self.loss or ("cross_entropy" if task == "classification" else "mse")


@dataclass
class ModelResult:
    """Everything recorded for one trained model."""

    model_id: str
    arch: MLPArch
    seed: int
    params: int
    observations: int
    params_per_observation: float
    history: list[dict[str, float]]  # per epoch: epoch, train_loss, val_loss, test_loss
    train_loss: float
    val_loss: float
    test_loss: float
    epochs: int  # epochs trained (early stopping may end sooner)
    seconds: float  # the group's wall time shared equally among its models
    train_metric: float | None = None  # accuracy, for classification
    val_metric: float | None = None
    test_metric: float | None = None
    best_epoch: int = 0
    weights: list[np.ndarray] | None = None  # [W1, b1, W2, b2, …], W as (fan_in, fan_out)
    test_predictions: np.ndarray | None = None
    theta_d: np.ndarray | None = None  # subspace training: the trained (d,) coordinates


def resolve_device(name: str) -> torch.device:
    """``auto`` picks a GPU when PyTorch sees one; asking for a missing GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ParamlabError("device 'cuda' was requested but PyTorch sees no CUDA GPU; "
                            "use --device cpu or auto")
    return torch.device(name)
