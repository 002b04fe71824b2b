"""The report's answer to the seed question for one network on one data set: "How many
parameters does the data actually use?" — the raw count and the observations beside every
measure of capacity a demo folder holds:

* N_eff, the Hessian's effective dimensionality (``effective-dimension``; Maddox et al. 2020);
* d_int90, the intrinsic dimension (``intrinsic-dimension``; Li et al., ICLR 2018);
* the fraction of weights a rewound ticket keeps within a point of the dense accuracy
  (``prune``; Frankle & Carbin, ICLR 2019);
* the bits that code the quantized subspace model, and the test error certified with them
  (``generalization-bound``; Lotfi et al., NeurIPS 2022).

A report-level section, first on the page when the folder holds at least two of these runs.
The intrinsic dimension and the bound are read through their typed analyses
(``experiment.read_analysis``), N_eff from its rows, prune by its ``analysis.json`` keys; a
study that did not run is named as missing, never guessed. Every sentence is computed from
the numbers and says the opposite when they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from paramlab.errors import ParamlabError
from paramlab.lab.experiments import get
from paramlab.lab.experiments.generalization_bound import GeneralizationBoundAnalysis
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.store import RunStore

A = TypeVar("A")
STUDIES = ("effective-dimension", "intrinsic-dimension", "prune", "generalization-bound")
MIN_RUNS = 2  # the section appears when the folder holds at least this many of STUDIES


@dataclass(frozen=True)
class Measure:
    """One study's count of what the data use, in parameters (directions, weights or
    bits), with the network and data it was measured on."""

    study: str
    short: str  # the plot's label
    name: str  # what the number is, in words
    value: float | None  # None: the study ran but reached no value (said in `note`)
    network: str
    data: str
    note: str = ""


@dataclass(frozen=True)
class Capacity:
    """The side-by-side numbers of one folder."""

    network: str
    data: str
    params: int
    observations: int
    measures: tuple[Measure, ...]
    missing: tuple[str, ...]
    bound: GeneralizationBoundAnalysis | None = None
    same: bool = True  # every run measured the same network on the same data
    runs: tuple[tuple[str, str, str], ...] = field(default=())  # (study, network, data)


def capacity_runs(stores: Sequence[RunStore]) -> dict[str, RunStore]:
    """The runs of ``stores`` that measure capacity, one per study: where a study ran more
    than once (the demo's effective-dimension width sweep beside its run on the shared
    network), the run of the network most studies measured."""
    found: dict[str, list[RunStore]] = {}
    for store in stores:
        if store.experiment in STUDIES:
            found.setdefault(store.experiment, []).append(store)
    target = _target({study: _network_and_data(runs[0]) for study, runs in found.items()})
    return {study: next((s for s in runs if _network_and_data(s)[0] == target), runs[0])
            for study, runs in found.items()}


def section(stores: Sequence[RunStore], plots_dir: Path) -> Section | None:
    """The section, or None when the folder holds fewer than two of the studies."""
    runs = capacity_runs(stores)
    if len(runs) < MIN_RUNS:
        return None
    capacity = read_capacity(runs)
    rows = [{"measure": m.name, "study": m.study,
             "value": None if m.value is None else round(m.value),
             "share of raw count": None if m.value is None else m.value / capacity.params,
             "per observation": None if m.value is None else m.value / capacity.observations}
            for m in capacity.measures]
    return Section(
        "How many parameters the data actually use",
        capacity_sentences(capacity),
        [plot_capacity(capacity, plots_dir / "capacity.png")],
        [tables.rows_table("Side by side", rows, list(rows[0]) if rows else ["measure"])])


# ------------------------------------------------------------------ reading the runs


def _network_and_data(store: RunStore) -> tuple[str, str]:
    config = store.config()
    data = config.get("data") or {}
    name = str(data.get("data", "?"))
    if data.get("n_samples"):
        name += f" ({data['n_samples']:,} samples)"
    return str(config.get("spec", "?")), name


def _analysis(store: RunStore) -> dict[str, Any]:
    path = store.path / "analysis.json"
    return dict(store.read_json("analysis.json")) if path.exists() else {}


def read_capacity(runs: dict[str, RunStore]) -> Capacity:
    """Each study's measure, the network and data they were taken on."""
    from paramlab import count

    where = {study: _network_and_data(store) for study, store in runs.items()}
    target = _target(where)
    measures: list[Measure] = []
    observations: list[int] = []
    for study, store in runs.items():
        read = _READERS[study](store, _analysis(store), target)
        if read is None:
            continue
        (short, name, value, note), seen, chosen = read
        network, data = where[study]
        where[study] = (chosen or network, data)
        measures.append(Measure(study, short, name, value, chosen or network, data, note))
        observations += [seen] if seen else []
    runs_seen = tuple((s, n, d) for s, (n, d) in where.items())
    same = len({n for _, n, _ in runs_seen}) == 1 and len({d for _, _, d in runs_seen}) == 1
    try:
        params = count(target, other_convention=False).total
    except ParamlabError:  # a spec the counter cannot read: the sentences say so
        params = 0
    bound = (_typed(runs["generalization-bound"], GeneralizationBoundAnalysis)
             if "generalization-bound" in runs else None)
    data = next((d for n, d in where.values() if n == target), where[next(iter(runs))][1])
    return Capacity(target, data, params,
                    observations[0] if observations else 0, tuple(measures),
                    tuple(s for s in STUDIES if s not in runs), bound, same, runs_seen)


