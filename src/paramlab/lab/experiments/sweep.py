"""Random architectures, as in the seed question: a random number of hidden layers with
random widths, fixed inputs and outputs, all trained on one data set."""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab import plots, reporting
from paramlab.lab.engine import MLPArch, TrainConfig
from paramlab.lab.experiments import options
from paramlab.lab.experiments.base import DemoLevel, Experiment, Progress, RunOutcome, Section
from paramlab.lab.experiments.common import (
    MODEL_COLUMNS,
    MODEL_DISPLAY,
    DataConfig,
    Planned,
    execute,
    open_store,
)
from paramlab.lab.store import RunStore


@dataclass
class SweepConfig:
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    models: int = 16  # architectures to draw
    depth: tuple[int, int] = (1, 3)  # hidden layers, inclusive range
    width: tuple[int, int] = (16, 1024)  # hidden units, log-uniform, inclusive
    seed: int = 0  # architectures and initializations

    def validate(self) -> None:
        lo, hi = self.depth
        if self.models < 1:
            raise ParamlabError(f"--models must be at least 1; received {self.models}")
        if not 1 <= lo <= hi:
            raise ParamlabError(f"--depth must be MIN..MAX with 1 ≤ MIN ≤ MAX; received "
                                f"{lo}..{hi}")
        if not 1 <= self.width[0] <= self.width[1]:
            raise ParamlabError(f"--width must be MIN..MAX with 1 ≤ MIN ≤ MAX; received "
                                f"{self.width[0]}..{self.width[1]}")
        self.train.validate()


def draw_architectures(config: SweepConfig, n_in: int, n_out: int) -> list[MLPArch]:
    """Depth uniform in the range; each width log-uniform (small and huge equally likely in
    scale, which is what spans 'fewer' to 'far more' parameters than observations)."""
    rng = np.random.default_rng(config.seed)
    lo, hi = math.log(config.width[0]), math.log(config.width[1])
    archs = []
    for _ in range(config.models):
        depth = int(rng.integers(config.depth[0], config.depth[1] + 1))
        hidden = tuple(round(math.exp(rng.uniform(lo, hi))) for _ in range(depth))
        archs.append(MLPArch(n_in, hidden, n_out))
    return archs


def plan(config: SweepConfig, n_in: int, n_out: int) -> list[Planned]:
    archs = draw_architectures(config, n_in, n_out)
    return [Planned(f"sweep-{i:04d}", arch, config.seed * 100_003 + i)
            for i, arch in enumerate(archs)]


def run(config: SweepConfig, out: Path, progress: Progress | None = None) -> RunOutcome:
    config.validate()
    data = config.data.load()
    store = open_store(out, "sweep", dataclasses.asdict(config))
    planned = plan(config, data.n_features, data.n_outputs)
    return execute(planned, data, config.train, store, keep_weights=False, progress=progress)


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", type=int, default=16, help="architectures to draw")
    p.add_argument("--depth", type=options.int_range, default=(1, 3), metavar="MIN..MAX",
                   help="hidden layers (default 1..3)")
    p.add_argument("--width", type=options.int_range, default=(16, 1024), metavar="MIN..MAX",
                   help="hidden units, log-uniform (default 16..1024)")
    options.add_data(p)
    options.add_training(p)


