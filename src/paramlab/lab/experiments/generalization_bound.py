"""An upper bound on test error that holds with probability ≥ 1 − δ although the parameters
outnumber the observations: the compression bound of Lotfi, Finzi, Kapoor, Potapczynski,
Goldblum and Wilson (NeurIPS 2022, arXiv 2211.13609).

For every d of a grid declared before training, the network trains only θ_d of
θ = θ₀ + P·θ_d (:func:`paramlab.lab.engine.train_subspace`); θ_d is quantized to L levels
(k-means codebook, :func:`paramlab.lab.science.coding.quantize`) for every L of a second
declared grid; the *quantized* network is evaluated on the training and test splits; its
message length l (:func:`~paramlab.lab.science.coding.message_length`: arithmetic-coded
level indices, codebook, counts, log2 of both grids, prefix code) bounds its complexity.
With probability ≥ 1 − δ over the n training examples, its error is at most
kl⁻¹(ê, (l·ln 2 + ln 1/δ)/n) (Langford 2005's Occam bound); Lotfi et al.'s optimized
Catoni bound is printed beside it. The (d, L) reported is the one with the smallest Occam
bound, a choice the log2 of the grids pays for.

The prior — the seed of θ₀ and P, the grids, the training options, τ — is fixed by the
config before the data are seen. With ``--prior-fraction f`` the prior is data-dependent, as
in Lotfi et al.'s data-dependent-prior runs (tight-pac-bayes ``train_dd_priors.py``): the
whole network first trains on a random fraction f of the training rows (drawn from the
seed), θ₀ is those trained weights, and the subspace models then train on the other rows
only, which are the n the bound is over — the prior never saw them, which is all the bound
needs. Classification bounds the 0-1 error; regression bounds the
fraction of points whose absolute error exceeds τ (default: half the training target's
standard deviation), a loss in [0, 1].
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from paramlab.errors import DataError
from paramlab.fields import check_list, grid, int_list, option, parse_grid, require
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import (
    MLPArch,
    SubspaceModel,
    TrainConfig,
    full_weights,
    predict,
    train_models,
    train_subspace,
    unflatten,
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
    seed_option,
)
from paramlab.lab.science.bounds import catoni_bound, default_tau, occam_bound, regression_error
from paramlab.lab.science.coding import message_length, quantize
from paramlab.lab.store import Column, RunStore

NAME = "generalization-bound"
GROUP = "bound"
CHUNK = 16  # subspace models per engine call (one commit each)
PRIOR_ID = "prior"  # the data-dependent prior's weights in the run folder
_PRIOR_STREAM = 0x9E10  # tags the prior/bound split's random stream apart from the seed's others
MIN_BOUND_ROWS = 10  # rows left for the bound when a prior takes its share

COLUMNS = (
    Column("model_id", str, "d{d}-L{levels}: the resume key"),
    Column("d", int, "subspace dimension"),
    Column("levels", int, "quantization levels L"),
    Column("params", int, "D, the network's raw parameter count"),
    Column("observations", int, "n, training rows the bound is over"),
    Column("train_error", float, "of the QUANTIZED model (the bounded loss)"),
    Column("test_error", float, "of the quantized model"),
    Column("float_train_error", float, "before quantization, for comparison only"),
    Column("float_test_error", float, "before quantization, for comparison only"),
    Column("message_bits", float, "l: everything the bound charges"),
    Column("symbol_bits", float, "the arithmetic-coded level indices"),
    Column("occam_bound", float, "kl⁻¹(ê, (l ln 2 + ln 1/δ)/n)"),
    Column("catoni_bound", float, "Lotfi et al.'s optimized Catoni bound"),
    Column("seconds", float),
)
DISPLAY = ("model_id", "d", "levels", "train_error", "test_error", "message_bits",
           "occam_bound", "catoni_bound")


@dataclass
class GeneralizationBoundConfig:
    spec: str = option("784-200-200-10", flag="SPEC",
                       help="MLP shorthand, e.g. 784-200-200-10 for --data mnist")
    dims: tuple[int, ...] = option(
        parse_grid("100..2000:5"), flag="--dims", group=GROUP, type=grid("--dims"),
        help="subspace dimensions d, declared before training: 100,500 or MIN..MAX:COUNT "
        "(default 100..2000:5)")
    levels: tuple[int, ...] = option((3, 5, 7, 11), flag="--levels", group=GROUP,
                                     type=int_list, metavar="L,…",
                                     help="quantization levels L (each ≥ 2; default "
                                     "3,5,7,11)")
    projection: str = option("sparse", flag="--projection", group=GROUP,
                             choices=[k for k in PROJECTIONS if k != "identity"],
                             help="the random projection P (default sparse: the fastest on CPU)")
    delta: float = option(0.05, flag="--delta", group=GROUP, type=float,
                          help="the bound fails with probability at most δ (default 0.05)")
    tau: float | None = option(None, flag="--tau", group=GROUP, type=float,
                               help="regression: a point is an error when |ŷ − y| > τ "
                               "(default half the training target's standard deviation)")
    prior_fraction: float = option(
        0.0, flag="--prior-fraction", group=GROUP, type=float,
        help="a data-dependent prior (Lotfi et al. 2022): train the whole network on this "
        "fraction of the training rows first and start every subspace at its weights; the "
        "bound is then over the other rows only (default 0: θ₀ is the random "
        "initialization and the bound is over every training row)")
    data: DataConfig = option(default_factory=lambda: DataConfig("mnist"))
    train: TrainConfig = option(default_factory=lambda: TrainConfig(
        epochs=10, batch_size=128, lr=3e-3))
    seed: int = seed_option()  # θ₀, P, the prior's rows and the k-means draw: the prior

    def validate(self) -> None:
        require(bool(self.dims), "dims", "needs at least one value")
        check_list("levels", self.levels, low=2)
        require(len(set(self.levels)) == len(self.levels), "levels",
                f"must not repeat a value; received {self.levels}")
        require(0 < self.delta < 1, "delta", f"must be in (0, 1); received {self.delta}")
        require(self.tau is None or self.tau > 0, "tau", f"must be > 0; received {self.tau}")
        require(0 <= self.prior_fraction < 1, "prior_fraction",
                f"must be in [0, 1); received {self.prior_fraction}")
        self.train.validate()


@dataclass(frozen=True)
class GeneralizationBoundAnalysis(Analysis):
    """The certified bound of the chosen (d, L), what it is about, and what to compare it
    with (the issue's keys: bound, catoni_bound, message_bits, train_error, test_error,
    n_train, delta)."""

    spec: str
    params: int
    task: str
    loss: str  # "0-1 error" or "τ-error (|ŷ − y| > τ)"
    tau: float | None
    d: int
    levels: int
    bound: float  # Occam / kl-inverse
    catoni_bound: float
    message_bits: float
    train_error: float  # of the quantized model
    test_error: float
    test_sampling_error: float  # two standard errors of test_error (n_test points)
    n_train: int
    n_test: int
    delta: float
    trivial: float  # chance, or the τ-error of predicting the training mean
    trivial_name: str
    vacuous: bool  # bound ≥ trivial
    grid_size: int  # (d, L) pairs the bound chose among
    # a data-dependent prior: the training rows it took (not in n_train) and its own
    # network's test error; 0 and None without one (and in runs written before it existed)
    n_prior: int = 0
    prior_test_error: float | None = None


def resolve_tau(config: GeneralizationBoundConfig, rows: Split) -> float | None:
    """τ for a regression (the declared one or the default); None for classes. With a
    data-dependent prior the default is taken from the prior's rows alone, so that the
    bound's rows choose nothing about their own loss."""
    if rows.bound.task == "classification":
        require(config.tau is None, "tau", "applies to regression only; this data set has "
                "classes and the bound is on the 0-1 error")
        return None
    if config.tau is not None:
        return config.tau
    try:
        return default_tau((rows.bound if rows.prior is None else rows.prior).y_train)
    except DataError as error:
        require(False, "tau", f"is needed: no default applies ({error})")
        raise