# (short, name, value, note), the observations it was measured on, the network if the run
# chose one of several
Read = tuple[tuple[str, str, float | None, str], int | None, str | None] | None


def _effective(store: RunStore, analysis: dict[str, Any], target: str) -> Read:
    """N_eff of the target network (mean over seeds), else of the largest one measured."""
    rows = [r for r in store.rows() if r.get("n_eff") is not None]
    chosen = [r for r in rows if r.get("spec") == target] or rows
    if not chosen:
        return None
    best = max(chosen, key=lambda r: r["params"])
    n_effs = [r["n_eff"] for r in chosen if r["spec"] == best["spec"]]
    return (("N_eff", f"N_eff (Hessian effective dimensionality, z = {best['z']:g})",
             sum(n_effs) / len(n_effs), ""), int(best["observations"]), best["spec"])


def _typed(store: RunStore, kind: type[A]) -> A | None:
    """The run's typed analysis, or None when it has not been analysed yet."""
    if not (store.path / "analysis.json").exists():
        return None
    analysis = get(store.experiment).read_analysis(store)
    return analysis if isinstance(analysis, kind) else None


def _intrinsic(store: RunStore, analysis: dict[str, Any], target: str) -> Read:
    typed = _typed(store, IntrinsicDimensionAnalysis)
    if typed is None:
        return None
    true = next((r for r in typed.results if r.labels == "true"), None)
    if true is None:
        return None  # a shuffled-labels-only run measures memorizing, not the task
    note = true.note or "no d on the grid reached 90 % of the full model"
    return ((("d_int90", f"d_int90 (random-subspace directions reaching 90 % of the full "
              f"model's {true.measure}, true labels)", true.d_int90,
              "" if true.d_int90 is not None else note), typed.observations, None))


def _pruned(store: RunStore, analysis: dict[str, Any], target: str) -> Read:
    kept, weights = analysis.get("kept_fraction"), analysis.get("weights", 0)
    note = "" if kept is not None else "no pruned ticket matched the dense accuracy"
    return (("pruned: weights kept", f"Weights a rewound ticket keeps within "
             f"{analysis.get('within', 1):g} point of the dense accuracy",
             None if kept is None else kept * weights, note),
            analysis.get("observations"), None)


def _bound(store: RunStore, analysis: dict[str, Any], target: str) -> Read:
    typed = _typed(store, GeneralizationBoundAnalysis)
    if typed is None:
        return None
    return (("bound: message bits", "Bits coding the quantized subspace model (message "
             "length)", typed.message_bits, ""), typed.n_train, None)


_READERS = {"effective-dimension": _effective, "intrinsic-dimension": _intrinsic,
            "prune": _pruned, "generalization-bound": _bound}


def _target(where: dict[str, tuple[str, str]]) -> str:
    """The network the section is about: the one most studies measured (prune, intrinsic
    dimension and the bound name one spec; effective dimension may sweep widths)."""
    specs = [n for s, (n, _) in where.items() if s != "effective-dimension" and n != "?"]
    if not specs:
        return where.get("effective-dimension", ("?", ""))[0]
    return max(set(specs), key=specs.count)


# ------------------------------------------------------------------ sentences


def capacity_sentences(c: Capacity) -> list[str]:
    """The raw count and the observations, each measure against both, the bound, what is
    missing — each computed, each able to say the opposite."""
    lines = [_count_sentence(c)]
    lines += [_measure_sentence(c, m) for m in c.measures]
    if c.bound is not None:
        lines.append(_bound_sentence(c.bound))
    lines.append(_summary_sentence(c))
    if not c.same:
        lines.append("These runs did not all measure the same network on the same data ("
                     + "; ".join(f"{s}: {n} on {d}" for s, n, d in c.runs)
                     + "): the numbers sit side by side, but they describe different fits.")
    if c.missing:
        which = "their measures are" if len(c.missing) > 1 else "its measure is"
        lines.append(f"Not run in this folder: {', '.join(c.missing)} — {which} "
                     f"missing here (run `paramlab run NAME {c.network} --data …` into the "
                     "same folder to add it).")
    return lines


