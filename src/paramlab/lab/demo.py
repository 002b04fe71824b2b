"""``paramlab demo``: the seed scenario end to end on the CPU in a few minutes.

1. A sweep of random MLPs on the 13,000 × 40 synthetic regression, widths up to 1,024 and up
   to three hidden layers — from a few hundred to about two million parameters, i.e. from
   far fewer to ~160 times more parameters than observations.
2. Refits of the largest architecture from four seeds.
3. The report, whose path is returned.
"""

from __future__ import annotations

import json
from pathlib import Path

from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments import refit, sweep
from paramlab.lab.experiments.common import DataConfig


def demo(out: Path, *, quick: bool = False, quiet: bool = False, device: str = "cpu") -> Path:
    from paramlab.lab.cli import _print_results, _progress, _save_refit_analysis
    from paramlab.lab.report import build_report

    data = DataConfig("synthetic", n_samples=800 if quick else None)
    train = TrainConfig(epochs=2 if quick else 8, batch_size=64, device=device)
    sweep_config = sweep.SweepConfig(data, train, models=4 if quick else 24, depth=(1, 3),
                                     width=(4, 64) if quick else (8, 1024), seed=0)
    with _progress(quiet, "demo: sweep") as progress:
        swept = sweep.run(sweep_config, out / "sweep", progress)
    if not quiet:
        _print_results(swept, as_json=False)
    largest = max(swept.store.rows(), key=lambda r: r["params"])["spec"]
    refit_config = refit.RefitConfig(largest, 3 if quick else 4, data, train, seed=1000)
    with _progress(quiet, "demo: refits") as progress:
        refitted = refit.run(refit_config, out / "refit", progress)
    analysis = _save_refit_analysis(refitted)
    if not quiet:
        _print_results(refitted, as_json=False, analysis=analysis)
    (out / "demo.json").write_text(json.dumps({"largest": largest}, indent=2))
    return build_report(out)
