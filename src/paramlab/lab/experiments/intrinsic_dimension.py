"""How many directions in weight space does the task need? The intrinsic dimension d_int90
(Li, Farkhoor, Liu and Yosinski, ICLR 2018, arXiv 1804.08838).

Two stages. The engine trains the full network (all D parameters), ``--seeds`` times per
label setting: its mean performance is the baseline. Then every (label setting, d, seed)
model trains only θ_d of θ = θ₀ + P·θ_d (:func:`paramlab.lab.engine.train_subspace`, many
models batched per engine call); d_int90 is the smallest d on the grid whose mean over seeds
exceeds 90 % of the baseline (:func:`paramlab.lab.science.capacity.intrinsic_dimension`).

The performance measured (stated in every output): classes — test accuracy on true labels,
*training* accuracy on shuffled labels (test accuracy is chance there, so Li et al. measure
how well the network memorizes); regression — R² = 1 − MSE / Var(y), on the test split for
true targets, on the training split for shuffled ones.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from paramlab.fields import grid, option, parse_grid, require, word_list
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import (
    MLPArch,
    ModelResult,
    Planned,
    SubspaceModel,
    TrainConfig,
    train_subspace,
)
from paramlab.lab.engine.projection import PROJECTIONS
from paramlab.lab.runner import (
    CAPACITY_DEMO_DATA,
    CAPACITY_DEMO_SPEC,
    Analysis,
    ComputePoints,
    DemoLevel,
    Experiment,
    History,
    Plan,
    Row,
    RunOutcome,
    TrainModels,
    seed_option,
)
from paramlab.lab.science.capacity import intrinsic_dimension
from paramlab.lab.science.random_labels import shuffled
from paramlab.lab.store import Column, RunStore

NAME = "intrinsic-dimension"
GROUP = "intrinsic dimension"
LABELS = ("true", "shuffled")
FRACTION = 0.9  # d_int90: 90 % of the full model's performance (Li et al.)
CHUNK = 32  # subspace models per engine call: one commit each (a kill loses at most one)

COLUMNS = (
    Column("model_id", str, "unique within the run; the resume key"),
    Column("labels", str, "true | shuffled training labels"),
    Column("kind", str, "full (all D parameters) | subspace (only θ_d trained)"),
    Column("d", int, "trained dimensions: d for a subspace model, D for the full one"),
    Column("seed", int, "initialization (and projection) seed"),
    Column("params", int, "D, the network's raw parameter count"),
    Column("observations", int, "training rows"),
    Column("measure", str, "what performance is: test accuracy, training accuracy, test R² …"),
    Column("performance", float, "the measure's value (higher is better)"),
    Column("train_metric", float, "training accuracy (classes)"),
    Column("test_metric", float, "test accuracy (classes)"),
    Column("train_loss", float), Column("test_loss", float),
    Column("epochs", int), Column("seconds", float),
)
DISPLAY = ("model_id", "labels", "kind", "d", "params", "measure", "performance",
           "train_loss")


@dataclass
class IntrinsicDimensionConfig:
    spec: str = option("784-200-200-10", flag="SPEC",
                       help="MLP shorthand, e.g. 784-200-200-10 for --data mnist")
    dims: tuple[int, ...] = option(
        parse_grid("10..3000:10"), flag="--dims", group=GROUP, type=grid("--dims"),
        help="subspace dimensions d: 10,100,1000 or MIN..MAX:COUNT (geometric; default "
        "10..3000:10)")
    seeds: int = option(2, flag="--seeds", group=GROUP, type=int,
                        help="initializations (and projections) per d and per full model")
    labels: tuple[str, ...] = option(("true",), flag="--labels", group=GROUP, type=word_list,
                                     metavar="true,shuffled",
                                     help="label settings: true, shuffled or both")
    projection: str = option("sparse", flag="--projection", group=GROUP,
                             choices=[k for k in PROJECTIONS if k != "identity"],
                             help="the random projection P (default sparse: the fastest on CPU)")
    data: DataConfig = option(default_factory=lambda: DataConfig("mnist"))
    train: TrainConfig = option(default_factory=lambda: TrainConfig(
        epochs=10, batch_size=128, lr=3e-3))
    seed: int = seed_option()  # first seed; seed k uses seed + k; the label shuffle too

    def validate(self) -> None:
        require(bool(self.dims), "dims", "needs at least one value")
        require(self.seeds >= 1, "seeds", f"must be at least 1; received {self.seeds}")
        require(bool(self.labels) and set(self.labels) <= set(LABELS) and
                len(set(self.labels)) == len(self.labels), "labels",
                f"must list true and/or shuffled once each; received {','.join(self.labels)}")
        self.train.validate()


@dataclass(frozen=True)
class LabelResult:
    """d_int90 of one label setting, with its spread over seeds."""

    labels: str
    measure: str
    full_performance: float  # mean over the full models' seeds
    threshold: float  # 0.9 × full_performance
    d_int90: int | None  # None: no d on the grid reaches the threshold
    below: int | None  # the grid point before d_int90
    per_seed: tuple[int | None, ...]
    seed_min: int | None
    seed_max: int | None
    seeds_not_reached: int
    note: str  # why there is no d_int90 when the baseline is not positive; else ""


@dataclass(frozen=True)
class IntrinsicDimensionAnalysis(Analysis):
    spec: str
    params: int  # D
    observations: int
    task: str
    projection: str
    dims: tuple[int, ...]
    seeds: int
    fraction: float
    results: tuple[LabelResult, ...]
    d_int90: dict[str, int | None]  # per label setting (the headline of each result)


def measure_name(task: str, labels: str) -> str:
    """What "performance" is for this task and label setting (see the module docstring)."""
    split = "test" if labels == "true" else "training"
    return f"{split} accuracy" if task == "classification" else f"{split} R²"


def performance(result: ModelResult, data: Dataset, labels: str) -> float:
    """The measured performance of one trained model (higher is better)."""
    split = "test" if labels == "true" else "train"
    if data.task == "classification":
        value = result.test_metric if split == "test" else result.train_metric
        assert value is not None
        return float(value)
    y = data.y_test if split == "test" else data.y_train
    mse = result.test_loss if split == "test" else result.train_loss
    return 1.0 - float(mse) / float(np.var(y, axis=0).mean())


def labelled(data: Dataset, labels: str, seed: int) -> Dataset:
    return data if labels == "true" else shuffled(data, seed)


def _row(result: ModelResult, data: Dataset, labels: str, kind: str, d: int) -> Row:
    return {"model_id": result.model_id, "labels": labels, "kind": kind, "d": d,
            "seed": result.seed, "params": result.params, "observations": result.observations,
            "measure": measure_name(data.task, labels),
            "performance": performance(result, data, labels),
            "train_metric": result.train_metric, "test_metric": result.test_metric,
            "train_loss": result.train_loss, "test_loss": result.test_loss,
            "epochs": result.epochs, "seconds": result.seconds}


def _full_row(result: ModelResult, *, data: Dataset, labels: str, D: int) -> Row:
    return _row(result, data, labels, "full", D)


def subspace_id(labels: str, d: int, seed: int) -> str:
    return f"sub-{labels}-d{d}-s{seed}"


def plan(config: IntrinsicDimensionConfig) -> Plan:
    """Full models per label setting (the baseline), then every (labels, d, seed) model in
    its subspace, in chunks of :data:`CHUNK` per engine call."""
    data = config.data.load()
    arch = MLPArch.parse(config.spec, data.n_features, data.n_outputs, NAME)
    D = arch.params()
    require(max(config.dims) <= D, "dims",
            f"must not exceed D = {D:,}, the parameters of {config.spec}; received "
            f"{max(config.dims):,}")
    seeds = [config.seed + k for k in range(config.seeds)]
    sets = {labels: labelled(data, labels, config.seed) for labels in config.labels}
    stages: list[TrainModels | ComputePoints] = []
    for labels, labelled_data in sets.items():
        stages.append(TrainModels(
            [Planned(f"full-{labels}-s{s}", arch, s) for s in seeds], labelled_data,
            config.train,
            row=functools.partial(_full_row, data=labelled_data, labels=labels, D=D)))
    points = {subspace_id(labels, d, s): (labels, SubspaceModel(arch, d, s, config.projection))
              for labels in config.labels for d in config.dims for s in seeds}

    def compute(missing: list[str], store: RunStore) -> Iterator[list[tuple[Row, History]]]:
        for labels in config.labels:
            todo = [i for i in missing if points[i][0] == labels]
            for start in range(0, len(todo), CHUNK):
                ids = todo[start: start + CHUNK]
                models = [points[i][1] for i in ids]
                results = train_subspace(models, sets[labels], config.train, model_ids=ids)
                yield [(_row(r, sets[labels], labels, "subspace", m.d), r.history)
                       for r, m in zip(results, models, strict=True)]

    return Plan((*stages, ComputePoints(list(points), compute)), data)


def analyze(config: IntrinsicDimensionConfig, plan: Plan,
            store: RunStore) -> IntrinsicDimensionAnalysis:
    data = plan.data
    assert data is not None
    rows = store.rows()
    results = tuple(label_result(rows, labels, config.dims, data.task)
                    for labels in config.labels)
    return IntrinsicDimensionAnalysis(
        config.spec, int(rows[0]["params"]), data.observations, data.task, config.projection,
        config.dims, config.seeds, FRACTION, results,
        {r.labels: r.d_int90 for r in results})


def label_result(rows: list[Row], labels: str, dims: tuple[int, ...], task: str
                 ) -> LabelResult:
    """d_int90 of one label setting from the stored rows (seeds × dims)."""
    mine = [r for r in rows if r["labels"] == labels]
    full = float(np.mean([r["performance"] for r in mine if r["kind"] == "full"]))
    seeds = sorted({r["seed"] for r in mine if r["kind"] == "subspace"})
    table = {(r["seed"], r["d"]): r["performance"] for r in mine if r["kind"] == "subspace"}
    scores = np.array([[table[(s, d)] for d in dims] for s in seeds])
    measure = measure_name(task, labels)
    if not full > 0:
        return LabelResult(labels, measure, full, FRACTION * full, None, None,
                           (None,) * len(seeds), None, None, len(seeds),
                           f"the full model's {measure} is {full:.3g} ≤ 0: nothing to reach "
                           "90 % of")
    found = intrinsic_dimension(dims, scores, full, FRACTION)
    return LabelResult(labels, measure, full, found.threshold, found.d_int90, found.below,
                       found.per_seed, found.seed_min, found.seed_max,
                       found.seeds_not_reached, "")


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]
                ) -> IntrinsicDimensionConfig | None:
    """``--full`` only: the capacity studies' shared network (``CAPACITY_DEMO_SPEC``, a
    64-32-10 MLP, 2,410 parameters) on the digits, true and shuffled labels, two seeds, six
    d from 4 to D."""
    if level != "full":
        return None
    return demo_small()


def demo_small() -> IntrinsicDimensionConfig:
    return IntrinsicDimensionConfig(
        CAPACITY_DEMO_SPEC, dims=parse_grid("4..2410:6"), seeds=2, labels=("true", "shuffled"),
        data=DataConfig(CAPACITY_DEMO_DATA),
        train=TrainConfig(epochs=10, batch_size=128, lr=1e-2))


EXPERIMENT = Experiment(
    name=NAME,
    help="how many weight-space directions the task needs: the intrinsic dimension d_int90",
    description="Train the full MLP, then the same MLP in random d-dimensional subspaces "
    "θ = θ₀ + P·θ_d (Li et al. 2018) over a grid of d, several seeds, true and shuffled "
    "labels: d_int90, the smallest d reaching 90 % of the full model's performance, beside "
    "the raw count D and the observations.",
    config=IntrinsicDimensionConfig,
    plan=plan,
    analyze=analyze,
    analysis=IntrinsicDimensionAnalysis,
    columns=COLUMNS,
    order=75,
    display=DISPLAY,
    demo=demo_config,
    example=("64-8-10", "--data", "digits", "--dims", "2,8", "--seeds", "1", "--epochs", "1"),
)
