"""Double descent: test error against the number of parameters has a second descent past the
interpolation threshold — for minimum-norm linear regression, for random-features
regression and for MLPs — measured, with the theory drawn beside it.

Three models (``--model``):

* ``linear``: minimum-norm least squares (the exact pseudo-inverse; ``--ridge λ`` adds a
  ridge penalty) on isotropic Gaussian features, swept model-wise (``--sweep features``: p
  from n/10 to 10n at fixed n) or sample-wise (``--sweep samples``: n at fixed p). Each point
  carries the exact finite-n risk and Hastie et al.'s asymptotic risk (``dd_theory``), and
  the optimally tuned ridge fit of the same draw with its closed form.
* ``random-features``: min-norm regression on N random ReLU or Fourier features of digits,
  MNIST-1D or the synthetic regression; the peak where N reaches the training rows.
* ``mlp``: the MNIST-1D paper's deep double descent — two hidden layers of a swept width,
  4,000 training signals with 15 % of their labels replaced (once), SGD for 500 epochs —
  trained together on the batched engine.

The setting and conventions of the linear theory are stated in ``dd_theory``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab.blas import one_blas_thread
from paramlab.lab.data import Dataset
from paramlab.lab.data.double_descent import (
    MNIST1D_TRAIN_ROWS,
    fit_arrays,
    gaussian_draw,
    mnist1d_paper,
    with_label_noise,
)
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig
from paramlab.lab.experiments import dd_report, dd_theory, options
from paramlab.lab.experiments.base import (
    Column,
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
)
from paramlab.lab.experiments.common import DataConfig, Planned, execute, open_store
from paramlab.lab.experiments.dd_fits import (
    prefix_fits,
    prefix_fits_many,
    random_feature_map,
)
from paramlab.lab.science.capacity import parse_grid
from paramlab.lab.store import RunStore

NAME = "double-descent"
MODELS = ("linear", "random-features", "mlp")
# defaults by model; () / None in the config means "the model's default"
DEFAULT_DATA = {"linear": "gaussian", "random-features": "digits", "mlp": "mnist1d"}
DEFAULT_REPEATS = {"linear": 20, "random-features": 5, "mlp": 1}
DEFAULT_N_TRAIN = {"linear": 200, "random-features": 400, "mlp": MNIST1D_TRAIN_ROWS}
DEFAULT_WIDTHS = "2..300:19"  # the MNIST-1D study's widths
LINEAR_NOISE = 0.5  # σ of the linear model unless --noise is given
MEMORY_SHARE = 0.5  # refuse a run whose largest arrays need more than this share of RAM


def study_train_config() -> TrainConfig:
    """The MNIST-1D paper's training: SGD, lr 0.01, momentum 0.9, batch 100, 500 epochs."""
    return TrainConfig(epochs=500, batch_size=100, lr=0.01, optimizer="sgd", momentum=0.9)


@dataclass
class DoubleDescentConfig:
    model: str = "linear"  # linear | random-features | mlp
    sweep: str = "features"  # features (model-wise) | samples (sample-wise; linear only)
    features: tuple[int, ...] = ()  # feature counts swept, or the one p of a samples sweep
    widths: tuple[int, ...] = ()  # mlp hidden widths (); the study's 2..300:19
    n_train: tuple[int, ...] = ()  # training rows: one, or those swept by a samples sweep
    repeats: int = 0  # independent draws per point; 0: 20 linear, 5 random features, 1 mlp
    noise_draws: int = 10  # linear: noise vectors fitted per draw of X and β (risk averaged)
    signal: float = 1.0  # linear: ‖β‖² = r²
    ridge: float = 0.0  # λ of (1/n)‖y − Xβ‖² + λ‖β‖²; 0: the minimum-norm fit
    features_kind: str = "relu"  # random features: relu | fourier
    label_noise: float | None = None  # share of training labels replaced; None: mlp 0.15
    data: DataConfig = field(default_factory=lambda: DataConfig("auto"))  # noise: linear σ
    train: TrainConfig = field(default_factory=study_train_config)  # mlp only
    seed: int = 0  # draws, label noise, initializations

    @property
    def noise_std(self) -> float:
        """σ of the linear model."""
        return LINEAR_NOISE if self.data.noise is None else float(self.data.noise)


