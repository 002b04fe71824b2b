"""The CLI: output formats, exit status 2 with a one-line message on bad input, and the
promise that ``paramlab count`` on a spec imports no numerical framework."""

import json
import subprocess
import sys

import pytest

from paramlab.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_count_text_has_keras_footer_and_formula(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "784-10-10-3")
    assert code == 0
    assert "(784 + 1) × 10 = 7,850" in out
    assert " Total params: 7,993 (31.22 KB)" in out.splitlines()
    assert "98.2%" in out  # the first layer holds almost all parameters


def test_count_json_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "5-8-4-3", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["total"], data["trainable"], data["non_trainable"]) == (99, 99, 0)
    assert [layer["params"] for layer in data["layers"]] == [48, 36, 15]
    for layer in data["layers"]:
        assert {
            "name",
            "type",
            "output_shape",
            "params",
            "trainable",
            "non_trainable",
            "formula",
        } <= set(layer)
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((5,)), *(keras.layers.Dense(n) for n in (8, 4, 3))])
    assert [layer["params"] for layer in data["layers"]] == [
        layer.count_params() for layer in model.layers]
    assert data["total"] == model.count_params()


def test_count_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "4-16-8-4-2", "--format", "markdown")
    assert code == 0
    assert out.startswith("**Model:")
    assert "| dense (Dense) | (None, 16) | 80 |" in out


def test_explain_walks_through_the_sum(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "5-8-4-3", "--explain")
    assert code == 0
    assert "48 + 36 + 15 = 99" in out
    assert "each of its 8 units is connected to all 5 inputs" in out


def test_observations_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "40-2048-1024-1024-1", "--data", "13000,40")
    assert code == 0
    assert "Observations: 13,000" in out
    # 41·2048 + 2049·1024 + 1025·1024 + 1025 = 3,232,769 trainable parameters
    assert "248.67" in out  # 3,232,769 / 13,000


def test_dtype_changes_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(capsys, "count", "784-10-10-3", "--dtype", "float16")
    assert " Total params: 7,993 (15.61 KB)" in out.splitlines()


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("input(40) > dense(0)", "expected a positive integer for 'units'. Received: units=0"),
        ("input(40) > dens(3)", "did you mean 'Dense'"),
        ("input(40) > dense(3", "column 20"),
        ("input(4) > dense(3, unitz=2)", "did you mean 'units'"),
        ("784-0-3", "positive"),
        ("input(4) > dense(3, 4, 5, 6, 7, 8)", "positional"),
        ("missing-file.json", "no such file"),
        ("input(None, 4) > flatten", "Flatten needs every axis known"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], spec: str, fragment: str
) -> None:
    code, out, err = run(capsys, "count", spec)
    assert code == 2
    assert out == ""
    first = err.splitlines()[0]
    assert first.startswith("paramlab: error: ")
    assert fragment in first
    assert "Traceback" not in err


def test_caret_points_at_the_column(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(capsys, "count", "input(40) > dens(3)")
    spec_line, caret_line = err.splitlines()[1:3]
    assert spec_line.index("dens") == caret_line.index("^")


def test_count_imports_no_framework() -> None:
    code = (
        "import sys; from paramlab.cli import main; main(['count', '784-10-10-3']); "
        "heavy = [m for m in ('numpy', 'torch', 'keras', 'rich') if m in sys.modules]; "
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("input(4, 4, 1) > conv2d(2, 5)", "does not fit input (None, 4, 4, 1)"),
        ("a = input(4); b = input(5); [a, b] > add", "(None, 4) and (None, 5)"),
        ("input(10) > conv2d(3, 3)", "expects inputs of rank 4"),
        ("input(4, 4, 6) > group_normalization(groups=4)", "must divide the 6 channels"),
        ("input(6) > reshape((4, 2))", "holds 8 values but the input (None, 6) has 6"),
        ("input(3, 3, 1) > cropping2d(2)", "removes every value"),
        ("input(5) > lstm(3)", "expects inputs of rank 3"),
    ],
)
def test_impossible_shapes_exit_2(
    capsys: pytest.CaptureFixture[str], spec: str, fragment: str
) -> None:
    code, _, err = run(capsys, "count", spec)
    assert code == 2
    assert fragment in err.splitlines()[0]
