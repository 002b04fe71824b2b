"""The answer a demo (or any run folder) page opens with: the seed question and three to
five claims computed from the runs it holds, each linked to the section that shows it.
``paramlab why`` pages open with :func:`paramlab.lab.report.why.answer` instead.
"""

from __future__ import annotations

from typing import Any

from paramlab.lab.experiments.generalization_bound import GeneralizationBoundAnalysis
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionAnalysis
from paramlab.lab.experiments.refit import RefitAnalysis
from paramlab.lab.report import numbers, sweep
from paramlab.lab.report import why as why_report
from paramlab.lab.report.section import Answer, Claim, Section
from paramlab.lab.runner import Row

SEED_QUESTION = ("How can a network fit more parameters than it has observations — two "
                 "million from 13,000 — and why does it still generalize?")


def demo_answer(sections: dict[str, Section], analyses: dict[str, Any],
                rows: dict[str, list[Row]]) -> Answer:
    """Claims from whichever runs are present (keyed by experiment name); a run that is
    absent adds no claim. Studies other than the sweep, refit, effective dimension,
    intrinsic dimension and the bound contribute their section's own one-line finding."""
    claims: list[Claim] = []
    swept = rows.get("sweep")
    if swept:
        claims += [Claim(count_claim(swept), sections["sweep"].anchor),
                   Claim(fit_claim(swept), sections["sweep"].anchor)]
    refit = analyses.get("refit")
    if isinstance(refit, RefitAnalysis):
        claims.append(Claim(why_report.weights_claim(refit), sections["refit"].anchor))
    spectra = rows.get("effective-dimension")
    if spectra:
        largest = max(spectra, key=lambda r: r["params"])
        claims.append(Claim(why_report.directions_claim(largest),
                            sections["effective-dimension"].anchor))
    claims += _subspace_claims(sections, analyses)
    own = ("sweep", "refit", "effective-dimension", "intrinsic-dimension",
           "generalization-bound")
    for name, section in sections.items():
        if len(claims) >= 5:
            break
        if name not in own:
            claims.append(Claim(section.headline, section.anchor))
    return Answer(SEED_QUESTION, tuple(claims))


def _subspace_claims(sections: dict[str, Section], analyses: dict[str, Any]) -> list[Claim]:
    """The intrinsic dimension (of true labels; a shuffled-only run adds its headline) and
    the certified bound, in the words ``why`` uses."""
    claims = []
    intrinsic = analyses.get("intrinsic-dimension")
    if isinstance(intrinsic, IntrinsicDimensionAnalysis):
        text = (why_report.intrinsic_claim(intrinsic) if "true" in intrinsic.d_int90
                else sections["intrinsic-dimension"].headline)
        claims.append(Claim(text, sections["intrinsic-dimension"].anchor))
    bound = analyses.get("generalization-bound")
    if isinstance(bound, GeneralizationBoundAnalysis):
        claims.append(Claim(why_report.bound_claim(bound),
                            sections["generalization-bound"].anchor))
    return claims


def count_claim(rows: list[Row]) -> str:
    """How many parameters per observation the largest network of the sweep has."""
    largest = max(rows, key=lambda r: r["params"])
    n = largest["observations"]
    over = sum(r["params"] > n for r in rows)
    return (f"The largest network here, {largest['spec']}, has {largest['params']:,} "
            f"parameters for {n:,} training observations — "
            f"{numbers.number(largest['params'] / n)} per observation; {over} of the "
            f"{len(rows)} networks swept have more parameters than observations.")


def fit_claim(rows: list[Row]) -> str:
    """Whether the over-parameterized networks fit and generalize, from the medians."""
    pair = sweep.medians(rows)
    largest = max(rows, key=lambda r: r["params"])
    head = (f"It fits its training data to loss {numbers.number(largest['train_loss'])} and "
            f"reaches validation loss {numbers.number(largest['val_loss'])}")
    if pair is None:
        return head + "."
    over, under = (numbers.number(v) for v in pair)
    if pair[0] <= pair[1]:
        return head + (f"; the networks with more parameters than observations generalize no "
                       f"worse than the others (median validation loss {over} against "
                       f"{under}).")
    return head + (f"; in this run the networks with more parameters than observations "
                   f"generalize worse than the others (median validation loss {over} against "
                   f"{under}).")
