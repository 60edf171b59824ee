"""Random checkpoints built with the official `qwen_asr` classes, for parity tests.

Needs torch and qwen-asr (the reference install of .ci/run). Token ids match the real
Qwen3-ASR checkpoints, so prompts built for the real models work unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qasr.training.scratch import QWEN3_ASR_TOKEN_IDS as REAL_TOKEN_IDS

TINY_AUDIO = dict(
    d_model=64,
    encoder_layers=2,
    encoder_attention_heads=4,
    encoder_ffn_dim=128,
    output_dim=96,
    downsample_hidden_size=32,
    num_mel_bins=128,
    n_window=50,
    n_window_infer=800,
)
TINY_TEXT = dict(
    hidden_size=96,
    intermediate_size=192,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=24,
    vocab_size=151936,
    rope_theta=1_000_000.0,
    rope_scaling={"mrope_section": [4, 4, 4], "interleaved": True, "rope_type": "default"},
)
# The real Qwen3-ASR-0.6B shapes.
FULL_06B_AUDIO = dict(
    d_model=896,
    encoder_layers=18,
    encoder_attention_heads=14,
    encoder_ffn_dim=3584,
    output_dim=1024,
    downsample_hidden_size=480,
    num_mel_bins=128,
    n_window=50,
    n_window_infer=800,
)
FULL_06B_TEXT = dict(
    hidden_size=1024,
    intermediate_size=3072,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=128,
    vocab_size=151936,
    rope_theta=1_000_000.0,
    rope_scaling={"mrope_section": [24, 20, 20], "interleaved": True, "rope_type": "default"},
    tie_word_embeddings=True,
)


def official_config(audio: dict[str, Any] | None = None, text: dict[str, Any] | None = None) -> Any:
    from qwen_asr.core.transformers_backend import Qwen3ASRConfig

    thinker = {
        "audio_config": {**TINY_AUDIO, **(audio or {})},
        "text_config": {**TINY_TEXT, **(text or {})},
        **REAL_TOKEN_IDS,
    }
    return Qwen3ASRConfig(thinker_config=thinker)


def build_official_model(
    seed: int = 0,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    weight_scale: float = 1.0,
) -> Any:
    """A float32 official model with random weights; `weight_scale` multiplies every matrix so
    outputs vary (the default std-0.02 init makes greedy decoding repeat one token)."""
    import torch
    from qwen_asr.core.transformers_backend import Qwen3ASRForConditionalGeneration

    torch.manual_seed(seed)
    model = Qwen3ASRForConditionalGeneration(official_config(audio, text)).float().eval()
    if weight_scale != 1.0:
        with torch.no_grad():
            for param in model.parameters():
                if param.ndim >= 2:
                    param.mul_(weight_scale)
    return model


def save_official_checkpoint(model: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    return folder
