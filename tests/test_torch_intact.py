"""`paramlab.count(module, input_size=…)` against PyTorch itself, and the user's model exactly
as it was afterwards: same tensors (identity, values, device, dtype, requires_grad), same
hooks, same training flags — with shared modules, tied weights, hooks and buffers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import paramlab  # noqa: E402
from paramlab.errors import ShapeError  # noqa: E402


def torch_numbers(model: nn.Module) -> tuple[int, int]:
    """(total, trainable) as PyTorch users count: parameters() de-duplicates shared tensors."""
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def snapshot(model: nn.Module) -> list[Any]:
    """Everything a count could disturb, by identity and by value."""
    state: list[Any] = []
    for name, module in model.named_modules(remove_duplicate=False):
        state.append((name, id(module), module.training,
                      [(k, id(v)) for k, v in module._forward_hooks.items()],
                      [(k, id(v)) for k, v in module._forward_pre_hooks.items()],
                      [(k, id(v)) for k, v in module._modules.items()]))
        for key, tensor in [*module._parameters.items(), *module._buffers.items()]:
            if tensor is None:
                continue
            state.append((name, key, id(tensor), type(tensor), tensor.device, tensor.dtype,
                          tensor.requires_grad, tuple(tensor.shape), tensor.detach().clone()))
    return state


def assert_same(before: list[Any], after: list[Any]) -> None:
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert len(old) == len(new) and old[:-1] == new[:-1]
        if isinstance(old[-1], torch.Tensor):
            assert torch.equal(old[-1], new[-1])
        else:
            assert old[-1] == new[-1]


class SharedTiedHooked(nn.Module):
    """One Linear registered under two names, an embedding tied to the head, BatchNorm
    buffers, a frozen parameter, a submodule in eval mode and a user's forward hook."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.block = nn.Linear(8, 8)
        self.again = self.block  # the same module under a second name
        self.norm = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, 20, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.scale = nn.Parameter(torch.ones(8), requires_grad=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.again(torch.relu(self.block(self.embed(ids).mean(1))))
        return self.head(self.norm(x) * self.scale)


@pytest.fixture
def hooked() -> tuple[nn.Module, list[str]]:
    torch.manual_seed(0)
    model = SharedTiedHooked()
    model.norm.eval()
    calls: list[str] = []
    model.block.register_forward_hook(lambda m, i, o: calls.append("hook"))
    model.register_forward_pre_hook(lambda m, i: calls.append("pre"))
    return model, calls


def test_count_leaves_shared_tied_hooked_model_intact(hooked: tuple[nn.Module, list[str]]) -> None:
    model, calls = hooked
    before = snapshot(model)
    summary = paramlab.count(model, input_size=(2, 5), depth=1)
    assert_same(before, snapshot(model))
    assert calls == []  # the user's hooks never saw the probe pass
    assert (summary.total, summary.trainable) == torch_numbers(model) == (160 + 72 + 16 + 8,
                                                                         160 + 72 + 16)
    assert summary.buffers == sum(b.numel() for b in model.buffers())
    rows = {row.name: row for row in summary.layers}
    assert rows["head"].output_shape == (20,) and rows["head"].shared
    assert rows["again"].params == 0 and "block" in rows["again"].formula
    model(torch.zeros(2, 5, dtype=torch.long))  # still a working model with real weights
    assert calls == ["pre", "hook", "hook"]


def test_keywords_match_the_cli_options(hooked: tuple[nn.Module, list[str]]) -> None:
    model, _ = hooked
    by_keywords = paramlab.count(model, input_size="2,5", dtypes=["long"], depth=0,
                                 convention="keras", other_convention=False)
    assert by_keywords.other is None
    assert len(by_keywords.layers) == 1 and by_keywords.layers[0].output_shape == (20,)
    assert by_keywords.total == torch_numbers(model)[0] + 16  # + running mean/variance


def test_lazy_module_before_first_forward() -> None:
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Linear(8, 2))
    summary = paramlab.count(model)
    assert summary.total == 18 and summary.layers[0].params == 0
    assert any("lazy" in note.text and "input_size" in note.text and note.kind == "shapes"
               for note in summary.notes)
    assert "uninitialized" in str(summary)
    measured = paramlab.count(model, input_size=(1, 5))
    reference = copy.deepcopy(model)
    reference(torch.zeros(1, 5))
    assert (measured.total, measured.trainable) == torch_numbers(reference) == (66, 66)
    assert measured.layers[0].type == "LazyLinear" and measured.layers[0].output_shape == (8,)
    assert measured.other is not None and measured.other.total == 66
    assert nn.parameter.is_lazy(model[0].weight)  # the user's module is still uninitialized


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_probe_input_follows_the_model_dtype(dtype: torch.dtype) -> None:
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Linear(6, 3)).to(dtype)
    summary = paramlab.count(model, input_size=(2, 4))  # float32 inputs would fail here
    assert [row.output_shape for row in summary.layers] == [(6,), (6,), (3,)]
    assert summary.layers[-1].output_shape == tuple(model(torch.zeros(2, 4, dtype=dtype)).shape[1:])
    assert summary.total == torch_numbers(model)[0]
    assert next(model.parameters()).dtype == dtype


def test_script_module_counted_without_shapes() -> None:
    scripted = torch.jit.script(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    summary = paramlab.count(scripted, input_size=(2, 3))
    assert (summary.total, summary.trainable) == torch_numbers(scripted)
    assert summary.buffers == sum(b.numel() for b in scripted.buffers())
    assert [row.type for row in summary.layers] == ["Linear", "BatchNorm1d"]
    (note,) = (n.text for n in summary.notes)
    assert "ScriptModule" in note and "\n" not in note
    assert all(row.output_shape == () for row in summary.layers)


class ReadsValues(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum().item() > 0:  # data-dependent: impossible on meta tensors
            x = -x
        return self.fc(x)


class MovesDevices(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).to("cpu")


@pytest.mark.parametrize("model_class", [ReadsValues, MovesDevices])
def test_forward_that_cannot_run_on_meta_is_noted(model_class: type[nn.Module]) -> None:
    model = model_class()
    before = snapshot(model)
    summary = paramlab.count(model, input_size=(1, 4))
    assert_same(before, snapshot(model))
    assert summary.total == torch_numbers(model)[0] == 10
    (note,) = (n.text for n in summary.notes)
    assert "meta device" in note and "\n" not in note
    assert note in str(summary) and note in summary.to_markdown()


def test_several_inputs_and_a_wrong_size() -> None:
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(4, 2)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.a(x) + self.b(y)

    summary = paramlab.count(Pair(), input_size=[(1, 3), (1, 4)])
    assert summary.macs == 3 * 2 + 4 * 2
    with pytest.raises(ShapeError, match="forward pass of Pair"):
        paramlab.count(Pair(), input_size=[(1, 4), (1, 4)])
