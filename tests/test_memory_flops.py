"""--memory and --flops against hand closed forms (ZeRO's bytes per parameter) and PyTorch."""

from __future__ import annotations

import json

import pytest

import paramlab
from paramlab.cli import main
from paramlab.memory import (
    MemoryReport,
    MemorySection,
    TrainingRow,
    activation_elements,
    flops_report,
    memory_report,
)


def recipe(report: MemoryReport, precision: str, optimizer: str) -> TrainingRow:
    return next(r for r in report.training
                if r.precision.startswith(precision) and r.optimizer == optimizer)


@pytest.fixture(scope="module")
def mlp() -> paramlab.Summary:
    return paramlab.count("784-10-10-3")


def test_adam_fp32_is_16_bytes_per_param(mlp: paramlab.Summary) -> None:
    report = memory_report(mlp)
    p = mlp.total
    assert p == 7993
    adam = recipe(report, "fp32", "Adam/AdamW")
    assert adam.weights + adam.gradients + adam.optimizer_state == 16 * p
    assert recipe(report, "fp32", "SGD").optimizer_state == 0
    assert recipe(report, "fp32", "SGD + momentum").optimizer_state == 4 * p
    mixed = recipe(report, "mixed", "Adam/AdamW")
    assert (mixed.weights, mixed.gradients) == (2 * p, 2 * p)
    assert mixed.optimizer_state == 12 * p
    assert recipe(report, "mixed", "SGD").bytes_per_trainable_param == 8


def test_inference_bytes(mlp: paramlab.Summary) -> None:
    inference = memory_report(mlp).inference
    assert inference == {"float32": 4 * 7993, "float16/bfloat16": 2 * 7993,
                         "int8": 7993, "int4": 7993 / 2}


def test_activations_sum_of_layer_outputs_times_batch(mlp: paramlab.Summary) -> None:
    assert activation_elements(mlp) == 10 + 10 + 3
    report = memory_report(mlp, batch_size=32)
    assert recipe(report, "fp32", "SGD").activations == 23 * 4 * 32
    assert recipe(report, "mixed", "SGD").activations == 23 * 2 * 32
    adam = recipe(report, "fp32", "Adam/AdamW")
    assert adam.total == 16 * 7993 + 23 * 4 * 32


def test_non_trainable_and_buffers_cost_weights_only() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.BatchNorm1d(10))
    model[0].weight.requires_grad_(False)
    summary = paramlab.count(model)
    assert (summary.trainable, summary.non_trainable, summary.buffers) == (30, 100, 21)
    adam = recipe(memory_report(summary), "fp32", "Adam/AdamW")
    assert adam.weights == 130 * 4 + 21 * 4
    assert adam.gradients == 30 * 4 and adam.optimizer_state == 30 * 8


def test_flops_closed_form_and_torch_counter() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 30 * 30, 10))
    summary = paramlab.count(model, input_size=(4, 3, 32, 32))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    report = flops_report(summary, batch_size=4)
    assert report.forward_flops_per_example == counter.get_total_flops()
    assert report.macs_per_example == 3 * 3 * 3 * 8 * 30 * 30 + 7200 * 10
    assert report.training_flops_per_example == 3 * counter.get_total_flops()
    assert report.to_dict()["forward_flops_per_batch"] == 4 * counter.get_total_flops()
    assert [r.name for r in report.layers] == ["0", "2"]
    assert activation_elements(summary) == 8 * 30 * 30 * 2 + 10  # conv, flatten, linear


def test_unknown_flops_and_shapes_are_said() -> None:
    torch = pytest.importorskip("torch")
    summary = paramlab.count(torch.nn.Linear(3, 2), memory=True, flops=True)
    assert summary.memory is not None
    assert summary.memory.activation_elements_per_example is None
    for rendered in (str(summary), summary.to_markdown(), summary._repr_html_()):
        assert "need --input-size" in rendered and "Activations: unknown" in rendered


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "784-10-10-3", "--memory", "--flops", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "fp32 Adam/AdamW" in out and "Total per example" in out and "Batch of 8" in out
    assert main(["count", "784-10-10-3", "--memory", "--flops", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["memory"]["inference"]["float32"] == 4 * 7993
    assert data["flops"]["macs_per_example"] == 7970


def test_adapter_memory_sections_are_drawn_by_every_renderer() -> None:
    """The extension point for model-specific memory (a language model's KV cache): a
    section an adapter adds reaches the JSON and every renderer."""
    summary = paramlab.count("784-10-10-3")
    summary.memory_sections.append(MemorySection(
        "KV cache", ("dtype", "bytes per token"), (("bfloat16", 131072),),
        ("2 (K and V) × layers × kv heads × head dim",)))
    summary.memory = memory_report(summary)
    assert summary.to_dict()["memory"]["sections"][0]["rows"] == [["bfloat16", 131072]]
    for rendered in (str(summary), summary.to_markdown(), summary._repr_html_()):
        assert "KV cache" in rendered and "131,072" in rendered
        assert "2 (K and V) × layers" in rendered
