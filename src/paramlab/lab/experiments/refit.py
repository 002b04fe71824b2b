"""Refits: one architecture, several seeds. The seed answer's claim, measured: about the same
validation loss, very different weights — compared raw and after aligning hidden units
(:mod:`paramlab.lab.science.alignment`). ``--barrier`` adds the loss along the straight path
between every pair of refits; ``--contrast`` refits ordinary least squares and a small tanh
MLP beside it: identified or not (:mod:`paramlab.lab.science.identification`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paramlab.fields import from_dict, option, require
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import MLPArch, Planned, TrainConfig
from paramlab.lab.runner import (
    MODEL_COLUMNS,
    MODEL_DISPLAY,
    Analysis,
    DemoLevel,
    Experiment,
    Plan,
    Row,
    RunOutcome,
    TrainModels,
    seed_option,
)
from paramlab.lab.science.alignment import PairComparison, compare_refits
from paramlab.lab.science.barriers import BarrierSummary, barrier_paths
from paramlab.lab.science.hessian import check_z
from paramlab.lab.science.identification import (
    Identification,
    identification,
    least_squares_refits,
    spec_of,
)
from paramlab.lab.science.landscape import polish
from paramlab.lab.store import RunFolderError, RunStore

PATHS = "loss barriers and identification"  # the --help group of the paths' options
PATH_COLUMNS = ("pair", "aligned", "t", "train_loss", "test_loss", "barrier", "test_barrier")


@dataclass
class RefitConfig:
    spec: str = option("40-256-256-1", flag="SPEC", help="MLP shorthand, e.g. 40-256-256-1")
    seeds: int = option(5, flag="--seeds", type=int, help="refits")
    data: DataConfig = option(default_factory=DataConfig)
    train: TrainConfig = option(default_factory=TrainConfig)
    seed: int = seed_option()  # first initialization seed; refit k uses seed + k
    barrier: bool = option(False, flag="--barrier", group=PATHS, action="store_true",
                           help="loss along the straight path between every pair of "
                           "refits, raw and with hidden units matched (paths.csv)")
    barrier_points: int = option(11, flag="--barrier-points", group=PATHS, type=int,
                                 help="points on each path")
    barrier_rows: int | None = option(None, flag="--barrier-rows", group=PATHS, type=int,
                                      help="evaluate paths on the first N training/test "
                                      "rows (default all)")
    contrast: bool = option(False, flag="--contrast", group=PATHS, action="store_true",
                            help="also refit ordinary least squares and a small tanh MLP on "
                            "the same data: identified vs not, by aligned distance and "
                            "Hessian N_eff")
    contrast_spec: str | None = option(None, flag="--contrast-spec", group=PATHS,
                                       help="the small tanh MLP (default IN-1-OUT)")
    z: float = option(1.0, flag="--z", group=PATHS, type=float,
                      help="N_eff(z) of --contrast, Hessian of the summed loss (default 1)")
    top_k: int = option(50, flag="--top-k", group=PATHS, type=int,
                        help="--contrast: Lanczos eigenvalues of a model too large for the "
                        "dense Hessian (default 50)")

    def validate(self) -> None:
        require(self.seeds >= 2, "seeds", f"must be at least 2 to compare refits (a pair "
                f"at least); received {self.seeds}")
        require(self.barrier_points >= 3, "barrier_points", f"must be at least 3 (both ends "
                f"and one between); received {self.barrier_points}")
        require(self.barrier_rows is None or self.barrier_rows >= 1, "barrier_rows",
                f"must be at least 1; received {self.barrier_rows}")
        require(self.top_k >= 1, "top_k", f"must be at least 1; received {self.top_k}")
        check_z(self.z)
        self.train.validate()


@dataclass(frozen=True)
class RefitAnalysis(Analysis):
    """Spread of loss vs spread of weights across refits of one architecture; with
    ``--barrier`` the paths between them, with ``--contrast`` identified or not."""

    val_losses: tuple[float, ...]
    test_losses: tuple[float, ...]
    val_loss_mean: float
    val_loss_spread: float  # (max − min) / mean
    weight_distance: float  # mean pairwise relative L2, raw
    weight_cosine: float  # mean pairwise cosine, raw
    aligned_distance: float  # the same after permutation alignment to the first refit
    aligned_cosine: float
    prediction_difference: float  # mean pairwise RMS difference of test predictions / std(y)
    params: int
    observations: int
    pairs: tuple[PairComparison, ...]
    barrier: BarrierSummary | None = None
    contrast: tuple[Identification, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Without the parts that were not asked for (as analysis.json always was)."""
        return {k: v for k, v in super().to_json().items()
                if v is not None or k not in ("barrier", "contrast")}

    def tables(self) -> dict[str, tuple[Sequence[str], Sequence[Row]]]:
        """``paths.csv``: one row per point of each barrier path."""
        if self.barrier is None:
            return {}
        rows = [{"pair": p.pair, "aligned": int(p.aligned), "t": t, "train_loss": a,
                 "test_loss": b, "barrier": p.barrier, "test_barrier": p.test_barrier}
                for p in self.barrier.pairs
                for t, a, b in zip(self.barrier.ts, p.train, p.test, strict=True)]
        return {"paths.csv": (PATH_COLUMNS, rows)}


