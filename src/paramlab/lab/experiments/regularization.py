"""Regularization picks one solution among many: weight decay, dropout and early stopping.

Two halves. *Networks*: one-hidden-layer MLPs of several widths on the seed-style regression,
each trained without regularization and with every weight decay, every dropout rate and early
stopping (the batched engine; one regularizer changed at a time, the same initialization per
width), so validation loss can be read against parameter count for each setting.

*Linear models*, where the theory is exact. Ridge with penalty λ spends fewer parameters than
it has: its effective degrees of freedom, the trace of the hat matrix X(XᵀX + λI)⁻¹Xᵀ, are
df(λ) = Σ dᵢ²/(dᵢ² + λ) (dᵢ the singular values of X; Hastie, Tibshirani & Friedman, *ESL*
§3.4.1) — rank(X) at λ = 0, falling to 0 as λ → ∞. Dropout on a linear model with keep
probability q (features multiplied by δⱼ/q, δⱼ ~ Bernoulli(q)) has expected loss
E‖y − X(δ⊙β)/q‖² = ‖y − Xβ‖² + ((1 − q)/q)·Σⱼ‖Xⱼ‖²βⱼ² (Wager, Wang & Liang 2013; Srivastava
et al. 2014 §9.1): a ridge penalty scaled by each feature column's energy. Its minimizer is the
generalized ridge solution (XᵀX + ((1 − q)/q)·diag(XᵀX))⁻¹Xᵀy. The study computes that
minimizer twice — from the exact expectation (the mask's first and second moments) with a
generic optimizer, and from the formula — and checks it a third way with SGD on random masks.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.data import Dataset
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig
from paramlab.lab.experiments import options, study_options
from paramlab.lab.experiments.base import (
    Column,
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
    Section,
)
from paramlab.lab.experiments.common import (
    MODEL_COLUMNS,
    DataConfig,
    Planned,
    execute,
    open_store,
    row_of,
)
from paramlab.lab.store import RunStore

NAME = "regularization"
SAME = 1e-6  # the two dropout solutions "agree"


@dataclass
class RegularizationConfig:
    data: DataConfig = field(default_factory=DataConfig)  # the seed's 13,000 × 40 regression
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=30, batch_size=64))  # the baseline
    widths: tuple[int, ...] = (16, 64, 256, 1024)  # hidden units of the one-layer MLPs
    weight_decay: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)  # one setting each
    dropout: tuple[float, ...] = (0.1, 0.3, 0.5)  # drop rates (MLPs and the linear model)
    patience: int | None = 3  # the early-stopping setting (None: no such setting)
    ridge: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7)  # linear λ
    sgd_epochs: int = 40  # SGD with random dropout masks on the linear model (sanity check)
    seed: int = 0  # initializations (one per width, shared by every setting)

    def validate(self) -> None:
        study_options.check_list("--widths", self.widths, low=1)
        study_options.check_list("--weight-decays", self.weight_decay, low=0.0)
        study_options.check_list("--dropouts", self.dropout, low=0.0)
        if any(rate >= 1 for rate in self.dropout):
            raise ParamlabError(f"--dropouts values must be in [0, 1); received "
                                f"{max(self.dropout):g}")
        study_options.check_list("--ridge", self.ridge, low=0.0)
        if self.patience is not None and self.patience < 1:
            raise ParamlabError(f"--early-stopping must be at least 1 (or omitted); "
                                f"received {self.patience}")
        if self.sgd_epochs < 1:
            raise ParamlabError(f"--sgd-epochs must be at least 1; received {self.sgd_epochs}")
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


# ------------------------------------------------------------------ linear theory


def degrees_of_freedom(singular: np.ndarray, lam: float) -> float:
    """df(λ) = Σ dᵢ²/(dᵢ² + λ); at λ = 0 the count of non-zero singular values (the rank)."""
    d2 = singular[singular > singular.max() * max(singular.shape) * np.finfo(float).eps] ** 2
    return float(np.sum(d2 / (d2 + lam)))


def ridge_fit(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin ‖y − Xβ‖² + λ‖β‖² (λ = 0: the minimum-norm least-squares fit)."""
    if lam == 0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def generalized_ridge(X: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """(XᵀX + ((1 − q)/q)·diag(XᵀX))⁻¹Xᵀy: the minimizer of the dropout penalty's formula."""
    gram = X.T @ X
    return np.linalg.solve(gram + (1 - keep) / keep * np.diag(np.diag(gram)), X.T @ y)


def expected_dropout_loss(beta: np.ndarray, X: np.ndarray, y: np.ndarray,
                          keep: float) -> tuple[float, np.ndarray]:
    """E‖y − X(δ⊙β)/q‖² over δⱼ ~ Bernoulli(q) independent, and its gradient in β.

    Exact, from the mask's moments alone: with D = diag(δ)/q, E[D] = I and
    E[D A D]ⱼₖ = Aⱼₖ for j ≠ k, Aⱼⱼ/q on the diagonal. So the expectation is
    ‖y‖² − 2yᵀXβ + βᵀMβ with M = XᵀX off the diagonal and diag(XᵀX)/q on it.
    """
    gram = X.T @ X
    moment = gram + (1 / keep - 1) * np.diag(np.diag(gram))
    xty = X.T @ y
    value = float(y @ y - 2 * xty @ beta + beta @ moment @ beta)
    return value, 2 * (moment @ beta - xty)


def minimize_expected_dropout_loss(X: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """The minimizer of the exact expected dropout loss by a generic optimizer (L-BFGS),
    independent of the generalized-ridge formula."""
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    scale = 1.0 / X.shape[0]

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = expected_dropout_loss(beta, X, y, keep)
        return value * scale, gradient * scale

    result = minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-13, "ftol": 0.0, "maxiter": 10_000})
    return np.asarray(result.x)


