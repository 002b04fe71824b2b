"""``paramlab explain``: pasted summaries, each row's Param # matched to its formula.

Live tables come from the frameworks themselves (Keras 3 ``model.summary(print_fn=…)``,
KERAS_BACKEND=torch; torchinfo 1.8.0 ``summary()``); tests/data/pasted holds the seeds' models
as Keras 3.15.1 printed them, two torchinfo 1.8.0 tables (grouped, non-square and nested
convolutions) and two tf.keras 2 tables written out literally (the layout of
tf.keras 2.8's ``print_summary``, and 2.9+'s with ``Connected to`` lists).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramlab.errors import ParamlabError
from paramlab.explain_pasted import explain
from paramlab.pasted import MAX_CHARS, PastedSummaryError, parse_summary

DATA = Path(__file__).parent / "data" / "pasted"
os.environ.setdefault("KERAS_BACKEND", "torch")


def _last_number(formula: str) -> int:
    """The value a rule's formula states: the number after its first ``=``; where the left
    side is plain arithmetic, it must evaluate to that number too."""
    left, right = formula.split("=", 1)
    value = int(right.split()[0].replace(",", ""))
    arithmetic = left.replace(",", "").replace("×", "*")
    if re.fullmatch(r"[\d\s()+*/]+", arithmetic):
        assert eval(arithmetic) == value, formula  # digits and operators only
    return value


def _all_explained(text: str) -> None:
    result = explain(parse_summary(text))
    assert result.rows
    for row in result.rows:
        assert row.status in ("explained", "no parameters", "container"), row
        if row.status == "explained":
            assert _last_number(row.formula) == row.row.params
            assert row.trainable + row.non_trainable == row.row.params
    assert result.totals and all(t.ok for t in result.totals), result.totals
    assert result.flagged == 0


def _keras_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda s, line_break=True: lines.append(s))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def keras_tables() -> dict[str, str]:
    keras = pytest.importorskip("keras")
    layers = keras.layers
    a, b = keras.Input((40,), name="features"), keras.Input((8,), name="extra")
    merged = layers.Concatenate()([layers.Dense(64, name="dense_a")(a), layers.Dense(16)(b)])
    models = {
        "mlp": keras.Sequential([keras.Input((40,)), layers.Dense(256), layers.Dropout(0.2),
                                 layers.Dense(1)]),
        "cnn": keras.Sequential([keras.Input((28, 28, 3)), layers.Conv2D(16, 5),
                                 layers.BatchNormalization(), layers.MaxPooling2D(),
                                 layers.Conv2D(8, 3, use_bias=False), layers.Flatten(),
                                 layers.Dense(10)]),
        "rnn": keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(5000, 32),
                                 layers.LSTM(24, return_sequences=True), layers.GRU(12),
                                 layers.Dense(1)]),
        "functional": keras.Model([a, b], layers.Dense(1)(merged)),
    }
    return {name: _keras_summary(model) for name, model in models.items()}


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn", "functional"])
def test_keras3_summaries_explained(keras_tables, name):
    _all_explained(keras_tables[name])


def test_keras3_first_dense_fan_in_solved_from_count(keras_tables):
    row = explain(parse_summary(keras_tables["mlp"])).rows[0]
    assert row.formula == "(40 + 1) × 256 = 10,496"
    assert "40 inputs (from the count)" in row.reading


def test_keras3_batchnorm_split(keras_tables):
    result = explain(parse_summary(keras_tables["cnn"]))
    bn = next(r for r in result.rows if r.row.type == "BatchNormalization")
    assert (bn.trainable, bn.non_trainable) == (32, 32)  # Keras prints 64, 32 non-trainable
    assert parse_summary(keras_tables["cnn"]).totals.non_trainable == 32


@pytest.fixture(scope="module")
def torchinfo_tables() -> dict[str, str]:
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    nn = torch.nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm = nn.Embedding(1000, 64), nn.LSTM(64, 32, batch_first=True)
            self.gru, self.head = nn.GRU(32, 16, batch_first=True), nn.Linear(16, 1)

        def forward(self, x):
            x, _ = self.lstm(self.emb(x))
            x, _ = self.gru(x)
            return self.head(x[:, -1])

    cnn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Sequential(nn.Conv2d(8, 4, 1), nn.LayerNorm([4, 30, 30])),
                        nn.Flatten(), nn.Linear(3600, 10))
    mlp = nn.Sequential(nn.Linear(784, 10), nn.ReLU(), nn.Linear(10, 10), nn.Linear(10, 3))
    return {
        "mlp": str(torchinfo.summary(mlp, input_size=(1, 784), verbose=0)),
        "cnn": str(torchinfo.summary(cnn, input_size=(2, 3, 32, 32), verbose=0,
                                     col_names=("input_size", "output_size", "num_params"))),
        "rnn": str(torchinfo.summary(Recurrent(), input_data=torch.zeros(1, 20,
                                     dtype=torch.long), verbose=0)),
    }


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn"])
def test_torchinfo_summaries_explained(torchinfo_tables, name):
    _all_explained(torchinfo_tables[name])


def test_torchinfo_lstm_has_two_biases(torchinfo_tables):
    rows = explain(parse_summary(torchinfo_tables["rnn"])).rows
    assert next(r for r in rows if r.row.type == "LSTM").formula == \
        "4 × ((64 + 32 + 2) × 32) = 12,544"


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.stem)
def test_fixtures_explained(path):
    _all_explained(path.read_text(encoding="utf-8"))


def test_seed_004_numbers():
    """The tutorial's arithmetic: 7,850 + 110 + 33 = 7,993 and 100 + 910 + 23,523 = 24,533."""
    dense = explain(parse_summary((DATA / "seed_004_dense.txt").read_text()))
    assert [r.formula for r in dense.rows] == [
        "(784 + 1) × 10 = 7,850", "(10 + 1) × 10 = 110", "(10 + 1) × 3 = 33"]
    cnn = explain(parse_summary((DATA / "seed_004_cnn.txt").read_text()))
    assert [r.formula for r in cnn.rows] == [
        "(3 × 3 × 1 + 1) × 10 = 100", "(3 × 3 × 10 + 1) × 10 = 910", "",
        "(7,840 + 1) × 3 = 23,523"]
    assert cnn.totals[0].printed == 24_533


