"""The hand-written backward pass against autograd, and the grouping's invariants.

Autograd differentiates each model on its own (unpadded weights, ``torch.nn.functional``), so
the check also covers padding: the stacked gradient must equal autograd's in each model's own
block and be exactly zero in the padding.
"""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from paramlab.lab.engine import MLPArch, StepCost, TrainConfig, group_archs, init_weights, kernels
from paramlab.lab.engine.grouping import cache_budget
from paramlab.lab.engine.optim import StackOptimizer
from paramlab.lab.engine.stack import StackedMLP

HIDDEN = [(9, 4), (5, 7), (9, 7)]
ARCHS = [MLPArch(6, hidden, 3) for hidden in HIDDEN]
SEEDS = [1, 2, 3]


def autograd_gradients(arch: MLPArch, seed: int, x: torch.Tensor, y: torch.Tensor,
                       loss: str, activation: str) -> list[torch.Tensor]:
    params = [t.clone().requires_grad_() for t in init_weights(arch, seed)]
    act = torch.relu if activation == "relu" else torch.tanh
    h = x
    for layer in range(0, len(params), 2):
        h = h @ params[layer] + params[layer + 1]
        if layer + 2 < len(params):
            h = act(h)
    value = F.mse_loss(h, y) if loss == "mse" else F.cross_entropy(h, y)
    value.backward()
    return [p.grad for p in params]


WIDE = [(80, 70), (90, 60), (70, 90)]  # with 100 rows and 10 classes: the transposed head


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize(("loss", "outputs", "rows", "hidden"), [
    ("mse", 1, 11, HIDDEN), ("mse", 3, 11, HIDDEN), ("cross_entropy", 3, 11, HIDDEN),
    ("cross_entropy", 10, 100, WIDE)], ids=["mse-1", "mse-3", "ce-3", "ce-10-wide"])
def test_backward_equals_autograd(activation: str, loss: str, outputs: int, rows: int,
                                  hidden: list[tuple[int, ...]]) -> None:
    """One output is its own code path (broadcast products instead of batched GEMMs), and a
    ten-class head over 100 rows another (its products computed transposed)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 6, generator=generator)
    y = (torch.randint(0, outputs, (rows,), generator=generator) if loss == "cross_entropy"
         else torch.randn(rows, outputs, generator=generator))
    archs = [MLPArch(6, widths, outputs) for widths in hidden]
    stack = StackedMLP.build(archs, SEEDS, torch.device("cpu"))
    losses = kernels.gradients(stack, x, y, loss=loss, activation=activation, dropout=0.0)
    for k, (arch, seed) in enumerate(zip(archs, SEEDS, strict=True)):
        want = autograd_gradients(arch, seed, x, y, loss, activation)
        widths = arch.widths
        for layer in range(stack.layers):
            fan_in, fan_out = widths[layer], widths[layer + 1]
            grad_w, grad_b = stack.weights[layer].grad[k], stack.biases[layer].grad[k, 0]
            torch.testing.assert_close(grad_w[:fan_in, :fan_out], want[2 * layer])
            torch.testing.assert_close(grad_b[:fan_out], want[2 * layer + 1])
            assert grad_w[fan_in:].abs().sum() == 0 and grad_w[:, fan_out:].abs().sum() == 0
            assert grad_b[fan_out:].abs().sum() == 0
    forward = kernels.forward(stack, x, activation)
    torch.testing.assert_close(losses, kernels.per_model_loss(forward, y, loss))


def test_dropout_is_inverted_and_only_in_training() -> None:
    """With dropout, the batch loss differs from evaluation's, which never drops units."""
    x, y = torch.randn(64, 6), torch.randn(64, 3)
    stack = StackedMLP.build(ARCHS, SEEDS, torch.device("cpu"))
    plain = kernels.per_model_loss(kernels.forward(stack, x, "relu"), y, "mse")
    dropped = kernels.gradients(stack, x, y, loss="mse", activation="relu", dropout=0.5)
    assert not torch.allclose(plain, dropped)
    torch.testing.assert_close(kernels.per_model_loss(kernels.forward(stack, x, "relu"), y,
                                                      "mse"), plain)


def test_dropout_run_does_not_depend_on_the_global_rng() -> None:
    """The masks come from the run's seeds: the same run after other work on the global RNG
    (another test, a Ray worker's own history) gives the same model."""
    from paramlab.lab.data import load_dataset
    from paramlab.lab.engine import TrainConfig, train_models

    data = load_dataset("synthetic", n_samples=200)
    train = TrainConfig(epochs=2, batch_size=16, dropout=0.5)
    arch = MLPArch(data.n_features, (16,), data.n_outputs)
    torch.manual_seed(1)
    first = train_models([arch], data, train, [3], keep_weights=True)[0]
    torch.manual_seed(2)
    torch.rand(1000)
    second = train_models([arch], data, train, [3], keep_weights=True)[0]
    assert first.train_loss == second.train_loss
    assert all((a == b).all() for a, b in zip(first.weights, second.weights, strict=True))


