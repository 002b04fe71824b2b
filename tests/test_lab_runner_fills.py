"""A ComputePoints stage that fills a column of rows an earlier stage recorded (the spectrum
of a trained model): one row per model, only the missing values computed, a resumed run
computes nothing again."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from paramlab.lab import runner
from paramlab.lab.runner import ComputePoints, Experiment, History, Plan, Row
from paramlab.lab.store import Column, RunStore

COLUMNS = (Column("model_id", str), Column("base", float), Column("square", float))


@dataclass
class Config:
    pass


def _experiment(calls: list[str]) -> Experiment[Config]:
    def rows(missing: list[str], store: RunStore) -> list[list[tuple[Row, History]]]:
        return [[({"model_id": i, "base": float(len(i))}, [])] for i in missing]

    def squares(missing: list[str], store: RunStore) -> list[list[tuple[Row, History]]]:
        calls.extend(missing)
        base = {r["model_id"]: r["base"] for r in store.rows()}
        return [[({"model_id": i, "square": base[i] ** 2}, [])] for i in missing]

    ids = ["a", "bb", "ccc"]
    return Experiment("fills-test", "", "", Config,
                      lambda config: Plan((ComputePoints(ids, rows),
                                           ComputePoints(ids, squares, fills="square"))),
                      COLUMNS, order=0)


def test_a_fill_stage_completes_rows_once(tmp_path: Path) -> None:
    calls: list[str] = []
    outcome = runner.run(_experiment(calls), Config(), tmp_path)
    assert [(r["model_id"], r["square"]) for r in outcome.store.rows()] == [
        ("a", 1.0), ("bb", 4.0), ("ccc", 9.0)]
    assert (outcome.trained, outcome.skipped) == (3, 0) and calls == ["a", "bb", "ccc"]
    with outcome.store.connect() as db:
        db.execute("UPDATE models SET square = NULL WHERE model_id = 'bb'")
    assert outcome.store.ids_with("square") == {"a", "ccc"}
    again = runner.run(_experiment(calls), Config(), tmp_path)
    assert calls[3:] == ["bb"] and (again.trained, again.skipped) == (1, 2)
    assert len(again.store.rows()) == 3


def test_a_fill_with_an_undeclared_column_fails_loudly(tmp_path: Path) -> None:
    store = RunStore.create_or_resume(tmp_path, {"experiment": "x"}, COLUMNS)
    with pytest.raises(ValueError, match="did not declare"):
        store.complete_many([{"model_id": "a", "cube": 1.0}])
    with pytest.raises(ValueError, match="no column 'cube'"):
        store.ids_with("cube")
