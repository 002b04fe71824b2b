"""Double descent: test error against the number of parameters has a second descent past the
interpolation threshold — for minimum-norm linear regression, for random-features
regression and for MLPs — measured, with the theory drawn beside it.

Three models (``--model``):

* ``linear``: minimum-norm least squares (the exact pseudo-inverse; ``--ridge λ`` adds a
  ridge penalty) on isotropic Gaussian features, swept model-wise (``--sweep features``: p
  from n/10 to 10n at fixed n) or sample-wise (``--sweep samples``: n at fixed p). Each point
  carries the exact finite-n risk and Hastie et al.'s asymptotic risk
  (:mod:`paramlab.lab.science.dd_theory`), and the optimally tuned ridge fit of the same draw
  with its closed form.
* ``random-features``: min-norm regression on N random ReLU or Fourier features of digits,
  MNIST-1D or the synthetic regression; the peak where N reaches the training rows.
* ``mlp``: the MNIST-1D paper's deep double descent — two hidden layers of a swept width,
  4,000 training signals with 15 % of their labels replaced (once), SGD for 500 epochs —
  trained together on the batched engine.

Closed-form points are computed here (:class:`ComputePoints`, committed one repeat at a time);
the MLPs go through the executor (:class:`TrainModels`). Sentences and figures:
:mod:`paramlab.lab.report.double_descent`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from paramlab import fields
from paramlab.errors import ParamlabError
from paramlab.fields import grid, option, parse_grid, require
from paramlab.lab.blas import one_blas_thread
from paramlab.lab.data import DataConfig, Dataset, load_dataset
from paramlab.lab.data.double_descent import MNIST1D_TRAIN_ROWS, fit_arrays, mnist1d_paper
from paramlab.lab.engine import MLPArch, ModelResult, Planned, TrainConfig
from paramlab.lab.runner import (
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
from paramlab.lab.science.capacity import EpochDescent, second_descent
from paramlab.lab.science.dd_sweeps import (
    Scores,
    linear_sweep,
    random_feature_sweep,
)
from paramlab.lab.science.label_noise import with_label_noise
from paramlab.lab.science.peaks import most_prominent_peak
from paramlab.lab.store import Column, RunStore

NAME = "double-descent"
MODELS = ("linear", "random-features", "mlp")
# defaults by model; () / None / 0 / "auto" in the config means "the model's default"
DEFAULT_DATA = {"linear": "gaussian", "random-features": "digits", "mlp": "mnist1d"}
DEFAULT_REPEATS = {"linear": 20, "random-features": 5, "mlp": 1}
DEFAULT_N_TRAIN = {"linear": 200, "random-features": 400, "mlp": MNIST1D_TRAIN_ROWS}
DEFAULT_WIDTHS = "2..300:19"  # the MNIST-1D study's widths
LINEAR_NOISE = 0.5  # σ of the linear model unless --noise is given
MEMORY_SHARE = 0.5  # refuse a run whose largest arrays need more than this share of RAM
THEORY_BAND = 0.25  # points with |p/n − 1| ≤ this are too close to the (infinite) peak
PEAK_SHARPNESS = 1.1  # a tuned-ridge "peak": an inner point above both ends by 10 %
ERROR_PROMINENCE = 0.03  # an MLP test-error peak: 3 points above the best on each side
SMOOTHING = 0.05  # epoch-wise verdicts read test error averaged over 5 % of the epochs


# ------------------------------------------------------------------ options


def study_train_config() -> TrainConfig:
    """The MNIST-1D paper's training: SGD, lr 0.01, momentum 0.9, batch 100, 500 epochs."""
    return TrainConfig(epochs=500, batch_size=100, lr=0.01, optimizer="sgd", momentum=0.9)


GROUP = "double descent"


