"""The files the official `qwen-asr` needs besides config, weights and vocabulary, written offline.

`Qwen3ASRModel.from_pretrained(folder)` calls `AutoProcessor.from_pretrained(folder)`, which
builds `Qwen3ASRProcessor` from three things a qasr checkpoint need not carry:

- preprocessor_config.json: the `WhisperFeatureExtractor` with 128 mel bins (the values of
  `WhisperFeatureExtractor(feature_size=128)`, which the parity tests hold qasr's mel to);
- chat_template.json: the processor's template (transformers 4.57 reads this legacy file or
  chat_template.jinja). The official `_build_text_prompt` renders a system message holding the
  context and a user message holding one audio item, plus the generation prompt; the template
  below renders exactly `prompt.build_prompt(context, n_audio_tokens=1)` for it;
- `audio_token`, `audio_bos_token`, `audio_eos_token` on the tokenizer, which the processor
  reads in its constructor: added to tokenizer_config.json's `extra_special_tokens`.

A file or token the folder already has is kept: a real checkpoint's own files are the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qasr.adapters.mlx.checkpoint.files import read_json, write_json
from qasr.adapters.mlx.text.prompt import AUDIO_END, AUDIO_PAD, AUDIO_START
from qasr.errors import CheckpointError

PREPROCESSOR_CONFIG = "preprocessor_config.json"
CHAT_TEMPLATE = "chat_template.json"
TOKENIZER_CONFIG = "tokenizer_config.json"

FEATURE_EXTRACTOR: dict[str, Any] = {
    "feature_extractor_type": "WhisperFeatureExtractor",
    "feature_size": 128,
    "sampling_rate": 16000,
    "hop_length": 160,
    "n_fft": 400,
    "chunk_length": 30,
    "n_samples": 480000,
    "nb_max_frames": 3000,
    "padding_side": "right",
    "padding_value": 0.0,
    "dither": 0.0,
    # The processor renames the mask to `feature_attention_mask`; it must be returned.
    "return_attention_mask": True,
}

# Content is a string (system) or a list of items (user); any audio item is one placeholder,
# which the processor then repeats once per audio token.
PROMPT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}"
    "{{- message['content'] -}}"
    "{%- else -%}"
    "{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'audio' or 'audio' in item -%}"
    "{{- '" + AUDIO_START + AUDIO_PAD + AUDIO_END + "' -}}"
    "{%- elif item['type'] == 'text' -%}"
    "{{- item['text'] -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- endif -%}"
)
AUDIO_TOKENS = {
    "audio_token": AUDIO_PAD,
    "audio_bos_token": AUDIO_START,
    "audio_eos_token": AUDIO_END,
}


def _add_audio_tokens(folder: Path) -> None:
    config = read_json(folder, TOKENIZER_CONFIG)
    extra = config.get("extra_special_tokens", {})
    if not isinstance(extra, dict):
        raise CheckpointError(
            f"{folder}/{TOKENIZER_CONFIG}: `extra_special_tokens` is a "
            f"{type(extra).__name__}; the official processor needs it to be an object naming "
            f"{', '.join(AUDIO_TOKENS)}"
        )
    missing = {
        key: token for key, token in AUDIO_TOKENS.items() if key not in config and key not in extra
    }
    if missing:
        config["extra_special_tokens"] = {**extra, **missing}
        write_json(folder / TOKENIZER_CONFIG, config)


def write_official_side_files(folder: Path) -> Path:
    """Make the checkpoint `folder` loadable by `qwen_asr.Qwen3ASRModel.from_pretrained`."""
    if not (folder / PREPROCESSOR_CONFIG).is_file():
        write_json(folder / PREPROCESSOR_CONFIG, FEATURE_EXTRACTOR)
    has_template = (folder / CHAT_TEMPLATE).is_file() or (folder / "chat_template.jinja").is_file()
    if not has_template:
        write_json(folder / CHAT_TEMPLATE, {"chat_template": PROMPT_TEMPLATE})
    _add_audio_tokens(folder)
    return folder


__all__ = ["FEATURE_EXTRACTOR", "PROMPT_TEMPLATE", "write_official_side_files"]
