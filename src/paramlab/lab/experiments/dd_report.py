"""The double-descent study's analysis, verdict sentences and figures.

Every verdict is computed from the run's rows and says the opposite when they do: a peak away
from the threshold, no second descent, a measurement far from theory, a tuned ridge curve
with a peak — each has its sentence (tested both ways with hand-made rows).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.experiments import dd_theory
from paramlab.lab.experiments.base import Section
from paramlab.lab.store import RunStore

THEORY_BAND = 0.25  # points with |p/n − 1| ≤ this are too close to the (infinite) peak
PEAK_SHARPNESS = 1.1  # a tuned-ridge "peak": an inner point above both ends by 10 %
ERROR_PROMINENCE = 0.03  # an MLP test-error peak: 3 points above the best on each side


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


# ------------------------------------------------------------------ analysis


def analyze(rows: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """The numbers the sentences and the console quote (also written to analysis.json)."""
    if config["model"] == "linear":
        return linear_analysis(rows, config)
    return width_analysis(rows, config)


def linear_curve(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per (p, n): means over repeats of the measured risks, and the theory."""
    groups: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["features"], row["n_train"]].append(row)
    curve = []
    for (p, n), group in groups.items():
        first = group[0]
        curve.append({
            "p": p, "n": n, "gamma": p / n, "repeats": len(group),
            "risk": _mean([r["test_risk"] for r in group]),
            "train_loss": _mean([r["train_loss"] for r in group]),
            "theory": first["theory_risk"], "asymptotic": first["theory_risk_asymptotic"],
            "tuned": _mean([r["optimal_ridge_risk"] for r in group]),
            "tuned_theory": first["optimal_ridge_theory"],
        })
    return sorted(curve, key=lambda point: point["gamma"])