@dataclass
class DoubleDescentConfig:
    model: str = option("linear", flag="--model", group=GROUP, choices=MODELS)
    sweep: str = option("features", flag="--sweep", group=GROUP,
                        choices=["features", "samples"],
                        help="features: vary the parameters at fixed n (model-wise); "
                        "samples: vary n at fixed p (linear only)")
    features: tuple[int, ...] = option(
        (), flag="--features", group=GROUP, type=grid("--features"),
        help="feature counts: 2,4,8 or MIN..MAX:COUNT (geometric); one p for a samples "
        "sweep (default n/10..10n:101)")
    widths: tuple[int, ...] = option((), flag="--widths", group=GROUP,
                                     type=grid("--widths"),
                                     help=f"mlp hidden widths (default {DEFAULT_WIDTHS})")
    n_train: tuple[int, ...] = option(
        (), flag="--n-train", group=GROUP, type=grid("--n-train"),
        help="training rows; a list for a samples sweep (defaults: linear 200, random "
        "features 400, mlp 4000)")
    repeats: int = option(0, flag="--repeats", group=GROUP, type=int,
                          help="independent draws per point (default: linear 20, random "
                          "features 5, mlp 1)")
    noise_draws: int = option(10, flag="--noise-draws", group=GROUP, type=int,
                              help="linear: noise vectors fitted per draw of X and β "
                              "(default 10)")
    signal: float = option(1.0, flag="--signal", group=GROUP, type=float,
                           help="linear: ‖β‖² (default 1)")
    ridge: float = option(0.0, flag="--ridge", group=GROUP, type=float,
                          help="λ of (1/n)‖y − Xβ‖² + λ‖β‖² (default 0: minimum norm)")
    features_kind: str = option("relu", flag="--features-kind", group=GROUP,
                                choices=["relu", "fourier"])
    label_noise: float | None = option(None, flag="--label-noise", group=GROUP, type=float,
                                       help="share of training labels replaced, once "
                                       "(default: mlp 0.15)")
    # --noise: σ of the linear model; "auto": the model's data set
    data: DataConfig = option(default_factory=lambda: DataConfig("auto"))
    train: TrainConfig = option(default_factory=study_train_config)  # mlp only
    seed: int = seed_option()  # draws, label noise, initializations

    @property
    def noise_std(self) -> float:
        """σ of the linear model."""
        return LINEAR_NOISE if self.data.noise is None else float(self.data.noise)

    def validate(self) -> None:
        """One-line errors for options that cannot make a study (what, where, expected);
        run on the resolved config (:func:`resolved`)."""
        require(math.isfinite(self.ridge) and self.ridge >= 0, "ridge",
                f"must be a number ≥ 0 (0: the minimum-norm fit); received {self.ridge}")
        require(self.label_noise is not None and 0 <= self.label_noise <= 1, "label_noise",
                f"must be a share in [0, 1]; received {self.label_noise}")
        require(self.repeats >= 1, "repeats", f"must be at least 1; received {self.repeats}")
        require(self.noise_draws >= 1, "noise_draws",
                f"must be at least 1; received {self.noise_draws}")
        require(self.signal > 0, "signal", f"(‖β‖²) must be positive; received {self.signal}")
        require(self.noise_std >= 0, "noise", f"must be ≥ 0; received {self.data.noise}")
        require(self.features_kind in ("relu", "fourier"), "features_kind",
                f"must be relu or fourier; received {self.features_kind!r}")
        for name in ("features", "widths", "n_train"):
            values = getattr(self, name)
            require(all(v >= 1 for v in values), name,
                    f"takes positive integers; received {list(values)}")
        self._validate_model()
        if self.model == "mlp":
            self.train.validate()
        check_memory(self)

    def _validate_model(self) -> None:
        if self.model == "linear":
            require(self.data.data == "gaussian", "data", "must be gaussian for the linear "
                    f"model (isotropic Gaussian features); received {self.data.data!r}")
            by_features = self.sweep == "features"
            swept, swept_name = ((self.features, "features") if by_features
                                 else (self.n_train, "n_train"))
            single, single_name = ((self.n_train, "n_train") if by_features
                                   else (self.features, "features"))
            require(len(single) == 1, single_name, f"takes one value in a {self.sweep} "
                    f"sweep; received {len(single)}")
            require(len(swept) >= 2, swept_name, f"needs at least two sizes in a "
                    f"{self.sweep} sweep; received {len(swept)}")
            return
        require(len(self.n_train) == 1, "n_train",
                f"takes one value for {self.model}; received {len(self.n_train)}")
        if self.model == "mlp":
            require(self.data.data != "gaussian", "data", "must be a classification data "
                    "set for the mlp model (mnist1d, digits); received 'gaussian'")


def decade_around(size: int) -> tuple[int, ...]:
    """101 sizes spaced geometrically from size/10 to 10·size; the middle one is size itself,
    so the sweep lands exactly on the interpolation threshold."""
    return parse_grid(f"{max(1, size // 10)}..{10 * size}:101", "--features")


