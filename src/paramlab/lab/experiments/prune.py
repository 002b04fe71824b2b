"""How many of its weights does a trained network need? Iterative magnitude pruning with
rewinding (Frankle & Carbin, "The Lottery Ticket Hypothesis", ICLR 2019, arXiv 1803.03635;
reference code facebookresearch/open_lth).

Round 0 trains the dense network from its initialization θ₀. Each later round prunes the
trained weights of the round before — ``--rate`` (20 %) of the weights still kept, ranked
globally by magnitude across the hidden layers, the output layer ranked on its own at
``--output-rate`` (half the rate; :mod:`paramlab.lab.science.pruning`) — then *rewinds* the
survivors to θ₀ and retrains under the mask (the "winning ticket"). Beside each ticket a
control trains the same mask from a fresh random initialization (the paper's "random
reinitialization"): if the ticket matches the dense network where the control does not, the
initialization, not the mask alone, carries the ticket.

Each round is one :class:`ComputePoints` stage whose points (one ticket and one control per
seed) read the previous round's trained ticket and mask from the store and train together on
the batched engine (:func:`paramlab.lab.engine.train_masked`): a run killed anywhere resumes at
the round it was in, and recomputes nothing it committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.fields import option, require
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import MaskedModel, MLPArch, ModelResult, TrainConfig, train_masked
from paramlab.lab.engine.stack import init_weights
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
    seed_option,
)
from paramlab.lab.science.pruning import HIDDEN_RATE, prune_round, smallest_kept_within
from paramlab.lab.store import Column, RunStore

NAME = "prune"
GROUP = "pruning"
CONTROL_SEED = 1_000_003  # the control's initialization: seed + this, never θ₀'s seed
SEED_STRIDE = 7_919  # seed k of a run initializes with seed + k · this


@dataclass
class PruneConfig:
    spec: str = option("784-300-100-10", flag="SPEC", help="MLP shorthand (default "
                       "784-300-100-10, Frankle & Carbin's LeNet-300-100)")
    rounds: int = option(10, flag="--rounds", group=GROUP, type=int,
                         help="pruning rounds after the dense network (default 10: "
                         "0.8^10, about 11 percent of the hidden weights kept)")
    rate: float = option(HIDDEN_RATE, flag="--rate", group=GROUP, type=float,
                         help="share of the kept hidden weights pruned each round, ranked "
                         "globally (default 0.2)")
    output_rate: float | None = option(None, flag="--output-rate", group=GROUP, type=float,
                                       help="the output layer's rate (default: half of "
                                       "--rate; 0 leaves it unpruned, as open_lth)")
    within: float = option(1.0, flag="--within", group=GROUP, type=float,
                           help="a ticket matches the dense network when its test accuracy "
                           "is at most this many percentage points lower (default 1)")
    seeds: int = option(1, flag="--seeds", group=GROUP, type=int,
                        help="initializations, each pruned on its own (default 1)")
    data: DataConfig = option(default_factory=lambda: DataConfig("mnist"))
    # Frankle & Carbin's LeNet: Adam, lr 1.2e-3, batch 60
    train: TrainConfig = option(default_factory=lambda: TrainConfig(
        epochs=20, batch_size=60, lr=1.2e-3))
    seed: int = seed_option()

    @property
    def output(self) -> float:
        return self.rate / 2 if self.output_rate is None else self.output_rate

    def validate(self) -> None:
        require(self.rounds >= 1, "rounds", f"must be at least 1; received {self.rounds}")
        require(0 < self.rate < 1, "rate", f"must be in (0, 1); received {self.rate}")
        require(0 <= self.output < 1, "output_rate",
                f"must be in [0, 1); received {self.output_rate}")
        require(0 <= self.within < 100, "within",
                f"must be percentage points in [0, 100); received {self.within}")
        require(self.seeds >= 1, "seeds", f"must be at least 1; received {self.seeds}")
        self.train.validate()


COLUMNS = (
    Column("model_id", str, "dense-, ticket- or control-sSEED-rROUND; the resume key"),
    Column("kind", str, "dense (round 0), ticket (rewound to θ₀) or control (random init)"),
    Column("round", int, "pruning rounds behind this mask"),
    Column("seed", int, "the initialization θ₀ the ticket rewinds to"),
    Column("spec", str, "the MLP shorthand"),
    Column("params", int, "trainable parameters of the dense network"),
    Column("weights", int, "prunable weights (every weight matrix; biases are never pruned)"),
    Column("kept", int, "weights kept by the mask"),
    Column("kept_fraction", float, "kept / weights"),
    Column("observations", int, "training rows"),
    Column("train_loss", float), Column("test_loss", float),
    Column("train_accuracy", float), Column("val_accuracy", float),
    Column("test_accuracy", float),
    Column("epochs", int), Column("seconds", float),
)
DISPLAY = ("model_id", "kept_fraction", "train_accuracy", "test_accuracy", "epochs")


def model_id(kind: str, seed_index: int, round_: int) -> str:
    return f"{kind}-s{seed_index:02d}-r{round_:03d}"


def masks_key(seed_index: int, round_: int) -> str:
    """Where a round's mask lies in the store (beside the ticket's weights)."""
    return f"{model_id('ticket' if round_ else 'dense', seed_index, round_)}.masks"


@dataclass(frozen=True)
class Pruning:
    """What every round of a run shares: the network, its data, how it is trained."""

    config: PruneConfig
    arch: MLPArch
    data: Dataset

    def theta0(self, seed_index: int) -> list[np.ndarray]:
        return [t.numpy() for t in init_weights(self.arch, self.seed_of(seed_index))]

    def seed_of(self, seed_index: int) -> int:
        return self.config.seed + seed_index * SEED_STRIDE

    def masks_of(self, store: RunStore, seed_index: int, round_: int) -> list[np.ndarray]:
        """Round ``round_``'s masks: all ones for the dense network, else the previous
        round's masks pruned by its trained weights (stored, so a rerun draws the same)."""
        if round_ == 0:
            return [np.ones((a, b), np.float32)
                    for a, b in zip(self.arch.widths, self.arch.widths[1:], strict=False)]
        stored = store.weights_path(masks_key(seed_index, round_))
        if stored.exists():
            arrays = store.load_arrays(masks_key(seed_index, round_))
            return [arrays[f"m{i}"] for i in range(len(arrays))]
        before = model_id("dense" if round_ == 1 else "ticket", seed_index, round_ - 1)
        trained = store.load_weights(before).weights[::2]
        masks = prune_round(trained, self.masks_of(store, seed_index, round_ - 1),
                            self.config.rate, self.config.output)
        store.save_arrays(masks_key(seed_index, round_),
                          {f"m{i}": m for i, m in enumerate(masks)})
        return masks

    def model(self, kind: str, seed_index: int, masks: list[np.ndarray]) -> MaskedModel:
        seed = self.seed_of(seed_index)
        initial = (self.theta0(seed_index) if kind != "control" else
                   [t.numpy() for t in init_weights(self.arch, seed + CONTROL_SEED)])
        return MaskedModel(self.arch, initial, masks, seed)

    def row(self, result: ModelResult, kind: str, round_: int,
            masks: Sequence[np.ndarray]) -> Row:
        kept, total = sum(int(m.sum()) for m in masks), sum(m.size for m in masks)
        return {"model_id": result.model_id, "kind": kind, "round": round_,
                "seed": result.seed, "spec": self.arch.spec(), "params": result.params,
                "weights": total, "kept": kept, "kept_fraction": kept / total,
                "observations": result.observations, "train_loss": result.train_loss,
                "test_loss": result.test_loss, "train_accuracy": result.train_metric,
                "val_accuracy": result.val_metric, "test_accuracy": result.test_metric,
                "epochs": result.epochs, "seconds": result.seconds}

    def stage(self, round_: int) -> ComputePoints:
        """Round ``round_``: the dense networks (0), or each seed's ticket and control."""
        kinds = ("dense",) if round_ == 0 else ("ticket", "control")
        ids = [model_id(kind, s, round_) for s in range(self.config.seeds) for kind in kinds]

        def compute(missing: list[str], store: RunStore) -> Iterator[list[tuple[Row, History]]]:
            todo, planned = set(missing), []
            for s in range(self.config.seeds):
                wanted = [k for k in kinds if model_id(k, s, round_) in todo]
                if wanted:
                    masks = self.masks_of(store, s, round_)
                    planned += [(model_id(k, s, round_), k, s, masks) for k in wanted]
            results = train_masked([self.model(kind, s, masks) for _, kind, s, masks in planned],
                                   self.data, self.config.train,
                                   model_ids=[i for i, _, _, _ in planned])
            batch = []
            for result, (_, kind, _, masks) in zip(results, planned, strict=True):
                if kind != "control":  # the next round prunes the ticket's trained weights
                    assert result.weights is not None  # train_masked keeps them
                    store.save_weights(result.model_id, result.weights)
                batch.append((self.row(result, kind, round_, masks), result.history))
            yield batch  # one commit per round: a killed round is retrained whole

        return ComputePoints(ids, compute)


