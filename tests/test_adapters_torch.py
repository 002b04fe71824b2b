"""PyTorch modules: counts equal PyTorch's own (unique parameters, buffers apart), tied
weights once, frozen parameters non-trainable, shapes and FLOPs from a meta-device pass
checked against FlopCounterMode, and huge models summarized without memory."""

import json
import sys
from pathlib import Path

import pytest

import paramlab
from paramlab.cli import main

torch = pytest.importorskip("torch")
nn = torch.nn
sys.path.insert(0, str(Path(__file__).parent))
import torch_models  # noqa: E402


class Options:
    def __init__(self, depth: int | None = None, input_size: str | None = None):
        self.depth = depth
        self.input_size = input_size
        self.args = None


def test_resnet50_matches_torchvision_count() -> None:
    model = torch_models.ResNet50()
    summary = paramlab.count(model)
    assert summary.total == sum(p.numel() for p in model.parameters()) == 25_557_032
    assert summary.buffers == sum(b.numel() for b in model.buffers())
    assert summary.convention == "torch"
    keras_view = paramlab.count(model, convention="keras")
    running = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert keras_view.total == 25_557_032 + running  # Keras books them as parameters
    assert keras_view.non_trainable == running


def test_tied_weights_counted_once() -> None:
    model = torch_models.TiedLM()
    summary = paramlab.count(model)
    unique = sum(p.numel() for p in model.parameters())  # parameters() deduplicates
    naive = sum(p.numel() for m in model.modules() for p in m.parameters(recurse=False))
    assert summary.total == unique < naive
    head = next(row for row in summary.layers if row.name == "lm_head")
    assert head.params == 0 and head.shared and "embed.weight" in head.formula


def test_frozen_parameters_are_non_trainable() -> None:
    model = torch_models.TiedLM()
    for p in model.block.parameters():
        p.requires_grad_(False)
    summary = paramlab.count(model)
    frozen = sum(p.numel() for p in model.block.parameters())
    assert summary.non_trainable == frozen
    assert summary.trainable == sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_depth_folds_rows_and_keeps_the_sum() -> None:
    model = torch_models.ResNet50()
    for depth in (1, 2, 3):
        summary = paramlab.count(model, options=Options(depth=depth))
        assert sum(row.params for row in summary.layers) == 25_557_032
    shallow = paramlab.count(model, options=Options(depth=1))
    assert [row.name for row in shallow.layers][:3] == ["conv1", "bn1", "relu"]


def test_shapes_and_flops_from_a_meta_forward() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    model = torch_models.ResNet50()
    summary = paramlab.count(model, options=Options(depth=1, input_size="1,3,224,224"))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    assert summary.macs * 2 == counter.get_total_flops()
    fc = next(row for row in summary.layers if row.name == "fc")
    assert fc.output_shape == (1000,) and fc.macs == 2048 * 1000
    layer4 = next(row for row in summary.layers if row.name == "layer4")
    assert layer4.output_shape == (2048, 7, 7)


def test_a_model_too_big_for_memory_via_import_path(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code = main(["count", "torch_models:huge_mlp", "--json", "--input-size", "1,16384"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["total"] == 20 * (16384 + 1) * 16384  # 5,369,036,800 parameters
    assert data["macs"] == 20 * 16384 * 16384
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500  # the weights alone would need 21 GB


@pytest.mark.parametrize(("target", "extra", "fragment"), [
    ("no_such_module_xyz:build", [], "cannot import 'no_such_module_xyz'"),
    ("torch_models:missing", [], "has no attribute 'missing'"),
    ("torch_models:factory_that_fails", [], "building the model failed (ValueError: width "
     "must be positive)"),
    ("torch_models:huge_mlp", ["--args", "{layers: 2}"], "--args is not valid JSON"),
])
def test_bad_import_paths_exit_2(capsys: pytest.CaptureFixture[str], target: str,
                                 extra: list[str], fragment: str) -> None:
    assert main(["count", target, *extra]) == 2
    err = capsys.readouterr().err
    assert fragment in err and target in err and "Traceback" not in err
