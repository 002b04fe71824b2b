"""Answers that used to be wrong, each checked against the real framework where one applies:
zoo names leaking onto a user's spec, `--no-other` ignored for model objects, a LoRA Dense's
frozen kernel called a statistic, ONNX MACs behind Identity aliases, Markdown/HTML missing
the dtype and FLOPs lines, and the DSL's resource limits."""

from __future__ import annotations

from pathlib import Path

import pytest

import paramlab
from paramlab.cli import main
from paramlab.spec.dsl import MAX_LAYERS, MAX_NESTING
from paramlab.zoo import ZOO


def keras_module():  # type: ignore[no-untyped-def]
    return pytest.importorskip("keras")


def test_zoo_name_does_not_leak_onto_the_same_dsl_text() -> None:
    keras = keras_module()
    zoo = paramlab.count("seed-mnist-cnn")
    mine = paramlab.count(ZOO["seed-mnist-cnn"].spec)
    assert zoo.name == "seed-mnist-cnn" and zoo.origin.startswith("zoo:")
    reference = keras.Sequential([keras.Input((28, 28, 1)),
                                  keras.layers.Conv2D(10, 3, padding="same"),
                                  keras.layers.Conv2D(10, 3, padding="same"),
                                  keras.layers.Flatten(), keras.layers.Dense(3)])
    assert mine.name == "sequential" and reference.name.startswith("sequential")
    assert mine.origin == "dsl" and mine.total == zoo.total == reference.count_params()


def test_no_other_is_honoured_for_torch_and_keras_objects(
        capsys: pytest.CaptureFixture[str]) -> None:
    keras = keras_module()
    torch = pytest.importorskip("torch")
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4),
                                    keras.layers.BatchNormalization()])
    for model in (torch_model, keras_model):
        assert paramlab.count(model, other_convention=False).other is None
    # with the other convention: each framework's count of the other's model
    assert paramlab.count(torch_model).other.total == keras_model.count_params() == 36
    assert paramlab.count(keras_model).other.total == sum(
        p.numel() for p in torch_model.parameters()) == 28
    assert main(["count", "torch.nn:BatchNorm1d", "--args", '{"num_features": 4}',
                 "--no-other"]) == 0
    assert "convention:" not in capsys.readouterr().out.split("PyTorch convention")[1]


@pytest.mark.parametrize("how", ["lora_rank", "enable_lora"])
def test_lora_dense_frozen_kernel_is_a_parameter_not_a_statistic(how: str) -> None:
    keras = keras_module()
    dense = keras.layers.Dense(8, lora_rank=2) if how == "lora_rank" else keras.layers.Dense(8)
    model = keras.Sequential([keras.Input((4,)), dense])
    if how == "enable_lora":
        dense.enable_lora(2)
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    for convention in ("torch", "keras"):
        summary = paramlab.count(model, convention=convention)
        assert (summary.total, summary.trainable, summary.buffers) == (
            model.count_params(), trainable, 0) == (64, 32, 0)
        (row,) = summary.layers
        assert row.formula.startswith("kernel 4 × 8 + bias 8 + lora_kernel_a 4 × 2")
        assert "= 64 (frozen: 32 non-trainable)" in row.formula  # as the row: 64, 32 frozen
        assert "statistic" not in row.formula


def test_lora_dense_spec_formula_agrees_with_keras() -> None:
    """From the DSL: the frozen part named in the formula is what Keras freezes (the kernel;
    the bias stays trainable)."""
    keras = keras_module()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, lora_rank=2)])
    frozen = sum(int(v.numpy().size) for v in model.non_trainable_weights)
    summary = paramlab.count("input(4) > dense(8, lora_rank=2)")
    (row,) = summary.layers
    assert (summary.total, summary.non_trainable) == (model.count_params(), frozen) == (64, 32)
    assert f"= {frozen} (frozen kernel)" in row.formula and "+ 8 bias" in row.formula