def pruning(config: PruneConfig) -> Pruning:
    data = config.data.load()
    if data.task != "classification":
        raise ParamlabError(f"{NAME} measures test accuracy within --within points of the "
                            f"dense network: it needs a classification data set (digits, "
                            f"mnist, mnist1d); {data.name} is a {data.task}")
    return Pruning(config, MLPArch.parse(config.spec, data.n_features, data.n_outputs, NAME),
                   data)


def plan(config: PruneConfig) -> Plan:
    prune = pruning(config)
    return Plan(tuple(prune.stage(k) for k in range(config.rounds + 1)), prune.data)


# ------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class PrunePoint:
    """One round, means over seeds (accuracies in [0, 1])."""

    round: int
    kept_fraction: float
    ticket_accuracy: float  # the dense network at round 0
    ticket_min: float
    ticket_max: float
    control_accuracy: float | None  # None at round 0
    train_accuracy: float


@dataclass(frozen=True)
class PruneAnalysis(Analysis):
    spec: str
    params: int
    weights: int  # prunable
    observations: int
    n_test: int
    seeds: int
    rate: float
    output_rate: float
    within: float  # percentage points
    dense_accuracy: float
    curve: tuple[PrunePoint, ...]
    # the smallest fraction of weights kept whose ticket is within `within` points of dense
    kept_fraction: float | None
    ticket_accuracy: float | None  # at kept_fraction
    control_accuracy: float | None  # the control at kept_fraction (None: dense only)
    sampling_error: float  # one standard error of a test accuracy near dense, √(p(1−p)/n)

    @property
    def control_within(self) -> bool | None:
        """Whether the control also matches the dense network at that fraction."""
        if self.control_accuracy is None:
            return None
        return self.control_accuracy >= self.dense_accuracy - self.within / 100


