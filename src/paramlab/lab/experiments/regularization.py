"""Regularization picks one solution among many: weight decay, dropout and early stopping.

Two halves. *Networks*: one-hidden-layer MLPs of several widths on the seed-style regression,
each trained without regularization and with every weight decay, every dropout rate and early
stopping (the batched engine; one regularizer changed at a time, the same initialization per
width), so validation loss can be read against parameter count for each setting.
*Linear models*, where the theory is exact (:mod:`paramlab.lab.science.regularization`):
ridge's effective degrees of freedom along λ, and dropout's minimizer computed from the exact
expected loss, from the generalized-ridge formula and by SGD on random masks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.fields import check_list, float_list, int_list, option, require
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import MLPArch, ModelResult, Planned, TrainConfig
from paramlab.lab.runner import (
    MODEL_COLUMNS,
    Analysis,
    ComputePoints,
    DemoLevel,
    Experiment,
    History,
    Plan,
    Row,
    RunOutcome,
    TrainModels,
    ridge_option,
    row_of,
    seed_option,
)
from paramlab.lab.science.regularization import (
    degrees_of_freedom,
    dropout_hat_trace,
    dropout_sgd,
    generalized_ridge,
    minimize_expected_dropout_loss,
    ridge_fit,
)
from paramlab.lab.store import Column, RunStore

SAME = 1e-6  # the two dropout solutions "agree"


@dataclass
class RegularizationConfig:
    # the seed's 13,000 × 40 regression
    data: DataConfig = option(default_factory=DataConfig)
    # the baseline
    train: TrainConfig = option(default_factory=lambda: TrainConfig(epochs=30, batch_size=64))
    widths: tuple[int, ...] = option((16, 64, 256, 1024), flag="--widths", type=int_list,
                                     metavar="W,…", help="hidden units of the "
                                     "one-hidden-layer MLPs (default 16,64,256,1024)")
    weight_decay: tuple[float, ...] = option((1e-4, 1e-3, 1e-2, 1e-1), flag="--weight-decays",
                                             type=float_list, metavar="λ,…",
                                             help="one weight-decay setting each (default "
                                             "1e-4,1e-3,1e-2,0.1)")
    dropout: tuple[float, ...] = option((0.1, 0.3, 0.5), flag="--dropouts", type=float_list,
                                        metavar="P,…", help="drop rates, for the MLPs and "
                                        "the linear model (default 0.1,0.3,0.5)")
    patience: int | None = option(3, flag="--early-stopping", type=int, metavar="PATIENCE",
                                  help="patience of the early-stopping setting")
    ridge: tuple[float, ...] = ridge_option((0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7))
    sgd_epochs: int = option(40, flag="--sgd-epochs", type=int, help="epochs of SGD on "
                             "random dropout masks, linear model")
    seed: int = seed_option()  # initializations (one per width, shared by every setting)

    def validate(self) -> None:
        check_list("widths", self.widths, low=1)
        check_list("weight_decay", self.weight_decay, low=0.0)
        check_list("dropout", self.dropout, low=0.0)
        require(all(rate < 1 for rate in self.dropout), "dropout",
                f"values must be in [0, 1); received {max(self.dropout):g}")
        check_list("ridge", self.ridge, low=0.0)
        require(self.patience is None or self.patience >= 1, "patience",
                f"must be at least 1 (or omitted); received {self.patience}")
        require(self.sgd_epochs >= 1, "sgd_epochs",
                f"must be at least 1; received {self.sgd_epochs}")
        self.train.validate()


COLUMNS = (
    *MODEL_COLUMNS,
    Column("model", str, "mlp, ridge or linear-dropout"),
    Column("setting", str, "none, weight-decay, dropout, early-stopping (MLPs)"),
    Column("width", int, "hidden units (MLPs)"),
    Column("n_train", int, "training rows (= observations)"),
    Column("weight_decay", float), Column("dropout", float, "drop rate"),
    Column("patience", int, "early-stopping patience"),
    Column("ridge", float, "ridge penalty λ (linear)"),
    Column("df", float, "effective degrees of freedom: trace of the hat matrix (linear)"),
    Column("dropout_ridge_gap", float,
           "max |β| difference: expected-dropout-loss minimizer vs generalized ridge"),
    Column("dropout_sgd_gap", float, "‖β_SGD − β_ridge‖ / ‖β_ridge‖, SGD on random masks"),
)
DISPLAY = ("model_id", "params", "df", "train_loss", "val_loss", "test_loss", "epochs")


@dataclass(frozen=True)
class DropoutSolutions:
    """One drop rate's linear coefficients three ways."""

    dropout: float
    ridge: tuple[float, ...]  # the generalized-ridge formula
    expected: tuple[float, ...]  # a generic optimizer on the exact expected loss
    sgd: tuple[float, ...]  # SGD on random masks


@dataclass(frozen=True)
class RegularizationAnalysis(Analysis):
    """The linear half's spectrum and coefficients, for the report's figures."""

    singular_values: tuple[float, ...]
    rank: int
    features: int
    observations: int
    least_squares: tuple[float, ...]
    dropouts: tuple[DropoutSolutions, ...]


