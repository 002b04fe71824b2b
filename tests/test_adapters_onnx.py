"""The ONNX adapter on files exported in the test from small PyTorch models."""

from __future__ import annotations

import types
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
from torch import nn  # noqa: E402

import paramlab  # noqa: E402
from paramlab.adapters.onnx import count_onnx  # noqa: E402
from paramlab.cli import main  # noqa: E402
from paramlab.errors import ConfigError  # noqa: E402


def export(model: nn.Module, example: torch.Tensor, path: Path, **kwargs: object) -> Path:
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), dynamo=False, **kwargs)
    return path


def unique_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).reshape(x.shape[0], -1))


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 6, bias=False)
        self.b = nn.Linear(6, 6)
        self.b.weight = self.a.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x)))


@pytest.fixture(scope="module")
def convnet_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    model = ConvNet()
    path = tmp_path_factory.mktemp("onnx") / "convnet.onnx"
    return model, export(model, torch.zeros(1, 3, 8, 8), path)


def test_totals_rows_shapes_and_macs(convnet_file: tuple[nn.Module, Path]) -> None:
    model, path = convnet_file
    summary = paramlab.count(str(path))
    assert summary.total == unique_params(model) == 8 * 28 + 289 * 10
    conv, gemm = summary.layers
    assert (conv.type, conv.params, conv.output_shape) == ("Conv", 224, (8, 6, 6))
    assert (gemm.type, gemm.params, gemm.output_shape) == ("Gemm", 2890, (10,))
    assert conv.macs == 3 * 3 * 3 * 8 * 6 * 6 and gemm.macs == 288 * 10
    assert conv.formula == "8 × 3 × 3 × 3 + 8 = 224"
    assert summary.convention == "torch"


def test_shared_initializer_counted_once(tmp_path: Path) -> None:
    model = Tied()
    path = export(model, torch.zeros(1, 6), tmp_path / "tied.onnx", do_constant_folding=False)
    summary = count_onnx(path, None, None)
    assert summary.total == unique_params(model) == 42
    gemm = next(row for row in summary.layers if row.type == "Gemm")
    assert gemm.params == 6 and "shares initializer a.weight with /a/Transpose" in gemm.formula


def test_identity_aliases_of_equal_tensors_counted_once(tmp_path: Path) -> None:
    """The exporter stores BatchNorm's all-ones weight and running_var once (Identity)."""
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    path = export(model, torch.zeros(2, 4), tmp_path / "bn1.onnx",
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    summary = count_onnx(path, None, None)
    assert [row.type for row in summary.layers] == ["Gemm", "BatchNormalization"]
    assert summary.total + summary.buffers == 20 + 8  # 4 + 4 stored; mean, var are aliases
    assert "shares initializer" in summary.layers[1].formula


def test_batchnorm_statistics_are_buffers(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    with torch.no_grad():  # distinct values, so the exporter keeps four tensors
        for tensor in (*model[1].parameters(), model[1].running_mean, model[1].running_var):
            tensor.copy_(torch.rand(4) + 0.5)
    path = export(model, torch.zeros(2, 4), tmp_path / "bn.onnx",
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    summary = count_onnx(path, None, None)
    bn = next(row for row in summary.layers if row.type == "BatchNormalization")
    assert bn.params == 8 and bn.buffers == 8  # ONNX has no num_batches_tracked
    assert summary.total == unique_params(model)
    assert count_onnx(path, "keras", None).non_trainable == 8


def test_dynamic_batch_axis(tmp_path: Path) -> None:
    path = export(nn.Linear(5, 2), torch.zeros(1, 5), tmp_path / "dyn.onnx",
                  input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    row = count_onnx(path, None, types.SimpleNamespace(depth=None)).layers[0]
    assert row.output_shape == (2,) and row.params == 12 and row.macs == 10


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_name_the_file(convnet_file, tmp_path: Path, damage: str) -> None:
    data = convnet_file[1].read_bytes()
    bad = tmp_path / f"{damage}.onnx"
    bad.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00\xffnot onnx" * 50,
                     "empty": b""}[damage])
    with pytest.raises(ConfigError) as info:
        count_onnx(str(bad), None, None)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_cli(convnet_file, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "nowhere/model.onnx"]) == 2
    assert "nowhere/model.onnx" in capsys.readouterr().err
    assert main(["count", str(convnet_file[1]), "--memory", "--flops"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 3,114" in out and "fp32 Adam/AdamW" in out and "Conv" in out
