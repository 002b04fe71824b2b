"""Is ``paramlab count`` fast to start, and is building a graph linear in its layers?

* CLI: wall time of ``paramlab count 784-10-10-3`` (best of N) against the anchor
  ``python -c pass`` measured in the same run (interpreter start-up, which no CLI beats).
  Aim: under 0.15 s.
* Scaling: seconds per layer to parse, count and render ``input(4) > dense(3) * N`` at
  N = 1,000 and 16,000; the ratio of the two per-layer times is ~1 when the work is linear
  (a quadratic step would make it ~16).

Run: ``python benchmarks/bench_cli.py`` (with paramlab importable, e.g. PYTHONPATH=src).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import paramlab

CLI_AIM_SECONDS = 0.15


def best_wall(argv: list[str], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def per_layer_seconds(layers: int) -> float:
    start = time.perf_counter()
    summary = paramlab.count(f"input(4) > dense(3) * {layers}", other_convention=False)
    str(summary)
    return (time.perf_counter() - start) / layers


def main() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "paramlab")
    command = [exe] if os.path.exists(exe) else [sys.executable, "-m", "paramlab.cli"]
    cli = best_wall([*command, "count", "784-10-10-3"])
    anchor = best_wall([sys.executable, "-c", "pass"])
    verdict = "ok" if cli < CLI_AIM_SECONDS else "TOO SLOW"
    print(f"CLI `paramlab count 784-10-10-3`: {cli:.3f} s; `python -c pass`: {anchor:.3f} s; "
          f"ratio {cli / anchor:.1f}× start-up; aim < {CLI_AIM_SECONDS} s: {verdict}")
    small, large = per_layer_seconds(1_000), per_layer_seconds(16_000)
    print(f"graph of Dense layers: {small * 1e6:.0f} µs/layer at 1,000, {large * 1e6:.0f} µs/layer"
          f" at 16,000; ratio {large / small:.2f} (1 = linear, 16 = quadratic)")


if __name__ == "__main__":
    main()
