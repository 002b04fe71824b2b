"""How fast is ``paramlab.count`` against the ways people count today?

Anchors, measured in the same run on the same machine:
* Keras: build the model (allocating every weight) and call ``count_params()``;
* PyTorch: build the same model on the ``meta`` device (no weight memory) and sum ``numel()``;
* the CLI: wall time of ``paramlab count 784-10-10-3`` against ``python -c "import keras"``.

Run: ``KERAS_BACKEND=torch python benchmarks/bench_count.py`` (``--quick`` skips the largest
Keras builds). Prints one line per architecture with the ratios; aims: ≥ 100× Keras, ≥ 10×
the meta-device build, no weight memory at any size, CLI under 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import itertools

import paramlab

ARCHITECTURES: dict[str, tuple[str, list[int] | None]] = {
    # name: (paramlab spec, MLP widths for the framework builds; None = not an MLP)
    "seed 5-8-4-3": ("5-8-4-3", [5, 8, 4, 3]),
    "seed 784-10-10-3": ("784-10-10-3", [784, 10, 10, 3]),
    "seed CNN 24,533": ("seed-mnist-cnn", None),
    "MLP 40-2048-1024-1024-1": ("40-2048-1024-1024-1", [40, 2048, 1024, 1024, 1]),
    "VGG16": ("vgg16", None),
    "MLP 20 × 4096 (319 M)": ("-".join(["4096"] * 20 + ["1"]), [4096] * 20 + [1]),
}


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def keras_count(name: str, widths: list[int] | None) -> int:
    import keras

    if name == "VGG16":
        model = keras.applications.VGG16(weights=None)
    elif name.startswith("seed CNN"):
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(10, 3, padding="same"),
                keras.layers.Conv2D(10, 3, padding="same"),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            ]
        )
    else:
        assert widths is not None
        model = keras.Sequential(
            [keras.Input((widths[0],)), *(keras.layers.Dense(w) for w in widths[1:])]
        )
    total = model.count_params()
    del model
    keras.backend.clear_session()
    return total


def torch_meta_count(name: str, widths: list[int] | None) -> int:
    import torch
    from torch import nn

    with torch.device("meta"):
        if name == "VGG16":
            model = _torch_vgg16()
        elif name.startswith("seed CNN"):
            model = nn.Sequential(
                nn.Conv2d(1, 10, 3, padding=1),
                nn.Conv2d(10, 10, 3, padding=1),
                nn.Flatten(),
                nn.Linear(7840, 3),
            )
        else:
            assert widths is not None
            model = nn.Sequential(
                *(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
            )
    return sum(p.numel() for p in model.parameters())


def _torch_vgg16():
    """torchvision's ``vgg16`` layout (configuration "D"), without torchvision."""
    from torch import nn

    layers: list[nn.Module] = []
    channels = 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(v), 3, padding=1), nn.ReLU()]
            channels = int(v)
    return nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000),
    )


def peak_python_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def cli_seconds(command: list[str], repeat: int = 5) -> float:
    def once() -> None:
        subprocess.run(command, check=True, capture_output=True)

    once()  # warm the file cache
    return statistics.median(best_time(once, 1) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip Keras builds over 100 M parameters")
    args = parser.parse_args()
    import keras  # noqa: F401 - import once, outside the timings
    import torch  # noqa: F401

    print(f"{'architecture':<26} {'params':>13} {'paramlab':>10} {'keras':>10} {'meta':>10}"
          f" {'× keras':>9} {'× meta':>8} {'peak mem':>9}")
    for name, (spec, widths) in ARCHITECTURES.items():
        summary = paramlab.count(spec)
        ours = best_time(lambda spec=spec: paramlab.count(spec), repeat=20)
        peak = peak_python_memory(lambda spec=spec: paramlab.count(spec))
        meta_total = torch_meta_count(name, widths)
        meta = best_time(lambda n=name, w=widths: torch_meta_count(n, w), repeat=3)
        skip_keras = args.quick and summary.total > 100_000_000
        keras_s = float("nan")
        if not skip_keras:
            keras_total = keras_count(name, widths)
            keras_s = best_time(lambda n=name, w=widths: keras_count(n, w), repeat=2)
            assert keras_total == summary.total, (name, keras_total, summary.total)
        assert meta_total == summary.total, (name, meta_total, summary.total)
        print(f"{name:<26} {summary.total:>13,} {ours * 1e3:>8.2f}ms {keras_s * 1e3:>8.0f}ms "
              f"{meta * 1e3:>8.1f}ms {keras_s / ours:>8.0f}× {meta / ours:>7.0f}× "
              f"{peak / 1024:>7.0f}KB")

    exe = os.path.join(os.path.dirname(sys.executable), "paramlab")
    cli = cli_seconds([exe, "count", "784-10-10-3"] if os.path.exists(exe)
                      else [sys.executable, "-m", "paramlab.cli", "count", "784-10-10-3"])
    keras_import = cli_seconds([sys.executable, "-c", "import keras"], repeat=3)
    print(f"\nCLI `paramlab count 784-10-10-3`: {cli:.3f} s; `python -c 'import keras'`: "
          f"{keras_import:.2f} s; ratio {keras_import / cli:.0f}× (aim: CLI < 0.15 s)")


if __name__ == "__main__":
    main()
