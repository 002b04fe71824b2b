"""``--quant Q4_K_M --fit``: paramlab's per-tensor arithmetic vs the route a user has
without it — build the model on the meta device with transformers to get every tensor's
shape, then size each tensor with gguf-py's byte-shape function — both in this run.

    PYTHONPATH=src python benchmarks/bench_quant.py
"""

from __future__ import annotations

import time

from timing import Stopwatch

CONFIG = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8192,
    "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
    "intermediate_size": 28672, "vocab_size": 128256, "max_position_embeddings": 8192,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def bench_paramlab(repeat: int = 5) -> tuple[int, float, float]:
    """(bytes, first call s, best of ``repeat`` s): later calls reuse the model's GGUF tensor
    list (an lru_cache), as --fit's several types within one count do."""
    import paramlab

    times = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        summary = paramlab.count(CONFIG, quant=["Q4_K_M"], fit="48GB", context=8192)
        times.append(time.perf_counter() - start)
        size = summary.quant.sizes[0].bytes
    return size, times[0], min(times)


def bench_meta_and_gguf() -> tuple[int, float]:
    """One warm meta build plus gguf-py sizing every ≥2-D weight at Q4_K (norms F32): the
    uniform estimate, without llama.cpp's mixture (which it cannot know)."""
    import torch
    import transformers
    from gguf.constants import GGMLQuantizationType
    from gguf.quants import quant_shape_to_byte_shape

    transformers.logging.set_verbosity_error()
    fields = {k: v for k, v in CONFIG.items() if k not in ("model_type", "architectures")}

    def run() -> int:
        with torch.device("meta"):
            model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**fields))
        total = 0
        for p in model.parameters():
            if p.dim() < 2:
                total += p.numel() * 4
                continue
            shape = quant_shape_to_byte_shape(tuple(p.shape), GGMLQuantizationType.Q4_K)
            total += shape[0] * shape[1]
        return total

    run()  # modeling modules load lazily on the first build
    with Stopwatch() as watch:
        total = run()
    return total, watch.seconds.wall


def main() -> None:
    ours, first, best = bench_paramlab()
    theirs, took = bench_meta_and_gguf()
    print("Llama-3-70B config, Q4_K_M size + --fit 48GB --context 8192")
    print(f"  paramlab              : {ours:,} bytes (llama.cpp's mixture); "
          f"{best * 1e3:.1f} ms per count ({first * 1e3:.1f} ms the first)")
    print(f"  meta build + gguf-py  : {theirs:,} bytes (uniform Q4_K, no mixture); "
          f"{took * 1e3:.0f} ms")
    print(f"  ratio                 : {took / best:.1f}× warm, {took / first:.1f}× first "
          f"(anchor / paramlab); the uniform "
          f"estimate is {1 - theirs / ours:.1%} below the mixture")


if __name__ == "__main__":
    main()
