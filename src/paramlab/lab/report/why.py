"""The report of ``paramlab why``: the count section, the missing studies, and the page's
answer — for the user's network and data — computed from the typed analyses of the stages
that ran (:mod:`paramlab.lab.why` runs them; this module only reads what they stored).

Every sentence says no more than its number shows: a lower bound is called a lower bound, a
study that did not run is named as missing, never filled in.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.fields import from_dict
from paramlab.lab.experiments.generalization_bound import GeneralizationBoundAnalysis
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionAnalysis
from paramlab.lab.experiments.refit import RefitAnalysis
from paramlab.lab.report import numbers
from paramlab.lab.report import refit as refit_report
from paramlab.lab.report.section import Answer, Claim, Section
from paramlab.lab.runner import Row

RECORD = "why.json"  # in the why folder: what was asked, counted, calibrated and scaled
QUESTION = ("How can this network fit {params} parameters from {n} observations, and why "
            "does it still generalize?")


@dataclass(frozen=True)
class LayerCount:
    """One Dense layer of the count: its name, formula and parameters."""

    name: str
    formula: str
    params: int


@dataclass(frozen=True)
class StageRecord:
    """One study of the why run: ran (its folder) or missing (and why)."""

    experiment: str
    question: str  # what it answers, in words
    status: str  # "ran" | "missing"
    estimate_seconds: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class WhyRecord:
    """``why.json``: the request, the exact count, the calibration and what the budget
    scaled, so the report (and a resumed run) read the same facts."""

    spec: str  # as the user gave it
    mlp: str  # the MLP shorthand trained
    activation: str
    params: int
    observations: int
    data: str
    task: str
    layers: tuple[LayerCount, ...]
    budget_minutes: float
    epoch_seconds: float  # one model, one epoch, measured on a subset and scaled
    hvp_seconds: float  # one Hessian-vector product over the training rows, likewise
    scaled: tuple[str, ...]  # what the budget changed, in words
    notes: tuple[str, ...]  # what was assumed or ignored (shown on the page)
    stages: tuple[StageRecord, ...]
    configs: dict[str, dict[str, Any]]  # each stage's config, as run (resume reuses it)
    request: dict[str, Any]  # the WhyConfig asked for: a resume must ask the same

    @classmethod
    def read(cls, run_dir: Path) -> WhyRecord | None:
        import json

        path = run_dir / RECORD
        if not path.exists():
            return None
        return from_dict(cls, json.loads(path.read_text(encoding="utf-8")), f" in {path}")


# ------------------------------------------------------------------ sections


def count_section(record: WhyRecord) -> Section:
    """The exact count, layer by layer with its formula, and parameters per observation."""
    ratio = record.params / record.observations
    rows = "".join(f"<tr><td>{html.escape(layer.name)}</td><td>{html.escape(layer.formula)}"
                   f"</td><td class=n>{layer.params:,}</td></tr>" for layer in record.layers)
    table = ("<table><tr><th>layer</th><th>formula</th><th>parameters</th></tr>"
             f"{rows}<tr><th colspan=2>total</th><th class=n>{record.params:,}</th></tr>"
             "</table>")
    sentences = [count_sentence(record),
                 f"Trained as the MLP {record.mlp} with {record.activation} hidden units on "
                 f"{record.data} ({record.task}).", *record.notes]
    return Section(f"The count: {record.mlp}", sentences, [], [table],
                   f"{record.params:,} parameters for {record.observations:,} training "
                   f"observations: {numbers.number(ratio)} per observation.")


def count_sentence(record: WhyRecord) -> str:
    """Why the count is what it is: each Dense layer's (inputs + 1) × units, summed."""
    ratio = record.params / record.observations
    more = "more" if record.params > record.observations else "fewer"
    terms = " + ".join(f"{layer.params:,}" for layer in record.layers)
    return (f"{record.spec} has exactly {record.params:,} parameters: each Dense layer has "
            f"one weight per input–unit pair plus one bias per unit, (inputs + 1) × units, "
            f"and the layers add up to {terms} = {record.params:,}. That is "
            f"{numbers.number(ratio)} per training observation — {more} parameters than "
            f"observations.")


def missing_section(record: WhyRecord) -> Section | None:
    """The studies that did not run, each named with what it would answer."""
    missing = [s for s in record.stages if s.status != "ran"]
    if not missing:
        return None
    lines = [f"{s.experiment}: {s.question} — not measured ({s.reason})." for s in missing]
    return Section("Not measured in this run", lines, [], [],
                   f"{len(missing)} of the studies this page would draw on did not run: "
                   f"{', '.join(s.experiment for s in missing)}.")


