"""Convert a Qwen3-ASR checkpoint folder between the two layouts (docs/adr/0010).

Weight names go through the one table in `checkpoint.weights`: a checkpoint name of the
source layout becomes a module path, which becomes a checkpoint name of the target layout.
Tensors are copied bit for bit (dtype kept); only config.json is rewritten. Tokenizer and
processor files are copied as they are.

The configs differ in shape, not in meaning: the original nests `audio_config`/`text_config` in
`thinker_config` and describes RoPE as MRoPE (`rope_theta` + `rope_scaling.mrope_section`); the
`-hf` one is flat and its text config is a plain `qwen3` one (`rope_parameters.rope_theta`).
ASR prompts give every token the same position on all three MRoPE axes, so MRoPE is plain RoPE
there and the section split carries no information.

Forced aligners convert too. The original one is the generation model with a `classify_num`-row
`lm_head`, `model_type` `qwen3_forced_aligner` and the timestamp settings at the config's root;
the -hf one is `Qwen3ASRForTokenClassification`: head `score` (optionally with a bias, which the
original cannot hold), classes as `id2label`, and the class width in processor_config.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qasr.adapters.mlx.checkpoint.config import CheckpointConfig, read_checkpoint_config
from qasr.adapters.mlx.checkpoint.files import (
    CONFIG_FILE,
    copy_side_files,
    safetensors_files,
    write_json,
)
from qasr.adapters.mlx.checkpoint.weights import Layout, checkpoint_name, module_name
from qasr.adapters.mlx.model.lengths import tokens_per_chunk
from qasr.errors import CheckpointError

# Fields that define the audio encoder; transformers' generic PretrainedConfig fields are dropped.
AUDIO_KEYS = (
    "num_mel_bins",
    "encoder_layers",
    "encoder_attention_heads",
    "encoder_ffn_dim",
    "d_model",
    "dropout",
    "attention_dropout",
    "activation_function",
    "activation_dropout",
    "scale_embedding",
    "initializer_range",
    "n_window",
    "output_dim",
    "n_window_infer",
    "downsample_hidden_size",
)
TEXT_KEYS = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "hidden_act",
    "max_position_embeddings",
    "initializer_range",
    "rms_norm_eps",
    "attention_bias",
    "attention_dropout",
)
# The original `thinker_config` token ids of the real checkpoints; the -hf config has no field
# for the audio start/end markers (its processor finds them in the tokenizer).
AUDIO_START_TOKEN_ID = 151669
AUDIO_END_TOKEN_ID = 151670
REAL_MROPE_SECTION = (24, 20, 20)  # the real checkpoints' split of head_dim 128
PROCESSOR_CONFIG = "processor_config.json"
ALIGNER_ARCHITECTURE = "Qwen3ASRForTokenClassification"
ALIGNER_MODEL_TYPE = "qwen3_forced_aligner"
DEFAULT_SEGMENT_TIME = 80.0  # Qwen3ASRProcessor's timestamp_segment_time default


def mrope_section(head_dim: int) -> list[int]:
    """An MRoPE split for the original config. Any split is exact for ASR (equal positions);
    keep the real one where it fits, else the same proportions."""
    half = head_dim // 2
    if half == sum(REAL_MROPE_SECTION):
        return list(REAL_MROPE_SECTION)
    spatial = half * REAL_MROPE_SECTION[1] // sum(REAL_MROPE_SECTION)
    return [half - 2 * spatial, spatial, spatial]


def _pick(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: values[key] for key in keys if key in values}


def hf_config(original: dict[str, Any]) -> dict[str, Any]:
    """An original config.json (`thinker_config`) as a transformers-native one."""
    thinker = original["thinker_config"]
    text = thinker["text_config"]
    audio = _pick(thinker["audio_config"], AUDIO_KEYS)
    # The -hf encoder's position table covers one chunk only (13 rows for n_window 50).
    audio["max_position_embeddings"] = tokens_per_chunk(int(audio.get("n_window", 50)))
    scaling = text.get("rope_scaling") or {}
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))
    tie = original.get("tie_word_embeddings", text.get("tie_word_embeddings", True))
    config: dict[str, Any] = {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "model_type": "qwen3_asr",
        "audio_config": {"model_type": "qwen3_asr_encoder", **audio},
        "text_config": {
            "model_type": "qwen3",
            **_pick(text, TEXT_KEYS),
            "rope_parameters": {"rope_type": rope_type, "rope_theta": text["rope_theta"]},
            "tie_word_embeddings": bool(tie),
        },
        "audio_token_id": thinker.get("audio_token_id", 151676),
        "tie_word_embeddings": bool(tie),
    }
    if "dtype" in original:
        config["dtype"] = original["dtype"]
    return config


def original_config(hf: dict[str, Any]) -> dict[str, Any]:
    """A transformers-native config.json as an original (`thinker_config`) one."""
    text = hf["text_config"]
    rope = text.get("rope_parameters") or {}
    theta = rope.get("rope_theta", text.get("rope_theta"))
    if theta is None:
        raise CheckpointError("text_config has no rope_parameters.rope_theta to convert")
    head_dim = int(text.get("head_dim", text["hidden_size"] // text["num_attention_heads"]))
    tie = bool(hf.get("tie_word_embeddings", True))
    thinker: dict[str, Any] = {
        "model_type": "qwen3_asr_thinker",
        "audio_config": {
            "model_type": "qwen3_asr_audio_encoder",
            **_pick(hf["audio_config"], AUDIO_KEYS),
        },
        "text_config": {
            "model_type": "qwen3_asr_text",
            **_pick(text, TEXT_KEYS),
            "rope_theta": theta,
            "rope_scaling": {
                "rope_type": rope.get("rope_type", "default"),
                "interleaved": True,
                "mrope_section": mrope_section(head_dim),
            },
            "tie_word_embeddings": tie,
        },
        "audio_token_id": hf.get("audio_token_id", 151676),
        "audio_start_token_id": AUDIO_START_TOKEN_ID,
        "audio_end_token_id": AUDIO_END_TOKEN_ID,
    }
    config: dict[str, Any] = {
        "architectures": ["Qwen3ASRForConditionalGeneration"],
        "model_type": "qwen3_asr",
        "thinker_config": thinker,
        "tie_word_embeddings": tie,
    }
    if "dtype" in hf:
        config["dtype"] = hf["dtype"]
    return config


def convert_config(config: dict[str, Any], source: Layout, target: Layout) -> dict[str, Any]:
    if source is target:
        return dict(config)
    return hf_config(config) if target is Layout.HF else original_config(config)


def aligner_config(converted: dict[str, Any], aligner: CheckpointConfig) -> dict[str, Any]:
    """`convert_config`'s output, made the forced aligner `aligner` describes in its layout."""
    labels = int(aligner.classify_num or 0)
    fields = {"timestamp_token_id": aligner.timestamp_token_id}
    if "thinker_config" in converted:
        thinker = converted["thinker_config"]
        thinker["model_type"] = ALIGNER_MODEL_TYPE
        thinker["classify_num"] = labels
        # The head has classify_num rows, not the vocabulary's: tying would overwrite it.
        thinker["text_config"]["tie_word_embeddings"] = False
        return {
            **converted,
            **fields,
            "timestamp_segment_time": aligner.timestamp_segment_time,
            "tie_word_embeddings": False,
        }
    return {
        **converted,
        **fields,
        "architectures": [ALIGNER_ARCHITECTURE],
        "id2label": {str(label): f"LABEL_{label}" for label in range(labels)},
        "label2id": {f"LABEL_{label}": label for label in range(labels)},
        "token_classification_bias": False,
    }


