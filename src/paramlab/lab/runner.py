"""The runner owns a run: it opens the store, resumes, claims work, drives progress, hands
models to the executor, records each result as it finishes, writes ``results.csv`` and the
analysis. An experiment only *declares* what to compute (PyTorch Lightning's ``Trainer``
owns the loop so a ``LightningModule`` holds only its own steps; Hydra's launcher owns the
run folder the same way).

An :class:`Experiment` (see :mod:`paramlab.lab.experiments`) declares

* its config dataclass, whose fields carry their flags (:mod:`paramlab.fields`);
* ``plan(config)``: the :class:`Plan` — its data set and its stages, each either
  :class:`TrainModels` (models for the engine, through the executor) or
  :class:`ComputePoints` (rows computed here: closed forms, spectra);
* ``analyze(config, plan, store)``: a frozen, typed :class:`Analysis` of the stored results,
  written to ``analysis.json`` and read back by the report with ``from_json``.

The executor is passed in, never taken from a global. Every stage skips what the store holds
already, so a run killed anywhere resumes where it stopped and computes each point once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from paramlab import fields
from paramlab.lab import executors
from paramlab.lab.data import Dataset
from paramlab.lab.engine import ModelResult, Planned, TrainConfig
from paramlab.lab.store import Column, RunStore

DemoLevel = Literal["quick", "default", "full"]
Row = dict[str, Any]
History = list[dict[str, float]]

MODEL_COLUMNS = (
    Column("model_id", str, "unique within the run; the resume key"),
    Column("seed", int, "initialization seed"),
    Column("hidden", str, "hidden widths, e.g. 256-256"),
    Column("spec", str, "the MLP shorthand, e.g. 40-256-256-1"),
    Column("params", int, "trainable parameters (paramlab count)"),
    Column("observations", int, "training rows"),
    Column("params_per_observation", float),
    Column("train_loss", float), Column("val_loss", float), Column("test_loss", float),
    Column("train_metric", float, "accuracy, for classification"),
    Column("val_metric", float), Column("test_metric", float),
    Column("epochs", int, "epochs trained (early stopping may end sooner)"),
    Column("best_epoch", int), Column("seconds", float),
)
MODEL_DISPLAY = ("model_id", "hidden", "params", "params_per_observation", "train_loss",
                 "val_loss", "test_loss", "epochs")


# The one network and data set the demo's capacity studies (effective-dimension,
# intrinsic-dimension, prune, generalization-bound) share at ``--full``, so the report's
# "How many parameters the data actually use" compares measures of the same fit: 2,410
# parameters for digits' 1,257 training images, the seed question's situation in small.
CAPACITY_DEMO_SPEC = "64-32-10"
CAPACITY_DEMO_DATA = "digits"


def seed_option(default: int = 0) -> Any:
    """A study's ``seed`` field: ``--seed``, which also seeds the data set and the batch
    order (their ``data_seed`` fields are ``same_as="seed"``)."""
    return fields.option(default, flag="--seed", group="training", type=int,
                         help="seed of data generation, initializations and draws")


def ridge_option(default: Sequence[float]) -> Any:
    """A study's ``ridge`` field: ``--ridge λ,…`` (regularization and the polynomial)."""
    return fields.option(tuple(default), flag="--ridge", type=fields.float_list,
                         metavar="λ,…", help="ridge penalties λ ≥ 0, comma-separated "
                         f"(default {','.join(f'{v:g}' for v in default)})")


def row_of(result: ModelResult) -> Row:
    """A trained model's row in :data:`MODEL_COLUMNS`."""
    return {
        "model_id": result.model_id, "seed": result.seed,
        "hidden": "-".join(map(str, result.arch.hidden)), "spec": result.arch.spec(),
        "params": result.params, "observations": result.observations,
        "params_per_observation": result.params_per_observation,
        "train_loss": result.train_loss, "val_loss": result.val_loss,
        "test_loss": result.test_loss, "train_metric": result.train_metric,
        "val_metric": result.val_metric, "test_metric": result.test_metric,
        "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": result.seconds,
    }