def errors(arch: MLPArch, weights: list[np.ndarray], data: Dataset, activation: str,
           tau: float | None) -> tuple[float, float]:
    """(training, test) error of one network: 0-1 for classes, the τ-error for regression."""
    out = []
    for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
        pred = predict(arch, weights, X, activation)
        out.append(float(np.mean(pred.argmax(1) != y)) if tau is None else
                   regression_error(pred, y, tau))
    return out[0], out[1]


@dataclass(frozen=True)
class Split:
    """The training rows a data-dependent prior learns from, and the data set whose training
    rows the subspace models learn from and the bound is over (all of them without a prior).
    """

    prior: Dataset | None
    bound: Dataset


def split(config: GeneralizationBoundConfig, data: Dataset) -> Split:
    """A random ``prior_fraction`` of the training rows for the prior, drawn from the seed
    alone (part of the prior), the rest for the bound."""
    if not config.prior_fraction:
        return Split(None, data)
    n = data.observations
    taken = round(config.prior_fraction * n)
    require(taken >= 1, "prior_fraction", f"gives the prior no row of the {n:,} training "
            f"rows; received {config.prior_fraction}")
    require(n - taken >= MIN_BOUND_ROWS, "prior_fraction",
            f"leaves {n - taken} of the {n:,} training rows for the bound; at least "
            f"{MIN_BOUND_ROWS} are needed")
    order = np.random.default_rng([config.seed, _PRIOR_STREAM]).permutation(n)
    prior, rest = np.sort(order[:taken]), np.sort(order[taken:])

    def rows(index: np.ndarray) -> Dataset:
        return dataclasses.replace(data, X_train=data.X_train[index],
                                   y_train=data.y_train[index])

    return Split(rows(prior), rows(rest))


