"""The double-descent study's verdict sentences and figures, from its typed analysis.

Every verdict is computed from the run's numbers and says the opposite when they do: a peak
away from the threshold, no second descent, a measurement far from theory, a tuned ridge
curve with a peak — each has its sentence (tested both ways with hand-made rows). The
constants drawn with (‖β‖², σ, λ) are the ones the run used, read from its analysis.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.lab.experiments.double_descent import (
    THEORY_BAND,
    DoubleDescentAnalysis,
    LinearAnalysis,
    MLPAnalysis,
    WidthAnalysis,
)
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis
from paramlab.lab.science import dd_theory
from paramlab.lab.store import RunStore


def _analysis(analysis: Analysis | None) -> LinearAnalysis | WidthAnalysis:
    if not isinstance(analysis, LinearAnalysis | WidthAnalysis):
        raise TypeError(f"a double-descent analysis was expected; received {analysis!r}")
    return analysis


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    a = _analysis(analysis)
    if isinstance(a, LinearAnalysis):
        figure = linear_figure(a, plots_dir / "double-descent-linear-risk.png")
        title = f"Double descent: linear least squares ({a.sweep} sweep)"
        columns: tuple[str, ...] = ("p", "n", "gamma", "risk", "theory", "asymptotic",
                                    "tuned", "tuned_theory")
    else:
        figure = width_figure(a, plots_dir / f"double-descent-{a.model}-error.png")
        title = f"Double descent: {a.model.replace('-', ' ')} on {a.data}"
        columns = ("width", "params", "train_error", "test_error", "train_loss", "test_loss")
    figures = [figure]
    if isinstance(a, MLPAnalysis) and a.epochwise:
        figures.append(epoch_figure(a, plots_dir / "double-descent-mlp-epochs.png"))
    curve = [dataclasses.asdict(point) for point in a.curve]
    shown = curve if len(curve) <= 40 else curve[:: math.ceil(len(curve) / 40)]
    lines = sentences(a)  # the first sets the scene; the second says where the peak is
    return Section(title, lines, figures,
                   [tables.rows_table("Curve (means over repeats)", shown, columns)],
                   lines[1] if len(lines) > 1 else "")


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    """Where the curve peaks, and whether it descends again."""
    return sentences(_analysis(analysis))[1:3]


def sentences(a: DoubleDescentAnalysis) -> list[str]:
    if isinstance(a, LinearAnalysis):
        return linear_sentences(a)
    assert isinstance(a, WidthAnalysis)
    return mlp_sentences(a) if a.model == "mlp" else rf_sentences(a)


def _g(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def linear_sentences(a: LinearAnalysis) -> list[str]:
    curve, peak = a.curve, a.peak
    by_features = a.sweep == "features"
    fit = ("minimum-norm least squares (the exact pseudo-inverse, no ridge)" if not a.ridge
           else f"ridge regression with λ = {a.ridge:g}")
    swept = (f"n = {curve[0].n:,} training samples and p from {curve[0].p:,} to "
             f"{curve[-1].p:,} features" if by_features else
             f"p = {curve[0].p:,} features and n from {curve[-1].n:,} to "
             f"{curve[0].n:,} training samples")
    lines = [
        f"The linear model, {fit}, was fitted on isotropic Gaussian features: {swept} "
        f"(p/n from {_g(curve[0].gamma)} to {_g(curve[-1].gamma)}), ‖β‖² = "
        f"{a.signal:g}, noise σ = {a.noise:g}, {a.repeats} draws per point. The risk "
        "is the excess test error ‖β̂ − β‖² (the expected squared error on a fresh point "
        "minus σ²).",
    ]
    where = (f"at the interpolation threshold p = n (p = {peak.p:,}, n = {peak.n:,})"
             if a.peak_at_threshold else
             f"at p/n = {_g(peak.gamma)}, not at the interpolation threshold p = n")
    lines.append(f"The measured risk peaks {where}, where it is {peak.risk:,.3g}.")
    second = a.second_descent
    if a.descends_again and second is not None:
        more = "adding parameters" if by_features else "removing samples"
        lines.append(f"Past the threshold it descends again: {more} lowers it to "
                     f"{second.risk:.3g} at p/n = {_g(second.gamma)} — the second descent.")
    else:
        lines.append("The risk does not rise to a peak and fall again: there is no second "
                     "descent in this run.")
    lines.append(_theory_sentence(a))
    lines.append(_tuned_sentence(a))
    lines.append(_linear_verdict(a))
    return lines


def _theory_sentence(a: LinearAnalysis) -> str:
    gap, at = a.theory_worst_gap, a.theory_worst_at
    if gap is None or at is None:
        return ("No point lies far enough from the threshold (|p/n − 1| > 0.25) with a "
                "finite exact risk to compare with theory.")
    formula = ("the exact finite-n formula (σ²p/(n − p − 1) below the threshold, "
               "r²(1 − n/p) + σ²n/(p − n − 1) above)")
    verdict = (f"is within {gap:.1%} of {formula} at all {a.theory_points} points"
               if gap <= 0.1 else
               f"deviates from {formula} by up to {gap:.1%} (at p/n = {_g(at.gamma)})")
    return (f"Away from the threshold (|p/n − 1| > {THEORY_BAND}) the mean measured risk "
            f"{verdict}; Hastie et al.'s asymptotic curve is drawn beside it.")


def _tuned_sentence(a: LinearAnalysis) -> str:
    first, last, inner = a.tuned_first, a.tuned_last, a.tuned_inner_max
    gap = a.tuned_worst_gap
    closeness = f"within {gap:.1%} of" if gap <= 0.1 else f"up to {gap:.1%} away from"
    if a.tuned_has_peak:
        return (f"Optimally tuned ridge (λ* = σ²γ/‖β‖²) still has a peak: {inner.tuned:.3g} "
                f"at p/n = {_g(inner.gamma)}, above both ends; it is {closeness} its closed "
                "form σ²γ·m(−λ*).")
    return (f"Optimally tuned ridge (λ* = σ²γ/‖β‖²) has no peak: its risk goes from "
            f"{first.tuned:.3g} at p/n = {_g(first.gamma)} to {last.tuned:.3g} at p/n = "
            f"{_g(last.gamma)} without rising above both ends, {closeness} its closed form "
            "σ²γ·m(−λ*) (Marchenko–Pastur).")


def _linear_verdict(a: LinearAnalysis) -> str:
    """What it means for the seed question, whichever way the numbers point."""
    if a.peak_at_threshold and a.descends_again:
        return ("So it is not having more parameters than observations that ruins a fit, "
                "but having about as many: the same interpolating estimator gets better again "
                "past p = n, and tuned regularization removes the peak altogether.")
    return ("Here the curve does not show the double-descent shape, so this run does not "
            "support the claim that interpolating past p = n recovers.")


def _metric(a: WidthAnalysis, point: object) -> float:
    value = getattr(point, a.metric)
    assert isinstance(value, float)
    return value


def rf_sentences(a: WidthAnalysis) -> list[str]:
    peak, n, curve = a.peak, a.n_train, a.curve
    what = "test error" if a.metric == "test_error" else "test loss"
    fmt = _percent if a.metric == "test_error" else _number
    targets = "one-hot classes" if a.metric == "test_error" else "the targets"
    lines = [
        f"Minimum-norm regression on N random {a.kind} features of {a.data} "
        f"({n:,} training rows; squared loss on {targets}), "
        f"N from {curve[0].width:,} to {curve[-1].width:,}, {a.repeats} draws each.",
    ]
    near = ("at the interpolation threshold N = n" if a.peak_near_threshold
            else f"far from the interpolation threshold N = n = {n:,}")
    lines.append(f"The {what} peaks at N = {peak.width:,} (N/n = {a.peak_ratio or 0:.2f}), "
                 f"{near}, at {fmt(_metric(a, peak))}.")
    if a.right_min is not None and a.right_min < _metric(a, peak):
        lines.append(f"With more features it falls again, to {fmt(a.right_min)}; the best "
                     f"below the threshold was {fmt(a.left_min)}." if a.left_min
                     is not None else f"With more features it falls again, to "
                     f"{fmt(a.right_min)}.")
    else:
        lines.append(f"With more features the {what} does not fall again.")
    return lines


def mlp_sentences(a: WidthAnalysis) -> list[str]:
    peak, n, curve = a.peak, a.n_train, a.curve
    lines = [
        f"Two-hidden-layer MLPs of widths {curve[0].width:,} to {curve[-1].width:,} were "
        f"trained on {a.data} ({n:,} training examples, {a.label_noise:.0%} of their "
        f"labels replaced once; {a.epochs} epochs), all widths at once on the batched "
        "engine.",
    ]
    threshold = a.threshold
    if threshold is None:
        lines.append("No width reached zero training error: the sweep never crossed the "
                     "interpolation threshold (more epochs or wider networks).")
    else:
        params = next(pt.params for pt in curve if pt.width == threshold)
        lines.append(f"Training error first reaches zero at width {threshold:,} "
                     f"({params:,.0f} parameters for {n:,} labels): the interpolation "
                     "threshold.")
    left, right, error = a.left_min, a.right_min, _metric(a, peak)
    sides = (f"{_points(error - left)} above the best narrower network and "
             f"{_points(error - right)} above the best wider one"
             if left is not None and right is not None else "at the end of the sweep")
    lines.append(f"Test error peaks at width {peak.width:,} at {_percent(error)}, {sides}.")
    if a.prominent and a.peak_near_threshold:
        lines.append(f"That is deep double descent: the test error rises to a peak within a "
                     f"factor {a.factor:g} of the interpolation threshold and falls again "
                     "as the networks grow past it.")
    elif a.prominent:
        lines.append("The test error has a peak, but not near the interpolation threshold.")
    else:
        lines.append("The test error has no clear peak here: no double descent in this run.")
    if isinstance(a, MLPAnalysis):
        lines.append(epochwise_sentence(a))
    return lines


def epochwise_sentence(a: MLPAnalysis) -> str:
    """Whether test error, over epochs, descends a second time in the widths past the
    interpolation threshold (Nakkiran et al. 2019, Sec. 6)."""
    if a.threshold is None:
        return ("Epoch-wise double descent needs widths past the interpolation threshold; "
                "this sweep has none, so it is not measured.")
    if not a.epochwise:
        return ("This run's store holds no per-epoch test error (the engine records it "
                "since issue #22): rerun the sweep into a new folder to see test error over "
                "epochs.")
    widest = a.epochwise[-1]
    shape = widest.descent
    second = [c.width for c in a.epochwise if c.descent.second_descent]
    smoothed = (f" (test error averaged over {widest.window} epochs)" if widest.window > 1
                else "")
    head = (f"Over epochs{smoothed}, the widest network (width {widest.width:,}) reached its "
            f"lowest test error {_percent(shape.min_before)} at epoch {shape.min_before_epoch:g}, "
            f"rose to {_percent(shape.peak_error)} at epoch {shape.peak_epoch:g}")
    if shape.second_descent:
        head += (f" and fell again to {_percent(shape.min_after)} by epoch "
                 f"{shape.min_after_epoch:g}: epoch-wise double descent (rise and fall both "
                 f"above {_points(shape.margin)}, two standard errors on {a.n_test:,} test "
                 "points)")
    else:
        head += (f" and did not fall again by more than {_points(shape.margin)} (two standard "
                 f"errors on {a.n_test:,} test points; lowest later {_percent(shape.min_after)}"
                 "): no second descent over epochs")
    which = f" (widths {', '.join(map(str, second))})" if second else ""
    return head + (f"; {len(second)} of the {len(a.epochwise)} widths past the threshold "
                   f"descend a second time{which}.")


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _points(value: float) -> str:
    return f"{100 * value:.1f} points"


def _number(value: float) -> str:
    return f"{value:.3g}"


# ------------------------------------------------------------------ figures


def linear_figure(a: LinearAnalysis, path: Path) -> Path:
    """Risk against p/n (log axis): measurement, both theories, the line p = n, tuned ridge."""
    curve = a.curve
    signal, noise_var = a.signal, a.noise**2
    fig, ax = plots.figure()
    gammas = [pt.gamma for pt in curve]
    fitted = "min-norm" if not a.ridge else f"ridge λ = {a.ridge:g}"
    ax.plot(gammas, [pt.risk for pt in curve], "o", ms=3.5, color="#1f4fb4",
            label=f"measured ({fitted})")
    if not a.ridge:
        _exact_curve(a, ax)
    dense = np.geomspace(gammas[0], gammas[-1], 800)
    asym = [(g, dd_theory.asymptotic_ridge_risk(float(g), a.ridge, signal, noise_var))
            for g in dense if abs(g - 1) > 1e-3]
    for below, label in ((True, "asymptotic (Hastie et al.)"), (False, None)):
        part = [(g, r) for g, r in asym if (g < 1) == below and r is not None]
        if part:
            ax.plot(*zip(*part, strict=True), color="#444", ls="--", lw=1.2, label=label)
    ax.plot(gammas, [pt.tuned for pt in curve], "s", ms=3, color="#2a9d5a",
            label="optimally tuned ridge, measured")
    ax.plot(dense, [dd_theory.optimal_ridge_risk(float(g), signal, noise_var) for g in dense],
            color="#2a9d5a", lw=1.2, label="optimally tuned ridge, closed form")
    ax.axvline(1.0, color="crimson", ls=":", label="p = n (interpolation threshold)")
    ax.set_xscale("log")
    ax.set_ylim(0, 3 * max(signal + noise_var, max(pt.tuned for pt in curve)))
    ax.set_xlabel("p / n (log scale)")
    ax.set_ylabel("risk ‖β̂ − β‖²")
    sweep = "more features, fixed n" if a.sweep == "features" else "fewer samples, fixed p"
    ax.set_title(f"Linear double descent ({sweep})")
    ax.legend(fontsize=8, loc="upper left")
    return plots.save(fig, path)


def _exact_curve(a: LinearAnalysis, ax: Any) -> None:
    """The exact finite-n min-norm risk at every integer size of the sweep's span."""
    curve = a.curve
    by_features = a.sweep == "features"
    fixed = curve[0].n if by_features else curve[0].p
    sizes = np.unique(np.geomspace(min(min(pt.p, pt.n) for pt in curve),
                                   max(max(pt.p, pt.n) for pt in curve),
                                   600).round().astype(int))
    exact = []
    for k in sizes:
        p, n = (int(k), fixed) if by_features else (fixed, int(k))
        exact.append((p / n, dd_theory.finite_risk(p, n, a.signal, a.noise**2)))
    below = [(g, r) for g, r in exact if r is not None and g < 1]
    above = [(g, r) for g, r in exact if r is not None and g > 1]
    for part, label in ((below, "exact finite-n risk"), (above, None)):
        if part:
            ax.plot(*zip(*part, strict=True), color="#e08a2c", lw=1.6, label=label)