# ------------------------------------------------------------------ options → config


def parse_counts(text: str, option: str) -> tuple[int, ...]:
    """``2,4,8``, a single ``200``, or ``MIN..MAX:COUNT``: the lab's one grid grammar
    (:func:`paramlab.lab.science.capacity.parse_grid`)."""
    return parse_grid(text, option)


def decade_around(size: int) -> tuple[int, ...]:
    """101 sizes spaced geometrically from size/10 to 10·size; the middle one is size itself,
    so the sweep lands exactly on the interpolation threshold."""
    return parse_counts(f"{max(1, size // 10)}..{10 * size}:101", "--features")


def resolved(config: DoubleDescentConfig) -> DoubleDescentConfig:
    """The config with each "model default" filled in, validated."""
    model = config.model
    if model not in MODELS:
        raise ParamlabError(f"--model must be one of {', '.join(MODELS)}; received {model!r}")
    if config.sweep not in ("features", "samples"):
        raise ParamlabError(f"--sweep must be features or samples; received {config.sweep!r}")
    if config.sweep == "samples" and model != "linear":
        raise ParamlabError(f"--sweep samples is for --model linear; --model {model} sweeps "
                            "its width (features)")
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
        widths = widths or parse_counts(DEFAULT_WIDTHS, "--widths")
    label_noise = config.label_noise
    if label_noise is None:
        label_noise = 0.15 if model == "mlp" else 0.0
    data = dataclasses.replace(config.data, data=DEFAULT_DATA[model]
                               if config.data.data == "auto" else config.data.data)
    out = dataclasses.replace(config, features=tuple(features), widths=tuple(widths),
                              n_train=tuple(n_train), label_noise=label_noise, data=data,
                              repeats=config.repeats or DEFAULT_REPEATS[model])
    validate(out)
    return out


def validate(config: DoubleDescentConfig) -> None:
    """One-line errors for options that cannot make a study (what, where, expected)."""
    checks = [
        (math.isfinite(config.ridge) and config.ridge >= 0,
         f"--ridge must be a number ≥ 0 (0: the minimum-norm fit); received {config.ridge}"),
        (config.label_noise is not None and 0 <= config.label_noise <= 1,
         f"--label-noise must be a share in [0, 1]; received {config.label_noise}"),
        (config.repeats >= 1, f"--repeats must be at least 1; received {config.repeats}"),
        (config.noise_draws >= 1,
         f"--noise-draws must be at least 1; received {config.noise_draws}"),
        (config.signal > 0, f"--signal (‖β‖²) must be positive; received {config.signal}"),
        (config.noise_std >= 0, f"--noise must be ≥ 0; received {config.data.noise}"),
        (config.features_kind in ("relu", "fourier"),
         f"--features-kind must be relu or fourier; received {config.features_kind!r}"),
        (all(v >= 1 for v in (*config.features, *config.widths, *config.n_train)),
         "--features, --widths and --n-train take positive integers"),
    ]
    if config.model == "linear":
        checks.append((config.data.data == "gaussian", "--model linear fits isotropic "
                       f"Gaussian features (--data gaussian); received {config.data.data!r}"))
        swept, fixed = ((config.features, "--n-train") if config.sweep == "features"
                        else (config.n_train, "--features"))
        single = config.n_train if config.sweep == "features" else config.features
        checks.append((len(single) == 1, f"a {config.sweep} sweep takes one {fixed} "
                       f"value; received {len(single)}"))
        checks.append((len(swept) >= 2, f"a {config.sweep} sweep needs at least two sizes"))
    elif config.model == "random-features":
        checks.append((len(config.n_train) == 1, "--n-train takes one value for "
                       "random features"))
    else:
        checks.append((len(config.n_train) == 1, "--n-train takes one value for mlp"))
        checks.append((config.data.data != "gaussian", "--model mlp trains on a "
                       "classification data set (mnist1d, digits)"))
    for ok, message in checks:
        if not ok:
            raise ParamlabError(message)
    if config.model == "mlp":
        config.train.validate()
    check_memory(config)


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


# ------------------------------------------------------------------ run