def build_config(ns: argparse.Namespace) -> SweepConfig:
    return SweepConfig(options.data_config(ns), options.train_config(ns), ns.models, ns.depth,
                       ns.width, ns.seed)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> SweepConfig:
    """24 architectures from ~500 to ~1 M parameters on the seed's 13,000 × 40 regression."""
    quick = level == "quick"
    data = DataConfig("synthetic", n_samples=800 if quick else None)
    train = TrainConfig(epochs=2 if quick else 8, batch_size=64)
    return SweepConfig(data, train, models=4 if quick else 24, depth=(1, 3),
                       width=(4, 64) if quick else (8, 1024), seed=0)


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = store.rows()
    observations = rows[0]["observations"]
    figures = [
        plots.loss_vs_params(rows, observations, plots_dir / "val_loss_vs_params.png"),
        plots.train_vs_val(rows, observations, plots_dir / "train_vs_val.png"),
        plots.learning_curves(store.history(), rows, plots_dir / "learning_curves.png"),
    ]
    ordered = sorted(rows, key=lambda r: r["params"])
    return Section(
        f"Sweep: {len(rows)} random architectures",
        sweep_sentences(rows, store.config()),
        figures,
        [reporting.rows_table("Every model", ordered, MODEL_DISPLAY),
         *reporting.architecture_tables([ordered[0]["spec"], ordered[-1]["spec"]])],
    )


def sweep_sentences(rows: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The seed question answered from this run's numbers — whichever way they point."""
    n = rows[0]["observations"]
    over = [r for r in rows if r["params"] > n]
    under = [r for r in rows if r["params"] <= n]
    largest = max(rows, key=lambda r: r["params"])
    smallest = min(rows, key=lambda r: r["params"])
    best = min(rows, key=lambda r: r["val_loss"])
    data = config.get("data", {}).get("data", "the data")
    lines = [
        f"{len(rows)} networks were trained on {n:,} observations of {data}; "
        f"{len(over)} of them have more trainable parameters than observations.",
        f"The largest ({largest['spec']}) has {largest['params']:,} parameters — "
        f"{largest['params'] / n:,.1f} per observation — and reached validation loss "
        f"{largest['val_loss']:.4f} (training loss {largest['train_loss']:.4f}); the smallest "
        f"({smallest['spec']}, {smallest['params']:,} parameters) reached "
        f"{smallest['val_loss']:.4f}.",
        f"The best validation loss, {best['val_loss']:.4f}, came from {best['spec']} with "
        f"{best['params']:,} parameters ({best['params'] / n:,.2f} per observation).",
    ]
    if over and under:
        lines.append(_over_vs_under(over, under))
    if over:
        gap = reporting.median([r["val_loss"] - r["train_loss"] for r in over])
        lines.append(_gap_sentence(gap, reporting.median([r["val_loss"] for r in over])))
    return lines


def _over_vs_under(over: list[dict[str, Any]], under: list[dict[str, Any]]) -> str:
    median_over = reporting.median([r["val_loss"] for r in over])
    median_under = reporting.median([r["val_loss"] for r in under])
    head = (f"Median validation loss is {median_over:.4f} for the networks with more "
            f"parameters than observations and {median_under:.4f} for the others — ")
    if median_over <= median_under:
        return head + ("lower for the over-parameterized ones: having more parameters than "
                       "observations did not by itself ruin generalization.")
    return head + ("higher for the over-parameterized ones: in this run the larger networks "
                   "did generalize worse (too few epochs, too little data, or overfitting — "
                   "the regularization and double-descent studies separate these).")


def _gap_sentence(gap: float, val_median: float) -> str:
    head = (f"For the over-parameterized networks the median gap between validation and "
            f"training loss is {gap:.4f}")
    if gap <= 0.5 * val_median:
        return head + (": the training data constrain the function, not each weight. The "
                       "weights are not determined by the data — see the refits — yet the "
                       "predictions largely are.")
    return head + (", large beside their validation loss: these networks fit the training "
                   "data much better than new data, so here the extra parameters went into "
                   "memorizing.")


EXPERIMENT = Experiment(
    name="sweep",
    help="random architectures on one data set",
    description="Train random MLPs (random depth, log-uniform widths) as in the seed "
    "question; prints parameters, parameters per observation and losses.",
    config=SweepConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=MODEL_COLUMNS,
    report=report,
    order=10,
    display=MODEL_DISPLAY,
    demo=demo_config,
    example=("--models", "2", "--epochs", "1", "--n-samples", "200", "--width", "4..16"),
)