def dropout_sgd(X: np.ndarray, y: np.ndarray, keep: float, epochs: int, seed: int,
                batch: int = 128) -> np.ndarray:
    """Minibatch SGD on the dropout loss with a fresh mask per row and step, iterates
    averaged over the second half (Polyak–Ruppert): a Monte-Carlo estimate of the expected
    loss's minimizer."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    gram = X.T @ X
    curvature = np.linalg.eigvalsh(gram + (1 / keep - 1) * np.diag(np.diag(gram)))[-1] / n
    lr = 0.2 / float(curvature)  # well inside the stable range of the expected loss
    beta, total, counted = np.zeros(p), np.zeros(p), 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for begin in range(0, n, batch):
            rows = order[begin: begin + batch]
            masked = X[rows] * (rng.random((len(rows), p)) < keep) / keep
            beta -= lr * masked.T @ (masked @ beta - y[rows]) / len(rows)
            if epoch >= epochs // 2:
                total += beta
                counted += 1
    return total / counted


def linear_fits(data: Dataset, config: RegularizationConfig) -> tuple[
        list[dict[str, Any]], dict[str, Any]]:
    """Ridge along λ and dropout at each rate, on the training split; rows and analysis."""
    X, y = data.X_train.astype(float), data.y_train[:, 0].astype(float)
    singular = np.linalg.svd(X, compute_uv=False)
    p, n = X.shape[1], X.shape[0]
    base = {"params": p, "observations": n, "n_train": n, "params_per_observation": p / n,
            "spec": f"{p}-1"}
    rows, dropouts = [], []
    for lam in config.ridge:
        beta = ridge_fit(X, y, lam)
        rows.append({**base, **_losses(beta, data), "model_id": f"ridge-{lam:g}",
                     "model": "ridge", "ridge": lam, "df": degrees_of_freedom(singular, lam)})
    for rate in config.dropout:
        keep = 1 - rate
        formula = generalized_ridge(X, y, keep)
        optimized = minimize_expected_dropout_loss(X, y, keep)
        sgd = dropout_sgd(X, y, keep, config.sgd_epochs, config.seed)
        gram = X.T @ X
        penalty = (1 - keep) / keep * np.diag(np.diag(gram))
        hat_trace = float(np.trace(np.linalg.solve(gram + penalty, gram)))
        rows.append({**base, **_losses(formula, data), "model_id": f"linear-dropout-{rate:g}",
                     "model": "linear-dropout", "dropout": rate, "df": hat_trace,
                     "dropout_ridge_gap": float(np.max(np.abs(optimized - formula))),
                     "dropout_sgd_gap": float(np.linalg.norm(sgd - formula)
                                              / np.linalg.norm(formula))})
        dropouts.append({"dropout": rate, "ridge": formula.tolist(),
                         "expected": optimized.tolist(), "sgd": sgd.tolist()})
    analysis = {"singular_values": singular.tolist(), "rank": int(np.sum(singular > 1e-10)),
                "features": p, "observations": n, "least_squares": ridge_fit(X, y, 0).tolist(),
                "dropouts": dropouts}
    return rows, analysis


def _losses(beta: np.ndarray, data: Dataset) -> dict[str, float]:
    def mse(X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean((X.astype(float) @ beta - y[:, 0]) ** 2))

    return {"train_loss": mse(data.X_train, data.y_train),
            "val_loss": mse(data.X_val, data.y_val), "test_loss": mse(data.X_test, data.y_test)}


# ------------------------------------------------------------------ networks


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


def network_row(setting: str, train: TrainConfig) -> Callable[[ModelResult], dict[str, Any]]:
    """The engine's row plus which regularizer this setting changed."""

    def row(result: ModelResult) -> dict[str, Any]:
        return {**row_of(result), "model": "mlp", "setting": setting.split("=")[0],
                "n_train": result.observations,
                "width": result.arch.hidden[0], "weight_decay": train.weight_decay,
                "dropout": train.dropout, "patience": train.patience}
    return row


