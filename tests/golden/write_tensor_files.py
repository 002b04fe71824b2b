"""Writes the golden cases' tensor files (tiny.safetensors, tiny.gguf) with the formats' own
packages; run by hand from this folder if a case must change (the files are checked in, so
the golden tests need neither package)."""

from __future__ import annotations

import gguf
import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn


def write_safetensors() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    state = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    state["0.weight"] = state["0.weight"].to(torch.bfloat16)
    save_file(state, "tiny.safetensors", metadata={"format": "pt"})


def write_gguf() -> None:
    writer = gguf.GGUFWriter("tiny.gguf", "llama")
    writer.add_name("tiny")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_block_count(1)
    writer.add_context_length(64)
    writer.add_embedding_length(32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"t{i}" for i in range(100)])
    zeros = np.zeros((4, 32), dtype=np.float32)
    writer.add_tensor("token_embd.weight", zeros)
    writer.add_tensor("blk.0.attn_norm.weight", zeros[0])
    q8 = gguf.quants.quantize(zeros, gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", q8, raw_shape=q8.shape,
                      raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    write_safetensors()
    write_gguf()