def resolved(config: DoubleDescentConfig) -> DoubleDescentConfig:
    """The config with each "model default" filled in (what the run folder records)."""
    model = config.model
    require(model in MODELS, "model", f"must be one of {', '.join(MODELS)}; received "
            f"{model!r}")
    require(config.sweep in ("features", "samples"), "sweep",
            f"must be features or samples; received {config.sweep!r}")
    require(config.sweep == "features" or model == "linear", "sweep",
            f"samples is for the linear model; received model {model!r}, which sweeps its "
            "width (features)")
    n = DEFAULT_N_TRAIN[model]
    features, n_train, widths = config.features, config.n_train, config.widths
    if model == "linear" and config.sweep == "samples":
        features = features or (n,)
        n_train = n_train or decade_around(features[0])
    else:
        n_train = n_train or (n,)
        if model != "mlp":
            features = features or decade_around(n_train[0])
    if model == "mlp":
        widths = widths or parse_grid(DEFAULT_WIDTHS, "--widths")
    label_noise = config.label_noise
    if label_noise is None:
        label_noise = 0.15 if model == "mlp" else 0.0
    data = dataclasses.replace(config.data, data=DEFAULT_DATA[model]
                               if config.data.data == "auto" else config.data.data)
    return dataclasses.replace(config, features=tuple(features), widths=tuple(widths),
                               n_train=tuple(n_train), label_noise=label_noise, data=data,
                               repeats=config.repeats or DEFAULT_REPEATS[model])


def needed_bytes(config: DoubleDescentConfig) -> tuple[int, str]:
    """The largest arrays one repeat allocates (float64 unless said), and what they are."""
    if config.model == "linear":
        rows, cols = ((config.n_train[0], config.features[-1]) if config.sweep == "features"
                      else (config.n_train[-1], config.features[0]))
        small = min(rows, cols)
        return 8 * (rows * cols + 2 * small * small), f"a {rows:,} × {cols:,} design"
    if config.model == "random-features":
        rows = config.n_train[0] + 1_000  # training rows and (at most a few thousand) test
        width = config.features[-1]
        return 8 * (2 * rows * width + 2 * config.n_train[0] ** 2 + 100 * width), (
            f"{width:,} random features of {rows:,} rows")
    widest = max(config.widths)
    # float32 weights, gradients, momentum of every model, plus a batch of activations
    params = sum(40 * w + w * w + 10 * w for w in config.widths)
    return 4 * (4 * params + 4 * config.train.batch_size * widest * len(config.widths)), (
        f"MLPs of widths up to {widest:,}")


def available_memory() -> int:
    """Bytes of memory this machine has free now (MemAvailable), or its total."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def check_memory(config: DoubleDescentConfig) -> None:
    """Refuse, before allocating, a sweep whose arrays would not fit in memory."""
    need, what = needed_bytes(config)
    have = available_memory()
    if need > MEMORY_SHARE * have:
        raise ParamlabError(
            f"{NAME}: {what} needs about {need / 2**30:,.1f} GiB; this machine has "
            f"{have / 2**30:,.1f} GiB available (at most {MEMORY_SHARE:.0%} may be used); "
            "sweep fewer features, widths or training rows")


# ------------------------------------------------------------------ plan


def plan(config: DoubleDescentConfig) -> Plan:
    """Closed-form points (linear, random features) or MLPs to train. The console's title
    stays the study's own (no data set in the plan), as before."""
    if config.model == "mlp":
        return Plan((mlp_stage(config),))
    if config.model == "linear":
        sizes = config.features if config.sweep == "features" else config.n_train
        ids = [linear_id(config, k, r) for r in range(config.repeats) for k in sizes]
        return Plan((ComputePoints(ids, lambda missing, store: linear_batches(config,
                                                                              missing)),))
    ids = [rf_id(config, k, r) for r in range(config.repeats) for k in config.features]
    return Plan((ComputePoints(ids, lambda missing, store: rf_batches(config, missing)),))


def point_id(model: str, size_name: str, size: int, n: int, repeat: int) -> str:
    """Sortable and deterministic from the config: the resume key of one fitted point."""
    return f"{model}-{size_name}{size:06d}-n{n:06d}-r{repeat:03d}"


