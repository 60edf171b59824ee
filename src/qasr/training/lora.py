"""Low-rank adapters (LoRA, Hu et al. 2021) on the model's linear projections.

`W x` becomes `W x + (alpha / r) * B A x` with the base `W` frozen; A starts random and B at zero,
so training starts exactly at the base model. The decoder's fused `qkv_proj` and `gate_up_proj`
get one adapter each (a shared A for q/k/v); merged, that is still one weight delta per
projection, which export splits back into q/k/v like any other weight.
"""

from __future__ import annotations

import math
import re

import attrs

from qasr.adapters.mlx.backend import mx, nn, tree_flatten, tree_unflatten
from qasr.errors import InvalidInputError

DECODER_TARGETS = re.compile(
    r"^model\.layers\.\d+\.(self_attn\.(qkv|o)_proj|mlp\.(gate_up|down)_proj)$"
)
ENCODER_TARGETS = re.compile(r"^audio_tower\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|fc1|fc2)$")


@attrs.frozen
class LoraSettings:
    rank: int
    alpha: float = 16.0
    encoder: bool = False  # adapt the audio encoder's projections too

    def __attrs_post_init__(self) -> None:
        if self.rank < 1:
            raise InvalidInputError(f"LoRA rank must be at least 1, got {self.rank}")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


class LoRALinear(nn.Module):
    def __init__(self, linear: nn.Linear, rank: int, scale: float, key: mx.array) -> None:
        super().__init__()
        out_dims, in_dims = linear.weight.shape
        dtype = linear.weight.dtype
        linear.freeze()
        self.linear = linear
        self.scale = scale
        bound = 1.0 / math.sqrt(in_dims)  # PyTorch's Linear init, as PEFT uses for A
        self.lora_a = mx.random.uniform(-bound, bound, (in_dims, rank), key=key).astype(dtype)
        self.lora_b = mx.zeros((rank, out_dims), dtype=dtype)

    def __call__(self, x: mx.array) -> mx.array:
        update = (x @ self.lora_a) @ self.lora_b
        return self.linear(x) + (self.scale * update).astype(x.dtype)

    def merged_weight(self) -> mx.array:
        """W + scale * (A B)^T: the [out, in] weight of the equivalent plain Linear."""
        delta = self.scale * (self.lora_a.astype(mx.float32) @ self.lora_b.astype(mx.float32))
        weight = self.linear.weight
        return (weight.astype(mx.float32) + delta.T).astype(weight.dtype)

    def merged(self) -> nn.Linear:
        out_dims, in_dims = self.linear.weight.shape
        linear = nn.Linear(in_dims, out_dims, bias="bias" in self.linear)
        linear.weight = self.merged_weight()
        if "bias" in self.linear:
            linear.bias = self.linear.bias
        return linear


def is_target(module_path: str, settings: LoraSettings) -> bool:
    return bool(
        DECODER_TARGETS.match(module_path)
        or (settings.encoder and ENCODER_TARGETS.match(module_path))
    )


def apply_lora(model: nn.Module, settings: LoraSettings, seed: int) -> list[str]:
    """Freeze `model` and wrap its target projections in adapters; return their paths."""
    targets = [
        (path, module)
        for path, module in model.named_modules()
        if type(module) is nn.Linear and is_target(path, settings)
    ]
    if not targets:
        raise InvalidInputError("the model has no projections to put LoRA adapters on")
    model.freeze()
    keys = mx.random.split(mx.random.key(seed), len(targets))
    adapters = [
        (path, LoRALinear(module, settings.rank, settings.scale, keys[i]))
        for i, (path, module) in enumerate(targets)
    ]
    model.update_modules(tree_unflatten(adapters))
    return [path for path, _ in targets]


def lora_modules(model: nn.Module) -> list[tuple[str, LoRALinear]]:
    return [(path, m) for path, m in model.named_modules() if isinstance(m, LoRALinear)]


def merge_lora(model: nn.Module) -> None:
    """Replace every adapter by its merged Linear, in place."""
    merged = [(path, module.merged()) for path, module in lora_modules(model)]
    if merged:
        model.update_modules(tree_unflatten(merged))


def merged_parameters(model: nn.Module) -> dict[str, mx.array]:
    """Module-path parameters with the adapters merged, leaving `model` as it is."""
    weights = dict(tree_flatten(model.parameters()))
    for path, module in lora_modules(model):
        for leaf in ("linear.weight", "linear.bias", "lora_a", "lora_b"):
            weights.pop(f"{path}.{leaf}", None)
        weights[f"{path}.weight"] = module.merged_weight()
        if "bias" in module.linear:
            weights[f"{path}.bias"] = module.linear.bias
    return weights


__all__ = [
    "LoRALinear",
    "LoraSettings",
    "apply_lora",
    "is_target",
    "lora_modules",
    "merge_lora",
    "merged_parameters",
]