def run(config: RegularizationConfig, out: Path, progress: Progress | None = None) -> RunOutcome:
    config.validate()
    progress = progress or Progress()
    start = time.perf_counter()
    data = config.data.load()
    if data.task != "regression" or data.n_outputs != 1:
        raise ParamlabError(f"regularization needs a regression with one target; "
                            f"{data.name} is a {data.task} with {data.n_outputs} outputs")
    store = open_store(out, NAME, dataclasses.asdict(config), COLUMNS)
    done = store.finished_ids()
    plans = [(s, train, network_plan(config, data, s)) for s, train in settings(config)]
    linear_rows, analysis = linear_fits(data, config)
    total = len(linear_rows) + sum(len(plan) for _, _, plan in plans)
    skipped = sum(r["model_id"] in done for r in linear_rows) + sum(
        p.model_id in done for _, _, plan in plans for p in plan)
    progress.start(total, skipped, config.train.epochs)
    for row in linear_rows:
        if row["model_id"] not in done:
            store.record(row, [])
            progress.model_done(row)
    inner = Progress(epoch=progress.epoch, model_done=progress.model_done)
    for setting, train, plan in plans:
        execute(plan, data, train, store, keep_weights=False, progress=inner,
                row=network_row(setting, train))
    store.write_csv()
    store.write_json("analysis.json", analysis)
    outcome = RunOutcome(store, total - skipped, skipped, time.perf_counter() - start, data,
                         analysis=analysis)
    outcome.summary = regularization_sentences(store.rows())[-2:]
    return outcome


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    d = RegularizationConfig()
    p.add_argument("--widths", type=study_options.int_list, default=d.widths, metavar="W,…",
                   help="hidden units of the one-hidden-layer MLPs (default 16,64,256,1024)")
    p.add_argument("--weight-decays", type=study_options.float_list, default=d.weight_decay,
                   metavar="λ,…", help="one weight-decay setting each (default "
                   "1e-4,1e-3,1e-2,0.1)")
    p.add_argument("--dropouts", type=study_options.float_list, default=d.dropout,
                   metavar="P,…", help="drop rates, for the MLPs and the linear model "
                   "(default 0.1,0.3,0.5)")
    p.add_argument("--early-stopping", type=int, default=d.patience, metavar="PATIENCE",
                   help="patience of the early-stopping setting (default 3)")
    study_options.add_ridge(p, d.ridge)
    p.add_argument("--sgd-epochs", type=int, default=d.sgd_epochs,
                   help="epochs of SGD on random dropout masks, linear model (default 40)")
    options.add_data(p)
    options.add_training(p, epochs=d.train.epochs, batch_size=d.train.batch_size)