def _arch(spec: str, data: Dataset, who: str) -> MLPArch:
    return MLPArch.parse(spec, data.n_features, data.n_outputs, who)


def plan(config: RefitConfig) -> Plan:
    data = config.data.load()
    arch = _arch(config.spec, data, "refit")
    require(not config.contrast or data.task == "regression", "contrast",
            f"fits ordinary least squares, so it needs a regression data set; received "
            f"{data.name} ({data.task})")
    refits = [Planned(f"refit-{k:03d}", arch, config.seed + k) for k in range(config.seeds)]
    stages = [TrainModels(refits, data, config.train, keep_weights=True)]
    if config.contrast:  # tanh: its only symmetries are permutations and sign flips
        small = _arch(config.contrast_spec or f"{data.n_features}-1-{data.n_outputs}", data,
                      "refit --contrast")
        stages.append(TrainModels(
            [Planned(f"small-{k:03d}", small, config.seed + k) for k in range(config.seeds)],
            data, dataclasses.replace(config.train, activation="tanh"), keep_weights=True))
    return Plan(tuple(stages), data)


def analyze(config: RefitConfig, plan: Plan, store: RunStore) -> RefitAnalysis:
    data = plan.data
    assert data is not None
    ids = plan.stages[0].ids
    rows = {r["model_id"]: r for r in store.rows()}
    stored = [store.load_weights(i) for i in ids]
    refits = [s.weights for s in stored]
    predictions = [s.test_predictions for s in stored if s.test_predictions is not None]
    if len(predictions) < len(stored):  # keep_weights saves them: a damaged run folder
        raise RunFolderError(f"{store.path / 'weights'}: a refit's weights are stored "
                             "without its test predictions; delete the run folder and run "
                             "again")
    target_std = float(np.std(data.y_test)) if data.task == "regression" else 1.0
    pairs = compare_refits(refits, predictions, target_std,
                           signs=config.train.activation == "tanh")
    val = tuple(float(rows[i]["val_loss"]) for i in ids)
    mean = float(np.mean(val))

    def avg(name: str) -> float:
        return float(np.mean([getattr(p, name) for p in pairs]))

    return RefitAnalysis(
        val, tuple(float(rows[i]["test_loss"]) for i in ids), mean,
        float((max(val) - min(val)) / mean) if mean else 0.0, avg("distance"), avg("cosine"),
        avg("aligned_distance"), avg("aligned_cosine"), avg("prediction_difference"),
        rows[ids[0]]["params"], rows[ids[0]]["observations"], pairs,
        _barrier(config, data, refits) if config.barrier else None,
        _contrast(config, data, plan, store, refits) if config.contrast else None)


def _barrier(config: RefitConfig, data: Dataset,
             refits: list[list[np.ndarray]]) -> BarrierSummary:
    rows = config.barrier_rows
    return barrier_paths(refits, (data.X_train[:rows], data.y_train[:rows]),
                         (data.X_test[:rows], data.y_test[:rows]), config.barrier_points,
                         loss=config.train.loss_for(data.task),
                         activation=config.train.activation)


def _contrast(config: RefitConfig, data: Dataset, plan: Plan, store: RunStore,
              refits: list[list[np.ndarray]]) -> tuple[Identification, ...]:
    """Least squares, the small tanh MLP (each refit polished to its nearest minimum by
    full-batch L-BFGS) and the refits themselves: identified or not."""
    small = [polish(store.load_weights(i).weights, data.X_train, data.y_train, loss="mse",
                    activation="tanh") for i in plan.stages[1].ids]
    ols = least_squares_refits(data.X_train, data.y_train,
                               [config.seed + k for k in range(config.seeds)])
    models = [("ordinary least squares", ols, "relu"),
              (f"small MLP {spec_of(small[0])} (tanh)", small, "tanh"),
              (f"{config.spec} ({config.train.activation})", refits, config.train.activation)]
    return tuple(identification(name, fits, data.X_train, data.y_train, activation=act,
                                z=config.z, top_k=config.top_k, seed=config.seed)
                 for name, fits, act in models)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RefitConfig | None:
    """The largest architecture of the demo's sweep, refitted from four seeds."""
    swept = earlier.get("sweep")
    if swept is None:
        return None
    largest = max(swept.store.rows(), key=lambda r: r["params"])["spec"]
    sweep_config = swept.store.config()
    data = from_dict(DataConfig, sweep_config["data"])
    train = from_dict(TrainConfig, sweep_config["train"])
    full = level == "full"  # with the loss barriers, on 2,000 rows of each split
    return RefitConfig(largest, 3 if level == "quick" else 4, data, train, seed=1000,
                       barrier=full, barrier_points=7, barrier_rows=2000 if full else None)


EXPERIMENT = Experiment(
    name="refit",
    help="one architecture, several seeds: same loss, different weights?",
    description="Train one architecture from several seeds and compare the spread of "
    "validation loss with the spread of weights (raw and after aligning hidden units).",
    config=RefitConfig,
    plan=plan,
    analyze=analyze,
    analysis=RefitAnalysis,
    columns=MODEL_COLUMNS,
    order=20,
    display=MODEL_DISPLAY,
    demo=demo_config,
    example=("40-8-1", "--seeds", "2", "--epochs", "1", "--n-samples", "200", "--barrier",
             "--barrier-points", "5", "--contrast"),
)
