"""``paramlab why SPEC --data FILE --target COLUMN``: the seed question asked of the user's
own network and data, in one command.

1. The exact count (``paramlab.count``, the spec read as ``count`` reads it: MLP shorthand,
   DSL, Keras JSON or ``.keras``) — Dense layers only, since the lab trains MLPs.
2. A calibration: one epoch of the network on a slice of the training rows, and one
   Hessian-vector product, each scaled to all rows.
3. The studies in :data:`STAGES`, each an experiment of the registry run through the
   runner into its own folder under the why folder (so it resumes like every run), its
   config scaled to the ``--budget``. A stage whose experiment is not in this paramlab, or
   that has no way to be configured yet, is recorded as missing and named on the page.
4. One report whose summary is the answer (:mod:`paramlab.lab.report.why`).

Adding a study is one :class:`WhyStage` line: its experiment name, what it answers, and a
function from the request and the budget's settings to its config.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.errors import SpecError
from paramlab.fields import from_dict, option, parse_grid, require
from paramlab.lab import executors, runner
from paramlab.lab.console import progress_bar
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import MLPArch, TrainConfig
from paramlab.lab.engine.cpus import usable_cpus
from paramlab.lab.experiments import get, registry
from paramlab.lab.experiments.effective_dimension import EffectiveDimensionConfig
from paramlab.lab.experiments.generalization_bound import GeneralizationBoundConfig
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionConfig
from paramlab.lab.experiments.refit import RefitConfig
from paramlab.lab.report.why import RECORD, LayerCount, StageRecord, WhyRecord
from paramlab.lab.science.hessian import check_z
from paramlab.lab.store import RunFolderError

CALIBRATION_ROWS = 2048  # rows timed for one epoch / one HVP, then scaled to all rows
HVP_BLOCK = 16  # Hessian-vector products timed together, as the Hessian code batches them
REPORT_SHARE = 0.15  # of the budget kept for alignment, plots and the page
# Estimates are planned to fill only 1/MARGIN of what is left: on a shared 2-core machine
# (load 8–19) stages took up to 3.3× their calibrated estimate (refits of 40-1024-1024-1:
# 24 s estimated, 79 s measured), since the load changes between calibration and run
MARGIN = 2.0
# Refits that have not converged say little about the weights, so epochs are cut to
# FEW_EPOCHS before the Hessian study is dropped, and below that only once it is
FEW_EPOCHS = 10
MIN_EPOCHS = 3  # below this the refits rarely converge; the budget goes to 1 only as a last resort
MIN_TOP_K = 10
# block Lanczos to tol 1e-3, measured: 432 products for the top 100 of 40-256-256-1's Hessian,
# 200 for the top 10 of 40-1024-1024-1's (a small basis restarts often): ≈ 4k + 160
LANCZOS_HVPS_PER_EIGENVALUE = 4
LANCZOS_HVPS_EXTRA = 160
SLQ_STEPS = 32
# One model-epoch in a random subspace (sparse P, one thread) against one of the full network,
# measured at d = 100 and 1000: 0.6–2.4× for 40-256-256-1, 1.4–3.0× for 40-1024-1024-1 (the
# projection θ₀ + P·θ_d and its transpose every step); the larger is planned for
SUBSPACE_FACTOR = 3.0
# Fixed seconds per subspace model and per (d, L) point of the bound (set-up of P, k-means,
# coding, commits), measured on 40-8-1 with 2 epochs, where training costs nothing: 12
# intrinsic-dimension models in 3.5 s, 16 bound points in 5.9 s (load ≈ 2.5 on 2 cores)
POINT_SECONDS = 0.35
# why's own grids, fixed by the network alone before any data are seen (the bound's prior):
# a few d, geometric from the low end to the high end, never above D
INTRINSIC_GRID = (10, 1000, 5)  # low, high, count: d_int90 of true labels only
BOUND_GRID = (100, 2000, 4)
BOUND_LEVELS = (3, 5, 7, 11)  # generalization-bound's default levels


@dataclass
class WhyConfig:
    """``paramlab why``'s options (its ``--help`` is generated from these fields)."""

    spec: str = option("40-1024-1024-1", flag="SPEC",
                       help="the network: MLP shorthand (40-1024-1024-1), DSL, Keras JSON or "
                       ".keras file of Dense layers")
    data: DataConfig = option(default_factory=DataConfig)
    train: TrainConfig = option(default_factory=TrainConfig)
    budget: float = option(10.0, flag="--budget", type=float, group="budget",
                           help="minutes for the whole command; epochs, refits and "
                           "eigenvalues are scaled to fit, and the output says what was "
                           "scaled (default 10, sized for 2 CPU cores)")
    seeds: int = option(3, flag="--seeds", type=int, group="budget",
                        help="refits at most (the budget may use fewer, never below 2)")
    z: float = option(1.0, flag="--z", type=float, group="budget",
                      help="N_eff(z) = Σ λ/(λ+z) over the Hessian of the summed training "
                      "loss")
    top_k: int = option(50, flag="--top-k", type=int, group="budget",
                        help="Hessian eigenvalues at most (Lanczos; the budget may use fewer)")
    seed: int = runner.seed_option()

    def validate(self) -> None:
        require(self.budget > 0, "budget", f"must be positive minutes; received {self.budget}")
        require(self.seeds >= 2, "seeds", f"must be at least 2 to compare refits; received "
                f"{self.seeds}")
        require(self.top_k >= 1, "top_k", f"must be at least 1; received {self.top_k}")
        check_z(self.z)
        self.train.validate()