def build_config(ns: argparse.Namespace) -> RegularizationConfig:
    return RegularizationConfig(options.data_config(ns), options.train_config(ns), ns.widths,
                                ns.weight_decays, ns.dropouts, ns.early_stopping, ns.ridge,
                                ns.sgd_epochs, ns.seed)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RegularizationConfig | None:
    """Full demo only: 2,000 rows of the seed regression, three widths, every setting."""
    if level != "full":
        return None
    return RegularizationConfig(DataConfig("synthetic", n_samples=2000),
                                TrainConfig(epochs=40, batch_size=64), widths=(8, 64, 512),
                                weight_decay=(1e-3, 1e-2, 1e-1), dropout=(0.2, 0.5),
                                patience=4, sgd_epochs=40)


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = store.rows()
    analysis = store.read_json("analysis.json")
    networks = sorted((r for r in rows if r["model"] == "mlp"),
                      key=lambda r: (r["setting"], r["model_id"]))
    return Section(
        "Regularization: weight decay, dropout and early stopping pick one solution",
        regularization_sentences(rows),
        [plot_val_vs_params(networks, plots_dir / f"{NAME}_val_vs_params.png"),
         plot_df(rows, analysis, plots_dir / f"{NAME}_df.png"),
         plot_dropout_ridge(analysis, plots_dir / f"{NAME}_dropout_ridge.png")],
        [reporting.rows_table("Networks", networks,
                              ["model_id", "params", "weight_decay", "dropout", "patience",
                               "train_loss", "val_loss", "epochs", "best_epoch"]),
         reporting.rows_table("Linear models", [r for r in rows if r["model"] != "mlp"],
                              ["model_id", "params", "df", "train_loss", "val_loss",
                               "dropout_ridge_gap", "dropout_sgd_gap"])],
    )