def _aligner_head(name: str) -> str:
    # Qwen3ASRForTokenClassification names the head `score`; the table maps it back to lm_head.
    return "score." + name.removeprefix("lm_head.") if name.startswith("lm_head.") else name


def _write_segment_time(dst: Path, segment_time: float | None) -> None:
    """The -hf processor keeps the class width; write it where the default would be wrong."""
    path = dst / PROCESSOR_CONFIG
    processor = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    written = processor.get("timestamp_segment_time", DEFAULT_SEGMENT_TIME)
    if segment_time is None or written == segment_time:
        return
    processor["timestamp_segment_time"] = segment_time
    write_json(path, processor)


def _converted_tensors(folder: Path, source: Layout, target: Layout) -> dict[str, Any]:
    from qasr.adapters.mlx.backend import mx

    tensors: dict[str, Any] = {}
    for path in safetensors_files(folder):
        loaded = mx.load(str(path))
        if not isinstance(loaded, dict):
            raise CheckpointError(f"{path}: not a safetensors file of named tensors")
        for name, tensor in loaded.items():
            module = module_name(name, source)
            if module is None:
                raise CheckpointError(
                    f"{path}: tensor {name!r} has no place in the {target.value} layout"
                )
            tensors[checkpoint_name(module, target)] = tensor
    return tensors


def convert_layout(source: str | Path, destination: str | Path, layout: Layout | str) -> Path:
    """Write `source`'s checkpoint to `destination` in `layout` ('original' or 'hf').

    The destination folder may exist but must not already hold a config.json or weights.
    """
    from qasr.adapters.mlx.backend import mx

    try:
        target = Layout(layout) if isinstance(layout, str) else layout
    except ValueError:
        choices = ", ".join(item.value for item in Layout)
        raise CheckpointError(f"unknown checkpoint layout {layout!r}; choose {choices}") from None
    src, dst = Path(source), Path(destination)
    if src.resolve() == dst.resolve():
        raise CheckpointError(f"{dst}: write the converted checkpoint to another folder")
    if (dst / "config.json").exists() or any(dst.glob("*.safetensors")):
        raise CheckpointError(f"{dst} already holds a checkpoint; pick an empty folder")
    config = read_checkpoint_config(src)
    tensors = _converted_tensors(src, config.layout, target)
    aligner = config.is_aligner and config.layout is not target
    if aligner and target is Layout.HF:
        tensors = {_aligner_head(name): tensor for name, tensor in tensors.items()}
    if aligner and "thinker.lm_head.bias" in tensors:
        raise CheckpointError(
            f"{src} is a forced aligner whose head has a bias (token_classification_bias); "
            "the original layout has no place for it, so load it in the -hf layout"
        )
    dst.mkdir(parents=True, exist_ok=True)
    copy_side_files(src, dst)
    converted = convert_config(config.raw, config.layout, target)
    if aligner:
        converted = aligner_config(converted, config)
        if target is Layout.HF:
            _write_segment_time(dst, config.timestamp_segment_time)
    write_json(dst / CONFIG_FILE, converted)
    mx.save_safetensors(str(dst / "model.safetensors"), tensors, metadata={"format": "pt"})
    return dst