def linear_id(config: DoubleDescentConfig, k: int, repeat: int) -> str:
    if config.sweep == "features":
        return point_id("linear", "p", k, config.n_train[0], repeat)
    return point_id("linear", "p", config.features[0], k, repeat)


def rf_id(config: DoubleDescentConfig, k: int, repeat: int) -> str:
    return point_id("rf", "N", k, config.n_train[0], repeat)


Batch = list[tuple[Row, History]]


def linear_batches(config: DoubleDescentConfig, missing: list[str]) -> Iterator[Batch]:
    """Every repeat draws the largest design once; all sizes are its prefixes. One batch
    (one commit) per repeat that still has missing points."""
    todo = set(missing)
    with one_blas_thread():
        for repeat in range(config.repeats):
            if _repeat_missing(todo, repeat):
                yield [(row, []) for row in linear_rows(config, repeat)
                       if row["model_id"] in todo]


def _repeat_missing(todo: set[str], repeat: int) -> bool:
    """Whether a point of this repeat is still to compute (ids end in ``-rNNN``)."""
    return any(i.endswith(f"-r{repeat:03d}") for i in todo)


def linear_rows(config: DoubleDescentConfig, repeat: int) -> list[Row]:
    """The fitted points of one repeat as results rows: the chosen fit (min-norm or
    --ridge λ) and the optimally tuned ridge fit on the same draw, with the theory for each."""
    by_features = config.sweep == "features"
    sizes, fixed = ((config.features, config.n_train[0]) if by_features
                    else (config.n_train, config.features[0]))
    points = linear_sweep(config.sweep, sizes, fixed, signal=config.signal,
                          noise_std=config.noise_std, ridge=config.ridge, seed=config.seed,
                          repeat=repeat, noise_draws=config.noise_draws)
    return [{
        "model_id": point_id("linear", "p", pt.p, pt.n, repeat), "model": "linear",
        "sweep": config.sweep, "features": pt.p, "params": pt.p, "n_train": pt.n,
        "gamma": pt.p / pt.n, "repeat": repeat, "ridge": config.ridge,
        "train_loss": pt.train_loss, "test_loss": pt.risk + config.noise_std**2,
        "test_risk": pt.risk, "theory_risk": pt.theory_risk,
        "theory_risk_asymptotic": pt.theory_asymptotic, "optimal_ridge": pt.optimal_ridge,
        "optimal_ridge_risk": pt.optimal_ridge_risk,
        "optimal_ridge_theory": pt.optimal_ridge_theory,
    } for pt in points]


def rf_batches(config: DoubleDescentConfig, missing: list[str]) -> Iterator[Batch]:
    """Each repeat draws one first layer with the most features; widths are its prefixes.
    The data set is loaded only when some point is missing."""
    todo = set(missing)
    n = config.n_train[0]
    arrays = fit_arrays(config.data.data, config.seed, n, config.data.noise)
    outputs = arrays.y_train.shape[1]
    with one_blas_thread():
        for repeat in range(config.repeats):
            if not _repeat_missing(todo, repeat):
                continue
            rng = np.random.default_rng([config.seed, repeat, 7])
            sweep = random_feature_sweep(arrays, config.features_kind, config.features,
                                         config.ridge, rng)
            yield [({"model_id": rf_id(config, k, repeat), "model": "random-features",
                     "sweep": "features", "features": k, "width": k, "params": k * outputs,
                     "n_train": n, "gamma": k / n, "repeat": repeat, "ridge": config.ridge,
                     "label_noise": 0.0, **_scores("train", train), **_scores("test", test)},
                    []) for k, train, test in sweep if rf_id(config, k, repeat) in todo]


def _scores(split: str, scores: Scores) -> Row:
    """A split's columns: loss, and for classes accuracy and error."""
    if scores.accuracy is None:
        return {f"{split}_loss": scores.loss}
    return {f"{split}_loss": scores.loss, f"{split}_accuracy": scores.accuracy,
            f"{split}_error": 1 - scores.accuracy}


def mlp_data(config: DoubleDescentConfig) -> Dataset:
    """The training set with its label noise (drawn once from the seed), clean test set."""
    name = config.data.data
    data = mnist1d_paper(config.seed) if name == "mnist1d" else load_dataset(
        name, seed=config.seed, n_samples=config.data.n_samples)
    return with_label_noise(data, config.label_noise or 0.0, config.seed,
                            config.n_train[0])[0]


