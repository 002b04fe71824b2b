"""``paramlab run EXPERIMENT``, ``paramlab report`` and ``paramlab demo``.

Only argparse at import time: ``paramlab count`` builds the top-level parser too and must stay
fast. ``paramlab run`` parses in two stages: the top level sees only ``run`` and hands the
rest of the command line to :func:`run_command`, which builds one subcommand per registered
experiment (importing them, and with them numpy and torch) and dispatches through the
registry.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paramlab import fields
from paramlab.errors import ParamlabError
from paramlab.fields import option

if TYPE_CHECKING:
    from paramlab.lab.runner import DemoLevel


def add_lab_parsers(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    subparsers.add_parser(
        "run", add_help=False, help="run a lab experiment (`paramlab run --help` lists them)")

    subparsers.add_parser(
        "why", add_help=False, help="your network and your data: the count, refits, the "
        "directions the data determine, and a one-page answer (`paramlab why --help`)")

    report = subparsers.add_parser("report", help="write report.html and plots for a run")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    report.set_defaults(handler=run_report)

    demo = subparsers.add_parser(
        "demo", help="the seed scenario end to end: sweep, refit, the studies, one report")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"))
    level = demo.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="a tiny version (seconds)")
    level.add_argument("--full", action="store_true",
                       help="every study with small settings (under 15 minutes on 2 cores)")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    demo.set_defaults(handler=run_demo)


@dataclass(frozen=True)
class OutputOptions:
    """``paramlab run``'s output options, added to every experiment."""

    out: Path | None = option(None, flag="--out", group="output", type=Path,
                              help="run folder (default: runs/NAME-HASH of the "
                              "configuration; the same command again resumes it)")
    quiet: bool = option(False, flag="--quiet", group="output", action="store_true",
                         help="no progress bar")
    json: bool = option(False, flag="--json", group="output", action="store_true",
                        help="print results as JSON")


def run_parser() -> argparse.ArgumentParser:
    """``paramlab run``: one subcommand per registered experiment, its flags generated from
    its config's fields (and the executor's and output's)."""
    from paramlab.lab.executors import ExecutorOptions
    from paramlab.lab.experiments import registry

    parser = argparse.ArgumentParser(
        prog="paramlab run", description="Run a lab experiment into a resumable run folder.")
    experiments = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT",
                                        required=True)
    for experiment in registry():
        sub = experiments.add_parser(experiment.name, help=experiment.help,
                                     description=experiment.description)
        fields.add_options(sub, experiment.config())
        if experiment.executors:
            fields.add_options(sub, ExecutorOptions())
        fields.add_options(sub, OutputOptions())
    return parser


def run_command(argv: Sequence[str]) -> int:
    """Parse ``paramlab run …`` and run the experiment it names."""
    from paramlab.lab import executors, runner
    from paramlab.lab.console import print_outcome, progress_bar
    from paramlab.lab.experiments import get
    from paramlab.lab.report import console_lines

    ns = run_parser().parse_args(argv)
    experiment = get(ns.experiment)
    config = fields.from_namespace(experiment.config, ns)
    output = fields.from_namespace(OutputOptions, ns)
    where = fields.from_namespace(executors.ExecutorOptions, ns)
    out = output.out or default_out(experiment.name, config)
    try:
        executor = executors.make(where if experiment.executors else "local")
        with progress_bar(output.quiet or output.json, experiment.name) as progress:
            try:
                outcome = runner.run(experiment, config, out, executor=executor,
                                     progress=progress)
            finally:
                executor.close()
    except fields.OptionError as error:  # named as the command line spells it
        flags = {**fields.flags(config), **fields.flags(where)}
        raise error.as_flag(flags) from None
    print_outcome(experiment, outcome, output.json, console_lines(experiment, outcome.store))
    return 0


@dataclass(frozen=True)
class WhyOutput:
    """``paramlab why``'s output options (not part of the request: the folder's name
    hashes the request alone)."""

    out: Path | None = option(None, flag="--out", group="output", type=Path,
                              help="why folder (default: runs/why-HASH of the request; the "
                              "same command again resumes it)")
    quiet: bool = option(False, flag="--quiet", group="output", action="store_true",
                         help="no progress bars")


def why_command(argv: Sequence[str]) -> int:
    """Parse ``paramlab why …`` (flags generated from :class:`WhyConfig`) and run it."""
    from paramlab.lab.why import WhyConfig, why

    parser = argparse.ArgumentParser(
        prog="paramlab why", description="How can this network fit this many parameters "
        "from these observations, and why does it still generalize? Counts, trains and "
        "measures your network on your data within --budget minutes, then writes one "
        "report that opens with the answer.")
    fields.add_options(parser, WhyConfig())
    fields.add_options(parser, WhyOutput())
    ns = parser.parse_args(argv)
    config = fields.from_namespace(WhyConfig, ns)
    output = fields.from_namespace(WhyOutput, ns)
    try:
        path = why(config, output.out or default_out("why", config), quiet=output.quiet)
    except fields.OptionError as error:
        raise error.as_flag(fields.flags(config)) from None
    print(f"report: {path}")
    return 0


def default_out(name: str, config: Any) -> Path:
    """``runs/NAME-HASH``: the same configuration finds (and resumes) the same folder."""
    digest = hashlib.sha1(json.dumps(dataclasses.asdict(config), sort_keys=True,
                                     default=str).encode()).hexdigest()[:8]
    return Path("runs") / f"{name}-{digest}"


def run_report(ns: argparse.Namespace) -> int:
    from paramlab.lab.report import build_report

    if not ns.run_dir.is_dir():
        raise ParamlabError(f"{ns.run_dir}: no such run folder")
    print(build_report(ns.run_dir))
    return 0


def run_demo(ns: argparse.Namespace) -> int:
    from paramlab.lab.demo import demo

    level: DemoLevel = "quick" if ns.quick else "full" if ns.full else "default"
    path = demo(ns.out, level=level, quiet=ns.quiet, device=ns.device)
    print(f"report: {path}")
    return 0
