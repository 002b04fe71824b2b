"""How many parameters does the data actually determine? The effective dimensionality of a
trained network (Maddox, Benton and Wilson 2020, "Rethinking parameter counting in deep
models").

Two stages: the engine trains each network (through the executor, weights kept); then the
Hessian of its *summed* training loss at the solution (:mod:`paramlab.lab.science.hessian`)
gives N_eff(z) = Σᵢ λᵢ / (λᵢ + z), the number of directions in which the data curve the loss
by more than ``z``, filled into the model's row. ``--widths`` repeats this over hidden
widths: raw parameters grow quadratically with width, N_eff levels off (the paper's
figure 1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from paramlab.fields import check_list, int_list, option, require
from paramlab.lab.data import DataConfig, Dataset
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
from paramlab.lab.science import hessian
from paramlab.lab.store import Column, RunStore

NAME = "effective-dimension"
SPECTRUM = "spectrum"  # the --help group

COLUMNS = (
    Column("model_id", str, "unique within the run; the resume key"),
    Column("params", int, "trainable parameters (paramlab count)"),
    Column("observations", int, "training rows"),
    Column("z", float, "the prior precision in N_eff(z) = Σ λ/(λ + z)"),
    Column("n_eff", float, "whole-spectrum N_eff(z): exact, or top-k + SLQ estimate"),
    Column("eigenvalues_above_z", int, "Hessian eigenvalues above z (see above_z_method)"),
    Column("top_eigenvalue", float, "largest Hessian eigenvalue"),
    Column("n_eff_method", str, "exact | top-k + SLQ | top-k lower bound"),
    Column("n_eff_lower_bound", float, "N_eff from the top-k eigenvalues alone (≤ N_eff)"),
    Column("above_z_method", str, "exact | lower bound | SLQ estimate"),
    Column("eigenvalues_computed", int, "all (exact) or k (Lanczos)"),
    Column("smallest_eigenvalue", float, "the smallest Hessian eigenvalue (exact only)"),
    Column("negative_eigenvalues", int, "among those computed"),
    Column("trace", float, "tr H: exact, or top-k + SLQ estimate"),
    Column("slq_resolution", float, "the SLQ rule's span ÷ (2 × steps): it resolves N_eff(z) "
           "only for z ≥ 10× this"),
    Column("seed", int, "initialization seed"),
    Column("hidden", str, "hidden widths, e.g. 256-256"),
    Column("spec", str, "the MLP shorthand"),
    Column("width", int, "the swept hidden width (None without --widths)"),
    Column("scaling", str, "Hessian of the summed (sum) training loss"),
    Column("train_loss", float), Column("test_loss", float),
    Column("epochs", int), Column("hvps", int, "Hessian-vector products used"),
    Column("hessian_seconds", float),
)
DISPLAY = ("model_id", "params", "observations", "n_eff", "n_eff_method",
           "n_eff_lower_bound", "eigenvalues_above_z", "top_eigenvalue", "train_loss")


@dataclass
class EffectiveDimensionConfig:
    spec: str = option("40-256-256-1", flag="SPEC", help="MLP shorthand, e.g. 40-256-256-1 "
                       "(with --widths: its depth, inputs and outputs)")
    widths: tuple[int, ...] | None = option(
        None, flag="--widths", group=SPECTRUM, type=int_list, metavar="W1,W2,…",
        help="sweep: every hidden layer of SPEC this wide, in turn")
    seeds: int = option(1, flag="--seeds", group=SPECTRUM, type=int,
                        help="initializations per architecture")
    z: float = option(1.0, flag="--z", group=SPECTRUM, type=float,
                      help="N_eff(z) = Σ λ/(λ+z) over the Hessian of the summed training "
                      "loss")
    top_k: int = option(100, flag="--top-k", group=SPECTRUM, type=int,
                        help="Lanczos eigenvalues of large models")
    exact_max: int = option(3000, flag="--exact-max", group=SPECTRUM, type=int,
                            help="at most this many parameters: the dense Hessian")
    slq_probes: int = option(4, flag="--slq-probes", group=SPECTRUM, type=int,
                             help="stochastic Lanczos quadrature probes; 0: top-k lower "
                             "bound only")
    slq_steps: int = option(48, flag="--slq-steps", group=SPECTRUM, type=int,
                            help="Lanczos steps per probe")
    tol: float = option(1e-3, flag="--tol", group=SPECTRUM, type=float,
                        help="Lanczos: Ritz residual ≤ tol·|θ| for each of the top-k")
    data: DataConfig = option(default_factory=DataConfig)
    train: TrainConfig = option(default_factory=TrainConfig)
    seed: int = seed_option()  # first initialization seed; seed k uses seed + k

    def validate(self) -> None:
        hessian.check_z(self.z)
        require(self.seeds >= 1, "seeds", f"must be at least 1; received {self.seeds}")
        require(self.top_k >= 1, "top_k", f"must be at least 1; received {self.top_k}")
        require(self.exact_max >= 0, "exact_max", f"must be ≥ 0; received {self.exact_max}")
        require(self.slq_probes >= 0, "slq_probes",
                f"must be ≥ 0; received {self.slq_probes}")
        require(self.slq_steps >= 2, "slq_steps",
                f"must be at least 2; received {self.slq_steps}")
        require(0 < self.tol < 1, "tol", f"must be in (0, 1); received {self.tol}")
        if self.widths is not None:
            check_list("widths", self.widths, low=1)
        self.train.validate()


@dataclass(frozen=True)
class EffectiveDimensionAnalysis(Analysis):
    """What every spectrum of the run shares: the Hessian's convention and z."""

    convention: str
    z: float
    observations: int