def test_seed_003_total():
    """(n + 1) × m per layer: 48 + 36 + 15 = 99, and the exercise's 262."""
    mlp = explain(parse_summary((DATA / "seed_003_mlp.txt").read_text()))
    assert [_last_number(r.formula) for r in mlp.rows] == [48, 36, 15]
    exercise = parse_summary((DATA / "seed_003_exercise.txt").read_text())
    assert exercise.totals.total == 262


def test_keras2_truncated_type_and_connected_to():
    sequential = explain(parse_summary((DATA / "keras2_sequential.txt").read_text()))
    assert sequential.rows[3].layer == "BatchNormalization"  # printed "(BatchNo"
    functional = parse_summary((DATA / "keras2_functional.txt").read_text())
    assert functional.rows[4].connected_to == ("dense", "dense_1")


def _tamper(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("delta", [1, -1, 10])
def test_tampered_count_flagged(delta):
    text = (DATA / "keras2_sequential.txt").read_text()
    tampered = _tamper(text, "32896 ", f"{32896 + delta} ")
    result = explain(parse_summary(tampered))
    row = result.rows[2]
    assert row.status == "flagged"
    assert "(256 + 1) × 128 = 32,896" in row.message
    assert not result.totals[0].ok  # the printed total no longer re-adds


@pytest.mark.parametrize("count", ["7,851", "7,849"])
def test_tampered_first_row_flagged(count):
    """No fan-in gives a count that is not (n + 1)·10 or n·10: flagged with the two nearest."""
    text = _tamper((DATA / "seed_004_dense.txt").read_text(), "7,850", count)
    row = explain(parse_summary(text)).rows[0]
    assert row.status == "flagged"
    assert "no whole number of inputs" in row.message and "7,850" in row.message


def test_tampered_total_flagged():
    text = _tamper((DATA / "seed_004_cnn.txt").read_text(), "Total params: 24,533",
                   "Total params: 24,563")
    assert explain(parse_summary(text)).totals[0].ok is False


def test_mangled_paste_reads_the_same():
    """Quote markers, a fence, tabs, and a box line a narrow terminal cut in two."""
    text = (DATA / "seed_004_cnn.txt").read_text()
    lines = text.splitlines()
    cut = lines[6]  # "│ conv2d_1 (Conv2D) … │ 910 │"
    lines[6:7] = [cut[:30], cut[30:]]
    mangled = "```\n" + "\n".join("> " + line.replace("    ", "\t") for line in lines) + "\n```"
    original, damaged = parse_summary(text), parse_summary(mangled)
    assert [(r.name, r.params, r.output_shapes) for r in damaged.rows] == \
        [(r.name, r.params, r.output_shapes) for r in original.rows]
    _all_explained(mangled)


def test_keras2_row_cut_by_narrow_terminal():
    text = (DATA / "keras2_sequential.txt").read_text()
    cut = _tamper(text, "dense_1 (Dense)              (None, 128)               32896",
                  "dense_1 (Dense)              (None, 128)\n               32896")
    assert [replace(r, line=0) for r in parse_summary(cut).rows] == \
        [replace(r, line=0) for r in parse_summary(text).rows]
    _all_explained(cut)


def test_wrapped_cells_joined():
    text = (DATA / "keras2_functional.txt").read_text()
    assert parse_summary(text).rows[4].connected_to == ("dense", "dense_1")


@pytest.mark.parametrize(("text", "pattern"), [
    ("hello\nworld", r"no summary table found"),
    ("Layer (type)  Output Shape  Param #\n=====\ndense (Dense)  (None, 10)  7,8x0\n",
     r"line 3, column \d+: expected a parameter count"),
    ("Layer (type)  Output Shape  Param #\n=====\ndense Dense  (None, 10)  10\n",
     r"line 3, column 1: expected a layer as 'name \(Type\)'"),
    ("Layer (type)  Output Shape  Param #\n=====\nd (Dense)  (None, x)  10\n",
     r"line 3, column \d+: expected a dimension"),
    ("┃ Layer (type) ┃ Param # ┃\n│ d (Dense) │ 10 │\n└\n",  # found by the fuzz test
     r"line 1: expected the columns Layer \(type\), Output Shape and Param #"),
])
def test_bad_input_one_line_error(text, pattern):
    with pytest.raises(PastedSummaryError, match=pattern) as info:
        parse_summary(text, "paste.txt")
    assert "\n" not in str(info.value) and str(info.value).startswith("paste.txt")


def test_total_without_digits_is_not_a_total():  # found by fuzzing: "Total params: ,"
    text = _tamper((DATA / "seed_004_dense.txt").read_text(), "Total params: 7,993",
                   "Total params: ,")
    assert parse_summary(text).totals.total is None


def test_size_cap():
    with pytest.raises(PastedSummaryError, match="more than the 1,000,000"):
        parse_summary("x" * (MAX_CHARS + 1))


_SEEDS = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.txt"))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_parser(data):
    """Random edits of a real table, and random text: a result or a ParamlabError, nothing
    else."""
    seed = data.draw(st.sampled_from(_SEEDS))
    text = data.draw(st.one_of(
        st.text(max_size=400),
        st.builds(lambda i, j, s: seed[:i] + s + seed[j:],
                  st.integers(0, len(seed)), st.integers(0, len(seed)),
                  st.text(alphabet="│┃├└─━()[],0123456789 None\n\t>`=_-:abc", max_size=30)),
    ))
    try:
        explain(parse_summary(text))
    except ParamlabError as exc:
        assert "\n" not in str(exc)


def _cli(*args: str, stdin: str | bytes = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([sys.executable, "-m", "paramlab.cli", "explain", *args], input=data,
                          capture_output=True, env=env, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(),
                                       done.stderr.decode())


def test_cli_stdin_json_and_exit_codes():
    done = _cli("-", "--format", "json", stdin=(DATA / "seed_004_dense.txt").read_text())
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [r["params"] for r in payload["rows"]] == [7850, 110, 33]
    tampered = _tamper((DATA / "seed_004_dense.txt").read_text(), "│           110 │",
                       "│           111 │")
    assert _cli("-", stdin=tampered).returncode == 1
    bad = _cli("-", stdin="not a summary")
    assert bad.returncode == 2 and re.match(r"paramlab: error: <stdin>: no summary", bad.stderr)
    assert "Traceback" not in bad.stderr
    binary = _cli("-", stdin=b"Layer (type)\xff\n")
    assert binary.returncode == 2
    assert binary.stderr == ("paramlab: error: <stdin>: byte offset 12: not UTF-8 text "
                             "(invalid start byte); expected a summary as Keras or torchinfo "
                             "print it\n")


def test_keras3_optimizer_frozen_nested_and_long_names():
    """After fit() Keras adds "Optimizer params" to the total; a frozen nested model's weights
    are non-trainable though no rule books them so; a long name wraps in its cell."""
    keras = pytest.importorskip("keras")
    import numpy as np

    layers = keras.layers
    inner = keras.Sequential([keras.Input((12,)), layers.Dense(4)], name="inner")
    inner.trainable = False
    model = keras.Sequential([keras.Input((12,)), inner,
                              layers.Dense(7, name="a_really_long_layer_name_that_wraps_over"),
                              layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 12)), np.zeros((4, 2)), verbose=0, epochs=1)
    summary = parse_summary(_keras_summary(model))
    assert summary.totals.optimizer
    result = explain(summary)
    assert [r.status for r in result.rows] == ["unchecked", "explained", "explained"]
    assert result.rows[1].formula == "(4 + 1) × 7 = 35"
    assert all(t.ok for t in result.totals) and result.flagged == 0
    assert "frozen layers" in result.totals[1].how


def test_torchinfo_recursive_row(torchinfo_tables):
    torch = pytest.importorskip("torch")
    from torchinfo import summary as torchinfo_summary

    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = torch.nn.Linear(8, 8), torch.nn.Linear(8, 2)

        def forward(self, x):
            return self.out(self.hidden(self.hidden(x)))

    text = str(torchinfo_summary(Twice(), input_size=(1, 8), verbose=0))
    result = explain(parse_summary(text))
    assert [r.row.shared for r in result.rows] == [False, False, True, False]
    assert result.flagged == 0 and result.totals[0].computed == 90


def test_docs_example_is_what_explain_prints():
    """docs/explain.md shows the explanation of keras2_sequential.txt (not runnable there:
    the docs harness runs in an empty folder); it must stay what paramlab prints."""
    from paramlab.render.pasted import render_markdown, render_text

    page = (Path(__file__).parents[1] / "docs" / "explain.md").read_text(encoding="utf-8")
    shown = page.split("$ paramlab explain summary.txt\n", 1)[1].split("```", 1)[0]
    result = explain(parse_summary((DATA / "keras2_sequential.txt").read_text()))
    assert render_text(result) == shown
    flagged = _tamper((DATA / "keras2_sequential.txt").read_text(), "32896 ", "32897 ")
    line = next(s for s in render_text(explain(parse_summary(flagged))).splitlines()
                if s.startswith("line    9"))
    assert line in page
    table = render_markdown(explain(parse_summary(flagged)))
    assert "| 9 | dense_1 (Dense) | 32,897 | flagged |" in table