class Analysis:
    """Base of an experiment's typed analysis: a frozen dataclass written to
    ``analysis.json`` by the runner and read back by the report (``from_json``), so a report
    reads attributes and mypy catches a renamed field. ``tables`` are extra CSV files beside
    ``results.csv`` (refit's ``paths.csv``): name → (columns, rows)."""

    TABLES: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_json(cls: type[A], values: dict[str, Any]) -> A:
        return fields.from_dict(cls, values)

    def tables(self) -> dict[str, tuple[Sequence[str], Sequence[Row]]]:
        return {}


@dataclass(frozen=True)
class TrainModels:
    """A stage: models the engine trains on one data set (through the executor)."""

    models: Sequence[Planned]
    data: Dataset
    train: TrainConfig
    keep_weights: bool = False  # weights and test predictions go to the store
    row: Callable[[ModelResult], Row] = row_of  # the experiment's own columns, if any

    @property
    def ids(self) -> list[str]:
        return [m.model_id for m in self.models]


@dataclass(frozen=True)
class ComputePoints:
    """A stage: results rows computed in this process. ``compute(missing, store)`` yields
    batches of (row, history) pairs, one per id in ``missing``; each batch is committed at
    once (a closed-form sweep of thousands of points commits per repeat, a spectrum per
    model). It may read what earlier stages stored (weights)."""

    ids: Sequence[str]
    compute: Callable[[list[str], RunStore], Iterable[Sequence[tuple[Row, History]]]]
    # a column this stage fills in on rows an earlier stage recorded (effective-dimension's
    # spectrum of each trained model): its ids are those rows', a point is missing while
    # the column is empty, and its history is the earlier stage's (None: new rows)
    fills: str | None = None


Stage = TrainModels | ComputePoints


@dataclass(frozen=True)
class Plan:
    """What a run will compute: its stages in order, its one data set (shown in the
    console's title), if it has one, and — for a study whose analysis is a closed form the
    plan computes anyway — that analysis (``prepared``: written as it is, with no
    ``analyze``)."""

    stages: tuple[Stage, ...]
    data: Dataset | None = None
    prepared: Analysis | None = None


A = TypeVar("A", bound=Analysis)
C = TypeVar("C")


@dataclass
class Progress:
    """Callbacks a progress bar plugs into (no-ops by default): ``start(total, done, epochs)``
    once, ``epoch(epoch, models)`` as training advances, ``model_done(row)`` per finished
    model or point."""

    start: Callable[[int, int, int], None] = lambda total, done, epochs: None
    epoch: Callable[[int, int], None] = lambda epoch, models: None
    model_done: Callable[[Any], None] = lambda result: None


@dataclass
class RunOutcome:
    """What a run did: its store (the truth), what this invocation computed, the analysis."""

    store: RunStore
    trained: int  # models or points computed by this invocation
    skipped: int  # already in the store (resumed past)
    seconds: float
    data: Dataset | None = None
    results: list[ModelResult] = field(default_factory=list)
    analysis: Analysis | None = None


@dataclass(frozen=True)
class Experiment(Generic[C]):
    """Everything the runner, the CLI, the report and the demo need to know about one
    experiment, declared in one module of :mod:`paramlab.lab.experiments`.

    ``columns`` is the one declaration of the results schema (the store's table and
    ``results.csv``); ``display`` the columns the console shows. ``demo(level, earlier)``
    returns the config(s) the demo runs at that level (``None``: not part of it); ``earlier``
    maps the names of experiments the demo ran already to their outcomes. ``example`` is a
    tiny command line (after ``paramlab run NAME``) that the contract test runs.
    ``executors``: offer ``--executor`` (the experiment trains models through the engine).
    ``resolve(config)``: the config with the defaults that depend on other fields filled in
    (double descent's defaults by model), applied before validation; what the run folder
    records and resumes is the resolved config, as the command line's default folder name
    hashes the config as given.
    """

    name: str
    help: str
    description: str
    config: type[C]
    plan: Callable[[C], Plan]
    columns: tuple[Column, ...]
    order: int  # place in the report and the demo: count → ratio → fits anyway → why
    analyze: Callable[[C, Plan, RunStore], Analysis] | None = None
    analysis: type[Analysis] | None = None  # what analyze returns, for reading it back
    display: tuple[str, ...] = ()
    demo: Callable[[DemoLevel, dict[str, RunOutcome]], C | list[C] | None] = (
        lambda level, earlier: None)
    example: tuple[str, ...] = ()
    executors: bool = True
    resolve: Callable[[C], C] | None = None

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def read_analysis(self, store: RunStore) -> Analysis | None:
        """The stored analysis, typed (``None`` for an experiment that has none)."""
        if self.analysis is None:
            return None
        return self.analysis.from_json(store.read_json("analysis.json"))


