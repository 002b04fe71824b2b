"""``paramlab run sweep|refit``, ``paramlab report`` and ``paramlab demo``.

Only argparse at import time: ``paramlab count`` builds this parser too and must stay fast.
Torch, numpy, rich and matplotlib are imported when a lab command runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from paramlab.errors import ParamlabError


def _range(text: str) -> tuple[int, int]:
    """``1..3`` (or a single number) as an inclusive range."""
    lo, sep, hi = text.partition("..")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected MIN..MAX such as 1..3; received {text!r}"
        ) from None
    return low, high


def _add_training_options(p: argparse.ArgumentParser) -> None:
    data = p.add_argument_group("data")
    data.add_argument("--data", default="synthetic",
                      help="synthetic, friedman, linear, digits, diabetes, mnist1d, or a "
                      ".csv/.parquet/.npy path (default: synthetic, 13,000 × 40 as in the seed)")
    data.add_argument("--target", help="target column of a data file")
    data.add_argument("--n-samples", type=int, help="rows to generate (built-in generators)")
    data.add_argument("--noise", type=float, help="noise level of a built-in generator")
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    train.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--patience", type=int, default=None,
                       help="early stopping on validation loss (best weights restored)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, help="run folder (default: runs/NAME-HASH of the "
                     "configuration; the same command again resumes it)")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true", help="print results as JSON")


def add_lab_parsers(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = subparsers.add_parser("run", help="run a lab experiment (sweep, refit)")
    experiments = run.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)
    sweep = experiments.add_parser(
        "sweep", help="random architectures on one data set",
        description="Train random MLPs (random depth, log-uniform widths) as in the seed "
        "question; prints parameters, parameters per observation and losses.")
    sweep.add_argument("--models", type=int, default=16)
    sweep.add_argument("--depth", type=_range, default=(1, 3), metavar="MIN..MAX")
    sweep.add_argument("--width", type=_range, default=(16, 1024), metavar="MIN..MAX")
    _add_training_options(sweep)
    sweep.set_defaults(handler=run_sweep)
    refit = experiments.add_parser(
        "refit", help="one architecture, several seeds: same loss, different weights?",
        description="Train one architecture from several seeds and compare the spread of "
        "validation loss with the spread of weights (raw and after aligning hidden units).")
    refit.add_argument("spec", metavar="SPEC", help="MLP shorthand, e.g. 40-256-256-1")
    refit.add_argument("--seeds", type=int, default=5)
    _add_training_options(refit)
    refit.set_defaults(handler=run_refit)

    report = subparsers.add_parser("report", help="write report.html and plots for a run")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    report.set_defaults(handler=run_report)

    demo = subparsers.add_parser(
        "demo", help="the seed scenario end to end: sweep, refit of the largest, report")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"))
    demo.add_argument("--quick", action="store_true", help="a tiny version (seconds)")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    demo.set_defaults(handler=run_demo)


# ------------------------------------------------------------------ configs from options


def _data_config(ns: argparse.Namespace) -> Any:
    from paramlab.lab.experiments.common import DataConfig

    return DataConfig(ns.data, ns.target, ns.n_samples, ns.noise, ns.seed)


def _train_config(ns: argparse.Namespace) -> Any:
    from paramlab.lab.engine import TrainConfig

    return TrainConfig(epochs=ns.epochs, batch_size=ns.batch_size, lr=ns.lr,
                       optimizer=ns.optimizer, momentum=ns.momentum,
                       weight_decay=ns.weight_decay, dropout=ns.dropout, patience=ns.patience,
                       device=ns.device, data_seed=ns.seed)


def _default_out(name: str, config: Any) -> Path:
    import dataclasses

    digest = hashlib.sha1(json.dumps(dataclasses.asdict(config), sort_keys=True,
                                     default=str).encode()).hexdigest()[:8]
    return Path("runs") / f"{name}-{digest}"


# ------------------------------------------------------------------ handlers


def run_sweep(ns: argparse.Namespace) -> int:
    from paramlab.lab.experiments import sweep

    config = sweep.SweepConfig(_data_config(ns), _train_config(ns), ns.models, ns.depth,
                               ns.width, ns.seed)
    out = ns.out or _default_out("sweep", config)
    with _progress(ns.quiet or ns.json, "sweep") as progress:
        outcome = sweep.run(config, out, progress)
    _print_results(outcome, ns.json)
    return 0


def run_refit(ns: argparse.Namespace) -> int:
    from paramlab.lab.experiments import refit

    config = refit.RefitConfig(ns.spec, ns.seeds, _data_config(ns), _train_config(ns), ns.seed)
    out = ns.out or _default_out("refit", config)
    with _progress(ns.quiet or ns.json, "refit") as progress:
        outcome = refit.run(config, out, progress)
    analysis = _save_refit_analysis(outcome)
    _print_results(outcome, ns.json, analysis)
    return 0


def _save_refit_analysis(outcome: Any) -> dict[str, Any]:
    import numpy as np

    from paramlab.lab.experiments import refit

    target_std = float(np.std(outcome.data.y_test)) if outcome.data.task == "regression" else 1.0
    analysis = refit.analyze_store(outcome.store, target_std).to_dict()
    (outcome.store.path / "analysis.json").write_text(json.dumps(analysis, indent=2))
    return analysis


def run_report(ns: argparse.Namespace) -> int:
    from paramlab.lab.report import build_report

    if not ns.run_dir.is_dir():
        raise ParamlabError(f"{ns.run_dir}: no such run folder")
    print(build_report(ns.run_dir))
    return 0


def run_demo(ns: argparse.Namespace) -> int:
    from paramlab.lab.demo import demo

    path = demo(ns.out, quick=ns.quick, quiet=ns.quiet, device=ns.device)
    print(f"report: {path}")
    return 0


# ------------------------------------------------------------------ output


class _progress:
    """A rich progress bar (models done, epoch, ETA), or nothing when quiet."""

    def __init__(self, quiet: bool, label: str):
        self.quiet = quiet
        self.label = label

    def __enter__(self) -> Any:
        from paramlab.lab.experiments.common import Progress

        if self.quiet:
            return Progress()
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("models · epoch {task.fields[epoch]}"), TimeElapsedColumn(),
                       TextColumn("ETA"), TimeRemainingColumn(), transient=False)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.label, total=1, epoch="-")
        self.steps = 0
        self.total_steps = 1
        progress = Progress()
        progress.start = self._start
        progress.epoch = self._epoch
        progress.model_done = lambda result: self.bar.advance(self.task, 1)
        return progress

    def _start(self, total: int, done: int, epochs: int) -> None:
        self.bar.update(self.task, total=total, completed=done)

    def _epoch(self, epoch: int, models: int) -> None:
        self.bar.update(self.task, epoch=epoch)

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.bar.__exit__(*exc)


def _print_results(outcome: Any, as_json: bool, analysis: dict[str, Any] | None = None) -> None:
    rows = outcome.store.rows()
    if as_json:
        print(json.dumps({"run_dir": str(outcome.store.path), "trained": outcome.trained,
                          "skipped": outcome.skipped, "models": rows, "analysis": analysis},
                         indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    n = outcome.data.observations
    table = Table(title=f"{len(rows)} models · {n:,} training observations · "
                        f"{outcome.data.name}")
    for column in ("model", "hidden", "params", "params/obs", "train", "val", "test", "epochs"):
        table.add_column(column, justify="left" if column in ("model", "hidden") else "right")
    for r in sorted(rows, key=lambda r: r["params"]):
        table.add_row(r["model_id"], r["hidden"], f"{r['params']:,}",
                      f"{r['params_per_observation']:,.2f}", f"{r['train_loss']:.4f}",
                      f"{r['val_loss']:.4f}", f"{r['test_loss']:.4f}", str(r["epochs"]))
    console = Console()
    console.print(table)
    if analysis:
        console.print(
            f"validation loss spread {analysis['val_loss_spread']:.1%} · weight distance "
            f"{analysis['weight_distance']:.0%} (aligned {analysis['aligned_distance']:.0%}) "
            f"· prediction difference {analysis['prediction_difference']:.1%}")
    console.print(f"trained {outcome.trained}, resumed past {outcome.skipped}, "
                  f"{outcome.seconds:.1f} s · run folder: {outcome.store.path}")
