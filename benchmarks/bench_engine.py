"""How fast is the batched engine against training the same models one after another?

All figures come from one run on this machine:
(a) 32 MLPs 40 → 256 → 256 → 1 on the 13,000 × 40 synthetic data, batch 32, Adam, 5 epochs:
    the engine vs Keras ``fit`` one model after another, vs a plain sequential PyTorch loop
    with fused Adam; and the engine's achieved GFLOP/s against this machine's measured fp32
    matrix-multiply throughput.
(b) 32 small MLPs (widths 2–64, the double-descent regime), where per-step overhead dominates.
(c) 32 random architectures as the sweep draws them (1–3 hidden layers, widths 16–1024).

``--quick`` times Keras and the sequential loop on a subset of models/epochs and scales
linearly (each model and epoch costs the same); the printout says so.
Run: ``KERAS_BACKEND=torch python benchmarks/bench_engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch

from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, train_models
from paramlab.lab.experiments.sweep import SweepConfig, draw_architectures


def matmul_peak() -> float:
    """Best fp32 GFLOP/s of square matrix products on this machine, now."""
    best = 0.0
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            a @ b
        repeat = max(3, int(2e10 / (2 * n**3)))
        start = time.perf_counter()
        for _ in range(repeat):
            a @ b
        best = max(best, 2 * n**3 * repeat / (time.perf_counter() - start) / 1e9)
    return best


def training_flops(archs: list[MLPArch], rows: int, epochs: int) -> float:
    """Forward + backward ≈ 3 × forward, forward = 2 × MACs per row."""
    macs = sum(sum(a * b for a, b in zip(arch.widths, arch.widths[1:], strict=False))
               for arch in archs)
    return 6.0 * macs * rows * epochs


def engine_seconds(archs: list[MLPArch], data, config: TrainConfig) -> float:
    start = time.perf_counter()
    train_models(archs, data, config, list(range(len(archs))))
    return time.perf_counter() - start


def sequential_torch_seconds(archs: list[MLPArch], data, config: TrainConfig) -> float:
    """One nn.Sequential at a time, fused Adam, the same batches: the honest baseline."""
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    start = time.perf_counter()
    for arch in archs:
        layers: list[torch.nn.Module] = []
        for a, b in zip(arch.widths, arch.widths[1:], strict=False):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
        gen = torch.Generator().manual_seed(0)
        for _ in range(config.epochs):
            order = torch.randperm(len(X), generator=gen)
            for begin in range(0, len(X), config.batch_size):
                index = order[begin: begin + config.batch_size]
                loss = torch.nn.functional.mse_loss(model(X[index]), y[index])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return time.perf_counter() - start


def keras_seconds(archs: list[MLPArch], data, config: TrainConfig) -> float:
    import keras

    start = time.perf_counter()
    for arch in archs:
        model = keras.Sequential([keras.Input((arch.in_features,))]
                                 + [keras.layers.Dense(w, activation="relu")
                                    for w in arch.hidden]
                                 + [keras.layers.Dense(arch.out_features)])
        model.compile(optimizer=keras.optimizers.Adam(config.lr), loss="mse")
        model.fit(data.X_train, data.y_train, batch_size=config.batch_size,
                  epochs=config.epochs, verbose=0)
        keras.backend.clear_session()
    return time.perf_counter() - start


def scaled(fn, archs, data, config, quick_models: int | None, quick_epochs: int | None):
    """Time on a subset and scale linearly by models × epochs (stated in the output)."""
    if quick_models is None:
        return fn(archs, data, config), ""
    sub = archs[:quick_models]
    epochs = quick_epochs or config.epochs
    small = TrainConfig(**{**config.__dict__, "epochs": epochs})
    seconds = fn(sub, data, small)
    factor = (len(archs) / len(sub)) * (config.epochs / epochs)
    return seconds * factor, f" (measured {len(sub)} models × {epochs} epochs, ×{factor:g})"


def main() -> None:
    parser = argparse.ArgumentParser(description="batched engine benchmark")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    data = load_dataset("synthetic")
    rows = data.observations
    warm = TrainConfig(epochs=1)  # first calls pay one-time initialization; not timed
    engine_seconds([MLPArch(40, (8,), 1)] * 2, data, warm)
    sequential_torch_seconds([MLPArch(40, (8,), 1)], data, warm)
    peak = matmul_peak()
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; fp32 matmul peak {peak:.0f} GFLOP/s\n")

    config = TrainConfig(epochs=5, batch_size=32)
    archs = [MLPArch(40, (256, 256), 1)] * 32
    ours = engine_seconds(archs, data, config)
    flops = training_flops(archs, rows, config.epochs)
    seq, seq_note = scaled(sequential_torch_seconds, archs, data, config,
                           4 if args.quick else None, None)
    ker, ker_note = scaled(keras_seconds, archs, data, config, 2 if args.quick else 4, 1)
    print("(a) 32 × 40-256-256-1, 13,000 rows, batch 32, Adam, 5 epochs")
    print(f"    engine {ours:.1f} s = {flops / ours / 1e9:.0f} GFLOP/s "
          f"({flops / ours / 1e9 / peak:.0%} of matmul peak; arithmetic {flops / 1e12:.2f} TFLOP)")
    print(f"    sequential PyTorch, fused Adam {seq:.1f} s{seq_note} → engine {seq / ours:.1f}×")
    print(f"    Keras fit one after another {ker:.1f} s{ker_note} → engine {ker / ours:.1f}×")

    small_archs = [MLPArch(40, (w,), 1) for w in range(2, 66, 2)]
    config_b = TrainConfig(epochs=2, batch_size=32)
    ours_b = engine_seconds(small_archs, data, config_b)
    seq_b, note_b = sequential_torch_seconds(small_archs, data, config_b), ""
    print(f"\n(b) 32 small MLPs (widths 2–64), 2 epochs: engine {ours_b:.1f} s, sequential "
          f"{seq_b:.1f} s{note_b} → {seq_b / ours_b:.1f}×")

    sweep = draw_architectures(SweepConfig(models=32, depth=(1, 3), width=(16, 1024)), 40, 1)
    config_c = TrainConfig(epochs=1, batch_size=32)
    ours_c = engine_seconds(sweep, data, config_c)
    seq_c, note_c = sequential_torch_seconds(sweep, data, config_c), ""
    flops_c = training_flops(sweep, rows, 1)
    print(f"\n(c) 32 sweep architectures (1–3 layers, widths 16–1024), 1 epoch: engine "
          f"{ours_c:.1f} s ({flops_c / ours_c / 1e9:.0f} GFLOP/s), sequential {seq_c:.1f} s"
          f"{note_c} → {seq_c / ours_c:.1f}×")


if __name__ == "__main__":
    main()