def mlp_stage(config: DoubleDescentConfig) -> TrainModels:
    """Every width (and repeat) trains at once on the batched engine, through the executor
    (so ``--executor ray`` and cooperating processes apply here too)."""
    data = mlp_data(config)
    models = [Planned(f"mlp-w{w:05d}-r{r:03d}",
                      MLPArch(data.n_features, (w, w), data.n_outputs),
                      config.seed * 100_003 + r * 1_009 + w)
              for r in range(config.repeats) for w in config.widths]
    return TrainModels(models, data, config.train,
                       row=lambda result: mlp_row(result, config))


def mlp_row(result: ModelResult, config: DoubleDescentConfig) -> Row:
    train_acc, test_acc = result.train_metric, result.test_metric
    return {
        "model_id": result.model_id, "model": "mlp", "sweep": "features",
        "width": result.arch.hidden[0], "params": result.params,
        "n_train": result.observations, "gamma": result.params / result.observations,
        "repeat": int(result.model_id.rsplit("-r", 1)[1]), "label_noise": config.label_noise,
        "train_loss": result.train_loss, "test_loss": result.test_loss,
        "train_accuracy": train_acc, "test_accuracy": test_acc,
        "train_error": None if train_acc is None else 1 - train_acc,
        "test_error": None if test_acc is None else 1 - test_acc,
        "epochs": result.epochs, "seconds": result.seconds,
    }


# ------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class LinearPoint:
    """One (p, n) of the linear curve: means over repeats of the measured risks (excess
    test error ‖β̂ − β‖²), and the theory at that point."""

    p: int
    n: int
    gamma: float
    repeats: int
    risk: float
    train_loss: float
    theory: float | None  # exact finite-n min-norm risk; None near p = n or with a ridge
    asymptotic: float | None
    tuned: float  # optimally tuned ridge, measured
    tuned_theory: float


@dataclass(frozen=True)
class WidthPoint:
    """One width (random features: N) of a width sweep, means over repeats."""

    width: int
    repeats: int
    params: float
    train_loss: float
    test_loss: float
    train_error: float | None  # classes only
    test_error: float | None


A = TypeVar("A", bound=Analysis)


@dataclass(frozen=True)
class DoubleDescentAnalysis(Analysis):
    """The analysis of one run: :class:`LinearAnalysis` or :class:`WidthAnalysis`, told
    apart by ``model`` when read back."""

    model: str

    @classmethod
    def from_json(cls: type[A], values: dict[str, Any]) -> A:
        kind = {"linear": LinearAnalysis, "mlp": MLPAnalysis}.get(values.get("model", ""),
                                                                  WidthAnalysis)
        return cast(A, fields.from_dict(kind, values))


@dataclass(frozen=True)
class LinearAnalysis(DoubleDescentAnalysis):
    sweep: str
    ridge: float
    signal: float
    noise: float  # σ the run used
    repeats: int
    points: int
    curve: tuple[LinearPoint, ...]  # by p/n
    peak: LinearPoint  # the highest measured risk
    peak_at_threshold: bool  # within 10 % of p = n
    second_descent: LinearPoint | None  # the lowest risk past the peak
    descends_again: bool  # rises to the peak from below half of it, and falls below half
    theory_points: int  # points away from the threshold with a finite exact risk
    theory_worst_gap: float | None  # the largest relative gap to the exact risk there
    theory_worst_at: LinearPoint | None
    best_under: LinearPoint | None  # p < n
    best_over: LinearPoint | None  # p > n
    tuned_inner_max: LinearPoint
    tuned_has_peak: bool
    tuned_worst_gap: float
    tuned_worst_at: LinearPoint
    tuned_first: LinearPoint
    tuned_last: LinearPoint


@dataclass(frozen=True)
class WidthAnalysis(DoubleDescentAnalysis):
    data: str
    n_train: int
    label_noise: float
    kind: str  # random-feature kind
    epochs: int
    repeats: int
    metric: str  # test_error (classes) or test_loss
    curve: tuple[WidthPoint, ...]
    peak: WidthPoint  # the most prominent peak of the metric
    left_min: float | None  # the best narrower
    right_min: float | None  # the best wider
    threshold: int | None  # mlp: the first width with zero training error; else N = n
    peak_ratio: float | None  # peak width / threshold
    factor: float  # "near the threshold": within this factor
    peak_near_threshold: bool
    prominent: bool  # stands the required height above both sides