def run(config: DoubleDescentConfig, out: Path, progress: Progress | None = None
        ) -> RunOutcome:
    progress = progress or Progress()
    config = resolved(config)
    store = open_store(out, NAME, dataclasses.asdict(config), COLUMNS)
    start = time.perf_counter()
    done = store.finished_ids()
    if config.model == "mlp":
        trained, total = run_mlp(config, store, done, progress)
    else:
        runner = run_linear if config.model == "linear" else run_random_features
        with one_blas_thread():
            trained, total = runner(config, store, done, progress)
    store.write_csv()
    analysis = dd_report.analyze(store.rows(), dataclasses.asdict(config))
    store.write_json("analysis.json", analysis)
    return RunOutcome(store, trained, total - trained, time.perf_counter() - start,
                      analysis=analysis, summary=dd_report.summary_lines(analysis))


def point_id(model: str, size_name: str, size: int, n: int, repeat: int) -> str:
    """Sortable and deterministic from the config: the resume key of one fitted point."""
    return f"{model}-{size_name}{size:06d}-n{n:06d}-r{repeat:03d}"


def run_linear(config: DoubleDescentConfig, store: RunStore, done: set[str],
               progress: Progress) -> tuple[int, int]:
    """Every repeat draws the largest design once; all sizes are its prefixes."""
    by_features = config.sweep == "features"
    sizes = config.features if by_features else config.n_train
    ids = {(k, r): point_id("linear", "p", k if by_features else config.features[0],
                            config.n_train[0] if by_features else k, r)
           for r in range(config.repeats) for k in sizes}
    progress.start(len(ids), len(done & set(ids.values())), 0)
    trained = 0
    for repeat in range(config.repeats):
        if all(ids[k, repeat] in done for k in sizes):
            continue
        rows = linear_rows(config, repeat)
        new = [row for row in rows if row["model_id"] not in done]
        store.record_many([(row, []) for row in new])
        for row in new:
            progress.model_done(row)
        trained += len(new)
    return trained, len(ids)


def linear_rows(config: DoubleDescentConfig, repeat: int) -> list[dict[str, Any]]:
    """The fitted points of one repeat: the chosen fit (min-norm or --ridge λ) and the
    optimally tuned ridge fit on the same draw, with the theory for each."""
    r2, s2, sigma = config.signal, config.noise_std**2, config.noise_std
    by_features = config.sweep == "features"
    if by_features:
        n, sizes = config.n_train[0], config.features
        draw = gaussian_draw(n, sizes[-1], config.seed, repeat, config.noise_draws)
        betas = {k: math.sqrt(r2) * draw.direction[:k] / np.linalg.norm(draw.direction[:k])
                 for k in sizes}
        ys = {k: (draw.X[:, :k] @ betas[k])[:, None] + sigma * draw.noise for k in sizes}

        def shape(k: int) -> tuple[int, int]:
            return k, n

        def targets(k: int) -> np.ndarray:
            return ys[k]
    else:
        p, sizes = config.features[0], config.n_train
        draw = gaussian_draw(sizes[-1], p, config.seed, repeat, config.noise_draws)
        beta = math.sqrt(r2) * draw.direction / np.linalg.norm(draw.direction)
        y_all = (draw.X @ beta)[:, None] + sigma * draw.noise
        betas = {k: beta for k in sizes}

        def shape(k: int) -> tuple[int, int]:
            return p, k

        def targets(k: int) -> np.ndarray:
            return y_all[:k]

    def optimal(k: int) -> float:
        p_k, n_k = shape(k)
        return dd_theory.optimal_ridge_penalty(p_k / n_k, r2, s2)

    along = config.sweep
    fits = prefix_fits_many(draw.X, sizes, targets, [lambda k: config.ridge, optimal], along)
    rows = []
    for k, (fit, fit_tuned) in fits:
        p, n = shape(k)
        gamma = p / n
        risk = fit.squared_distance(betas[k])
        rows.append({
            "model_id": point_id("linear", "p", p, n, repeat), "model": "linear",
            "sweep": config.sweep, "features": p, "params": p, "n_train": n,
            "gamma": gamma, "repeat": repeat, "ridge": config.ridge,
            "train_loss": float(np.mean((fit.train_predictions() - targets(k)) ** 2)),
            "test_loss": risk + s2, "test_risk": risk,
            "theory_risk": dd_theory.finite_risk(p, n, r2, s2) if config.ridge == 0 else None,
            "theory_risk_asymptotic": dd_theory.asymptotic_ridge_risk(gamma, config.ridge, r2,
                                                                      s2),
            "optimal_ridge": optimal(k),
            "optimal_ridge_risk": fit_tuned.squared_distance(betas[k]),
            "optimal_ridge_theory": dd_theory.optimal_ridge_risk(gamma, r2, s2),
        })
    return rows


