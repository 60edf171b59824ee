"""Scaled dot-product attention in the form fastest on the device at hand.

On a GPU, and for one query a row (decoding, where attention is a sliver of the step), MLX's
`mx.fast.scaled_dot_product_attention`. On a CPU with several queries (prefill, the audio
encoder) MLX's kernel spends most of its time in `exp`, one element at a time (~13 ns each: a
third of a 400-token prefill's attention), so there the same maths runs as two matmuls around
`fast_softmax` (activations.py), 1.5x faster, with the same masks: None, "causal" (the queries
are the last L of the T keys' positions), a boolean mask (True attends) or an additive one.
"""

from __future__ import annotations

from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.model.activations import fast_softmax


def attention(
    queries: mx.array,
    keys: mx.array,
    values: mx.array,
    *,
    scale: float,
    mask: mx.array | str | None = None,
) -> mx.array:
    """[B, H, L, D] from queries [B, H, L, D] and keys / values [B, Hk, T, D] (H a multiple of
    Hk: grouped-query attention), as `mx.fast.scaled_dot_product_attention` computes it."""
    if queries.shape[2] == 1 or mx.default_device().type != mx.cpu:
        return mx.fast.scaled_dot_product_attention(queries, keys, values, scale=scale, mask=mask)
    return softmax_attention(queries, keys, values, scale=scale, mask=mask)


def softmax_attention(
    queries: mx.array,
    keys: mx.array,
    values: mx.array,
    *,
    scale: float,
    mask: mx.array | str | None = None,
) -> mx.array:
    """`attention`'s CPU form: scores in float32, `fast_softmax`, the weights times the values;
    the result in the queries' dtype."""
    B, H, L, D = queries.shape
    kv_heads, T = keys.shape[1], keys.shape[2]
    groups = H // kv_heads
    grouped = (queries.astype(mx.float32) * scale).reshape(B, kv_heads, groups, L, D)
    scores = grouped @ keys.astype(mx.float32)[:, :, None].swapaxes(-1, -2)  # [B, Hk, G, L, T]
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"unknown attention mask {mask!r}")
        rows = mx.arange(T - L, T)[:, None]
        mask = rows >= mx.arange(T)[None, :]
    if mask is not None:
        if mask.ndim == 4:  # [B or 1, H or 1, L, T]: the heads' axis splits as the queries' did
            mask = _grouped(mask, kv_heads, groups)
        if mask.dtype == mx.bool_:
            scores = mx.where(mask, scores, -mx.inf)
        else:
            scores = scores + mask.astype(mx.float32)
    weights = fast_softmax(scores)
    out = weights @ values.astype(mx.float32)[:, :, None]
    return out.reshape(B, H, L, values.shape[-1]).astype(queries.dtype)


def _grouped(mask: mx.array, kv_heads: int, groups: int) -> mx.array:
    batch, heads, rows, columns = mask.shape
    if heads == 1:
        return mask[:, :, None]
    return mask.reshape(batch, kv_heads, groups, rows, columns)