def prior_origin(config: GeneralizationBoundConfig, arch: MLPArch, prior: Dataset,
                 store: RunStore) -> np.ndarray:
    """θ₀ of a data-dependent prior: the whole network trained on the prior's rows from the
    seed's initialization, kept in the run folder so a resumed run starts every subspace
    from the very same weights."""
    if not store.weights_path(PRIOR_ID).exists():
        (result,) = train_models([arch], prior, config.train, [config.seed],
                                 model_ids=[PRIOR_ID], keep_weights=True, workers=1)
        assert result.weights is not None
        store.save_weights(PRIOR_ID, result.weights)
    weights = store.load_weights(PRIOR_ID).weights  # [W1, b1, …] as ``flatten`` lays θ out
    return np.concatenate([np.asarray(w, dtype=np.float32).reshape(-1) for w in weights])


def plan(config: GeneralizationBoundConfig) -> Plan:
    """Train the data-dependent prior, when asked; then each d once in its subspace; then
    quantize and bound each (d, L)."""
    data = config.data.load()
    arch = MLPArch.parse(config.spec, data.n_features, data.n_outputs, NAME)
    D = arch.params()
    require(max(config.dims) <= D, "dims",
            f"must not exceed D = {D:,}, the parameters of {config.spec}; received "
            f"{max(config.dims):,}")
    rows = split(config, data)
    tau = resolve_tau(config, rows)
    points = {f"d{d}-L{L}": (d, L) for d in config.dims for L in config.levels}

    def compute(missing: list[str], store: RunStore) -> Iterator[list[tuple[Row, History]]]:
        origin = (None if rows.prior is None else
                  prior_origin(config, arch, rows.prior, store))
        dims = sorted({points[i][0] for i in missing})
        for start in range(0, len(dims), CHUNK):
            models = [SubspaceModel(arch, d, config.seed, config.projection, origin)
                      for d in dims[start: start + CHUNK]]
            trained = train_subspace(models, rows.bound, config.train,
                                     model_ids=[f"d{m.d}" for m in models])
            for model, result in zip(models, trained, strict=True):
                assert result.theta_d is not None
                wanted = [i for i in missing if points[i][0] == model.d]
                yield [(bound_row(config, rows.bound, arch, model, result.theta_d,
                                  points[i][1], tau), []) for i in wanted]

    return Plan((ComputePoints(list(points), compute),), data)


def bound_row(config: GeneralizationBoundConfig, data: Dataset, arch: MLPArch,
              model: SubspaceModel, theta_d: np.ndarray, levels: int,
              tau: float | None) -> Row:
    """Quantize θ_d to ``levels`` levels, evaluate the quantized network, bound it."""
    start = time.perf_counter()
    activation = config.train.activation
    codebook, indices = quantize(theta_d, min(levels, np.unique(theta_d).size), config.seed)
    quantized = unflatten(arch, full_weights(model, codebook[indices]))
    train_error, test_error = errors(arch, quantized, data, activation, tau)
    float_train, float_test = errors(arch, unflatten(arch, full_weights(model, theta_d)),
                                     data, activation, tau)
    message = message_length(indices, len(codebook), len(config.dims), len(config.levels))
    n = data.observations
    return {"model_id": f"d{model.d}-L{levels}", "d": model.d, "levels": levels,
            "params": model.D, "observations": n, "train_error": train_error,
            "test_error": test_error, "float_train_error": float_train,
            "float_test_error": float_test, "message_bits": message.total,
            "symbol_bits": message.symbols,
            "occam_bound": occam_bound(train_error, message.total, n, config.delta),
            "catoni_bound": catoni_bound(train_error, message.total, n, config.delta),
            "seconds": time.perf_counter() - start}


