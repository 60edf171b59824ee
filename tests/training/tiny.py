"""A tiny Qwen3-ASR checkpoint folder built with the MLX classes, and a tiny byte tokenizer.

The tokenizer is the real byte-level BPE class with no merges: 256 byte symbols plus the added
tokens the prompt needs, so the model's vocabulary is 264 rows instead of 151,936 and a training
step on it takes milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qasr.adapters.audio import write_wav
from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.audio_encoder import AudioEncoderConfig
from qasr.adapters.mlx.model.text_decoder import TextConfig
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker
from qasr.adapters.mlx.text.tokenizer import AddedToken, Tokenizer, byte_alphabet
from qasr.training.export import checkpoint_tensors

ADDED = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|audio_start|>", True),
    ("<|audio_end|>", True),
    ("<|audio_pad|>", True),
    ("<asr_text>", False),
)
FIRST_ADDED = 256
AUDIO_TOKEN_ID = FIRST_ADDED + 5
IM_END_ID = FIRST_ADDED + 2
VOCAB_SIZE = 264

AUDIO = dict(
    d_model=32,
    encoder_layers=1,
    encoder_attention_heads=2,
    encoder_ffn_dim=64,
    output_dim=48,
    downsample_hidden_size=8,
    num_mel_bins=128,
    n_window=50,
    n_window_infer=800,
)
TEXT = dict(
    hidden_size=48,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=12,
    vocab_size=VOCAB_SIZE,
    rope_theta=10_000.0,
    rope_scaling={"mrope_section": [2, 2, 2], "interleaved": True, "rope_type": "default"},
    tie_word_embeddings=True,
)


def tiny_tokenizer() -> Tokenizer:
    vocab = {symbol: i for i, symbol in enumerate(byte_alphabet())}
    added = [
        AddedToken(FIRST_ADDED + i, content, special) for i, (content, special) in enumerate(ADDED)
    ]
    return Tokenizer(vocab, [], added, eos_token="<|im_end|>")


def write_tokenizer_files(folder: Path) -> None:
    vocab = {symbol: i for i, symbol in enumerate(byte_alphabet())}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    decoder = {
        str(FIRST_ADDED + i): {"content": content, "special": special}
        for i, (content, special) in enumerate(ADDED)
    }
    config = {"added_tokens_decoder": decoder, "eos_token": "<|im_end|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")


def tiny_config(*, lm_head: bool = False) -> dict[str, Any]:
    return {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "model_type": "qwen3_asr",
        "thinker_config": {
            "model_type": "qwen3_asr_thinker",
            "audio_config": AUDIO,
            "text_config": {**TEXT, "tie_word_embeddings": not lm_head},
            "audio_token_id": AUDIO_TOKEN_ID,
        },
        "tie_word_embeddings": not lm_head,
    }


def tiny_model(seed: int = 0, *, lm_head: bool = False) -> Qwen3ASRThinker:
    mx.random.seed(seed)
    model = Qwen3ASRThinker(
        AudioEncoderConfig.from_dict(AUDIO), TextConfig.from_dict(TEXT), lm_head=lm_head
    )
    mx.eval(model.parameters())
    return model


def write_tiny_checkpoint(folder: Path, seed: int = 0, *, lm_head: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = tiny_model(seed, lm_head=lm_head)
    mx.save_safetensors(str(folder / "model.safetensors"), checkpoint_tensors(model, mx.float32))
    (folder / "config.json").write_text(json.dumps(tiny_config(lm_head=lm_head)), encoding="utf-8")
    write_tokenizer_files(folder)
    return folder


def tone(seconds: float, hz: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * 16_000)) / 16_000
    noise = np.random.default_rng(seed).standard_normal(t.size) * 0.05
    return (0.3 * np.sin(2 * np.pi * hz * t) + noise).astype(np.float32)


def write_manifest(folder: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    """Write each row's clip (`seconds`, `hz`) as a WAV file next to the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, row in enumerate(rows):
        clip = f"{name}-{i}.wav"
        write_wav(folder / clip, tone(row["seconds"], row["hz"], i), 16_000, "float32")
        entry = {"audio": clip, "text": row["text"], "language": row.get("language", "English")}
        lines.append(json.dumps(entry, ensure_ascii=False))
    path = folder / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TRAIN_ROWS = [
    {"seconds": 1.0, "hz": 220.0, "text": "hi there"},
    {"seconds": 1.3, "hz": 440.0, "text": "good day"},
    {"seconds": 0.8, "hz": 330.0, "text": "yes"},
]