@dataclass(frozen=True)
class Settings:
    """What the budget decides: the knobs every stage's config is built from."""

    epochs: int
    seeds: int
    top_k: int
    probes: int  # SLQ probes of the Hessian's rest (0: the top-k lower bound only)
    hessian: bool = True  # False: the Hessian study does not fit the budget at all
    subspace_seeds: int = 2  # intrinsic dimension's seeds per d (and full models)
    intrinsic: bool = True  # False: the intrinsic-dimension study is dropped
    bound: bool = True  # False: the generalization-bound study is dropped


@dataclass(frozen=True)
class Cost:
    """The calibration: seconds per model-epoch and per Hessian-vector product, over all
    training rows, and the network's size."""

    epoch: float
    hvp: float
    params: int
    start: float = 0.0  # a training run's fixed start-up seconds
    parallel: int = 1  # models training side by side (one worker per usable core)
    exact_max: int = 3000  # effective-dimension's dense-Hessian limit (its default)

    def hessian(self, s: Settings) -> float:
        """Seconds of the Hessian study's spectrum (0 when it was dropped)."""
        if not s.hessian:
            return 0.0
        hvps = self.params if self.params <= max(self.exact_max, s.top_k) else (
            LANCZOS_HVPS_PER_EIGENVALUE * s.top_k + LANCZOS_HVPS_EXTRA + s.probes * SLQ_STEPS)
        return hvps * self.hvp

    def intrinsic(self, s: Settings) -> float:
        """Seconds of the intrinsic-dimension study: its full models, then every (d, seed)
        subspace model, one after the other (0 when it was dropped)."""
        if not s.intrinsic:
            return 0.0
        dims = len(grid(INTRINSIC_GRID, self.params))
        models = s.subspace_seeds * (1 + dims * SUBSPACE_FACTOR)
        fixed = 2 * self.start + s.subspace_seeds * (1 + dims) * POINT_SECONDS
        return fixed + models * s.epochs * self.epoch

    def bound(self, s: Settings) -> float:
        """Seconds of the bound: one subspace model per d, then for each (d, L) the quantized
        and the float network evaluated on the training and test rows (about one epoch's
        forward and backward passes together)."""
        if not s.bound:
            return 0.0
        dims = len(grid(BOUND_GRID, self.params))
        training = dims * SUBSPACE_FACTOR * s.epochs * self.epoch
        points = dims * len(BOUND_LEVELS)
        return self.start + training + points * (self.epoch + POINT_SECONDS)


def grid(declared: tuple[int, int, int], params: int) -> tuple[int, ...]:
    """``declared`` (low, high, count) as a geometric grid, its top capped at ``params``
    (a subspace cannot exceed D) and its bottom lowered when D is below it."""
    low, high, count = declared
    high = min(high, params)
    return parse_grid(f"{min(low, max(1, high // 10))}..{high}:{count}")


@dataclass(frozen=True)
class WhyStage:
    """One study of ``why``: the experiment's registry name, what it answers, how long it
    takes under given settings, and its config (``None``: not wired into ``why`` yet)."""

    experiment: str
    question: str
    estimate: Callable[[Cost, Settings], float]
    configure: Callable[[WhyConfig, MLPArch, Settings, str], Any] | None  # str: activation