def trivial_bound(data: Dataset, tau: float | None) -> tuple[float, str]:
    """What a bound must beat to say anything: chance error 1 − 1/K for K classes; for
    regression the test τ-error of predicting the training mean."""
    if tau is None:
        classes = int(data.n_classes or 0)
        return 1 - 1 / classes, f"chance (1 − 1/{classes})"
    mean = np.broadcast_to(data.y_train.mean(axis=0), data.y_test.shape)
    return regression_error(mean, data.y_test, tau), "predicting the training mean"


def analyze(config: GeneralizationBoundConfig, plan: Plan,
            store: RunStore) -> GeneralizationBoundAnalysis:
    data = plan.data
    assert data is not None
    split_rows = split(config, data)
    tau = resolve_tau(config, split_rows)
    bound_data = split_rows.bound
    rows = store.rows()
    best = min(rows, key=lambda r: (r["occam_bound"], r["d"], r["levels"]))
    trivial, trivial_name = trivial_bound(data, tau)
    n_test = len(data.y_test)
    p = best["test_error"]
    return GeneralizationBoundAnalysis(
        config.spec, best["params"], data.task,
        "0-1 error" if tau is None else "τ-error (|ŷ − y| > τ)", tau, best["d"],
        best["levels"], best["occam_bound"], best["catoni_bound"], best["message_bits"],
        best["train_error"], p, 2 * math.sqrt(max(p * (1 - p), 1 / n_test) / n_test),
        bound_data.observations, n_test, config.delta, trivial, trivial_name,
        best["occam_bound"] >= trivial, len(rows),
        data.observations - bound_data.observations, prior_test_error(config, data, store,
                                                                        tau))


def prior_test_error(config: GeneralizationBoundConfig, data: Dataset, store: RunStore,
                     tau: float | None) -> float | None:
    """The data-dependent prior's own network on the test set (what the subspaces started
    from); None without a prior."""
    if not config.prior_fraction or not store.weights_path(PRIOR_ID).exists():
        return None
    arch = MLPArch.parse(config.spec, data.n_features, data.n_outputs, NAME)
    weights = store.load_weights(PRIOR_ID).weights
    return errors(arch, weights, data, config.train.activation, tau)[1]


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]
                ) -> GeneralizationBoundConfig | None:
    """``--full`` only: the capacity studies' shared network (``CAPACITY_DEMO_SPEC``, a
    64-32-10 MLP: 2,410 parameters, more than the 1,257 training digits), four d and three
    L."""
    if level != "full":
        return None
    return demo_small()


def demo_small() -> GeneralizationBoundConfig:
    return GeneralizationBoundConfig(
        CAPACITY_DEMO_SPEC, dims=parse_grid("20..320:4"), levels=(3, 5, 7),
        data=DataConfig(CAPACITY_DEMO_DATA), train=TrainConfig(epochs=20, batch_size=64, lr=1e-2))


EXPERIMENT = Experiment(
    name=NAME,
    help="a certified upper bound on test error: subspace training, quantization, coding",
    description="Train in random subspaces of a declared grid of d, quantize θ_d to a "
    "declared grid of levels, arithmetic-code it, and bound the quantized network's error "
    "with probability ≥ 1 − δ (Occam / kl-inverse, and Lotfi et al.'s Catoni form), beside "
    "the measured test error and the trivial bound.",
    config=GeneralizationBoundConfig,
    plan=plan,
    analyze=analyze,
    analysis=GeneralizationBoundAnalysis,
    columns=COLUMNS,
    order=76,
    display=DISPLAY,
    demo=demo_config,
    example=("64-8-10", "--data", "digits", "--dims", "4,8", "--levels", "2,3", "--epochs",
             "1"),
    executors=False,  # subspace models train in the engine's own workers, not the executors
)