@dataclass(frozen=True)
class EpochCurve:
    """One width's test error over epochs (means over repeats), and its shape."""

    width: int
    repeats: int
    epochs: tuple[int, ...]
    test_error: tuple[float, ...]
    descent: EpochDescent  # of the curve smoothed over `window` epochs
    window: int = 1


@dataclass(frozen=True)
class MLPAnalysis(WidthAnalysis):
    """The MLP sweep, with the epoch-wise side (Nakkiran et al. 2019, Sec. 6): test error
    over epochs of every width past the interpolation threshold. Empty in a run folder
    written before the engine recorded per-epoch test accuracy."""

    epochwise: tuple[EpochCurve, ...] = ()
    n_test: int = 0


def analyze(config: DoubleDescentConfig, plan: Plan, store: RunStore) -> DoubleDescentAnalysis:
    rows = store.rows()
    if config.model == "linear":
        return linear_analysis(rows, config)
    analysis = width_analysis(rows, config)
    if config.model != "mlp":
        return analysis
    stage = plan.stages[0]
    assert isinstance(stage, TrainModels)
    n_test = len(stage.data.y_test)
    past = [r for r in rows if analysis.threshold is not None
            and r["width"] >= analysis.threshold]
    return MLPAnalysis(**{f.name: getattr(analysis, f.name)
                          for f in dataclasses.fields(analysis)},
                       epochwise=epoch_curves(past, store.history(), n_test), n_test=n_test)


def epoch_margin(error: float, n_test: int) -> float:
    """The rise and the fall a second descent needs: two standard errors of a test error
    rate on ``n_test`` points, √(e(1−e)/n), and at least one point (0.01)."""
    return max(0.01, 2 * math.sqrt(error * (1 - error) / n_test))


