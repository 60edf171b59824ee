"""Read a Qwen3-ASR checkpoint's config.json: which layout it is, and what qasr needs of it.

Two layouts exist (docs/adr): the original one read by `qwen-asr` (`thinker_config`, weights under
`thinker.`) and the transformers-native one (`-hf` repos: flat `audio_config` / `text_config`,
weights under `model.audio_tower.` / `model.language_model.` / `model.multi_modal_projector.`).
Both map onto the same MLX modules, whose names are the original layout's minus `thinker.`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from qasr.adapters.mlx.checkpoint.files import read_json
from qasr.adapters.mlx.checkpoint.weights import WEIGHT_ROOTS, Layout
from qasr.errors import CheckpointError

Config = TypeVar("Config")


def known_fields(config_class: type[Config], values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a config.json object that `config_class` (an attrs class) has fields for:
    checkpoints carry transformers' generic fields too, which the MLX modules do not use."""
    names = {field.name for field in attrs.fields(config_class)}  # type: ignore[misc]
    return {key: value for key, value in values.items() if key in names}


# <|im_end|>, <|endoftext|>: the official generate() default.
DEFAULT_EOS_IDS = (151645, 151643)


HF_ARCHITECTURES = ("Qwen3ASRForConditionalGeneration", "Qwen3ASRForTokenClassification")


@attrs.frozen
class CheckpointConfig:
    """What qasr needs from config.json, whatever the layout."""

    layout: Layout
    audio: dict[str, Any]  # the audio_config object, field names as in config.json
    text: dict[str, Any]  # the text_config object
    audio_token_id: int
    eos_token_ids: tuple[int, ...]
    tie_word_embeddings: bool
    architecture: str
    raw: dict[str, Any] = attrs.field(repr=False, eq=False)
    # Qwen3-ForcedAligner only: its head has `classify_num` timestamp classes instead of the
    # vocabulary, read at `<timestamp>` tokens; class k means k * `timestamp_segment_time` ms.
    classify_num: int | None = None
    timestamp_token_id: int | None = None
    timestamp_segment_time: float | None = None

    @property
    def is_aligner(self) -> bool:
        return self.classify_num is not None

    @property
    def pads_short_clips(self) -> bool:
        """Whether clips under 1 s are padded as the layout's own reference pads them.

        transformers' Qwen3ASRFeatureExtractor (the -hf reference) zero-pads every clip under
        0.5 s to 0.5 s and the mel to whole 100-frame chunks; qwen-asr (the original layout's)
        pads neither for a whole clip. The outputs differ (docs/adr/0010), so each layout
        follows its own reference.
        """
        return self.layout is Layout.HF


def detect_layout(config: dict[str, Any], folder: Path) -> Layout:
    if "thinker_config" in config:
        layout = Layout.ORIGINAL
    elif "audio_config" in config and "text_config" in config:
        layout = Layout.HF
    else:
        raise CheckpointError(
            f"{folder}/config.json is not a Qwen3-ASR config: expected either `thinker_config` "
            "(the original Qwen/Qwen3-ASR-* layout) or `audio_config` + `text_config` (the "
            f"transformers-native -hf layout); found keys {sorted(config)[:8]}"
        )
    indexed = _layout_of_index(folder)
    if indexed is not None and indexed is not layout:
        raise CheckpointError(
            f"{folder}: config.json is in the {layout.value} layout but the safetensors index "
            f"names {indexed.value}-layout weights; the folder mixes two checkpoints"
        )
    return layout


def _layout_of_index(folder: Path) -> Layout | None:
    """The layout the safetensors index's tensor names belong to, when there is an index."""
    names = read_json(folder, "model.safetensors.index.json", required=False).get("weight_map")
    if not isinstance(names, dict):
        return None
    for layout, roots in WEIGHT_ROOTS.items():
        if any(name.startswith(roots) for name in names):
            return layout
    return None


