"""What a lab command shows while and after it runs: a progress bar and a results table.

Below the CLI (the demo and every experiment's command use it), above the experiments: it
reads their :class:`RunOutcome` and draws it with rich.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from paramlab.lab.runner import Progress

if TYPE_CHECKING:
    from types import TracebackType

    from paramlab.lab.runner import Experiment, RunOutcome


class progress_bar:
    """A rich progress bar (models done, epoch, ETA) as a context manager, or silent
    callbacks when quiet."""

    def __init__(self, quiet: bool, label: str):
        self.quiet = quiet
        self.label = label

    def __enter__(self) -> Progress:
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
                       TextColumn("done · epoch {task.fields[epoch]}"), TimeElapsedColumn(),
                       TextColumn("ETA"), TimeRemainingColumn(), transient=False)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.label, total=1, epoch="-")
        return Progress(
            start=lambda total, done, epochs: self.bar.update(self.task, total=total,
                                                              completed=done),
            epoch=lambda epoch, models: self.bar.update(self.task, epoch=epoch),
            model_done=lambda result: self.bar.advance(self.task, 1),
        )

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if not self.quiet:
            self.bar.__exit__(kind, error, trace)


MAX_TABLE_ROWS = 60


def print_outcome(experiment: Experiment[Any], outcome: RunOutcome, as_json: bool,
                  lines: list[str]) -> None:
    """The run's rows as a table (or one JSON object), then the experiment's own lines."""
    rows = outcome.store.rows()
    if as_json:
        analysis = outcome.analysis.to_json() if outcome.analysis is not None else None
        print(json.dumps({"run_dir": str(outcome.store.path), "experiment": experiment.name,
                          "trained": outcome.trained, "skipped": outcome.skipped,
                          "models": rows, "analysis": analysis}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    title = f"{experiment.name}: {len(rows)} rows"
    if outcome.data is not None:
        title = (f"{len(rows)} models · {outcome.data.observations:,} training observations · "
                 f"{outcome.data.name}")
    table = Table(title=title)
    columns = shown_columns(experiment, rows)
    for column in columns:
        table.add_column(_HEADERS.get(column, column.replace("_", " ")),
                         justify="right" if _numeric(rows, column) else "left")
    ordered = sorted(rows, key=lambda r: r.get("params") or 0)
    step = -(-len(ordered) // MAX_TABLE_ROWS)  # closed-form sweeps fit thousands of points
    for row in ordered[::step]:
        table.add_row(*(_format(row.get(c)) for c in columns))
    console = Console()
    console.print(table)
    if step > 1:
        console.print(f"(every {step}th of {len(rows):,} rows shown; all are in "
                      f"{outcome.store.path / 'results.csv'})")
    for line in lines:
        console.print(line)
    console.print(f"trained {outcome.trained}, resumed past {outcome.skipped}, "
                  f"{outcome.seconds:.1f} s · run folder: {outcome.store.path}")


def shown_columns(experiment: Experiment[Any], rows: list[dict[str, Any]]) -> list[str]:
    """The experiment's display columns, less those blank in every row (a study's table
    shows the linear model's theory columns only when it fitted the linear model)."""
    return [c for c in experiment.display or experiment.column_names()
            if any(row.get(c) is not None for row in rows)]


_HEADERS = {"model_id": "model", "params_per_observation": "params/obs", "train_loss": "train",
            "val_loss": "val", "test_loss": "test"}


def _numeric(rows: list[dict[str, Any]], column: str) -> bool:
    return any(isinstance(r.get(column), int | float) for r in rows)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4f}" if abs(value) < 1e4 else f"{value:,.0f}"