def budget_section(record: WhyRecord) -> Section:
    """What the calibration measured and what the budget scaled."""
    lines = [f"Calibration: one epoch of {record.mlp} over the {record.observations:,} "
             f"training rows ≈ {numbers.number(record.epoch_seconds)} s; one Hessian-vector "
             f"product ≈ {numbers.number(record.hvp_seconds)} s."]
    lines += [f"Scaled to fit {numbers.number(record.budget_minutes)} minutes: {s}."
              for s in record.scaled] or ["Nothing was scaled: every study fits the budget "
                                          "at its full settings."]
    for stage in record.stages:
        if stage.status == "ran" and stage.estimate_seconds is not None:
            lines.append(f"{stage.experiment}: estimated "
                         f"{numbers.number(stage.estimate_seconds, 2)} s.")
    finding = (f"To fit {numbers.number(record.budget_minutes)} minutes: "
               f"{'; '.join(record.scaled)}." if record.scaled else
               f"Every study ran at its full settings within "
               f"{numbers.number(record.budget_minutes)} minutes.")
    return Section("Budget", lines, [], [], finding)


# ------------------------------------------------------------------ the answer


def answer(record: WhyRecord, sections: dict[str, Section], analyses: dict[str, Any],
           rows: dict[str, list[Row]]) -> Answer:
    """The page's opening: three to five claims for this network and these data, each from
    a number on the page and linked to the section that shows it. ``sections``,
    ``analyses`` and ``rows`` are keyed by experiment name ("count" and "missing" for this
    module's own sections)."""
    claims = [Claim(count_sentence(record), sections["count"].anchor)]
    refit = analyses.get("refit")
    if isinstance(refit, RefitAnalysis):
        claims.append(Claim(weights_claim(refit), sections["refit"].anchor))
    bound = analyses.get("generalization-bound")
    if isinstance(bound, GeneralizationBoundAnalysis):  # measured, then certified: one claim
        measured = (generalization_claim(rows["refit"], record.task) + " "
                    if isinstance(refit, RefitAnalysis) else "")
        claims.append(Claim(measured + bound_claim(bound),
                            sections["generalization-bound"].anchor))
    elif isinstance(refit, RefitAnalysis):
        claims.append(Claim(generalization_claim(rows["refit"], record.task),
                            sections["refit"].anchor))
    claims += _directions(sections, analyses, rows)
    missing = [s.experiment for s in record.stages if s.status != "ran"]
    if missing and "missing" in sections:
        none = (" (no test-error bound is certified)" if "generalization-bound" in missing
                else "")
        claims.append(Claim(f"Not measured here: {_names(missing)} — so this page makes no "
                            f"claim about what they would show{none}.",
                            sections["missing"].anchor))
    question = QUESTION.format(params=f"{record.params:,}", n=f"{record.observations:,}")
    return Answer(question, tuple(claims))


def _directions(sections: dict[str, Section], analyses: dict[str, Any],
                rows: dict[str, list[Row]]) -> list[Claim]:
    """How many directions the data determine and how many the task needs: one claim (the
    side-by-side section's when the page has it), so the answer stays at five at most."""
    spectra = rows.get("effective-dimension")
    intrinsic = analyses.get("intrinsic-dimension")
    parts = [directions_claim(spectra[-1])] if spectra else []
    if isinstance(intrinsic, IntrinsicDimensionAnalysis):
        parts.append(intrinsic_claim(intrinsic))
    if not parts:
        return []
    anchor = next(sections[k].anchor for k in ("capacity", "effective-dimension",
                                               "intrinsic-dimension") if k in sections)
    return [Claim(" ".join(parts), anchor)]


def intrinsic_claim(analysis: IntrinsicDimensionAnalysis) -> str:
    """How many directions the task needs (d_int90 of the true labels, Li et al. 2018),
    against the raw count; no number when the grid did not reach it or the baseline is not
    positive. The run must have measured true labels (``why`` always does)."""
    result = next(r for r in analysis.results if r.labels == "true")
    D = f"{analysis.params:,}"
    measure = result.measure + (" (R² = 1 − MSE / variance of the targets)"
                                if "R²" in result.measure else "")
    if result.note:
        return f"How many directions the task needs is not measured: {result.note}."
    if result.d_int90 is None:
        return (f"No random subspace on the grid (d up to {max(analysis.dims):,}) reaches "
                f"90% of the full network's {measure} of {numbers.number(result.full_performance)}"
                f": this run does not show the task needing fewer directions than that, of "
                f"the {D}.")
    seeds = ("" if result.seed_min == result.seed_max or result.seed_min is None else
             f", {result.seed_min:,}–{result.seed_max:,} across seeds")
    below = f"; the grid point below, {result.below:,}, does not" if result.below else ""
    return (f"The task needs about {result.d_int90:,} directions of the {D}: training only "
            f"{result.d_int90:,} random directions of weight space reaches 90% of the full "
            f"network's {measure} of {numbers.number(result.full_performance)} (d_int90, Li "
            f"et al. 2018{seeds}{below}).")


