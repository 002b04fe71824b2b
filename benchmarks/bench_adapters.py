"""Counting a 70B Llama-style config: paramlab's arithmetic vs building it with transformers.

Both are measured in the same run: wall time (paramlab: best of several runs, as it is far
below a millisecond; transformers: one meta-device build, its import timed separately) and
peak Python memory with tracemalloc (a separate, untimed run of each, as tracemalloc slows
Python down), plus the process's peak resident size after each step.

    PYTHONPATH=src python benchmarks/bench_adapters.py
"""

from __future__ import annotations

import resource
import time
import tracemalloc

CONFIG = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "intermediate_size": 28672,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_paramlab(repeat: int = 20) -> tuple[int, float, float, float]:
    """(count, first call s, best of ``repeat`` s, tracemalloc peak bytes)."""
    start = time.perf_counter()
    from paramlab.adapters.hf import count_hf_config

    total = count_hf_config(CONFIG).total
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count_hf_config(CONFIG)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    count_hf_config(CONFIG)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return total, first, best, peak


def bench_transformers() -> tuple[int, float, float, float, float]:
    """(count, import s, first build s, warm build s, tracemalloc peak bytes of a warm build).

    The first build also loads the modeling modules lazily; the warm (second) build is the
    conservative comparison. tracemalloc slows Python several-fold, so the timed builds run
    without it and a third identical build measures the memory peak.
    """
    start = time.perf_counter()
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    imported = time.perf_counter() - start
    fields = {k: v for k, v in CONFIG.items() if k not in ("model_type", "architectures")}

    def build() -> int:
        config = transformers.LlamaConfig(**fields)
        with torch.device("meta"):
            model = transformers.LlamaForCausalLM(config)
        return sum(p.numel() for p in model.parameters())

    start = time.perf_counter()
    total = build()
    first = time.perf_counter() - start
    start = time.perf_counter()
    build()
    built = time.perf_counter() - start
    tracemalloc.start()
    build()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return total, imported, first, built, peak


def main() -> None:
    rss0 = peak_rss_mib()
    ours, first, best, ours_peak = bench_paramlab()
    rss1 = peak_rss_mib()
    theirs, imported, first_build, built, theirs_peak = bench_transformers()
    rss2 = peak_rss_mib()
    mib = 1024 * 1024
    print("70B Llama-style config (hidden 8192, 80 layers, 64 heads / 8 kv, "
          "intermediate 28672, vocab 32000)")
    print(f"  paramlab     : {ours:,} parameters; {best * 1e3:.2f} ms per count "
          f"(first call incl. import {first * 1e3:.1f} ms); "
          f"tracemalloc peak {ours_peak / 1024:.0f} KiB; peak RSS {rss1:.0f} MiB "
          f"(+{rss1 - rss0:.0f})")
    print(f"  transformers : {theirs:,} parameters; meta build {built * 1e3:.0f} ms warm, "
          f"{first_build * 1e3:.0f} ms first (+ import torch/transformers "
          f"{imported * 1e3:.0f} ms); "
          f"tracemalloc peak {theirs_peak / mib:.1f} MiB; peak RSS {rss2:.0f} MiB "
          f"(+{rss2 - rss1:.0f})")
    print(f"  ratio        : warm meta build / paramlab = {built / best:,.0f}× "
          f"(first build + import: {(first_build + imported) / best:,.0f}×); "
          f"memory {theirs_peak / max(ours_peak, 1):,.0f}× (tracemalloc peaks)")
    assert ours == theirs, (ours, theirs)
    print("  counts agree exactly")


if __name__ == "__main__":
    main()
