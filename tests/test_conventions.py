"""Where Keras and PyTorch disagree, each convention matches its own framework exactly."""

import pytest

import paramlab

torch = pytest.importorskip("torch")
nn = torch.nn


def torch_counts(module: "nn.Module") -> tuple[int, int]:
    """(parameters, buffer elements) as PyTorch reports them."""
    return (sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers()))


@pytest.mark.parametrize(("kind", "units", "features", "bias"),
                         [("LSTM", 7, 5, True), ("GRU", 4, 9, True), ("RNN", 6, 3, True),
                          ("LSTM", 3, 2, False), ("GRU", 5, 5, False)])
def test_recurrent_torch_convention(kind: str, units: int, features: int, bias: bool) -> None:
    module = getattr(nn, kind)(features, units, batch_first=True, bias=bias)
    keras_name = "simple_rnn" if kind == "RNN" else kind.lower()
    spec = f"input(10, {features}) > {keras_name}({units}, use_bias={str(bias).lower()})"
    summary = paramlab.count(spec, convention="torch")
    assert (summary.total, summary.buffers) == torch_counts(module)
    # and Keras' count, one bias per gate, is reported as the other convention
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    extra = gates * units if bias and kind != "GRU" else 0  # Keras GRU(reset_after) has two
    assert summary.other is not None
    assert summary.other.total == summary.total - extra


@pytest.mark.parametrize(("spec", "module"), [
    ("input(8, 8, 6) > batch_normalization", lambda: nn.BatchNorm2d(6)),
    ("input(12) > batch_normalization(center=false, scale=false)",
     lambda: nn.BatchNorm1d(12, affine=False)),
])
def test_batchnorm_buffers(spec: str, module: "object") -> None:
    bn = module()  # type: ignore[operator]
    summary = paramlab.count(spec, convention="torch")
    assert (summary.total, summary.buffers) == torch_counts(bn)
    assert summary.non_trainable == 0
    keras_view = paramlab.count(spec, convention="keras")
    channels = bn.num_features
    assert keras_view.non_trainable == 2 * channels  # moving mean and variance
    assert "buffers" in str(summary)


def test_convention_is_stated_with_the_other_count() -> None:
    text = str(paramlab.count("input(10, 4) > lstm(8)"))
    assert "Keras convention" in text
    assert "Under the torch convention: total 448" in text  # 4·(4+8+2)·8


def test_repr_html_is_a_table() -> None:
    html = paramlab.count("784-10-10-3")._repr_html_()
    assert html.count("<tr>") == 1 + 3  # header and three Dense rows
    assert "<th" in html and "Total params: 7,993 (31.22 KB)" in html
