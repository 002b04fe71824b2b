"""Random architectures, as in the seed question: a random number of hidden layers with
random widths, fixed inputs and outputs, all trained on one data set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from paramlab.fields import int_range, option, require
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import MLPArch, Planned, TrainConfig
from paramlab.lab.runner import (
    MODEL_COLUMNS,
    MODEL_DISPLAY,
    DemoLevel,
    Experiment,
    Plan,
    RunOutcome,
    TrainModels,
    seed_option,
)


@dataclass
class SweepConfig:
    data: DataConfig = option(default_factory=DataConfig)
    train: TrainConfig = option(default_factory=TrainConfig)
    models: int = option(16, flag="--models", type=int, help="architectures to draw")
    depth: tuple[int, int] = option((1, 3), flag="--depth", type=int_range, metavar="MIN..MAX",
                                    help="hidden layers, inclusive (default 1..3)")
    width: tuple[int, int] = option((16, 1024), flag="--width", type=int_range,
                                    metavar="MIN..MAX", help="hidden units, log-uniform, "
                                    "inclusive (default 16..1024)")
    seed: int = seed_option()  # architectures and initializations

    def validate(self) -> None:
        lo, hi = self.depth
        require(self.models >= 1, "models", f"must be at least 1; received {self.models}")
        require(1 <= lo <= hi, "depth", f"must be MIN..MAX with 1 ≤ MIN ≤ MAX; received "
                f"{lo}..{hi}")
        require(1 <= self.width[0] <= self.width[1], "width", f"must be MIN..MAX with "
                f"1 ≤ MIN ≤ MAX; received {self.width[0]}..{self.width[1]}")
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


def plan(config: SweepConfig) -> Plan:
    data = config.data.load()
    archs = draw_architectures(config, data.n_features, data.n_outputs)
    models = [Planned(f"sweep-{i:04d}", arch, config.seed * 100_003 + i)
              for i, arch in enumerate(archs)]
    return Plan((TrainModels(models, data, config.train),), data)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> SweepConfig:
    """24 architectures from ~500 to ~1 M parameters on the seed's 13,000 × 40 regression."""
    quick = level == "quick"
    data = DataConfig("synthetic", n_samples=800 if quick else None)
    train = TrainConfig(epochs=2 if quick else 8, batch_size=64)
    return SweepConfig(data, train, models=4 if quick else 24, depth=(1, 3),
                       width=(4, 64) if quick else (8, 1024), seed=0)


EXPERIMENT = Experiment(
    name="sweep",
    help="random architectures on one data set",
    description="Train random MLPs (random depth, log-uniform widths) as in the seed "
    "question; prints parameters, parameters per observation and losses.",
    config=SweepConfig,
    plan=plan,
    columns=MODEL_COLUMNS,
    order=10,
    display=MODEL_DISPLAY,
    demo=demo_config,
    example=("--models", "2", "--epochs", "1", "--n-samples", "200", "--width", "4..16"),
)
