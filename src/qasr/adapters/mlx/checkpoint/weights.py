"""The one table of weight names: checkpoint tensor name <-> MLX module path, per layout, and
the two rules that make a checkpoint's tensors differ from the MLX model's own.

Module paths are the original layout's tensor names minus `thinker.`; the -hf layout spreads them
over `model.audio_tower.`, `model.language_model.`, `model.multi_modal_projector.` (docs/adr/0010).
The rules:
- the decoder's q/k/v and gate/up projections are one fused layer each in MLX (one matmul instead
  of three or two); checkpoints store them apart, in `FUSED_PROJECTIONS` order;
- conv kernels are OIHW in PyTorch checkpoints and OHWI in MLX.

Pure Python: no MLX import (the transposes take any array with `.transpose` and `.ndim`).
"""

from __future__ import annotations

import enum
from typing import Any

from qasr.errors import CheckpointError


class Layout(enum.Enum):
    ORIGINAL = "original"
    HF = "hf"


# checkpoint prefix -> module prefix, per layout (first match wins, both ways).
WEIGHT_PREFIXES: dict[Layout, tuple[tuple[str, str], ...]] = {
    Layout.ORIGINAL: (("thinker.", ""),),
    Layout.HF: (
        ("model.multi_modal_projector.linear_1.", "audio_tower.proj1."),
        ("model.multi_modal_projector.linear_2.", "audio_tower.proj2."),
        ("model.audio_tower.", "audio_tower."),
        ("model.language_model.", "model."),
        ("lm_head.", "lm_head."),
        # Qwen3ASRForTokenClassification (the forced aligner) names its head `score`.
        ("score.", "lm_head."),
    ),
}
# Where the weights of each layout live, to tell the layouts apart by their tensor names.
WEIGHT_ROOTS: dict[Layout, tuple[str, ...]] = {
    Layout.ORIGINAL: ("thinker.",),
    Layout.HF: ("model.audio_tower.", "model.language_model."),
}

# A fused MLX projection -> the checkpoint projections it concatenates (rows, in this order).
FUSED_PROJECTIONS: dict[str, tuple[str, ...]] = {
    "qkv_proj": ("q_proj", "k_proj", "v_proj"),
    "gate_up_proj": ("gate_proj", "up_proj"),
}
FUSED_INTO: dict[str, str] = {
    part: fused for fused, parts in FUSED_PROJECTIONS.items() for part in parts
}


def module_name(checkpoint_name: str, layout: Layout) -> str | None:
    """The MLX module path of a checkpoint tensor, or None for tensors qasr ignores."""
    for prefix, replacement in WEIGHT_PREFIXES[layout]:
        if checkpoint_name.startswith(prefix):
            return replacement + checkpoint_name[len(prefix) :]
    return None


def checkpoint_name(module_path: str, layout: Layout) -> str:
    """The tensor name `layout` stores a module path under: `module_name` reversed."""
    for prefix, replacement in WEIGHT_PREFIXES[layout]:
        if module_path.startswith(replacement):
            return prefix + module_path[len(replacement) :]
    raise CheckpointError(f"no {layout.value}-layout name for the module path {module_path!r}")


def is_conv_kernel(path: str, value: Any) -> bool:
    """Whether `path` (a module path, with or without `audio_tower.`) names a conv2d kernel."""
    module, _, leaf = path.rpartition(".")
    return module.rpartition(".")[2].startswith("conv2d") and leaf == "weight" and value.ndim == 4


def conv_to_mlx(kernel: Any) -> Any:
    """PyTorch OIHW -> MLX OHWI."""
    return kernel.transpose(0, 2, 3, 1)


def conv_to_torch(kernel: Any) -> Any:
    """MLX OHWI -> PyTorch OIHW."""
    return kernel.transpose(0, 3, 1, 2)


__all__ = [
    "FUSED_INTO",
    "FUSED_PROJECTIONS",
    "WEIGHT_PREFIXES",
    "WEIGHT_ROOTS",
    "Layout",
    "checkpoint_name",
    "conv_to_mlx",
    "conv_to_torch",
    "is_conv_kernel",
    "module_name",
]
