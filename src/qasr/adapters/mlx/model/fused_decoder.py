"""The text decoder's one-token step through the CUDA kernels of `cuda_decode_kernels`.

The same computation as `TextModel.__call__` for one token per row at rope positions `start`
(the ASR fast path), with the layer's small ops fused: a layer is 11 launches instead of
sixteen (twenty with a padding mask). The residual add that ends a layer is fused with the
RMSNorm that starts the next one, so the loop carries the residual and the pending MLP output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.cuda_decode_kernels import (
    add_rms_norm,
    fused_decode_available,
    masked_decode_attention,
    qk_norm_rope,
)

if TYPE_CHECKING:
    from qasr.adapters.mlx.model.kv_cache import KVCache
    from qasr.adapters.mlx.model.text_decoder import Attention, TextModel


def can_fuse(
    inputs_embeds: mx.array, position_ids: mx.array | int, mask: object, head_dim: int
) -> bool:
    """One token per row, rope positions given as starts, a boolean mask or none, on CUDA, and
    heads the attention kernel's lanes divide (16 lanes a key)."""
    if inputs_embeds.shape[1] != 1 or head_dim % 16 or head_dim > 256:
        return False
    if not fused_decode_available(inputs_embeds):
        return False
    if not isinstance(position_ids, int) and position_ids.ndim > 1:
        return False  # three-axis MRoPE ids: the general path
    return mask is None or (isinstance(mask, mx.array) and mask.dtype == mx.bool_)


def fused_decode_hidden(
    model: TextModel,
    inputs_embeds: mx.array,
    start: mx.array | int,
    cache: list[KVCache] | None,
    mask: mx.array | str | None,
) -> mx.array:
    """Final-normed hidden states [B, 1, D] (what `model(inputs_embeds, start, cache, mask)`
    gives), for `can_fuse` inputs."""
    assert not isinstance(mask, str), "can_fuse admits boolean masks only"
    batch = inputs_embeds.shape[0]
    positions = mx.full((batch,), start, mx.int32) if isinstance(start, int) else start
    positions = positions.reshape(batch).astype(mx.int32)  # once, not in every layer
    layer_caches = cache if cache is not None else [None] * len(model.layers)
    residual, pending = inputs_embeds, None
    for layer, layer_cache in zip(model.layers, layer_caches, strict=True):
        norm = layer.input_layernorm
        if pending is None:
            normed = norm(residual)
        else:
            residual, normed = add_rms_norm(residual, pending, norm.weight, norm.eps)
        attended = _attention(layer.self_attn, model, normed, positions, layer_cache, mask)
        norm = layer.post_attention_layernorm
        residual, normed = add_rms_norm(residual, attended, norm.weight, norm.eps)
        pending = layer.mlp(normed)
    if pending is None:
        return model.norm(residual)
    return add_rms_norm(residual, pending, model.norm.weight, model.norm.eps)[1]


def _attention(
    attention: Attention,
    model: TextModel,
    x: mx.array,
    positions: mx.array,
    cache: KVCache | None,
    mask: mx.array | None,
) -> mx.array:
    batch = x.shape[0]
    queries, keys, values = qk_norm_rope(
        attention.qkv_proj(x),
        attention.q_norm.weight,
        attention.k_norm.weight,
        positions,
        model._wavelengths,
        n_heads=attention.n_heads,
        n_kv_heads=attention.n_kv_heads,
        eps=attention.q_norm.eps,
    )
    if cache is not None:
        keys, values = cache.update_and_fetch(keys, values)
    if mask is not None and mask.shape == (batch, 1, 1, keys.shape[2]):
        out = masked_decode_attention(queries, keys, values, mask, scale=attention.scale)
    else:  # no mask (MLX's fused kernel takes it), or one that broadcasts
        out = mx.fast.scaled_dot_product_attention(
            queries, keys, values, scale=attention.scale, mask=mask
        )
        # [B, H, 1, D] is [B, 1, H * D] in memory: a reshape, not a transpose copy.
        out = out.reshape(batch, 1, -1)
    return attention.o_proj(out)


__all__ = ["can_fuse", "fused_decode_hidden"]
