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

Several processes on one folder cooperate instead of colliding: before training a batch, a
process *claims* its models (table ``claims``, one transaction), and keeps a heartbeat in
``owners`` while it runs. A model claimed by a live owner is left to it; the claims of an
owner that is gone (same host and its process no longer exists, or no heartbeat for
:data:`STALE_SECONDS`) are taken over. So two shells started on one folder split the work,
and a killed run's claims never block the next one.

Every fault of the folder itself (not writable, a corrupt ``store.sqlite`` or ``config.json``)
is a :class:`RunFolderError`: one line naming the file and what to do.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paramlab.errors import DataError, ParamlabError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Column:
    """One column of an experiment's results: a ``results.csv`` header and an SQLite column.

    ``kind`` is ``int``, ``float`` or ``str``; a value may also be missing (``None``).
    """

    name: str
    kind: type
    help: str = ""

    @property
    def sql_type(self) -> str:
        return {int: "INTEGER", float: "REAL", str: "TEXT"}[self.kind]


@dataclass(frozen=True)
class StoredWeights:
    """A model's weights as the store keeps them: ``[W1, b1, W2, b2, …]`` (W as
    (fan_in, fan_out)) and, when they were kept, its test-set predictions."""

    weights: list[np.ndarray]
    test_predictions: np.ndarray | None

_EPOCHS_SCHEMA = """
CREATE TABLE IF NOT EXISTS epochs (
    model_id TEXT, epoch INTEGER, train_loss REAL, val_loss REAL, test_loss REAL,
    PRIMARY KEY (model_id, epoch)
);
"""
_CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS owners (owner TEXT PRIMARY KEY, host TEXT, pid INTEGER,
                                   heartbeat REAL);
