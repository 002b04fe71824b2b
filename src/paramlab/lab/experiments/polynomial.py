"""The four-point polynomial: more parameters than observations, in the smallest case.

A degree-4 polynomial has five coefficients; four points give four equations, so the exact fits
form a line and the *fitting procedure* picks a member (the mathematics, and why each
procedure picks what it picks, is in :mod:`paramlab.lab.science.polynomial`). The study
records every fit as one closed-form point; the report draws the line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paramlab.fields import check_list, float_list, option, require
from paramlab.lab.runner import (
    Analysis,
    ComputePoints,
    DemoLevel,
    Experiment,
    History,
    Plan,
    Row,
    RunOutcome,
    ridge_option,
)
from paramlab.lab.science.polynomial import (
    DEGREE,
    Family,
    Fit,
    default_step,
    family,
    scale,
    steps_to_converge,
    vandermonde,
)
from paramlab.lab.store import Column, RunStore

INTERPOLATES = 1e-9  # largest residual of an exact fit
LANDED = 1e-6  # gradient descent "on" the minimum-norm fit


@dataclass
class PolynomialConfig:
    x: tuple[float, ...] = option((-1.0, -0.4, 0.3, 1.0), flag="--x", type=float_list,
                                  metavar="X,…", help="the four abscissae, distinct "
                                  "(default -1,-0.4,0.3,1)")
    y: tuple[float, ...] = option((0.5, -0.3, 0.8, -0.2), flag="--y", type=float_list,
                                  metavar="Y,…", help="the four values (default "
                                  "0.5,-0.3,0.8,-0.2)")
    family: tuple[float, ...] = option((-3.0, -1.5, 1.5, 3.0), flag="--family",
                                       type=float_list, metavar="T,…",
                                       help="multiples of ∏(x − xᵢ) to add to the "
                                       "minimum-norm fit (default -3,-1.5,1.5,3)")
    ridge: tuple[float, ...] = ridge_option((1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-6))
    steps: int = option(5000, flag="--steps", type=int,
                        help="gradient-descent iterations from zero")
    lr: float | None = option(None, flag="--lr", type=float, help="gradient-descent step "
                              "(default 1/σ_max² of the Vandermonde matrix)")

    def validate(self) -> None:
        require(len(self.x) == DEGREE and len(self.y) == DEGREE, "x",
                f"and y need exactly {DEGREE} values each (a degree-{DEGREE} polynomial "
                f"through {DEGREE} points); received {len(self.x)} and {len(self.y)}")
        require(len(set(self.x)) == len(self.x), "x",
                f"values must be distinct; received {self.x}")
        check_list("family", self.family)
        check_list("ridge", self.ridge, low=0.0)
        require(self.steps >= 1, "steps", f"must be at least 1; received {self.steps}")
        require(self.lr is None or self.lr > 0, "lr", f"must be positive; received {self.lr}")

    def solve(self) -> Family:
        """The study's fits (a gradient-descent step that would diverge is refused)."""
        x, y = np.asarray(self.x, float), np.asarray(self.y, float)
        stable = default_step(vandermonde(scale(x, x)))
        lr = self.lr if self.lr is not None else stable
        require(lr < 2 * stable, "lr", f"{lr:g} makes gradient descent diverge on these "
                f"points; it must be below 2/σ_max² = {2 * stable:.4g}")
        return family(x, y, self.family, self.ridge, self.steps, lr)


COLUMNS = (
    Column("model_id", str, "the fit; unique within the run, the resume key"),
    Column("model", str, "min-norm, cubic, family, gradient-descent or ridge"),
    Column("t", float, "coordinate along ∏(u − uᵢ) relative to the minimum-norm fit"),
    Column("ridge", float, "ridge penalty λ"),
    Column("steps", int, "gradient-descent iterations"),
    Column("params", int, "coefficients"),
    Column("n_train", int, "points fitted"),
    Column("train_loss", float, "mean squared residual at the points"),
    Column("max_residual", float, "largest |p(xᵢ) − yᵢ|"),
    Column("norm", float, "‖c‖ (coefficients in u)"),
    Column("distance_to_min_norm", float, "‖c − c_min‖"),
    *(Column(f"c{k}", float, f"coefficient of u^{k}") for k in range(DEGREE + 1)),
)
DISPLAY = ("model_id", "t", "ridge", "max_residual", "norm", "distance_to_min_norm")


@dataclass(frozen=True)
class PolynomialAnalysis(Analysis):
    """The line of exact fits: what the report draws beside the rows."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    u: tuple[float, ...]
    singular_values: tuple[float, ...]
    rank: int
    null_direction: tuple[float, ...]
    min_norm: tuple[float, ...]
    lr: float
    steps: int
    descent_distance: tuple[tuple[int, float], ...]  # (step, ‖c − c_min‖), log-spaced steps
    converge_steps: float | None  # steps for a 1e6-fold contraction; None: never


def row_of(fit: Fit, config: PolynomialConfig, best: np.ndarray) -> Row:
    x, y = np.asarray(config.x, float), np.asarray(config.y, float)
    residual = vandermonde(scale(x, x)) @ fit.coefficients - y
    row: Row = {"model_id": fit.fit_id, "params": DEGREE + 1, "n_train": len(y),
                "train_loss": float(np.mean(residual ** 2)),
                "max_residual": float(np.max(np.abs(residual))),
                "norm": float(np.linalg.norm(fit.coefficients)),
                "distance_to_min_norm": float(np.linalg.norm(fit.coefficients - best)),
                **{f"c{k}": float(v) for k, v in enumerate(fit.coefficients)},
                "model": fit.model, "t": fit.t}
    if fit.ridge is not None:
        row["ridge"] = fit.ridge
    if fit.steps is not None:
        row["steps"] = fit.steps
    return row


def plan(config: PolynomialConfig) -> Plan:
    solved = config.solve()

    def compute(missing: list[str], store: RunStore) -> list[list[tuple[Row, History]]]:
        return [[(row_of(fit, config, solved.min_norm), [])]
                for fit in solved.fits if fit.fit_id in missing]

    return Plan((ComputePoints([fit.fit_id for fit in solved.fits], compute),))


def analyze(config: PolynomialConfig, plan: Plan, store: RunStore) -> PolynomialAnalysis:
    solved = config.solve()
    every = np.unique(np.geomspace(1, config.steps, 200).astype(int))
    singular = solved.singular_values
    return PolynomialAnalysis(
        config.x, config.y, tuple(solved.u.tolist()), tuple(singular.tolist()),
        int(np.sum(singular > 1e-12)), tuple(solved.null_direction.tolist()),
        tuple(solved.min_norm.tolist()), solved.lr, config.steps,
        tuple((int(k), solved.distances[k - 1]) for k in every),
        steps_to_converge(singular, solved.lr))


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> PolynomialConfig:
    """Milliseconds at every level."""
    return PolynomialConfig()


EXPERIMENT = Experiment(
    name="polynomial",
    help="degree 4 through 4 points: the line of exact fits and who picks one",
    description="The one-parameter family of exact degree-4 interpolants of four points, the "
    "minimum-norm one (pseudo-inverse), gradient descent from zero landing on it, and ridge's "
    "unique solutions approaching it as λ → 0.",
    config=PolynomialConfig,
    plan=plan,
    columns=COLUMNS,
    order=60,
    analyze=analyze,
    analysis=PolynomialAnalysis,
    display=DISPLAY,
    demo=demo_config,
    example=("--steps", "2000"),
    executors=False,  # closed-form fits: nothing to send to workers
)
