"""Counting a 70-billion-parameter Llama-style config: paramlab's arithmetic against building
the same model with transformers on the meta device, timed in one run, with peak memory.

Run: ``python benchmarks/bench_adapters.py``. Aim: under 50 ms and no measurable memory
growth for the arithmetic path.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

from paramlab.adapters.hf import hf_parts

CONFIG = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8192,
    "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
    "intermediate_size": 28672, "vocab_size": 32000,
}


def ours() -> int:
    return sum(p.total for p in hf_parts(CONFIG, "<bench>")[1])


def transformers_meta() -> int:
    import torch
    import transformers

    config = transformers.LlamaConfig(**{k: v for k, v in CONFIG.items()
                                         if k not in ("model_type", "architectures")})
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    return sum(p.numel() for p in model.parameters())


def measure(fn, repeat: int) -> tuple[int, float, int]:
    result = fn()  # warm: imports and caches are not what we time
    gc.collect()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, best, peak


def main() -> None:
    count_a, time_a, peak_a = measure(ours, repeat=50)
    count_b, time_b, peak_b = measure(transformers_meta, repeat=3)
    assert count_a == count_b, (count_a, count_b)
    print(f"Llama-style 70B config: {count_a:,} parameters (both methods agree)")
    print(f"  paramlab arithmetic      {time_a * 1e3:9.3f} ms   peak Python memory "
          f"{peak_a / 1024:8.1f} KB")
    print(f"  transformers, meta build {time_b * 1e3:9.1f} ms   peak Python memory "
          f"{peak_b / 1024:8.1f} KB")
    print(f"  ratio: paramlab is {time_b / time_a:,.0f}× faster (aim: under 50 ms)")


if __name__ == "__main__":
    main()