def _train(config: WhyConfig, settings: Settings, activation: str) -> TrainConfig:
    return dataclasses.replace(config.train, epochs=settings.epochs, activation=activation)


def _refit(config: WhyConfig, arch: MLPArch, s: Settings, activation: str) -> RefitConfig:
    return RefitConfig(arch.spec(), s.seeds, config.data, _train(config, s, activation),
                       seed=config.seed)


def _effective_dimension(config: WhyConfig, arch: MLPArch, s: Settings,
                         activation: str) -> EffectiveDimensionConfig | None:
    if not s.hessian:
        return None
    return EffectiveDimensionConfig(
        arch.spec(), z=config.z, top_k=s.top_k, slq_probes=s.probes, slq_steps=SLQ_STEPS,
        data=config.data, train=_train(config, s, activation), seed=config.seed)


def _intrinsic_dimension(config: WhyConfig, arch: MLPArch, s: Settings,
                         activation: str) -> IntrinsicDimensionConfig | None:
    """True labels only: ``why`` asks what the user's task needs, not what memorizing
    needs."""
    if not s.intrinsic:
        return None
    return IntrinsicDimensionConfig(
        arch.spec(), dims=grid(INTRINSIC_GRID, arch.params()), seeds=s.subspace_seeds,
        labels=("true",), data=config.data, train=_train(config, s, activation),
        seed=config.seed)


def _generalization_bound(config: WhyConfig, arch: MLPArch, s: Settings,
                          activation: str) -> GeneralizationBoundConfig | None:
    """The declared grids of :data:`BOUND_GRID` and :data:`BOUND_LEVELS`; τ is left to
    the study's default (half the training target's standard deviation)."""
    if not s.bound:
        return None
    return GeneralizationBoundConfig(
        arch.spec(), dims=grid(BOUND_GRID, arch.params()), levels=BOUND_LEVELS,
        data=config.data, train=_train(config, s, activation), seed=config.seed)


STAGES = (
    WhyStage("refit", "training and validation loss of refits from different seeds; how far "
             "apart their weights land, raw and aligned; how far apart their predictions are",
             lambda c, s: c.start + math.ceil(s.seeds / c.parallel) * s.epochs * c.epoch,
             _refit),
    WhyStage("effective-dimension", "how many parameter directions the data determine "
             "(Hessian N_eff)",
             lambda c, s: c.start + s.epochs * c.epoch + c.hessian(s) if s.hessian else 0.0,
             _effective_dimension),
    WhyStage("intrinsic-dimension", "how many directions the task needs (intrinsic "
             "dimension)", lambda c, s: c.intrinsic(s), _intrinsic_dimension),
    WhyStage("generalization-bound", "a certified test-error bound",
             lambda c, s: c.bound(s), _generalization_bound),
)


# ------------------------------------------------------------------ the network


@dataclass(frozen=True)
class Network:
    """The user's network as the lab trains it, with its exact count."""

    arch: MLPArch
    activation: str
    params: int
    layers: tuple[LayerCount, ...]
    notes: tuple[str, ...]


def read_network(spec: str, data: Dataset) -> Network:
    """Count ``spec`` as ``paramlab count`` does and read it as an MLP: Dense layers with
    biases, one hidden activation (relu or tanh); anything else is refused in one line."""
    from paramlab import count
    from paramlab.spec import parse

    summary = count(spec, other_convention=False)
    dense = [row for row in summary.layers if row.type == "Dense"]
    other = [row for row in summary.layers if row.type not in ("Dense", "InputLayer")]
    if other or not dense:
        found = f"a {other[0].type} layer ({other[0].name})" if other else "no Dense layer"
        raise SpecError(f"why trains fully connected networks (Dense layers only); {spec!r} "
                        f"has {found}")
    unbiased = [row.name for row in dense if len(row.weights) != 2]
    if unbiased:
        raise SpecError(f"why trains Dense layers with biases; layer {unbiased[0]} of "
                        f"{spec!r} has none (use_bias=False)")
    kernels = [row.weights[0].shape for row in dense]  # (inputs, units) each
    widths = (kernels[0][0], *(shape[-1] for shape in kernels))
    hidden_acts, output_act = _activations(parse(spec))
    activation, notes = _activation(spec, hidden_acts, output_act, data.task)
    arch = MLPArch.parse("-".join(map(str, widths)), data.n_features, data.n_outputs, "why")
    layers = tuple(LayerCount(row.name, row.formula, row.params) for row in dense)
    return Network(arch, activation, summary.total, layers, notes)


