"""Random architectures, as in the seed question: a random number of hidden layers with
random widths, fixed inputs and outputs, all trained on one data set."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab.engine import MLPArch, TrainConfig
from paramlab.lab.experiments.common import (
    DataConfig,
    Planned,
    Progress,
    RunOutcome,
    execute,
    open_store,
)


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