def epoch_curves(rows: list[Row], history: dict[str, list[dict[str, float]]],
                 n_test: int) -> tuple[EpochCurve, ...]:
    """Each width's mean test error per epoch over its repeats (the epochs all of them
    recorded), and whether it descends a second time (:func:`second_descent`)."""
    by_width: dict[int, list[list[dict[str, float]]]] = defaultdict(list)
    for row in rows:
        recorded = [h for h in history.get(row["model_id"], []) if "test_accuracy" in h]
        if len(recorded) >= 3:
            by_width[row["width"]].append(recorded)
    curves = []
    for width, runs in sorted(by_width.items()):
        length = min(len(run) for run in runs)
        errors = np.mean([[1 - h["test_accuracy"] for h in run[:length]] for run in runs],
                         axis=0)
        epochs = [int(h["epoch"]) for h in runs[0][:length]]
        margin = epoch_margin(float(np.max(errors)), n_test)
        window = max(1, round(length * SMOOTHING))
        curves.append(EpochCurve(width, len(runs), tuple(epochs),
                                 tuple(float(e) for e in errors),
                                 second_descent(epochs,
                                                moving_average(errors, window).tolist(),
                                                margin), window))
    return tuple(curves)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The centred mean over ``window`` epochs (fewer at the ends). Epoch to epoch, SGD moves
    a test error by a point or two: unsmoothed, the highest jitter spike becomes "the peak"
    and the next dip "a second descent" (seen on MNIST-1D's 200-epoch sweep)."""
    if window <= 1:
        return np.asarray(values, dtype=float)
    kernel = np.ones(window)
    sums = np.convolve(values, kernel, mode="same")
    counts = np.convolve(np.ones(len(values)), kernel, mode="same")
    return np.asarray(sums / counts)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _mean_of(values: Sequence[float | None]) -> float:
    mean = _mean(values)
    assert mean is not None  # columns every row of this model fills
    return mean


def linear_curve(rows: list[Row]) -> list[LinearPoint]:
    """One point per (p, n): means over repeats of the measured risks, and the theory."""
    groups: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        groups[row["features"], row["n_train"]].append(row)
    curve = [LinearPoint(
        p=p, n=n, gamma=p / n, repeats=len(group),
        risk=_mean_of([r["test_risk"] for r in group]),
        train_loss=_mean_of([r["train_loss"] for r in group]),
        theory=group[0]["theory_risk"], asymptotic=group[0]["theory_risk_asymptotic"],
        tuned=_mean_of([r["optimal_ridge_risk"] for r in group]),
        tuned_theory=group[0]["optimal_ridge_theory"])
        for (p, n), group in groups.items()]
    return sorted(curve, key=lambda point: point.gamma)


def linear_analysis(rows: list[Row], config: DoubleDescentConfig) -> LinearAnalysis:
    curve = linear_curve(rows)
    peak = max(curve, key=lambda pt: pt.risk)
    over = [pt for pt in curve if pt.gamma > peak.gamma]
    away = [pt for pt in curve if abs(pt.gamma - 1) > THEORY_BAND and pt.theory]
    gaps = [(abs(pt.risk - pt.theory) / pt.theory, pt) for pt in away if pt.theory]
    worst_gap, worst_at = max(gaps, key=lambda g: g[0]) if gaps else (None, None)
    tuned_worst, tuned_at = max(((abs(pt.tuned - pt.tuned_theory) / pt.tuned_theory, pt)
                                 for pt in curve if pt.tuned_theory), key=lambda g: g[0])
    inner = max(curve[1:-1], key=lambda pt: pt.tuned, default=curve[0])
    second = min(over, key=lambda pt: pt.risk) if over else None
    first = min((pt for pt in curve if pt.gamma < peak.gamma), key=lambda pt: pt.risk,
                default=None)
    rises = first is not None and first.risk < 0.5 * peak.risk
    return LinearAnalysis(
        model="linear", sweep=config.sweep, ridge=config.ridge, signal=config.signal,
        noise=config.noise_std, repeats=config.repeats, points=len(curve), curve=tuple(curve),
        peak=peak, peak_at_threshold=abs(math.log(peak.gamma)) <= math.log(1.1),
        second_descent=second,
        descends_again=rises and second is not None and second.risk < 0.5 * peak.risk,
        theory_points=len(gaps), theory_worst_gap=worst_gap, theory_worst_at=worst_at,
        best_under=_lowest([pt for pt in curve if pt.gamma < 1]),
        best_over=_lowest([pt for pt in curve if pt.gamma > 1]),
        tuned_inner_max=inner,
        tuned_has_peak=inner.tuned > PEAK_SHARPNESS * max(curve[0].tuned, curve[-1].tuned),
        tuned_worst_gap=tuned_worst, tuned_worst_at=tuned_at,
        tuned_first=curve[0], tuned_last=curve[-1])


def _lowest(points: list[LinearPoint]) -> LinearPoint | None:
    return min(points, key=lambda pt: pt.risk) if points else None


def width_curve(rows: list[Row]) -> list[WidthPoint]:
    """One point per width (random features: N), means over repeats."""
    groups: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row["width"]].append(row)
    return [WidthPoint(width, len(group), *(_mean_of([r[key] for r in group]) for key in
                                            ("params", "train_loss", "test_loss")),
                       *(_mean([r.get(key) for r in group]) for key in
                         ("train_error", "test_error")))
            for width, group in sorted(groups.items())]


def width_analysis(rows: list[Row], config: DoubleDescentConfig) -> WidthAnalysis:
    """Where the test error peaks, and (mlp) where training error first reaches zero."""
    curve = width_curve(rows)
    metric = "test_error" if curve[0].test_error is not None else "test_loss"
    values = [cast(float, getattr(pt, metric)) for pt in curve]
    index = most_prominent_peak(values)
    left = min(values[:index], default=None)
    right = min(values[index + 1:], default=None)
    n = rows[0]["n_train"]
    if config.model == "mlp":
        threshold = next((pt.width for pt in curve if pt.train_error == 0), None)
    else:
        threshold = n  # min-norm fits interpolate from N = n features on
    ratio = curve[index].width / threshold if threshold else None
    factor = 2.0 if config.model == "mlp" else 1.5

    def stands_above(side: float | None) -> bool:  # 3 error points, or (losses) 50 %
        need = ERROR_PROMINENCE if metric == "test_error" else 0.5 * (side or 0.0)
        return side is not None and values[index] - side >= need

    return WidthAnalysis(
        model=config.model, data=config.data.data, n_train=n,
        label_noise=cast(float, config.label_noise), kind=config.features_kind,
        epochs=config.train.epochs, repeats=config.repeats, metric=metric, curve=tuple(curve),
        peak=curve[index], left_min=left, right_min=right, threshold=threshold,
        peak_ratio=ratio, factor=factor,
        peak_near_threshold=ratio is not None and 1 / factor <= ratio <= factor,
        prominent=stands_above(left) and stands_above(right))


