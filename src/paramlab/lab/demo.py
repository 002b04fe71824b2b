"""``paramlab demo``: the seed scenario end to end, every registered experiment that has a
demo configuration at the chosen level, then one report.

At the default level (the README's ``make run``, a few minutes on 2 CPU cores): the sweep of
random MLPs on the 13,000 × 40 regression, refits of its largest architecture, and the studies
that take seconds; ``--full`` adds every study with small settings; ``--quick`` is a tiny
version for tests. The report then reads count → ratio → fits anyway → why.
"""

from __future__ import annotations

from pathlib import Path

from paramlab.lab import executors, runner
from paramlab.lab.console import print_outcome, progress_bar
from paramlab.lab.experiments import registry
from paramlab.lab.runner import DemoLevel, RunOutcome


def demo(out: Path, *, level: DemoLevel = "default", quiet: bool = False,
         device: str = "cpu") -> Path:
    """Run the demo into ``out`` (one subfolder per experiment); return the report's path."""
    from paramlab.lab.report import build_report, console_lines

    done: dict[str, RunOutcome] = {}
    for experiment in registry():
        config = experiment.demo(level, done)
        if config is None:
            continue
        # an experiment may ask for several runs (a list of configs): NAME, NAME-2, …
        for index, one in enumerate(config if isinstance(config, list) else [config]):
            train = getattr(one, "train", None)
            if train is not None and hasattr(train, "device"):
                train.device = device
            folder = experiment.name if index == 0 else f"{experiment.name}-{index + 1}"
            executor = executors.make("local")
            try:
                with progress_bar(quiet, f"demo: {folder}") as progress:
                    outcome = runner.run(experiment, one, out / folder, executor=executor,
                                         progress=progress)
            finally:
                executor.close()
            done.setdefault(experiment.name, outcome)
            if not quiet:
                print_outcome(experiment, outcome, False,
                              console_lines(experiment, outcome.store))
    return build_report(out)