def _mean(rows: Sequence[Row], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def analyze(config: PruneConfig, plan: Plan, store: RunStore) -> PruneAnalysis:
    rows = store.rows()
    data = plan.data
    assert data is not None
    curve = []
    for round_ in sorted({r["round"] for r in rows}):
        tickets = [r for r in rows if r["round"] == round_ and r["kind"] != "control"]
        controls = [r for r in rows if r["round"] == round_ and r["kind"] == "control"]
        accuracies = [r["test_accuracy"] for r in tickets]
        curve.append(PrunePoint(round_, _mean(tickets, "kept_fraction"),
                                float(np.mean(accuracies)), min(accuracies), max(accuracies),
                                _mean(controls, "test_accuracy") if controls else None,
                                _mean(tickets, "train_accuracy")))
    dense = curve[0].ticket_accuracy
    kept = smallest_kept_within([p.kept_fraction for p in curve],
                                [p.ticket_accuracy for p in curve], dense, config.within)
    at = next((p for p in curve if p.kept_fraction == kept), None)
    first = rows[0]
    n_test = len(data.y_test)
    return PruneAnalysis(
        spec=first["spec"], params=first["params"], weights=first["weights"],
        observations=data.observations, n_test=n_test, seeds=config.seeds, rate=config.rate,
        output_rate=config.output, within=config.within, dense_accuracy=dense,
        curve=tuple(curve), kept_fraction=kept,
        ticket_accuracy=None if at is None else at.ticket_accuracy,
        control_accuracy=None if at is None else at.control_accuracy,
        sampling_error=float(np.sqrt(dense * (1 - dense) / n_test)))


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> PruneConfig | None:
    """``--full`` only: the capacity studies' shared network (``CAPACITY_DEMO_SPEC``,
    64-32-10 on digits: 2,410 parameters, 1,257 training images), eight rounds to 17 %
    of the weights, 10 epochs of batch 64 each (lr 3e-3: fewer steps than the paper's)."""
    if level != "full":
        return None
    return PruneConfig(CAPACITY_DEMO_SPEC, rounds=8, data=DataConfig(CAPACITY_DEMO_DATA),
                       train=TrainConfig(epochs=10, batch_size=64, lr=3e-3))


EXPERIMENT = Experiment(
    name=NAME,
    help="lottery tickets: iterative magnitude pruning with rewinding, and its control",
    description="Train a dense MLP, prune 20 % of its weights by magnitude (globally; the "
    "output layer at half the rate), rewind the rest to their initial values and retrain, "
    "round after round; beside each ticket the same mask from a random initialization. "
    "Reports the smallest fraction of weights kept whose test accuracy is within 1 point "
    "of the dense network.",
    config=PruneConfig,
    plan=plan,
    analyze=analyze,
    analysis=PruneAnalysis,
    columns=COLUMNS,
    order=75,
    display=DISPLAY,
    demo=demo_config,
    example=("64-16-10", "--data", "digits", "--rounds", "2", "--epochs", "1"),
    executors=False,
)
