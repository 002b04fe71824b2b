"""Masked training (lottery tickets): pruned weights are exactly zero after training; an
all-ones mask is ordinary training; the surviving weights follow the trajectory of
open_lth's way of pruning (weights multiplied by the mask before every forward pass, in a
plain nn.Sequential + torch.optim loop); biases are never masked; bad masks are refused."""

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from paramlab.errors import ParamlabError
from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, init_weights, train_models
from paramlab.lab.engine.masked import MaskedModel, train_masked


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits")
    return dataclasses.replace(data, X_train=data.X_train[:200], y_train=data.y_train[:200])


ARCHS = [MLPArch(64, (12, 9), 10), MLPArch(64, (20, 5), 10)]  # one padded group
CONFIGS = [
    TrainConfig(epochs=2, batch_size=32, lr=1e-2, weight_decay=1e-3),
    TrainConfig(epochs=2, batch_size=50, lr=0.05, optimizer="sgd", momentum=0.9,
                weight_decay=1e-3),
]


def random_masks(arch: MLPArch, seed: int, keep: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random((a, b)) < keep).astype(np.float32)
            for a, b in zip(arch.widths, arch.widths[1:], strict=False)]


def models(keep: float) -> list[MaskedModel]:
    return [MaskedModel(arch, [t.numpy() for t in init_weights(arch, seed)],
                        random_masks(arch, seed, keep), seed=seed)
            for seed, arch in enumerate(ARCHS)]


def open_lth_reference(model: MaskedModel, data, config: TrainConfig) -> list[np.ndarray]:
    """open_lth's PrunedModel: weights multiplied by the mask before every forward pass,
    gradients and optimizer untouched; nn.Sequential + torch.optim, the engine's batch order."""
    linears = [nn.Linear(a, b) for a, b in zip(model.arch.widths, model.arch.widths[1:],
                                               strict=False)]
    masks = [torch.as_tensor(m).T for m in model.masks]
    with torch.no_grad():
        for i, linear in enumerate(linears):
            linear.weight.copy_(torch.as_tensor(model.initial[2 * i]).T)
            linear.bias.copy_(torch.as_tensor(model.initial[2 * i + 1]))
    net = nn.Sequential(*[m for linear in linears for m in (linear, nn.ReLU())][:-1])
    opt = (torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
           if config.optimizer == "adam" else
           torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay))
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    order_gen = torch.Generator().manual_seed(config.data_seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(X), generator=order_gen)
        for begin in range(0, len(X), config.batch_size):
            with torch.no_grad():
                for linear, mask in zip(linears, masks, strict=True):
                    linear.weight.mul_(mask)
            index = order[begin: begin + config.batch_size]
            loss = nn.functional.cross_entropy(net(X[index]), y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        for linear, mask in zip(linears, masks, strict=True):
            linear.weight.mul_(mask)
    return [t for linear in linears
            for t in (linear.weight.detach().T.numpy(), linear.bias.detach().numpy())]


@pytest.mark.parametrize("config", CONFIGS, ids=["adam-decay", "sgd-momentum-decay"])
def test_pruned_weights_stay_exactly_zero_and_match_open_lth(digits, config):
    chosen = models(keep=0.3)
    results = train_masked(chosen, digits, config, workers=1)
    for model, result in zip(chosen, results, strict=True):
        for layer, mask in enumerate(model.masks):
            weight = result.weights[2 * layer]
            assert (weight[mask == 0] == 0).all()  # exactly, not approximately
            assert np.count_nonzero(weight[mask == 1]) == np.count_nonzero(mask)
        reference = open_lth_reference(model, digits, config)
        for ours, theirs in zip(result.weights, reference, strict=True):
            np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_biases_are_not_masked(digits):
    """A layer pruned to nothing still trains its bias (open_lth prunes weights only)."""
    arch = ARCHS[0]
    masks = random_masks(arch, 0, keep=0.5)
    masks[1] = np.zeros_like(masks[1])
    initial = [t.numpy() for t in init_weights(arch, 0)]
    result = train_masked([MaskedModel(arch, initial, masks)], digits, CONFIGS[0], workers=1)[0]
    assert (result.weights[2] == 0).all()
    assert not np.allclose(result.weights[3], initial[3])


def test_all_ones_mask_is_ordinary_training(digits):
    config = CONFIGS[0]
    plain = train_models(ARCHS, digits, config, [0, 1], keep_weights=True, workers=1)
    masked = train_masked(models(keep=1.1), digits, config, workers=1)
    for ours, theirs in zip(masked, plain, strict=True):
        assert ours.test_loss == pytest.approx(theirs.test_loss, rel=1e-6)
        for a, b in zip(ours.weights, theirs.weights, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_the_callers_arrays_are_not_changed(digits):
    chosen = models(keep=0.3)
    before = [[a.copy() for a in m.initial] for m in chosen]
    train_masked(chosen, digits, CONFIGS[0], workers=1)
    for model, saved in zip(chosen, before, strict=True):
        for a, b in zip(model.initial, saved, strict=True):
            np.testing.assert_array_equal(a, b)


def test_worker_processes_give_the_same_weights(digits):
    chosen = models(keep=0.5) * 2
    here = train_masked(chosen, digits, CONFIGS[0], workers=1, group_size=1)
    forked = train_masked(chosen, digits, CONFIGS[0], workers=2, group_size=1)
    for a, b in zip(here, forked, strict=True):
        for x, y in zip(a.weights, b.weights, strict=True):
            np.testing.assert_allclose(x, y, atol=1e-5)


def _broken(**change) -> MaskedModel:
    model = models(keep=0.5)[0]
    return dataclasses.replace(model, **change)


@pytest.mark.parametrize(("model", "message"), [
    (_broken(masks=[np.ones((64, 12))]),
     r"64-12-9-10 needs 6 initial arrays \(W, b per layer\) and 3 masks; received 6 and 1"),
    (_broken(masks=[np.ones((64, 12)), np.ones((9, 12)), np.ones((9, 10))]),
     r"mask of layer 2 must have shape \(12, 9\); received \(9, 12\)"),
    (_broken(masks=[np.full((64, 12), 0.5), np.ones((12, 9)), np.ones((9, 10))]),
     "mask of layer 1 must hold only 0 and 1"),
    (_broken(initial=[np.zeros((64, 12)), np.zeros(11), np.zeros((12, 9)), np.zeros(9),
                      np.zeros((9, 10)), np.zeros(10)]),
     r"initial array 1 \(layer 1 bias\) must have shape \(12,\)"),
])
def test_bad_models_are_refused(digits, model, message):
    with pytest.raises(ParamlabError, match=f"model p0000: {message}"):
        train_masked([model], digits, CONFIGS[0])
