"""LoRA on a 7B Llama config: paramlab's arithmetic vs PEFT's ``get_peft_model`` on a
transformers model built on the meta device (what a user would otherwise run to read
``print_trainable_parameters()``).

Both are timed in the same run, and both must give the same trainable and total counts:

    PYTHONPATH=src python benchmarks/bench_lora.py
"""

from __future__ import annotations

import json

from timing import Seconds, Stopwatch, versions

CONFIG = {  # Llama 2 7B (meta-llama/Llama-2-7b-hf's config.json, the fields that count)
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
    "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
}
LORA = {"r": 16, "lora_alpha": 32, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
SPEC = "r=16,alpha=32,targets=q_proj,k_proj,v_proj,o_proj"


def paramlab_lora(repeat: int = 5) -> tuple[tuple[int, int], Seconds, Seconds]:
    """(counts, first call including the import, best of ``repeat`` warm calls)."""
    with Stopwatch() as first:
        import paramlab

        report = paramlab.count(CONFIG, lora=SPEC, lora_base="nf4").lora
    best = Seconds(float("inf"), float("inf"))
    for _ in range(repeat):
        with Stopwatch() as warm:
            paramlab.count(CONFIG, lora=SPEC, lora_base="nf4")
        best = best.best(warm.seconds)
    assert report is not None
    return (report.trainable, report.total), first.seconds, best


def peft_lora() -> tuple[tuple[int, int], Seconds, Seconds]:
    """(counts, imports, meta build + get_peft_model)."""
    with Stopwatch() as imports:
        import peft
        import torch
        import transformers

        transformers.logging.set_verbosity_error()
    with Stopwatch() as build:
        config = transformers.AutoConfig.for_model(**{k: v for k, v in CONFIG.items()
                                                      if k != "architectures"})
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(config)
        counts = peft.get_peft_model(model, peft.LoraConfig(**LORA)).get_nb_trainable_parameters()
    return counts, imports.seconds, build.seconds


def main() -> None:
    print(versions())
    ours, first, warm = paramlab_lora()
    theirs, imports, build = peft_lora()
    assert ours == theirs, (ours, theirs)
    print(json.dumps({"trainable": ours[0], "all": ours[1]}))
    print(f"paramlab --lora (first call, with import): {first}")
    print(f"paramlab --lora (warm, best of 5):         {warm.wall * 1e3:.2f} ms "
          f"(CPU {warm.cpu * 1e3:.2f} ms)")
    print(f"PEFT: import torch/transformers/peft:      {imports}")
    print(f"PEFT: meta build + get_peft_model:         {build}")
    print(f"ratio, warm build vs warm paramlab:        {build.ratio(warm)}")
    print(f"ratio, imports + build vs first call:      "
          f"{Seconds(imports.wall + build.wall, imports.cpu + build.cpu).ratio(first)}")


if __name__ == "__main__":
    main()