def run_random_features(config: DoubleDescentConfig, store: RunStore, done: set[str],
                        progress: Progress) -> tuple[int, int]:
    """Each repeat draws one first layer with the most features; widths are its prefixes."""
    n = config.n_train[0]
    ids = {(k, r): point_id("rf", "N", k, n, r) for r in range(config.repeats)
           for k in config.features}
    progress.start(len(ids), len(done & set(ids.values())), 0)
    todo = [r for r in range(config.repeats)
            if not all(ids[k, r] in done for k in config.features)]
    if not todo:
        return 0, len(ids)
    arrays = fit_arrays(config.data.data, config.seed, n, config.data.noise)
    trained = 0
    for repeat in todo:
        rng = np.random.default_rng([config.seed, repeat, 7])
        feature_map = random_feature_map(config.features_kind, arrays.X_train.shape[1],
                                         config.features[-1], rng)
        train, test = feature_map(arrays.X_train), feature_map(arrays.X_test)
        rows = []
        for k, fit in prefix_fits(train, config.features, lambda k: arrays.y_train,
                                  lambda k: config.ridge):
            if ids[k, repeat] in done:
                continue
            row = {"model_id": ids[k, repeat], "model": "random-features",
                   "sweep": "features", "features": k, "width": k,
                   "params": k * arrays.y_train.shape[1], "n_train": n, "gamma": k / n,
                   "repeat": repeat, "ridge": config.ridge, "label_noise": 0.0}
            row.update(_scores("train", train[:, :k] @ fit, arrays.y_train,
                               arrays.labels_train))
            row.update(_scores("test", test[:, :k] @ fit, arrays.y_test, arrays.labels_test))
            rows.append(row)
        store.record_many([(row, []) for row in rows])
        for row in rows:
            progress.model_done(row)
        trained += len(rows)
    return trained, len(ids)


def _scores(split: str, predictions: np.ndarray, targets: np.ndarray,
            labels: np.ndarray | None) -> dict[str, float | None]:
    """Squared loss (mean over rows and outputs) and, for classes, error and accuracy."""
    out: dict[str, float | None] = {
        f"{split}_loss": float(np.mean((predictions - targets) ** 2))}
    if labels is not None:
        accuracy = float(np.mean(predictions.argmax(axis=1) == labels))
        out[f"{split}_accuracy"], out[f"{split}_error"] = accuracy, 1 - accuracy
    return out


def mlp_data(config: DoubleDescentConfig) -> tuple[Dataset, int]:
    """The training set with its label noise (drawn once from the seed), clean test set."""
    from paramlab.lab.data import load_dataset

    name = config.data.data
    data = mnist1d_paper(config.seed) if name == "mnist1d" else load_dataset(
        name, seed=config.seed, n_samples=config.data.n_samples)
    return with_label_noise(data, config.label_noise or 0.0, config.seed, config.n_train[0])


def run_mlp(config: DoubleDescentConfig, store: RunStore, done: set[str],
            progress: Progress) -> tuple[int, int]:
    """Every width (and repeat) trains at once on the batched engine, through
    ``common.execute`` (so ``--executor ray`` and cooperating processes apply here too)."""
    data, _ = mlp_data(config)
    plan = [Planned(f"mlp-w{w:05d}-r{r:03d}", MLPArch(data.n_features, (w, w), data.n_outputs),
                    config.seed * 100_003 + r * 1_009 + w)
            for r in range(config.repeats) for w in config.widths]
    repeats = {p.model_id: int(p.model_id.rsplit("-r", 1)[1]) for p in plan}
    outcome = execute(plan, data, config.train, store, keep_weights=False, progress=progress,
                      row=lambda result: mlp_row(result, repeats[result.model_id], config))
    return outcome.trained, len(plan)