def _count_sentence(c: Capacity) -> str:
    if not c.params or not c.observations:
        return (f"{c.network} on {c.data}: the raw parameter count or the number of "
                "observations could not be read from these runs, so the shares below are "
                "not computed against them.")
    ratio = c.params / c.observations
    compare = (f"{ratio:,.1f} parameters per observation" if ratio >= 1 else
               f"fewer parameters than observations ({ratio:.2f} per observation)")
    return (f"{c.network} on {c.data} has {c.params:,} parameters for {c.observations:,} "
            f"training observations: {compare}.")


def _measure_sentence(c: Capacity, m: Measure) -> str:
    if m.value is None:
        return f"{m.name}: not reached ({m.note})."
    if m.study == "generalization-bound":  # bits, not parameters: rates, not shares
        rates = [f"{m.value / n:,.3g} bits per {what}" for n, what in
                 ((c.params, "raw parameter"), (c.observations, "observation")) if n]
        return f"{m.name}: {m.value:,.0f} bits — {', '.join(rates)}."
    share = f"{m.value / c.params:.2%} of the raw count" if c.params else "(raw count unknown)"
    if not c.observations:
        side = ""
    elif m.value < c.observations:
        side = f", fewer than the {c.observations:,} observations"
    else:
        side = f", no fewer than the {c.observations:,} observations"
    return f"{m.name}: {m.value:,.0f} — {share}{side}."


def _bound_sentence(bound: GeneralizationBoundAnalysis) -> str:
    loss = ("the fraction of test points it gets wrong" if bound.tau is None else
            f"the fraction of test points with |ŷ − y| > τ = {bound.tau:.3g}")
    head = (f"With probability at least {1 - bound.delta:.0%} over the draw of the training "
            f"set, the quantized model's test {bound.loss} ({loss}, a loss in [0, 1]) is at "
            f"most {bound.bound:.1%}; measured: {bound.test_error:.1%}")
    if bound.n_prior:
        head += (f" (a data-dependent prior: the network first trained on {bound.n_prior:,} "
                 f"rows; the bound is over the other {bound.n_train:,})")
    trivial = f"the trivial {bound.trivial:.1%} of {bound.trivial_name}"
    if not bound.vacuous:
        return head + (f" — below {trivial}: a non-vacuous certificate although the "
                       "parameters outnumber the observations."
                       if bound.params > bound.n_train else
                       f" — below {trivial}: a non-vacuous certificate.")
    return head + f" — not below {trivial}: vacuous here."


def _summary_sentence(c: Capacity) -> str:
    reached = [m for m in c.measures if m.value is not None and m.study != "generalization-bound"]
    if not reached or not c.params:
        return "No measure of capacity reached a value to compare with the raw count."
    below_obs = [m for m in reached if c.observations and m.value is not None
                 and m.value < c.observations]
    names = ", ".join(m.short for m in below_obs)
    if len(below_obs) == len(reached):
        raw = ("although the raw count exceeds them" if c.params > c.observations
               else "as the raw count does")
        return (f"Every measure ({len(reached)}) counts fewer than the {c.observations:,} "
                f"observations, {raw}: the fit uses far fewer directions than the network "
                "has.")
    if below_obs:
        return (f"{len(below_obs)} of {len(reached)} measures ({names}) count fewer than the "
                f"{c.observations:,} observations; the others do not: the measures disagree "
                "about whether this fit uses fewer parameters than it has data.")
    return (f"No measure counts fewer than the {c.observations:,} observations: by every "
            "measure here the fit uses at least as many parameters as it has data.")


def plot_capacity(c: Capacity, path: Path) -> Path:
    """One bar per number (log axis): raw count, observations, then each measure."""
    fig, ax = plots.figure(height=4.2)
    labels = ["raw parameters", "observations"]
    values = [float(c.params), float(c.observations)]
    colors = ["#888", "crimson"]
    for m in c.measures:
        if m.value is not None and m.value > 0:
            labels.append(m.short)
            values.append(float(m.value))
            colors.append("#4a6fd0")
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(values)), labels, fontsize=7, rotation=15)
    ax.set_yscale("log")
    ax.set_ylabel("count (log scale)")
    ax.set_title(f"How many parameters the data use: {c.network}")
    return plots.save(fig, path)