def _activations(model: Any) -> tuple[list[str | None], str | None]:
    """The activation of each hidden Dense call and of the output one (None: not given)."""
    acts = [c.layer.kwargs.get("activation") for c in model.calls
            if c.layer.type.lower() == "dense"]
    names = [a if isinstance(a, str) or a is None else str(a) for a in acts]
    return names[:-1], names[-1]


def _activation(spec: str, hidden: list[str | None], output: str | None,
                task: str) -> tuple[str, tuple[str, ...]]:
    """The one hidden activation the engine trains with, and notes on what it assumed."""
    notes = []
    given = {a for a in hidden if a is not None}
    if not given:
        activation = "relu"
        if hidden:
            notes.append("The spec names no hidden activation; trained with ReLU, as the MLP "
                         "shorthand means.")
    elif len(given) == 1 and given <= {"relu", "tanh"} and None not in hidden:
        activation = given.pop()
    else:
        raise SpecError(f"why trains one hidden activation, relu or tanh, in every hidden "
                        f"layer; {spec!r} has {', '.join(map(str, hidden))}")
    loss = "cross-entropy" if task == "classification" else "mean squared error"
    if output not in (None, "linear") and not (output == "softmax" and loss == "cross-entropy"):
        notes.append(f"The output activation {output!r} is not used: the lab trains a linear "
                     f"output with the {loss} loss.")
    return activation, tuple(notes)


# ------------------------------------------------------------------ the budget


def calibrate(network: Network, data: Dataset, train: TrainConfig, seed: int) -> Cost:
    """Seconds per model-epoch and per Hessian-vector product over all training rows,
    timed on the first :data:`CALIBRATION_ROWS` rows and scaled linearly (both are linear
    in the rows). The epoch is the second of two, so start-up costs (threads, first
    allocations) count once, as :attr:`Cost.start`, not per epoch."""
    import numpy as np
    import torch

    from paramlab.lab.engine.loop import train_models
    from paramlab.lab.science.hessian import HessianOperator

    rows = min(data.observations, CALIBRATION_ROWS)
    part = dataclasses.replace(data, X_train=data.X_train[:rows], y_train=data.y_train[:rows],
                               X_val=data.X_val[:64], y_val=data.y_val[:64],
                               X_test=data.X_test[:64], y_test=data.y_test[:64])
    two = dataclasses.replace(train, epochs=2, patience=None, activation=network.activation)
    ticks = [time.perf_counter()]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each training worker runs (paramlab.lab.engine.workers)
    try:
        result = train_models(
            [network.arch], part, two, [seed], keep_weights=True, workers=1,
            on_epoch=lambda epoch, metrics: ticks.append(time.perf_counter()))[0]
    finally:
        torch.set_num_threads(threads)
    epoch = max(ticks[-1] - ticks[-2], 1e-4)
    start = max(ticks[-1] - ticks[0] - 2 * epoch, 0.0)
    assert result.weights is not None
    operator = HessianOperator(result.weights, part.X_train, part.y_train,
                               loss=train.loss_for(data.task), activation=network.activation,
                               dtype=torch.float32)
    block = np.random.default_rng(seed).standard_normal((network.params, HVP_BLOCK))
    operator.matmat(block.astype("float32"))  # the first product pays for set-up
    begin = time.perf_counter()
    operator.matmat(block.astype("float32"))
    hvp = (time.perf_counter() - begin) / HVP_BLOCK
    scale = data.observations / rows
    return Cost(epoch * scale, hvp * scale, network.params, start, usable_cpus())