def mlp_row(result: ModelResult, repeat: int, config: DoubleDescentConfig) -> dict[str, Any]:
    train_acc, test_acc = result.train_metric, result.test_metric
    return {
        "model_id": result.model_id, "model": "mlp", "sweep": "features",
        "width": result.arch.hidden[0], "params": result.params,
        "n_train": result.observations, "gamma": result.params / result.observations,
        "repeat": repeat, "label_noise": config.label_noise,
        "train_loss": result.train_loss, "test_loss": result.test_loss,
        "train_accuracy": train_acc, "test_accuracy": test_acc,
        "train_error": None if train_acc is None else 1 - train_acc,
        "test_error": None if test_acc is None else 1 - test_acc,
        "epochs": result.epochs, "seconds": result.seconds,
    }


# ------------------------------------------------------------------ schema, options, demo


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


def add_options(p: argparse.ArgumentParser) -> None:
    study = p.add_argument_group("double descent")
    study.add_argument("--model", choices=MODELS, default="linear")
    study.add_argument("--sweep", choices=["features", "samples"], default="features",
                       help="features: vary the parameters at fixed n (model-wise); "
                       "samples: vary n at fixed p (linear only)")
    study.add_argument("--features", help="feature counts: 2,4,8 or MIN..MAX:COUNT "
                       "(geometric); one p for a samples sweep (default n/10..10n:101)")
    study.add_argument("--widths", help=f"mlp hidden widths (default {DEFAULT_WIDTHS})")
    study.add_argument("--n-train", help="training rows; a list for a samples sweep "
                       "(defaults: linear 200, random features 400, mlp 4000)")
    study.add_argument("--repeats", type=int, default=0,
                       help="independent draws per point (default: linear 20, "
                       "random features 5, mlp 1)")
    study.add_argument("--noise-draws", type=int, default=10,
                       help="linear: noise vectors fitted per draw of X and β (default 10)")
    study.add_argument("--signal", type=float, default=1.0, help="linear: ‖β‖² (default 1)")
    study.add_argument("--ridge", type=float, default=0.0,
                       help="λ of (1/n)‖y − Xβ‖² + λ‖β‖² (default 0: minimum norm)")
    study.add_argument("--features-kind", choices=["relu", "fourier"], default="relu")
    study.add_argument("--label-noise", type=float,
                       help="share of training labels replaced, once (default: mlp 0.15)")
    options.add_data(p, default="auto")
    defaults = study_train_config()
    options.add_training(p, optimizer=defaults.optimizer, lr=defaults.lr,
                         momentum=defaults.momentum, batch_size=defaults.batch_size,
                         epochs=defaults.epochs)


def build_config(ns: argparse.Namespace) -> DoubleDescentConfig:
    return DoubleDescentConfig(
        model=ns.model, sweep=ns.sweep,
        features=parse_counts(ns.features, "--features") if ns.features is not None else (),
        widths=parse_counts(ns.widths, "--widths") if ns.widths is not None else (),
        n_train=parse_counts(ns.n_train, "--n-train") if ns.n_train is not None else (),
        repeats=ns.repeats, noise_draws=ns.noise_draws, signal=ns.signal, ridge=ns.ridge,
        features_kind=ns.features_kind, label_noise=ns.label_noise,
        data=options.data_config(ns), train=options.train_config(ns), seed=ns.seed)


def small_mlp_config() -> DoubleDescentConfig:
    """The smallest MNIST-1D width sweep found to show deep double descent reliably: 1,000
    training signals (the paper: 4,000), 30 % label noise (15 %), 200 epochs of batch 50
    (500 of 100), widths 4…256. At this size 15 % noise leaves a bump of 3–5 points, within
    the 1,000 test signals' sampling noise; 30 % gives 5–8 at seeds 0 and 1 (seed 2's sweep
    has a one-width spike below the threshold; see the README)."""
    return DoubleDescentConfig(
        model="mlp", widths=parse_counts("4..256:9", "--widths"), n_train=(1000,),
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
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=COLUMNS,
    report=dd_report.report,
    order=30,
    display=DISPLAY,
    demo=demo_config,
    # the MLP path: the one that trains through common.execute (and so through --executor);
    # the linear and random-features paths have their own tests
    example=("--model", "mlp", "--data", "digits", "--widths", "4,8", "--epochs", "1",
             "--n-train", "200", "--label-noise", "0.1"),
)

