"""ONNX files exported here from small PyTorch models: the initializers counted once each
equal the model's unique parameters; corrupt files give a one-line error."""

import json
import sys
import warnings
from pathlib import Path

import pytest

import paramlab
from paramlab.cli import main

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
nn = torch.nn
sys.path.insert(0, str(Path(__file__).parent))
import torch_models  # noqa: E402


def export(model: "nn.Module", example: "torch.Tensor", path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=False,
                          do_constant_folding=False)
    return path


@pytest.mark.parametrize(("model", "example"), [
    (nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3)), torch.zeros(1, 20)),
    (nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3, groups=2), nn.Flatten(),
                   nn.Linear(4 * 4 * 4, 5)), torch.zeros(1, 3, 8, 8)),
    (torch_models.TiedLM(), torch.zeros(1, 6, dtype=torch.long)),
])
def test_initializers_equal_unique_parameters(tmp_path: Path, model: "nn.Module",
                                              example: "torch.Tensor") -> None:
    path = export(model, example, tmp_path / "model.onnx")
    summary = paramlab.count(str(path))
    assert summary.total == sum(p.numel() for p in model.parameters())
    assert summary.total == sum(row.params for row in summary.layers)


def test_shared_initializer_is_marked(tmp_path: Path) -> None:
    path = export(torch_models.TiedLM(), torch.zeros(1, 6, dtype=torch.long),
                  tmp_path / "tied.onnx")
    summary = paramlab.count(str(path))
    assert any(row.shared and "shared with" in row.formula for row in summary.layers)


def test_shapes_from_value_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    path = export(model, torch.zeros(1, 20), tmp_path / "mlp.onnx")
    assert main(["count", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [layer["output_shape"] for layer in data["layers"]] == [[None, 64], [None, 3]]


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              damage: str) -> None:
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    path = export(model, torch.zeros(1, 20), tmp_path / "bad.onnx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"not an onnx file")
    assert main(["count", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not a valid ONNX model" in err and "Traceback" not in err
