"""The batched engine: batching does not change the mathematics, checked against an
independent plain-PyTorch loop (nn.Sequential + torch.optim) from the same initialization
and batch order, for every kind of group the engine forms; early stopping;
classification; exact parameter counts."""

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, group_archs, init_weights, train_models

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def reference_training(arch: MLPArch, seed: int, data, config: TrainConfig) -> list[np.ndarray]:
    """One model, trained the textbook way: nn.Sequential, autograd, torch.optim."""
    layers: list[nn.Module] = []
    weights = init_weights(arch, seed)
    for i, (fan_in, fan_out) in enumerate(zip(arch.widths, arch.widths[1:], strict=False)):
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(weights[2 * i].T)
            linear.bias.copy_(weights[2 * i + 1])
        layers += [linear, ACTIVATIONS[config.activation]()]
    model = nn.Sequential(*layers[:-1])
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay)
    loss_fn = (nn.functional.cross_entropy if data.task == "classification"
               else nn.functional.mse_loss)
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    order_gen = torch.Generator().manual_seed(config.data_seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(X), generator=order_gen)
        for begin in range(0, len(X), config.batch_size):
            index = order[begin: begin + config.batch_size]
            loss = loss_fn(model(X[index]), y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
    out = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            out += [layer.weight.detach().T.numpy(), layer.bias.detach().numpy()]
    return out


def small_digits():
    """300 training rows of scikit-learn's digits: a quick classification set."""
    data = load_dataset("digits")
    return dataclasses.replace(data, X_train=data.X_train[:300], y_train=data.y_train[:300])


# Every kind of group the engine forms: one padded group of three different shapes, a model of
# another depth alone, and a wide model the cost model keeps out of the small models' group.
HIDDEN = [(20, 32), (32, 17), (25, 25), (12,), (300, 300)]
SEEDS = [11, 12, 13, 14, 15]


@pytest.mark.parametrize(("dataset", "config"), [
    ("friedman", TrainConfig(epochs=2, batch_size=16, lr=3e-3, weight_decay=1e-3)),
    ("friedman", TrainConfig(epochs=2, batch_size=16, lr=0.02, optimizer="sgd", momentum=0.9,
                             weight_decay=1e-3)),
    ("digits", TrainConfig(epochs=2, batch_size=32, lr=3e-3, weight_decay=1e-3,
                           activation="tanh")),
    ("digits", TrainConfig(epochs=2, batch_size=32, lr=0.02, optimizer="sgd", momentum=0.9,
                           weight_decay=1e-3)),
], ids=["adam-mse-relu", "sgd-mse-relu", "adam-ce-tanh", "sgd-ce-relu"])
def test_batched_equals_alone(dataset: str, config: TrainConfig) -> None:
    data = small_digits() if dataset == "digits" else load_dataset("friedman", n_samples=300)
    archs = [MLPArch(data.n_features, hidden, data.n_outputs) for hidden in HIDDEN]
    groups = sorted(sorted(g) for g in group_archs(archs, batch_size=config.batch_size))
    assert groups == [[0, 1, 2], [3], [4]]
    together = train_models(archs, data, config, SEEDS, keep_weights=True)
    for arch, seed, result in zip(archs, SEEDS, together, strict=True):
        alone = reference_training(arch, seed, data, config)
        assert result.weights is not None
        for got, want in zip(result.weights, alone, strict=True):
            assert got.shape == want.shape
            # float32 sums in another order differ by ~1e-7; Adam's step lr·m/(√v + ε) can
            # turn that into a small fraction of lr for a weight whose gradient is ~0. A wrong
            # gradient moves weights by ~lr per step (here 36 steps × 3e-3).
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=5e-5)


def test_early_stopping_restores_the_best_epoch() -> None:
    data = load_dataset("diabetes")
    config = TrainConfig(epochs=60, batch_size=8, lr=1e-2, patience=3)
    (result,) = train_models([MLPArch(10, (256, 256), 1)], data, config, [0])
    best = min(h["val_loss"] for h in result.history)
    assert result.epochs < 60  # it stopped
    assert result.val_loss == pytest.approx(best, rel=1e-5)
    assert result.best_epoch == min(result.history, key=lambda h: h["val_loss"])["epoch"]


def test_classification_learns_digits() -> None:
    data = load_dataset("digits")
    config = TrainConfig(epochs=5, batch_size=32, lr=3e-3)
    results = train_models([MLPArch(64, (64,), 10), MLPArch(64, (128, 32), 10)], data, config,
                           [0, 1])
    for r in results:
        assert r.val_metric is not None and r.val_metric > 0.85  # chance is 0.10


def test_records_exact_parameter_counts() -> None:
    data = load_dataset("friedman", n_samples=100)
    (result,) = train_models([MLPArch(10, (7, 5), 1)], data, TrainConfig(epochs=1), [0])
    torch_count = sum(p.numel() for p in nn.Sequential(nn.Linear(10, 7), nn.Linear(7, 5),
                                                        nn.Linear(5, 1)).parameters())
    assert result.params == torch_count == 77 + 40 + 6
    assert result.params_per_observation == pytest.approx(result.params / data.observations)
    assert len(result.history) == 1 and result.seconds > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; PyTorch sees none")
def test_cuda_runs_the_same_code() -> None:
    data = load_dataset("friedman", n_samples=200)
    archs = [MLPArch(10, (20, 32), 1), MLPArch(10, (32, 17), 1)]
    config = TrainConfig(epochs=2, batch_size=16, lr=3e-3)
    cpu = train_models(archs, data, config, [1, 2], keep_weights=True)
    gpu = train_models(archs, data, dataclasses.replace(config, device="cuda"), [1, 2],
                       keep_weights=True)
    for a, b in zip(cpu, gpu, strict=True):
        assert a.weights is not None and b.weights is not None
        for x, y in zip(a.weights, b.weights, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-4)


def test_a_test_split_equal_to_validation_is_evaluated_once(monkeypatch) -> None:
    """MNIST-1D validates on its test rows: the engine evaluates them once per epoch (and the
    final results reuse the last epoch's), and records the same losses as for a data set
    whose test split differs."""
    from paramlab.lab.engine import loop

    data = small_digits()
    shared = dataclasses.replace(data, X_test=data.X_val.copy(), y_test=data.y_val.copy())
    calls: list[str] = []
    evaluate = loop.GroupRun.evaluate
    monkeypatch.setattr(loop.GroupRun, "evaluate",
                        lambda self, split: calls.append(split) or evaluate(self, split))
    config = TrainConfig(epochs=3, batch_size=32, lr=3e-3)
    (apart,) = train_models([MLPArch(64, (16,), 10)], data, config, [0])
    calls.clear()
    (together,) = train_models([MLPArch(64, (16,), 10)], shared, config, [0])
    assert calls.count("test") == 0 and calls.count("val") == config.epochs
    assert calls.count("train") == 1  # the final training loss
    assert [h["test_loss"] for h in together.history] == [h["val_loss"] for h in apart.history]
    assert together.test_metric == apart.val_metric
    assert together.val_loss == together.history[-1]["val_loss"]
    assert [h["test_loss"] for h in apart.history] != [h["val_loss"] for h in apart.history]