def width_figure(a: WidthAnalysis, path: Path) -> Path:
    """Train and test error (or loss) against width, the interpolation threshold marked."""
    widths = [pt.width for pt in a.curve]
    classes = a.metric == "test_error"
    fig, ax = plots.figure()
    for split, style in (("train", "v--"), ("test", "o-")):
        key = f"{split}_error" if classes else f"{split}_loss"
        values = [getattr(pt, key) * (100 if classes else 1) for pt in a.curve]
        ax.plot(widths, values, style, ms=4, label=f"{split} {'error' if classes else 'loss'}")
    if a.threshold:
        label = ("interpolation threshold (train error 0)" if a.model == "mlp"
                 else "features = training rows")
        ax.axvline(a.threshold, color="crimson", ls=":", label=label)
    ax.set_xscale("log")
    if not classes:
        ax.set_yscale("log")
    ax.set_xlabel("hidden width of both layers (log scale)" if a.model == "mlp"
                  else "random features N (log scale)")
    ax.set_ylabel("error (%)" if classes else "squared loss (log scale)")
    ax.set_title(f"Double descent: {a.model} on {a.data}")
    ax.legend(fontsize=8)
    return plots.save(fig, path)


def epoch_figure(a: MLPAnalysis, path: Path) -> Path:
    """Test error over epochs (log axis) of each width past the interpolation threshold,
    the peak the second-descent verdict found marked on each."""
    fig, ax = plots.figure()
    for curve in a.epochwise:
        line, = ax.plot(curve.epochs, [100 * e for e in curve.test_error], lw=1.2,
                        label=f"width {curve.width:,}"
                        f"{' (descends again)' if curve.descent.second_descent else ''}")
        ax.plot([curve.descent.peak_epoch], [100 * curve.descent.peak_error], "o",
                color=line.get_color(), ms=5)
    ax.set_xscale("log")
    ax.set_xlabel("epoch (log scale)")
    ax.set_ylabel("test error (%)")
    ax.set_title("Epoch-wise double descent: test error over training, past the threshold")
    ax.legend(fontsize=7)
    return plots.save(fig, path)