# ------------------------------------------------------------------ schema, demo


COLUMNS = (
    Column("model_id", str, "one fitted point or trained model; the resume key"),
    Column("model", str, "linear, random-features or mlp"),
    Column("sweep", str, "features (model-wise) or samples (sample-wise)"),
    Column("width", int, "hidden width (mlp) or number of random features"),
    Column("features", int, "p, the input features of the linear model, or random features"),
    Column("params", int, "fitted parameters"),
    Column("n_train", int, "training rows"),
    Column("gamma", float, "params per training row (p/n for the linear model)"),
    Column("repeat", int, "independent draw"),
    Column("label_noise", float, "share of training labels replaced"),
    Column("ridge", float, "λ of (1/n)‖y − Xβ‖² + λ‖β‖² (0: minimum norm)"),
    Column("train_loss", float, "squared loss (linear, random features) or cross-entropy"),
    Column("test_loss", float, "linear: test_risk + σ², the exact expected squared error"),
    Column("train_error", float, "misclassified share (noisy training labels)"),
    Column("test_error", float), Column("train_accuracy", float),
    Column("test_accuracy", float),
    Column("test_risk", float, "linear: ‖β̂ − β‖², the excess test error (exact), averaged "
           "over the draw's noise vectors"),
    Column("theory_risk", float, "linear: exact finite-n expected risk (min-norm)"),
    Column("theory_risk_asymptotic", float, "linear: Hastie et al.'s limit at this p/n, λ"),
    Column("optimal_ridge", float, "linear: λ* = σ²γ/r²"),
    Column("optimal_ridge_risk", float, "linear: ‖β̂ − β‖² of ridge with λ*, same draw"),
    Column("optimal_ridge_theory", float, "linear: its limit σ²γ·m(−λ*)"),
    Column("epochs", int, "mlp: epochs trained"), Column("seconds", float),
)
DISPLAY = ("model_id", "width", "params", "n_train", "train_loss", "test_loss", "test_risk",
           "theory_risk", "train_error", "test_error")  # columns blank in every row are dropped


def small_mlp_config() -> DoubleDescentConfig:
    """The smallest MNIST-1D width sweep found to show deep double descent reliably: 1,000
    training signals (the paper: 4,000), 30 % label noise (15 %), 200 epochs of batch 50
    (500 of 100), widths 4…256. At this size 15 % noise leaves a bump of 3–5 points, within
    the 1,000 test signals' sampling noise; 30 % gives 5–8 at seeds 0 and 1 (seed 2's sweep
    has a one-width spike below the threshold; see the README)."""
    return DoubleDescentConfig(
        model="mlp", widths=parse_grid("4..256:9", "--widths"), n_train=(1000,),
        label_noise=0.3, train=dataclasses.replace(study_train_config(), epochs=200,
                                                   batch_size=50))


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]
                ) -> DoubleDescentConfig | list[DoubleDescentConfig]:
    """The linear curve at every level (seconds); ``full`` adds random features on digits
    and a small MLP sweep on MNIST-1D (about two minutes on 2 cores)."""
    linear = DoubleDescentConfig(repeats=8 if level == "quick" else 20)
    if level != "full":
        return linear
    features = DoubleDescentConfig(model="random-features", repeats=3)
    return [linear, features, small_mlp_config()]


EXPERIMENT = Experiment(
    name=NAME,
    help="double descent: risk against parameters for linear, random-features and MLP fits",
    description="Sweep the number of parameters (or of samples) across the interpolation "
    "threshold and measure the test risk, with the exact finite-n and asymptotic theory "
    "of min-norm least squares and the optimally tuned ridge curve beside it.",
    config=DoubleDescentConfig,
    plan=plan,
    columns=COLUMNS,
    order=30,
    analyze=analyze,
    analysis=DoubleDescentAnalysis,
    display=DISPLAY,
    demo=demo_config,
    # the MLP path: the one that trains through the executor; the linear and
    # random-features paths have their own tests
    example=("--model", "mlp", "--data", "digits", "--widths", "4,8", "--epochs", "1",
             "--n-train", "200", "--label-noise", "0.1"),
    resolve=resolved,
)