def models(config: EffectiveDimensionConfig, data: Dataset) -> list[tuple[Planned, int | None]]:
    """(model, swept width) pairs; ids are deterministic from the config (resume)."""
    base = MLPArch.parse(config.spec, data.n_features, data.n_outputs, NAME)
    require(not config.widths or bool(base.hidden), "widths",
            f"needs a spec with hidden layers, such as {data.n_features}-64-64-"
            f"{data.n_outputs}; received {config.spec!r}")
    archs: list[tuple[MLPArch, int | None]] = [(base, None)] if not config.widths else [
        (MLPArch(base.in_features, (w,) * len(base.hidden), base.out_features), w)
        for w in config.widths]
    return [(Planned(f"ed-{arch.spec()}-s{config.seed + k}", arch, config.seed + k), width)
            for arch, width in archs for k in range(config.seeds)]


def plan(config: EffectiveDimensionConfig) -> Plan:
    """Train every model (weights kept), then fill in each one's spectrum."""
    data = config.data.load()
    planned = models(config, data)
    widths = {p.model_id: w for p, w in planned}

    def trained_row(result: ModelResult) -> Row:
        arch = result.arch
        return {"model_id": result.model_id, "params": result.params,
                "observations": result.observations, "seed": result.seed,
                "hidden": "-".join(map(str, arch.hidden)), "spec": arch.spec(),
                "width": widths[result.model_id], "scaling": "sum",
                "train_loss": result.train_loss, "test_loss": result.test_loss,
                "epochs": result.epochs}

    def spectra(missing: list[str], store: RunStore) -> Iterator[list[tuple[Row, History]]]:
        for model_id in missing:  # one commit per spectrum: a kill loses at most one
            yield [(spectrum_row(model_id, data, config, store), [])]

    ids = [p.model_id for p, _ in planned]
    return Plan((TrainModels([p for p, _ in planned], data, config.train, keep_weights=True,
                             row=trained_row),
                 ComputePoints(ids, spectra, fills="n_eff")), data)


def spectrum_row(model_id: str, data: Dataset, config: EffectiveDimensionConfig,
                 store: RunStore) -> Row:
    """The Hessian spectrum of one trained model: the columns it fills in its row. The
    eigenvalues (and SLQ nodes) are kept beside the weights for the report's plot."""
    start = time.perf_counter()
    spectrum = hessian.measure(
        store.load_weights(model_id).weights, data.X_train, data.y_train,
        loss=config.train.loss_for(data.task), activation=config.train.activation,
        top_k=config.top_k, exact_max=config.exact_max, probes=config.slq_probes,
        steps=config.slq_steps, tol=config.tol, seed=config.seed)
    seconds = time.perf_counter() - start
    store.save_arrays(f"{model_id}.spectrum", spectrum.arrays())
    return {"model_id": model_id, "z": config.z, **spectrum.summary(config.z),
            "hessian_seconds": seconds}


def analyze(config: EffectiveDimensionConfig, plan: Plan,
            store: RunStore) -> EffectiveDimensionAnalysis:
    data = plan.data
    assert data is not None
    return EffectiveDimensionAnalysis(
        hessian.convention("sum", config.train.loss_for(data.task)), config.z,
        data.observations)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]
                ) -> EffectiveDimensionConfig | None:
    """``--full`` only: two hidden layers of widths 4 … 128 on 1,400 rows of the seed data —
    parameters from ~200 to ~22,000 around the number of observations. z = 30: on this
    summed-loss scale (eigenvalues up to ~2·10⁴) 40 quadrature steps resolve about ±2, so
    z = 1 would leave the two widest nets with top-k lower bounds only; at z = 30 every
    width gets its whole-spectrum N_eff."""
    if level != "full":
        return None
    return EffectiveDimensionConfig(
        "40-64-64-1", widths=(4, 8, 16, 32, 64, 128), z=30.0, top_k=100, slq_probes=4,
        slq_steps=40,
        data=DataConfig("synthetic", n_samples=2000),
        train=TrainConfig(epochs=60, batch_size=64))


EXPERIMENT = Experiment(
    name=NAME,
    help="how many parameter directions the data determine: Hessian N_eff(z)",
    description="Train MLPs, then the Hessian of the summed training loss at the solution: "
    "top eigenvalues (Lanczos), spectral density (SLQ) or the exact spectrum, and the "
    "effective dimensionality N_eff(z) beside the raw parameter count.",
    config=EffectiveDimensionConfig,
    plan=plan,
    analyze=analyze,
    analysis=EffectiveDimensionAnalysis,
    columns=COLUMNS,
    order=70,
    display=DISPLAY,
    demo=demo_config,
    example=("40-4-1", "--widths", "2,4", "--epochs", "1", "--n-samples", "200"),
)