def test_batchnorm_statistics_still_buffers_under_torch() -> None:
    keras = keras_module()
    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization()])
    summary = paramlab.count(model, convention="torch")
    assert (summary.total, summary.buffers) == (8, 8)
    assert summary.total + summary.buffers == model.count_params()


def test_onnx_macs_follow_identity_aliases(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from onnx import TensorProto, helper, numpy_helper
    from torch.utils.flop_counter import FlopCounterMode

    weight = numpy_helper.from_array(torch.ones(4, 3).numpy(), "W")
    graph = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["W_alias"]),
         helper.make_node("MatMul", ["X", "W_alias"], ["Y"], name="matmul")],
        "aliased", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 3])], [weight])
    path = tmp_path / "aliased.onnx"
    onnx.save(helper.make_model(graph), str(path))
    summary = paramlab.count(str(path))
    linear = torch.nn.Linear(4, 3, bias=False)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        linear(torch.zeros(1, 4))
    assert summary.total == linear.weight.numel() == 12
    assert 2 * summary.macs == counter.get_total_flops() == 24


def test_markdown_and_html_have_the_dtype_and_flops_lines() -> None:
    summary = paramlab.count("784-10-10-3", dtype="float16", flops=True, memory=True)
    text, markdown, html = str(summary), summary.to_markdown(), summary._repr_html_()
    for line in ("Sizes are for float16 parameters at 2 bytes each",
                 "forward FLOPs ≈ 2 × MACs = 15,940", "Total params: 7,993 (15.61 KB)",
                 "fp32 Adam/AdamW", "Total per example"):
        assert line in text and line in markdown and line in html, line


@pytest.mark.parametrize(("spec", "message", "column"), [
    ("input(4) > dense(3) * 99999999999", f"at most {MAX_LAYERS:,}", 22),
    ("input(4) > (dense(3) > dense(2)) * 15000", "30,001 layers", 35),
    ("input(4) > (dense(3) * 1000) * 1000", "1,000,001 layers", 31),
    ("input(4) > " + "(" * 500 + "dense(3)" + ")" * 500, f"deeper than {MAX_NESTING}", 61),
    ("input(4) > dense(3, activation=" + "[" * 500 + "]" * 500 + ")", "deeper than", 81),
    ("input(4) > " + "bidirectional(" * 60 + "lstm(2)" + ")" * 60, "deeper than", 11 + 51 * 14),
])
def test_dsl_limits_are_spec_errors_with_a_caret(spec: str, message: str, column: int) -> None:
    with pytest.raises(paramlab.SpecError, match=message) as info:
        paramlab.count(spec)
    assert info.value.column == column
    assert info.value.caret().endswith("^")


def test_cli_limit_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "input(4) > dense(3) * 99999999999"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 3  # message, spec line, caret


def test_thousands_of_layers_count_exactly() -> None:
    """Closed form of a chain of Dense(3) after input(4): 4·3 + 3, then 3·3 + 3 each."""
    layers = 4000
    summary = paramlab.count(f"input(4) > dense(3) * {layers}", other_convention=False)
    assert summary.total == 15 + (layers - 1) * 12
    assert len(summary.layers) == layers and summary.layers[-1].name == f"dense_{layers - 1}"


def test_cli_flags_and_count_keywords_are_one_options_object() -> None:
    from paramlab.cli import build_parser

    ns = build_parser(with_lab=False).parse_args(
        ["count", "784-10-10-3", "--no-other", "--depth", "2", "--data", "100,784",
         "--input-size", "1,784", "--input-dtype", "float16", "--memory"])
    assert paramlab.CountOptions.from_namespace(ns) == paramlab.CountOptions(
        other_convention=False, depth=2, observations=100, features=784, input_size="1,784",
        dtypes=["float16"], memory=True)
    with pytest.raises(paramlab.ParamlabError, match="not both"):
        paramlab.count("784-10-10-3", options=paramlab.CountOptions(), depth=2)
