"""The regularization study's report: each regularizer's verdict on the widest network,
ridge's effective degrees of freedom beside the raw count, and dropout shown equal to its
data-dependent ridge penalty — every sentence computed from the run and able to say the
opposite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.lab.experiments.regularization import SAME, RegularizationAnalysis
from paramlab.lab.report import numbers, plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis
from paramlab.lab.science.regularization import degrees_of_freedom
from paramlab.lab.store import RunStore


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    return regularization_sentences(store.rows())[-2:]


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    rows = store.rows()
    assert isinstance(analysis, RegularizationAnalysis)
    networks = sorted((r for r in rows if r["model"] == "mlp"),
                      key=lambda r: (r["setting"], r["model_id"]))
    return Section(
        "Regularization: weight decay, dropout and early stopping pick one solution",
        regularization_sentences(rows),
        [plot_val_vs_params(networks, plots_dir / "regularization_val_vs_params.png"),
         plot_df(rows, analysis, plots_dir / "regularization_df.png"),
         plot_dropout_ridge(analysis, plots_dir / "regularization_dropout_ridge.png")],
        [tables.rows_table("Networks", networks,
                              ["model_id", "params", "weight_decay", "dropout", "patience",
                               "train_loss", "val_loss", "epochs", "best_epoch"]),
         tables.rows_table("Linear models", [r for r in rows if r["model"] != "mlp"],
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
             f"reached validation loss {numbers.number(plain['val_loss'])} (training loss "
             f"{numbers.number(plain['train_loss'])})."]
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
    head = (f"With {label} ({value}) it reached {numbers.number(best['val_loss'])} (training "
            "loss "
            f"{numbers.number(best['train_loss'])})")
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
            f"loss, {numbers.number(best['val_loss'])}, is at λ = {best['ridge']:g} with df = "
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
                 f"the same coefficients (largest difference {numbers.number(gap, 2)}).")
    else:
        first = (f"At rates {rates} the expected-dropout-loss minimizer and the generalized "
                 f"ridge solution differ by up to {numbers.number(gap, 2)}: the optimizer did "
                 "not converge, "
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


def plot_df(rows: list[dict[str, Any]], analysis: RegularizationAnalysis, path: Path) -> Path:
    """df(λ) against λ with the raw count, and the validation loss of each ridge fit."""
    ridges = sorted((r for r in rows if r["model"] == "ridge"), key=lambda r: r["ridge"])
    positive = [r for r in ridges if r["ridge"] > 0]
    fig, ax = plots.figure()
    singular = np.asarray(analysis.singular_values)
    if positive:
        grid = np.geomspace(positive[0]["ridge"], positive[-1]["ridge"], 200)
        ax.plot(grid, [degrees_of_freedom(singular, lam) for lam in grid], color="#4a6fd0",
                label="df(λ) = Σ dᵢ²/(dᵢ² + λ)")
        ax.scatter([r["ridge"] for r in positive], [r["df"] for r in positive],
                   color="#4a6fd0", zorder=4)
    ax.axhline(analysis.features, color="crimson", ls="--",
               label=f"raw parameter count ({analysis.features})")
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


def plot_dropout_ridge(analysis: RegularizationAnalysis, path: Path) -> Path:
    """Dropout's coefficients (exact expectation, and SGD on masks) against generalized
    ridge's: on the diagonal when they are the same solution."""
    fig, ax = plots.figure(width=6.2, height=5.2)
    ols = np.asarray(analysis.least_squares)
    if analysis.dropouts:
        strongest = max(analysis.dropouts, key=lambda e: e.dropout)
        ax.scatter(strongest.ridge, ols, marker="x", s=18, color="#bbb",
                   label=f"least squares, no dropout (against rate {strongest.dropout:g})")
    for entry, marker in zip(analysis.dropouts, "os^vD", strict=False):
        formula = np.asarray(entry.ridge)
        ax.scatter(formula, entry.expected, marker=marker, s=30, facecolor="none",
                   edgecolor="k", label=f"rate {entry.dropout:g}: exact expectation")
        ax.scatter(formula, entry.sgd, marker=marker, s=10,
                   label=f"rate {entry.dropout:g}: SGD on random masks")
    limit = float(np.max(np.abs(ols))) * 1.1 if ols.size else 1.0
    ax.plot([-limit, limit], [-limit, limit], color="#bbb", lw=0.8, zorder=0)
    ax.set_xlabel("generalized ridge βⱼ (the formula)")
    ax.set_ylabel("dropout βⱼ")
    ax.set_title("Dropout on a linear model = data-dependent ridge")
    ax.legend(fontsize=7)
    return plots.save(fig, path)