def linear_analysis(rows: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    curve = linear_curve(rows)
    peak = max(curve, key=lambda point: point["risk"])
    over = [pt for pt in curve if pt["gamma"] > peak["gamma"]]
    under = [pt for pt in curve if pt["gamma"] < 1]
    beyond = [pt for pt in curve if pt["gamma"] > 1]
    away = [pt for pt in curve if abs(pt["gamma"] - 1) > THEORY_BAND and pt["theory"]]
    gaps = [(abs(pt["risk"] - pt["theory"]) / pt["theory"], pt) for pt in away]
    worst_gap, worst_at = max(gaps, key=lambda g: g[0]) if gaps else (None, None)
    tuned_gaps = [(abs(pt["tuned"] - pt["tuned_theory"]) / pt["tuned_theory"], pt)
                  for pt in curve if pt["tuned_theory"]]
    tuned_worst, tuned_at = max(tuned_gaps, key=lambda g: g[0])
    ends = max(curve[0]["tuned"], curve[-1]["tuned"])
    inner = max((pt for pt in curve[1:-1]), key=lambda pt: pt["tuned"], default=curve[0])
    second = min(over, key=lambda pt: pt["risk"]) if over else None
    first = min((pt for pt in curve if pt["gamma"] < peak["gamma"]),
                key=lambda pt: pt["risk"], default=None)
    rises = first is not None and first["risk"] < 0.5 * peak["risk"]
    return {
        "model": "linear", "sweep": config["sweep"], "ridge": config["ridge"],
        "signal": config["signal"],
        "noise": (0.5 if config["data"]["noise"] is None else config["data"]["noise"]),
        "repeats": config["repeats"], "points": len(curve), "curve": curve,
        "peak": peak, "peak_at_threshold": abs(math.log(peak["gamma"])) <= math.log(1.1),
        "second_descent": second,
        "descends_again": rises and second is not None and second["risk"] < 0.5 * peak["risk"],
        "theory_points": len(gaps), "theory_worst_gap": worst_gap, "theory_worst_at": worst_at,
        "best_under": min(under, key=lambda pt: pt["risk"]) if under else None,
        "best_over": min(beyond, key=lambda pt: pt["risk"]) if beyond else None,
        "tuned_inner_max": inner,
        "tuned_has_peak": inner["tuned"] > PEAK_SHARPNESS * ends,
        "tuned_worst_gap": tuned_worst, "tuned_worst_at": tuned_at,
        "tuned_first": curve[0], "tuned_last": curve[-1],
    }


def width_curve(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per width (random features: N), means over repeats."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["width"]].append(row)
    keys = ("params", "train_loss", "test_loss", "train_error", "test_error")
    return [{"width": width, "repeats": len(group),
             **{key: _mean([r[key] for r in group]) for key in keys}}
            for width, group in sorted(groups.items())]


def width_analysis(rows: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """Where the test error peaks, and (mlp) where training error first reaches zero."""
    curve = width_curve(rows)
    metric = "test_error" if curve[0]["test_error"] is not None else "test_loss"
    peak_index = _most_prominent_peak([pt[metric] for pt in curve])
    peak = curve[peak_index]
    left = min((pt[metric] for pt in curve[:peak_index]), default=None)
    right = min((pt[metric] for pt in curve[peak_index + 1:]), default=None)
    n = rows[0]["n_train"]
    if config["model"] == "mlp":
        zero = [pt for pt in curve if pt["train_error"] is not None and pt["train_error"] == 0]
        threshold = zero[0]["width"] if zero else None
    else:
        threshold = n  # min-norm fits interpolate from N = n features on
    ratio = peak["width"] / threshold if threshold else None
    factor = 2.0 if config["model"] == "mlp" else 1.5
    prominent = (left is not None and right is not None
                 and peak[metric] - left >= _prominence(config, metric, left)
                 and peak[metric] - right >= _prominence(config, metric, right))
    return {
        "model": config["model"], "data": config["data"]["data"], "n_train": n,
        "label_noise": config["label_noise"], "kind": config["features_kind"],
        "epochs": config["train"]["epochs"], "repeats": config["repeats"],
        "metric": metric, "curve": curve, "peak": peak, "left_min": left, "right_min": right,
        "threshold": threshold, "peak_ratio": ratio, "factor": factor,
        "peak_near_threshold": ratio is not None and 1 / factor <= ratio <= factor,
        "prominent": prominent,
    }


def _most_prominent_peak(values: list[float]) -> int:
    """The inner point standing highest above the lowest value on *each* side of it (the
    smaller of its two heights); the largest value when no inner point stands above both.
    Narrow networks underfit, so the deep double-descent peak is a local, not a global,
    maximum of test error."""
    def height(i: int) -> float:
        return min(values[i] - min(values[:i]), values[i] - min(values[i + 1:]))

    inner = [i for i in range(1, len(values) - 1) if height(i) > 0]
    if inner:
        return max(inner, key=height)
    return max(range(len(values)), key=lambda i: values[i])


def _prominence(config: dict[str, Any], metric: str, side: float) -> float:
    """How far above a side the peak must stand: 3 error points, or (losses) 50 %."""
    return ERROR_PROMINENCE if metric == "test_error" else 0.5 * side


def summary_lines(analysis: dict[str, Any]) -> list[str]:
    """The console's lines under the results table."""
    return sentences(analysis)[1:3]


# ------------------------------------------------------------------ sentences


def sentences(analysis: dict[str, Any]) -> list[str]:
    if analysis["model"] == "linear":
        return linear_sentences(analysis)
    if analysis["model"] == "mlp":
        return mlp_sentences(analysis)
    return rf_sentences(analysis)


def _g(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def linear_sentences(a: dict[str, Any]) -> list[str]:
    curve, peak = a["curve"], a["peak"]
    by_features = a["sweep"] == "features"
    fit = ("minimum-norm least squares (the exact pseudo-inverse, no ridge)" if not a["ridge"]
           else f"ridge regression with λ = {a['ridge']:g}")
    swept = (f"n = {curve[0]['n']:,} training samples and p from {curve[0]['p']:,} to "
             f"{curve[-1]['p']:,} features" if by_features else
             f"p = {curve[0]['p']:,} features and n from {curve[-1]['n']:,} to "
             f"{curve[0]['n']:,} training samples")
    lines = [
        f"The linear model, {fit}, was fitted on isotropic Gaussian features: {swept} "
        f"(p/n from {_g(curve[0]['gamma'])} to {_g(curve[-1]['gamma'])}), ‖β‖² = "
        f"{a['signal']:g}, noise σ = {a['noise']:g}, {a['repeats']} draws per point. The risk "
        "is the excess test error ‖β̂ − β‖² (the expected squared error on a fresh point "
        "minus σ²).",
    ]
    where = (f"at the interpolation threshold p = n (p = {peak['p']:,}, n = {peak['n']:,})"
             if a["peak_at_threshold"] else
             f"at p/n = {_g(peak['gamma'])}, not at the interpolation threshold p = n")
    lines.append(f"The measured risk peaks {where}, where it is {peak['risk']:,.3g}.")
    second = a["second_descent"]
    if a["descends_again"]:
        more = ("adding parameters" if by_features else "removing samples")
        lines.append(f"Past the threshold it descends again: {more} lowers it to "
                     f"{second['risk']:.3g} at p/n = {_g(second['gamma'])} — the second "
                     "descent.")
    else:
        lines.append("The risk does not rise to a peak and fall again: there is no second "
                     "descent in this run.")
    gap = a["theory_worst_gap"]
    if gap is None:
        lines.append("No point lies far enough from the threshold (|p/n − 1| > 0.25) with "
                     "a finite exact risk to compare with theory.")
    else:
        at = a["theory_worst_at"]
        formula = ("the exact finite-n formula (σ²p/(n − p − 1) below the threshold, "
                   "r²(1 − n/p) + σ²n/(p − n − 1) above)")
        verdict = (f"is within {gap:.1%} of {formula} at all {a['theory_points']} points"
                   if gap <= 0.1 else
                   f"deviates from {formula} by up to {gap:.1%} (at p/n = {_g(at['gamma'])})")
        lines.append(f"Away from the threshold (|p/n − 1| > {THEORY_BAND}) the mean measured "
                     f"risk {verdict}; Hastie et al.'s asymptotic curve is drawn beside it.")
    first, last, inner = a["tuned_first"], a["tuned_last"], a["tuned_inner_max"]
    tuned_gap = a["tuned_worst_gap"]
    closeness = (f"within {tuned_gap:.1%} of" if tuned_gap <= 0.1
                 else f"up to {tuned_gap:.1%} away from")
    if a["tuned_has_peak"]:
        lines.append(f"Optimally tuned ridge (λ* = σ²γ/‖β‖²) still has a peak: "
                     f"{inner['tuned']:.3g} at p/n = {_g(inner['gamma'])}, above both ends; it "
                     f"is {closeness} its closed form σ²γ·m(−λ*).")
    else:
        lines.append(f"Optimally tuned ridge (λ* = σ²γ/‖β‖²) has no peak: its risk goes "
                     f"from {first['tuned']:.3g} at p/n = {_g(first['gamma'])} to "
                     f"{last['tuned']:.3g} at p/n = {_g(last['gamma'])} without rising above "
                     f"both ends, {closeness} its closed form σ²γ·m(−λ*) (Marchenko–Pastur).")
    lines.append(_linear_verdict(a))
    return lines


def _linear_verdict(a: dict[str, Any]) -> str:
    """What it means for the seed question, whichever way the numbers point."""
    if a["peak_at_threshold"] and a["descends_again"]:
        return ("So it is not having more parameters than observations that ruins a fit, "
                "but having about as many: the same interpolating estimator gets better again "
                "past p = n, and tuned regularization removes the peak altogether.")
    return ("Here the curve does not show the double-descent shape, so this run does not "
            "support the claim that interpolating past p = n recovers.")


def rf_sentences(a: dict[str, Any]) -> list[str]:
    peak, n = a["peak"], a["n_train"]
    what = "test error" if a["metric"] == "test_error" else "test loss"
    curve = a["curve"]
    fmt = _percent if a["metric"] == "test_error" else _number
    targets = "one-hot classes" if a["metric"] == "test_error" else "the targets"
    lines = [
        f"Minimum-norm regression on N random {a['kind']} features of {a['data']} "
        f"({n:,} training rows; squared loss on {targets}), "
        f"N from {curve[0]['width']:,} to {curve[-1]['width']:,}, {a['repeats']} draws each.",
    ]
    near = ("at the interpolation threshold N = n" if a["peak_near_threshold"]
            else f"far from the interpolation threshold N = n = {n:,}")
    lines.append(f"The {what} peaks at N = {peak['width']:,} (N/n = {a['peak_ratio']:.2f}), "
                 f"{near}, at {fmt(peak[a['metric']])}.")
    if a["right_min"] is not None and a["right_min"] < peak[a["metric"]]:
        lines.append(f"With more features it falls again, to {fmt(a['right_min'])}; the best "
                     f"below the threshold was {fmt(a['left_min'])}." if a["left_min"]
                     is not None else f"With more features it falls again, to "
                     f"{fmt(a['right_min'])}.")
    else:
        lines.append(f"With more features the {what} does not fall again.")
    return lines


def mlp_sentences(a: dict[str, Any]) -> list[str]:
    peak, n = a["peak"], a["n_train"]
    curve = a["curve"]
    lines = [
        f"Two-hidden-layer MLPs of widths {curve[0]['width']:,} to {curve[-1]['width']:,} were "
        f"trained on {a['data']} ({n:,} training examples, {a['label_noise']:.0%} of their "
        f"labels replaced once; {a['epochs']} epochs), all widths at once on the batched "
        "engine.",
    ]
    threshold = a["threshold"]
    if threshold is None:
        lines.append("No width reached zero training error: the sweep never crossed the "
                     "interpolation threshold (more epochs or wider networks).")
    else:
        params = next(pt["params"] for pt in curve if pt["width"] == threshold)
        lines.append(f"Training error first reaches zero at width {threshold:,} "
                     f"({params:,.0f} parameters for {n:,} labels): the interpolation "
                     "threshold.")
    left, right = a["left_min"], a["right_min"]
    sides = (f"{_points(peak['test_error'] - left)} above the best narrower network and "
             f"{_points(peak['test_error'] - right)} above the best wider one"
             if left is not None and right is not None else "at the end of the sweep")
    lines.append(f"Test error peaks at width {peak['width']:,} at {_percent(peak['test_error'])}"
                 f", {sides}.")
    if a["prominent"] and a["peak_near_threshold"]:
        lines.append(f"That is deep double descent: the test error rises to a peak within a "
                     f"factor {a['factor']:g} of the interpolation threshold and falls again "
                     "as the networks grow past it.")
    elif a["prominent"]:
        lines.append("The test error has a peak, but not near the interpolation threshold.")
    else:
        lines.append("The test error has no clear peak here: no double descent in this run.")
    return lines


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _points(value: float) -> str:
    return f"{100 * value:.1f} points"


def _number(value: float) -> str:
    return f"{value:.3g}"


# ------------------------------------------------------------------ figures, section


def report(store: RunStore, plots_dir: Path) -> Section:
    analysis = store.read_json("analysis.json")
    model = analysis["model"]
    if model == "linear":
        figure = linear_figure(analysis, plots_dir / "double-descent-linear-risk.png")
        title = f"Double descent: linear least squares ({analysis['sweep']} sweep)"
    else:
        figure = width_figure(analysis, plots_dir / f"double-descent-{model}-error.png")
        title = f"Double descent: {model.replace('-', ' ')} on {analysis['data']}"
    curve = analysis["curve"]
    columns = (("p", "n", "gamma", "risk", "theory", "asymptotic", "tuned", "tuned_theory")
               if model == "linear" else
               ("width", "params", "train_error", "test_error", "train_loss", "test_loss"))
    shown = curve if len(curve) <= 40 else curve[:: math.ceil(len(curve) / 40)]
    return Section(title, sentences(analysis), [figure],
                   [reporting.rows_table("Curve (means over repeats)", shown, columns)])


def linear_figure(a: dict[str, Any], path: Path) -> Path:
    """Risk against p/n (log axis): measurement, both theories, the line p = n, tuned ridge."""
    curve = a["curve"]
    signal, noise_var = a["signal"], a["noise"] ** 2
    fig, ax = plots.figure()
    gammas = [pt["gamma"] for pt in curve]
    fitted = "min-norm" if not a["ridge"] else f"ridge λ = {a['ridge']:g}"
    ax.plot(gammas, [pt["risk"] for pt in curve], "o", ms=3.5, color="#1f4fb4",
            label=f"measured ({fitted})")
    if not a["ridge"]:
        fixed = curve[0]["n"] if a["sweep"] == "features" else curve[0]["p"]
        sizes = np.unique(np.geomspace(min(min(pt["p"], pt["n"]) for pt in curve),
                                       max(max(pt["p"], pt["n"]) for pt in curve),
                                       600).round().astype(int))
        exact = []
        for k in sizes:
            p, n = (int(k), fixed) if a["sweep"] == "features" else (fixed, int(k))
            exact.append((p / n, dd_theory.finite_risk(p, n, signal, noise_var)))
        below = [(g, r) for g, r in exact if r is not None and g < 1]
        above = [(g, r) for g, r in exact if r is not None and g > 1]
        for part, label in ((below, "exact finite-n risk"), (above, None)):
            if part:
                ax.plot(*zip(*part, strict=True), color="#e08a2c", lw=1.6, label=label)
    dense = np.geomspace(gammas[0], gammas[-1], 800)
    asym = [(g, dd_theory.asymptotic_ridge_risk(float(g), a["ridge"], signal, noise_var))
            for g in dense if abs(g - 1) > 1e-3]
    for side, label in ((lambda g: g < 1, "asymptotic (Hastie et al.)"), (lambda g: g > 1, None)):
        part = [(g, r) for g, r in asym if side(g) and r is not None]
        if part:
            ax.plot(*zip(*part, strict=True), color="#444", ls="--", lw=1.2, label=label)
    ax.plot(gammas, [pt["tuned"] for pt in curve], "s", ms=3, color="#2a9d5a",
            label="optimally tuned ridge, measured")
    ax.plot(dense, [dd_theory.optimal_ridge_risk(float(g), signal, noise_var) for g in dense],
            color="#2a9d5a", lw=1.2, label="optimally tuned ridge, closed form")
    ax.axvline(1.0, color="crimson", ls=":", label="p = n (interpolation threshold)")
    ax.set_xscale("log")
    top = 3 * max(signal + noise_var, max(pt["tuned"] for pt in curve))
    ax.set_ylim(0, top)
    ax.set_xlabel("p / n (log scale)")
    ax.set_ylabel("risk ‖β̂ − β‖²")
    sweep = "more features, fixed n" if a["sweep"] == "features" else "fewer samples, fixed p"
    ax.set_title(f"Linear double descent ({sweep})")
    ax.legend(fontsize=8, loc="upper left")
    return plots.save(fig, path)


def width_figure(a: dict[str, Any], path: Path) -> Path:
    """Train and test error (or loss) against width, the interpolation threshold marked."""
    curve = a["curve"]
    widths = [pt["width"] for pt in curve]
    classes = a["metric"] == "test_error"
    fig, ax = plots.figure()
    for split, style in (("train", "v--"), ("test", "o-")):
        key = f"{split}_error" if classes else f"{split}_loss"
        values = [pt[key] * (100 if classes else 1) for pt in curve]
        ax.plot(widths, values, style, ms=4, label=f"{split} {'error' if classes else 'loss'}")
    if a["threshold"]:
        label = ("interpolation threshold (train error 0)" if a["model"] == "mlp"
                 else "features = training rows")
        ax.axvline(a["threshold"], color="crimson", ls=":", label=label)
    ax.set_xscale("log")
    if not classes:
        ax.set_yscale("log")
    ax.set_xlabel("hidden width of both layers (log scale)" if a["model"] == "mlp"
                  else "random features N (log scale)")
    ax.set_ylabel("error (%)" if classes else "squared loss (log scale)")
    ax.set_title(f"Double descent: {a['model']} on {a['data']}")
    ax.legend(fontsize=8)
    return plots.save(fig, path)