CREATE TABLE IF NOT EXISTS claims (model_id TEXT PRIMARY KEY, owner TEXT);
"""
STALE_SECONDS = 60.0  # an owner silent this long (another host, or a hung one) is gone
HEARTBEAT_SECONDS = 5.0


class RunFolderError(ParamlabError):
    """The run folder cannot be used as it is: not writable, or a file in it is corrupt."""


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
        _make_writable_folder(path)
        store = cls(path, [c.name for c in columns])
        config_path = path / "config.json"
        if config_path.exists():
            saved = _read_config(config_path)
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
            db.executescript(_models_schema(columns) + _EPOCHS_SCHEMA + _CLAIMS_SCHEMA)
        return store

    @classmethod
    def open(cls, path: Path) -> RunStore:
        """An existing run folder, for reports."""
        if not (path / "store.sqlite").exists():
            raise DataError(f"{path}: not a paramlab run folder (no store.sqlite); "
                            "make one with `paramlab run sweep --out DIR`")
        store = cls(path)
        with store.connect() as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if "models" not in tables:
            raise RunFolderError(f"{store.db_path} holds no models table: not a paramlab run "
                                 "store; delete it and run the experiment again")
        return store

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection (WAL, fully synced); a corrupt or unopenable file becomes one
        :class:`RunFolderError` naming it."""
        try:
            db = sqlite3.connect(self.db_path, timeout=30)
        except sqlite3.OperationalError as exc:
            raise self._fault(exc) from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
            db.commit()
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError or _unopenable(exc):
                raise self._fault(exc) from None
            raise
        finally:
            db.close()

    def _fault(self, exc: sqlite3.Error) -> RunFolderError:
        if _unopenable(exc):
            return RunFolderError(f"cannot open {self.db_path} for writing ({exc}); choose "
                                  "a writable --out")
        return RunFolderError(f"{self.db_path} is not a readable run store ({exc}); it is "
                              "corrupt: delete the run folder (or choose another --out) and "
                              "run the experiment again")

    def config(self) -> dict[str, Any]:
        saved = _read_config(self.path / "config.json")
        if "experiment_config" not in saved:
            raise RunFolderError(f"{self.path / 'config.json'} has no 'experiment_config'; "
                                 "it is not a paramlab run configuration: restore it or "
                                 "delete the run folder and run again")
        return dict(saved["experiment_config"])

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

    def record(self, row: dict[str, Any], history: list[dict[str, float]]) -> bool:
        """Commit one finished model and its epochs together, or not at all, and drop its
        claim. A model already recorded (by an owner whose claim was wrongly taken over) is
        left as it is: False, nothing written."""
        return self.record_many([(row, history)]) == 1

    def record_many(self, finished: Sequence[tuple[dict[str, Any], list[dict[str, float]]]]
                    ) -> int:
        """Commit several finished models (or closed-form points) in one transaction, all or
        none, and drop their claims; how many were new. Closed-form sweeps fit thousands of
        points a second: a transaction each would spend its time in fsync."""
        for row, _ in finished:
            unknown = sorted(set(row) - set(self.columns))
            if unknown:  # a bug in the experiment, not the user's doing: fail loudly
                raise ValueError(f"row has columns the experiment did not declare: {unknown}")
        key, stamp, inserted = self.columns[0], _now(), 0
        with self.connect() as db:
            for row, history in finished:
                values = [row.get(column) for column in self.columns] + [stamp]
                new = db.execute(
                    f"INSERT OR IGNORE INTO models VALUES ({', '.join('?' * len(values))})",
                    values).rowcount
                if new:
                    db.executemany(
                        "INSERT INTO epochs VALUES (?, ?, ?, ?, ?)",
                        [(row[key], h["epoch"], h["train_loss"], h["val_loss"], h["test_loss"])
                         for h in history],
                    )
                db.execute("DELETE FROM claims WHERE model_id = ?", (row[key],))
                inserted += new
        return inserted

    def complete_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Fill in more columns of models already recorded, in one transaction: a later
        stage's numbers about the same model (the Hessian spectrum of trained weights), so
        ``results.csv`` keeps one row per model."""
        key = self.columns[0]
        with self.connect() as db:
            for row in rows:
                names = [c for c in row if c != key]
                unknown = sorted(set(names) - set(self.columns))
                if unknown:  # a bug in the experiment: fail loudly
                    raise ValueError(f"row has columns the experiment did not declare: "
                                     f"{unknown}")
                db.execute(f"UPDATE models SET {', '.join(f'{c} = ?' for c in names)} "
                           f"WHERE {key} = ?", [row[c] for c in names] + [row[key]])

    def ids_with(self, column: str) -> set[str]:
        """The recorded models whose ``column`` is filled in."""
        if column not in self.columns:
            raise ValueError(f"no column {column!r} in this run's results")
        with self.connect() as db:
            return {row[0] for row in db.execute(
                f"SELECT {self.columns[0]} FROM models WHERE {column} IS NOT NULL")}

    # --- claims: several processes on one folder
    @property
    def owner(self) -> str:
        """This process, as the claims table names it."""
        return f"{socket.gethostname()}:{os.getpid()}"

    def claim(self, model_ids: Iterable[str]) -> list[str]:
        """Claim for this process the given models that nobody has finished and no live
        owner holds (stale owners' claims are taken over); the ones claimed, in order."""
        wanted = list(model_ids)
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # one claimer at a time: each model claimed once
            self._beat(db)
            self._drop_stale_owners(db)
            finished = {r[0] for r in db.execute("SELECT model_id FROM models")}
            held = dict(db.execute("SELECT model_id, owner FROM claims").fetchall())
            mine = [m for m in wanted
                    if m not in finished and held.get(m, self.owner) == self.owner]
            db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?)",
                           [(m, self.owner) for m in mine])
        return mine

    def release(self) -> None:
        """Give back this process's claims: at the end of a run however it ends (a failed
        batch included), so the next run trains what is left."""
        with self.connect() as db:
            db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
            db.execute("DELETE FROM owners WHERE owner = ?", (self.owner,))

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Keep this process's claims alive while the block runs (a daemon thread beats
        every :data:`HEARTBEAT_SECONDS`); give them back at the end, however it ends."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    with self.connect() as db:
                        self._beat(db)
                except (sqlite3.Error, RunFolderError):
                    pass  # busy for 30 s: the next beat comes well before STALE_SECONDS

        thread = threading.Thread(target=beat, name="paramlab-heartbeat", daemon=True)
        with self.connect() as db:
            self._beat(db)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.release()

    def _beat(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT OR REPLACE INTO owners VALUES (?, ?, ?, ?)",
                   (self.owner, socket.gethostname(), os.getpid(), time.time()))

    def _drop_stale_owners(self, db: sqlite3.Connection) -> None:
        """Forget owners that are gone, and their claims."""
        host = socket.gethostname()
        stale = [owner for owner, owner_host, pid, beat in db.execute(
                     "SELECT owner, host, pid, heartbeat FROM owners")
                 if owner != self.owner and (time.time() - beat > STALE_SECONDS
                                             or (owner_host == host and not _alive(pid)))]
        held = {r[0] for r in db.execute("SELECT DISTINCT owner FROM claims")}
        known = {r[0] for r in db.execute("SELECT owner FROM owners")}
        stale += [owner for owner in held - known if owner != self.owner]
        db.executemany("DELETE FROM claims WHERE owner = ?", [(o,) for o in stale])
        db.executemany("DELETE FROM owners WHERE owner = ?", [(o,) for o in stale])

    def weights_path(self, model_id: str) -> Path:
        return self.path / "weights" / f"{model_id}.npz"

    # The weight-file format, known here only: ``p0``, ``p1``, … the weight arrays in order,
    # ``test_predictions`` optional.
    def save_weights(self, model_id: str, weights: Sequence[Any],
                     test_predictions: Any | None = None) -> None:
        """A model's weights (and test predictions), written whole before its row commits."""
        arrays = {f"p{i}": w for i, w in enumerate(weights)}
        if test_predictions is not None:
            arrays["test_predictions"] = test_predictions
        self.save_arrays(model_id, arrays)

    def load_weights(self, model_id: str) -> StoredWeights:
        """What :meth:`save_weights` wrote; a missing file is a clear error."""
        if not self.weights_path(model_id).exists():
            raise RunFolderError(f"{self.weights_path(model_id)}: no weights stored for "
                                 f"{model_id!r} (the run did not keep weights)")
        arrays = self.load_arrays(model_id)
        count = sum(1 for key in arrays if key.startswith("p") and key[1:].isdigit())
        return StoredWeights([arrays[f"p{i}"] for i in range(count)],
                             arrays.get("test_predictions"))

    def save_arrays(self, model_id: str, arrays: dict[str, Any]) -> None:
        """Weights and predictions, written whole before the model's row commits."""
        import numpy as np

        target = self.weights_path(model_id)
        target.parent.mkdir(exist_ok=True)
        with _replacing(target, ".tmp.npz") as temporary:
            np.savez(temporary, **arrays)

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
        with _replacing(target) as temporary, temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows())
        return target

    def write_table(self, name: str, columns: Sequence[str],
                    rows: Sequence[dict[str, Any]]) -> Path:
        """A second CSV beside results.csv (refit's ``paths.csv``), written atomically; like
        results.csv a derived view, recomputed by the experiment from what the store holds."""
        target = self.path / name
        with _replacing(target) as temporary, temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows(rows)
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


def _alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _unopenable(exc: sqlite3.Error) -> bool:
    return "unable to open" in str(exc) or "readonly" in str(exc)


def _make_writable_folder(path: Path) -> None:
    """Create the run folder, or say in one line why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # one probe per process: two drivers starting on one folder shared the name, and one
        # deleted the other's probe between its write and its unlink (CI failed so once)
        probe = path / f".paramlab-write-probe-{os.getpid()}-{threading.get_ident()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RunFolderError(f"cannot write the run folder {path}: {reason} "
                             f"({exc.filename or path}); choose a writable --out") from None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} is corrupt ({exc}); restore it, or delete the run "
                             "folder (or choose another --out) to start over") from None
    if not isinstance(saved, dict):
        raise RunFolderError(f"{path} is not a paramlab run configuration (expected a JSON "
                             "object); restore it or delete the run folder and run again")
    return saved


def _atomic_write(path: Path, text: str) -> None:
    with _replacing(path) as temporary:
        temporary.write_text(text)


@contextmanager
def _replacing(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file beside ``target``, named for this process and thread, that replaces
    ``target`` whole when the block succeeds (and is removed when it fails). Processes
    sharing a run folder write the same files at once: with one shared temporary name, one
    renamed the other's file away mid-write."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}{suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