def linear_fits(data: Dataset, config: RegularizationConfig) -> tuple[
        list[Row], RegularizationAnalysis]:
    """Ridge along λ and dropout at each rate, on the training split; rows and analysis."""
    X, y = data.X_train.astype(float), data.y_train[:, 0].astype(float)
    singular = np.linalg.svd(X, compute_uv=False)
    p, n = X.shape[1], X.shape[0]
    base = {"params": p, "observations": n, "n_train": n, "params_per_observation": p / n,
            "spec": f"{p}-1"}
    rows: list[Row] = []
    dropouts: list[DropoutSolutions] = []
    for lam in config.ridge:
        beta = ridge_fit(X, y, lam)
        rows.append({**base, **_losses(beta, data), "model_id": f"ridge-{lam:g}",
                     "model": "ridge", "ridge": lam, "df": degrees_of_freedom(singular, lam)})
    for rate in config.dropout:
        keep = 1 - rate
        formula = generalized_ridge(X, y, keep)
        optimized = minimize_expected_dropout_loss(X, y, keep)
        sgd = dropout_sgd(X, y, keep, config.sgd_epochs, config.seed)
        hat_trace = dropout_hat_trace(X, keep)
        rows.append({**base, **_losses(formula, data), "model_id": f"linear-dropout-{rate:g}",
                     "model": "linear-dropout", "dropout": rate, "df": hat_trace,
                     "dropout_ridge_gap": float(np.max(np.abs(optimized - formula))),
                     "dropout_sgd_gap": float(np.linalg.norm(sgd - formula)
                                              / np.linalg.norm(formula))})
        dropouts.append(DropoutSolutions(rate, tuple(formula.tolist()),
                                         tuple(optimized.tolist()), tuple(sgd.tolist())))
    analysis = RegularizationAnalysis(
        tuple(singular.tolist()), int(np.sum(singular > 1e-10)), p, n,
        tuple(ridge_fit(X, y, 0).tolist()), tuple(dropouts))
    return rows, analysis


def _losses(beta: np.ndarray, data: Dataset) -> dict[str, float]:
    def mse(X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean((X.astype(float) @ beta - y[:, 0]) ** 2))

    return {"train_loss": mse(data.X_train, data.y_train),
            "val_loss": mse(data.X_val, data.y_val), "test_loss": mse(data.X_test, data.y_test)}



def settings(config: RegularizationConfig) -> list[tuple[str, TrainConfig]]:
    """(setting id, training config): the baseline, then one regularizer changed at a time."""
    base = config.train
    out = [("none", base)]
    out += [(f"weight-decay={v:g}", dataclasses.replace(base, weight_decay=v))
            for v in config.weight_decay]
    out += [(f"dropout={v:g}", dataclasses.replace(base, dropout=v)) for v in config.dropout]
    if config.patience is not None:
        out.append((f"early-stopping={config.patience}",
                    dataclasses.replace(base, patience=config.patience)))
    return out


def network_plan(config: RegularizationConfig, data: Dataset, setting: str) -> list[Planned]:
    return [Planned(f"mlp-{setting}-w{width:05d}",
                    MLPArch(data.n_features, (width,), data.n_outputs),
                    config.seed * 100_003 + i) for i, width in enumerate(config.widths)]


def network_row(setting: str, train: TrainConfig) -> Callable[[ModelResult], Row]:
    """The engine's row plus which regularizer this setting changed."""

    def row(result: ModelResult) -> Row:
        return {**row_of(result), "model": "mlp", "setting": setting.split("=")[0],
                "n_train": result.observations,
                "width": result.arch.hidden[0], "weight_decay": train.weight_decay,
                "dropout": train.dropout, "patience": train.patience}
    return row


def plan(config: RegularizationConfig) -> Plan:
    """The linear fits first (closed forms, computed now), then each setting's networks."""
    data = config.data.load()
    if data.task != "regression" or data.n_outputs != 1:
        raise ParamlabError(f"regularization needs a regression with one target; "
                            f"{data.name} is a {data.task} with {data.n_outputs} outputs")
    linear_rows, analysis = linear_fits(data, config)

    def linear(missing: list[str], store: RunStore) -> list[list[tuple[Row, History]]]:
        return [[(row, [])] for row in linear_rows if row["model_id"] in missing]

    stages: list[ComputePoints | TrainModels] = [
        ComputePoints([row["model_id"] for row in linear_rows], linear)]
    stages += [TrainModels(network_plan(config, data, setting), data, train,
                           row=network_row(setting, train))
               for setting, train in settings(config)]
    return Plan(tuple(stages), data, prepared=analysis)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RegularizationConfig | None:
    """Full demo only: 2,000 rows of the seed regression, three widths, every setting."""
    if level != "full":
        return None
    return RegularizationConfig(DataConfig("synthetic", n_samples=2000),
                                TrainConfig(epochs=40, batch_size=64), widths=(8, 64, 512),
                                weight_decay=(1e-3, 1e-2, 1e-1), dropout=(0.2, 0.5),
                                patience=4, sgd_epochs=40)


EXPERIMENT = Experiment(
    name="regularization",
    help="weight decay, dropout, early stopping; ridge's degrees of freedom; dropout = ridge",
    description="One-hidden-layer MLPs of several widths trained without and with each "
    "regularizer (validation loss against parameters), ridge's effective degrees of freedom "
    "beside the raw count, and dropout on a linear model shown equal to its data-dependent "
    "ridge penalty.",
    config=RegularizationConfig,
    plan=plan,
    columns=COLUMNS,
    order=50,
    analysis=RegularizationAnalysis,
    display=DISPLAY,
    demo=demo_config,
    example=("--n-samples", "300", "--widths", "8", "--weight-decays", "0.1",
             "--dropouts", "0.5", "--epochs", "2", "--ridge", "0,10", "--sgd-epochs", "2"),
)