def test_grouping_is_a_partition_by_depth() -> None:
    archs = [MLPArch(40, hidden, 1) for hidden in
             [(16,), (1024,), (30, 30), (512, 700), (8, 8, 8), (20,), (16,), (900, 40)]]
    groups = group_archs(archs, max_group=2)
    assert sorted(i for g in groups for i in g) == list(range(len(archs)))
    for group in groups:
        assert len({len(archs[i].hidden) for i in group}) == 1
        assert len(group) <= 2
    assert group_archs(archs, max_group=2) == groups  # deterministic
    assert [0, 6] in groups or [6, 0] in groups  # identical architectures share a group


def test_wide_and_narrow_models_stay_apart() -> None:
    """Padding a 4-unit model to 1,024 units costs more arithmetic than a step's overhead."""
    archs = [MLPArch(40, (4, 4), 1), MLPArch(40, (1024, 1024), 1), MLPArch(40, (6, 5), 1)]
    assert sorted(map(sorted, group_archs(archs))) == [[0, 2], [1]]


def test_cpu_groups_keep_their_state_within_the_cache_cap() -> None:
    """32 copies of 40-256-256-1: 76,545 parameters × 4 float32 tensors (weight, gradient,
    two Adam moments) = 1,224,720 bytes each; an 8 MiB cap holds 6 (7.3 MB) but not 7
    (8.6 MB), so the 32 split evenly into six groups of 5–6. Without a cap (a GPU) they share
    one stack."""
    archs = [MLPArch(40, (256, 256), 1)] * 32
    capped = group_archs(archs, batch_size=32, cost=StepCost(cache=8 * 2**20))
    assert sorted(len(g) for g in capped) == [5, 5, 5, 5, 6, 6]
    assert sorted(i for g in capped for i in g) == list(range(32))
    assert [len(g) for g in group_archs(archs, batch_size=32, cost=StepCost(cache=None))] == [32]


def test_cache_budget_reads_the_last_level_cache_size(tmp_path: Path) -> None:
    size = tmp_path / "size"
    size.write_text("32768K\n")
    assert cache_budget(size) == 8 * 2**20
    assert cache_budget(tmp_path / "missing") == 8 * 2**20  # 32 MiB assumed


OPTIMIZERS = {  # our config, and torch.optim's optimizer for the same update
    "adam": (TrainConfig(lr=0.01, weight_decay=0.1),
             lambda params: torch.optim.Adam(params, lr=0.01, weight_decay=0.1)),
    "sgd-momentum": (TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.1),
                     lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9,
                                                    weight_decay=0.1)),
    "sgd": (TrainConfig(optimizer="sgd", lr=0.05, momentum=0.0, weight_decay=0.1),
            lambda params: torch.optim.SGD(params, lr=0.05, weight_decay=0.1)),
}


@pytest.mark.parametrize("fused", [True, False], ids=["fused-kernel", "foreach"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_stack_optimizer_matches_torch_optim(name: str, fused: bool) -> None:
    """Every optimizer path steps exactly like torch.optim with weight decay, from the first
    step on: the fused kernels called directly (Adam with one step counter shared by every
    tensor, SGD with momentum buffers made up front) and the functional foreach path other
    devices take."""
    config, make_reference = OPTIMIZERS[name]
    generator = torch.Generator().manual_seed(0)
    ours = [torch.randn(3, 5, generator=generator), torch.randn(7, generator=generator)]
    theirs = [p.clone().requires_grad_() for p in ours]
    optimizer = StackOptimizer(ours, config, fused=fused)
    reference = make_reference(theirs)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=generator) for p in ours]
        for p, q, g in zip(ours, theirs, grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        optimizer.step()
        reference.step()
        for p, q in zip(ours, theirs, strict=True):
            torch.testing.assert_close(p, q.detach(), rtol=1e-6, atol=1e-7)


def test_narrow_products_equal_plain_ones() -> None:
    """The transposed form of a product with few output columns gives the same numbers,
    returned or written into ``out``; the shapes are those of a ten-class head."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(13, 100, 57, generator=generator), torch.randn(13, 57, 10,
                                                                       generator=generator)
    assert b.shape[-1] < kernels.NARROW  # the transposed path
    torch.testing.assert_close(kernels._bmm(a, b), torch.bmm(a, b))
    out = torch.empty(13, 100, 10)
    kernels._bmm(a, b, out=out)
    torch.testing.assert_close(out, torch.bmm(a, b))
    assert kernels._bmm(a, b).is_contiguous()