def regularization_sentences(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The run's verdicts, each computed from its numbers and able to say the opposite."""
    networks = [r for r in rows if r["model"] == "mlp"]
    lines = []
    if networks:
        lines += _network_sentences(networks)
    ridges = [r for r in rows if r["model"] == "ridge"]
    if ridges:
        lines.append(_df_sentence(ridges))
    dropouts = [r for r in rows if r["model"] == "linear-dropout"]
    if dropouts:
        lines += _dropout_sentences(dropouts)
    return lines


def _network_sentences(networks: list[dict[str, Any]]) -> list[str]:
    widest = max(r["width"] for r in networks)
    at_widest: dict[str, list[dict[str, Any]]] = {}
    for r in networks:
        if r["width"] == widest:
            at_widest.setdefault(r["setting"], []).append(r)
    baseline = at_widest.get("none", [])
    if not baseline:
        return []
    plain = baseline[0]
    lines = [f"Without regularization the widest network ({plain['spec']}, "
             f"{plain['params']:,} parameters for {plain['observations']:,} observations) "
             f"reached validation loss {plain['val_loss']:.4f} (training loss "
             f"{plain['train_loss']:.4f})."]
    for setting, label in (("weight-decay", "weight decay"), ("dropout", "dropout"),
                           ("early-stopping", "early stopping")):
        tried = at_widest.get(setting, [])
        if tried:
            lines.append(_setting_sentence(label, plain, min(tried, key=lambda r: r["val_loss"])))
    return lines


def _setting_sentence(label: str, plain: dict[str, Any], best: dict[str, Any]) -> str:
    value = {"weight decay": f"λ = {best['weight_decay']:g}",
             "dropout": f"rate {best['dropout']:g}",
             "early stopping": f"patience {best['patience']}, stopped at epoch "
                               f"{best['epochs']} (best {best['best_epoch']})"}[label]
    head = (f"With {label} ({value}) it reached {best['val_loss']:.4f} (training loss "
            f"{best['train_loss']:.4f})")
    if best["val_loss"] < plain["val_loss"]:
        return head + (f": better than without — {label} chose a solution that generalizes "
                       "better among those that fit.")
    return head + f": no better than without — here {label} did not improve generalization."


def _df_sentence(ridges: list[dict[str, Any]]) -> str:
    best = min(ridges, key=lambda r: r["val_loss"])
    ordered = sorted(ridges, key=lambda r: r["ridge"])
    p = ridges[0]["params"]
    head = (f"Linear ridge on {ridges[0]['observations']:,} observations: {p} coefficients, but "
            f"effective degrees of freedom df(λ) = Σ dᵢ²/(dᵢ² + λ) run from "
            f"{ordered[0]['df']:.2f} at λ = {ordered[0]['ridge']:g} to "
            f"{ordered[-1]['df']:.2f} at λ = {ordered[-1]['ridge']:g}; the best validation "
            f"loss, {best['val_loss']:.4f}, is at λ = {best['ridge']:g} with df = "
            f"{best['df']:.2f}")
    if best["df"] < 0.95 * p:
        return head + (": fewer effective parameters than raw ones generalize best — the "
                       "raw count overstates what the fit uses.")
    change = 1 - best["val_loss"] / ordered[0]["val_loss"] if ordered[0]["val_loss"] else 0.0
    return head + (f": the data determine essentially every coefficient here, so the raw "
                   f"count is the effective one (shrinking changed validation loss by "
                   f"{change:.1%} from λ = {ordered[0]['ridge']:g}).")


def _dropout_sentences(dropouts: list[dict[str, Any]]) -> list[str]:
    gap = max(r["dropout_ridge_gap"] for r in dropouts)
    sgd = max(r["dropout_sgd_gap"] for r in dropouts)
    rates = ", ".join(f"{r['dropout']:g}" for r in sorted(dropouts, key=lambda r: r["dropout"]))
    if gap <= SAME:
        first = (f"Dropout on the linear model is ridge: at rates {rates}, minimizing the exact "
                 f"expected dropout loss and solving (XᵀX + ((1−q)/q)·diag(XᵀX))β = Xᵀy give "
                 f"the same coefficients (largest difference {gap:.1e}).")
    else:
        first = (f"At rates {rates} the expected-dropout-loss minimizer and the generalized "
                 f"ridge solution differ by up to {gap:.1e}: the optimizer did not converge, "
                 "so this run does not confirm the equivalence.")
    if sgd <= 0.05:
        second = (f"SGD with random masks lands within {sgd:.1%} of that solution: training "
                  "with dropout does minimize the ridge-penalized loss.")
    else:
        second = (f"SGD with random masks ends {sgd:.1%} from that solution — too few epochs "
                  "to average out the mask noise.")
    return [first, second]


def plot_val_vs_params(networks: list[dict[str, Any]], path: Path) -> Path:
    """Validation loss against parameters, one line per setting."""
    fig, ax = plots.figure()
    by_setting: dict[str, list[dict[str, Any]]] = {}
    for r in networks:
        key = r["model_id"].removeprefix("mlp-").rsplit("-w", 1)[0]
        by_setting.setdefault(key, []).append(r)
    for key, group in sorted(by_setting.items()):
        group.sort(key=lambda r: r["params"])
        style = {"lw": 2.4, "color": "k"} if key == "none" else {"lw": 1.2}
        ax.plot([r["params"] for r in group], [r["val_loss"] for r in group], "o-",
                label=key, ms=4, **style)
    if networks:
        ax.axvline(networks[0]["observations"], color="crimson", ls="--",
                   label="parameters = observations")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel("validation loss")
    ax.set_title("Validation loss against parameters, per regularizer")
    ax.legend(fontsize=7)
    return plots.save(fig, path)


def plot_df(rows: list[dict[str, Any]], analysis: dict[str, Any], path: Path) -> Path:
    """df(λ) against λ with the raw count, and the validation loss of each ridge fit."""
    ridges = sorted((r for r in rows if r["model"] == "ridge"), key=lambda r: r["ridge"])
    positive = [r for r in ridges if r["ridge"] > 0]
    fig, ax = plots.figure()
    singular = np.asarray(analysis["singular_values"])
    if positive:
        grid = np.geomspace(positive[0]["ridge"], positive[-1]["ridge"], 200)
        ax.plot(grid, [degrees_of_freedom(singular, lam) for lam in grid], color="#4a6fd0",
                label="df(λ) = Σ dᵢ²/(dᵢ² + λ)")
        ax.scatter([r["ridge"] for r in positive], [r["df"] for r in positive],
                   color="#4a6fd0", zorder=4)
    ax.axhline(analysis["features"], color="crimson", ls="--",
               label=f"raw parameter count ({analysis['features']})")
    ax.set_xscale("log")
    ax.set_xlabel("ridge λ (log scale)")
    ax.set_ylabel("effective degrees of freedom")
    loss_ax = ax.twinx()
    loss_ax.plot([r["ridge"] for r in positive], [r["val_loss"] for r in positive], "s:",
                 color="#6a9a5a", label="validation loss")
    loss_ax.set_ylabel("validation loss", color="#6a9a5a")
    ax.set_title("Ridge spends fewer parameters than it has")
    handles = ax.get_legend_handles_labels()
    extra = loss_ax.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="center left")
    return plots.save(fig, path)