def bound_claim(analysis: GeneralizationBoundAnalysis) -> str:
    """The certified test-error bound (Occam / kl-inverse over the quantized subspace model,
    Lotfi et al. 2022), called vacuous when it is not below the trivial bound."""
    loss = "test error (the fraction of test points misclassified)"
    if analysis.tau is not None:
        loss = (f"test τ-error (the fraction of test points with |ŷ − y| > τ = "
                f"{numbers.number(analysis.tau)}, half the training target's standard "
                "deviation)")
    certified = (f"With probability ≥ {numbers.percent(1 - analysis.delta)} over the draw of "
                 f"the {analysis.n_train:,} training rows, the quantized network (d = "
                 f"{analysis.d:,}, {analysis.levels} levels, "
                 f"{numbers.number(analysis.message_bits)} bits) has {loss} at most "
                 f"{numbers.percent(analysis.bound)}")
    measured = (f"measured: {numbers.percent(analysis.test_error)} ± "
                f"{numbers.percent(analysis.test_sampling_error)}")
    trivial = f"{numbers.percent(analysis.trivial)} of {analysis.trivial_name}"
    if analysis.vacuous:
        return (f"No useful test-error bound is certified here: {certified[0].lower()}"
                f"{certified[1:]} ({measured}), not below the trivial {trivial} — vacuous.")
    over = (", although the parameters outnumber the training rows"
            if analysis.params > analysis.n_train else "")
    return (f"{certified} ({measured}) — below the trivial {trivial}: a certified, "
            f"non-vacuous bound{over}.")


def weights_claim(analysis: RefitAnalysis) -> str:
    """Why the data cannot pin every weight — or that here they do, as the refits say."""
    spread = numbers.percent(analysis.val_loss_spread)
    raw, aligned = (numbers.percent(analysis.weight_distance),
                    numbers.percent(analysis.aligned_distance))
    outcome = refit_report.verdict(analysis)
    if outcome == "apart":
        return (f"The data cannot pin every weight: {len(analysis.val_losses)} refits from "
                f"different seeds reach validation losses within {spread} of each other, yet "
                f"their weights are {raw} apart ({aligned} after matching hidden units) while "
                f"their test predictions differ by only "
                f"{numbers.percent(analysis.prediction_difference)} of the targets' spread — "
                "many different weight settings give the same predictions.")
    if outcome == "pinned":
        return (f"Here the data do pin the weights down: refits reach validation losses within "
                f"{spread} and, after matching hidden units, land only {aligned} apart.")
    return (f"The refits do not agree on the loss (validation losses spread by {spread}), so "
            "training has not converged to equally good solutions and how far apart their "
            f"weights land ({aligned} after matching units) says little yet.")


def generalization_claim(rows: Sequence[Row], task: str) -> str:
    """What held-out rows say about the refits, as measured — an estimate, never a bound.
    Regression targets are standardized on the training rows, so predicting their mean
    scores a loss of about 1: the validation loss reads against that."""
    train = sum(r["train_loss"] for r in rows) / len(rows)
    val = sum(r["val_loss"] for r in rows) / len(rows)
    head = (f"On rows it never trained on, the network reaches mean validation loss "
            f"{numbers.number(val)} (training loss {numbers.number(train)})")
    tail = " — measured on held-out rows, an estimate, not a guarantee."
    if task == "classification":
        accuracy = sum(r["val_metric"] or 0.0 for r in rows) / len(rows)
        return head + f" and validation accuracy {numbers.percent(accuracy)}" + tail
    if val < 0.5:
        return head + (f": it explains about {numbers.percent(1 - val)} of the variance of "
                       "unseen targets, so the fit carries over to new data" + tail)
    return head + (": little better than predicting the training mean (loss ≈ 1 on these "
                   "standardized targets), so the evidence for generalization is weak" + tail)


def directions_claim(row: Row) -> str:
    """How many directions the data determine (Hessian N_eff), a bound called a bound."""
    params, value, z = row["params"], row["n_eff"], row["z"]
    share = numbers.percent(value / params)
    if row["n_eff_method"] == "top-k lower bound":
        return (f"The Hessian at the solution curves at least {numbers.number(value)} of the "
                f"{params:,} parameter directions (N_eff({z:g}), a lower bound from its top "
                f"{row['eigenvalues_computed']} eigenvalues: {share} at least); how flat the "
                "rest is, this run does not say.")
    approx = "=" if row["n_eff_method"] == "exact" else "≈"
    if value / params < 0.5:
        return (f"The data determine only N_eff({z:g}) {approx} {numbers.number(value)} of "
                f"the {params:,} parameter directions ({share}); along the rest the loss is "
                "flat, so those weights are free to differ between equally good fits.")
    return (f"The data curve the loss along most parameter directions: N_eff({z:g}) {approx} "
            f"{numbers.number(value)} of {params:,} ({share}).")


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