def run(experiment: Experiment[C], config: C, out: Path, *,
        executor: executors.Executor | None = None,
        progress: Progress | None = None) -> RunOutcome:
    """Run ``config`` into the folder ``out`` (or resume it there)."""
    if experiment.resolve is not None:
        config = experiment.resolve(config)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate()
    plan = experiment.plan(config)
    store = RunStore.create_or_resume(
        out, {"experiment": experiment.name, **dataclasses.asdict(config)},  # type: ignore[call-overload]
        experiment.columns)
    progress = progress or Progress()
    executor = executor or executors.make("local")
    start = time.perf_counter()
    ids = [i for stage in plan.stages for i in stage.ids]
    epochs = max((s.train.epochs for s in plan.stages if isinstance(s, TrainModels)),
                 default=0)
    progress.start(len(ids), sum(len(set(s.ids) & _done(s, store)) for s in plan.stages),
                   epochs)
    results: list[ModelResult] = []
    computed: set[str] = set()
    for stage in plan.stages:
        if isinstance(stage, TrainModels):
            results += _train(stage, store, executor, progress)
        else:
            computed |= _compute(stage, store, progress)
    store.write_csv()
    analysis = plan.prepared
    if experiment.analyze is not None:
        analysis = experiment.analyze(config, plan, store)
    if analysis is not None:
        if experiment.analysis is None or not isinstance(analysis, experiment.analysis):
            raise TypeError(f"{experiment.name} made a {type(analysis).__name__}; declare it as "
                            "Experiment(analysis=…) so the report can read it back")
        store.write_json("analysis.json", analysis.to_json())
        for name, (columns, rows) in analysis.tables().items():
            store.write_table(name, columns, rows)
    # a row a later stage completes (a spectrum of a model trained now) counts once
    trained = len({r.model_id for r in results} | computed)
    return RunOutcome(store, trained, len(set(ids)) - trained, time.perf_counter() - start,
                      plan.data, results, analysis)


def _train(stage: TrainModels, store: RunStore, executor: executors.Executor,
           progress: Progress) -> list[ModelResult]:
    """Train what the store does not hold yet; commit each model as it finishes (its
    weights first, when kept). Other drivers on the same folder take their share."""
    done = store.finished_ids()
    todo = [m for m in stage.models if m.model_id not in done]

    def finished(result: ModelResult) -> None:
        if stage.keep_weights and result.weights is not None:
            store.save_weights(result.model_id, result.weights, result.test_predictions)
        store.record(stage.row(result), result.history)
        progress.model_done(result)

    trained = executors.run_plan(
        todo, stage.data, stage.train, store, executor, keep_weights=stage.keep_weights,
        on_model_done=finished,
        on_epoch=lambda epoch, metrics: progress.epoch(epoch, len(metrics)))
    order = {m.model_id: i for i, m in enumerate(stage.models)}
    return sorted(trained, key=lambda r: order[r.model_id])


def _done(stage: Stage, store: RunStore) -> set[str]:
    """The ids of ``stage`` the store holds already."""
    if isinstance(stage, ComputePoints) and stage.fills is not None:
        return store.ids_with(stage.fills)
    return store.finished_ids()


def _compute(stage: ComputePoints, store: RunStore, progress: Progress) -> set[str]:
    """Compute the points the store does not hold yet, committing each as it comes; the
    ids computed."""
    done = _done(stage, store)
    missing = [i for i in stage.ids if i not in done]
    computed: set[str] = set()
    if missing:
        for batch in stage.compute(missing, store):
            if stage.fills is None:
                store.record_many(batch)
            else:
                store.complete_many([row for row, _ in batch])
            for row, _ in batch:
                progress.model_done(row)
            computed |= {row[store.columns[0]] for row, _ in batch}
    return computed
