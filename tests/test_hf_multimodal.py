"""Vision, audio and multimodal types against transformers on the meta device: every
declared class on small configs (nested text/vision configs included), variants, and the
config class defaults for the base model and the main head; total and trainable exact
(Whisper's frozen encoder positions make them differ)."""

from __future__ import annotations

import pytest

from hf_oracle import check_defaults, check_small_config
from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, count_hf_config, supported_classes

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

TEXT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 20}
VISION = {"hidden_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
          "intermediate_size": 40, "image_size": 32, "patch_size": 8}
WHISPER = {"d_model": 32, "encoder_layers": 2, "decoder_layers": 3,
           "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 48,
           "decoder_ffn_dim": 40, "vocab_size": 97, "num_mel_bins": 8,
           "max_source_positions": 30, "max_target_positions": 20, "pad_token_id": 0,
           "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1,
           "begin_suppress_tokens": [1], "num_labels": 3}
DINO = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "mlp_ratio": 2,
        "image_size": 32, "patch_size": 8, "num_labels": 3}

LLM = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97}
QWEN_VISION = {"hidden_size": 24, "depth": 2, "num_heads": 4, "intermediate_size": 40,
               "out_hidden_size": 32, "patch_size": 4, "spatial_merge_size": 2,
               "temporal_patch_size": 2, "in_channels": 3}
QWEN_TOKENS = {"image_token_id": 5, "video_token_id": 6, "vision_start_token_id": 7}

WAV2VEC2 = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 48, "conv_dim": [8, 12, 16], "conv_stride": [5, 2, 2],
            "conv_kernel": [10, 3, 3], "num_conv_pos_embeddings": 16,
            "num_conv_pos_embedding_groups": 4, "vocab_size": 20, "codevector_dim": 12,
            "proj_codevector_dim": 10, "num_codevectors_per_group": 5,
            "num_codevector_groups": 2, "num_labels": 3, "classifier_proj_size": 6}

SMALL: dict[str, dict] = {
    "whisper": WHISPER,
    "dinov2": DINO,
    "clip": {"text_config": TEXT, "vision_config": VISION, "projection_dim": 16,
             "num_labels": 3},
    "clip_text_model": {**TEXT, "projection_dim": 16},
    "clip_vision_model": {**VISION, "projection_dim": 16},
    "siglip": {"text_config": TEXT, "vision_config": VISION, "num_labels": 3},
    "siglip_text_model": {**TEXT, "projection_size": 16},
    "siglip_vision_model": VISION,
    "llava": {"text_config": {"model_type": "llama", **LLM}, "vision_config": {
        "model_type": "clip_vision_model", **VISION}, "image_token_index": 5},
    "gemma3": {"text_config": {**LLM, "head_dim": 8}, "vision_config": VISION,
               "mm_tokens_per_image": 4, "image_token_index": 5, "boi_token_index": 6,
               "eoi_token_index": 7, "num_labels": 3},
    "qwen2_5_vl": {"text_config": LLM, "vision_config": QWEN_VISION, **QWEN_TOKENS},
    "qwen2_5_vl_text": LLM,
    "wav2vec2": WAV2VEC2,
    "convnext": {"hidden_sizes": [8, 16, 24], "depths": [1, 2, 1], "patch_size": 4,
                 "num_labels": 3, "num_stages": 3},
    "swin": {"embed_dim": 8, "depths": [1, 2, 1], "num_heads": [2, 2, 4], "window_size": 4,
             "image_size": 32, "patch_size": 4, "num_labels": 3, "encoder_stride": 8},
}
VARIANTS: list[tuple[str, dict]] = [
    ("whisper", {**WHISPER, "tie_word_embeddings": False, "use_weighted_layer_sum": True,
                 "classifier_proj_size": 12}),
    ("dinov2", {**DINO, "use_swiglu_ffn": True, "qkv_bias": False, "use_mask_token": False,
                "image_size": [32, 48], "num_labels": 0}),
    ("siglip", {"text_config": TEXT, "vision_config": {**VISION, "vision_use_head": False}}),
    ("llava", {"text_config": {"model_type": "mistral", **LLM}, "vision_config": {
        "model_type": "clip_vision_model", **VISION}, "image_token_index": 5,
        "vision_feature_layer": [-2, -1], "multimodal_projector_bias": False,
        "tie_word_embeddings": True}),
    ("llava", {"text_config": {"model_type": "qwen2", **LLM}, "vision_config": {
        "model_type": "siglip_vision_model", **VISION}, "image_token_index": 5}),
    ("gemma3", {"text_config": {**LLM, "head_dim": 8}, "vision_config": {
        **VISION, "vision_use_head": False}, "mm_tokens_per_image": 4, "image_token_index": 5,
        "boi_token_index": 6, "eoi_token_index": 7, "tie_word_embeddings": False}),
    ("qwen2_5_vl", {"text_config": {**LLM, "tie_word_embeddings": True},
                    "vision_config": {**QWEN_VISION, "spatial_merge_size": 1},
                    "tie_word_embeddings": True, **QWEN_TOKENS}),
    ("wav2vec2", {**WAV2VEC2, "feat_extract_norm": "layer", "conv_bias": True,
                  "do_stable_layer_norm": True, "mask_time_prob": 0.0,
                  "use_weighted_layer_sum": True}),
    ("convnext", {"hidden_sizes": [8, 16], "depths": [2, 1], "layer_scale_init_value": 0.0,
                  "num_stages": 2, "num_labels": 0, "num_channels": 1}),
    ("swin", {"embed_dim": 8, "depths": [2, 1], "num_heads": [2, 4], "window_size": 3,
              "image_size": 24, "patch_size": 4, "qkv_bias": False, "mlp_ratio": 2.0,
              "use_absolute_embeddings": True}),
]
MAIN_HEAD = {"whisper": "WhisperForConditionalGeneration",
             "dinov2": "Dinov2ForImageClassification", "clip": "CLIPModel",
             "clip_text_model": "CLIPTextModelWithProjection",
             "clip_vision_model": "CLIPVisionModelWithProjection", "siglip": "SiglipModel",
             "siglip_text_model": "SiglipTextModel", "siglip_vision_model": "SiglipVisionModel",
             "convnext": "ConvNextForImageClassification", "wav2vec2": "Wav2Vec2ForCTC",
             "llava": "LlavaForConditionalGeneration",
             "gemma3": "Gemma3ForConditionalGeneration",
             "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
             "qwen2_5_vl_text": "Qwen2_5_VLTextModel",
             "swin": "SwinForImageClassification"}


def test_declared():
    assert set(SMALL) <= set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize(
    ("model_type", "fields", "class_name"),
    [(mt, fields, cls) for mt, fields in [*SMALL.items(), *VARIANTS]
     for cls in supported_classes(mt)],
)
def test_small_configs_every_class(model_type, fields, class_name):
    check_small_config(model_type, fields, class_name)


def test_whisper_encoder_positions_are_frozen():
    summary = count_hf_config({"model_type": "whisper", **WHISPER})
    assert summary.total - summary.trainable == 30 * 32  # max_source_positions × d_model
    assert summary.non_trainable == 30 * 32


@pytest.mark.parametrize("model_type", list(SMALL))
def test_full_size_defaults_base_and_head(model_type):
    check_defaults(model_type, MAIN_HEAD[model_type])