def fit_budget(config: WhyConfig, cost: Cost, seconds: float) -> tuple[Settings, list[str]]:
    """The largest settings (up to the asked ones) whose estimate fits ``seconds``, cutting
    in this order: the SLQ of the Hessian's rest, the subspace seeds (to 1), epochs (to 10),
    the bound, the intrinsic dimension (each dropped study's time back to the epochs),
    refits (to 2), eigenvalues (to 10), the Hessian study itself, epochs (to 3, then 1).
    Without the Hessian study, the intrinsic dimension and then the bound come back (at 10
    epochs or more) if either fits. Returns them with what was cut, in words."""
    asked = Settings(config.train.epochs, config.seeds, config.top_k, 2)
    s = asked

    def total(x: Settings) -> float:
        return sum(stage.estimate(cost, x) for stage in _runnable())

    def epochs_fitting(x: Settings, floor: int) -> Settings:
        # every estimate is linear in the epochs: fixed seconds plus seconds per epoch
        fixed = total(dataclasses.replace(x, epochs=0))
        per_epoch = total(dataclasses.replace(x, epochs=1)) - fixed
        fit = math.floor((seconds - fixed) / per_epoch) if per_epoch > 0 else x.epochs
        return dataclasses.replace(x, epochs=max(floor, min(x.epochs, fit)))

    def eigenvalues_fitting(x: Settings) -> int:
        training = total(dataclasses.replace(x, hessian=False)) + x.epochs * cost.epoch
        hvps = (seconds - training) / max(cost.hvp, 1e-9)
        fit = math.floor((hvps - LANCZOS_HVPS_EXTRA) / LANCZOS_HVPS_PER_EIGENVALUE)
        return max(MIN_TOP_K, min(x.top_k, fit))

    def drop(x: Settings, **studies: bool) -> Settings:
        """Drop studies and give their time back to the epochs."""
        return epochs_fitting(dataclasses.replace(x, epochs=asked.epochs, **studies),
                              FEW_EPOCHS)

    cuts: list[Callable[[Settings], Settings]] = [
        lambda x: dataclasses.replace(x, probes=0),
        lambda x: dataclasses.replace(x, subspace_seeds=1),
        lambda x: epochs_fitting(x, FEW_EPOCHS),
        lambda x: drop(x, bound=False),
        lambda x: drop(x, intrinsic=False),
        lambda x: epochs_fitting(dataclasses.replace(x, seeds=2), FEW_EPOCHS),
        lambda x: dataclasses.replace(x, top_k=eigenvalues_fitting(x)),
        # without the Hessian study its time goes back to the refits' epochs
        lambda x: epochs_fitting(dataclasses.replace(
            asked, hessian=False, intrinsic=False, bound=False, subspace_seeds=1),
            MIN_EPOCHS),
        lambda x: epochs_fitting(dataclasses.replace(x, seeds=2), MIN_EPOCHS),
        lambda x: epochs_fitting(x, 1),
    ]
    for cut in cuts:
        if total(s) <= seconds:
            break
        s = cut(s)
    if not s.hessian:  # the Hessian's time may hold a subspace study it had crowded out
        for study in ("intrinsic", "bound"):
            tried = epochs_fitting(dataclasses.replace(s, **{study: True}), FEW_EPOCHS)
            if total(tried) <= seconds:
                s = tried
    return s, _scaled(asked, s, cost, seconds, total(s))


def _scaled(asked: Settings, s: Settings, cost: Cost, seconds: float,
            total: float) -> list[str]:
    """What the budget changed from ``asked`` to ``s``, in words."""
    runnable = {stage.experiment for stage in _runnable()}
    knobs = [("epochs", asked.epochs, s.epochs), ("refits", asked.seeds, s.seeds)]
    if s.hessian:
        knobs += [("Hessian eigenvalues (top-k)", asked.top_k, s.top_k),
                  ("SLQ probes of the Hessian's rest", asked.probes, s.probes)]
    if s.intrinsic and "intrinsic-dimension" in runnable:
        knobs.append(("intrinsic-dimension seeds", asked.subspace_seeds, s.subspace_seeds))
    notes = [f"{name} {before} → {after}" for name, before, after in knobs if before != after]
    if not s.hessian:
        least = dataclasses.replace(s, hessian=True, top_k=MIN_TOP_K, probes=0)
        notes.append(f"the Hessian study (effective-dimension) is dropped: its spectrum alone "
                     f"needs ≈ {cost.hessian(least) / 60:.0f} min here even for the top "
                     f"{MIN_TOP_K} eigenvalues; a larger --budget runs it")
    least = dataclasses.replace(s, epochs=FEW_EPOCHS, subspace_seeds=1, intrinsic=True,
                                bound=True)
    for name, flag, needs, seed in (
            ("intrinsic-dimension", s.intrinsic, cost.intrinsic(least), " and 1 seed"),
            ("generalization-bound", s.bound, cost.bound(least), "")):
        if not flag and name in runnable:
            notes.append(f"the {name} study is dropped: it needs ≈ {needs / 60:.1f} min here "
                         f"even at {FEW_EPOCHS} epochs{seed}; a larger --budget runs it")
    if total > seconds:
        notes.append(f"even these settings are estimated at {total / 60:.1f} min, over "
                     f"the {seconds / 60:.1f} min planned for: the run may take longer than "
                     "asked")
    return notes


