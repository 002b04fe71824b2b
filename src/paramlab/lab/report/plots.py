"""The report's figures (matplotlib, Agg backend), one function per plot, each saved as PNG.

:func:`figure` and :func:`save` give every experiment's plots one look; the sweep's and the
refit's figures live here, new experiments may keep theirs in their own module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["figure", "plt", "save"]  # plt: for figures with several axes


def figure(width: float = 7.5, height: float = 4.6) -> tuple[Any, Any]:
    """A new figure and its axes, in the report's size."""
    return plt.subplots(figsize=(width, height))


def save(fig: Any, path: Path) -> Path:
    """Write the figure as PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _depth_colors(rows: list[dict[str, Any]]) -> list[int]:
    return [len(r["hidden"].split("-")) for r in rows]


def loss_vs_params(rows: list[dict[str, Any]], observations: int, path: Path) -> Path:
    """Validation loss against parameters (log axis), a line at parameters = observations."""
    fig, ax = figure()
    points = ax.scatter([r["params"] for r in rows], [r["val_loss"] for r in rows],
                        c=_depth_colors(rows), cmap="viridis", s=36, edgecolor="k", lw=0.4)
    ax.axvline(observations, color="crimson", ls="--",
               label=f"parameters = observations ({observations:,})")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel("validation loss")
    ax.set_title("Validation loss against the number of parameters")
    fig.colorbar(points, ax=ax, label="hidden layers")
    ax.legend(loc="best")
    return save(fig, path)


def train_vs_val(rows: list[dict[str, Any]], observations: int, path: Path) -> Path:
    """Training and validation loss of each model, against its parameters."""
    fig, ax = figure()
    params = [r["params"] for r in rows]
    ax.scatter(params, [r["train_loss"] for r in rows], marker="v", label="training loss")
    ax.scatter(params, [r["val_loss"] for r in rows], marker="o", label="validation loss")
    for r in rows:
        ax.plot([r["params"]] * 2, [r["train_loss"], r["val_loss"]], color="#bbb", lw=0.8,
                zorder=0)
    ax.axvline(observations, color="crimson", ls="--", label="parameters = observations")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel("loss")
    ax.set_title("Training vs validation loss")
    ax.legend(loc="best")
    return save(fig, path)


def learning_curves(history: dict[str, list[dict[str, float]]], rows: list[dict[str, Any]],
                    path: Path) -> Path:
    """Validation loss per epoch for the smallest, median and largest models."""
    ordered = sorted(rows, key=lambda r: r["params"])
    picks = {id(r): r for r in (ordered[0], ordered[len(ordered) // 2], ordered[-1])}.values()
    fig, ax = figure(height=4.2)
    for row in picks:
        epochs = history.get(row["model_id"], [])
        label = f"{row['spec']} ({row['params']:,} params)"
        ax.plot([e["epoch"] for e in epochs], [e["train_loss"] for e in epochs], ls=":",
                label=f"train {label}")
        ax.plot([e["epoch"] for e in epochs], [e["val_loss"] for e in epochs],
                label=f"val {label}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Learning curves")
    ax.legend(fontsize=7)
    return save(fig, path)

