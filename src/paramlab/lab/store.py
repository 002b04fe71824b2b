"""Run folders: self-describing, resumable, and safe against being killed at any moment.

A run folder holds::

    config.json        the resolved configuration and the command line that made it
    environment.json   Python, PyTorch, NumPy, platform, device, paramlab version
    store.sqlite       one row per finished model + its per-epoch metrics
    weights/ID.npz     weights and test predictions, when an experiment needs them
    results.csv        regenerated from the store: one row per trained model

Exactly-once: a model's row and its epochs are inserted in *one* SQLite transaction when it
finishes (its weights file is written before, under a temporary name, then renamed), and
``model_id`` is the primary key. A run killed with SIGKILL loses only models that had not
committed; starting the same command again trains exactly those.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paramlab.errors import DataError, ParamlabError

if TYPE_CHECKING:
    from paramlab.lab.experiments.base import Column

_EPOCHS_SCHEMA = """
CREATE TABLE IF NOT EXISTS epochs (
    model_id TEXT, epoch INTEGER, train_loss REAL, val_loss REAL, test_loss REAL,
    PRIMARY KEY (model_id, epoch)
);
"""


def _models_schema(columns: Sequence[Column]) -> str:
    """The models table, made from the experiment's one declaration of its columns; the
    first column is the primary key (the resume key)."""
    key, *rest = columns
    parts = [f"{key.name} {key.sql_type} PRIMARY KEY",
             *(f"{c.name} {c.sql_type}" for c in rest), "finished_at TEXT"]
    return f"CREATE TABLE IF NOT EXISTS models ({', '.join(parts)});"


class RunStore:
    """One run folder. Open it with :meth:`create_or_resume`."""

    def __init__(self, path: Path, columns: Sequence[str] | None = None):
        self.path = path
        self.db_path = path / "store.sqlite"
        self._columns = list(columns) if columns is not None else None

    # --- opening
    @classmethod
    def create_or_resume(cls, path: Path, config: dict[str, Any],
                         columns: Sequence[Column]) -> RunStore:
        """A new run, or the same run again (its finished models are skipped).

        A folder that holds a *different* configuration is refused rather than mixed.
        """
        config = json.loads(json.dumps(config))  # compare as it will read back (tuples → lists)
        path.mkdir(parents=True, exist_ok=True)
        store = cls(path, [c.name for c in columns])
        config_path = path / "config.json"
        if config_path.exists():
            saved = json.loads(config_path.read_text())
            if saved.get("experiment_config") != config:
                raise ParamlabError(
                    f"{path} holds a run with a different configuration; choose another --out "
                    "or delete the folder (resuming only continues the same command)"
                )
        else:
            _atomic_write(config_path, json.dumps(
                {"experiment_config": config, "command": sys.argv,
                 "created": _now()}, indent=2))
            _atomic_write(path / "environment.json", json.dumps(environment(), indent=2))
        with store.connect() as db:
            db.executescript(_models_schema(columns) + _EPOCHS_SCHEMA)
        return store

    @classmethod
    def open(cls, path: Path) -> RunStore:
        """An existing run folder, for reports."""
        if not (path / "store.sqlite").exists():
            raise DataError(f"{path}: not a paramlab run folder (no store.sqlite); "
                            "make one with `paramlab run sweep --out DIR`")
        return cls(path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
            db.commit()
        finally:
            db.close()

    def config(self) -> dict[str, Any]:
        return json.loads((self.path / "config.json").read_text())["experiment_config"]

    @property
    def experiment(self) -> str:
        """The registered name of the experiment that made this run."""
        return str(self.config().get("experiment", ""))

    def write_json(self, name: str, value: Any) -> Path:
        """An experiment-level result file (``analysis.json``), written atomically."""
        target = self.path / name
        _atomic_write(target, json.dumps(value, indent=2))
        return target

    def read_json(self, name: str) -> Any:
        target = self.path / name
        if not target.exists():
            raise DataError(f"{target} is missing; run the experiment to the end "
                            "(the same command again resumes it)")
        return json.loads(target.read_text())

    @property
    def columns(self) -> list[str]:
        """The results columns, as declared by the experiment (read back from the table
        when the folder was opened for a report)."""
        if self._columns is None:
            with self.connect() as db:
                names = [r[1] for r in db.execute("PRAGMA table_info(models)")]
            self._columns = [n for n in names if n != "finished_at"]
        return self._columns

    # --- writing
    def finished_ids(self) -> set[str]:
        with self.connect() as db:
            return {row[0] for row in db.execute("SELECT model_id FROM models")}

    def record(self, row: dict[str, Any], history: list[dict[str, float]]) -> None:
        """Commit one finished model and its epochs together, or not at all."""
        unknown = sorted(set(row) - set(self.columns))
        if unknown:  # a bug in the experiment, not the user's doing: fail loudly
            raise ValueError(f"row has columns the experiment did not declare: {unknown}")
        values = [row.get(column) for column in self.columns] + [_now()]
        with self.connect() as db:
            db.execute(f"INSERT INTO models VALUES ({', '.join('?' * len(values))})", values)
            db.executemany(
                "INSERT INTO epochs VALUES (?, ?, ?, ?, ?)",
                [(row["model_id"], h["epoch"], h["train_loss"], h["val_loss"], h["test_loss"])
                 for h in history],
            )

    def weights_path(self, model_id: str) -> Path:
        return self.path / "weights" / f"{model_id}.npz"

    def save_arrays(self, model_id: str, arrays: dict[str, Any]) -> None:
        """Weights and predictions, written whole before the model's row commits."""
        import numpy as np

        target = self.weights_path(model_id)
        target.parent.mkdir(exist_ok=True)
        temporary = target.with_suffix(".tmp.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, target)

    def load_arrays(self, model_id: str) -> dict[str, Any]:
        import numpy as np

        with np.load(self.weights_path(model_id)) as data:
            return {key: data[key] for key in data.files}

    # --- reading
    def rows(self) -> list[dict[str, Any]]:
        with self.connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM models ORDER BY model_id")]

    def history(self) -> dict[str, list[dict[str, float]]]:
        out: dict[str, list[dict[str, float]]] = {}
        with self.connect() as db:
            db.row_factory = sqlite3.Row
            for r in db.execute("SELECT * FROM epochs ORDER BY model_id, epoch"):
                out.setdefault(r["model_id"], []).append(dict(r))
        return out

    def write_csv(self) -> Path:
        """results.csv from the store (the store is the truth; the CSV is a view of it)."""
        target = self.path / "results.csv"
        temporary = target.with_suffix(".csv.tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows())
        os.replace(temporary, target)
        return target

    def write_table(self, name: str, columns: Sequence[str],
                    rows: Sequence[dict[str, Any]]) -> Path:
        """A second CSV beside results.csv (refit's ``paths.csv``), written atomically; like
        results.csv a derived view, recomputed by the experiment from what the store holds."""
        target = self.path / name
        temporary = target.with_suffix(target.suffix + ".tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, target)
        return target


def environment() -> dict[str, Any]:
    """What produced the numbers, for whoever reads the run later."""
    import numpy as np
    import torch

    from paramlab import __version__

    return {
        "paramlab": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "numpy": np.__version__,
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