def _runnable() -> list[WhyStage]:
    names = {e.name for e in registry()}
    return [s for s in STAGES if s.configure is not None and s.experiment in names]


# ------------------------------------------------------------------ the command


def why(config: WhyConfig, out: Path, *, quiet: bool = False,
        say: Callable[[str], None] = print) -> Path:
    """Run (or resume) the why folder ``out``; return the report's path."""
    from paramlab.lab.report import build_report

    config.validate()
    record = WhyRecord.read(out)
    request = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    if record is None:
        record = _prepare(config, request, out, say)
    elif record.request != request:
        raise RunFolderError(f"{out}: holds a `paramlab why` run of another request "
                             f"({record.spec}, budget {record.budget_minutes:g} min); choose "
                             "another --out or delete the folder")
    else:
        say(f"resuming {out}: the calibration and settings of the first run are kept")
    for number, stage in enumerate(record.stages, 1):
        if stage.status != "ran":
            say(f"[{number}/{len(record.stages)}] {stage.experiment}: missing — {stage.reason}")
            continue
        experiment = get(stage.experiment)
        stage_config = from_dict(experiment.config, record.configs[stage.experiment])
        say(f"[{number}/{len(record.stages)}] {stage.experiment}: estimated "
            f"{_duration(stage.estimate_seconds or 0.0)}")
        executor = executors.make("local")
        try:
            with progress_bar(quiet, f"why: {stage.experiment}") as progress:
                outcome = runner.run(experiment, stage_config, out / stage.experiment,
                                     executor=executor, progress=progress)
        finally:
            executor.close()
        say(f"      {outcome.trained} computed, {outcome.skipped} already in the folder, "
            f"{_duration(outcome.seconds)}")
    return build_report(out)


def _prepare(config: WhyConfig, request: dict[str, Any], out: Path,
             say: Callable[[str], None]) -> WhyRecord:
    """Count, calibrate, fit the budget, write ``why.json``."""
    start = time.perf_counter()
    data = config.data.load()
    network = read_network(config.spec, data)
    say(f"count: {config.spec} has {network.params:,} parameters for {data.observations:,} "
        f"training observations ({network.params / data.observations:,.2f} per observation)")
    cost = calibrate(network, data, config.train, config.seed)
    say(f"calibration: one epoch ≈ {_duration(cost.epoch)}, one Hessian-vector product ≈ "
        f"{_duration(cost.hvp)}")
    left = config.budget * 60 * (1 - REPORT_SHARE) - (time.perf_counter() - start)
    settings, scaled = fit_budget(config, cost, left / MARGIN)
    for line in scaled:
        say(f"budget {config.budget:g} min: {line}")
    runnable = {s.experiment for s in _runnable()}
    stages, configs = [], {}
    for stage in STAGES:
        built = None if stage.experiment not in runnable or stage.configure is None else (
            stage.configure(config, network.arch, settings, network.activation))
        if built is not None:
            configs[stage.experiment] = dataclasses.asdict(built)
            stages.append(StageRecord(stage.experiment, stage.question, "ran",
                                      stage.estimate(cost, settings)))
        elif stage.experiment in runnable:
            stages.append(StageRecord(stage.experiment, stage.question, "missing",
                                      reason=f"dropped to fit the {config.budget:g}-minute "
                                      "budget; a larger --budget runs it"))
        else:
            reason = ("the study is not in this paramlab yet (issue #22)"
                      if stage.experiment not in {e.name for e in registry()} else
                      "why does not configure this study yet")
            stages.append(StageRecord(stage.experiment, stage.question, "missing",
                                      reason=reason))
    record = WhyRecord(config.spec, network.arch.spec(), network.activation, network.params,
                       data.observations, data.description or data.name, data.task,
                       network.layers, config.budget, cost.epoch, cost.hvp, tuple(scaled),
                       network.notes, tuple(stages), configs, request)
    out.mkdir(parents=True, exist_ok=True)
    (out / RECORD).write_text(json.dumps(dataclasses.asdict(record), indent=2, default=str),
                              encoding="utf-8")
    return record


def _duration(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.2g} ms"
    return f"{seconds:.1f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
