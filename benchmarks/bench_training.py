"""Training per GPU for DeepSeek-R1 (671 B, 256 routed experts): paramlab's arithmetic from
the config against what a user runs instead — transformers' meta-device build, then
DeepSpeed's ``model_to_params`` loop for the largest layer (what
``estimate_zero3_model_states_mem_needs_all_live`` does before its formula), Adafactor's
state sizes from the parameter shapes, and the MoE active count from the experts modules.

Both run in the same process, so the ratio is measured against an anchor of the same run:
paramlab as the best of several calls, transformers as one warm build (the first also
imports the modeling code, timed separately).

    PYTHONPATH=src python benchmarks/bench_training.py
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "tests" / "data" / "hf_published"
                     / "deepseek-ai__DeepSeek-R1.json").read_text())
OPTIONS = {"zero": 3, "gpus": 64, "optimizer": "adafactor", "context": 4096}


def bench_paramlab(repeat: int = 5) -> tuple[tuple[int, int, int | None], float]:
    import paramlab

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        summary = paramlab.count(CONFIG, **OPTIONS)
        best = min(best, time.perf_counter() - start)
    per_gpu = summary.training_per_gpu.per_gpu
    largest = per_gpu.largest_layer.params if per_gpu.largest_layer else 0
    return (per_gpu.optimizer.gpu, largest, summary.active_params), best


def bench_transformers() -> tuple[tuple[int, int, int], float, float]:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    fields = {k: v for k, v in CONFIG.items() if k not in ("architectures",)}
    config = transformers.AutoConfig.for_model(fields.pop("model_type"), **fields)

    def estimate() -> tuple[int, int, int]:
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(config)
        params = list(model.parameters())
        largest = max(sum(p.numel() for p in m.parameters(recurse=False))
                      for m in model.modules())
        rows_and_columns = [math.prod(p.shape[:-1]) + math.prod(p.shape[:-2]) * p.shape[-1]
                            if p.dim() >= 2 else p.numel() for p in params]
        state = 4 * sum(rows_and_columns)  # transformers' Adafactor, fp32 states
        master = 4 * sum(p.numel() for p in params)
        idle = 0
        for module in model.modules():
            if type(module).__name__.endswith("Experts"):
                size = sum(p.numel() for p in module.parameters())
                count = next(module.parameters()).shape[0]
                idle += size // count * (count - config.num_experts_per_tok)
        total = sum(p.numel() for p in params)
        return -(-(master + state) // OPTIONS["gpus"]), largest, total - idle

    start = time.perf_counter()
    estimate()
    first = time.perf_counter() - start
    start = time.perf_counter()
    result = estimate()
    return result, first, time.perf_counter() - start


def main() -> None:
    ours, paramlab_s = bench_paramlab()
    theirs, first_s, warm_s = bench_transformers()
    print(f"paramlab count --zero 3 --gpus 64 --optimizer adafactor: {paramlab_s * 1e3:.1f} ms")
    print(f"transformers meta build + DeepSpeed's loop: first {first_s:.2f} s, "
          f"warm {warm_s:.2f} s")
    print(f"paramlab is {warm_s / paramlab_s:,.0f}x faster than the warm build")
    print(f"same answers (optimizer bytes per GPU, largest layer, active params): "
          f"{ours == theirs} {ours}")


if __name__ == "__main__":
    main()
