"""Weight-only affine quantization of the thinker, and rebuilding it from a checkpoint's config.

`qasr convert` quantizes with `mlx.nn.quantize` (docs/adr/0009-quantization.md): every
`nn.Linear` and the `nn.Embedding` of the decoder at `bits`, the audio encoder's Linear layers at
`encoder_bits` (or left float), convolutions and norms float. Affine groups run along a weight's
last axis (its input dimension), so a layer whose input dimension is not a multiple of the group
size cannot be quantized and stays float. The decoder's fused `qkv_proj` / `gate_up_proj` are
quantized as one layer; because groups never cross output rows this equals quantizing q, k and v
one by one.

config.json records the result as mlx-lm does: `"quantization": {"group_size", "bits", "mode"}`
for the default, plus one entry per module path that differs (`{"group_size", "bits"}`). A module
is stored quantized exactly when the checkpoint holds its `.scales`, which is how the loader
(`quantize_like_checkpoint`) knows which layers to rebuild.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from qasr.adapters.mlx.backend import mx, nn
from qasr.errors import CheckpointError, InvalidInputError

GROUP_SIZES = (32, 64, 128)  # what mx.quantize accepts in "affine" mode
BITS = (4, 8)  # measured in scripts/quant_agreement.py; mx also has 2, 3, 5, 6
FLOAT_BITS = 16  # --encoder-bits 16: leave the encoder float
MODE = "affine"
ENCODER_PREFIX = "audio_tower."


def _check_group_size(_: object, __: object, value: int) -> None:
    if value not in GROUP_SIZES:
        raise InvalidInputError(
            f"group size {value} is not supported; choose one of "
            f"{', '.join(map(str, GROUP_SIZES))} (64 is the usual choice)"
        )


def _check_bits(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    allowed = BITS + ((FLOAT_BITS,) if attribute.name == "encoder_bits" else ())
    if value not in allowed:
        raise InvalidInputError(
            f"{attribute.name.replace('_', ' ')} {value} is not supported; choose one of "
            f"{', '.join(map(str, allowed))}"
        )


@attrs.frozen
class QuantizationPlan:
    """What to quantize: the decoder at `bits`, the encoder at `encoder_bits` (16 = float)."""

    bits: int = attrs.field(validator=_check_bits)
    group_size: int = attrs.field(default=64, validator=_check_group_size)
    encoder_bits: int = attrs.field(
        default=attrs.Factory(lambda self: self.bits, takes_self=True), validator=_check_bits
    )

    def bits_for(self, path: str) -> int | None:
        """The bit width for a module path, or None to leave it float."""
        if path.startswith(ENCODER_PREFIX):
            return None if self.encoder_bits == FLOAT_BITS else self.encoder_bits
        return self.bits


def _input_dim(module: nn.Module) -> int | None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        return int(module.weight.shape[-1])
    return None  # convolutions, norms and already-quantized layers stay as they are


def quantize_thinker(model: nn.Module, plan: QuantizationPlan) -> dict[str, Any]:
    """Quantize `model` in place; return config.json's `quantization` block."""
    block: dict[str, Any] = {"group_size": plan.group_size, "bits": plan.bits, "mode": MODE}

    def predicate(path: str, module: nn.Module) -> bool | dict[str, Any]:
        input_dim = _input_dim(module)
        bits = plan.bits_for(path)
        if bits is None or input_dim is None or input_dim % plan.group_size:
            return False
        if bits != plan.bits:
            block[path] = {"group_size": plan.group_size, "bits": bits}
        return {"group_size": plan.group_size, "bits": bits, "mode": MODE}

    nn.quantize(model, class_predicate=predicate)
    mx.eval(model.parameters())
    return block


def _layer_params(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{where}: expected an object with `group_size` and `bits`")
    try:
        params = {"group_size": int(value["group_size"]), "bits": int(value["bits"])}
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(
            f"{where}: `group_size` and `bits` must be integers, got {dict(value)!r}"
        ) from None
    params["mode"] = str(value.get("mode", MODE))
    return params


def quantize_like_checkpoint(
    model: nn.Module, block: Any, weights: Mapping[str, mx.array], folder: Path
) -> None:
    """Turn the layers that `weights` stores quantized (those with `.scales`) into quantized
    layers with the block's bits and group size, so `load_weights` finds matching shapes."""
    where = f"{folder}/config.json: quantization"
    default = _layer_params(block, where)

    def predicate(path: str, module: nn.Module) -> bool | dict[str, Any]:
        if f"{path}.scales" not in weights or not hasattr(module, "to_quantized"):
            return False  # a stray `.scales` then shows up as an unexpected weight
        if path in block:
            return _layer_params(block[path], f"{where}.{path}") if block[path] else False
        return dict(default)

    try:
        nn.quantize(model, class_predicate=predicate)
    except ValueError as error:  # mx.quantize on an unsupported group size or bit width
        raise CheckpointError(f"{where}: {error}") from None


__all__ = [
    "BITS",
    "FLOAT_BITS",
    "GROUP_SIZES",
    "QuantizationPlan",
    "quantize_like_checkpoint",
    "quantize_thinker",
]
