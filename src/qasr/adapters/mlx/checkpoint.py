"""Read a Qwen3-ASR checkpoint folder: which layout it is, its config, and its weights.

Two layouts exist (docs/adr): the original one read by `qwen-asr` (`thinker_config`, weights under
`thinker.`) and the transformers-native one (`-hf` repos: flat `audio_config` / `text_config`,
weights under `model.audio_tower.` / `model.language_model.` / `model.multi_modal_projector.`).
Both map onto the same MLX modules, whose names are the original layout's minus `thinker.`.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.model_files import read_json, safetensors_files
from qasr.errors import CheckpointError

# <|im_end|>, <|endoftext|>: the official generate() default.
DEFAULT_EOS_IDS = (151645, 151643)


class Layout(enum.Enum):
    ORIGINAL = "original"
    HF = "hf"


# One table per layout: checkpoint prefix -> module prefix (first match wins).
WEIGHT_PREFIXES: dict[Layout, tuple[tuple[str, str], ...]] = {
    Layout.ORIGINAL: (("thinker.", ""),),
    Layout.HF: (
        ("model.multi_modal_projector.linear_1.", "audio_tower.proj1."),
        ("model.multi_modal_projector.linear_2.", "audio_tower.proj2."),
        ("model.audio_tower.", "audio_tower."),
        ("model.language_model.", "model."),
        ("lm_head.", "lm_head."),
    ),
}


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


def detect_layout(config: dict[str, Any], folder: Path) -> Layout:
    if "thinker_config" in config:
        return Layout.ORIGINAL
    if "audio_config" in config and "text_config" in config:
        return Layout.HF
    raise CheckpointError(
        f"{folder}/config.json is not a Qwen3-ASR config: expected either `thinker_config` "
        "(the original Qwen/Qwen3-ASR-* layout) or `audio_config` + `text_config` (the "
        f"transformers-native -hf layout); found keys {sorted(config)[:8]}"
    )


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
        tie = raw.get("tie_word_embeddings", False)
    for key in ("audio_config", "text_config"):
        if not isinstance(inner.get(key), dict):
            raise CheckpointError(f"{folder}/config.json: missing `{key}`")
    eos = generation.get("eos_token_id", DEFAULT_EOS_IDS)
    eos_ids = (eos,) if isinstance(eos, int) else tuple(eos)
    architectures = raw.get("architectures") or ["?"]
    return CheckpointConfig(
        layout=layout,
        audio=inner["audio_config"],
        text=inner["text_config"],
        audio_token_id=int(inner.get("audio_token_id", 151676)),
        eos_token_ids=eos_ids,
        tie_word_embeddings=bool(tie),
        architecture=str(architectures[0]),
        raw=raw,
    )


def module_name(checkpoint_name: str, layout: Layout) -> str | None:
    """The MLX module path for a checkpoint tensor name, or None for tensors qasr ignores."""
    for prefix, replacement in WEIGHT_PREFIXES[layout]:
        if checkpoint_name.startswith(prefix):
            return replacement + checkpoint_name[len(prefix) :]
    return None


def read_weights(folder: Path, layout: Layout) -> dict[str, Any]:
    """All tensors of the checkpoint as MLX arrays, renamed to module paths."""
    from qasr.adapters.mlx.backend import mx

    weights: dict[str, Any] = {}
    for path in safetensors_files(folder):
        try:
            tensors = mx.load(str(path))
        except Exception as error:  # MLX raises RuntimeError/ValueError with C++ messages
            raise CheckpointError(f"{path}: cannot read safetensors ({error})") from None
        for name, tensor in tensors.items():
            target = module_name(name, layout)
            if target is not None:
                weights[target] = tensor
    return weights


def check_shapes(
    expected: dict[str, tuple[int, ...]], weights: dict[str, Any], folder: Path
) -> None:
    """Fail with one message listing what is missing, unexpected or mis-shaped."""
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(
        f"{name}: checkpoint {tuple(weights[name].shape)}, model {shape}"
        for name, shape in expected.items()
        if name in weights and tuple(weights[name].shape) != shape
    )
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} with wrong shapes (e.g. {'; '.join(wrong[:3])})")
    if problems:
        raise CheckpointError(
            f"{folder}: the weights do not match config.json: " + "; ".join(problems)
        )
