"""--memory and --flops against closed forms and against PyTorch's FlopCounterMode."""

import json

import pytest

import paramlab
from paramlab.cli import main
from paramlab.memory import activation_values, flops_estimate, memory_estimate


def test_training_bytes_per_parameter_closed_forms() -> None:
    summary = paramlab.count("784-10-10-3")  # 7,993 parameters, all trainable
    est = memory_estimate(summary, batch_size=1)
    fixed = {k: v["weights_gradients_optimizer"] for k, v in est["training"].items()}
    assert fixed["fp32 adam"] == 16 * 7_993  # 4 weights + 4 gradients + 8 Adam moments
    assert fixed["fp32 sgd"] == 8 * 7_993
    assert fixed["fp32 sgd-momentum"] == 12 * 7_993
    assert fixed["mixed fp16/bf16 adam"] == 16 * 7_993  # 2 + 2 + 4 master + 8 (ZeRO)
    assert est["serving"] == {"fp32": 4 * 7_993, "fp16/bf16": 2 * 7_993, "int8": 7_993,
                              "int4": 7_993 / 2}


def test_frozen_parameters_need_no_optimizer_state() -> None:
    summary = paramlab.count("input(8) > dense(4, trainable=false) > dense(2)")
    est = memory_estimate(summary)
    assert est["training"]["fp32 adam"]["weights_gradients_optimizer"] == 4 * 46 + 12 * 10


def test_activations_scale_with_the_batch() -> None:
    summary = paramlab.count("784-10-10-3")
    assert activation_values(summary) == 10 + 10 + 3
    one = memory_estimate(summary, 1)["training"]["fp32 adam"]["total"]
    many = memory_estimate(summary, 100)["training"]["fp32 adam"]["total"]
    assert many - one == 99 * 23 * 4


def test_flops_agree_with_flop_counter_mode() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 10, 3, padding=1), nn.Conv2d(10, 10, 3, padding=1),
                          nn.Flatten(), nn.Linear(7840, 3))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    summary = paramlab.count("seed-mnist-cnn")
    assert flops_estimate(summary)["forward_flops"] == counter.get_total_flops()


def test_cli_json_has_memory_and_flops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "vgg16", "--memory", "--flops", "--json", "--batch-size", "8"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["memory"]["batch_size"] == 8
    assert data["flops_estimate"]["macs"] == 15_470_264_320  # VGG16's published 15.5 GMACs
    assert main(["count", "vgg16", "--memory", "--flops"]) == 0
    out = capsys.readouterr().out
    assert "Assumptions: ZeRO accounting" in out and "training ≈ 92.8 GFLOP" in out