def _hf_text_config(text: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A plain `qwen3` text config (transformers 5: `rope_parameters`) in the original's terms.

    -hf decoders use 1-D RoPE; a section that gives every frequency to the time axis makes the
    MLX MRoPE exactly that, whatever the positions."""
    rope = text.get("rope_parameters") or {}
    rope_type = rope.get("rope_type", "default")
    if rope_type != "default":
        raise CheckpointError(
            f"{folder}/config.json: text_config.rope_parameters.rope_type {rope_type!r} is not "
            "supported (only 'default'); is this a Qwen3-ASR checkpoint?"
        )
    head_dim = int(text.get("head_dim", text["hidden_size"] // text["num_attention_heads"]))
    return {
        **text,
        "rope_theta": rope.get("rope_theta", text.get("rope_theta", 1_000_000.0)),
        "rope_scaling": {"mrope_section": [head_dim // 2, 0, 0], "interleaved": True},
    }


def read_checkpoint_config(folder: Path) -> CheckpointConfig:
    raw = read_json(folder, "config.json")
    layout = detect_layout(raw, folder)
    generation = read_json(folder, "generation_config.json", required=False)
    if layout is Layout.ORIGINAL:
        inner = raw["thinker_config"]
        tie = raw.get(
            "tie_word_embeddings", inner.get("text_config", {}).get("tie_word_embeddings", True)
        )
    else:
        inner = raw
        # Qwen3ASRConfig ties by default, and save_pretrained then stores no lm_head.
        tie = raw.get("tie_word_embeddings", True)
    for key in ("audio_config", "text_config"):
        if not isinstance(inner.get(key), dict):
            raise CheckpointError(f"{folder}/config.json: missing `{key}`")
    text = inner["text_config"]
    if layout is Layout.HF:
        text = _hf_text_config(text, folder)
    eos = generation.get("eos_token_id", raw.get("eos_token_id", DEFAULT_EOS_IDS))
    eos_ids = (eos,) if isinstance(eos, int) else tuple(eos)
    architectures = raw.get("architectures") or ["?"]
    return CheckpointConfig(
        layout=layout,
        audio=inner["audio_config"],
        text=text,
        audio_token_id=int(inner.get("audio_token_id", 151676)),
        eos_token_ids=eos_ids,
        tie_word_embeddings=bool(tie),
        architecture=str(architectures[0]),
        raw=raw,
        **_aligner_fields(raw, inner, folder),
    )


def _aligner_fields(raw: dict[str, Any], inner: dict[str, Any], folder: Path) -> dict[str, Any]:
    """classify_num / timestamp_token_id / timestamp_segment_time, or {} for an ASR model.

    The official code tells an aligner by `forced_aligner` in the thinker's `model_type`, but
    transformers' `save_pretrained` rewrites that field to `qwen3_asr_thinker`; `classify_num`
    survives, so either marks an aligner.
    """
    classify_num = inner.get("classify_num")
    if inner is raw and "ForTokenClassification" in str((raw.get("architectures") or [""])[0]):
        return _hf_aligner_fields(raw, folder)
    if classify_num is None and "forced_aligner" not in str(inner.get("model_type", "")):
        return {}
    fields = {"classify_num": classify_num}
    for key in ("timestamp_token_id", "timestamp_segment_time"):
        fields[key] = raw.get(key, inner.get(key))
    missing = [key for key, value in fields.items() if value is None]
    if missing:
        raise CheckpointError(
            f"{folder}/config.json is a forced aligner's but lacks {', '.join(missing)}; "
            "download the checkpoint's config.json again"
        )
    return {
        "classify_num": int(classify_num),
        "timestamp_token_id": int(fields["timestamp_token_id"]),
        "timestamp_segment_time": float(fields["timestamp_segment_time"]),
    }


def _hf_aligner_fields(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Qwen3ASRForTokenClassification: classes are `num_labels` (saved as `id2label`), and the
    class width is the processor's `timestamp_segment_time` (80 ms unless it says otherwise)."""
    labels = raw.get("num_labels") or len(raw.get("id2label") or {})
    if not labels:
        raise CheckpointError(
            f"{folder}/config.json is a Qwen3ASRForTokenClassification config without "
            "`id2label`; download the checkpoint's config.json again"
        )
    processor = read_json(folder, "processor_config.json", required=False)
    return {
        "classify_num": int(labels),
        "timestamp_token_id": int(raw.get("timestamp_token_id", 151705)),
        "timestamp_segment_time": float(processor.get("timestamp_segment_time", 80.0)),
    }
