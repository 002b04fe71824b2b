"""The PyTorch adapter against PyTorch itself: parameters, buffers, sharing, shapes, MACs."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import paramlab  # noqa: E402
from paramlab.adapters.torch import count_import_path, count_module  # noqa: E402
from paramlab.cli import main  # noqa: E402
from paramlab.errors import ConfigError, ShapeError  # noqa: E402
from paramlab.options import CountOptions  # noqa: E402
from torch_models_for_tests import ResNet50, TiedLM  # noqa: E402


def opts(**kwargs: Any) -> CountOptions:
    return CountOptions(**kwargs)


def unique_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() de-duplicates ties


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return ResNet50().eval()


@pytest.fixture(scope="module")
def resnet_traced(resnet: nn.Module) -> paramlab.Summary:
    return count_module(resnet, None, opts(input_size="2,3,224,224"))


def test_resnet50_total_matches_torch(resnet: nn.Module) -> None:
    summary = paramlab.count(resnet)
    assert summary.total == unique_params(resnet) == 25_557_032
    assert summary.trainable == 25_557_032
    assert summary.buffers == sum(b.numel() for b in resnet.buffers())
    assert summary.convention == "torch"


def test_resnet50_rows_partition_parameters(resnet: nn.Module) -> None:
    summary = count_module(resnet, None, opts(depth=2))
    by_name = {row.name: row for row in summary.layers}
    assert by_name["layer1"].params == 0 and by_name["layer1"].depth == 0
    assert by_name["layer1.0"].depth == 1
    for name in ("layer1.0", "layer3.5", "fc", "conv1"):
        module = resnet.get_submodule(name)
        assert by_name[name].params == unique_params(module)
    assert "layer1.0.conv1" not in by_name  # folded at depth 2
    assert by_name["fc"].formula == "(2,048 + 1) × 1,000 = 2,049,000"
    assert by_name["conv1"].formula == "7·7·3 × 64 = 9,408"


@pytest.mark.parametrize("depth", [0, 1, 3, 4])
def test_depth_keeps_totals(resnet: nn.Module, depth: int) -> None:
    summary = count_module(resnet, None, opts(depth=depth))
    assert summary.total == 25_557_032
    assert max(row.depth for row in summary.layers) == max(depth - 1, 0)
    if depth == 0:
        assert len(summary.layers) == 1


def test_output_shapes_match_a_real_forward(resnet: nn.Module, resnet_traced) -> None:
    shapes = {}
    hooks = [resnet.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
        for n in ("conv1", "maxpool", "layer2", "layer4.2", "fc")]
    with torch.no_grad():
        resnet(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    rows = {row.name: row for row in resnet_traced.layers}
    for name, shape in shapes.items():
        assert rows[name].output_shape == shape


def test_macs_match_flop_counter_per_row(resnet: nn.Module, resnet_traced) -> None:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        resnet(torch.zeros(1, 3, 224, 224))
    counts = {k: sum(v.values()) for k, v in counter.get_flop_counts().items()}
    rows = {row.name: row for row in resnet_traced.layers}
    assert resnet_traced.macs * 2 == counts["Global"]  # batch of 2 divided back to one example
    assert rows["fc"].macs == 2048 * 1000
    assert rows["conv1"].macs == 7 * 7 * 3 * 64 * 112 * 112  # k·k·c_in·c_out·H_out·W_out
    assert rows["layer3.2"].macs * 2 == counts["ResNet50.layer3.2"]


def test_tied_embedding_counted_once() -> None:
    model = TiedLM(vocab=100, dim=16)
    naive = sum(p.numel() for m in model.modules() for p in m.parameters(recurse=False))
    summary = count_module(model, None, opts(input_size="2,7"))
    assert summary.total == unique_params(model) == 100 * 16 + 17 * 16
    assert naive - summary.total == 1600
    head = next(row for row in summary.layers if row.name == "head")
    assert head.params == 0 and head.shared
    assert head.formula == "shares weight with encoder.embed"
    assert head.output_shape == (7, 100)
    assert summary.macs == 16 * 16 * 7 + 16 * 100 * 7


def test_module_registered_twice_counted_once() -> None:
    block = nn.Linear(8, 8)
    model = nn.Sequential(block, nn.ReLU(), block)
    summary = count_module(model, None, opts())
    assert summary.total == unique_params(model) == 72
    assert summary.layers[-1].formula.startswith("shares weight with 0")


def test_requires_grad_false_is_non_trainable() -> None:
    model = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 3))
    model[0].weight.requires_grad_(False)
    summary = count_module(model, None, opts())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert (summary.trainable, summary.non_trainable) == (trainable, 400)
    assert "requires_grad=False" in summary.layers[0].formula


def test_buffers_and_keras_convention() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    torch_view = count_module(model, "torch", opts())
    assert torch_view.total == unique_params(model) == 112 + 8
    assert torch_view.buffers == sum(b.numel() for b in model.buffers()) == 9
    keras_view = count_module(model, "keras", opts())
    assert keras_view.total == 120 + 8  # moving mean/variance; no num_batches_tracked
    assert keras_view.non_trainable == 8 and keras_view.buffers == 0
    assert torch_view.other is not None and torch_view.other.total == 128


def test_direct_parameter_on_root_gets_a_row() -> None:
    class WithToken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
            self.proj = nn.Linear(8, 8)

    summary = count_module(WithToken(), None, opts())
    assert summary.layers[0].name == "(WithToken)" and summary.layers[0].params == 8
    assert summary.total == 80


def test_lstm_and_attention_macs_match_flop_counter() -> None:
    class Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.att = nn.MultiheadAttention(16, 2, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y, _ = self.lstm(x)
            return self.att(y, y, y)[0]

    model = Seq()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 5, 8))
    summary = count_module(model, None, opts(input_size="1,5,8"))
    assert summary.total == unique_params(model)
    att = summary.layers[1]
    assert 2 * att.macs == sum(counter.get_flop_counts()["Seq.att"].values())
    assert att.macs == 5 * 16 * 48 + 2 * (2 * 5 * 5 * 8) + 5 * 16 * 16  # in-proj, QK, AV, out
    # the CPU LSTM kernel is fused (FlopCounterMode sees 0 there); on meta it decomposes
    lstm = summary.layers[0]
    assert lstm.macs == 5 * 4 * 16 * (8 + 16)  # T · gates · h · (in + h)
    assert lstm.output_shape == (5, 16)


def test_huge_model_from_import_path_on_meta() -> None:
    summary = count_import_path(
        "torch_models_for_tests:big_mlp", None, opts(input_size="1,16384")
    )
    expected = 20 * (16384 + 1) * 16384
    assert summary.total == expected and round(summary.total / 1e9, 1) == 5.4
    assert summary.macs == 20 * 16384 * 16384
    assert summary.origin == "torch_models_for_tests:big_mlp"


def test_import_path_args_json() -> None:
    summary = count_import_path(
        "torch.nn:Linear", None, opts(args='{"in_features": 10, "out_features": 3}')
    )
    assert summary.total == 33 and summary.layers[0].formula == "(10 + 1) × 3 = 33"


@pytest.mark.parametrize(
    ("target", "args", "needle"),
    [
        ("no_such_pkg_xyz.models:Net", None, "cannot import module 'no_such_pkg_xyz.models'"),
        ("torch.nn:NoSuchLayer", None, "has no attribute 'NoSuchLayer'"),
        ("torch_models_for_tests:failing_factory", None, "raised RuntimeError"),
        ("torch.nn:Linear", "{in_features: 3}", "is not valid JSON"),
        ("torch.nn:Linear", "[3, 4]", "must be a JSON object"),
        ("torch.nn:Linear", '{"nope": 1}', "raised TypeError"),
        ("math:pi", None, "expected a class or factory"),
        ("builtins:dict", None, "expected a torch.nn.Module"),
    ],
)
def test_import_path_errors_name_the_path(target: str, args: str | None, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as info:
        count_import_path(target, None, opts(args=args))
    message = str(info.value)
    assert "\n" not in message and target in message


def test_bad_input_size_and_failing_forward() -> None:
    with pytest.raises(ShapeError, match="--input-size"):
        count_module(nn.Linear(3, 2), None, opts(input_size="1,a"))
    with pytest.raises(ShapeError, match="forward pass of Linear"):
        count_module(nn.Linear(3, 2), None, opts(input_size="1,5"))


def test_live_weights_untouched_by_trace() -> None:
    model = nn.Linear(4, 2)
    before = model.weight.detach().clone()
    count_module(model, None, opts(input_size="1,4"))
    assert model.weight.device.type == "cpu" and torch.equal(model.weight, before)


def test_cli_import_path(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["count", "torch.nn:Linear", "--args", '{"in_features": 4, "out_features": 2}',
                 "--input-size", "1,4"])
    out = capsys.readouterr().out
    assert code == 0 and "Total params: 10" in out and "(None, 2)" in out


def test_cli_bad_path_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "no_such_pkg_xyz:Net"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no_such_pkg_xyz" in err