def plot_dropout_ridge(analysis: dict[str, Any], path: Path) -> Path:
    """Dropout's coefficients (exact expectation, and SGD on masks) against generalized
    ridge's: on the diagonal when they are the same solution."""
    fig, ax = plots.figure(width=6.2, height=5.2)
    ols = np.asarray(analysis["least_squares"])
    if analysis["dropouts"]:
        strongest = max(analysis["dropouts"], key=lambda e: e["dropout"])
        ax.scatter(strongest["ridge"], ols, marker="x", s=18, color="#bbb",
                   label=f"least squares, no dropout (against rate {strongest['dropout']:g})")
    for entry, marker in zip(analysis["dropouts"], "os^vD", strict=False):
        formula = np.asarray(entry["ridge"])
        ax.scatter(formula, entry["expected"], marker=marker, s=30, facecolor="none",
                   edgecolor="k", label=f"rate {entry['dropout']:g}: exact expectation")
        ax.scatter(formula, entry["sgd"], marker=marker, s=10,
                   label=f"rate {entry['dropout']:g}: SGD on random masks")
    limit = float(np.max(np.abs(ols))) * 1.1 if ols.size else 1.0
    ax.plot([-limit, limit], [-limit, limit], color="#bbb", lw=0.8, zorder=0)
    ax.set_xlabel("generalized ridge βⱼ (the formula)")
    ax.set_ylabel("dropout βⱼ")
    ax.set_title("Dropout on a linear model = data-dependent ridge")
    ax.legend(fontsize=7)
    return plots.save(fig, path)


EXPERIMENT = Experiment(
    name=NAME,
    help="weight decay, dropout, early stopping; ridge's degrees of freedom; dropout = ridge",
    description="One-hidden-layer MLPs of several widths trained without and with each "
    "regularizer (validation loss against parameters), ridge's effective degrees of freedom "
    "beside the raw count, and dropout on a linear model shown equal to its data-dependent "
    "ridge penalty.",
    config=RegularizationConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=COLUMNS,
    report=report,
    order=50,
    display=DISPLAY,
    demo=demo_config,
    example=("--n-samples", "300", "--widths", "8", "--weight-decays", "0.1",
             "--dropouts", "0.5", "--epochs", "2", "--ridge", "0,10", "--sgd-epochs", "2"),
)
